"""The ``/digest`` grammar, parsed into a small command object.

Texts here are plain (``<link>`` is literal): whoever posts them escapes them once.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from digests.errors import InputError
from digests.summarize import METHODS

HELP = """*Policy Digest* — summaries and topic tags for policy news, and scheduled digests.
• `/digest summarize <link or text> [--sentences N] [--method NAME]` — just for you, not shared
• `/digest recent [topic]` — what this channel shared lately
• `/digest forget <link>` — remove an article from this channel (a pasted text: its thread's link)
• `/digest topics` — the topic list · `/digest topics add <id> "phrase", "phrase"` · `/digest topics remove <id>`
• `/digest auto links|all|off` — what makes me summarize here (default `all`: links and pasted articles)
• `/digest schedule weekly mon 09:00 [America/New_York] [topics:export_controls,sanctions] [empty:note|skip]`
• `/digest schedule daily 08:30 [Europe/Brussels] [weekdays]` · `/digest schedule` · `/digest schedule off`
• `/digest preview` — the next digest, just for you · `/digest now` — post the digest now
• `/digest follow <feed or site URL>` · `/digest following` · `/digest unfollow <URL or number>` — feeds summarized into this channel's digest
• `/digest alert <topic id or "phrase">` · `/digest alerts` · `/digest alert off <topic id or "phrase">` — post matching new items at once
Paste a link in a channel I'm in (or mention me) and I'll reply in thread; in a thread, `@Policy Digest forget this` forgets its article.
In the local shell, paste a multi-line article between two lines of `\"\"\"`."""

SUBCOMMANDS = [
    "help",
    "summarize",
    "recent",
    "forget",
    "topics",
    "auto",
    "schedule",
    "preview",
    "now",
    "follow",
    "following",
    "unfollow",
    "alert",
    "alerts",
]


@dataclass
class Command:
    """A parsed ``/digest`` invocation; ``rest`` keeps the raw argument text."""

    name: str
    rest: str = ""
    args: list[str] = field(default_factory=list)
    sentences: int | None = None
    method: str | None = None


_OPTION = re.compile(r"--(sentences|method)(?:=|\s+)(\S+)")


def help_text(asked: str = "") -> str:
    """The help, opening with what was wrong when ``asked`` is not a subcommand we know."""
    asked = asked.strip()
    if not asked or asked.lower() == "help":
        return HELP
    word = asked.split()[0]
    return f"I don't know `/digest {word[:40]}`. Here is what I do:\n{HELP}"


def parse_command(text: str) -> Command:
    """Parse the text after ``/digest``; unknown input becomes ``help`` (``rest`` says what)."""
    text = (text or "").strip()
    name, _, rest = text.partition(" ")
    name = name.lower()
    rest = rest.strip()
    if name not in SUBCOMMANDS:
        return Command("help", rest=text)
    command = Command(name, rest=rest)
    if name == "summarize":
        for option, value in _OPTION.findall(rest):
            if option == "sentences":
                if not value.isdigit() or not 1 <= int(value) <= 10:
                    raise InputError("bad_option", "--sentences takes a number from 1 to 10.")
                command.sentences = int(value)
            else:
                command.method = value.lower()
                if command.method not in METHODS:
                    raise InputError(
                        "bad_option",
                        f"There is no method `{value[:40]}`; choose one of: {', '.join(METHODS)}.",
                    )
        command.rest = _OPTION.sub("", rest).strip()
        if not command.rest:
            raise InputError("empty", "Give me a link or some text: `/digest summarize <link>`.")
        return command
    try:
        command.args = shlex.split(rest)
    except ValueError:
        command.args = rest.split()
    return command


def parse_topic_phrases(rest: str) -> tuple[str, list[str]]:
    """``add <id> "phrase", "phrase"`` → (id, phrases); raises a friendly InputError."""
    match = re.match(r"^\s*([a-z][a-z0-9_]{1,39})\s+(.+)$", rest, re.S)
    if not match:
        raise InputError(
            "bad_topic", 'Use `/digest topics add <id> "phrase", "phrase"` (ids: a-z, 0-9, _).'
        )
    topic, tail = match.groups()
    phrases = [p.strip() for p in re.findall(r'"([^"]+)"|“([^”]+)”', tail) for p in p if p]
    if not phrases:
        phrases = [p.strip() for p in tail.split(",") if p.strip()]
    phrases = [p for p in phrases if 2 <= len(p) <= 80]
    if not phrases:
        raise InputError("bad_topic", "Give at least one phrase in quotes, 2 to 80 characters.")
    return topic, phrases
