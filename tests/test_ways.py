"""The last ways in, through the real app (signed requests) and the fake Slack Web API: the
:memo: reaction, "Share in thread", tag feedback (buttons, modal, storage, export) and the
App Home's workspace part."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlencode

from bot.delivery.ledger import Schedules
from bot.entry.cli import main as cli_main
from bot.slack.fakeslack import TEAM_ID
from bot.storage.feedback import FeedbackStore
from digests.feedback import DOWN_ACTION, MISSING_BLOCK, SHARE_ACTION, UP_ACTION, WRONG_BLOCK
from digests.render import check_blocks
from digests.schedule import parse_schedule
from tests.slack_harness import CHANNEL, Harness, url_of

FORM = "application/x-www-form-urlencoded"


def react(h, ts: str, *, user: str = "U2", reaction: str = "memo", item_user: str = "U1"):
    h._n += 1
    body = json.dumps({
        "token": "t", "team_id": TEAM_ID, "api_app_id": "A1", "type": "event_callback",
        "event_id": f"EvR{h._n:06d}", "event_time": int(time.time()),
        "event": {"type": "reaction_added", "user": user, "reaction": reaction,
                  "item_user": item_user, "item": {"type": "message", "channel": CHANNEL,
                                                   "ts": ts}, "event_ts": f"{time.time():.6f}"},
    })  # fmt: skip
    return h.dispatch(body)


def interact(h, payload: dict):
    base = {"team": {"id": TEAM_ID}, "user": {"id": "U2", "team_id": TEAM_ID},
            "api_app_id": "A1", "token": "t", "trigger_id": "trig-1"}  # fmt: skip
    return h.dispatch(urlencode({"payload": json.dumps({**base, **payload})}), FORM)


def click(h, message: dict, action_id: str, *, response_url: str = ""):
    (button,) = [
        e for b in message["blocks"] if b["type"] == "actions"
        for e in b["elements"] if e["action_id"] == action_id
    ]  # fmt: skip
    return interact(h, {
        "type": "block_actions", "channel": {"id": CHANNEL},
        "container": {"type": "message", "channel_id": CHANNEL,
                      "message_ts": message.get("ts", ""), "is_ephemeral": not message.get("ts")},
        "message": message, "response_url": response_url,
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b",
                     "value": button["value"], "action_ts": f"{time.time():.6f}"}],
    })  # fmt: skip


def summary_replies(h) -> list[dict]:
    return [m for m in h.replies() if any(b["type"] == "actions" for b in m.get("blocks", []))]


def sharers(h, ts: str) -> list[str]:
    store = h.bot.stores.for_team(TEAM_ID)
    (share,) = store.shares_between(CHANNEL, 0, time.time() + 10)
    return [share.sharers[ts]] if share.sharers and ts in share.sharers else []


# -- the reaction trigger -----------------------------------------------------------------------


def test_memo_on_a_message_with_a_link_summarizes_it_in_thread_as_the_reactors_share(h, site):
    ts = h.fake.add_message(CHANNEL, f"worth a read <{site.url('memo')}>", user="U1")
    assert react(h, ts, user="U2").status == 200
    h.settle()
    (reply,) = summary_replies(h)
    assert reply["thread_ts"] == ts and "Chip curbs widen (memo)" in reply["text"]
    (read,) = h.fake.calls_to("conversations.history")
    assert read.params["latest"] == ts and read.params["limit"] == "1"
    assert read.params["inclusive"] in ("1", "true", "True")
    assert sharers(h, ts) == ["U2"]  # the person who reacted shared it, not the author
    assert check_blocks(reply["blocks"]) == []

    posts = len(h.fake.calls_to("chat.postMessage"))
    react(h, ts, user="U3")  # a second :memo: on the same message
    h.settle()
    assert len(h.fake.calls_to("chat.postMessage")) == posts
    assert site.hits.count("/a/memo") == 1
    (told,) = h.fake.calls_to("chat.postEphemeral")
    assert told.params["user"] == "U3" and "already summarized" in told.params["text"]


def test_memo_on_a_message_without_a_link_gets_a_friendly_hint(h):
    ts = h.fake.add_message(CHANNEL, "lunch at noon? <@U9> &amp; me", user="U1")
    react(h, ts, user="U2")
    h.settle()
    assert h.fake.calls_to("chat.postMessage") == []
    (hint,) = h.fake.calls_to("chat.postEphemeral")
    assert hint.params["user"] == "U2" and hint.params["channel"] == CHANNEL
    assert "no link or article text" in hint.params["text"] and ":memo:" in hint.params["text"]


def test_memo_on_a_thread_reply_reads_it_with_replies_and_answers_in_that_thread(h, site):
    parent = h.fake.add_message(CHANNEL, "thread about chips", user="U1")
    child = h.fake.add_message(CHANNEL, f"see <{site.url('child')}>", user="U4", thread_ts=parent)
    react(h, child, user="U2")
    h.settle()
    (reply,) = summary_replies(h)
    assert reply["thread_ts"] == parent and "Chip curbs widen (child)" in reply["text"]
    assert h.fake.calls_to("conversations.replies")


def test_other_reactions_and_the_configured_one(redis_client, site):
    harness = Harness(redis_client, summary_reaction="newspaper")
    try:
        ts = harness.fake.add_message(CHANNEL, f"<{site.url('cfg')}>", user="U1")
        react(harness, ts, reaction="memo")  # not this workspace's trigger: only counted
        harness.settle()
        assert summary_replies(harness) == []
        react(harness, ts, reaction="newspaper")
        harness.settle()
        assert len(summary_replies(harness)) == 1
    finally:
        harness.close()


def test_memo_where_the_bot_cannot_read_says_so_and_a_later_memo_may_retry(h, site):
    ts = h.fake.add_message(CHANNEL, f"<{site.url('nic')}>", user="U1")
    h.fake.fail("conversations.history", error="not_in_channel")
    react(h, ts)
    h.settle()
    (told,) = h.fake.calls_to("chat.postEphemeral")
    assert "Invite me" in told.params["text"] and summary_replies(h) == []
    react(h, ts)  # after the invite
    h.settle()
    assert len(summary_replies(h)) == 1


# -- "Share in thread" --------------------------------------------------------------------------


def test_the_shortcuts_answer_has_a_share_button_that_posts_it_as_a_share(h, site):
    ts = h.fake.add_message(CHANNEL, f"<{site.url('sc')}>", user="U1")
    interact(h, {
        "type": "message_action", "callback_id": "summarize_message", "channel": {"id": CHANNEL},
        "message": {"type": "message", "ts": ts, "text": f"<{site.url('sc')}>", "user": "U1"},
        "response_url": h.fake.response_url("sc"),
    })  # fmt: skip
    h.settle()
    (answer,) = h.fake.calls_to("response_url")
    assert h.replies() == [h.fake.posts(CHANNEL)[0]]  # only the person's own message so far
    assert check_blocks(answer.params["blocks"]) == []
    click(h, {"blocks": answer.params["blocks"]}, SHARE_ACTION,
          response_url=h.fake.response_url("sc2"))  # fmt: skip
    h.settle()
    (reply,) = summary_replies(h)
    assert reply["thread_ts"] == ts and "Chip curbs widen (sc)" in reply["text"]
    assert sharers(h, ts) == ["U2"]
    done = h.fake.calls_to("response_url")[-1]
    assert "Shared in the thread" in done.params["text"]


# -- tag feedback -------------------------------------------------------------------------------


def _summarized(h, site, slug: str) -> dict:
    ts = h.fake.add_message(CHANNEL, f"<{site.url(slug)}>", user="U1")
    h.message(f"<{site.url(slug)}>", ts=ts)
    h.settle()
    (reply,) = summary_replies(h)
    return reply


def test_thumbs_up_and_the_thumbs_down_modal_store_votes_and_export_them(h, site, monkeypatch,
                                                                         capsys, redis_client):  # fmt: skip
    reply = _summarized(h, site, "fb")
    assert click(h, reply, UP_ACTION).status == 200
    h.settle()
    (thanks,) = h.fake.calls_to("chat.postEphemeral")
    assert thanks.params["user"] == "U2" and thanks.params["thread_ts"] == reply["thread_ts"]
    assert "right" in thanks.params["text"]

    click(h, reply, DOWN_ACTION)
    h.settle()
    (opened,) = h.fake.calls_to("views.open")
    view = opened.params["view"]
    assert opened.params["trigger_id"] == "trig-1" and view["callback_id"] == "tag_feedback"
    assert check_blocks(view["blocks"], max_blocks=100) == []
    wrong_options = next(b for b in view["blocks"] if b.get("block_id") == WRONG_BLOCK)
    shown = [o["value"] for o in wrong_options["element"]["options"]]
    assert "export_controls" in shown
    missing_options = next(b for b in view["blocks"] if b.get("block_id") == MISSING_BLOCK)
    other = missing_options["element"]["options"][0]["value"]
    assert other not in shown

    interact(h, {"type": "view_submission", "view": {**view, "id": "V1", "team_id": TEAM_ID,
        "state": {"values": {
            WRONG_BLOCK: {WRONG_BLOCK: {"type": "checkboxes", "selected_options": [
                {"value": "export_controls"}]}},
            MISSING_BLOCK: {MISSING_BLOCK: {"type": "multi_static_select", "selected_options": [
                {"value": other}, {"value": "not-a-topic"}]}},
        }}}})  # fmt: skip
    h.settle()
    down = h.fake.calls_to("chat.postEphemeral")[-1]
    assert "wrong: Export controls" in down.params["text"]

    store = h.bot.stores.for_team(TEAM_ID)
    (akey,) = FeedbackStore(store).voted_articles()
    (vote,) = FeedbackStore(store).votes(akey)  # one vote per person: the latest
    assert vote["vote"] == "down" and vote["wrong"] == ["export_controls"]
    assert vote["missing"] == [other]  # an unknown topic id is dropped

    monkeypatch.setenv("REDIS_URL", url_of(redis_client))
    assert cli_main(["feedback", "--format", "jsonl"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert record["article"] == akey and record["title"] == "Chip curbs widen (fb)"
    assert record["url"].endswith("/a/fb") and "export_controls" in record["shown_tags"]
    assert record["votes"][0]["wrong"] == ["export_controls"] and "user" not in record["votes"][0]


def test_votes_are_pruned_with_their_article(h, site):
    reply = _summarized(h, site, "old")
    click(h, reply, UP_ACTION)
    h.settle()
    store = h.bot.stores.for_team(TEAM_ID)
    assert FeedbackStore(store).voted_articles()
    store.prune(retention_days=1, now=time.time() + 3 * 86_400)
    assert FeedbackStore(store).voted_articles() == []
    assert not store.r.keys(store.k("feedback", "*"))


# -- App Home -----------------------------------------------------------------------------------


def test_app_home_shows_schedules_with_next_run_and_topics_within_100_blocks(h, site):
    store = h.bot.stores.for_team(TEAM_ID)
    now = time.time()
    ids = h.bot.taxonomies.base.ids()
    for i in range(120):  # more schedules than a Home can list
        sched = parse_schedule("weekly mon 09:00", "UTC", ids, now)
        Schedules(store).set(f"C{i:04d}", sched.to_dict())
    Schedules(store).set(CHANNEL, parse_schedule("daily 07:30", "Europe/Paris", ids, now).to_dict())
    for i in range(60):  # and more shares than fit
        store.save_article(f"u{i}", {"title": f"Story <{i}> & co", "url": f"https://x.test/{i}",
                                     "summary": ["One line."], "topics": []})  # fmt: skip
        store.add_share(CHANNEL, f"u{i}", user="UME", message_ts=f"17000000{i:02d}.000100")
    h.dispatch(h.event_body("", type="app_home_opened", user="UME", tab="home"))
    h.settle()
    (call,) = h.fake.calls_to("views.publish")
    blocks = call.params["view"]["blocks"]
    assert check_blocks(blocks, max_blocks=100) == []
    text = json.dumps(blocks, ensure_ascii=False)
    assert f"<#{CHANNEL}> — Daily at 07:30 (Europe/Paris)" in text and "next:" in text
    assert text.index(f"<#{CHANNEL}>") < text.index("<#C0000>")  # soonest run first
    assert "and 81 more" in text  # 121 schedules, 40 listed
    assert "Export controls" in text and "Topics I tag" in text
    assert "Story &lt;59&gt; &amp; co" in text  # page text escaped once


def test_slack_rate_limiting_the_lookup_is_waited_out(h, site):
    ts = h.fake.add_message(CHANNEL, f"<{site.url('rl')}>", user="U1")
    h.fake.fail("conversations.history", status=429, retry_after=1)
    react(h, ts)
    h.settle()
    assert [c.params.get("_failed") for c in h.fake.calls_to("conversations.history")] == [
        429,
        None,
    ]
    assert len(summary_replies(h)) == 1


def test_a_memo_while_the_queue_is_full_says_busy_to_the_reactor(redis_client, site):
    harness = Harness(redis_client, workers=1, queue_max_depth=1)
    site.gate = threading.Event()
    try:
        harness.command(f"summarize {site.url('hold')}")  # occupies the worker
        deadline = time.monotonic() + 20
        while not site.hits and time.monotonic() < deadline:  # the worker has taken it
            time.sleep(0.02)
        harness.command(f"summarize {site.url('wait')}")  # fills the queue
        harness.executor.wait_idle(10)
        ts = harness.fake.add_message(CHANNEL, f"<{site.url('busy')}>", user="U1")
        react(harness, ts, user="U7")
        harness.executor.wait_idle(10)
        (told,) = harness.fake.calls_to("chat.postEphemeral")
        assert told.params["user"] == "U7" and "try again in about" in told.params["text"]
    finally:
        site.gate.set()
        harness.close()
