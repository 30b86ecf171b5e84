"""Digest assembly and rendering: grouping, ranking, filters, empty periods and Block Kit limits."""

from __future__ import annotations

import json
import random
import re

import pytest

from digests.digest import Digest, build_digest, make_gist
from digests.models import SharedItem, TopicTag
from digests.render import (
    MAX_MESSAGES,
    PART_MAX_CHARS,
    TOP_STORIES,
    check_blocks,
    digest_to_json,
    escape,
    headlines_line,
    part_chars,
    render_blocks,
    render_empty,
    render_markdown,
)

LABELS = {
    "trade": "Trade",
    "tariffs": "Tariffs",
    "export_controls": "Export controls",
    "sanctions": "Sanctions",
    "tech": "Tech",
}
START, END = 1_700_000_000.0, 1_700_000_000.0 + 7 * 86400


def tag(topic: str, score: float) -> TopicTag:
    return TopicTag(topic=topic, label=topic, score=score, evidence=[])


def share(
    key: str,
    title: str,
    summary: list[str],
    topics: list[TopicTag],
    *,
    at: float = START + 3600,
    sharers: list[str] | None = None,
    site: str | None = None,
    reactions: int = 0,
) -> SharedItem:
    return SharedItem(
        key=key,
        title=title,
        summary=summary,
        topics=topics,
        shared_at=at,
        sharers=sharers if sharers is not None else ["U1"],
        url=f"https://{(site or 'example.com').lower().replace(' ', '')}/{key}",
        site=site,
        permalink=f"https://team.slack.com/archives/C1/p{abs(hash(key)) % 10**10}",
        reactions=reactions,
    )


def week() -> list[SharedItem]:
    chips = "The Commerce Department added 80 companies to the Entity List on Tuesday, barring "
    return [
        share(
            "reuters-entity",
            "US adds 80 Chinese firms to export blacklist",
            [chips + "exports of US chips to them.", "Shares of chipmakers fell."],
            [tag("export_controls", 0.9), tag("tech", 0.6)],
            sharers=["U1"],
            site="Reuters",
            at=START + 1000,
        ),
        share(
            "ft-entity",
            "Commerce blacklists 80 companies, most of them Chinese, over chips",
            [chips + "American chips from reaching them."],
            [tag("export_controls", 0.8), tag("sanctions", 0.3)],
            sharers=["U2"],
            site="FT",
            at=START + 5000,
        ),
        share(
            "truce",
            "Geneva talks end with 90-day tariff truce",
            ["The US and China agreed to cut reciprocal tariffs by 115 points for 90 days."],
            [tag("tariffs", 0.9), tag("trade", 0.7)],
            sharers=["U3", "U4"],
            site="AP",
            reactions=1,
        ),
        share(
            "ship-fees",
            "USTR sets port fees on Chinese-built ships",
            ["Ships built in China will pay $50 a net ton at US ports from October."],
            [tag("trade", 0.8)],
            site="Bloomberg",
        ),
        share(
            "refinery",
            "Treasury sanctions Shandong teapot refinery over Iranian oil",
            ["A refinery in Shandong was sanctioned for buying Iranian crude."],
            [tag("sanctions", 0.95)],
            site="Reuters",
            reactions=7,
        ),
        share(
            "oscars",
            "Academy Awards fast facts",
            ["Background on the Oscars, first handed out in 1929."],
            [],
            sharers=[],
        ),
    ]


def build(items, **kw) -> Digest:
    return build_digest(items, period_start=START, period_end=END, tz="Europe/Brussels", **kw,
                        labels=LABELS)  # fmt: skip


# -- assembly ---------------------------------------------------------------------------------


def test_same_story_from_two_outlets_is_one_story_under_its_top_topic() -> None:
    digest = build(week())
    ec = next(s for s in digest.sections if s.topic == "export_controls")
    assert len(ec.stories) == 1
    story = ec.stories[0]
    assert story.sources == ["Reuters", "FT"]
    assert [a.name for a in story.also] == ["FT"]
    assert story.sharers == ["U1", "U2"] and story.shares == 2
    assert [t.topic for t in story.topics] == ["export_controls", "tech", "sanctions"]
    assert story.topics[0].label == "Export controls"
    assert sorted(story.keys) == ["ft-entity", "reuters-entity"]
    # It appears once: not repeated under its other tags.
    titles = [st.title for s in digest.sections for st in s.stories]
    assert len(titles) == len(set(titles)) == digest.total_stories == 5


