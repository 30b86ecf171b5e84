"""Block Kit for the bot's replies: a summary, "already summarized", progress and errors.

Every field, the top-level ``text`` fallback included, is mrkdwn: user and page text goes in
through ``escape`` (or ``link``) exactly once, here, and nowhere else.
"""

from __future__ import annotations

from digests.feedback import feedback_actions
from digests.models import SharedItem
from digests.render import escape, link
from digests.topics.shown import shown_tags

SECTION_MAX = 3000
CONTEXT_MAX = 2000


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def tags_line(topics: list[dict], evidence: bool = True) -> str:
    """``Export controls (“entity list”, “BIS”) · Tariffs (“Section 301”)`` — why each tag.

    The article's one tag list (:func:`shown_tags`), as the digest, JSON and CLI show it.
    """
    parts = []
    for tag in shown_tags(topics):
        part = f"*{escape(tag['label'])}*"
        if evidence and tag.get("evidence"):
            quoted = ", ".join(f"“{escape(e)}”" for e in tag["evidence"][:3])
            part += f" ({quoted})"
        parts.append(part)
    return " · ".join(parts)


def summary_message(result: dict, feedback_key: str | None = None) -> tuple[str, list[dict]]:
    """The thread reply for one summarized article: (fallback text, blocks).

    ``feedback_key`` (the stored article's key) adds the 👍 / 👎 buttons for its tags.
    """
    title = result.get("title") or "Untitled"
    meta = " · ".join(escape(x) for x in (result.get("site"), result.get("author")) if x)
    if result.get("published"):
        meta = (
            f"{meta} · {escape(result['published'][:10])}"
            if meta
            else escape(result["published"][:10])
        )
    head = link(result.get("url"), title) if result.get("url") else f"*{escape(title)}*"
    if meta:
        head += f"\n{meta}"
    bullets = "\n".join(f"• {escape(s)}" for s in result.get("summary", []))
    blocks: list[dict] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(head, SECTION_MAX)}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _clip(bullets or "_(no text)_", SECTION_MAX)},
        },
    ]
    if result.get("topics"):
        line = "Topics: " + tags_line(result["topics"])
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(line, CONTEXT_MAX)}]}
        )
    notes = [escape(n) for n in result.get("notes", [])]
    if notes:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _clip(" ".join(notes), CONTEXT_MAX)}],
            }
        )
    if feedback_key and result.get("topics"):
        shown = [tag["topic"] for tag in shown_tags(result["topics"])]
        blocks.append(feedback_actions(feedback_key, shown))
    fallback = f"{title}: " + " ".join(result.get("summary", []))
    return escape(_clip(fallback, SECTION_MAX)), blocks


def progress_message(label: str) -> tuple[str, list[dict]]:
    text = escape(f"Summarizing {_clip(label, 200)}…")
    return text, [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}]


def already_message(title: str, permalink: str) -> tuple[str, list[dict]]:
    where = link(permalink, "in this thread") if permalink else "earlier in this channel"
    text = f"Already summarized {where}: *{escape(title)}*"
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_MAX)}}]


def error_message(message: str) -> tuple[str, list[dict]]:
    text = f":warning: {escape(message)}"
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_MAX)}}]


def recent_message(items: list[SharedItem], topic: str | None) -> str:
    """``/digest recent``: one line per article (title link, tags, thread)."""
    if not items:
        scope = f" about `{escape(topic)}`" if topic else ""
        return f"Nothing shared in this channel{scope} in the last 30 days."
    lines = [f"*Recently shared here{f' — {escape(topic)}' if topic else ''}:*"]
    for item in items:
        tags = ", ".join(escape(t.label) for t in shown_tags(item.topics))
        thread = f" · {link(item.permalink, 'thread')}" if item.permalink else ""
        title = link(item.url, item.title or "Untitled")
        lines.append(f"• {title}{' — ' + tags if tags else ''}{thread}")
    return _clip("\n".join(lines), SECTION_MAX)


HOME_MAX_BLOCKS = 100


def home_view(items: list[tuple[str, SharedItem]], workspace: list[dict] | None = None) -> dict:
    """The App Home tab: what this user shared, where, and a link to each thread; then the
    ``workspace`` blocks (schedules, feeds, topics: ``digests.home``), all within 100 blocks.

    Only the user's own shares, so nothing leaks from a channel they are not in.
    """
    workspace = (workspace or [])[: HOME_MAX_BLOCKS // 2]
    budget = HOME_MAX_BLOCKS - len(workspace)
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Your shared articles"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            "What you shared lately, newest first. Each is in its channel's digest; "
            + escape("`/digest forget <link>` in that channel takes one out."))}]},
    ]  # fmt: skip
    if not items:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": (
            "Nothing yet. Paste a link in a channel I'm in, and I'll summarize it in thread.")}})  # fmt: skip
    for channel, item in items:
        if len(blocks) + 2 > budget:
            break
        tags = ", ".join(escape(t.label) for t in shown_tags(item.topics))
        where = f"in <#{channel}>" + (
            f" · {link(item.permalink, 'thread')}" if item.permalink else ""
        )
        gist = escape(item.summary[0]) if item.summary else ""
        text = f"*{link(item.url, item.title or 'Untitled')}*\n{gist}"
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_MAX)}}
        )
        meta = " · ".join(x for x in (where, tags) if x)
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(meta, CONTEXT_MAX)}]}
        )
    return {"type": "home", "blocks": blocks + workspace}
