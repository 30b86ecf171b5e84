"""Topic taxonomy and keyword tagging for policy news.

The taxonomy lives in a TOML file (``digests/data/taxonomy.toml`` by default) so a team can
extend it without code: each topic has weighted literal phrases, weighted regexes, and negative
cues that mask ambiguous uses ("trade deadline", "social security", "potato chips"). Tagging is
a transparent weighted-evidence score rather than a trained model because the labels we have
are few and silver, and because a Slack user must be able to see *why* a tag was given (the
evidence list) and fix it with ``/digest topics add``.

Scoring, per topic: every cue match contributes ``cue weight x region weight`` (the title counts
more than the lead, the lead more than the rest); repeats of one cue decay geometrically so a
long article cannot tag itself by repetition; negative cues subtract, and so does the
taxonomy-wide ``[off_topic]`` context (sport, film) for every topic. The sum ``raw`` becomes
``score = 1 - exp(-raw / score_scale)`` in 0..1 and a tag is kept when ``score >= min_score``.

Speed: rather than run ~800 regexes over each article, cues are indexed by the words that can
start them; one pass over the article's words tries only the cues those words can start
(about 5 ms for 5,000 words on an idle machine).

Pure module: standard library only, no I/O beyond reading the taxonomy file.
"""

from __future__ import annotations

import bisect
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from digests.models import TopicTag

__all__ = [
    "Cue",
    "Params",
    "Taxonomy",
    "Topic",
    "DEFAULT_TAXONOMY_PATH",
    "default_taxonomy",
    "tag_article",
]

DEFAULT_TAXONOMY_PATH = Path(__file__).resolve().parent / "data" / "taxonomy.toml"

_TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_TOPIC_KEYS = {
    "label",
    "description",
    "min_score",
    "phrases",
    "patterns",
    "negative",
    "negative_patterns",
}
_SEPARATORS = r"[\s\-\u2010\u2011\u2012\u2013/]"
_OFF_TOPIC = ""  # the pseudo-topic id of [off_topic] cues inside the matcher


@dataclass(frozen=True)
class Cue:
    """One weighted cue: a literal phrase (``*`` = any word ending) or a regex."""

    text: str
    weight: float
    regex: bool = False
    negative: bool = False


@dataclass(frozen=True)
class Topic:
    """A topic as the taxonomy file defines it; ``min_score`` overrides the global threshold."""

    id: str
    label: str
    phrases: tuple[Cue, ...] = ()
    patterns: tuple[Cue, ...] = ()
    negative: tuple[Cue, ...] = ()
    description: str = ""
    min_score: float | None = None

    def cues(self) -> tuple[Cue, ...]:
        return self.phrases + self.patterns + self.negative


@dataclass(frozen=True)
class Params:
    """Scoring knobs, read from ``[params]``; the defaults are what the shipped file uses."""

    min_score: float = 0.4
    score_scale: float = 4.0
    title_weight: float = 2.0
    lead_weight: float = 1.5
    body_weight: float = 1.0
    lead_chars: int = 400
    lead_sentences: int = 2
    repeat_decay: float = 0.5
    max_repeats: int = 4
    max_evidence: int = 5
    default_weight: float = 1.0
    negative_weight: float = 1.0
    team_weight: float = 2.0


# --------------------------------------------------------------------------- compiling cues


def _phrase_regex(phrase: str) -> str:
    """Turn a literal phrase into a regex tolerant of spacing, hyphens and curly apostrophes.

    "trade war" also matches "trade-war" and "trade\\nwar" (newswires wrap lines); "anti-dumping"
    also matches "antidumping"; a trailing ``*`` matches any word ending ("tariff*").
    """
    text = phrase.strip()
    star = text.endswith("*")
    if star:
        text = text[:-1]
    out: list[str] = []
    for token in re.split(r"(\s+|-)", text):
        if not token:
            continue
        if token.isspace():
            out.append(_SEPARATORS + "+")
        elif token == "-":
            out.append(_SEPARATORS + "{0,3}")  # also "anti-\ndumping" wrapped at the hyphen
        else:
            out.append(re.escape(token).replace("'", "['\u2019]"))
    body = "".join(out)
    if star:
        body += r"\w*"
    return body


# A trigger is (word, exact): a cue can only match where an article word equals ``word``
# (exact) or starts with it. Words are maximal runs of \w, lower-cased.
_Trigger = tuple[str, bool]


