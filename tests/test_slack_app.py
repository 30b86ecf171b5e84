"""The Slack bot end to end: signed requests through the real Bolt app, a fake Slack Web API,
a real Redis, and articles served by a local HTTP server."""

from __future__ import annotations

import threading
import time

import pytest
from slack_sdk.signature import SignatureVerifier

from digests.render import check_blocks
from tests.slack_harness import CHANNEL, PASTED_ARTICLE, Harness


def _final_texts(h) -> list[str]:
    return [m["text"] for m in h.replies()]


# -- request verification -----------------------------------------------------------------------


def test_slack_documented_signature_is_a_golden_vector():
    """Slack's own signing example, with the clock pinned to its 2018 timestamp."""
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook"
        "-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F39770"
        "0885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2"
        "c447fce8b6703c"
    )
    verifier = SignatureVerifier("8f742231b10e8888abcd99yyyzzz85a5", clock=_Clock(1531420618))
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert verifier.generate_signature(timestamp="1531420618", body=body) == expected
    assert verifier.is_valid(body=body, timestamp="1531420618", signature=expected)
    assert not verifier.is_valid(body=body + "x", timestamp="1531420618", signature=expected)


class _Clock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


@pytest.mark.parametrize("problem", ["forged", "stale", "unsigned"])
def test_bad_signatures_get_401_before_any_listener(h, problem):
    body = h.command_body("help")
    ctype = "application/x-www-form-urlencoded"
    if problem == "forged":
        headers = h.headers(body, ctype)
        headers["x-slack-signature"] = "v0=" + "0" * 64
    elif problem == "stale":
        headers = h.headers(body, ctype, ts=int(time.time()) - 600)
    else:
        headers = {"content-type": ctype}
    response = h.dispatch(body, ctype, headers=headers)
    assert response.status == 401
    h.settle()
    assert not h.fake.calls_to("response_url") and not h.fake.calls_to("chat.postMessage")


# -- sharing links ------------------------------------------------------------------------------


def test_pasted_link_gets_a_summary_in_thread_with_tags_and_evidence(h, site):
    url = site.url("one")
    assert h.message(f"look at this <{url}>", ts="1700000000.000100").status == 200
    h.settle()
    (reply,) = h.replies()
    assert reply["thread_ts"] == "1700000000.000100"
    text = " ".join(
        b.get("text", {}).get("text", "") for b in reply["blocks"] if b["type"] == "section"
    )
    assert "Chip curbs widen (one)" in text and "Entity List" in text
    context = " ".join(
        e["text"] for b in reply["blocks"] if b["type"] == "context" for e in b["elements"]
    )
    assert "Export controls" in context and "Bureau of Industry and Security" in context
    assert check_blocks(reply["blocks"]) == []
    # the placeholder came first and was edited in place
    assert h.fake.calls_to("chat.postMessage")[0].params["text"].startswith("Summarizing")
    assert len(h.fake.calls_to("chat.update")) == 1


def test_the_same_story_again_is_already_summarized_with_a_link(h, site):
    url = site.url("dup")
    h.message(f"<{url}>", ts="1700000000.000200")
    h.settle()
    h.message(f"again {url}?utm_source=x#frag", ts="1700000001.000300", user="U2")
    h.settle()
    replies = h.replies()
    assert len(replies) == 2
    assert "Already summarized" in replies[1]["text"] and "archives/C0TEST" in replies[1]["text"]
    assert site.hits.count("/a/dup") == 1  # not fetched again


