"""One tag list per article in every view: thread, recent, App Home, digest (Slack, Markdown,
JSON), the CLI's readable output and its JSON."""

from __future__ import annotations

import io
import json

from bot.entry.cli import _print_readable
from digests.analyze import analyze
from digests.digest import build_digest
from digests.models import Article, SharedItem, TopicTag
from digests.render import digest_to_json, render_blocks, render_markdown
from digests.reply import home_view, recent_message, summary_message
from digests.topics import Taxonomy, shown_tags
from digests.topics.shown import MAX_SHOWN

# Stored with more tags than any view shows, scores out of order (old data, merged stories).
SCORES = {
    "security": 0.52,
    "trade": 0.95,
    "sanctions": 0.71,
    "tariffs": 0.9,
    "tech": 0.6,
    "export_controls": 0.83,
}
LABELS = {t: Taxonomy.load().label(t) for t in SCORES}
START = 1_700_000_000.0


def tags() -> list[TopicTag]:
    return [TopicTag(t, LABELS[t], s, [f"cue{i}"]) for i, (t, s) in enumerate(SCORES.items())]


def labels_in(text: str) -> set[str]:
    return {label for label in LABELS.values() if label in text}


def test_shown_tags_orders_by_score_caps_and_gives_prefixes():
    shown = shown_tags(tags())
    assert [t.topic for t in shown] == ["trade", "tariffs", "export_controls", "sanctions"]
    assert len(shown) == MAX_SHOWN
    for limit in range(MAX_SHOWN + 2):
        assert shown_tags(tags(), limit) == shown[:limit]
    as_dicts = shown_tags([t.to_dict() for t in tags()])
    assert [d["topic"] for d in as_dicts] == [t.topic for t in shown]
    duplicate = [TopicTag("trade", "Trade", 0.4), *tags()]
    assert [t.topic for t in shown_tags(duplicate)].count("trade") == 1


def test_every_view_shows_the_same_tag_set():
    expected = {t.label for t in shown_tags(tags())}
    assert len(expected) == MAX_SHOWN
    result = {
        "title": "Weekly wrap",
        "url": "https://example.org/wrap",
        "summary": ["Officials met on Monday.", "They will meet again."],
        "topics": [t.to_dict() for t in tags()],
        "method": "lead",
        "words": 12,
        "cached": False,
        "notes": [],
    }
    item = SharedItem(
        key="https://example.org/wrap",
        title="Weekly wrap",
        summary=result["summary"],
        topics=tags(),
        shared_at=START + 60,
        sharers=["U1"],
        url="https://example.org/wrap",
        permalink="https://team.slack.com/archives/C1/p1",
    )
    views: dict[str, str] = {}
    _, blocks = summary_message(result)
    views["thread"] = json.dumps([b for b in blocks if b["type"] == "context"])
    views["recent"] = recent_message([item], None)
    views["home"] = json.dumps(home_view([("C1", item)])["blocks"][2:])
    digest = build_digest(
        [item], period_start=START, period_end=START + 86400, tz="UTC", labels=LABELS
    )
    story_meta = [
        json.dumps(b)
        for part in render_blocks(digest)[1:]
        for b in part.blocks
        if b["type"] == "context" and "share" in json.dumps(b)
    ]
    views["digest"] = " ".join(story_meta)
    views["markdown"] = next(
        line for line in render_markdown(digest).splitlines() if "Tags:" in line
    )
    story = digest_to_json(digest)["sections"][0]["stories"][0]
    views["digest json"] = " ".join(t["label"] for t in story["topics"])
    out = io.StringIO()
    _print_readable(result, out)
    views["cli"] = out.getvalue()
    for name, text in views.items():
        assert labels_in(text) == expected, name


def test_a_fresh_result_carries_the_shown_list_itself():
    """So `summarize --json` and what is stored are the very list every view shows."""
    text = (
        "The Commerce Department added Huawei suppliers to the Entity List and Treasury's "
        "Office of Foreign Assets Control sanctioned three firms, while the USTR raised Section "
        "301 tariffs. The Pentagon cited national security; Taiwan's defence ministry reported "
        "PLA drills. Fentanyl precursor chemicals were on the agenda, and CFIUS reviewed deals."
    )
    result = analyze(Article(text=text, title="A busy week"), taxonomy=Taxonomy.load())
    assert result["topics"] == shown_tags(result["topics"])
    assert len(result["topics"]) == MAX_SHOWN
