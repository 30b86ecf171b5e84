"""The taxonomy object: an ordered set of topics, scoring parameters and a compiled matcher."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from digests.models import TopicTag
from digests.topics import loader, scoring
from digests.topics.matcher import Matcher
from digests.topics.model import Cue, Params, Topic

DEFAULT_TAXONOMY_PATH = Path(__file__).resolve().parents[1] / "data" / "taxonomy.toml"


class Taxonomy:
    """An immutable, ordered set of topics plus scoring parameters, with compiled matchers.

    Build one with :meth:`load` (a TOML file) or :meth:`from_dict`; derive a team's variant
    with :meth:`with_phrases`. Regexes are compiled once, at construction, so tagging is fast
    and a broken pattern fails when the file is loaded, not on the first article.
    """

    __slots__ = ("_topics", "_params", "_source", "_off_topic", "_matcher")

    def __init__(
        self,
        topics: Iterable[Topic],
        params: Params | None = None,
        source: str = "<taxonomy>",
        off_topic: Iterable[Cue] = (),
    ) -> None:
        ordered: dict[str, Topic] = {}
        for topic in topics:
            if topic.id in ordered:
                raise ValueError(f"{source}: duplicate topic id '{topic.id}'")
            ordered[topic.id] = topic
        if not ordered:
            raise ValueError(f"{source}: the taxonomy defines no topics")
        self._topics: Mapping[str, Topic] = MappingProxyType(ordered)
        self._params = params or Params()
        self._source = source
        self._off_topic = tuple(replace(c, negative=True) for c in off_topic)
        self._matcher = Matcher(self._topics, source, self._off_topic)

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "_matcher"):
            raise AttributeError("Taxonomy is immutable; use with_phrases() to derive one")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"Taxonomy({len(self._topics)} topics from {self._source})"

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None) -> Taxonomy:
        """Read a taxonomy TOML file; ``None`` means the packaged default.

        Every problem (missing file, bad TOML, unknown key, bad weight, broken regex) is a
        ``ValueError`` whose message names the file and the offending entry.
        """
        file = Path(path) if path is not None else DEFAULT_TAXONOMY_PATH
        return cls.from_dict(loader.read_toml(file), source=str(file))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<taxonomy>") -> Taxonomy:
        """Build from the parsed TOML structure (also handy for tests and stored overrides)."""
        topics, params, off_topic = loader.parse(data, source)
        return cls(topics, params, source, off_topic)

    def with_phrases(self, extra: Mapping[str, Sequence[str]]) -> Taxonomy:
        """A copy with team phrases added (``/digest topics add <id> "phrase"``).

        Phrases for an existing id are appended to it; an unknown id becomes a new topic whose
        label is the id. Team phrases weigh ``params.team_weight`` because a team that names a
        phrase means it. Phrases already present are ignored. Results are cached, so calling
        this per article with a team's stored phrases is cheap.
        """
        key: list[tuple[str, tuple[str, ...]]] = []
        for tid, phrases in extra.items():
            if not isinstance(tid, str) or not loader.TOPIC_ID.match(tid):
                raise ValueError(
                    f"topic id {tid!r} must be lower-case letters, digits or '_' "
                    "(starting with a letter, at most 40 characters)"
                )
            if isinstance(phrases, str):
                phrases = [phrases]
            cleaned = tuple(
                loader.clean_phrase(p, f"team phrase for topic '{tid}'") for p in phrases
            )
            if not cleaned and tid not in self._topics:
                raise ValueError(f"new topic '{tid}' needs at least one phrase")
            key.append((tid, cleaned))
        return _derive(self, tuple(key)) if key else self

    # -- queries ------------------------------------------------------------------------------

    @property
    def topics(self) -> Mapping[str, Topic]:
        """Read-only, ordered mapping of topic id to :class:`Topic`."""
        return self._topics

    @property
    def matcher(self) -> Matcher:
        """The compiled cue index (scoring and tests use it)."""
        return self._matcher

    @property
    def params(self) -> Params:
        return self._params

    @property
    def source(self) -> str:
        return self._source

    @property
    def off_topic(self) -> tuple[Cue, ...]:
        """Cues of news we never tag (sport, film...): each lowers every topic's score."""
        return self._off_topic

    def ids(self) -> list[str]:
        """Topic ids in file order (the order digests group by)."""
        return list(self._topics)

    def label(self, topic_id: str) -> str:
        """Display label; an unknown id (say a removed team topic in old data) shows as itself."""
        topic = self._topics.get(topic_id)
        return topic.label if topic else topic_id

    def phrases(self) -> list[str]:
        """All positive literal phrases (no ``*``), deduplicated: Edmundson's bonus words."""
        seen: dict[str, None] = {}
        for topic in self._topics.values():
            for cue in topic.phrases:
                seen.setdefault(cue.text.rstrip("*").strip().lower(), None)
        return [p for p in seen if p]

    def tag(self, title: str, text: str) -> list[TopicTag]:
        """Same as :func:`tag_article` with this taxonomy."""
        return scoring.tag(self, title or "", text or "")


@lru_cache(maxsize=64)
def _derive(base: Taxonomy, extra: tuple[tuple[str, tuple[str, ...]], ...]) -> Taxonomy:
    topics = dict(base.topics)
    weight = base.params.team_weight
    for tid, phrases in extra:
        topic = topics.get(tid) or Topic(id=tid, label=tid)
        known = {c.text.lower() for c in topic.phrases}
        added: list[Cue] = []
        for text in phrases:
            if text.lower() not in known:
                known.add(text.lower())
                added.append(Cue(text, weight))
        topics[tid] = replace(topic, phrases=topic.phrases + tuple(added))
    return Taxonomy(topics.values(), base.params, f"{base.source} + team phrases", base.off_topic)


@lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    """The packaged taxonomy, loaded and compiled once per process."""
    return Taxonomy.load(None)


def tag_article(title: str, text: str, taxonomy: Taxonomy | None = None) -> list[TopicTag]:
    """Topic tags for an article, highest score first; off-topic text gets an empty list.

    ``evidence`` lists the distinct matched text as it appears (strongest first, at most
    ``max_evidence``), so a reader can see why each tag was given.
    """
    return (taxonomy or default_taxonomy()).tag(title, text)
