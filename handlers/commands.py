"""The ``/digest`` slash command: parse, ack at once (no I/O before it), then enqueue.

Slack sends the command text entity-escaped: it is decoded once here (``from_slack``), and
every answer is escaped once on the way out.
"""

from __future__ import annotations

import dataclasses
import time

from slack_bolt import App

from bot.slack.deps import deps_of
from digests.commands import help_text, parse_command
from digests.errors import InputError
from digests.render import escape
from digests.text import from_slack


def on_digest(ack, command: dict, respond, context) -> None:
    try:
        cmd = parse_command(from_slack(command.get("text", "")))
    except InputError as exc:
        ack(text=escape(exc.message))
        return
    if cmd.name == "help":
        ack(text=escape(help_text(cmd.rest)))
        return
    if cmd.name == "summarize":
        ack(text="Summarizing…")
    else:
        ack()
    deps = deps_of(context)
    queued = deps.enqueue(
        "command",
        team=context.team_id or command.get("team_id", ""),
        channel=command.get("channel_id", ""),
        user=command.get("user_id", ""),
        response_url=command.get("response_url", ""),
        command=dataclasses.asdict(cmd),
        at=time.time(),
    )
    if not queued:
        respond(text=escape(deps.busy_text()))


def register(app: App) -> None:
    app.command("/digest")(on_digest)
