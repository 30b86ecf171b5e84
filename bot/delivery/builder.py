"""Building a channel's digest: its shares since the last digest (at most one period back),
clustered and grouped by topic (``digests.digest``), compared with the previous posted digest
(``digests.changes``), rendered into the parts a post is made of (six messages at most, the
trend chart among them when the channel has two periods of history).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from bot.delivery.ledger import Schedules
from bot.flows.summarizer import Taxonomies
from bot.storage.store import DAY, Stores, item_from
from digests.changes import PeriodRecord, compare, previous_of, series
from digests.chart import NO_CHART_NOTE, alt_text, render_chart, sparklines
from digests.digest import Digest, build_digest
from digests.models import SharedItem
from digests.render import (
    MAX_MESSAGES,
    TOP_STORIES,
    digest_to_json,
    format_period,
    render_blocks,
    render_empty,
    render_markdown,
)
from digests.schedule import Schedule, Slot, period_start

log = logging.getLogger(__name__)

PREVIOUS_ITEMS_MAX = 5_000  # the previous period's shares read for "still developing"


def preview_blocks(parts: list, chart: list[PeriodRecord] = ()) -> tuple[str, list[dict]]:
    """The digest's parts as one ephemeral message (50 blocks at most; the rest is counted).

    An ephemeral message can't carry a file: the chart is shown as text (bars per topic)."""
    parts = [p for p in parts if not isinstance(p, dict)]
    blocks: list[dict] = []
    for index, (_, part_blocks) in enumerate(parts):
        if len(blocks) + len(part_blocks) > 49:
            rest = len(parts) - index
            note = f"_…and {rest} more section{'s' if rest > 1 else ''} in the posted digest._"
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
            break
        if blocks:
            blocks.append({"type": "divider"})
        blocks.extend(part_blocks)
    if len(chart) >= 2:
        trend = "*Trend chart* (posted with the digest):\n```\n" + sparklines(chart) + "\n```"
        section = {"type": "section", "text": {"type": "mrkdwn", "text": trend[:3000]}}
        blocks.insert(min(len(blocks), 4), section)
    return f"Preview: {parts[0][0]}", blocks[:50]


def plan_of(
    parts: list, since: float, until: float, items: int, record: PeriodRecord | None = None
) -> dict:
    """What a slot will post: its rendered parts (a chart part is a dict), the period they cover
    and, for a digest that was built, its period record (stored once the slot is done)."""
    return {
        "parts": [p if isinstance(p, dict) else list(p) for p in parts],
        "since": since,
        "until": until,
        "items": items,
        **({"record": record.to_dict()} if record is not None else {}),
    }


def chart_part(periods: list[PeriodRecord], tz: str) -> dict:
    """The plan's chart part: the data, drawn when it is uploaded."""
    return {
        "chart": {
            "periods": [p.to_dict() for p in periods],
            "tz": tz,
            "title": f"Stories per topic, last {len(periods)} digests",
            "comment": f"Trend: stories per topic over the last {len(periods)} digests.",
        }
    }


