"""Uninstall and revoked tokens: the workspace's tokens are deleted, and on uninstall its data.

Bolt acks these events before the listener runs (and skips ``authorize`` for them: the tokens
are already dead); the deletions are jobs like all other work after an ack.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.deps import deps_of


def on_app_uninstalled(context) -> None:
    deps_of(context).enqueue("uninstalled", team=context.team_id or "",
                             enterprise=context.enterprise_id)  # fmt: skip


def on_tokens_revoked(event: dict, context) -> None:
    tokens = event.get("tokens") or {}
    deps_of(context).enqueue("tokens_revoked", team=context.team_id or "",
                             enterprise=context.enterprise_id, bot=bool(tokens.get("bot")),
                             users=list(tokens.get("oauth") or []))  # fmt: skip


def register(app: App) -> None:
    app.event("app_uninstalled")(on_app_uninstalled)
    app.event("tokens_revoked")(on_tokens_revoked)