def _phrase_triggers(phrase: str) -> frozenset[_Trigger] | None:
    """Triggers of a literal phrase: its first word; with a hyphen also the joined form."""
    text = phrase.lower()
    first = re.match(r"\w+", text)
    if not first:
        return None
    rest = text[first.end() :]
    if rest.startswith("*"):
        return frozenset({(first.group(), False)})
    if rest.startswith("-"):  # "anti-dumping" may be written "antidumping"
        joined = re.match(r"\w*", rest[1:]).group()
        return frozenset({(first.group(), True), (first.group() + joined, False)})
    return frozenset({(first.group(), True)})


def _regex_triggers(source: str) -> frozenset[_Trigger] | None:
    """Triggers of a regex cue, or None when its first word cannot be predicted.

    This lets the matcher try a cue only where an article word can start it (a dict lookup)
    instead of running hundreds of regexes over the whole text. It reads the regex with the
    standard library's parser; anything it cannot reason about returns None and that cue falls
    back to a full scan (correct, only slower).
    """
    try:
        from re import _parser as sre  # CPython 3.11+

        items = list(sre.parse(source, re.IGNORECASE))
    except Exception:  # noqa: BLE001 - any surprise just means "scan the whole text"
        return None

    def one(op: Any, av: Any, heads: set[str]) -> tuple[set[str], bool]:
        if op is sre.LITERAL:
            return {h + chr(av).lower() for h in heads}, True
        if op is sre.IN:
            chars: list[str] = []
            for kind, val in av:
                if kind is sre.LITERAL:
                    chars.append(chr(val))
                elif kind is sre.RANGE and val[1] - val[0] < 16:
                    chars.extend(chr(c) for c in range(val[0], val[1] + 1))
                elif kind is sre.CATEGORY and val is sre.CATEGORY_DIGIT:
                    chars.extend("0123456789")
                else:
                    return heads, False
            if len(chars) > 16:
                return heads, False
            return {h + c.lower() for h in heads for c in chars}, True
        if op is sre.SUBPATTERN:
            return seq(list(av[3]), heads)
        if op is sre.BRANCH:
            out: set[str] = set()
            complete = True
            for alt in av[1]:
                got, done = seq(list(alt), heads)
                out |= got
                complete = complete and done
            return out, complete
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, item = av
            if low == 0 and high == 1:  # optional: "U\.?S" gives "u.s" and "us"
                got, done = seq(list(item), heads)
                return (heads | got, True) if done else (heads, False)
            if low >= 1:
                return seq(list(item), heads)[0], False
        return heads, False

    def seq(parts: list[Any], heads: set[str]) -> tuple[set[str], bool]:
        for op, av in parts:
            if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
                continue  # zero-width
            heads, complete = one(op, av, heads)
            if not complete or len(heads) > 64:
                return heads, False
        return heads, True

    heads, complete = seq(items, {""})
    triggers: set[_Trigger] = set()
    for head in heads:
        word = re.match(r"\w*", head).group()
        if not word:
            return None
        # a non-word character right after the word (or the end of a fully literal regex)
        # means the article word must be exactly this one
        triggers.add((word, complete or len(word) < len(head)))
    return frozenset(triggers) if triggers else None


@dataclass(frozen=True)
class _Entry:
    """A cue of one topic."""

    topic: str
    cue: Cue


@lru_cache(maxsize=8192)
def _compile(source: str) -> re.Pattern[str]:
    """Compile once per process: taxonomies derived with with_phrases share the work."""
    return re.compile(source, re.IGNORECASE)


class _Probe:
    """A regex tried, anchored, where a triggering word starts; compiled on first use.

    Literal phrases of one topic that share a first word are folded into one alternation
    (longest first, negatives first on ties) so each occurrence costs one ``match`` call per
    topic rather than one per phrase; ``names`` maps its named groups back to entries.
    Compiling lazily keeps loading a taxonomy (and deriving a team's) fast: an article only
    ever needs the probes its words trigger.
    """

    __slots__ = ("source", "single", "names", "rx")

    def __init__(self, source: str, single: int = -1, names: Mapping[str, int] | None = None):
        self.source = source
        self.single = single
        self.names = names
        self.rx: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self.rx is None:
            self.rx = _compile(self.source)
        return self.rx

    def entry(self, m: re.Match[str]) -> int:
        return self.names[m.lastgroup or ""] if self.names else self.single


