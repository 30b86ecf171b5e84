"""The web process: Bolt behind a WSGI server (gunicorn), plus ``GET /healthz``.

Procfile: ``web: gunicorn 'bot.web:create_wsgi()' --bind 0.0.0.0:$PORT --threads 8``.
"""

from __future__ import annotations

import json
import logging
import os

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.config import Settings

log = logging.getLogger(__name__)


def wsgi_app(app, services):
    """Route ``POST /slack/events`` to Bolt and answer ``GET /healthz`` with the store's state."""
    bolt = SlackRequestHandler(app, path="/slack/events")

    def application(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            store = services.store_for("health")
            body = json.dumps({"ok": True, "redis": bool(store and store.ping())}).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return bolt(environ, start_response)

    return application


def create_wsgi():
    """gunicorn's entry point: one app and one work pool per worker process."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from bot.runtime import build

    settings = Settings.from_env()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not settings.slack_signing_secret:
        raise SystemExit("SLACK_SIGNING_SECRET is required for the web process.")
    services, app = build(settings, local=False)
    return wsgi_app(app, services)


def serve(settings: Settings) -> int:
    """``python -m bot web``: run gunicorn in this process's place."""
    import sys

    argv = [sys.executable, "-m", "gunicorn", "bot.web:create_wsgi()",
            "--bind", f"0.0.0.0:{settings.port}", "--workers", "1", "--threads", "8",
            "--timeout", "60", "--access-logfile", "-"]  # fmt: skip
    os.execv(sys.executable, argv)
    return 0
