"""Following feeds end to end: ``/digest follow`` through the real Bolt app, feeds served by a
local HTTP server (loopback allowed as FETCH_ALLOW_PRIVATE=127.0.0.0/8 does), a fake Slack and
a real Redis."""

from __future__ import annotations

import time

import pytest

from bot.feeds.store import DUE
from bot.feeds.sweep import FeedSweep
from bot.slack.fakeslack import TEAM_ID
from digests.render import check_blocks
from tests.feed_fixtures import FULL_TEXT, FeedServer, rss
from tests.slack_harness import CHANNEL, Harness

NOW = time.time()
OTHER = "C0OTHER"


@pytest.fixture
def srv():
    server = FeedServer()
    yield server
    server.stop()


@pytest.fixture
def h(redis_client):
    harness = Harness(redis_client, alerts_per_hour=10, feed_host_gap_seconds=0)
    yield harness
    harness.close()


def press_items(srv, n: int = 3, start: int = 0, published: float | None = None) -> list[dict]:
    """Press releases about export controls; teasers link to article pages on the server."""
    return [
        {"title": f"Commerce adds entities to the Entity List ({start + i})",
         "link": srv.url(f"/a/pr{start + i}"), "guid": f"pr-{start + i}",
         "published": (published if published is not None else NOW - 600 * (i + 1)),
         "description": "Teaser only."}
        for i in range(n)
    ]  # fmt: skip


def answers(h) -> list[str]:
    return [c.params.get("text", "") for c in h.fake.calls_to("response_url")]


def channel_texts(h, channel: str = CHANNEL) -> list[str]:
    return [m.get("text", "") for m in h.fake.posts(channel)]


def alerts_in(h, channel: str = CHANNEL) -> list[dict]:
    return [m for m in h.fake.posts(channel) if m.get("text", "").startswith("Alert")]


def follow(h, url: str, channel: str = CHANNEL) -> str:
    h.command(f"follow {url}", channel=channel)
    h.settle()
    return answers(h)[-1]


def digest_stories(h, channel: str = CHANNEL):
    digest = h.bot.builder.build(TEAM_ID, channel, until=time.time() + 5, schedule=None)
    return [s for sec in digest.sections for s in sec.stories], digest


def kit(h):
    """The feed objects of the harness's process."""
    return h.bot.feeds


def poll(h, fid: str):
    """One poll, as the clock's sweep hands it to a job; its items' jobs run before this
    returns."""
    report = h.bot.feeds.poll(fid)
    h.settle()
    return report


def added(report) -> int:
    """Items the poll delivered or handed to item jobs."""
    return sum(report.new.values()) + sum(report.queued.values())


def fid_of(h, channel: str = CHANNEL) -> str:
    (f,) = kit(h).store.follows(TEAM_ID, channel)
    return f.fid


def test_follow_names_the_feed_fills_the_digest_and_alerts_nothing_old(h, srv):
    h.command("alert export_controls")
    h.settle()
    items = press_items(srv, 2)
    items.append({"title": "Last month's rule", "link": srv.url("/a/old"), "guid": "old",
                  "published": NOW - 30 * 86400, "description": "Teaser."})  # fmt: skip
    items.append({"title": "Statement on licences", "link": srv.url("/full"), "guid": "full",
                  "published": NOW - 7200,
                  "content": FULL_TEXT.format(lead="The ministry restricts chip exports.")})  # fmt: skip
    url = srv.serve("/press.xml", rss("Commerce Press Releases", items), ETag='"v1"')
    answer = follow(h, url)
    assert f"*<{url}|Commerce Press Releases>*" in answer and "3 recent items" in answer
    assert any("followed the feed" in t for t in channel_texts(h))  # the audit line
    assert alerts_in(h) == []  # published before the follow: no alert
    stories, digest = digest_stories(h)
    assert len(stories) == 3 and all(s.shares == 0 and s.feeds for s in stories)
    assert digest.total_shares == 0
    assert len(srv.hits_of("/a/pr0")) == 1  # a teaser: its page was read and summarized
    assert srv.hits_of("/full") == [] and srv.hits_of("/a/old") == []
    gists = " ".join(s.gist for s in stories)
    assert "Entity List" in gists and "restricts chip exports" in gists
    assert any(t.topic == "export_controls" for s in stories for t in s.topics)