class _Matcher:
    """All cues of a taxonomy, indexed by the words that can start them.

    One pass over the article's words looks each word up (memoised per taxonomy); where a word
    can start a cue, that cue's anchored regex is tried there. Cues whose first word cannot be
    predicted are scanned in full. Matches of every topic come back together; overlaps are
    resolved per topic later, so one phrase can count for several topics.
    """

    __slots__ = ("entries", "probes", "exact", "by_prefix", "scan", "_memo")

    _MEMO_MAX = 200_000

    def __init__(
        self, topics: Mapping[str, Topic], source: str, off_topic: tuple[Cue, ...] = ()
    ) -> None:
        self.entries: list[_Entry] = []
        self.probes: list[_Probe] = []
        self.scan: list[tuple[int, re.Pattern[str]]] = []
        self._memo: dict[str, tuple[int, ...]] = {}
        folded: dict[tuple[_Trigger, str], list[tuple[int, str]]] = {}  # (trigger, topic)
        probes_of: dict[_Trigger, list[int]] = {}
        groups = [(t.id, t.cues()) for t in topics.values()] + [(_OFF_TOPIC, off_topic)]
        for topic_id, topic_cues in groups:
            for cue in topic_cues:
                index = len(self.entries)
                self.entries.append(_Entry(topic_id, cue))
                if not cue.regex:
                    body = _phrase_regex(cue.text)  # escaped: always valid
                    triggers = _phrase_triggers(cue.text)
                    if triggers is None:
                        self.scan.append((index, _compile(rf"(?<!\w)(?:{body})(?!\w)")))
                    for trigger in triggers or ():
                        folded.setdefault((trigger, topic_id), []).append((index, body))
                    continue
                owner = f"topic '{topic_id}'" if topic_id else "[off_topic]"
                where = f"{source}: {owner}: pattern {cue.text!r}"
                try:
                    rx = _compile(rf"(?:{cue.text})(?!\w)")
                except re.error as exc:
                    raise ValueError(f"{where} is not a valid regex: {exc}") from None
                if rx.groupindex:
                    raise ValueError(f"{where} must not use named groups; write (?:...) instead")
                if rx.match(""):
                    raise ValueError(f"{where} matches empty text")
                triggers = _regex_triggers(cue.text)
                if triggers is None:
                    self.scan.append((index, _compile(rf"(?<!\w){rx.pattern}")))
                    continue
                self.probes.append(_Probe(rx.pattern, single=index))
                for trigger in triggers:
                    probes_of.setdefault(trigger, []).append(len(self.probes) - 1)
        for (trigger, _), members in folded.items():
            members.sort(
                key=lambda m: (
                    -len(self.entries[m[0]].cue.text.rstrip("*")),
                    not self.entries[m[0]].cue.negative,
                )
            )
            if len(members) == 1:
                probe = _Probe(rf"(?:{members[0][1]})(?!\w)", single=members[0][0])
            else:
                alternation = "|".join(f"(?P<c{i}>{body})" for i, body in members)
                probe = _Probe(
                    rf"(?:{alternation})(?!\w)",
                    names=MappingProxyType({f"c{i}": i for i, _ in members}),
                )
            self.probes.append(probe)
            probes_of.setdefault(trigger, []).append(len(self.probes) - 1)
        # exact words in one dict; prefixes bucketed by length (1, 2, 3 = "3 or more") so a
        # word needs four dict lookups to find every probe it can start
        self.exact: dict[str, tuple[int, ...]] = {}
        self.by_prefix: dict[int, dict[str, list[tuple[str, tuple[int, ...]]]]] = {
            1: {},
            2: {},
            3: {},
        }
        for (word, exact), probe_ids in probes_of.items():
            if exact:
                self.exact[word] = self.exact.get(word, ()) + tuple(probe_ids)
            else:
                size = min(len(word), 3)
                self.by_prefix[size].setdefault(word[:size], []).append((word, tuple(probe_ids)))

    def _probes_for(self, word: str) -> tuple[int, ...]:
        found: list[int] = list(self.exact.get(word, ()))
        for size in (1, 2, 3):
            for prefix, probe_ids in self.by_prefix[size].get(word[:size], ()):
                if word.startswith(prefix):
                    found.extend(probe_ids)
        result = tuple(dict.fromkeys(found))
        if len(self._memo) >= self._MEMO_MAX:
            self._memo.clear()
        self._memo[word] = result
        return result

    def find(self, text: str) -> list[tuple[int, int, int]]:
        """All cue matches in ``text`` as (entry index, start, end), overlaps included."""
        if not text:
            return []
        low = text.lower()
        if len(low) != len(text):  # rare characters whose lower case is longer
            low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        memo = self._memo
        probes = self.probes
        out: list[tuple[int, int, int]] = []
        for word_match in _WORD.finditer(low):
            word = word_match.group()
            probe_ids = memo.get(word)
            if probe_ids is None:
                probe_ids = self._probes_for(word)
            if probe_ids:
                i = word_match.start()
                for probe_id in probe_ids:
                    probe = probes[probe_id]
                    m = (probe.rx or probe.compiled()).match(text, i)
                    if m:
                        out.append((probe.entry(m), i, m.end()))
        for index, rx in self.scan:
            out.extend((index, m.start(), m.end()) for m in rx.finditer(text))
        return out


