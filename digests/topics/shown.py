"""The one tag list an article shows, in every view (thread, recent, digest, Home, CLI, JSON)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from digests.models import TopicTag

MAX_SHOWN = 4  # more than four tags on one article says nothing a reader can use

T = TypeVar("T", TopicTag, Mapping)


def _fields(tag: TopicTag | Mapping) -> tuple[str, float]:
    if isinstance(tag, Mapping):
        return str(tag.get("topic", "")), float(tag.get("score") or 0.0)
    return tag.topic, tag.score


def shown_tags(topics: Iterable[T], limit: int | None = None) -> list[T]:
    """The tags to show: highest score first (ties keep their order), one per topic, at most
    ``MAX_SHOWN``. A view that needs fewer passes ``limit`` and gets a prefix of the same list,
    never a different set. Takes ``TopicTag`` objects or their dicts (stored/JSON results).

    The score threshold itself is applied once, by the tagger; this keeps stored, merged and
    fresh tags in one order and one size.
    """
    seen: set[str] = set()
    ordered: list[T] = []
    for tag in sorted(topics, key=lambda t: -_fields(t)[1]):
        topic = _fields(tag)[0]
        if topic and topic not in seen:
            seen.add(topic)
            ordered.append(tag)
    cap = MAX_SHOWN if limit is None else max(0, min(limit, MAX_SHOWN))
    return ordered[:cap]
