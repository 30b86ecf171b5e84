"""The project's default summarizer: Sumy's own signals, a position prior and the article's tags,
combined by a few fitted weights, then a redundancy-aware selection that reads well.

Why this shape: on news the position of a sentence is the strongest single signal (Lead-3 beats
every plain Sumy method against human summaries), so the lead gets a strong prior and Sumy's
centrality (LexRank, TextRank), Luhn significance and Edmundson cue/title/location re-rank
within it. The weights are fitted by ``bench/fit_summary_weights.py`` with grouped
cross-validation and shipped in ``data/summary_weights.json``; only held-out numbers are
reported (``bench/quality.py``).

Selection is greedy, in the spirit of MMR: each step takes the candidate with the best score
minus its similarity to what is already chosen, plus a bonus for each of the article's topic
tags whose evidence it brings in for the first time. Three reading rules hold throughout:
sentences come back in article order; a quotation running over several sentences is one
candidate, kept whole or left out; and the summary does not open on a pronoun or on a quote
whose speaker is unknown when another sentence can open it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from sumy.models.dom import ObjectDocumentModel, Sentence
from sumy.summarizers._summarizer import AbstractSummarizer
from sumy.summarizers.edmundson import EdmundsonSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer

from .models import TopicTag

__all__ = [
    "FEATURES",
    "WEIGHTS_PATH",
    "PolicySummarizer",
    "Weights",
    "Layout",
    "layout",
    "quote_groups",
    "is_dangling_opener",
    "sentence_features",
    "tag_hits",
]

WEIGHTS_PATH = Path(__file__).resolve().parent / "data" / "summary_weights.json"

# One column per signal, each scaled to 0..1 within the article (so weights compare across
# articles of any length). "lead" is the position prior; "topics" the share of the article's
# tags with evidence in the sentence; "length" lets the fit prefer sentences of useful length.
FEATURES: tuple[str, ...] = (
    "first",
    "lead",
    "lexrank",
    "textrank",
    "luhn",
    "cue",
    "title",
    "location",
    "topics",
    "length",
)

_MAX_QUOTE_SENTENCES = 4  # a longer "quotation" is an unbalanced quote mark, not a quotation


@dataclass(frozen=True)
class Weights:
    """The fitted numbers: one weight per feature, the redundancy penalty, the topic bonus."""

    weights: dict[str, float]
    redundancy: float
    topic_bonus: float

    @classmethod
    def load(cls, path: Path = WEIGHTS_PATH) -> Weights:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            {name: float(data["weights"].get(name, 0.0)) for name in FEATURES},
            float(data["redundancy"]),
            float(data["topic_bonus"]),
        )

    def vector(self) -> np.ndarray:
        return np.array([self.weights[name] for name in FEATURES])


@lru_cache(maxsize=1)
def shipped_weights() -> Weights:
    """The weights in ``data/summary_weights.json``, read once per process."""
    return Weights.load()


# --------------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------------


def _scaled(values: Iterable[float]) -> np.ndarray:
    """0..1 by the article's own maximum (all zeros stay zeros)."""
    array = np.maximum(np.asarray(list(values), dtype=float), 0.0)
    top = array.max() if array.size else 0.0
    return array / top if top > 0 else array


def _lexrank(summarizer: LexRankSummarizer, document: ObjectDocumentModel) -> tuple[list, object]:
    """Sumy's LexRank scores from its own tf, idf and power method, with the idf-modified cosine
    computed as one matrix product (the same numbers as ``cosine_similarity``, far fewer loops).
    Also returns the cosine matrix, which the selection reuses for redundancy."""
    words = [summarizer._to_words_set(s) for s in document.sentences]
    tf = summarizer._compute_tf(words)
    idf = summarizer._compute_idf(words)
    vocabulary = {term: i for i, term in enumerate(idf)}
    vectors = np.zeros((len(words), max(1, len(vocabulary))))
    for row, metrics in enumerate(tf):
        for term, value in metrics.items():
            vectors[row, vocabulary[term]] = value * idf[term]
    norms = np.linalg.norm(vectors, axis=1)
    norms[norms == 0] = 1.0
    unit = vectors / norms[:, None]
    cosine = unit @ unit.T
    adjacency = (cosine > summarizer.threshold).astype(float)
    degrees = adjacency.sum(axis=1)
    degrees[degrees == 0] = 1.0
    scores = summarizer.power_method(adjacency / degrees[:, None], summarizer.epsilon)
    return list(scores), cosine


