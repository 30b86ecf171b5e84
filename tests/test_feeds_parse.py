"""Pure feed logic: parsing RSS/Atom, relative links, malformed feeds, HTML pages and
autodiscovery, item keys; alert rules, matching and the hourly cap; alert and following
rendering (escaped once, inside Block Kit's limits)."""

from __future__ import annotations

import pytest

from digests.alerts import AlertRule, CapAction, cap_action, match_rule, parse_rule
from digests.digest import build_digest
from digests.errors import InputError
from digests.feed_render import AlertItem, FollowRow, alert_message, following_message, more_message
from digests.feeds import FeedError, discover_feeds, parse_feed
from digests.models import SharedItem, TopicTag
from digests.render import check_blocks, render_blocks
from tests.feed_fixtures import FULL_TEXT, atom, rss

NOW = 1_796_000_000.0
BASE = "https://www.example.gov"


def test_rss_press_feed_items_with_guid_dates_and_teasers():
    body = rss(
        "Press Releases & Statements",
        [
            {"title": "Commerce adds 12 entities", "link": f"{BASE}/news/1?utm_source=rss",
             "guid": "pr-1", "published": NOW - 3600, "description": "<p>A short teaser.</p>"},
            {"title": "Secretary's statement", "link": f"{BASE}/news/2", "published": NOW - 7200,
             "description": "", "content": FULL_TEXT.format(lead="Full text here.")},
        ],
    )  # fmt: skip
    feed = parse_feed(body.encode(), f"{BASE}/rss.xml", "application/rss+xml")
    assert feed.title == "Press Releases & Statements" and feed.status == "ok"
    first, second = feed.items
    assert first.url == f"{BASE}/news/1"  # canonical: tracking parameter gone
    assert first.published == NOW - 3600 and first.teaser and first.text == "A short teaser."
    assert first.key.startswith("g:") and second.key.startswith("u:")
    assert not second.teaser and "Full text here." in second.text


def test_atom_feed_and_relative_links_resolve_against_the_feed_url():
    body = atom(
        "Ministry statements",
        [{"id": "urn:1", "title": "Export licence rule", "link": "/statements/1",
          "published": NOW, "content": FULL_TEXT.format(lead="Lead.")}],
    )  # fmt: skip
    feed = parse_feed(body.encode(), "https://mofcom.example/feeds/atom", "application/atom+xml")
    assert feed.version.startswith("atom")
    assert feed.items[0].url == "https://mofcom.example/statements/1"
    relative = rss("Rel", [{"title": "Two", "link": "item/2"}], link="../")
    feed = parse_feed(relative.encode(), "https://site.example/feeds/press.xml")
    assert feed.items[0].url == "https://site.example/feeds/item/2"
    assert feed.link == "https://site.example"


def test_malformed_feed_is_read_with_a_status_and_garbage_is_refused():
    broken = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>Broken & Co</title>"
        b"<item><title>Readable item</title><link>https://x.example/1</link></item>"
        b"<item><title>Cut off"
    )
    feed = parse_feed(broken, "https://x.example/feed")
    assert feed.status == "malformed" and [i.title for i in feed.items] == ["Readable item"]
    assert feed.notes
    with pytest.raises(FeedError) as err:
        parse_feed(b"\x00\x01 not a feed at all", "https://x.example/feed")
    assert err.value.code == "malformed" and "RSS or Atom" in err.value.message


def test_html_page_is_not_a_feed_and_autodiscovery_finds_its_feed():
    page = (
        b"<!doctype html><html><head><base href='/en/'>"
        b"<link rel='stylesheet' href='/s.css'>"
        b"<link rel='alternate' type='application/rss+xml' title='Press' href='press.xml'>"
        b"<link rel='alternate' type='application/atom+xml' href='https://cdn.example/a.atom'>"
        b"</head><body><p>Welcome</p></body></html>"
    )
    with pytest.raises(FeedError) as err:
        parse_feed(page, "https://agency.example/", "text/html")
    assert err.value.code == "not_a_feed"
    assert discover_feeds(page, "https://agency.example/") == [
        ("https://agency.example/en/press.xml", "Press"),
        ("https://cdn.example/a.atom", ""),
    ]


def test_items_without_link_or_guid_are_skipped_and_duplicates_kept_once():
    body = rss("F", [{"title": "No link", "link": ""},
                     {"title": "A", "link": "https://x.example/a"},
                     {"title": "A again", "link": "https://x.example/a#frag"}])  # fmt: skip
    feed = parse_feed(body.encode(), "https://x.example/f")
    assert [i.title for i in feed.items] == ["A"]


# -- alerts ---------------------------------------------------------------------------------


TOPICS = {"export_controls", "tariffs", "sanctions"}