def test_conditional_get_304_then_a_new_item_alerts_once(h, srv):
    h.command("alert export_controls")
    h.settle()
    url = srv.serve("/press.xml", rss("Press", press_items(srv, 2)), ETag='"v1"')
    follow(h, url)
    fid = fid_of(h)
    assert poll(h, fid).result == "not_modified"
    assert srv.hits_of("/press.xml")[-1].get("If-None-Match") == '"v1"'
    fresh = press_items(srv, 1, start=10, published=time.time() + 1)
    srv.serve("/press.xml", rss("Press", fresh + press_items(srv, 2)), ETag='"v2"')
    report = poll(h, fid)
    assert report.result == "ok" and added(report) == 1
    (alert,) = alerts_in(h)
    assert "(10)" in alert["text"] and check_blocks(alert["blocks"]) == []
    assert "from feed _Press_" in str(alert["blocks"])
    srv.serve("/press.xml", rss("Press", fresh + press_items(srv, 2)), ETag='"v3"')
    assert added(poll(h, fid)) == 0
    assert len(alerts_in(h)) == 1


def test_site_url_autodiscovery_following_and_unfollow_by_number(h, srv):
    feed = srv.serve("/feeds/press.xml", rss("Agency Newsroom", press_items(srv, 2)))
    srv.serve(
        "/agency/",
        "<html><head><link rel='alternate' type='application/rss+xml' title='News' "
        "href='/feeds/press.xml'></head><body>Agency</body></html>",
        "text/html; charset=utf-8",
    )
    assert f"<{feed}|Agency Newsroom>" in follow(h, srv.url("/agency/"))
    h.command("following")
    h.settle()
    listing = h.fake.calls_to("response_url")[-1].params
    flat = str(listing["blocks"])
    assert "1. *<" in flat and "Agency Newsroom" in flat and feed in flat
    assert "just now: ok, 2 new" in flat and "2 items in the last 7 days" in flat
    assert kit(h).store.home_feeds(TEAM_ID) == [(CHANNEL, "Agency Newsroom")]  # the App Home
    h.command("unfollow 1")
    h.settle()
    assert "Unfollowed" in answers(h)[-1]
    assert kit(h).store.home_feeds(TEAM_ID) == []
    assert kit(h).store.follows(TEAM_ID, CHANNEL) == []
    assert any("unfollowed the feed" in t for t in channel_texts(h))


def test_redirect_to_a_private_address_is_refused_at_follow(h, srv):
    url = srv.redirect("/go.xml", "http://10.1.2.3/feed.xml")
    answer = follow(h, url)
    assert answer == (
        "That link redirected to a private network address, so I won't fetch it; "
        "share a public link instead."
    )
    assert kit(h).store.follows(TEAM_ID, CHANNEL) == []


def test_html_page_404_and_malformed_feeds_get_clear_messages(h, srv):
    page = srv.serve("/about", "<html><body><p>No feed here</p></body></html>", "text/html")
    assert "web page without a feed link" in follow(h, page)
    assert "wasn't found (404 Not Found)" in follow(h, srv.url("/nothing.xml"))
    broken = srv.serve(
        "/broken.xml",
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Broken Feed</title>"
        f"<item><title>Readable</title><link>{srv.url('/a/b1')}</link></item><item><title>Cut",
    )
    answer = follow(h, broken)
    assert "Following" in answer and "XML errors" in answer


