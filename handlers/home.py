"""The App Home tab: each user sees their own shares (and nobody else's)."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.deps import deps_of


def on_home_opened(event: dict, context) -> None:
    if event.get("tab") != "home":
        return
    deps_of(context).enqueue("home", team=context.team_id or "", user=event.get("user", ""))


def register(app: App) -> None:
    app.event("app_home_opened")(on_home_opened)
