"""The feed objects of one process, built from plain dependencies (``bot.bootstrap`` calls
``build_feed_kit``), and the jobs they run: ``feed_poll`` (one feed for all its followers,
handed over by the clock's sweep) and ``feed_item`` (one new item into its channels).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.feeds.alerting import Alerter, alert_item_of
from bot.feeds.commands import FeedCommands
from bot.feeds.poller import RECORD_FIELDS, FeedPoller, PollReport, Resolved
from bot.feeds.store import FeedStore
from bot.feeds.sweep import FeedSweep
from bot.fetch.fetcher import Fetcher
from bot.storage.store import Store, StoreError
from digests.analyze import analyze
from digests.models import Article

if TYPE_CHECKING:
    import redis
    from slack_sdk import WebClient

    from digests.topics import Taxonomy

log = logging.getLogger(__name__)


@dataclass
class FeedKit:
    """The feed objects of one process, each given its dependencies."""

    store: FeedStore
    alerter: Alerter
    poller: FeedPoller
    commands: FeedCommands
    sweep: FeedSweep

    def poll_job(self, *, fid: str) -> None:
        """``feed_poll``: poll one feed; the sweep's lease is dropped after."""
        self.poll(fid)

    def poll(self, fid: str, resolved: Resolved | None = None) -> PollReport:
        try:
            return self.poller.poll(fid, resolved)
        finally:
            self.store.drop_lease(fid)

    def item_job(self, **job) -> None:
        """``feed_item``: one item into its channels (safe to run twice)."""
        self.poller.deliver_item(**job)

    def jobs(self) -> dict[str, Callable[..., None]]:
        return {"feed_poll": self.poll_job, "feed_item": self.item_job}

    def alert_on_share(
        self, *, team: str, channel: str, akey: str, result: dict, user: str, permalink: str
    ) -> None:
        """A link shared in the channel alerts like a feed item (at most once per item)."""
        record = {k: result.get(k) for k in RECORD_FIELDS}
        shown = alert_item_of(record, sharer=user, permalink=permalink or None)
        try:
            if self.store.store_for(team).get_share(channel, akey) is None:
                return  # not kept (the message was deleted meanwhile)
            self.alerter.consider(team, channel, akey, record, shown)
        except StoreError as exc:
            log.warning("alert check skipped for %s in %s, storage down: %s", akey, channel, exc)


def build_feed_kit(
    settings: Settings,
    redis_client: redis.Redis,
    *,
    store_for: Callable[[str], Store],
    fetcher: Fetcher,
    taxonomy_for: Callable[[str], Taxonomy],
    client_for: Callable[[str], WebClient | None],
    require_admin: Callable[[str], None],
    audit: Callable[[WebClient, str, str], object],
    enqueue: Callable[..., bool] | None,
    clock: Callable[[], float] = time.time,
) -> FeedKit:
    """``enqueue(kind, **payload)`` puts polls and items on the job queue; without one (no
    queue) polls run where the sweep is and items inside their poll."""
    interval = settings.feed_poll_minutes * 60
    store = FeedStore(redis_client, store_for, clock=clock)
    alerter = Alerter(store, client_for, cap=settings.alerts_per_hour)

    def analyze_for(team: str, article: Article) -> dict:
        return analyze(
            article,
            method=settings.summary_method,
            taxonomy=taxonomy_for(team),
            max_chars=settings.text_max_chars,
        )

    dispatch = (lambda job: enqueue("feed_item", **job)) if enqueue else None
    poller = FeedPoller(store, fetcher, analyze_for, alerter, store_for, interval=interval,
                        clock=clock, dispatch=dispatch)  # fmt: skip
    kit: FeedKit

    def submit_poll(fid: str) -> bool:
        if enqueue is not None:
            return enqueue("feed_poll", fid=fid)
        kit.poll(fid)
        return True

    # ``follow`` runs in a command job already: its first poll runs there, on the feed it read.
    commands = FeedCommands(store, poller.resolve, lambda fid, r: kit.poll(fid, r),
                            lambda t: taxonomy_for(t).ids(), require_admin, audit,
                            alert_cap=settings.alerts_per_hour, clock=clock)  # fmt: skip
    sweep = FeedSweep(store, submit_poll, interval=interval,
                      host_gap=settings.feed_host_gap_seconds, clock=clock)  # fmt: skip
    kit = FeedKit(store, alerter, poller, commands, sweep)
    return kit
