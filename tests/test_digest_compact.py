"""A digest that fits on a screen, what changed, and the trend chart: through the real services,
a real Redis and the fake Slack Web API (files_upload_v2's three calls included)."""

from __future__ import annotations

import json

import pytest

from bot.delivery.ledger import ChannelLock, Schedules
from digests.render import MAX_MESSAGES, check_blocks
from tests.test_digest_posting import (
    CHANNEL,
    MONDAY,
    TEAM,
    Died,
    _die_once,
    another_process,
    digest_posts,
    expire_lock,
    schedule,
    share,
)

WEEK = 7 * 86400
TOPICS = ("export_controls", "sanctions", "tariffs", "trade", "taiwan", "tech", "fentanyl",
          "diplomacy", "security", "industrial_policy", "investment_restrictions")  # fmt: skip
PNG = b"\x89PNG\r\n\x1a\n"


def record(h, slot: str, since: float, until: float, counts: dict[str, int]) -> None:
    """A posted digest's period, as the poster records it."""
    labels = {t: t.replace("_", " ").capitalize() for t in counts}
    Schedules(h.bot.stores.for_team(TEAM)).record_period(
        CHANNEL,
        slot,
        {"since": since, "until": until, "counts": counts, "labels": labels,
         "total": sum(counts.values())},
    )  # fmt: skip


def channel_messages(h) -> list[dict]:
    """Everything the bot put in the digest channel: messages and file shares."""
    return h.fake.posts(CHANNEL)


def uploads(h) -> list[dict]:
    return [m for m in channel_messages(h) if m.get("upload")]


def file_calls(h) -> list[str]:
    names = ("files.getUploadURLExternal", "upload", "files.completeUploadExternal")
    return [c.method for c in h.fake.calls if c.method in names]


def text_of(message: dict) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False)


def test_a_2000_story_week_is_six_messages_with_the_chart(h):
    schedule(h, changed_at=MONDAY - 30 * 86400)
    record(h, "w-2", MONDAY - 3 * WEEK, MONDAY - 2 * WEEK, {"sanctions": 40, "tariffs": 10})
    record(h, "w-1", MONDAY - 2 * WEEK, MONDAY - WEEK, {"sanctions": 30, "export_controls": 5})
    for n in range(2000):
        share(h, n, MONDAY - 6 * 86400 + n * 200, topic=TOPICS[n % 11 if n % 2 else n % 3])
    assert h.bot.sweeper.sweep(now=MONDAY + 60) == {f"{TEAM}/{CHANNEL}/2026-03-02T09:00": "posted"}

    messages = channel_messages(h)
    assert len(messages) <= MAX_MESSAGES
    posts = digest_posts(h)
    assert all(check_blocks(p["blocks"]) == [] for p in posts)
    parent, *replies = posts
    assert all(m["thread_ts"] == parent["ts"] for m in [*replies, *uploads(h)])
    assert "2,000 stories" in text_of(parent) or "2000 stories" in text_of(parent)
    # The three calls of files_upload_v2, once, and a PNG with alt text in the thread.
    assert file_calls(h) == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    (chart,) = uploads(h)
    (stored,) = h.fake.uploads.values()
    assert stored["data"].startswith(PNG) and "Line chart of stories per topic" in stored["alt_txt"]
    assert chart["files"][0]["title"] == "Stories per topic, last 3 digests"
    # The busiest topics in full (5 each), the other topics in "Also this week"; all 11 named.
    assert replies[-1]["blocks"][0]["text"]["text"] == "Also this week"
    everything = "".join(text_of(m) for m in posts)
    taxonomy = h.bot.taxonomies.for_team(TEAM)
    assert all(taxonomy.label(t) in everything for t in TOPICS)
    for reply in replies[:-1]:
        assert sum(b["type"] == "context" for b in reply["blocks"]) == 5
        assert "more:*" in reply["blocks"][-1]["text"]["text"]
    # Against the previous digest: sanctions changed, export controls too, tariffs is back.
    counts = text_of(parent)
    assert "Sanctions" in counts and ("▲" in counts or "▼" in counts) and " new" in counts


def test_changes_still_developing_and_no_chart_under_two_periods(h):
    schedule(h, changed_at=MONDAY - 30 * 86400)
    for n in range(6):  # week 1: four export-control stories, two on sanctions
        share(h, n, MONDAY - 3 * 86400 + n * 600, topic="sanctions" if n > 3 else "export_controls")
    share(h, 90, MONDAY - 2 * 86400, topic="tariffs",
          title="Zorblat Corp hit with kelvane tariff review in Ohio")  # fmt: skip
    h.bot.sweeper.sweep(now=MONDAY + 60)
    first = digest_posts(h)
    assert "No trend chart yet" in text_of(first[0]) and file_calls(h) == []
    assert "▲" not in text_of(first[0])  # nothing to compare with yet

    nxt = MONDAY + WEEK
    for n in range(10, 12):
        share(h, n, nxt - 2 * 86400 + n, topic="export_controls")
    for n in range(20, 25):
        share(h, n, nxt - 2 * 86400 + n, topic="taiwan")
    share(h, 91, nxt - 86400, topic="tariffs",
          title="Zorblat Corp kelvane tariff review widens in Ohio")  # fmt: skip
    h.bot.sweeper.sweep(now=nxt + 60)
    parent = [p for p in digest_posts(h) if p not in first][0]
    counts = text_of(parent)
    assert "Export controls 2 ▼ 2" in counts
    assert "Taiwan 5 new" in counts
    assert "Tariffs 1 ±0" in counts and "▲ 1 on the last digest" in counts  # 7 → 8 stories
    assert "No trend chart yet" not in counts
    replies = [p for p in digest_posts(h) if p["thread_ts"] == parent["ts"]]
    tariffs = next(r for r in replies if "Tariffs" in r["blocks"][0]["text"]["text"])
    assert "still developing" in text_of(tariffs)
    taiwan = next(r for r in replies if "Taiwan" in r["blocks"][0]["text"]["text"])
    assert "still developing" not in text_of(taiwan)
    assert len(uploads(h)) == 1 and file_calls(h)[-1] == "files.completeUploadExternal"


