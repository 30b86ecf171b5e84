"""The web process: Bolt behind a WSGI server (gunicorn), plus ``GET /healthz``.

Procfile: ``web: gunicorn 'bot.entry.web:create_wsgi()' --bind 0.0.0.0:$PORT --threads 8``.

A configuration error (no signing secret, no ``REDIS_URL``, a token Slack refuses) stops the
process with one line and a non-zero exit (gunicorn halts instead of restarting the worker
forever). What may pass (Slack unreachable, Redis down) is retried while ``/healthz`` says what
is wrong. It only verifies, acks and enqueues: ``worker`` processes run the jobs and the
``clock`` process posts digests.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import threading
import urllib.error
from collections.abc import Callable
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.slack.clients import slack_error

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20  # Slack's requests are a few kB; anything near this is not Slack
APP_LOAD_ERROR = 4  # gunicorn halts (rather than restarting the worker) on this exit code
RETRY_SECONDS = (2, 5, 15, 30, 60)
# auth.test answers that retrying cannot fix: the token itself is wrong.
BAD_TOKEN = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}


class ConfigError(Exception):
    """A setting the web process cannot start without; its message is the one line shown."""


def config_problem(settings: Settings) -> str | None:
    """What stops the web process from starting, in one line; None when it can start."""
    if not (settings.slack_bot_token or settings.oauth_enabled):
        return (
            "The web process needs SLACK_BOT_TOKEN (xoxb-…) or SLACK_CLIENT_ID/SECRET (OAuth); "
            "without them, `python -m bot` opens the local shell."
        )
    if not settings.slack_signing_secret:
        return "The web process needs SLACK_SIGNING_SECRET (the app's Signing Secret, see README)."
    if not settings.redis_url:
        return "The web process needs REDIS_URL (the Redis it shares with workers and the clock)."
    return None


class SlackApp:
    """The Bolt app, built once Slack answers ``auth.test``; until then ``problem`` says why."""

    def __init__(self, settings: Settings, factory: Callable[[], App]) -> None:
        self.settings = settings
        self.factory = factory
        self.app: App | None = None
        self.problem = "starting"

    @classmethod
    def ready(cls, settings: Settings, app: App) -> SlackApp:
        """An app already built (tests, or a caller that checked Slack itself)."""
        slack = cls(settings, lambda: app)
        slack.app, slack.problem = app, ""
        return slack

    def start(self) -> SlackApp:
        """Try once now (a refused token raises ``ConfigError``), then keep trying in the back."""
        if not self.try_once():
            threading.Thread(target=self._retry, name="slack-auth", daemon=True).start()
        return self

    def try_once(self) -> bool:
        settings = self.settings
        try:  # one quick look first: a refused token must stop the process, not loop
            if settings.slack_bot_token:  # OAuth: each workspace's token is checked per request
                WebClient(
                    settings.slack_bot_token, base_url=settings.slack_api_url, timeout=5
                ).auth_test()
            self.app = self.factory()
            self.problem = ""
            return True
        except SlackApiError as exc:
            error = slack_error(exc)
            if error in BAD_TOKEN:
                raise ConfigError(
                    f"Slack refused SLACK_BOT_TOKEN ({error}): copy the Bot User OAuth Token again."
                ) from exc
            self.problem = f"Slack answered auth.test with {error}; retrying"
        except (OSError, urllib.error.URLError, BoltError) as exc:
            self.problem = f"Slack unreachable at {self.settings.slack_api_url} ({exc}); retrying"
        log.warning("%s", self.problem)
        return False

    def _retry(self) -> None:
        attempt = 0
        while True:
            threading.Event().wait(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
            attempt += 1
            try:
                if self.try_once():
                    log.info("Slack answered; serving /slack/events")
                    return
            except ConfigError as exc:  # the token was revoked meanwhile: say so, keep trying
                self.problem = str(exc)
                log.error("%s", exc)


def _reply(start_response, status: str, payload: dict) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def _well_formed(text: str, content_type: str) -> bool:
    """The body parses as what it says it is (Bolt would answer 500 otherwise)."""
    try:
        if "json" in content_type:
            return isinstance(json.loads(text), dict)
        form = dict(parse_qsl(text, strict_parsing=bool(text)))
        return "payload" not in form or isinstance(json.loads(form["payload"]), dict)
    except ValueError:
        return False


def gate(environ: dict, verifier: SignatureVerifier) -> tuple[str, dict] | None:
    """Refuse what is not a well-formed signed Slack request before anything parses it.

    Returns ``(status, payload)`` to answer with, or None (the body is re-wound for Bolt).
    """
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "400 Bad Request", {"error": "bad Content-Length"}
    if length > MAX_BODY_BYTES:
        return "413 Payload Too Large", {"error": "request body too large"}
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "400 Bad Request", {"error": "request body is not UTF-8"}
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
    if not (timestamp.isdigit() and signature and verifier.is_valid(text, timestamp, signature)):
        return "401 Unauthorized", {"error": "invalid request signature"}
    if not _well_formed(text, environ.get("CONTENT_TYPE", "")):
        return "400 Bad Request", {"error": "malformed request body"}
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return None


def wsgi_app(slack: SlackApp | App, bot):
    """Route ``POST /slack/events`` to Bolt; ``GET /healthz`` says what is wrong, and the job
    queue's depth."""
    if isinstance(slack, App):
        slack = SlackApp.ready(bot.settings, slack)
    verifier = SignatureVerifier(slack.settings.slack_signing_secret)
    bolt: SlackRequestHandler | None = None

    def application(environ, start_response):
        nonlocal bolt
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/healthz" and method == "GET":
            store = bot.stores.for_team("health")
            redis_ok = bool(store and store.ping())
            health = {"ok": redis_ok and slack.app is not None, "redis": redis_ok}
            health["slack"] = "ok" if slack.app is not None else slack.problem
            with contextlib.suppress(Exception):
                health["queue_depth"] = bot.jobs.depth()
            status = "200 OK" if slack.app is not None else "503 Service Unavailable"
            return _reply(start_response, status, health)
        if path == "/slack/events" and method == "POST":
            refused = gate(environ, verifier)
            if refused is not None:
                return _reply(start_response, *refused)
        if slack.app is None:
            return _reply(start_response, "503 Service Unavailable", {"error": slack.problem})
        if bolt is None:
            bolt = SlackRequestHandler(slack.app, path="/slack/events")
        return bolt(environ, start_response)

    return application


def create_wsgi():
    """gunicorn's entry point: one app per gunicorn worker, enqueueing onto the shared queue."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from bot.bootstrap import build
    from bot.slack.app import create_app

    settings = Settings.from_env()
    try:
        problem = config_problem(settings)
        if problem:
            raise ConfigError(problem)
        bot = build(settings, local=False)
        slack = SlackApp(settings, lambda: create_app(settings, bot.deps())).start()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(APP_LOAD_ERROR) from None
    return wsgi_app(slack, bot)


def serve(settings: Settings) -> int:
    """``python -m bot web``: check the configuration, then run gunicorn in this process's place."""
    problem = config_problem(settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    argv = [sys.executable, "-m", "gunicorn", "bot.entry.web:create_wsgi()",
            "--bind", f"0.0.0.0:{settings.port}", "--workers", "1", "--threads", "8",
            "--timeout", "60", "--access-logfile", "-"]  # fmt: skip
    os.execv(sys.executable, argv)
    return 0
