"""Rendering a :class:`~digests.digest.Digest` to Slack Block Kit parts, Markdown and JSON.

A digest fits on a screen: at most ``MAX_MESSAGES`` messages however big the period. The parent
has the headline numbers (stories, shares, per-topic counts with the change since the previous
period); the bot posts the rest as thread replies: one part per busiest topic (its ``top``
stories in full, the rest as one headlines-only line "+23 more: …"), then one "Also this week"
part with every other topic as a line of headlines. The Markdown and JSON exports keep every
story. Every part keeps to Block Kit's hard limits (50 blocks, section text 3000 chars, header
150) and to a softer budget of our own (``PART_MAX_CHARS``) because whole messages fail well below
the sum of the per-block limits. :func:`check_blocks` reports violations so tests anywhere can
assert on them.

User-provided text (titles, gists, outlet names, labels) is escaped for mrkdwn (``&``, ``<``,
``>``), so a title such as "<!channel> Tariffs & you" can neither ping anyone nor break a link.
Each part's ``text`` (the notification fallback) is mrkdwn too and escaped the same way. ``escape``
and ``link`` are the project's one escaping helper: the bot's replies use them as well.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from digests.changes import change_text
from digests.digest import Digest, Link, Section, Story, StoryItem
from digests.schedule import MONTH_NAMES, format_local
from digests.topics.shown import shown_tags

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_BLOCK_ID = 255
# Our own budgets per message, well inside Slack's.
PART_MAX_CHARS = 12_000
MAX_MESSAGES = 6  # a digest is at most this many messages, however big the period
TOP_STORIES = 5  # stories shown in full per topic; the rest are headlines
HEADLINE_MAX_CHARS = 90
ALSO_LINE_MAX_CHARS = 600
TITLE_MAX_CHARS = 250
GIST_MAX_CHARS = 600
URL_MAX_CHARS = 1_000
MAX_ALSO = 5
MAX_SHARERS = 5
FALLBACK_MAX_CHARS = 300
_USER_ID = re.compile(r"^[UWB][A-Z0-9]{1,31}$")


class Part(NamedTuple):
    """One Slack message: ``text`` is the notification/fallback, ``blocks`` the layout."""

    text: str
    blocks: list[dict[str, Any]]


# ---------------------------------------------------------------------------------------------
# Text helpers


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis; applied *before* escaping so no entity or link
    is ever cut in half."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(",;:.-–—") + "…"


def _safe_url(url: str | None) -> str | None:
    """A URL usable inside ``<url|label>``: http(s) only, no characters that end the link."""
    if not url:
        return None
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")) or len(url) > URL_MAX_CHARS:
        return None
    for ch, enc in (("|", "%7C"), ("<", "%3C"), (">", "%3E"), (" ", "%20"), ("\n", "")):
        url = url.replace(ch, enc)
    return url


def link(url: str | None, label: str) -> str:
    """``<url|label>`` for Slack, or just the escaped label when the URL is unusable."""
    safe = _safe_url(url)
    return f"<{safe}|{escape(label)}>" if safe else escape(label)


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def _stories(n: int) -> str:
    return _plural(n, "story", "stories")


def _mention(user: str) -> str:
    """``<@U123>`` for a Slack user id; anything else is shown as escaped text."""
    return f"<@{user}>" if _USER_ID.match(user) else escape(_clip(user, 40))


def _local(ts: float, tz: str) -> datetime:
    try:
        zone = ZoneInfo(tz)
    except Exception:  # an unknown zone must not stop a digest; show UTC instead
        zone = ZoneInfo("UTC")
    return datetime.fromtimestamp(ts, zone)


def format_period(period_start: float, period_end: float, tz: str) -> str:
    """Like "Mon 2 Dec 09:00 – Mon 9 Dec 09:00 (America/New_York)"; years shown when they
    differ."""
    start, end = _local(period_start, tz), _local(period_end, tz)
    years = start.year != end.year
    return (
        f"{format_local(start, year=years)} – {format_local(end, year=years)} "
        f"({getattr(end.tzinfo, 'key', tz)})"
    )


def _short_period(period_start: float, period_end: float, tz: str) -> str:
    start, end = _local(period_start, tz), _local(period_end, tz)
    months = MONTH_NAMES
    if start.date() == end.date():
        return f"{end.day} {months[end.month - 1]} {end.year}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {months[end.month - 1]} {end.year}"
    first = f"{start.day} {months[start.month - 1]}" + (
        f" {start.year}" if start.year != end.year else ""
    )
    return f"{first} – {end.day} {months[end.month - 1]} {end.year}"


def _counts_line(digest: Digest, labels: dict[str, str], limit: int, mrkdwn: bool) -> str:
    items = [f"{labels[t]} {n}" for t, n in digest.counts.items()]
    text = " · ".join(items)
    shown = len(items)
    while len(text) > limit and shown > 1:
        shown -= 1
        text = " · ".join(items[:shown]) + f" · +{len(items) - shown} more"
    return escape(text) if mrkdwn else text


def _labels(digest: Digest) -> dict[str, str]:
    return {s.topic: s.label for s in digest.sections}


# ---------------------------------------------------------------------------------------------
# Stories as blocks


def _story_text(story: Story, *, links: bool = True, gist_limit: int = GIST_MAX_CHARS) -> str:
    title = _clip(story.title, TITLE_MAX_CHARS)
    head = f"*{link(story.url, title) if links else escape(title)}*"
    if story.sources:
        head += f" — _{escape(_clip(story.sources[0], 80))}_"
    if story.also:
        shown: Sequence[Link] = story.also[:MAX_ALSO]
        names = [
            link(other.url, _clip(other.name, 60)) if links else escape(_clip(other.name, 60))
            for other in shown
        ]
        extra = len(story.also) - len(shown)
        head += " · also: " + ", ".join(names) + (f" +{extra} more" if extra > 0 else "")
    gist = _clip(story.gist, gist_limit) if story.gist else ""
    return f"{head}\n{escape(gist)}" if gist else head


def _story_meta(story: Story) -> str:
    bits: list[str] = []
    if story.topics:
        tags = [_clip(t.label, 40) for t in shown_tags(story.topics)]
        bits.append(escape(", ".join(tags)))
    if story.sharers:
        who = ", ".join(_mention(u) for u in story.sharers[:MAX_SHARERS])
        extra = len(story.sharers) - MAX_SHARERS
        bits.append(f"shared by {who}" + (f" +{extra}" if extra > 0 else ""))
    if story.shares or not story.feeds:
        bits.append(_plural(story.shares, "share"))
    if story.feeds:
        bits.append("from feed " + ", ".join(f"_{escape(_clip(f, 60))}_" for f in story.feeds[:2]))
    if story.reactions:
        bits.append(_plural(story.reactions, "reaction"))
    if story.developing:
        bits.append(":arrows_counterclockwise: still developing")
    permalink = _safe_url(story.permalink)
    if permalink:
        bits.append(f"<{permalink}|thread>")
    return " · ".join(bits)


def story_blocks(story: Story) -> list[dict[str, Any]]:
    """Two blocks per story: the story itself and a context line (tags, who, thread)."""
    text = _story_text(story)
    if len(text) > MAX_SECTION_TEXT:
        text = _story_text(story, links=False)
    if len(text) > MAX_SECTION_TEXT:
        text = _story_text(story, links=False, gist_limit=200)
    meta = _story_meta(story)
    if len(meta) > MAX_SECTION_TEXT:  # pragma: no cover - bounded by the caps above
        meta = _plural(story.shares, "share")
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": meta}]},
    ]


def _header(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": _clip(text, MAX_HEADER_TEXT), "emoji": True},
    }


# ---------------------------------------------------------------------------------------------
# Parts


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _change(digest: Digest, topic: str) -> str:
    """ " ▲ 12" after a topic's count, when there is a previous period to compare with."""
    return f" {change_text(digest.changes[topic])}" if topic in digest.changes else ""


