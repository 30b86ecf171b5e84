"""Reactions: the trigger reaction (:memo: by default) on any message summarizes it in its
thread, as a share by the person who reacted; any other reaction on the bot's summary replies
is counted, so the digest ranks what the team liked."""

from __future__ import annotations

import contextlib

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.slack.deps import deps_of
from digests.render import escape


def on_reaction_added(event: dict, body: dict, client, context) -> None:
    deps = deps_of(context)
    item = event.get("item") or {}
    mine = event.get("item_user") == context.bot_user_id  # the bot's replies: only counted
    if item.get("type") == "message" and event.get("reaction") == deps.reaction and not mine:
        team = context.team_id or body.get("team_id", "")
        if not deps.first_delivery(team, body.get("event_id")):
            return  # a Slack retry of an event already queued
        queued = deps.enqueue("share_message", team=team, channel=item.get("channel", ""),
                              ts=item.get("ts", ""), user=event.get("user", ""),
                              claim=body.get("event_id") or event.get("event_ts", ""))  # fmt: skip
        if not queued:
            with contextlib.suppress(SlackApiError):
                client.chat_postEphemeral(channel=item.get("channel", ""),
                                          user=event.get("user", ""),
                                          text=escape(deps.busy_text()))  # fmt: skip
        return
    _count(event, context, +1)


def on_reaction_removed(event: dict, context) -> None:
    _count(event, context, -1)


def _count(event: dict, context, delta: int) -> None:
    item = event.get("item") or {}
    if item.get("type") != "message" or event.get("item_user") != context.bot_user_id:
        return
    deps_of(context).enqueue("reaction", team=context.team_id or "", channel=item["channel"],
                             ts=item["ts"], delta=delta)  # fmt: skip


def register(app: App) -> None:
    app.event("reaction_added")(on_reaction_added)
    app.event("reaction_removed")(on_reaction_removed)
