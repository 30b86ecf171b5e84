"""Plain data shared by every layer; kept free of behaviour so any module can import it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class TopicTag:
    """One topic assigned to an article, with the text that triggered it."""

    topic: str
    label: str
    score: float
    evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Article:
    """An article as extracted from a page or pasted text (before summarizing)."""

    text: str
    title: str = ""
    url: str | None = None
    site: str | None = None
    author: str | None = None
    published: str | None = None
    paywalled: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class SummaryResult:
    """What the summarizer returns: sentences in article order and the method really used."""

    sentences: list[str]
    method: str
    words: int
    notes: list[str] = field(default_factory=list)


@dataclass
class SharedItem:
    """An article as shared in one channel: what a digest is built from.

    ``key`` identifies the article (canonical URL or content hash); the same key shared twice in a
    channel is one item with two sharers. Times are Unix seconds (UTC); ``published`` is when
    the outlet published it, when known (story clustering keeps follow-ups apart by it).
    """

    key: str
    title: str
    summary: list[str]
    topics: list[TopicTag]
    shared_at: float
    sharers: list[str] = field(default_factory=list)
    url: str | None = None
    site: str | None = None
    permalink: str | None = None
    reactions: int = 0
    feed: str | None = None  # title of the followed feed that brought it (no sharers then)
    published: float | None = None
    id: str | None = None  # the caller's own id for it (``digest --input`` lines), if any
