"""Find every cue of a taxonomy in a text in one pass over its words.

Rather than run ~800 regexes over each article, cues are indexed by the words that can start
them; one pass over the article's words tries only the cues those words can start (about 5 ms
for 5,000 words on an idle machine).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from digests.topics.model import Cue, Topic

_SEPARATORS = r"[\s\-\u2010\u2011\u2012\u2013/]"
OFF_TOPIC = ""  # the pseudo-topic id of [off_topic] cues inside the matcher


def phrase_regex(phrase: str) -> str:
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
class Entry:
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


class Matcher:
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
        self.entries: list[Entry] = []
        self.probes: list[_Probe] = []
        self.scan: list[tuple[int, re.Pattern[str]]] = []
        self._memo: dict[str, tuple[int, ...]] = {}
        folded: dict[tuple[_Trigger, str], list[tuple[int, str]]] = {}  # (trigger, topic)
        probes_of: dict[_Trigger, list[int]] = {}
        groups = [(t.id, t.cues()) for t in topics.values()] + [(OFF_TOPIC, off_topic)]
        for topic_id, topic_cues in groups:
            for cue in topic_cues:
                index = len(self.entries)
                self.entries.append(Entry(topic_id, cue))
                if not cue.regex:
                    body = phrase_regex(cue.text)  # escaped: always valid
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