def _rate(summarizer: object, document: ObjectDocumentModel) -> list[float]:
    ratings = summarizer.rate_sentences(document)
    return [ratings[s] for s in document.sentences]


_WORD_RE = re.compile(r"\w+")


def tag_hits(sentences: Sequence[str], tags: Sequence[TopicTag]) -> list[frozenset[str]]:
    """For each sentence, the topics whose evidence (the tagger's matched text) appears in it."""
    patterns = []
    for tag in tags:
        phrases = [" ".join(e.split()) for e in tag.evidence if e.strip()]
        if phrases:
            alternation = "|".join(
                r"\s+".join(map(re.escape, p.split())) for p in sorted(phrases, key=len)[::-1]
            )
            patterns.append((tag.topic, re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.I)))
    return [frozenset(t for t, rx in patterns if rx.search(s)) for s in sentences]


@dataclass
class Signals:
    """Per-sentence features (rows follow ``document.sentences``) and the similarity matrix."""

    features: np.ndarray
    similarity: np.ndarray
    topics: list[frozenset[str]]


def sentence_features(
    document: ObjectDocumentModel,
    *,
    stemmer: Callable[[str], str],
    stop_words: frozenset[str],
    bonus_words: Sequence[str],
    stigma_words: Sequence[str],
    tags: Sequence[TopicTag] = (),
    textrank: object | None = None,
) -> Signals:
    """Every signal of every sentence, computed with Sumy's summarizers on Sumy's document.

    ``document`` carries the title as a heading when there is one (Edmundson's title and
    location methods read headings). ``textrank`` may be any summarizer with Sumy's
    ``rate_sentences`` (the registry's, which may be a faster drop-in).
    """
    sentences = document.sentences
    n = len(sentences)
    texts = [str(s) for s in sentences]

    lexrank = LexRankSummarizer(stemmer)
    lexrank.stop_words = stop_words
    lex_scores, cosine = _lexrank(lexrank, document)
    if textrank is None or not hasattr(textrank, "rate_sentences"):
        textrank = TextRankSummarizer(stemmer)
        textrank.stop_words = stop_words
    luhn = LuhnSummarizer(stemmer)
    luhn.stop_words = stop_words
    significant = luhn._get_significant_words(document.words)
    edmundson = EdmundsonSummarizer(stemmer)
    edmundson.bonus_words = bonus_words
    edmundson.stigma_words = stigma_words
    edmundson.null_words = stop_words

    cue = _rate(edmundson._build_cue_method_instance(), document)
    topics = tag_hits(texts, tags)
    lengths = np.array([len(s.words) for s in sentences], dtype=float)
    columns = {
        "first": np.array([1.0 if i == 0 else 0.0 for i in range(n)]),
        "lead": np.array([1.0 / (1.0 + i) for i in range(n)]),
        "lexrank": _scaled(lex_scores),
        "textrank": _scaled(_rate(textrank, document)),
        "luhn": _scaled(luhn.rate_sentence(s, significant) for s in sentences),
        "cue": _scaled(np.asarray(cue) - min(0.0, min(cue, default=0.0))),
        "title": _scaled(_rate(edmundson._build_title_method_instance(), document)),
        "location": _scaled(_rate(edmundson._build_location_method_instance(), document)),
        "topics": np.array([len(t) / len(tags) if tags else 0.0 for t in topics]),
        "length": np.minimum(lengths, 50.0) / 50.0,
    }
    features = np.column_stack([columns[name] for name in FEATURES]) if n else np.zeros((0, 0))
    return Signals(features, cosine, topics)


# --------------------------------------------------------------------------------------------
# Reading rules
# --------------------------------------------------------------------------------------------

