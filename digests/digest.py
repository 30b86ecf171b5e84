"""Digest assembly: a period's shared items → stories (clustered) → topic sections, ranked.

Decisions (so the renderers and the bot can rely on them):

* Only items with ``period_start <= shared_at < period_end`` count (half-open, so consecutive
  digests never show the same share twice).
* Near-duplicate items (see :mod:`digests.cluster`) become one :class:`Story`; its outlets are
  listed once ("also: Reuters, FT"), its sharers, shares and reactions are summed.
* A story appears **once**, in the section of its primary topic (highest tag score across its
  items); its other tags are shown on the story. Repeating it under every tag would make a busy
  week look busier than it was and push readers through the same item several times.
* With ``topic_filter`` set, only tags in the filter count: a story with none of them is left
  out, and its primary topic is its best *filtered* tag. Untagged stories (or tagged only
  ``other``) go in a last "Other" section, and only when no filter is set.
* Sections are ordered busiest first (stories, then shares, then label); stories within a section
  by shares, then reactions on the bot's summary reply, then most recent share.
* ``counts`` are stories per section (what the reader will find below the header).
* Items a followed feed brought (``SharedItem.feed``, no sharer) count as no share: a story made
  only of feed items has ``shares == 0``, so in its section it ranks below every story someone
  shared, and a shared item is the representative of a story it shares with feed items. The
  story lists its ``feeds`` so renderers can say where it came from.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from digests.cluster import cluster_items
from digests.models import SharedItem, TopicTag
from digests.text import clean_text, split_sentences
from digests.topics.shown import shown_tags

OTHER = "other"
OTHER_LABEL = "Other"
GIST_MAX_CHARS = 320


@dataclass(frozen=True)
class Link:
    """Another outlet's article about the same story."""

    name: str
    url: str | None = None


@dataclass(frozen=True)
class StoryItem:
    """One shared article inside a story, as digest JSON lists it."""

    title: str
    url: str | None
    outlet: str
    sharers: list[str]
    id: str | None = None


@dataclass
class Story:
    """One story of the digest: one or more shared items reporting the same event."""

    title: str
    url: str | None
    sources: list[str]  # distinct outlets, the representative's first
    also: list[Link]  # the other outlets' articles ("also: Reuters, FT")
    gist: str  # one or two sentences
    topics: list[TopicTag]  # highest score first; topics[0] is the section's topic
    sharers: list[str]  # user ids, first sharer first
    permalink: str | None  # the thread of the representative share
    shares: int
    reactions: int
    latest_shared_at: float
    keys: list[str] = field(default_factory=list)  # item keys merged into this story
    developing: bool = False  # also reported in the previous period (``digests.changes``)
    feeds: list[str] = field(default_factory=list)  # titles of the followed feeds that brought it
    items: list[StoryItem] = field(default_factory=list)  # the representative's first

    @property
    def primary_topic(self) -> str:
        return self.topics[0].topic if self.topics else OTHER


@dataclass
class Section:
    """The stories of one topic, best first."""

    topic: str
    label: str
    stories: list[Story]


@dataclass
class Digest:
    """What one digest post shows; ``counts`` maps topic id → stories in its section."""

    period_start: float
    period_end: float
    tz: str
    sections: list[Section]
    counts: dict[str, int]
    total_stories: int
    # Against the previous period (``digests.changes``): topic -> story delta, None = new topic.
    # Empty when there is no previous period to compare with.
    changes: dict[str, int | None] = field(default_factory=dict)
    previous_total: int | None = None

    @property
    def empty(self) -> bool:
        return self.total_stories == 0

    @property
    def total_shares(self) -> int:
        return sum(story.shares for section in self.sections for story in section.stories)


def outlet_name(item: SharedItem) -> str:
    """The outlet as people say it: the item's site name, else the URL's host without www."""
    if item.site and item.site.strip():
        return item.site.strip()
    if item.url:
        host = (urlsplit(item.url).hostname or "").removeprefix("www.")
        if host:
            return host
    return "shared text"


