"""The clock: APScheduler 3.x runs the sweep every 30 s and pruning daily.

The clock posts digests itself (it does not enqueue them): the channel lock with its lease and
the slot ledger make each post exactly-once and let the next clock finish a dead one's post.
Several clocks may run at once (a second ``clock`` dyno, Socket Mode beside a clock): harmless.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from bot.config import Settings
from bot.delivery.poster import Status
from bot.delivery.sweeper import Sweeper
from bot.feeds.wiring import FeedKit

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30
PRUNE_HOURS = 24
QUIET = (Status.DONE_BEFORE, Status.BUSY)


def _jobs(scheduler, sweeper: Sweeper, teams: list[str] | None = None,
          sweep_seconds: float = SWEEP_SECONDS, feeds: FeedKit | None = None) -> None:  # fmt: skip
    def sweep() -> None:
        for key, status in sweeper.sweep(teams=teams).items():
            if status not in QUIET:
                log.info("digest slot %s: %s", key, status)

    now = datetime.now(UTC)
    scheduler.add_job(sweep, "interval", seconds=sweep_seconds, id="sweep", max_instances=1,
                      coalesce=True, misfire_grace_time=SWEEP_SECONDS, next_run_time=now)  # fmt: skip
    if feeds is not None:  # due feeds handed to poll jobs (bot.feeds.sweep)
        scheduler.add_job(lambda: feeds.sweep.sweep(teams=teams), "interval",
                          seconds=sweep_seconds, id="feeds", max_instances=1, coalesce=True,
                          misfire_grace_time=SWEEP_SECONDS, next_run_time=now)  # fmt: skip
    scheduler.add_job(lambda: sweeper.prune(teams), "interval", hours=PRUNE_HOURS, id="prune",
                      max_instances=1, coalesce=True, misfire_grace_time=3600,
                      next_run_time=now)  # fmt: skip


def run_clock(settings: Settings, sweep_seconds: float = SWEEP_SECONDS) -> int:
    """``python -m bot clock``: the ``clock`` process of the Procfile."""
    from bot.bootstrap import build

    if not (settings.slack_bot_token or settings.oauth_enabled):
        raise SystemExit(
            "The clock needs SLACK_BOT_TOKEN (xoxb-…) or OAuth settings to post digests, and "
            "REDIS_URL."
        )
    bot = build(settings, local=False)
    scheduler = BlockingScheduler(timezone="UTC")
    _jobs(scheduler, bot.sweeper, sweep_seconds=sweep_seconds, feeds=bot.feeds)
    log.info("clock started: one sweep every %s s", sweep_seconds)
    scheduler.start()
    return 0


def start_background_clock(
    sweeper: Sweeper, teams: list[str] | None = None, feeds: FeedKit | None = None
) -> BackgroundScheduler:
    """Local modes (shell, Socket Mode) run the sweep inside their own process; the shell
    passes its stand-in workspace as ``teams`` so it never touches real workspaces' slots."""
    scheduler = BackgroundScheduler(timezone="UTC")
    _jobs(scheduler, sweeper, teams, feeds=feeds)
    scheduler.start()
    return scheduler