_OPEN_QUOTES = "“«"
_CLOSE_QUOTES = "”»"


def _quote_balance(text: str, inside: bool) -> bool:
    """Whether a quotation is still open after ``text``, given whether one was open before."""
    for ch in text:
        if ch in _OPEN_QUOTES:
            inside = True
        elif ch in _CLOSE_QUOTES:
            inside = False
        elif ch == '"':
            inside = not inside
    return inside


def quote_groups(document: ObjectDocumentModel) -> list[list[int]]:
    """Sentence indices grouped so a quotation spanning sentences is one group.

    A quotation never spans paragraphs (news reopens the quote mark in the next paragraph), and
    a run longer than a few sentences is an unbalanced quote mark, so its sentences stand alone.
    """
    groups: list[list[int]] = []
    index = 0
    for paragraph in document.paragraphs:
        inside = False
        current: list[int] = []
        for sentence in paragraph.sentences:
            current.append(index)
            inside = _quote_balance(str(sentence), inside)
            if not inside:
                groups.append(current)
                current = []
            index += 1
        if current:  # the quote never closed in this paragraph
            groups.extend([[i] for i in current])
    split: list[list[int]] = []
    for group in groups:
        split.extend([[i] for i in group] if len(group) > _MAX_QUOTE_SENTENCES else [group])
    return split


_PRONOUN_OPENER = re.compile(
    r"""^[\s(]*(?:he|she|it|they|him|her|his|hers|its|their|theirs|them|we|our|us|i|
    this|these|those|that|such|both|another|the\ former|the\ latter)\b(?!['’]s\b\s+[A-Z])""",
    re.IGNORECASE | re.VERBOSE,
)
_SPEECH = r"(?:said|says|say|told|tells|added|adds|asked|wrote|writes|explained|insisted|warned|stated|argued|noted|according\ to)"
_PRONOUNS = r"(?:he|she|it|they|we|i|you|one|this|that)"
# '..., said Janet Yellen' / '..., Yellen said' / 'according to the ministry': a named speaker.
_NAMED_SPEAKER = re.compile(
    rf"""(?:\b{_SPEECH}\s+(?!{_PRONOUNS}\b)(?:the\s+)?[A-Z][\w.'’-]+
        | \b(?!{_PRONOUNS}\b)[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+)*,?(?:\s+\w+){{0,6}}?\s+{_SPEECH}\b
        | \baccording\ to\s+\w+)""",
    re.VERBOSE,
)


def _after_last_quote(text: str) -> str:
    cut = max(text.rfind('"'), max(text.rfind(c) for c in _CLOSE_QUOTES))
    return text[cut + 1 :] if cut >= 0 else text


def is_dangling_opener(text: str) -> bool:
    """A sentence that cannot open a summary: it starts with a pronoun (whose referent would be
    missing) or with a quotation whose speaker is not named after it."""
    stripped = text.lstrip()
    if _PRONOUN_OPENER.match(stripped):
        return True
    if stripped[:1] in "\"“‘'":
        return not _NAMED_SPEAKER.search(_after_last_quote(stripped))
    return False


# --------------------------------------------------------------------------------------------
# Selection
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """The candidates of one article: quote groups (runs of consecutive sentences), whether
    each would open badly, and the topics each brings."""

    groups: tuple[tuple[int, ...], ...]
    starts: np.ndarray
    sizes: np.ndarray
    opens_badly: np.ndarray
    topics: tuple[frozenset[str], ...]

    @classmethod
    def of(
        cls,
        groups: Sequence[Sequence[int]],
        dangling: Sequence[bool],
        topics: Sequence[frozenset[str]],
    ) -> Layout:
        return cls(
            tuple(tuple(g) for g in groups),
            np.array([g[0] for g in groups], dtype=int),
            np.array([len(g) for g in groups], dtype=int),
            np.array([bool(dangling[g[0]]) for g in groups], dtype=bool),
            tuple(frozenset().union(*(topics[i] for i in g)) for g in groups),
        )