def _counts_with_changes(digest: Digest, limit: int) -> str:
    items = [f"{s.label} {len(s.stories)}{_change(digest, s.topic)}" for s in digest.sections]
    text = " · ".join(items)
    shown = len(items)
    while len(text) > limit and shown > 1:
        shown -= 1
        text = " · ".join(items[:shown]) + f" · +{len(items) - shown} more"
    return escape(text)


def _parent_part(digest: Digest, full_topics: int, also: bool, chart_note: str | None) -> Part:
    labels = _labels(digest)
    period = format_period(digest.period_start, digest.period_end, digest.tz)
    summary = f"*{_stories(digest.total_stories)}* · {_plural(digest.total_shares, 'share')}"
    if digest.previous_total is not None:
        summary += (
            f" · {change_text(digest.total_stories - digest.previous_total)} on the last digest"
        )
    fed = sum(1 for sec in digest.sections for st in sec.stories if st.feeds and not st.shares)
    if fed:
        summary += f" · {fed} only from followed feeds"
    counts = _counts_with_changes(digest, MAX_SECTION_TEXT - 400)
    short = _short_period(digest.period_start, digest.period_end, digest.tz)
    blocks = [
        _header(f"Policy digest · {short}"),
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{escape(period)}\n{summary}"}},
    ]
    if counts:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": counts}})
        hint = (
            "In the thread: the top stories of the busiest topic"
            if full_topics == 1
            else f"In the thread: the top stories of the {full_topics} busiest topics"
        )
        hint += ", then every other topic under _Also this week_." if also else "."
        blocks.append(_context(hint))
    if chart_note:
        blocks.append(_context(escape(chart_note)))
    plain_counts = _counts_line(digest, labels, FALLBACK_MAX_CHARS, mrkdwn=False)
    text = _clip(
        f"Policy digest {short}: {_stories(digest.total_stories)}"
        + (f" ({plain_counts})" if plain_counts else ""),
        FALLBACK_MAX_CHARS,
    )
    return Part(text=escape(text), blocks=blocks)


