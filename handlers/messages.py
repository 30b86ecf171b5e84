"""Message and mention listeners: enqueue the message as a job, never do the work here."""

from __future__ import annotations

import contextlib
import re

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.slack.deps import Deps, deps_of
from digests.reply import error_message

_MENTION = re.compile(r"<@[A-Z0-9]+>")
_IGNORED_SUBTYPES = {"bot_message", "message_changed", "channel_join", "channel_leave",
                     "channel_topic", "channel_purpose", "channel_name"}  # fmt: skip


def on_message(event: dict, body: dict, client, context) -> None:
    """Links or article-like text in a channel message get a summary in thread."""
    deps = deps_of(context)
    subtype = event.get("subtype")
    deleted_ts = _deleted_ts(event)
    if deleted_ts:
        deps.enqueue("deleted", team=context.team_id or "", channel=event["channel"],
                     ts=deleted_ts)  # fmt: skip
        return
    if subtype in _IGNORED_SUBTYPES or event.get("bot_id"):
        return
    text = event.get("text") or ""
    if context.bot_user_id and f"<@{context.bot_user_id}>" in text:
        return  # the app_mention listener answers this one
    _hand_off(deps, event, body, client, context, mention=False)


def _deleted_ts(event: dict) -> str | None:
    """The ts of a deleted message: ``message_deleted``, or a thread parent that became a
    tombstone (every shared message is a parent: the bot replied in its thread)."""
    if event.get("subtype") == "message_deleted":
        return event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
    message = event.get("message") or {}
    if event.get("subtype") == "message_changed" and message.get("subtype") == "tombstone":
        return message.get("ts")
    return None


def on_mention(event: dict, body: dict, client, context) -> None:
    """``@Policy Digest <link or text>``: the same as a share, whatever the channel's auto mode."""
    if event.get("bot_id"):
        return
    _hand_off(deps_of(context), event, body, client, context, mention=True)


def _hand_off(deps: Deps, event: dict, body: dict, client, context, *, mention: bool) -> None:
    text = _MENTION.sub("", event.get("text") or "").strip() if mention else event.get("text") or ""
    channel, ts = event.get("channel", ""), event.get("ts", "")
    team = context.team_id or body.get("team_id", "")
    if not deps.first_delivery(team, body.get("event_id")):
        return  # a Slack retry of an event already queued
    queued = deps.enqueue("message", team=team, channel=channel, user=event.get("user", ""),
                          text=text, ts=ts, thread_ts=event.get("thread_ts"),
                          mention=mention)  # fmt: skip
    if not queued:
        reply_text, blocks = error_message(deps.busy_text())
        with contextlib.suppress(SlackApiError):
            client.chat_postMessage(
                channel=channel,
                thread_ts=event.get("thread_ts") or ts,
                text=reply_text,
                blocks=blocks,
            )


def register(app: App) -> None:
    app.event("message")(on_message)
    app.event("app_mention")(on_mention)
