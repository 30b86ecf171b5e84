"""The clock's feed pass: find due feeds and hand each to a poll job, politely.

A feed is due ``FEED_POLL_MINUTES`` after its last poll (later after failures: back-off). Each
due feed is polled once however many channels follow it; a host polled less than
``FEED_HOST_GAP_SECONDS`` ago waits, so many feeds on one site are spread out. A lease stops a
second clock from enqueueing the same poll; the feed's next due time is pushed forward before
the job is handed over, so a job that dies simply comes due again one interval later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from bot.feeds.store import FeedStore

log = logging.getLogger(__name__)

SWEEP_LIMIT = 200  # feeds handed over per sweep (the rest wait for the next one, 30 s later)
LEASE_SECONDS = 600


class FeedSweep:
    def __init__(
        self,
        feeds: FeedStore,
        submit: Callable[[str], bool],
        *,
        interval: float,
        host_gap: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.feeds = feeds
        self.submit = submit
        self.interval = interval
        self.host_gap = host_gap
        self.clock = clock

    def sweep(self, now: float | None = None, teams: list[str] | None = None) -> list[str]:
        """Hand due feeds to poll jobs; returns the feed ids handed over. With ``teams`` (the
        shell), only feeds that no other workspace follows."""
        now = self.clock() if now is None else now
        handed: list[str] = []
        for fid in self.feeds.due(now, SWEEP_LIMIT):
            state = self.feeds.state(fid)
            if state is None:
                self.feeds.unschedule(fid)
                continue
            if teams is not None and any(f.team not in teams for f in self.feeds.followers(fid)):
                continue
            host = (urlsplit(state.url).hostname or "").lower()
            if not self.feeds.take_host(host, int(self.host_gap * 1000)):
                self.feeds.schedule(fid, now + max(self.host_gap, 1.0))
                continue
            if not self.feeds.take_lease(fid, LEASE_SECONDS):
                continue
            self.feeds.schedule(fid, now + self.interval)
            if self.submit(fid):
                handed.append(fid)
            else:  # the pool is full: try again at the next sweep
                self.feeds.drop_lease(fid)
                self.feeds.schedule(fid, now)
        return handed
