"""``python -m bot shell``: the real Bolt app and handlers, driven from the terminal.

Typed lines become signed Slack requests (a channel message, or ``/digest …``) dispatched to the
same app the web process serves; the bot's Web API calls go to a local stand-in (``FakeSlack``)
and are printed as the bot would post them. Works on a pipe too, and exits at end of input.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import secrets
import sys
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.bootstrap import build
from bot.config import Settings
from bot.slack.app import create_app
from bot.slack.executor import TrackingExecutor
from bot.slack.fakeslack import TEAM_ID, Call, FakeSlack

CHANNEL = "C0SHELL"
USER = "U0YOU"
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample_article.txt"

NO_ANSWER = (
    "(no reply: I summarize links and article-length text, 600+ characters in 4+ sentences. "
    'For a multi-line article, put """ on a line before and after it; /digest help for more.)'
)
SHOWN_LOGGERS = (
    "bot.flows.sharing",
    "bot.slack.deps",
)  # what the shell tells you at INFO: skipped retries, deletions

BANNER = """Policy Digest shell: you are in #shell with the bot (no Slack account needed).
Paste a link or an article, or type /digest help. For a multi-line article, type \"\"\" on its
own line, paste, then \"\"\" again. :sample pastes the sample article. Ctrl-D quits."""


def blocks_to_text(blocks: list[dict], fallback: str = "") -> str:
    """Block Kit as plain terminal text (mrkdwn left as is; links shown as label <url>)."""
    lines: list[str] = []
    for block in blocks or []:
        if block.get("type") in ("section", "header") and block.get("text"):
            lines.append(block["text"].get("text", ""))
        elif block.get("type") == "context":
            lines.extend("  " + e.get("text", "") for e in block.get("elements", []))
        elif block.get("type") == "divider":
            lines.append("  ────")
    text = "\n".join(lines) if lines else fallback
    return _unlink(text)


def _unlink(text: str) -> str:
    import re

    return (
        re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 <\1>", text)
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
    )