def layout(document: ObjectDocumentModel, topics: Sequence[frozenset[str]]) -> Layout:
    texts = [str(s) for s in document.sentences]
    return Layout.of(quote_groups(document), [is_dangling_opener(t) for t in texts], topics)


def select(
    scores: np.ndarray,
    similarity: np.ndarray,
    candidates: Layout,
    count: int,
    *,
    redundancy: float,
    topic_bonus: float,
) -> list[int]:
    """Greedy MMR over quote groups: best score minus redundancy plus new-topic bonus, until
    ``count`` sentences. A group that opens badly may join only after a sentence before it is
    chosen. Returns sentence indices in article order."""
    n = len(scores)
    if not n or count <= 0:
        return []
    groups, starts, sizes = candidates.groups, candidates.starts, candidates.sizes
    opens_badly, group_topics = candidates.opens_badly, candidates.topics
    means = np.add.reduceat(np.asarray(scores, dtype=float), starts) / sizes
    any_topics = topic_bonus > 0 and any(group_topics)
    available = np.ones(len(groups), dtype=bool)
    chosen: list[int] = []
    covered: set[str] = set()
    closest = np.full(n, -np.inf)  # each sentence's similarity to the closest chosen one
    available = np.ones(len(groups), dtype=bool)
    chosen: list[int] = []
    covered: set[str] = set()
    while len(chosen) < count:
        first = min(chosen) if chosen else n
        allowed = available & (sizes <= count - len(chosen)) & (~opens_badly | (starts > first))
        if not allowed.any():
            break
        values = means.copy()
        if chosen:
            values -= redundancy * np.maximum.reduceat(closest, starts)
        if any_topics:
            values += topic_bonus * np.array([len(t - covered) for t in group_topics])
        values[~allowed] = -np.inf
        best = int(np.argmax(values))
        members = list(groups[best])
        chosen.extend(members)
        covered |= group_topics[best]
        available[best] = False
        closest = np.maximum(closest, similarity[members].max(axis=0))
    if len(chosen) < count:  # only dangling or oversized groups were left: fill in order
        for g in np.flatnonzero(available):
            if sizes[g] <= count - len(chosen):
                chosen.extend(groups[g])
    return sorted(chosen)


class PolicySummarizer(AbstractSummarizer):
    """Sumy summarizer: fitted combination of Sumy's signals, position, and topic evidence.

    Callers inject the article's topic ``tags`` (the tagger's output, so this module never
    tags) and the Edmundson word lists; the document may carry the title as a heading.
    """

    def __init__(
        self,
        stemmer: Callable[[str], str],
        *,
        stop_words: frozenset[str],
        bonus_words: Sequence[str],
        stigma_words: Sequence[str],
        tags: Sequence[TopicTag] = (),
        weights: Weights | None = None,
        textrank: object | None = None,
    ) -> None:
        super().__init__(stemmer)
        self.stop_words = frozenset(stop_words)
        self.bonus_words = list(bonus_words)
        self.stigma_words = list(stigma_words)
        self.tags = list(tags)
        self.weights = weights or shipped_weights()
        self.textrank = textrank

    def signals(self, document: ObjectDocumentModel) -> Signals:
        return sentence_features(
            document,
            stemmer=self._stemmer,
            stop_words=self.stop_words,
            bonus_words=self.bonus_words,
            stigma_words=self.stigma_words,
            tags=self.tags,
            textrank=self.textrank,
        )

    def pick(self, document: ObjectDocumentModel, signals: Signals, count: int) -> list[int]:
        """Indices of the chosen sentences, given precomputed signals (the fit script reuses
        one ``Signals`` across many weightings)."""
        return select(
            signals.features @ self.weights.vector(),
            signals.similarity,
            layout(document, signals.topics),
            count,
            redundancy=self.weights.redundancy,
            topic_bonus=self.weights.topic_bonus,
        )

    def __call__(self, document: ObjectDocumentModel, sentences_count: int) -> tuple[Sentence, ...]:
        sentences = document.sentences
        if not sentences:
            return ()
        picked = self.pick(document, self.signals(document), int(sentences_count))
        return tuple(sentences[i] for i in picked)