def _headline(story: Story, *, links: bool) -> str:
    title = _clip(story.title, HEADLINE_MAX_CHARS)
    text = link(story.url, title) if links else escape(title)
    return text + (" _(still developing)_" if story.developing else "")


def headlines_line(stories: Sequence[Story], limit: int, *, prefix: str = "") -> str:
    """``prefix`` then the stories' headlines, linked while they fit in ``limit`` characters;
    what does not fit is counted ("… and 40 more in the export")."""
    out = prefix
    for n, story in enumerate(stories):
        sep = "" if n == 0 else " · "
        left = len(stories) - n
        tail = f" … and {left} more (all in the Markdown/JSON export)"
        for links in (True, False):
            piece = sep + _headline(story, links=links)
            if len(out) + len(piece) + len(tail) <= limit:
                out += piece
                break
        else:
            return out + tail.lstrip() if n == 0 else out + tail
    return out


def _section_part(section: Section, digest: Digest, top: int) -> Part:
    """One topic: its top stories in full, then the rest as one headlines-only line."""
    total = len(section.stories)
    blocks = [_header(f"{section.label} · {_stories(total)}{_change(digest, section.topic)}")]
    size = MAX_HEADER_TEXT
    shown = 0
    for story in section.stories[:top]:
        story_b = story_blocks(story)
        chars = sum(_text_len(b.get("text")) for b in story_b) + sum(
            _text_len(e) for b in story_b for e in b.get("elements", [])
        )
        if shown and size + chars > PART_MAX_CHARS - MAX_SECTION_TEXT:
            break  # keep room for the headlines line
        blocks.extend(story_b)
        size += chars
        shown += 1
    rest = section.stories[shown:]
    if rest:
        line = headlines_line(rest, MAX_SECTION_TEXT, prefix=f"*+{len(rest)} more:* ")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": line}})
    text = _clip(f"{section.label}: {_stories(total)}", FALLBACK_MAX_CHARS)
    return Part(text=escape(text), blocks=blocks)


def _also_part(sections: Sequence[Section], digest: Digest) -> Part:
    """Every topic beyond the busiest: its count, change and first headlines, one block each."""
    blocks = [_header("Also this week")]
    room = MAX_BLOCKS - 2  # the header, and a last line counting topics that did not fit
    size = MAX_HEADER_TEXT
    for n, section in enumerate(sections):
        total = len(section.stories)
        prefix = f"*{escape(section.label)}* · {_stories(total)}{_change(digest, section.topic)}: "
        line = headlines_line(section.stories, ALSO_LINE_MAX_CHARS, prefix=prefix)
        if len(blocks) > room or size + len(line) > PART_MAX_CHARS:
            left = sections[n:]
            names = ", ".join(f"{s.label} ({len(s.stories)})" for s in left)
            blocks.append(_context(escape(_clip(f"And {names}.", MAX_SECTION_TEXT))))
            break
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": line}})
        size += len(line)
    count = sum(len(s.stories) for s in sections)
    text = _clip(
        f"Also this week: {_plural(len(sections), 'topic')}, {_stories(count)}", FALLBACK_MAX_CHARS
    )
    return Part(text=escape(text), blocks=blocks)