def test_sections_busiest_first_other_last_and_counts() -> None:
    items = week() + [
        share(
            "t2",
            "EU weighs new tariffs on steel",
            ["The EU may raise duties."],
            [tag("tariffs", 1)],
        ),
    ]
    digest = build(items)
    # tariffs: 2 stories; then 1 story each: export_controls has 2 shares, sanctions and trade
    # 1 each (ties by label); "Other" always last.
    assert [s.topic for s in digest.sections] == [
        "tariffs",
        "export_controls",
        "sanctions",
        "trade",
        "other",
    ]
    assert digest.sections[-1].topic == "other" and digest.sections[-1].label == "Other"
    assert digest.counts == {s.topic: len(s.stories) for s in digest.sections}
    assert list(digest.counts) == [s.topic for s in digest.sections]
    assert sum(digest.counts.values()) == digest.total_stories == 6


def test_ranking_by_shares_then_reactions_then_recency() -> None:
    t = [tag("trade", 0.9)]
    items = [
        share("a", "Soybean exports slump", ["Farm sales fell."], t, reactions=9, at=START + 50),
        share("b", "Port strike ends", ["Dockers return."], t, sharers=["U1", "U2"], at=START + 10),
        share("c", "WTO panel rules on steel", ["A ruling came."], t, reactions=9, at=START + 90),
        share("d", "Rare earth prices jump", ["Magnets cost more."], t, at=START + 99),
    ]
    digest = build(items)
    order = [s.title for s in digest.sections[0].stories]
    assert order == [
        "Port strike ends",  # 2 shares
        "WTO panel rules on steel",  # 1 share, 9 reactions, newer
        "Soybean exports slump",  # 1 share, 9 reactions, older
        "Rare earth prices jump",  # 1 share, no reactions
    ]


def test_period_is_half_open() -> None:
    t = [tag("trade", 0.9)]
    items = [
        share("first", "On the start", ["Counted."], t, at=START),
        share("last", "On the end", ["Next digest."], t, at=END),
        share("before", "Before the start", ["Earlier digest."], t, at=START - 1),
    ]
    digest = build(items)
    assert [s.title for sec in digest.sections for s in sec.stories] == ["On the start"]


def test_topic_filter_keeps_only_those_topics() -> None:
    digest = build(week(), topic_filter=("sanctions", "tariffs"))
    assert {s.topic for s in digest.sections} == {"sanctions", "tariffs"}
    sanctions = next(s for s in digest.sections if s.topic == "sanctions")
    # The entity-list story's best *filtered* tag is sanctions; unfiltered tags are not shown.
    titles = [st.title for st in sanctions.stories]
    assert "US adds 80 Chinese firms to export blacklist" in titles
    for section in digest.sections:
        for story in section.stories:
            assert {t.topic for t in story.topics} <= {"sanctions", "tariffs"}
    assert "other" not in digest.counts


def test_empty_period() -> None:
    digest = build([share("x", "Old", ["Old news."], [], at=START - 10)])
    assert digest.empty and digest.sections == [] and digest.counts == {}
    parts = render_blocks(digest)
    assert len(parts) == 1 and check_blocks(parts[0].blocks) == []
    note = render_empty(digest)
    assert note == render_empty(START, END, "Europe/Brussels")
    assert "Nothing was shared" in note.text and check_blocks(note.blocks) == []
    assert "_Nothing was shared in this period._" in render_markdown(digest)


def test_gist_is_one_or_two_sentences() -> None:
    assert make_gist(["One. Two. Three."]) == "One. Two."
    long_first = "A " * 200 + "end."
    assert make_gist([long_first, "Second."]).endswith("…")
    assert len(make_gist([long_first])) <= 320
    assert make_gist([]) == ""


def test_gist_never_opens_on_a_stamp_dateline_or_bullet() -> None:
    stored = [
        "Published • 10 April 2025 at 5:34 PM Trump Hikes China Tariffs to 125%.",
        "The rise takes effect at once.",
    ]
    assert make_gist(stored) == "Trump Hikes China Tariffs to 125%. The rise takes effect at once."
    assert make_gist(["date 2025-09-25 Trump signed the order.", "• Oracle leads the deal."]) == (
        "Trump signed the order. Oracle leads the deal."
    )