def test_a_chart_whose_upload_may_have_happened_is_never_uploaded_twice(h):
    schedule(h, changed_at=MONDAY - 30 * 86400)
    record(h, "w-1", MONDAY - 2 * WEEK, MONDAY - WEEK, {"sanctions": 3})
    for n in range(4):
        share(h, n, MONDAY - 3 * 86400 + n * 600, topic="sanctions")
    # Slack completes the upload but the connection drops before the answer.
    h.fake.fail("files.completeUploadExternal", drop_after_accept=True)
    assert h.bot.sweeper.sweep(now=MONDAY + 60)[f"{TEAM}/{CHANNEL}/2026-03-02T09:00"] == "posted"
    ledger = Schedules(h.bot.stores.for_team(TEAM)).ledger(CHANNEL, "2026-03-02T09:00")
    assert ledger["part:1"] == "skipped" and ledger["state"] == "done"
    assert len(uploads(h)) == 1  # the one that got through; not sent again
    assert len(digest_posts(h)) == 2  # parent + sanctions


def test_a_refused_chart_never_holds_the_digest_back(h):
    schedule(h, changed_at=MONDAY - 30 * 86400)
    record(h, "w-1", MONDAY - 2 * WEEK, MONDAY - WEEK, {"sanctions": 3})
    for n in range(4):
        share(h, n, MONDAY - 3 * 86400 + n * 600, topic="sanctions")
    h.fake.fail("files.getUploadURLExternal", error="missing_scope")  # installed before files:write
    assert h.bot.sweeper.sweep(now=MONDAY + 60)[f"{TEAM}/{CHANNEL}/2026-03-02T09:00"] == "posted"
    assert uploads(h) == [] and len(digest_posts(h)) == 2
    assert (
        h.bot.sweeper.sweep(now=MONDAY + 120)[f"{TEAM}/{CHANNEL}/2026-03-02T09:00"] == "done_before"
    )
    assert len(file_calls(h)) == 1


def test_cli_with_no_since_right_after_a_digest_prints_that_digest(h, tmp_path):
    schedule(h, changed_at=MONDAY - 30 * 86400)
    record(h, "w-1", MONDAY - 2 * WEEK, MONDAY - WEEK, {"sanctions": 3})
    for n in range(4):
        share(h, n, MONDAY - 3 * 86400 + n * 600, topic="sanctions")
    h.bot.sweeper.sweep(now=MONDAY + 60)

    text, note = h.bot.builder.digest_for_cli(TEAM, CHANNEL, None, "json")
    data = json.loads(text)
    assert data["total_stories"] == 4 and data["period_end"].startswith("2026-03-02T09:00")
    assert note and "last digest's period" in note and "2 Mar" in note
    assert data["changes"] == {"sanctions": 1} and data["previous_total"] == 3

    out = tmp_path / "digest.md"
    md, _ = h.bot.builder.digest_for_cli(TEAM, CHANNEL, None, "markdown", out)
    chart = tmp_path / "digest-trend.png"
    assert chart.read_bytes().startswith(PNG)
    assert "](digest-trend.png)" in md and md.count("Story number") == 4


def test_preview_shows_the_chart_as_text_and_the_compact_parts(h):
    from bot.flows.commands import Invocation
    from digests.commands import parse_command

    record(h, "w-1", 1.0, 2.0, {"sanctions": 3})
    for n in range(3):
        share(h, n, __import__("time").time() - 3600 + n, topic="sanctions")
    answers: list[dict] = []
    ctx = Invocation(team=TEAM, channel=CHANNEL, user="U1", client=None,
                     respond=lambda **kw: answers.append(kw))  # fmt: skip
    h.bot.commands.cmd_preview(parse_command("preview"), ctx)
    (answer,) = answers
    body = text_of(answer)
    assert "Trend chart" in body and "Sanctions" in body and check_blocks(answer["blocks"]) == []


def test_dying_after_the_chart_reached_slack_skips_it_and_finishes_the_rest(h, monkeypatch):
    schedule(h, changed_at=MONDAY - 30 * 86400)
    record(h, "w-1", MONDAY - 2 * WEEK, MONDAY - WEEK, {"sanctions": 3})
    for n in range(6):
        share(h, n, MONDAY - 3 * 86400 + n * 600, topic=("sanctions", "tariffs")[n % 2])
    # The chart is uploaded, then the process dies before the ledger says so.
    monkeypatch.setattr(Schedules, "mark_part", _die_once(Schedules.mark_part, after=1))
    monkeypatch.setattr(ChannelLock, "release", lambda self: None)
    with pytest.raises(Died):
        h.bot.sweeper.sweep(now=MONDAY + 60)
    assert len(uploads(h)) == 1 and len(digest_posts(h)) == 1
    expire_lock(h)
    another_process(h).sweep(now=MONDAY + 120)
    assert len(uploads(h)) == 1  # not uploaded a second time
    assert len(digest_posts(h)) == 3  # parent, sanctions, tariffs: each once
    ledger = Schedules(h.bot.stores.for_team(TEAM)).ledger(CHANNEL, "2026-03-02T09:00")
    assert ledger["part:1"] == "skipped" and ledger["state"] == "done"
    assert len(Schedules(h.bot.stores.for_team(TEAM)).periods(CHANNEL)) == 2
