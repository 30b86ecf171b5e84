"""``/digest`` answers where it used to stay silent or mislead: unknown words, unknown topics,
repeated settings, forgetting a pasted text, bad methods, a full Redis, a flood of summaries."""

from __future__ import annotations

import json
import time

import redis

from bot.delivery.ledger import Schedules
from tests.slack_harness import CHANNEL
from tests.slack_harness import PASTED_ARTICLE as ARTICLE


def _ack(response) -> str:
    body = response.body or ""
    try:
        return json.loads(body).get("text", body)
    except ValueError:
        return body


def _answer(h) -> str:
    return h.fake.calls_to("response_url")[-1].params["text"]


def _audits(h) -> list[str]:
    return [
        c.params["text"] for c in h.fake.calls_to("chat.postMessage") if not c.params.get("blocks")
    ]


def _shares(h) -> list:
    return h.bot.stores.for_team("T0LOCAL").shares_between(CHANNEL, 0, time.time() + 10)


def test_an_unknown_subcommand_says_so_before_the_help(h):
    ack = _ack(h.command("bogus stuff"))
    assert ack.startswith("I don't know `/digest bogus`") and "/digest summarize" in ack
    assert not _ack(h.command("help")).startswith("I don't know")


def test_auto_with_a_wrong_mode_says_what_is_wrong(h):
    h.command("auto bananas")
    h.settle()
    assert "`bananas` isn't a mode" in _answer(h)
    assert _audits(h) == []


def test_repeating_an_auto_mode_is_not_announced_again(h):
    for _ in range(2):
        h.command("auto links")
        h.settle()
    assert len([t for t in _audits(h) if "auto links" in t]) == 1
    assert "already" in _answer(h)
    h.command("auto all")  # the default, set once by `links` above: a real change
    h.command("auto all")
    h.settle()
    assert len([t for t in _audits(h) if "auto all" in t]) == 1


def test_a_mistyped_topic_id_is_not_created_and_the_close_one_is_suggested(h):
    h.command('topics add tarde "x-ray tariffs"')
    h.settle()
    answer = _answer(h)
    assert "no topic `tarde`" in answer and "`trade`" in answer and "--new" in answer
    assert h.bot.stores.for_team("T0LOCAL").team_topics() == {}
    assert _audits(h) == []
    h.command('topics add tarde "x-ray tariffs" --new')
    h.settle()
    assert h.bot.stores.for_team("T0LOCAL").team_topics() == {"tarde": ["x-ray tariffs"]}


def test_a_pasted_text_is_forgotten_by_its_thread_link(h):
    h.message(ARTICLE, ts="1700000000.000100")
    h.settle()
    (reply,) = h.replies()
    assert len(_shares(h)) == 1
    # "Copy link" on the bot's reply in the thread, as Slack escapes it in a command
    link = (
        f"https://local.slack.test/archives/{CHANNEL}/p{reply['ts'].replace('.', '')}"
        f"?thread_ts=1700000000.000100&amp;cid={CHANNEL}"
    )
    h.command(f"forget {link}")
    h.settle()
    assert _answer(h).startswith("Forgot *") and _shares(h) == []
    h.command(f"forget {link}")
    h.settle()
    assert "nothing was forgotten" in _answer(h)


def test_forget_this_in_the_thread_forgets_its_article(h):
    h.message(ARTICLE, ts="1700000000.000200")
    h.settle()
    assert len(_shares(h)) == 1
    h.dispatch(
        h.event_body("<@UBOT> forget this", type="app_mention", thread_ts="1700000000.000200")
    )
    h.settle()
    assert _shares(h) == []
    last = h.replies()[-1]
    assert last["thread_ts"] == "1700000000.000200" and last["text"].startswith("Forgot")


def test_forget_without_a_link_explains_both_ways(h):
    h.command("forget this")
    h.settle()
    assert "Copy link" in _answer(h) and "forget this" in _answer(h)


def test_an_unknown_method_is_refused_in_the_ack_before_summarizing(h):
    ack = _ack(h.command("summarize https://example.org/x --method nosuch"))
    assert "no method `nosuch`" in ack and "Summarizing" not in ack
    h.settle()
    assert h.fake.calls_to("response_url") == []


def test_schedule_under_a_full_redis_announces_nothing(h, monkeypatch):
    def full(self, channel, schedule):
        raise redis.ResponseError("OOM command not allowed when used memory > 'maxmemory'.")

    monkeypatch.setattr(Schedules, "set", full)
    h.command("schedule weekly mon 09:00")
    h.settle()
    assert "nothing was changed" in _answer(h)
    assert not any("scheduled the digest" in t for t in _audits(h))


def test_summarize_is_rate_limited_like_shares(h):
    h.bot.shares.clock = lambda: 1_700_000_010.0  # one rate-limit window
    for _ in range(11):  # the per-user limit is 10 a minute
        h.command("summarize hello there", user="UFLOOD")
        h.settle()
    answers = [c.params["text"] for c in h.fake.calls_to("response_url")]
    assert len(answers) == 11 and "a lot of summaries" in answers[-1]
    assert not any("a lot of summaries" in a for a in answers[:10])
