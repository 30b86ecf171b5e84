"""Reactions on the bot's summary replies: counted, so the digest ranks what the team liked."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.deps import deps_of


def on_reaction_added(event: dict, context) -> None:
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