# -- rendering -------------------------------------------------------------------------------------


def test_blocks_parent_then_one_part_per_section() -> None:
    digest = build(week())
    parts = render_blocks(digest)
    assert len(parts) == 1 + len(digest.sections)
    parent = parts[0]
    assert parent.blocks[0]["type"] == "header"
    assert "Policy digest" in parent.text
    body = json.dumps(parent.blocks)
    for section in digest.sections:
        assert f"{section.label} {len(section.stories)}" in body
    assert "(Europe/Brussels)" in body
    for part, section in zip(parts[1:], digest.sections, strict=True):
        n = len(section.stories)
        assert (
            part.blocks[0]["text"]["text"]
            == f"{section.label} · {n} stor{'y' if n == 1 else 'ies'}"
        )
        assert check_blocks(part.blocks) == []
    ec = json.dumps(parts[1 + [s.topic for s in digest.sections].index("export_controls")].blocks)
    assert "also: <https://ft/ft-entity|FT>" in ec
    assert "<@U1>, <@U2>" in ec and "|thread>" in ec


def test_user_text_is_escaped_and_urls_cannot_break_links() -> None:
    evil = share(
        "evil",
        "<!channel> Tariffs & you <https://evil|click>",
        ["Gist with <b> & stuff."],
        [tag("trade", 1)],
        sharers=["<!here>"],
    )
    evil.url = "https://example.com/a|b>c"
    parts = render_blocks(build([evil]))
    text = parts[1].blocks[1]["text"]["text"]
    assert "&lt;!channel&gt; Tariffs &amp; you &lt;https://evil|click&gt;" in text
    assert "<https://example.com/a%7Cb%3Ec|" in text
    assert "Gist with &lt;b&gt; &amp; stuff." in text
    meta = parts[1].blocks[2]["elements"][0]["text"]
    assert "<!here>" not in meta and "&lt;!here&gt;" in meta
    assert escape("a<b>&") == "a&lt;b&gt;&amp;"


def _many(n: int, seed: int = 1, topics: int = 3, huge: bool = False) -> list[SharedItem]:
    rng = random.Random(seed)
    ids = ["trade", "tariffs", "export_controls", "sanctions", "tech"][:topics]
    items = []
    for i in range(n):
        words = [f"w{rng.randrange(10**6)}" for _ in range(12)]
        title = f"Story {i:03d} " + " ".join(words[:6])
        gist = " ".join(words) + ". " + " ".join(reversed(words)) + "."
        if huge:
            title = f"Story {i:03d} " + "very long title & more " * 40
            gist = "An extremely <long> gist sentence " * 120 + "."
        items.append(
            share(
                f"k{i}",
                title,
                [gist],
                [tag(ids[i % len(ids)], 0.5 + rng.random() / 2)],
                sharers=[f"U{j}" for j in range(rng.randrange(1, 12))],
                site=f"Outlet {i % 17}",
                at=START + rng.randrange(7 * 86400),
            )
        )
    return items


def _titles_in(part) -> list[str]:
    """'Story 012' for every story a part names, in full or as a headline."""
    return re.findall(r"Story \d{3}", json.dumps(part.blocks))


@pytest.mark.parametrize("huge", [False, True])
def test_300_items_fit_in_six_messages_top_stories_in_full(huge: bool) -> None:
    digest = build(_many(300, topics=5, huge=huge), threshold=0.99)
    assert digest.total_stories == 300
    assert len(render_blocks(digest)) == 1 + 5  # five topics: each has room for its own part
    parts = render_blocks(digest, max_messages=MAX_MESSAGES - 1)  # one kept for the chart
    for part in parts:
        assert check_blocks(part.blocks) == [], check_blocks(part.blocks)
        assert part_chars(part) <= PART_MAX_CHARS
        assert 0 < len(part.text) <= 300
    # Parent, then the three busiest topics each with their top five in full, then the other
    # two under "Also this week".
    assert len(parts) == 5
    assert parts[-1].blocks[0]["text"]["text"] == "Also this week"
    also = json.dumps(parts[-1].blocks, ensure_ascii=False)
    assert all(f"*{s.label}* · {len(s.stories)} stories" in also for s in digest.sections[3:])
    for part, section in zip(parts[1:4], digest.sections[:3], strict=True):
        full = [b for b in part.blocks if b["type"] == "context"]
        assert len(full) == min(TOP_STORIES, len(section.stories))
        first = {st.title[:9] for st in section.stories[:TOP_STORIES]}
        assert first <= set(_titles_in(part))
        more = part.blocks[-1]["text"]["text"]
        assert more.startswith(f"*+{len(section.stories) - TOP_STORIES} more:* ")
    # Nothing is lost from the export.
    md = render_markdown(digest)
    assert all(f"Story {i:03d}" in md for i in range(300))


