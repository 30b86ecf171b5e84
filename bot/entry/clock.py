"""The clock: APScheduler 3.x runs one sweep every 30 s; exactly-once comes from our ledger.

Several clocks may run at once (a second Heroku ``clock`` dyno, Socket Mode beside a clock): the
per-channel lock and the slot ledger make that harmless.
"""

from __future__ import annotations

import logging
import time

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from bot.config import Settings
from bot.delivery.ledger import Schedules
from bot.storage.store import DAY, StoreError

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30
PRUNE_HOURS = 24


def _jobs(scheduler, settings: Settings, services, teams: list[str] | None = None) -> None:
    def sweep() -> None:
        outcomes = services.sweep(teams=teams)
        for key, status in outcomes.items():
            if status not in ("done_before", "busy"):
                log.info("digest slot %s: %s", key, status)

    def prune() -> None:
        now = time.time()
        try:
            for team in teams if teams is not None else services.teams():
                store = services.store_for(team)
                removed = store.prune(settings.retention_days, now)
                removed += Schedules(store).prune_ledger(now - settings.retention_days * DAY)
                log.info("pruned %d old records for %s", removed, team)
        except StoreError as exc:
            log.warning("pruning skipped, storage down: %s", exc)

    scheduler.add_job(
        sweep,
        "interval",
        seconds=SWEEP_SECONDS,
        id="sweep",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=SWEEP_SECONDS,
        next_run_time=_soon(),
    )
    scheduler.add_job(
        prune,
        "interval",
        hours=PRUNE_HOURS,
        id="prune",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
        next_run_time=_soon(),
    )


def _soon():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def run_clock(settings: Settings) -> int:
    """``python -m bot clock``: the ``clock`` process of the Procfile."""
    from bot.bootstrap import open_redis
    from bot.flows.summarizer import Services

    if not settings.slack_bot_token:
        raise SystemExit("The clock needs SLACK_BOT_TOKEN (xoxb-…) to post digests, and REDIS_URL.")
    services = Services(settings, open_redis(settings, local=False))
    scheduler = BlockingScheduler(timezone="UTC")
    _jobs(scheduler, settings, services)
    log.info("clock started: one sweep every %d s", SWEEP_SECONDS)
    scheduler.start()
    return 0


def start_background_clock(
    settings: Settings, services, teams: list[str] | None = None
) -> BackgroundScheduler:
    """Local modes (shell, Socket Mode) run the sweep inside their own process; the shell
    passes its stand-in workspace as ``teams`` so it never touches real workspaces' slots."""
    scheduler = BackgroundScheduler(timezone="UTC")
    _jobs(scheduler, settings, services, teams)
    scheduler.start()
    return scheduler