def test_parse_rule_topic_or_quoted_phrase_else_a_friendly_error():
    assert parse_rule("Export_Controls", TOPICS) == AlertRule("topic", "export_controls")
    assert parse_rule('"entity  list"', TOPICS) == AlertRule("phrase", "entity list")
    assert parse_rule("“rare earths”", TOPICS) == AlertRule("phrase", "rare earths")
    with pytest.raises(InputError) as err:
        parse_rule("bananas", TOPICS)
    assert "topic id or a phrase" in err.value.message


def test_match_rule_topics_from_tags_and_phrases_as_whole_words():
    tags = [TopicTag("export_controls", "Export controls", 0.9)]
    rules = [AlertRule("phrase", "rare earths"), AlertRule("topic", "export_controls")]
    hit = match_rule(rules, title="BIS rule", summary=["New licences."], topics=tags)
    assert hit == AlertRule("topic", "export_controls")
    phrase = [AlertRule("phrase", "Entity List")]
    assert match_rule(phrase, title="x", summary=["Added to the entity-list today"], topics=[])
    assert not match_rule(phrase, title="Entity Listing rules", summary=[], topics=[])
    assert not match_rule(rules, title="Tariffs", summary=["Duties rise."], topics=[])


def test_cap_posts_up_to_the_cap_then_one_more_message_then_updates():
    actions = [cap_action(n, 3) for n in range(1, 7)]
    assert actions == [CapAction.POST] * 3 + [CapAction.OPEN_MORE] + [CapAction.UPDATE_MORE] * 2


# -- rendering ------------------------------------------------------------------------------


def test_alert_and_more_messages_escape_once_and_fit_block_kit():
    item = AlertItem(
        title="<!channel> Tariffs & you", url="https://x.example/a?b=1&c=2",
        summary=["Duties on <b>steel</b> & aluminium rise."], tags=["Tariffs"],
        feed="USTR <Press>",
    )  # fmt: skip
    text, blocks = alert_message(item, AlertRule("phrase", "tariffs & duties"))
    assert check_blocks(blocks) == []
    flat = str(blocks)
    assert "<!channel>" not in flat and "&lt;!channel&gt; Tariffs &amp; you" in flat
    assert "&amp;amp;" not in flat and "USTR &lt;Press&gt;" in flat and "<!channel>" not in text
    titles = [(f"Item {i} <x>", f"https://x.example/{i}") for i in range(14)]
    text, blocks = more_message(titles, 6)
    assert text == "14 more alerts this hour" and "…and 4 more" in str(blocks)
    assert check_blocks(blocks) == [] and "Item 3 &lt;x&gt;" in str(blocks)


def test_following_lists_failing_feeds_as_failing():
    rows = [
        FollowRow("Press", "https://a.example/rss", NOW - 600, "ok, 3 new", 12),
        FollowRow("Gone", "https://b.example/rss", NOW - 60, "failed 4 times in a row: 404", 0,
                  failing=True),
    ]  # fmt: skip
    text, blocks = following_message(rows, NOW)
    flat = str(blocks)
    assert "2 feeds" in text and check_blocks(blocks) == []
    assert "1. *<https://a.example/rss|Press>*" in flat and "12 items in the last 7 days" in flat
    assert ":warning: *failing*" in flat and "10 min ago" in flat


def test_feed_items_rank_below_shares_and_say_which_feed():
    def item(key, title, sharers=(), feed=None, at=NOW):
        tags = [TopicTag("sanctions", "Sanctions", 0.9)]
        return SharedItem(key=key, title=title, summary=[f"{title} summary."], topics=tags,
                          shared_at=at, sharers=list(sharers), url=f"https://x{key}.example/",
                          feed=feed)  # fmt: skip

    items = [
        item("1", "Treasury sanctions shipping network", feed="OFAC Recent Actions", at=NOW + 5),
        item("2", "EU adopts sixteenth sanctions package", sharers=["U1"]),
        item("3", "UK designates procurement agents", feed="UK Sanctions List"),
    ]
    digest = build_digest(items, period_start=NOW - 10, period_end=NOW + 10, tz="UTC",
                          labels={"sanctions": "Sanctions"}, threshold=0.99)  # fmt: skip
    stories = digest.sections[0].stories
    assert stories[0].title.startswith("EU adopts") and stories[0].shares == 1
    assert [s.shares for s in stories[1:]] == [0, 0] and digest.total_shares == 1
    parts = render_blocks(digest)
    assert "*3 stories* · 1 share · 2 only from followed feeds" in str(parts[0].blocks)
    flat = str(parts[1].blocks)
    assert "from feed _OFAC Recent Actions_" in flat and "0 shares" not in flat


def test_item_html_becomes_plain_text_without_scripts_or_comments():
    body = rss("F", [{"title": "T", "link": "https://x.example/1",
                      "description": "<p>Visible &amp; kept.</p><script>alert('x')</script>"
                                     "<!-- hidden --><style>p{}</style><p>Second.</p>"}])  # fmt: skip
    (item,) = parse_feed(body.encode(), "https://x.example/f").items
    assert item.text == "Visible & kept.\nSecond."