def make_gist(summary: Sequence[str], max_chars: int = GIST_MAX_CHARS) -> str:
    """One or two sentences: the second only while the gist stays short enough to skim.

    Each summary sentence is cleaned again (a stored summary may predate today's cleaning), so
    no dateline, "Published •" stamp, byline or bullet opens a gist."""
    sentences: list[str] = []
    for chunk in summary:
        chunk = " ".join(clean_text(chunk).split())
        sentences.extend(s.strip() for s in split_sentences(chunk) if s.strip())
        if len(sentences) >= 2:
            break
    if not sentences:
        return ""
    gist = sentences[0]
    if len(sentences) > 1 and len(gist) + 1 + len(sentences[1]) <= max_chars:
        gist = f"{gist} {sentences[1]}"
    if len(gist) > max_chars:
        gist = gist[: max_chars - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return gist


def _share_count(item: SharedItem) -> int:
    if item.feed and not item.sharers:
        return 0  # a feed brought it; nobody shared it
    return max(1, len(item.sharers))


def _total_shares(items: Sequence[SharedItem]) -> int:
    """Distinct (article, person) shares; an item without sharers counts once. Two records of
    one key by the same person (a store hiccup) are not two shares."""
    named = {(it.key, user) for it in items for user in it.sharers}
    return len(named) + sum(1 for it in items if not it.sharers and not it.feed)


def _merge_topics(
    items: Sequence[SharedItem], labels: Mapping[str, str], allowed: Collection[str]
) -> list[TopicTag]:
    best: dict[str, TopicTag] = {}
    for item in items:
        for tag in item.topics:
            if tag.topic == OTHER or (allowed and tag.topic not in allowed):
                continue
            current = best.get(tag.topic)
            if current is None or tag.score > current.score:
                best[tag.topic] = tag
    merged = [
        TopicTag(
            topic=t.topic,
            label=labels.get(t.topic) or t.label or t.topic,
            score=t.score,
            evidence=list(t.evidence),
        )
        for t in best.values()
    ]
    merged.sort(key=lambda t: (-t.score, t.topic))
    return shown_tags(merged)  # the same list a single article shows, however many merged


def _story(
    items: Sequence[SharedItem], labels: Mapping[str, str], allowed: Collection[str]
) -> Story:
    # The representative: most shared, then most reacted, then the first shared (its thread is
    # where the conversation started).
    ordered = sorted(items, key=lambda it: (it.shared_at, it.key))
    rep = max(ordered, key=lambda it: (_share_count(it), it.reactions, -it.shared_at))
    sources: list[str] = []
    also: list[Link] = []
    members = [rep, *[it for it in ordered if it is not rep]]
    for item in members:
        name = outlet_name(item)
        if name not in sources:
            sources.append(name)
            if item is not rep:
                also.append(Link(name=name, url=item.url))
    sharers: list[str] = []
    for item in ordered:
        for user in item.sharers:
            if user not in sharers:
                sharers.append(user)
    gist = make_gist(rep.summary) or next(
        (g for g in (make_gist(it.summary) for it in ordered) if g), ""
    )
    return Story(
        title=rep.title.strip() or rep.url or "(untitled)",
        url=rep.url,
        sources=sources,
        also=also,
        gist=gist,
        topics=_merge_topics(ordered, labels, allowed),
        sharers=sharers,
        permalink=rep.permalink or next((it.permalink for it in ordered if it.permalink), None),
        shares=_total_shares(items),
        reactions=sum(it.reactions for it in items),
        latest_shared_at=max(it.shared_at for it in items),
        keys=list(dict.fromkeys(it.key for it in ordered)),
        feeds=list(dict.fromkeys(it.feed for it in ordered if it.feed)),
        items=[
            StoryItem(
                title=it.title.strip() or it.url or "(untitled)",
                url=it.url,
                outlet=outlet_name(it),
                sharers=list(it.sharers),
                id=it.id,
            )
            for it in members
        ],
    )


def rank_key(story: Story) -> tuple[float, float, float, str]:
    """Sort key for stories within a section: shares, reactions, recency (then title)."""
    return (-story.shares, -story.reactions, -story.latest_shared_at, story.title.lower())


def build_digest(
    items: Sequence[SharedItem],
    *,
    period_start: float,
    period_end: float,
    tz: str,
    topic_filter: Collection[str] = (),
    labels: Mapping[str, str],
    threshold: float | None = None,
) -> Digest:
    """Assemble the digest for ``[period_start, period_end)`` from a channel's shared items."""
    in_period = [it for it in items if period_start <= it.shared_at < period_end]
    groups = (
        cluster_items(in_period)
        if threshold is None
        else cluster_items(in_period, threshold=threshold)
    )
    allowed = frozenset(topic_filter)

    stories = [_story([in_period[i] for i in group], labels, allowed) for group in groups]
    if allowed:
        stories = [s for s in stories if s.topics]

    by_topic: dict[str, list[Story]] = {}
    for story in stories:
        by_topic.setdefault(story.primary_topic, []).append(story)

    sections: list[Section] = []
    for topic, members in by_topic.items():
        members.sort(key=rank_key)
        label = labels.get(OTHER, OTHER_LABEL) if topic == OTHER else members[0].topics[0].label
        sections.append(Section(topic=topic, label=label, stories=members))
    sections.sort(
        key=lambda s: (
            s.topic == OTHER,
            -len(s.stories),
            -sum(st.shares for st in s.stories),
            s.label.lower(),
        )
    )
    return Digest(
        period_start=period_start,
        period_end=period_end,
        tz=tz,
        sections=sections,
        counts={s.topic: len(s.stories) for s in sections},
        total_stories=len(stories),
    )
