"""Block Kit for feeds and alerts: an alert, the hour's "N more", ``following`` and ``alerts``.

Every title, feed name, phrase and error text comes from outside (feeds, pages, users) and goes
through ``digests.render``'s ``escape``/``link`` exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from digests.alerts import AlertRule
from digests.digest import make_gist
from digests.render import escape, link

SECTION_MAX = 3000
MORE_LISTED = 10
TITLE_MAX = 200


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, SECTION_MAX)}]}


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_MAX]}}


@dataclass(frozen=True)
class AlertItem:
    """What an alert shows about the item that matched."""

    title: str
    url: str | None
    summary: list[str]
    tags: list[str]  # labels, strongest first
    feed: str | None = None  # the feed's title, for an item that came from one
    permalink: str | None = None  # the summary thread, for a shared link
    sharer: str | None = None  # user id, for a shared link


def alert_message(item: AlertItem, rule: AlertRule) -> tuple[str, list[dict]]:
    """One alert: the rule that matched, the item's title (linked), its gist and where from."""
    title = _clip(item.title or item.url or "Untitled", TITLE_MAX)
    head = f":bell: *{link(item.url, title)}*"
    gist = make_gist(item.summary)
    blocks = [_section(f"{head}\n{escape(gist)}" if gist else head)]
    bits = [f"Alert: {escape(rule.label)}"]
    if item.feed:
        bits.append(f"from feed _{escape(_clip(item.feed, 80))}_")
    if item.sharer:
        bits.append(f"shared by <@{item.sharer}>" if item.sharer.isalnum() else "shared here")
    if item.tags:
        bits.append(escape(", ".join(item.tags[:4])))
    if item.permalink and item.permalink.startswith("https://"):
        bits.append(link(item.permalink, "thread"))
    blocks.append(_context(" · ".join(bits)))
    text = _clip(f"Alert ({rule.label}): {item.title or item.url or 'Untitled'}", 300)
    return escape(text), blocks


def more_message(titles: Sequence[tuple[str, str | None]], cap: int) -> tuple[str, list[dict]]:
    """The one message of an hour's alerts past the cap: "N more", the first few listed."""
    n = len(titles)
    lines = [f"• {link(url, _clip(title, TITLE_MAX))}" for title, url in titles[:MORE_LISTED]]
    if n > MORE_LISTED:
        lines.append(f"…and {n - MORE_LISTED} more")
    head = (
        f":bell: *{n} more alert{'s' if n != 1 else ''} this hour* "
        f"(this channel gets {cap} a hour; the rest are listed here)"
    )
    blocks = [_section(head), _section("\n".join(lines) or "_(none)_")]
    return f"{n} more alert{'s' if n != 1 else ''} this hour", blocks


@dataclass(frozen=True)
class FollowRow:
    """One line of ``following``."""

    title: str
    url: str
    last_poll: float | None
    result: str  # a short human phrase: "ok, 3 new", "not modified", "failing: …"
    items_7d: int
    failing: bool = False


def _ago(ts: float | None, now: float) -> str:
    if not ts:
        return "not polled yet"
    secs = max(0, int(now - ts))
    if secs < 90:
        return "just now"
    if secs < 90 * 60:
        return f"{secs // 60} min ago"
    if secs < 36 * 3600:
        return f"{secs // 3600} h ago"
    return datetime.fromtimestamp(ts, UTC).strftime("%d %b %Y %H:%M UTC")


def following_message(rows: Sequence[FollowRow], now: float) -> tuple[str, list[dict]]:
    """The channel's feeds, numbered (``unfollow <number>`` uses these numbers)."""
    if not rows:
        text = "This channel follows no feeds. Add one: `/digest follow <feed or site URL>`."
        return text, [_section(text)]
    blocks = [_section(f"*Feeds this channel follows* ({len(rows)})")]
    for n, row in enumerate(rows, 1):
        mark = ":warning: *failing* · " if row.failing else ""
        head = f"{n}. *{link(row.url, _clip(row.title, TITLE_MAX))}*\n{escape(row.url)}"
        meta = (
            f"{mark}last poll {_ago(row.last_poll, now)}: {escape(_clip(row.result, 300))} · "
            f"{row.items_7d} item{'s' if row.items_7d != 1 else ''} in the last 7 days"
        )
        blocks += [_section(head), _context(meta)]
        if len(blocks) >= 47:
            blocks.append(_context(f"…and {len(rows) - n} more"))
            break
    return f"This channel follows {len(rows)} feed{'s' if len(rows) != 1 else ''}.", blocks


def alerts_message(rules: Sequence[AlertRule], cap: int) -> str:
    if not rules:
        return (
            "No alerts here. Add one: `/digest alert export_controls` or "
            '`/digest alert "entity list"`.'
        )
    listed = ", ".join(escape(r.label) for r in rules)
    return f"Alerts in this channel (at most {cap} an hour): {listed}."


def followed_message(title: str, url: str, new_items: int, status_note: str = "") -> str:
    """The answer to ``follow``: the feed's title and URL, and what the first poll found."""
    found = (
        f"{new_items} recent item{'s' if new_items != 1 else ''} will be in the next digest"
        if new_items
        else "nothing recent to add to the digest yet"
    )
    note = f" {escape(status_note)}" if status_note else ""
    return (
        f"Following *{link(url, _clip(title, TITLE_MAX))}* ({escape(url)}): {found}; "
        f"alerts only for what it publishes from now on.{note}"
    )
