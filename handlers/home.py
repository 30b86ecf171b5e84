"""The App Home tab: each user sees their own shares (and nobody else's)."""

from __future__ import annotations

from slack_bolt import App


def on_home_opened(event: dict, client, context) -> None:
    if event.get("tab") != "home":
        return
    services = context["services"]
    user = event.get("user", "")
    services.pool.submit(
        lambda: services.publish_home(client, team=context.team_id or "", user=user),
        context="app home",
    )


def register(app: App) -> None:
    app.event("app_home_opened")(on_home_opened)
