"""Start a run mode by name: shell, socket, web or clock."""

from __future__ import annotations

import logging

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
    if command == "clock":
        from bot.entry.clock import run_clock

        return run_clock(settings)
    raise SystemExit(f"unknown command {command!r}")


def _socket(settings: Settings) -> int:
    """Socket Mode: no public URL; the clock sweep runs in this process too."""
    if not (settings.slack_bot_token and settings.slack_app_token):
        raise SystemExit("Socket Mode needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN (xapp-…).")
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_bolt.error import BoltError

    from bot.bootstrap import build
    from bot.entry.clock import start_background_clock

    try:
        services, app = build(settings, local=True)
    except BoltError as exc:  # auth.test refused the token: one line, not a traceback
        raise SystemExit(f"Socket Mode can't start: {exc}") from None
    clock = start_background_clock(settings, services)
    try:
        SocketModeHandler(app, settings.slack_app_token).start()
    finally:
        clock.shutdown(wait=False)
    return 0
