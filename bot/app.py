"""The one Bolt app factory behind every mode: web, Socket Mode, the shell and the tests."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.config import Settings
from bot.services import Services
from handlers import commands, messages

log = logging.getLogger(__name__)


def make_client(settings: Settings, *, retry_connection_errors: bool = True) -> WebClient:
    """A Web API client on ``SLACK_API_URL`` that waits out 429s (``Retry-After``).

    Digest posting passes ``retry_connection_errors=False``: a re-send after a dropped
    connection could double-post a message Slack already accepted.
    """
    handlers = [RateLimitErrorRetryHandler(max_retry_count=3)]
    if retry_connection_errors:
        handlers.append(ConnectionErrorRetryHandler(max_retry_count=2))
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=handlers,
    )


def create_app(
    settings: Settings, services: Services, *, listener_executor: Executor | None = None
) -> App:
    """Build the Bolt app; ``App`` calls ``auth.test`` here, once, not on the first request.

    The token comes with ``client`` (so every Web API call uses ``SLACK_API_URL``).
    """
    app = App(
        signing_secret=settings.slack_signing_secret,
        client=make_client(settings),
        process_before_response=False,
        listener_executor=listener_executor,
        logger=logging.getLogger("slack_bolt"),
    )

    @app.middleware
    def provide_services(context, next) -> None:  # noqa: A002 (Bolt's argument name)
        context["services"] = services
        next()

    messages.register(app)
    commands.register(app)
    return app