def test_a_failing_feed_backs_off_and_shows_as_failing(h, srv):
    url = srv.serve("/press.xml", rss("Press", press_items(srv, 1)))
    follow(h, url)
    fid = fid_of(h)
    with srv.lock:
        del srv.routes["/press.xml"]
    for _ in range(2):
        assert poll(h, fid).result == "error"
    state = kit(h).store.state(fid)
    assert state.failures == 2 and state.failing
    due = kit(h).store.r.zscore(DUE, fid)
    assert due > time.time() + 30 * 60 + 600  # second failure: two intervals, not one
    h.command("following")
    h.settle()
    flat = str(h.fake.calls_to("response_url")[-1].params["blocks"])
    assert ":warning: *failing*" in flat and "failed 2 times in a row" in flat and "404" in flat


def test_alert_cap_folds_the_rest_into_one_more_message(redis_client, srv):
    h = Harness(redis_client, alerts_per_hour=2, feed_host_gap_seconds=0)
    try:
        h.command('alert "entity list"')
        h.settle()
        url = srv.serve("/press.xml", rss("Press", []), ETag='"v0"')
        follow(h, url)
        later = time.time() + 1
        srv.serve("/press.xml", rss("Press", press_items(srv, 5, published=later)), ETag='"v1"')
        poll(h, fid_of(h))
        posted = alerts_in(h)
        more = [m for m in h.fake.posts(CHANNEL) if "more alert" in m.get("text", "")]
        assert len(posted) == 2 and len(more) == 1
        assert more[0]["text"] == "3 more alerts this hour"  # edited in place as they came
        assert check_blocks(more[0]["blocks"]) == []
        h.command("alerts")
        h.settle()
        assert "“entity list”" in answers(h)[-1] and "at most 2 an hour" in answers(h)[-1]
    finally:
        h.close()


def test_one_story_from_a_share_and_two_feeds_with_one_alert(h, srv):
    h.command("alert export_controls")
    h.settle()
    shared = srv.url("/a/shared")
    h.message(f"look <{shared}?utm_source=x>", ts="1700000000.000100")
    h.settle()
    assert len(alerts_in(h)) == 1  # the share matched
    item = {"title": "Commerce adds entities (shared)", "link": shared, "guid": "s1",
            "published": time.time() + 1, "description": "Teaser only."}  # fmt: skip
    srv.serve("/one.xml", rss("Feed One", []), ETag='"a"')
    srv.serve("/two.xml", rss("Feed Two", []), ETag='"b"')
    follow(h, srv.url("/one.xml"))
    follow(h, srv.url("/two.xml"))
    srv.serve("/one.xml", rss("Feed One", [item]), ETag='"a2"')
    srv.serve("/two.xml", rss("Feed Two", [{**item, "guid": "other-guid"}]), ETag='"b2"')
    for f in kit(h).store.follows(TEAM_ID, CHANNEL):
        poll(h, f.fid)
    stories, digest = digest_stories(h)
    assert len(stories) == 1 and stories[0].sharers == ["U1"] and stories[0].shares == 1
    assert len(alerts_in(h)) == 1  # the feeds' copies are the same item: no second alert


def test_forget_removes_a_feed_item_and_it_does_not_come_back(h, srv):
    url = srv.serve("/press.xml", rss("Press", press_items(srv, 2)))
    follow(h, url)
    h.command(f"forget {srv.url('/a/pr0')}")
    h.settle()
    assert "Forgot" in answers(h)[-1]
    poll(h, fid_of(h))
    stories, _ = digest_stories(h)
    assert [s.url for s in stories] == [srv.url("/a/pr1")]