def test_a_retried_event_is_handled_once(h, site):
    body = h.event_body(f"<{site.url('retry')}>", event_id="EvRETRY1")
    ctype = "application/json"
    assert h.dispatch(body, ctype).status == 200
    retry_headers = h.headers(
        body, ctype, **{"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    )
    assert h.dispatch(body, ctype, headers=retry_headers).status == 200
    h.settle()
    assert len(h.replies()) == 1


def test_pasted_article_text_is_summarized_but_chat_is_not(h):
    article = PASTED_ARTICLE
    assert len(article) >= 600
    h.message("morning all, anyone seen the new tariff numbers?")
    h.message(article)
    h.settle()
    (reply,) = h.replies()
    context = " ".join(
        e["text"] for b in reply["blocks"] if b["type"] == "context" for e in b["elements"]
    )
    assert "Sanctions" in context and "Fentanyl" in context


def test_auto_off_silences_the_channel_but_a_mention_still_works(h, site):
    h.command("auto off")
    h.settle()
    assert any("auto off" in c.params.get("text", "") for c in h.fake.calls_to("chat.postMessage"))
    before = len(h.replies())
    h.message(f"<{site.url('quiet')}>")
    h.settle()
    assert len(h.replies()) == before
    mention = h.event_body(f"<@UBOT> <{site.url('loud')}>", type="app_mention")
    h.dispatch(mention)
    h.settle()
    assert any("Chip curbs widen (loud)" in m["text"] for m in h.replies())


def test_the_bots_own_and_other_bots_messages_are_ignored(h, site):
    h.message(f"<{site.url('b1')}>", user="UBOT")
    h.message(f"<{site.url('b2')}>", bot_id="B999", subtype="bot_message")
    h.settle()
    assert h.replies() == []


def test_a_refused_link_gets_a_friendly_reason_in_thread(h):
    h.message("see <http://169.254.169.254/latest/meta-data>")
    h.settle()
    (reply,) = h.replies()
    assert reply["text"].startswith(":warning:") and "Traceback" not in reply["text"]


def test_deleting_the_message_removes_the_share(h, site, redis_client):
    h.message(f"<{site.url('del')}>", ts="1700000000.000900")
    h.settle()
    store = h.bot.stores.for_team("T0LOCAL")
    assert len(store.shares_between(CHANNEL, 0, time.time() + 10)) == 1
    h.message("", subtype="message_deleted", deleted_ts="1700000000.000900")
    h.settle()
    assert store.shares_between(CHANNEL, 0, time.time() + 10) == []


def test_the_same_link_in_another_channel_is_summarized_there_not_linked(h, site):
    url = site.url("twice")
    h.message(f"<{url}>", channel="C0SECRET")
    h.settle()
    h.message(f"<{url}>")
    h.settle()
    (reply,) = h.replies()
    assert "Already summarized" not in reply["text"] and "C0SECRET" not in str(reply)
    assert "Chip curbs widen (twice)" in reply["text"]


def test_shares_stay_in_their_channel(h, site):
    h.message(f"<{site.url('private')}>", channel="C0OTHER")
    h.settle()
    h.command("recent")
    h.settle()
    answer = h.fake.calls_to("response_url")[-1].params["text"]
    assert "private" not in answer and "Nothing shared" in answer


def test_redis_down_still_answers_and_says_it_was_not_saved(redis_client, dead_redis, site):
    h = Harness(dead_redis)
    try:
        h.message(f"<{site.url('down')}>")
        h.settle()
        (reply,) = h.replies()
        assert "Chip curbs widen (down)" in reply["text"]
        notes = " ".join(
            e["text"] for b in reply["blocks"] if b["type"] == "context" for e in b["elements"]
        )
        assert "couldn't save" in notes
    finally:
        h.close()


# -- slash commands -----------------------------------------------------------------------------


def test_slow_summary_is_acked_while_the_work_is_still_blocked(h, site):
    site.gate = threading.Event()
    response = h.command(f"summarize {site.url('slow')}")
    # the ack came back while the page server is still holding the response
    assert response.status == 200 and "Summarizing" in response.body
    assert not site.gate.is_set() and not h.fake.calls_to("response_url")
    site.gate.set()
    h.settle()
    (answer,) = h.fake.calls_to("response_url")
    assert "Chip curbs widen (slow)" in answer.params["text"]
    assert h.replies() == []  # ephemeral: not a share


def test_a_full_queue_says_busy_and_when_to_retry(redis_client, site):
    h = Harness(redis_client, workers=1, queue_max_depth=1)
    site.gate = threading.Event()
    try:
        h.command(f"summarize {site.url('hold')}")
        h.executor.wait_idle(10)
        h.command(f"summarize {site.url('second')}")
        h.executor.wait_idle(10)
        texts = [c.params.get("text", "") for c in h.fake.calls_to("response_url")]
        assert any("busy" in t and "try again in about" in t for t in texts)
    finally:
        site.gate.set()
        h.close()


def test_unknown_input_gets_help_in_the_ack(h):
    response = h.command("frobnicate")
    assert response.status == 200 and "/digest summarize" in response.body


def test_forget_removes_an_article_from_this_channel(h, site):
    url = site.url("forgetme")
    h.message(f"<{url}>")
    h.settle()
    h.command(f"forget {url}")
    h.settle()
    assert "Forgot" in h.fake.calls_to("response_url")[-1].params["text"]
    assert h.bot.stores.for_team("T0LOCAL").shares_between(CHANNEL, 0, time.time() + 10) == []


def test_only_digest_admins_change_settings_and_changes_are_announced(redis_client):
    h = Harness(redis_client, digest_admins=["UADMIN"])
    try:
        h.command("auto links", user="U1")
        h.settle()
        assert "Only the digest admins" in h.fake.calls_to("response_url")[-1].params["text"]
        h.command('topics add chips "wafer fab" --new', user="UADMIN")
        h.settle()
        audit = [c.params["text"] for c in h.fake.calls_to("chat.postMessage")]
        assert any("<@UADMIN> added" in t and "wafer fab" in t for t in audit)
    finally:
        h.close()


def test_slack_errors_are_explained_to_the_user(h):
    h.fake.fail("chat.postMessage", error="not_in_channel")
    h.command("auto links")
    h.settle()
    # the audit line failed (not in channel); the change still stands and the user is answered
    assert "Done" in h.fake.calls_to("response_url")[-1].params["text"]
    h.fake.fail("chat.postMessage", error="not_in_channel")
    h.command("schedule weekly mon 09:00")
    h.settle()
    answer = h.fake.calls_to("response_url")[-1].params["text"]
    assert "Invite me" in answer and h.bot.builder.schedule_of("T0LOCAL", CHANNEL) is None


def test_rate_limited_web_api_calls_are_retried_after_retry_after(h, site):
    h.fake.fail("chat.postMessage", status=429, retry_after=1)
    h.message(f"<{site.url('rl')}>")
    h.settle()
    assert len(h.replies()) == 1
    assert len(h.fake.calls_to("chat.postMessage")) == 2


def test_one_user_flooding_links_is_slowed_down(h, site):
    h.bot.shares.clock = lambda: 1_700_000_010.0  # all in one rate-limit window
    links = " ".join(f"<{site.url(f'f{i}')}>" for i in range(5))
    for n in range(3):  # 15 links in a minute: over the per-user limit of 10
        h.message(links, user="UFLOOD", ts=f"1700000100.{n:06d}")
        h.settle()
    texts = [m["text"] for m in h.replies()]
    assert any("a lot of links" in t for t in texts)
    assert len([t for t in texts if "Chip curbs widen" in t]) == 10


def test_schedule_echoes_the_users_timezone_and_next_run(h):
    h.command("schedule weekly mon 09:00")
    h.settle()
    answer = h.fake.calls_to("response_url")[-1].params["text"]
    assert "America/New_York" in answer and "next:" in answer
    assert any(
        "scheduled the digest" in c.params.get("text", "")
        for c in h.fake.calls_to("chat.postMessage")
    )
    h.command("schedule")
    h.settle()
    assert "Weekly on Monday at 09:00" in h.fake.calls_to("response_url")[-1].params["text"]
    h.command("schedule weekly someday 09:00")
    h.settle()
    assert "For example" in h.fake.calls_to("response_url")[-1].params["text"]
    h.command("schedule off")
    h.settle()
    assert "turned off" in h.fake.calls_to("response_url")[-1].params["text"]


def test_preview_shows_the_next_digest_only_to_the_user(h, site):
    h.message(f"<{site.url('prev')}>")
    h.settle()
    posted_before = len(h.replies())
    h.command("preview")
    h.settle()
    answer = h.fake.calls_to("response_url")[-1].params
    assert answer["text"].startswith("Preview:")
    assert (
        "Chip curbs widen (prev)" in str(answer["blocks"]) and check_blocks(answer["blocks"]) == []
    )
    assert len(h.replies()) == posted_before  # nothing posted in the channel


def test_deleting_a_thread_parent_tombstone_removes_the_share(h, site):
    h.message(f"<{site.url('tomb')}>", ts="1700000000.000950")
    h.settle()
    store = h.bot.stores.for_team("T0LOCAL")
    assert len(store.shares_between(CHANNEL, 0, time.time() + 10)) == 1
    h.message("", subtype="message_changed",
              message={"type": "message", "subtype": "tombstone", "ts": "1700000000.000950",
                       "text": "This message was deleted."})  # fmt: skip
    h.settle()
    assert store.shares_between(CHANNEL, 0, time.time() + 10) == []


def test_a_message_deleted_while_being_summarized_is_not_saved(h, site):
    site.gate = threading.Event()
    h.message(f"<{site.url('gone')}>", ts="1700000000.000960")
    h.executor.wait_idle(10)
    h.message("", subtype="message_deleted", deleted_ts="1700000000.000960")
    h.executor.wait_idle(10)
    time.sleep(0.2)
    site.gate.set()
    h.settle()
    assert h.bot.stores.for_team("T0LOCAL").shares_between(CHANNEL, 0, time.time() + 10) == []


def test_an_unexpected_error_in_a_command_still_answers(h, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    h.bot.commands.table["recent"] = boom
    h.command("recent")
    h.settle()
    assert "went wrong" in h.fake.calls_to("response_url")[-1].params["text"]


def test_reactions_on_the_bots_summary_rank_the_story_in_the_digest(h, site):
    h.message(f"<{site.url('liked')}>", ts="1700000000.000970")
    h.settle()
    (reply,) = h.replies()
    for user in ("U1", "U2"):
        h.dispatch(h.event_body("", type="reaction_added", user=user, reaction="eyes",
                                item={"type": "message", "channel": CHANNEL, "ts": reply["ts"]},
                                item_user="UBOT"))  # fmt: skip
    h.dispatch(
        h.event_body(
            "",
            type="reaction_added",
            user="U3",
            reaction="eyes",
            item={"type": "message", "channel": CHANNEL, "ts": "1700000000.000970"},
            item_user="U1",
        )
    )  # a reaction on the user's own message: not ours
    h.settle()
    (item,) = h.bot.builder.shared_items("T0LOCAL", CHANNEL, 0, time.time() + 10)
    assert item.reactions == 2


def test_app_home_lists_only_the_users_own_shares(h, site):
    h.message(f"<{site.url('mine1')}>", user="UME", ts="1700000000.001000")
    h.message(f"<{site.url('mine2')}>", user="UME", ts="1700000000.001001", channel="C0OTHER")
    h.message(f"<{site.url('theirs')}>", user="UTHEM", ts="1700000000.001002")
    h.settle()
    h.message("", subtype="message_deleted", deleted_ts="1700000000.001001", channel="C0OTHER")
    h.settle()
    h.dispatch(h.event_body("", type="app_home_opened", user="UME", tab="home"))
    h.settle()
    (call,) = h.fake.calls_to("views.publish")
    view = call.params["view"]
    assert call.params["user_id"] == "UME" and view["type"] == "home"
    text = str(view["blocks"])
    assert "Chip curbs widen (mine1)" in text and "<#C0TEST>" in text
    assert "mine2" not in text  # deleted since
    assert "theirs" not in text  # someone else's
    assert check_blocks(view["blocks"], max_blocks=100) == []


def test_the_message_shortcut_summarizes_just_for_the_user(h, site):
    import json
    from urllib.parse import urlencode

    payload = {
        "type": "message_action", "callback_id": "summarize_message", "trigger_id": "t1",
        "team": {"id": "T0LOCAL"}, "channel": {"id": CHANNEL}, "user": {"id": "U1"},
        "message": {"type": "message", "ts": "1700000000.002000", "text": f"<{site.url('sc')}>"},
        "response_url": h.fake.response_url("sc"),
    }  # fmt: skip
    body = urlencode({"payload": json.dumps(payload)})
    assert h.dispatch(body, "application/x-www-form-urlencoded").status == 200
    h.settle()
    (answer,) = h.fake.calls_to("response_url")
    assert "Chip curbs widen (sc)" in answer.params["text"]
    assert h.replies() == []  # not a share: nothing in the channel
    assert h.bot.stores.for_team("T0LOCAL").shares_between(CHANNEL, 0, time.time() + 10) == []