def render_blocks(
    digest: Digest,
    *,
    top: int = TOP_STORIES,
    max_messages: int = MAX_MESSAGES,
    chart_note: str | None = None,
) -> list[Part]:
    """The parent, then one part per busiest topic, then "Also this week": ``max_messages`` parts
    at most, however big the period (reserve one for a chart by passing one less).

    Each topic part shows its ``top`` stories in full and the rest as headlines; topics that get
    no part of their own share the last one. ``chart_note`` goes under the parent's counts (for
    instance why there is no chart). An empty digest yields only the parent (see
    :func:`render_empty` for the 'nothing shared' note).
    """
    sections = [s for s in digest.sections if s.stories]
    room = max(max_messages - 1, 1)  # parts after the parent
    if len(sections) <= room:
        full, rest = sections, []
    else:
        full, rest = sections[: max(room - 1, 0)], sections[max(room - 1, 0) :]
    parts = [_parent_part(digest, len(full), bool(rest), chart_note)]
    parts += [_section_part(section, digest, max(top, 1)) for section in full]
    if rest:
        parts.append(_also_part(rest, digest))
    return parts


def render_empty(
    period: Digest | float, period_end: float | None = None, tz: str | None = None
) -> Part:
    """The short note posted for an empty period when the channel chose ``empty:note``.

    Takes the empty :class:`Digest` itself or ``(period_start, period_end, tz)``."""
    if isinstance(period, Digest):
        start, end, zone = period.period_start, period.period_end, period.tz
    else:
        if period_end is None:
            raise TypeError("render_empty(period_start, period_end, tz) needs period_end")
        start, end, zone = float(period), period_end, tz or "UTC"
    when = format_period(start, end, zone)
    text = f"Nothing was shared in this channel for the digest of {when}."
    note = (
        f":newspaper: Nothing was shared here for the digest of {escape(when)}. "
        "Links posted in the channel land in the next one."
    )
    blocks = [{"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]
    return Part(text=escape(text), blocks=blocks)


# ---------------------------------------------------------------------------------------------
# Markdown and JSON


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _md_link(url: str | None, label: str) -> str:
    safe = _safe_url(url)
    label = _md_escape(label)
    return f"[{label}]({safe.replace(')', '%29')})" if safe else label


def render_markdown(digest: Digest, chart: tuple[str, str] | None = None) -> str:
    """The digest as Markdown (the CLI's default output): every story, in Slack's order.

    ``chart`` is ``(relative path, alt text)`` of a trend chart written beside the file."""
    period = format_period(digest.period_start, digest.period_end, digest.tz)
    lines = [f"# Policy digest: {period}", ""]
    if digest.empty:
        lines.append("_Nothing was shared in this period._")
        return "\n".join(lines) + "\n"
    counts = " · ".join(
        f"{s.label} {len(s.stories)}{_change(digest, s.topic)}" for s in digest.sections
    )
    total = _stories(digest.total_stories)
    lines += [f"{total}, {_plural(digest.total_shares, 'share')}: {counts}", ""]
    if chart:
        lines += [f"![{_md_escape(chart[1])}]({chart[0]})", ""]
    for section in digest.sections:
        lines += [
            f"## {section.label} ({len(section.stories)}{_change(digest, section.topic)})",
            "",
        ]
        for n, story in enumerate(section.stories, 1):
            head = f"{n}. **{_md_link(story.url, _clip(story.title, TITLE_MAX_CHARS))}**"
            if story.sources:
                head += f" — {story.sources[0]}"
            if story.also:
                head += "; also: " + ", ".join(_md_link(a.url, a.name) for a in story.also)
            lines.append(head)
            if story.gist:
                lines.append(f"   {story.gist}")
            meta = []
            if story.topics:
                meta.append("Tags: " + ", ".join(t.label for t in shown_tags(story.topics)))
            if story.sharers:
                meta.append("shared by " + ", ".join(f"@{u}" for u in story.sharers))
            if story.shares or not story.feeds:
                meta.append(_plural(story.shares, "share"))
            if story.feeds:
                meta.append("from feed " + ", ".join(story.feeds))
            if story.reactions:
                meta.append(_plural(story.reactions, "reaction"))
            if story.developing:
                meta.append("still developing")
            if story.permalink:
                meta.append(_md_link(story.permalink, "thread"))
            lines.append("   " + " · ".join(meta))
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _iso(ts: float, tz: str) -> str:
    return _local(ts, tz).isoformat(timespec="seconds")


def _item_json(item: StoryItem) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id} if item.id is not None else {}
    out.update(title=item.title, url=item.url, outlet=item.outlet, sharers=list(item.sharers))
    return out


def digest_to_json(digest: Digest) -> dict[str, Any]:
    """A JSON-ready dict (``--format json``): ids for topics, ISO-8601 times in the digest's tz."""
    return {
        "period_start": _iso(digest.period_start, digest.tz),
        "period_end": _iso(digest.period_end, digest.tz),
        "tz": digest.tz,
        "total_stories": digest.total_stories,
        "total_shares": digest.total_shares,
        "counts": dict(digest.counts),
        # Stories per topic against the previous period (None: a new topic); {} with none.
        "changes": dict(digest.changes),
        "previous_total": digest.previous_total,
        "sections": [
            {
                "topic": section.topic,
                "label": section.label,
                "stories": [
                    {
                        "title": story.title,
                        "url": story.url,
                        "sources": list(story.sources),
                        "also": [{"name": a.name, "url": a.url} for a in story.also],
                        "gist": story.gist,
                        "topics": [
                            {"topic": t.topic, "label": t.label, "score": t.score}
                            for t in shown_tags(story.topics)
                        ],
                        "sharers": list(story.sharers),
                        "permalink": story.permalink,
                        "shares": story.shares,
                        "reactions": story.reactions,
                        "latest_shared_at": _iso(story.latest_shared_at, digest.tz),
                        "keys": list(story.keys),
                        "developing": story.developing,
                        "feeds": list(story.feeds),
                        "items": [_item_json(item) for item in story.items],
                    }
                    for story in section.stories
                ],
            }
            for section in digest.sections
        ],
    }


# ---------------------------------------------------------------------------------------------
# Limits


def _text_len(obj: Any) -> int:
    return len(obj.get("text", "")) if isinstance(obj, dict) else 0


def check_blocks(blocks: Sequence[dict[str, Any]], max_blocks: int = MAX_BLOCKS) -> list[str]:
    """Block Kit limit violations in one message's blocks (empty list = fine).

    Checks the limits a digest can hit: block count, header/section/field/context text lengths,
    empty texts (Slack rejects them), header text type, and block_id length and uniqueness.
    ``max_blocks`` is 100 for the Home tab and modals."""
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks > {max_blocks}")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        kind = block.get("type")
        where = f"block {i} ({kind})"
        block_id = block.get("block_id")
        if block_id is not None:
            if len(block_id) > MAX_BLOCK_ID:
                problems.append(f"{where}: block_id longer than {MAX_BLOCK_ID}")
            if block_id in seen_ids:
                problems.append(f"{where}: duplicate block_id {block_id!r}")
            seen_ids.add(block_id)
        if kind == "header":
            text = block.get("text") or {}
            if text.get("type") != "plain_text":
                problems.append(f"{where}: header text must be plain_text")
            if not 0 < _text_len(text) <= MAX_HEADER_TEXT:
                problems.append(f"{where}: header text length {_text_len(text)} not in 1..150")
        elif kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                problems.append(f"{where}: needs text or fields")
            if text is not None and not 0 < _text_len(text) <= MAX_SECTION_TEXT:
                problems.append(f"{where}: text length {_text_len(text)} not in 1..3000")
            if fields:
                if len(fields) > MAX_FIELDS:
                    problems.append(f"{where}: {len(fields)} fields > {MAX_FIELDS}")
                for f in fields:
                    if not 0 < _text_len(f) <= MAX_FIELD_TEXT:
                        problems.append(f"{where}: field length {_text_len(f)} not in 1..2000")
        elif kind == "context":
            elements = block.get("elements") or []
            if not 0 < len(elements) <= MAX_CONTEXT_ELEMENTS:
                problems.append(f"{where}: {len(elements)} elements not in 1..10")
            for e in elements:
                if e.get("type") in ("mrkdwn", "plain_text") and not (
                    0 < _text_len(e) <= MAX_SECTION_TEXT
                ):
                    problems.append(f"{where}: element text length {_text_len(e)} not in 1..3000")
        elif kind not in ("divider", "image", "actions", "rich_text", "input", "file", "video"):
            problems.append(f"{where}: unknown block type")
    return problems


def part_chars(part: Part) -> int:
    """Characters of text across a part's blocks (for the ``PART_MAX_CHARS`` budget)."""
    total = 0
    for block in part.blocks:
        total += _text_len(block.get("text"))
        total += sum(_text_len(e) for e in block.get("elements", []))
        total += sum(_text_len(f) for f in block.get("fields", []) or [])
    return total
