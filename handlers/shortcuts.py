"""The "Summarize this message" message shortcut: an ephemeral summary, not a share (its
"Share in thread" button makes it one: ``handlers.actions``)."""

from __future__ import annotations

import dataclasses
import time

from slack_bolt import App

from bot.slack.deps import deps_of
from digests.commands import Command
from digests.render import escape
from digests.text import from_slack
from digests.urls import find_urls


def on_summarize_message(ack, body: dict, respond, context) -> None:
    ack()
    text = (body.get("message") or {}).get("text") or ""
    if not text.strip():
        respond(text="That message has no text or link I can summarize.", response_type="ephemeral")
        return
    urls = find_urls(text)  # Slack markup: read links first, then decode the text once
    rest = urls[0] if urls else from_slack(text)
    deps = deps_of(context)
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id", "")
    queued = deps.enqueue(
        "command",
        team=context.team_id or (body.get("team") or {}).get("id", ""),
        channel=channel,
        user=(body.get("user") or {}).get("id", ""),
        response_url=body.get("response_url", ""),
        command=dataclasses.asdict(Command("summarize", rest=rest)),
        at=time.time(),
        share={"c": channel, "ts": message.get("ts", ""), "th": message.get("thread_ts") or ""},
    )
    if not queued:
        respond(text=escape(deps.busy_text()), response_type="ephemeral")


def register(app: App) -> None:
    app.shortcut("summarize_message")(on_summarize_message)
