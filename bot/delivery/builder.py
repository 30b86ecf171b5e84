"""Building a channel's digest: its shares since the last digest (at most one period back),
clustered and grouped by topic (``digests.digest``), rendered into the parts a post is made of.
"""

from __future__ import annotations

import json
import logging
import time

from bot.delivery.ledger import Schedules
from bot.flows.summarizer import Taxonomies
from bot.storage.store import DAY, Stores, item_from
from digests.digest import build_digest
from digests.models import SharedItem
from digests.render import digest_to_json, render_blocks, render_empty, render_markdown
from digests.schedule import Schedule, Slot, period_start

log = logging.getLogger(__name__)


def preview_blocks(parts: list[tuple[str, list[dict]]]) -> tuple[str, list[dict]]:
    """The digest's parts as one ephemeral message (50 blocks at most; the rest is counted)."""
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
    return f"Preview: {parts[0][0]}", blocks


def plan_of(parts: list, since: float, until: float, items: int) -> dict:
    """What a slot will post: its rendered parts and the period they cover."""
    return {"parts": [list(p) for p in parts], "since": since, "until": until, "items": items}


class DigestBuilder:
    """A channel's digest for a period, from the store, rendered into postable parts."""

    def __init__(self, stores: Stores, taxonomies: Taxonomies) -> None:
        self.stores = stores
        self.taxonomies = taxonomies

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
        return build_digest(
            items,
            period_start=since,
            period_end=until,
            tz=schedule.tz if schedule else "UTC",
            topic_filter=schedule.topics if schedule else (),
            labels=labels,
        )

    def render_parts(self, digest, schedule: Schedule | None) -> list[tuple[str, list[dict]]]:
        if digest.total_stories == 0:
            if schedule is not None and schedule.empty == "skip":
                return []
            return [tuple(render_empty(digest.period_start, digest.period_end, digest.tz))]
        return [tuple(part) for part in render_blocks(digest)]

    # -- the clock ----------------------------------------------------------------------------------
    def schedule_of(self, team: str, channel: str) -> Schedule | None:
        raw = Schedules(self.stores.for_team(team)).get(channel)
        return Schedule.from_dict(raw) if raw else None

    def digest_for_cli(self, team: str, channel: str, since: float | None, fmt: str) -> str:
        """``python -m bot digest``: the channel's digest from the store, printed, not posted."""
        now = time.time()
        schedule = self.schedule_of(team, channel)
        digest = self.build(team, channel, until=now, schedule=schedule, since=since)
        if fmt == "json":
            return json.dumps(digest_to_json(digest), ensure_ascii=False, indent=2)
        if fmt == "blocks":
            return json.dumps(
                [{"text": t, "blocks": b} for t, b in self.render_parts(digest, None)],
                ensure_ascii=False,
                indent=2,
            )
        return render_markdown(digest)