class Shell:
    def __init__(self, settings: Settings, out=None, *, clock: bool = True) -> None:
        self.out = out or sys.stdout
        self.fake = FakeSlack().start()
        self.secret = secrets.token_hex(16)
        self.settings = replace(
            settings,
            slack_bot_token="xoxb-local-shell",
            slack_client_id="",  # the shell is one stand-in workspace, never OAuth installs
            slack_client_secret="",
            slack_signing_secret=self.secret,
            slack_api_url=self.fake.base_url,
        )
        self.executor = TrackingExecutor()
        self.bot = build(self.settings, local=True)
        self.bot.serve_jobs(poll_ms=100)  # the in-process worker, on the same queue code
        self.app = create_app(self.settings, self.bot.deps(),
                              listener_executor=self.executor)  # fmt: skip
        self.signer = SignatureVerifier(self.secret)
        self._run = secrets.token_hex(4)  # event ids unique across runs on the same data
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._notes = 0
        self.fake.listeners.append(self._show)
        self._log_handler = _ShellLog(self)
        for name in SHOWN_LOGGERS:
            logger = logging.getLogger(name)
            logger.addHandler(self._log_handler)
            logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
            logger.propagate = False
        self.clock = None
        if clock:
            from bot.entry.clock import start_background_clock

            self.clock = start_background_clock(self.bot.sweeper, teams=[TEAM_ID],
                                                feeds=self.bot.feeds)  # fmt: skip

    # -- output ---------------------------------------------------------------------------------

    def _show(self, call: Call) -> None:
        p = call.params
        if call.method == "chat.postMessage":
            where = " (in thread)" if p.get("thread_ts") else ""
            self._print(f"bot{where}: {blocks_to_text(p.get('blocks'), p.get('text', ''))}")
        elif call.method == "chat.update":
            self._print(
                f"bot (edited its message): {blocks_to_text(p.get('blocks'), p.get('text', ''))}"
            )
        elif call.method == "response_url":
            self._print(
                f"bot (only you can see this): {blocks_to_text(p.get('blocks'), p.get('text', ''))}"
            )
        elif call.method == "files.completeUploadExternal":
            where = " (in thread)" if p.get("thread_ts") else ""
            for spec in p.get("files") or []:
                self._print(f"bot{where}: {p.get('initial_comment', '')}\n{self._saved(spec)}")

    def _saved(self, spec: dict) -> str:
        """An uploaded file (the trend chart) saved under DATA_DIR, so you can open it."""
        upload = self.fake.uploads.get(str(spec.get("id")), {})
        path = self.settings.data_dir / "uploads" / f"{spec.get('id')}-{upload.get('filename')}"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(upload.get("data") or b"")
        except OSError as exc:
            return f"[image {spec.get('title')}: not saved ({exc})]"
        return f"[image {spec.get('title')}: {path}] {upload.get('alt_txt') or ''}"

    def _print(self, text: str) -> None:
        self.out.write(text.rstrip() + "\n\n")
        self.out.flush()

    # -- input ----------------------------------------------------------------------------------

    def _dispatch(self, body: str, content_type: str) -> dict:
        ts = str(int(time.time()))
        headers = {
            "content-type": content_type,
            "x-slack-request-timestamp": ts,
            "x-slack-signature": self.signer.generate_signature(timestamp=ts, body=body),
        }
        response = self.app.dispatch(BoltRequest(body=body, headers=headers))
        return {"status": response.status, "body": response.body}

    def message(self, text: str) -> None:
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        payload = {
            "token": "shell",
            "team_id": TEAM_ID,
            "api_app_id": "ASHELL",
            "type": "event_callback",
            "event_id": f"EvSHELL{self._run}{next(self._ids)}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": CHANNEL,
                "user": USER,
                "text": text,
                "ts": ts,
                "channel_type": "channel",
            },
        }
        self._dispatch(json.dumps(payload), "application/json")

    def command(self, line: str) -> None:
        name, _, text = line.partition(" ")
        form = {
            "token": "shell", "team_id": TEAM_ID, "channel_id": CHANNEL, "channel_name": "shell",
            "user_id": USER, "user_name": "you", "command": name, "text": text.strip(),
            "api_app_id": "ASHELL", "trigger_id": f"trigger{next(self._ids)}",
            "response_url": self.fake.response_url(f"cmd{next(self._ids)}"),
        }  # fmt: skip
        response = self._dispatch(urlencode(form), "application/x-www-form-urlencoded")
        if response["status"] == 404:
            self._print(f"(no such command: {name}; try /digest help)")
            return
        ack = response["body"]
        if ack:
            with contextlib.suppress(ValueError):
                ack = json.loads(ack).get("text", ack)
            self._print(f"bot (only you can see this): {_unlink(ack)}")

    def settle(self) -> None:
        """Wait until Bolt's listeners and the job queue are idle, so output keeps its order."""
        for _ in range(3):
            self.executor.wait_idle(120)
            self.bot.jobs.wait_idle(120)

    def feed(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        if line == ":sample":
            line = SAMPLE.read_text(encoding="utf-8")
            self._print(f"you: (pasted {SAMPLE.name}, {len(line.split())} words)")
        if line.startswith("/"):
            self.command(line)
            self.settle()
            return
        calls, notes = len(self.fake.calls), self._notes
        self.message(line)
        self.settle()
        if len(self.fake.calls) == calls and self._notes == notes:
            self._print(NO_ANSWER)

    def run(self, stream) -> int:
        interactive = stream.isatty()
        if interactive:
            self._print(BANNER)
        buffer: list[str] | None = None
        while True:
            if interactive:
                self.out.write("you> " if buffer is None else "...> ")
                self.out.flush()
            line = stream.readline()
            if not line:
                break
            if line.strip() == '"""':
                if buffer is None:
                    buffer = []
                else:
                    self.feed("\n".join(buffer))
                    buffer = None
                continue
            if buffer is not None:
                buffer.append(line.rstrip("\n"))
            else:
                self.feed(line)
        if buffer:
            self.feed("\n".join(buffer))
        self.settle()
        if self.clock is not None:
            self.clock.shutdown(wait=False)
        self.bot.close()
        self.fake.stop()
        for name in SHOWN_LOGGERS:
            logger = logging.getLogger(name)
            logger.removeHandler(self._log_handler)
            logger.propagate = True
        return 0


class _ShellLog(logging.Handler):
    """Shows the bot's INFO lines about your messages (a skipped Slack retry…) in the shell."""

    def __init__(self, shell: Shell) -> None:
        super().__init__(logging.INFO)
        self.shell = shell

    def emit(self, record: logging.LogRecord) -> None:
        self.shell._notes += 1
        self.shell._print(f"({record.levelname.lower()}: {record.getMessage()})")


def run(settings: Settings) -> int:
    sys.stdin.reconfigure(errors="replace")  # bytes that aren't UTF-8 arrive as U+FFFD
    return Shell(settings).run(sys.stdin)
