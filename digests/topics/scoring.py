"""Score an article against a taxonomy: regions, overlaps, repeats, negatives, threshold.

Per topic, every cue match contributes ``cue weight x region weight`` (the title counts more
than the lead, the lead more than the rest); repeats of one cue decay geometrically so a long
article cannot tag itself by repetition; negative cues subtract, and so does the
taxonomy-wide ``[off_topic]`` context (sport, film) for every topic. The sum ``raw`` becomes
``score = 1 - exp(-raw / score_scale)`` in 0..1 and a tag is kept when ``score >= min_score``.
"""

from __future__ import annotations

import bisect
import math
import re
from typing import TYPE_CHECKING

from digests.models import TopicTag
from digests.topics.matcher import OFF_TOPIC, Entry
from digests.topics.model import Params
from digests.topics.shown import shown_tags

if TYPE_CHECKING:
    from digests.topics.taxonomy import Taxonomy

_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s)|\n[ \t]*\n")
_ABBREV = re.compile(
    r"(?:\b[A-Z]|\b(?:[A-Za-z]\.)+[A-Za-z]|\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Gov|Sen|Rep|St|Jr|Sr|"
    r"Inc|Corp|Co|Ltd|No|vs|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec))$"
)
_MIN_SENTENCE_CHARS = 40  # shorter "sentences" are page furniture ("Listen to this post")


def _body_start(title: str, text: str) -> int:
    """Skip the title when the text repeats it, so it is not counted twice."""
    stripped = text.lstrip()
    head = " ".join(title.split()).lower()
    if head and " ".join(stripped[: len(title) + 20].split()).lower().startswith(head):
        offset = len(text) - len(stripped)
        # walk forward over the title allowing for whitespace differences
        i, j = offset, 0
        while i < len(text) and j < len(head):
            if text[i].isspace():
                i += 1
                continue
            if head[j] == " ":
                j += 1
                continue
            i += 1
            j += 1
        return i
    return 0


def _lead_end(text: str, start: int, params: Params) -> int:
    """End offset of the lead: the first ``lead_sentences`` sentences, at most ``lead_chars``."""
    limit = min(len(text), start + params.lead_chars)
    counted = 0
    sentence_start = start
    for m in _SENTENCE_END.finditer(text, start, limit + 1):
        end = m.end()
        if m.group().startswith(".") and _ABBREV.search(
            text[max(start, m.start() - 12) : m.start()]
        ):
            continue
        if len(text[sentence_start:end].strip()) >= _MIN_SENTENCE_CHARS:
            counted += 1
        sentence_start = end
        if counted >= params.lead_sentences:
            return min(end, limit)
    return limit


def _resolve(hits: list[tuple[int, int, int]], entries: list[Entry]) -> list[tuple[int, int, int]]:
    """Non-overlapping hits of one topic: negatives first, then the strongest cue wins.

    So "trade war" counts once (not also as "trade"), a negative such as "trade deadline" or
    "bargaining chip" hides the positive cue inside it, and a broad weak pattern cannot swallow
    a strong phrase it happens to overlap ("added ... to the Entity List").
    """

    def rank(hit: tuple[int, int, int]) -> tuple[bool, float, int, int]:
        cue = entries[hit[0]].cue
        return (not cue.negative, -cue.weight, hit[1] - hit[2], hit[1])

    kept: list[tuple[int, int, int]] = []
    starts: list[int] = []  # kept intervals never overlap, so sorted starts mean sorted ends
    ends: list[int] = []
    for hit in sorted(set(hits), key=rank):
        at = bisect.bisect_right(starts, hit[1])
        if (at and ends[at - 1] > hit[1]) or (at < len(starts) and starts[at] < hit[2]):
            continue
        starts.insert(at, hit[1])
        ends.insert(at, hit[2])
        kept.append(hit)
    return kept


def _contribution(weight: float, regions: list[float], params: Params) -> float:
    regions.sort(reverse=True)
    return sum(
        weight * r * params.repeat_decay**k for k, r in enumerate(regions[: params.max_repeats])
    )


