"""Slack Web API clients on ``SLACK_API_URL``, with the retry policy each use needs."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.config import Settings

# slack_sdk logs request and response bodies at DEBUG, and oauth.v2.access's body is a token:
# its own ``level`` (not the effective one) gates that, so INFO here keeps tokens out of logs.
_API_LOG = logging.getLogger("bot.slack_api")
_API_LOG.setLevel(logging.INFO)


def make_client(
    settings: Settings, *, token: str | None = None, retry_connection_errors: bool = True
) -> WebClient:
    """A client that waits out 429s (``Retry-After``, at most twice per call); ``token`` (a
    workspace's, from ``bot.slack.workspaces``) or else ``SLACK_BOT_TOKEN`` (or none: OAuth mode).

    Digest posting passes ``retry_connection_errors=False``: a re-send after a dropped
    connection could double-post a message Slack already accepted, so it looks in history instead.
    """
    handlers = [RateLimitErrorRetryHandler(max_retry_count=2)]
    if retry_connection_errors:
        handlers.append(ConnectionErrorRetryHandler(max_retry_count=2))
    return WebClient(
        token=token or settings.slack_bot_token or None,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=handlers,
        logger=_API_LOG,
    )


def slack_error(exc: SlackApiError) -> str:
    """The ``error`` code Slack returned (``not_in_channel``…), for logs and hints."""
    return (
        str(exc.response.get("error", "unknown_error"))
        if exc.response is not None
        else "unknown_error"
    )
