"""Slack Web API clients on ``SLACK_API_URL``, and the few helpers that post, update or look
up messages. A job gets its workspace's client from one place: ``bot.slack.workspaces``.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.config import Settings

log = logging.getLogger(__name__)
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


def post(
    client: WebClient,
    channel: str,
    thread_ts: str | None,
    text: str,
    blocks: list[dict],
    metadata: dict | None = None,
) -> str | None:
    """Post a message (links not unfurled); its ts, or None (logged) when Slack refused."""
    try:
        resp = client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=text, blocks=blocks,
            unfurl_links=False, unfurl_media=False, metadata=metadata,
        )  # fmt: skip
        return resp["ts"]
    except SlackApiError as exc:
        log.error("chat.postMessage failed in %s: %s", channel, slack_error(exc))
        return None


def update(client: WebClient, channel: str, ts: str, text: str, blocks: list[dict]) -> None:
    try:
        client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        log.error("chat.update failed in %s: %s", channel, slack_error(exc))


def permalink(client: WebClient, channel: str, ts: str) -> str:
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
    except SlackApiError as exc:
        log.warning("chat.getPermalink failed in %s: %s", channel, slack_error(exc))
        return ""


def find_in_thread(
    client: WebClient, channel: str, thread_ts: str, event_type: str, key: str
) -> str | None:
    """The ts of the bot's reply in a thread whose metadata names ``key`` (a job re-run after
    a crash looks here before posting again)."""
    cursor = None
    for _ in range(5):
        resp = client.conversations_replies(channel=channel, ts=thread_ts, limit=200,
                                            include_all_metadata=True, cursor=cursor)  # fmt: skip
        for message in resp.get("messages", []):
            meta = message.get("metadata") or {}
            if (
                meta.get("event_type") == event_type
                and (meta.get("event_payload") or {}).get("key") == key
            ):
                return message["ts"]
        cursor = (resp.get("response_metadata") or {}).get("next_cursor")
        if not (resp.get("has_more") and cursor):
            return None
    return None
