"""What changed since the previous period: story counts per topic, and stories still developing.

A channel's periods are its posted digests. Each posted digest leaves a :class:`PeriodRecord`
(its window and stories per topic; the bot keeps the last few per channel), so the next digest
can say "▲ 12" / "▼ 3" / "new" per topic and the trend chart can draw the last eight periods
without re-clustering months of shares.

"Still developing" is a story of this period that reports the same event as a story of the
previous period: new articles on a story people already shared. (A share of the very same
article again is not a new share: a channel counts an article once, when first shared.) It is
found by clustering the previous period's items together with this period's, with the same
similarity and vetoes as the digest itself (:func:`digests.cluster.cluster_items`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from digests.cluster import cluster_items
from digests.digest import Digest
from digests.models import SharedItem

HISTORY_PERIODS = 8  # the chart's span: this period and the seven before it


@dataclass(frozen=True)
class PeriodRecord:
    """One past period as the chart and the comparison need it."""

    since: float
    until: float
    counts: dict[str, int] = field(default_factory=dict)  # topic id -> stories
    labels: dict[str, str] = field(default_factory=dict)  # topic id -> label at the time
    total: int = 0

    @classmethod
    def of(cls, digest: Digest) -> PeriodRecord:
        return cls(
            since=digest.period_start,
            until=digest.period_end,
            counts=dict(digest.counts),
            labels={s.topic: s.label for s in digest.sections},
            total=digest.total_stories,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "counts": self.counts,
            "labels": self.labels,
            "total": self.total,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PeriodRecord:
        return cls(
            since=float(raw["since"]),
            until=float(raw["until"]),
            counts={str(k): int(v) for k, v in (raw.get("counts") or {}).items()},
            labels={str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
            total=int(raw.get("total", 0)),
        )


def previous_of(history: Sequence[PeriodRecord], since: float) -> PeriodRecord | None:
    """The latest recorded period that ended by ``since`` (this period's start)."""
    earlier = [p for p in history if p.until <= since]
    return max(earlier, key=lambda p: p.until) if earlier else None


def topic_changes(current: Mapping[str, int], previous: Mapping[str, int]) -> dict[str, int | None]:
    """Per topic of ``current``: stories minus the previous period's, ``None`` when it is new."""
    return {
        topic: (n - previous[topic]) if previous.get(topic) else None
        for topic, n in current.items()
    }


def developing_keys(previous: Sequence[SharedItem], current: Sequence[SharedItem]) -> set[str]:
    """Keys of ``current`` items whose story also has items in ``previous``."""
    if not previous or not current:
        return set()
    items = [*previous, *current]
    cut = len(previous)
    found: set[str] = set()
    for group in cluster_items(items, max_gap_days=math.inf):  # a follow-up continues it
        if group[0] < cut <= group[-1]:  # indices ascend: both periods are in the group
            found.update(items[i].key for i in group if i >= cut)
    return found


def compare(
    digest: Digest,
    previous: PeriodRecord | None,
    previous_items: Sequence[SharedItem] = (),
    current_items: Sequence[SharedItem] = (),
) -> Digest:
    """Mark ``digest`` (in place, and return it) with what changed since ``previous``."""
    if previous is None:
        return digest
    digest.changes = topic_changes(digest.counts, previous.counts)
    digest.previous_total = previous.total
    keys = developing_keys(previous_items, current_items)
    for section in digest.sections:
        for story in section.stories:
            story.developing = any(k in keys for k in story.keys)
    return digest


def change_text(delta: int | None) -> str:
    """ "▲ 12", "▼ 3", "new", or "=" for the same count."""
    if delta is None:
        return "new"
    if delta > 0:
        return f"▲ {delta}"
    if delta < 0:
        return f"▼ {-delta}"
    return "±0"


def series(
    history: Sequence[PeriodRecord], current: PeriodRecord, periods: int = HISTORY_PERIODS
) -> list[PeriodRecord]:
    """The chart's periods, oldest first: the last ``periods - 1`` recorded before ``current``,
    then ``current`` itself."""
    earlier = sorted((p for p in history if p.until <= current.since), key=lambda p: p.until)
    return [*earlier[-(periods - 1) :], current] if periods > 1 else [current]
