"""The sweep: each scheduled channel's latest due slot posted once, open slots finished, old
records pruned. The clock runs it every 30 s; it posts (it does not enqueue): the channel lock,
its lease and the slot ledger already make a post exactly-once and finish a dead clock's post.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.delivery.builder import DigestBuilder, plan_of
from bot.delivery.ledger import Schedules
from bot.delivery.poster import DigestPoster, PostOutcome, Status
from bot.storage.store import DAY, StoreError, Stores
from digests.schedule import Schedule, Slot, latest_due_slot

log = logging.getLogger(__name__)


class Sweeper:
    """Walks the index of scheduled workspaces (never the keyspace)."""

    def __init__(
        self,
        stores: Stores,
        builder: DigestBuilder,
        poster: DigestPoster,
        *,
        retention_days: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stores = stores
        self.builder = builder
        self.poster = poster
        self.retention_days = retention_days
        self.clock = clock

    def sweep(self, now: float | None = None, teams: list[str] | None = None) -> dict:
        """One pass: post each scheduled channel's latest due slot once, and finish open slots.

        ``teams`` limits the pass (the shell sweeps only its own stand-in workspace).
        """
        now = self.clock() if now is None else now
        outcomes: dict[str, Status] = {}
        try:
            teams = self.stores.indexed("scheduled") if teams is None else teams
        except StoreError as exc:
            log.error("storage down, sweep skipped; due slots post when it is back: %s", exc)
            return outcomes
        for team in teams:
            try:
                schedules = Schedules(self.stores.for_team(team))
                scheduled = schedules.all()
                open_channels = schedules.channels_with_open_slots()
                unfinished = open_channels - set(scheduled)
            except StoreError as exc:
                log.error("storage down reading schedules of %s: %s", team, exc)
                continue
            for channel in sorted(scheduled) + sorted(unfinished):
                key = f"{team}/{channel}"
                try:
                    if channel in scheduled:
                        schedule = Schedule.from_dict(scheduled[channel])
                        slot = latest_due_slot(schedule, now)
                        if slot is None:
                            if channel in open_channels:  # e.g. a `/digest now` to finish
                                outcomes[key] = self.poster.post_slot(
                                    team, channel, None, now=now
                                ).status
                            continue
                        key += f"/{slot.name}"
                        outcome = self.post_scheduled(team, channel, schedule, slot, now)
                    else:
                        outcome = self.poster.post_slot(team, channel, None, now=now)
                    outcomes[key] = outcome.status
                except StoreError as exc:
                    log.error("storage down at %s; will post when it is back: %s", key, exc)
                    outcomes[key] = Status.STORE_DOWN
                except Exception:
                    log.exception("digest for %s failed", key)
                    outcomes[key] = Status.ERROR
        return outcomes

    def post_scheduled(
        self, team: str, channel: str, schedule: Schedule, slot: Slot, now: float
    ) -> PostOutcome:
        def plan():
            since = self.builder.window(team, channel, schedule, slot.at, slot)
            if since >= slot.at:  # `/digest now` already covered this slot's period
                return plan_of([], since, slot.at, 0)
            digest = self.builder.build(
                team, channel, until=slot.at, schedule=schedule, since=since
            )
            return self.builder.plan(team, channel, digest, schedule)

        return self.poster.post_slot(team, channel, slot.name, plan, now)

    def prune(self, teams: list[str] | None = None) -> int:
        """Drop shares, articles and ledgers older than the retention period."""
        now = self.clock()
        removed = 0
        try:
            for team in self.stores.indexed("teams") if teams is None else teams:
                store = self.stores.for_team(team)
                count = store.prune(self.retention_days, now)
                count += Schedules(store).prune_ledger(now - self.retention_days * DAY)
                log.info("pruned %d old records for %s", count, team)
                removed += count
        except StoreError as exc:
            log.warning("pruning skipped, storage down: %s", exc)
        return removed