def score_topics(taxonomy: Taxonomy, title: str, text: str) -> list[TopicTag]:
    """Every topic whose score reaches its threshold, highest first (before the display cap).

    A topic needs evidence: an *anchor*, a cue weighing ``anchor_weight`` or more (words that
    imply the topic on their own: "Entity List", "OFAC", "fentanyl"; in a topic whose cues are
    all lighter, such as a team's plain list, its heaviest). Lighter cues ("restrictions",
    "talks") only add to an anchor's score, never tag on their own (cross-validation preferred
    this to letting three of them together stand for an anchor), and only anchors are shown,
    so a tag is always explained by words that mean it.
    """
    params = taxonomy.params
    matcher = taxonomy.matcher
    entries = matcher.entries
    start = _body_start(title, text) if title else 0
    lead_end = _lead_end(text, start, params)

    # topic -> [(entry, start, end, region weight, surface)]
    by_topic: dict[str, list[tuple[int, float, str]]] = {}
    for source, weight_of in (
        (title, lambda pos: params.title_weight),
        (text, lambda pos: params.lead_weight if pos < lead_end else params.body_weight),
    ):
        grouped: dict[str, list[tuple[int, int, int]]] = {}
        for hit in matcher.find(source):
            if source is text and hit[1] < start:
                continue  # the title repeated at the top of the text: counted once, as title
            grouped.setdefault(entries[hit[0]].topic, []).append(hit)
        for tid, hits in grouped.items():
            bucket = by_topic.setdefault(tid, [])
            for index, begin, end in _resolve(hits, entries):
                bucket.append((index, weight_of(begin), source[begin:end]))

    def contributions(hits: list[tuple[int, float, str]]) -> dict[int, tuple[float, str]]:
        per_cue: dict[int, tuple[list[float], str]] = {}
        for index, region, surface in hits:
            per_cue.setdefault(index, ([], surface))[0].append(region)
        return {
            index: (_contribution(entries[index].cue.weight, regions, params), surface)
            for index, (regions, surface) in per_cue.items()
        }

    # sport, film...: lowers every topic, so one stray "sanctions" in a match report tags nothing
    off_topic = sum(v for v, _ in contributions(by_topic.pop(OFF_TOPIC, [])).values())
    tags: list[tuple[float, int, TopicTag]] = []
    order = {tid: i for i, tid in enumerate(taxonomy.topics)}
    for tid, hits in by_topic.items():
        topic = taxonomy.topics[tid]
        heaviest = max(c.weight for c in topic.phrases + topic.patterns)
        anchor = min(params.anchor_weight, heaviest)  # a list-only topic: every cue anchors
        raw = -off_topic
        evidence: list[tuple[float, str]] = []
        for index, (value, surface) in contributions(hits).items():
            cue = entries[index].cue
            if cue.negative:
                raw -= value
            else:
                raw += value
                if cue.weight >= anchor:
                    evidence.append((value, surface))
        if raw <= 0 or not evidence:
            continue
        score = 1.0 - math.exp(-raw / params.score_scale)
        threshold = topic.min_score if topic.min_score is not None else params.min_score
        if score < threshold:
            continue
        evidence.sort(key=lambda e: -e[0])
        shown: list[str] = []
        seen: set[str] = set()
        for _, surface in evidence:
            clean = " ".join(surface.split())
            if clean.lower() not in seen:
                seen.add(clean.lower())
                shown.append(clean)
            if len(shown) >= params.max_evidence:
                break
        tags.append((score, order[tid], TopicTag(tid, topic.label, round(score, 3), shown)))
    tags.sort(key=lambda t: (-t[0], t[1]))
    return [t for _, _, t in tags]


def tag(taxonomy: Taxonomy, title: str, text: str) -> list[TopicTag]:
    """The article's tag list as every view shows it (see :func:`shown_tags`)."""
    return shown_tags(score_topics(taxonomy, title, text))
