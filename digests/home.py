"""The workspace part of the App Home tab: digest schedules with their next run, followed
feeds, and the topics the bot tags. Pure Block Kit; channel and topic text escaped once."""

from __future__ import annotations

from digests.render import escape

SECTION_MAX = 3000
MAX_LINES = 40  # per list: a workspace with hundreds of schedules gets the soonest ones


def _sections(title: str, lines: list[str], empty: str, more_hint: str) -> list[dict]:
    """A header line and the list, split into sections under Slack's 3,000 characters."""
    shown, rest = lines[:MAX_LINES], len(lines) - MAX_LINES
    if rest > 0:
        shown.append(f"_…and {rest} more; {more_hint}_")
    blocks, chunk = [], f"*{title}*"
    for line in shown or [f"_{empty}_"]:
        line = line if len(line) < SECTION_MAX - 2 else line[: SECTION_MAX - 3] + "…"
        if len(chunk) + 1 + len(line) > SECTION_MAX:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    return blocks


def workspace_blocks(
    schedules: list[tuple[str, str]],
    topics: list[tuple[str, str, int]],
    feeds: list[tuple[str, str]] | None = None,
) -> list[dict]:
    """``schedules``: (channel id, description with its next run), soonest first;
    ``topics``: (id, label, phrases this workspace added); ``feeds``: (channel id, feed
    title or URL), or None where feeds are not available (the part is left out)."""
    blocks: list[dict] = [
        {"type": "divider"},
        {"type": "header", "text": {"type": "plain_text", "text": "This workspace"}},
    ]
    blocks += _sections(
        "Scheduled digests",
        [f"• <#{channel}> — {escape(text)}" for channel, text in schedules],
        "No channel has a digest schedule. `/digest schedule weekly mon 09:00` sets one.",
        "`/digest schedule` in a channel shows its own.",
    )
    if feeds is not None:
        blocks += _sections(
            "Followed feeds",
            [f"• <#{channel}> — {escape(title)}" for channel, title in feeds],
            "No feeds followed. `/digest follow <feed URL>` follows one in a channel.",
            "`/digest following` in a channel lists its own.",
        )
    labels = [
        f"{escape(label)}" + (f" _(+{added} phrases added here)_" if added else "")
        for _tid, label, added in topics
    ]
    blocks += _sections(
        "Topics I tag",
        [" · ".join(labels)] if labels else [],
        "No topics configured.",
        "`/digest topics` lists them with their phrases.",
    )
    return blocks