_WORD = re.compile(r"\w+")


# --------------------------------------------------------------------------- the taxonomy


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
        self._matcher = _Matcher(self._topics, source, self._off_topic)

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
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read taxonomy file {file}: {exc.strerror or exc}") from None
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ValueError(f"{file}: taxonomy file is not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{file}: invalid TOML: {exc}") from None
        return cls.from_dict(data, source=str(file))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<taxonomy>") -> Taxonomy:
        """Build from the parsed TOML structure (also handy for tests and stored overrides)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"{source}: taxonomy must be a table")
        unknown = set(data) - {"version", "params", "off_topic", "topics"}
        if unknown:
            raise ValueError(f"{source}: unknown top-level key(s): {', '.join(sorted(unknown))}")
        params = _parse_params(data.get("params", {}), source)
        topics_data = data.get("topics")
        if not isinstance(topics_data, Mapping) or not topics_data:
            raise ValueError(f"{source}: missing [topics.<id>] tables")
        topics = [_parse_topic(tid, body, params, source) for tid, body in topics_data.items()]
        return cls(topics, params, source, _parse_off_topic(data.get("off_topic", {}), source))

    def with_phrases(self, extra: Mapping[str, Sequence[str]]) -> Taxonomy:
        """A copy with team phrases added (``/digest topics add <id> "phrase"``).

        Phrases for an existing id are appended to it; an unknown id becomes a new topic whose
        label is the id. Team phrases weigh ``params.team_weight`` because a team that names a
        phrase means it. Phrases already present are ignored. Results are cached, so calling
        this per article with a team's stored phrases is cheap.
        """
        key: list[tuple[str, tuple[str, ...]]] = []
        for tid, phrases in extra.items():
            if not isinstance(tid, str) or not _TOPIC_ID.match(tid):
                raise ValueError(
                    f"topic id {tid!r} must be lower-case letters, digits or '_' "
                    "(starting with a letter, at most 40 characters)"
                )
            if isinstance(phrases, str):
                phrases = [phrases]
            cleaned = tuple(_clean_phrase(p, f"team phrase for topic '{tid}'") for p in phrases)
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
        return _tag(self, title or "", text or "")


# --------------------------------------------------------------------------- parsing helpers


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _parse_params(data: Any, source: str) -> Params:
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: [params] must be a table")
    known = {f.name: f for f in fields(Params)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ValueError(
                f"{source}: unknown parameter '{key}' in [params] "
                f"(known: {', '.join(sorted(known))})"
            )
        is_int = known[key].type in ("int", int)
        if not _is_number(value) or (is_int and not isinstance(value, int)):
            kind = "an integer" if is_int else "a number"
            raise ValueError(f"{source}: parameter '{key}' must be {kind}, got {value!r}")
        positive = key.endswith("_weight") and key != "negative_weight"
        if value < 0 or (positive and value <= 0):
            raise ValueError(f"{source}: parameter '{key}' must be positive, got {value!r}")
        values[key] = value
    params = Params(**values)
    if not 0 < params.min_score < 1:
        raise ValueError(f"{source}: parameter 'min_score' must be between 0 and 1")
    if params.score_scale <= 0:
        raise ValueError(f"{source}: parameter 'score_scale' must be positive")
    if not 0 <= params.repeat_decay <= 1:
        raise ValueError(f"{source}: parameter 'repeat_decay' must be between 0 and 1")
    return params


def _clean_phrase(phrase: Any, where: str) -> str:
    if not isinstance(phrase, str):
        raise ValueError(f"{where}: phrases must be strings, got {phrase!r}")
    text = " ".join(phrase.strip().strip("\"'\u201c\u201d").split())
    if not text.rstrip("*").strip():
        raise ValueError(f"{where}: empty phrase")
    if "*" in text.rstrip("*") or text.endswith("**"):
        raise ValueError(f"{where}: '*' is only allowed once, at the end of a phrase: {text!r}")
    return text


def _parse_cues(
    value: Any, *, where: str, default: float, regex: bool, negative: bool
) -> tuple[Cue, ...]:
    """Accept ``["a", "b"]`` (default weight) or a table ``{"a" = 2.0, ...}``."""
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, list):
        items = [(v, default) for v in value]
    else:
        raise ValueError(f'{where} must be a list of strings or a table of "text" = weight')
    cues: list[Cue] = []
    seen: set[str] = set()
    for text, weight in items:
        if regex:
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{where}: patterns must be non-empty strings, got {text!r}")
            text = text.strip()
        else:
            text = _clean_phrase(text, where)
        # a negative may weigh 0: it then only masks the positive cues it overlaps
        if not _is_number(weight) or weight < 0 or (weight == 0 and not negative):
            kind = "a number >= 0" if negative else "a positive number"
            raise ValueError(f"{where}: weight for {text!r} must be {kind}, got {weight!r}")
        key = text if regex else text.lower()
        if key in seen:
            raise ValueError(f"{where}: {text!r} is listed twice")
        seen.add(key)
        cues.append(Cue(text, float(weight), regex=regex, negative=negative))
    return tuple(cues)


def _parse_off_topic(body: Any, source: str) -> tuple[Cue, ...]:
    where = f"{source}: [off_topic]"
    if not isinstance(body, Mapping):
        raise ValueError(f"{where} must be a table")
    unknown = set(body) - {"phrases", "patterns"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    found: list[Cue] = []
    for key, regex in (("phrases", False), ("patterns", True)):
        if key in body:
            found += _parse_cues(
                body[key], where=f"{where} {key}", default=1.0, regex=regex, negative=True
            )
    return tuple(found)


def _parse_topic(tid: Any, body: Any, params: Params, source: str) -> Topic:
    where = f"{source}: topic '{tid}'"
    if not isinstance(tid, str) or not _TOPIC_ID.match(tid):
        raise ValueError(
            f"{where}: ids must be lower-case letters, digits or '_', starting with a letter"
        )
    if not isinstance(body, Mapping):
        raise ValueError(f"{where}: must be a table ([topics.{tid}])")
    unknown = set(body) - _TOPIC_KEYS
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
            f"(allowed: {', '.join(sorted(_TOPIC_KEYS))})"
        )
    label = body.get("label", tid)
    if not isinstance(label, str) or not label.strip():
        raise ValueError(f"{where}: 'label' must be a non-empty string")
    description = body.get("description", "")
    if not isinstance(description, str):
        raise ValueError(f"{where}: 'description' must be a string")
    min_score = body.get("min_score")
    if min_score is not None and (not _is_number(min_score) or not 0 < min_score < 1):
        raise ValueError(f"{where}: 'min_score' must be a number between 0 and 1")

    def cues(key: str, default: float, regex: bool, negative: bool) -> tuple[Cue, ...]:
        if key not in body:
            return ()
        return _parse_cues(
            body[key], where=f"{where}: {key}", default=default, regex=regex, negative=negative
        )

    phrases = cues("phrases", params.default_weight, False, False)
    patterns = cues("patterns", params.default_weight, True, False)
    negative = cues("negative", params.negative_weight, False, True) + cues(
        "negative_patterns", params.negative_weight, True, True
    )
    if not phrases and not patterns:
        raise ValueError(f"{where}: needs at least one entry in 'phrases' or 'patterns'")
    return Topic(
        id=tid,
        label=label.strip(),
        phrases=phrases,
        patterns=patterns,
        negative=negative,
        description=description.strip(),
        min_score=float(min_score) if min_score is not None else None,
    )


# --------------------------------------------------------------------------- tagging

# A sentence ends at . ! ? (plus closing quotes/brackets) before whitespace, or at a blank line.
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


def _resolve(hits: list[tuple[int, int, int]], entries: list[_Entry]) -> list[tuple[int, int, int]]:
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


def _tag(taxonomy: Taxonomy, title: str, text: str) -> list[TopicTag]:
    params = taxonomy.params
    matcher = taxonomy._matcher
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
    off_topic = sum(v for v, _ in contributions(by_topic.pop(_OFF_TOPIC, [])).values())
    tags: list[tuple[float, int, TopicTag]] = []
    order = {tid: i for i, tid in enumerate(taxonomy.topics)}
    for tid, hits in by_topic.items():
        raw = -off_topic
        evidence: list[tuple[float, str]] = []
        for index, (value, surface) in contributions(hits).items():
            if entries[index].cue.negative:
                raw -= value
            else:
                raw += value
                evidence.append((value, surface))
        if raw <= 0:
            continue
        score = 1.0 - math.exp(-raw / params.score_scale)
        topic = taxonomy.topics[tid]
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
