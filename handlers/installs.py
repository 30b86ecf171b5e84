"""Uninstall and revoked tokens: the workspace's tokens are deleted, and on uninstall its data.

Bolt acks these events before the listener runs (and skips ``authorize`` for them: the tokens
are already dead), so the deletions run here, in Bolt's listener thread, not on the ack path.
They are few and must not be refused by a busy work pool.
"""

from __future__ import annotations

from slack_bolt import App


def on_app_uninstalled(context) -> None:
    context["services"].workspaces.uninstalled(context.team_id or "", context.enterprise_id)


def on_tokens_revoked(event: dict, context) -> None:
    tokens = event.get("tokens") or {}
    context["services"].workspaces.tokens_revoked(
        context.team_id or "",
        context.enterprise_id,
        bot=bool(tokens.get("bot")),
        users=list(tokens.get("oauth") or []),
    )


def register(app: App) -> None:
    app.event("app_uninstalled")(on_app_uninstalled)
    app.event("tokens_revoked")(on_tokens_revoked)
