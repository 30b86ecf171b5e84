"""Start a run mode by name: shell, socket, web, worker or clock."""

from __future__ import annotations

import logging
import os
import signal
import threading

from bot.config import Settings

log = logging.getLogger(__name__)


def run(command: str, settings: Settings) -> int:
    if command == "shell":
        from bot.entry.shell import run as run_shell

        return run_shell(settings)
    if command == "web":
        from bot.entry.web import serve

        return serve(settings)
    if command == "socket":
        return _socket(settings)
    if command == "worker":
        return run_worker(settings)
    if command == "clock":
        from bot.entry.clock import run_clock

        seconds = float(os.environ.get("CLOCK_SWEEP_SECONDS", "") or 30)  # tests sweep faster
        return run_clock(settings, sweep_seconds=seconds)
    raise SystemExit(f"unknown command {command!r}")


def run_worker(settings: Settings) -> int:
    """``python -m bot worker``: run jobs from the shared queue until SIGTERM/SIGINT."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from bot.bootstrap import build

    bot = build(settings, local=False)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    bot.serve_jobs()
    log.info("worker started: %d threads on the job queue", settings.workers)
    stop.wait()
    bot.close()  # finishes jobs in progress; unstarted ones go back to the queue
    return 0


def _socket(settings: Settings) -> int:
    """Socket Mode: no public URL; an in-process worker and the clock sweep run here too."""
    if not (settings.slack_bot_token and settings.slack_app_token):
        raise SystemExit("Socket Mode needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN (xapp-…).")
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_bolt.error import BoltError

    from bot.bootstrap import build
    from bot.entry.clock import start_background_clock
    from bot.slack.app import create_app

    bot = build(settings, local=True)
    try:
        app = create_app(settings, bot.deps())
    except BoltError as exc:  # auth.test refused the token: one line, not a traceback
        bot.close()
        raise SystemExit(f"Socket Mode can't start: {exc}") from None
    bot.serve_jobs()
    clock = start_background_clock(bot.sweeper, feeds=bot.feeds)
    try:
        SocketModeHandler(app, settings.slack_app_token).start()
    finally:
        clock.shutdown(wait=False)
        bot.close()
    return 0