class DigestBuilder:
    """A channel's digest for a period, from the store, rendered into postable parts."""

    def __init__(
        self, stores: Stores, taxonomies: Taxonomies, *, top_stories: int = TOP_STORIES
    ) -> None:
        self.stores = stores
        self.taxonomies = taxonomies
        self.top_stories = top_stories  # stories in full per topic (DIGEST_TOP_STORIES)

    # -- reading the channel's shares ------------------------------------------------------------

    def shared_items(
        self,
        team: str,
        channel: str,
        since: float,
        until: float,
        limit: int | None = None,
    ) -> list[SharedItem]:
        """The channel's shares first made in [since, until), newest first, with their articles."""
        store = self.stores.for_team(team)
        shares = store.shares_between(channel, since, until, limit=limit)
        articles = store.get_articles([s.akey for s in shares])
        items = []
        for share, article in zip(shares, articles, strict=True):
            if not article:
                continue
            items.append(item_from(share, article))
        return items

    def window(
        self,
        team: str,
        channel: str,
        schedule: Schedule | None,
        until: float,
        slot: Slot | None = None,
    ) -> float:
        """Since the channel's last digest, at most one period back (7 days with no schedule)."""
        if schedule is not None and slot is not None:
            floor = period_start(schedule, slot)
        elif schedule is not None and schedule.kind == "daily":
            floor = until - DAY
        else:
            floor = until - 7 * DAY
        schedules = Schedules(self.stores.for_team(team))
        carry = schedules.carry_from(channel)  # a given-up digest's period comes along
        floor = min(floor, carry) if carry is not None else floor
        mark = schedules.last_digest(channel)
        return max(floor, mark) if mark is not None else floor

    def build(
        self,
        team: str,
        channel: str,
        *,
        until: float,
        schedule: Schedule | None,
        slot: Slot | None = None,
        since: float | None = None,
    ):
        since = self.window(team, channel, schedule, until, slot) if since is None else since
        items = self.shared_items(team, channel, since, until)
        taxonomy = self.taxonomies.for_team(team)
        labels = {tid: taxonomy.label(tid) for tid in taxonomy.ids()}
        digest = build_digest(
            items,
            period_start=since,
            period_end=until,
            tz=schedule.tz if schedule else "UTC",
            topic_filter=schedule.topics if schedule else (),
            labels=labels,
        )
        previous = previous_of(self.period_history(team, channel), since)
        if previous is not None and not digest.empty:
            earlier = self.shared_items(
                team, channel, previous.since, previous.until, limit=PREVIOUS_ITEMS_MAX
            )
            compare(digest, previous, earlier, items)
        return digest

    def period_history(self, team: str, channel: str) -> list[PeriodRecord]:
        """The channel's posted digests' periods, oldest first (``bot.delivery.ledger``)."""
        raw = Schedules(self.stores.for_team(team)).periods(channel)
        return [PeriodRecord.from_dict(p) for p in raw]

    def chart_periods(self, team: str, channel: str, digest: Digest) -> list[PeriodRecord]:
        """The trend chart's periods, this digest's last; fewer than two means no chart."""
        return series(self.period_history(team, channel), PeriodRecord.of(digest))

    def render_parts(
        self, digest, schedule: Schedule | None, chart: list[PeriodRecord] | None = None
    ) -> list:
        """The parts to post: parent, the chart (when ``chart`` has two periods or more), the
        topic parts; six messages at most."""
        if digest.total_stories == 0:
            if schedule is not None and schedule.empty == "skip":
                return []
            return [tuple(render_empty(digest.period_start, digest.period_end, digest.tz))]
        with_chart = chart is not None and len(chart) >= 2
        if with_chart:
            note = f"Trend chart of the last {len(chart)} digests: first reply in the thread."
        else:
            note = None if chart is None else NO_CHART_NOTE
        parts: list = [
            tuple(part)
            for part in render_blocks(
                digest,
                top=self.top_stories,
                max_messages=MAX_MESSAGES - (1 if with_chart else 0),
                chart_note=note,
            )
        ]
        if with_chart:
            parts.insert(1, chart_part(chart, digest.tz))
        return parts

    def plan(self, team: str, channel: str, digest, schedule: Schedule | None) -> dict:
        """The plan of a digest about to be posted: parts with the chart, and its record."""
        parts = self.render_parts(digest, schedule, self.chart_periods(team, channel, digest))
        return plan_of(
            parts, digest.period_start, digest.period_end, digest.total_stories,
            PeriodRecord.of(digest),
        )  # fmt: skip

    # -- the clock ----------------------------------------------------------------------------------
    def schedule_of(self, team: str, channel: str) -> Schedule | None:
        raw = Schedules(self.stores.for_team(team)).get(channel)
        return Schedule.from_dict(raw) if raw else None

    def digest_for_cli(
        self,
        team: str,
        channel: str,
        since: float | None,
        fmt: str,
        output: Path | None = None,
    ) -> tuple[str, str | None]:
        """``python -m bot digest``: (the channel's digest, printed not posted; a note for stderr).

        With no ``since``: what was shared since the last digest, or, when nothing was, the last
        posted digest's period again (the note says which). Markdown written to ``output`` gets
        the trend chart beside it (``NAME-trend.png``)."""
        now = time.time()
        schedule = self.schedule_of(team, channel)
        digest = self.build(team, channel, until=now, schedule=schedule, since=since)
        note = None
        last = self._last_period(team, channel, schedule) if since is None else None
        if digest.empty and last is not None:
            digest = self.build(team, channel, until=last[1], schedule=schedule, since=last[0])
            when = format_period(last[0], last[1], digest.tz)
            note = f"Nothing new since the last digest; printed the last digest's period: {when}."
        if fmt in ("json", "blocks"):
            return self.format_digest(digest, fmt), note
        chart = None
        if output is not None:
            periods = self.chart_periods(team, channel, digest)
            png = render_chart(periods, digest.tz)
            if png is None:
                note = " ".join(filter(None, [note, NO_CHART_NOTE]))
            else:
                path = output.with_name(f"{output.stem}-trend.png")
                path.write_bytes(png)
                chart = (path.name, alt_text(periods, digest.tz))
        return render_markdown(digest, chart), note

    def format_digest(self, digest, fmt: str, extra: dict | None = None) -> str:
        """A digest as the CLI prints it: ``json`` (plus ``extra`` keys), ``blocks`` (the Slack
        parts it would post) or ``markdown`` (without the trend chart)."""
        if fmt == "json":
            out = {**digest_to_json(digest), **(extra or {})}
            return json.dumps(out, ensure_ascii=False, indent=2)
        if fmt == "blocks":
            parts = self.render_parts(digest, None)
            return json.dumps(
                [{"text": t, "blocks": b} for t, b in parts], ensure_ascii=False, indent=2
            )
        return render_markdown(digest)

    def _last_period(
        self, team: str, channel: str, schedule: Schedule | None
    ) -> tuple[float, float] | None:
        """The last posted digest's period: its record, else (digests from before records were
        kept) the period that ended at the channel's last-digest mark."""
        history = self.period_history(team, channel)
        if history:
            return history[-1].since, history[-1].until
        mark = Schedules(self.stores.for_team(team)).last_digest(channel)
        if mark is None:
            return None
        span = DAY if schedule is not None and schedule.kind == "daily" else 7 * DAY
        return mark - span, mark