def test_top_is_configurable_and_the_rest_are_headlines() -> None:
    digest = build(_many(40, topics=1), threshold=0.99)
    parent, trade = render_blocks(digest, top=3)
    assert trade.blocks[0]["text"]["text"] == "Trade · 40 stories"
    assert [b["type"] for b in trade.blocks[1:7]] == ["section", "context"] * 3
    more = trade.blocks[7]["text"]["text"]
    assert more.startswith("*+37 more:* ") and len(trade.blocks) == 8
    # Headlines are linked, in rank order.
    ranked = [st.title for st in digest.sections[0].stories[3:]]
    found = re.findall(r"\|(Story \d{3})", more)
    assert found == [t[:9] for t in ranked][: len(found)] and len(found) >= 10


def test_headlines_that_do_not_fit_are_counted() -> None:
    stories = build(_many(200, topics=1, huge=True), threshold=0.99).sections[0].stories
    line = headlines_line(stories, 3000, prefix="*+200 more:* ")
    assert len(line) <= 3000
    shown = len(re.findall(r"Story \d{3}", line))
    assert 0 < shown < 200 and line.endswith(
        f"and {200 - shown} more (all in the Markdown/JSON export)"
    )


def test_many_topics_keep_every_part_under_limits() -> None:
    labels = {f"t{i}": f"Custom topic number {i}" for i in range(400)}
    items = [
        share(f"k{i}", f"Item {i} w{i}a w{i}b", [f"w{i}c."], [tag(f"t{i}", 1.0)])
        for i in range(400)
    ]
    digest = build_digest(items, period_start=START, period_end=END, tz="UTC", labels=labels)
    parts = render_blocks(digest)
    assert len(parts) == MAX_MESSAGES
    assert all(check_blocks(p.blocks) == [] for p in parts)
    assert "more" in json.dumps(parts[0].blocks)
    also = parts[-1].blocks
    assert also[-1]["type"] == "context" and also[-1]["elements"][0]["text"].startswith("And ")


def test_check_blocks_reports_violations() -> None:
    assert check_blocks([{"type": "divider"}] * 51) == ["51 blocks > 50"]
    bad = [
        {"type": "header", "text": {"type": "mrkdwn", "text": "x" * 151}},
        {"type": "section", "text": {"type": "mrkdwn", "text": ""}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "z"}] * 11},
        {"type": "section", "block_id": "a", "text": {"type": "mrkdwn", "text": "ok"}},
        {"type": "divider", "block_id": "a"},
    ]
    problems = check_blocks(bad)
    assert len(problems) == 6
    assert check_blocks([{"type": "divider"}] * 60, max_blocks=100) == []


def test_markdown_output() -> None:
    digest = build(week())
    md = render_markdown(digest)
    assert md.startswith("# Policy digest: ")
    assert "(Europe/Brussels)" in md.splitlines()[0]
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings == [f"## {s.label} ({len(s.stories)})" for s in digest.sections]
    assert (
        "1. **[US adds 80 Chinese firms to export blacklist](https://reuters/reuters-entity)**"
        in md
    )
    assert "— Reuters; also: [FT](https://ft/ft-entity)" in md
    assert "Tags: Export controls, Tech, Sanctions · shared by @U1, @U2 · 2 shares" in md


def test_digest_to_json_is_serializable_and_complete() -> None:
    data = digest_to_json(build(week()))
    text = json.dumps(data)
    assert json.loads(text)["total_stories"] == 5
    assert data["tz"] == "Europe/Brussels" and data["period_start"].endswith("+01:00")
    story = data["sections"][0]["stories"][0]
    assert set(story) >= {"title", "url", "sources", "also", "gist", "topics", "sharers",
                          "permalink", "shares", "reactions", "latest_shared_at"}  # fmt: skip
