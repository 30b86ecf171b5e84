"""The "Summarize this message" message shortcut: an ephemeral summary, not a share."""

from __future__ import annotations

from slack_bolt import App

from digests.commands import Command
from digests.reply import BUSY
from digests.text import from_slack
from digests.urls import find_urls


def on_summarize_message(ack, body: dict, respond, client, context) -> None:
    ack()
    services = context["services"]
    text = (body.get("message") or {}).get("text") or ""
    if not text.strip():
        respond(text="That message has no text or link I can summarize.", response_type="ephemeral")
        return

    urls = find_urls(text)  # Slack markup: read links first, then decode the text once
    rest = urls[0] if urls else from_slack(text)

    def work() -> None:
        services.run_command(
            Command("summarize", rest=rest),
            client=client,
            respond=respond,
            team=context.team_id or (body.get("team") or {}).get("id", ""),
            channel=(body.get("channel") or {}).get("id", ""),
            user=(body.get("user") or {}).get("id", ""),
        )

    if not services.pool.submit(work, context="summarize shortcut"):
        respond(text=BUSY, response_type="ephemeral")


def register(app: App) -> None:
    app.shortcut("summarize_message")(on_summarize_message)