@pytest.mark.parametrize("kill_at", ["analyze", "mark_seen"])
def test_a_worker_killed_mid_poll_loses_no_item_and_alerts_none_twice(h, srv, kill_at):
    """``mark_seen``: the poll job dies after some items were handed over (the job queue runs
    it again); ``analyze``: an item job dies (the queue retries it)."""
    h.command("alert export_controls")
    h.settle()
    url = srv.serve("/press.xml", rss("Press", []), ETag='"v0"')
    follow(h, url)
    fid = fid_of(h)
    fresh = press_items(srv, 5, published=time.time() + 1)
    srv.serve("/press.xml", rss("Press", fresh), ETag='"v1"')
    target = kit(h).poller if kill_at == "analyze" else kit(h).store
    real = getattr(target, kill_at)
    calls = {"n": 0}

    def dies_on_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    setattr(target, kill_at, dies_on_third)
    if kill_at == "mark_seen":
        with pytest.raises(RuntimeError):
            poll(h, fid)
        assert kit(h).store.state(fid).etag == '"v0"'  # not saved: the re-run reads it all
        poll(h, fid)
    else:
        poll(h, fid)  # the item job that died is retried by the queue
    setattr(target, kill_at, real)
    stories, _ = digest_stories(h)
    assert sorted(s.url for s in stories) == sorted(i["link"] for i in fresh)
    texts = [a["text"] for a in alerts_in(h)]
    assert len(texts) == len(set(texts)) == 5
    assert kit(h).store.state(fid).etag == '"v1"'


def test_one_poll_per_feed_url_for_every_channel_and_hosts_spaced(h, srv):
    url = srv.serve("/press.xml", rss("Press", press_items(srv, 1)))
    follow(h, url)
    follow(h, url, channel=OTHER)
    other = srv.serve("/other.xml", rss("Other", press_items(srv, 1, start=5)))
    follow(h, other)
    store = kit(h).store
    assert len({f.fid for f in store.follows(TEAM_ID, CHANNEL)}) == 2
    handed: list[str] = []
    sweep = FeedSweep(store, lambda fid: handed.append(fid) or True, interval=1800, host_gap=60)
    assert sweep.sweep(time.time()) == []  # just polled at follow
    later = time.time() + 1801
    first = sweep.sweep(later)
    assert len(first) == 1  # both feeds are on 127.0.0.1: the second waits for the host gap
    assert len(sweep.sweep(later + 1)) == 0
    assert store.followers(first[0]) and len(store.followers(fid_of(h, OTHER))) == 2


def test_changes_obey_digest_admins_and_reading_does_not(redis_client, srv):
    h = Harness(redis_client, digest_admins=["UADMIN"], feed_host_gap_seconds=0)
    try:
        url = srv.serve("/press.xml", rss("Press", press_items(srv, 1)))
        assert "Only the digest admins" in follow(h, url)
        assert srv.hits_of("/press.xml") == []  # refused before anything was fetched
        h.command("alert tariffs")
        h.settle()
        assert "Only the digest admins" in answers(h)[-1]
        h.command(f"follow {url}", user="UADMIN")
        h.command("alert tariffs", user="UADMIN")
        h.settle()
        h.command("following")
        h.command("alerts")
        h.settle()
        last = answers(h)[-2:]
        assert any("follows 1 feed" in t for t in last) and any("`tariffs`" in t for t in last)
        audits = [t for t in channel_texts(h) if t.startswith("<@UADMIN>")]
        assert len(audits) == 2
    finally:
        h.close()


def test_a_backlog_is_delivered_over_several_polls_and_nothing_skipped(h, srv, monkeypatch):
    import bot.feeds.poller as poller

    url = srv.serve("/press.xml", rss("Press", []), ETag='"v0"')
    follow(h, url)
    fid = fid_of(h)
    srv.serve("/press.xml", rss("Press", press_items(srv, 5, published=time.time() + 1)),
              ETag='"v1"')  # fmt: skip
    monkeypatch.setattr(poller, "ITEMS_PER_POLL", 2)
    counts = [added(poll(h, fid)) for _ in range(4)]
    assert counts == [2, 2, 1, 0]
    assert len(digest_stories(h)[0]) == 5
    assert kit(h).store.state(fid).etag == '"v1"'  # saved once the whole feed was handled
