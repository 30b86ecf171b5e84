"""Extractive summaries: Sumy's summarizers and a lead baseline, chosen from a registry by name.

Every method runs on the same document: the cleaned text (``clean_text``) parsed by Sumy's
``PlaintextParser`` with our ``NewsTokenizer``, minus near-empty, boilerplate and duplicate
sentences. On a text without such sentences each Sumy method therefore selects exactly what
Sumy's own class selects with the same tokenizer, English stemmer and stop words.

Heavy objects (tokenizer, stemmer, stop words, summarizer instances) are built once per process.
LSA runs numpy's SVD: entry points should set ``OPENBLAS_NUM_THREADS=1`` before numpy is
imported (it is 10-25x slower on small matrices otherwise); this module sets nothing global.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache, lru_cache

from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer
from sumy.parsers.plaintext import PlaintextParser
from sumy.summarizers.edmundson import EdmundsonSummarizer

from .default_summarizer import PolicySummarizer, Weights
from .errors import InputError
from .fast_sumy import (
    FastEdmundson,
    FastLexRank,
    FastLsa,
    FastLuhn,
    FastReduction,
    FastSumBasic,
    FastTextRank,
    first_sentences,
)
from .models import SummaryResult, TopicTag
from .text import (
    NewsTokenizer,
    clean_text,
    is_junk_sentence,
    split_sentences,
    stop_words,
    word_count,
)

__all__ = [
    "DEFAULT_BONUS_WORDS",
    "DEFAULT_METHOD",
    "METHODS",
    "MAX_SENTENCES",
    "MIN_SENTENCES",
    "RANK_LIMITS",
    "STIGMA_WORDS",
    "build_document",
    "default_length",
    "policy_summarizer",
    "stemmer",
    "stop_words",
    "summarize",
    "tokenizer",
]

LANGUAGE = "english"
MIN_SENTENCES = 1
MAX_SENTENCES = 10
TOO_SHORT_NOTE = "Too short to summarize; here it is as is."

# What "default" resolves to: our Sumy summarizer (digests/default_summarizer.py), the best
# against human references in held-out folds (bench/quality.py); "lead" stays selectable.
DEFAULT_METHOD = "policy"

# Sumy's classes with vectorized rating (digests/fast_sumy.py): the same sentences, faster.
SUMY_METHODS: dict[str, type] = {
    "lexrank": FastLexRank,
    "textrank": FastTextRank,
    "lsa": FastLsa,
    "luhn": FastLuhn,
    "edmundson": FastEdmundson,
    "sumbasic": FastSumBasic,
    "reduction": FastReduction,
}
# The superlinear methods rank at most this many sentences (the first ones), so a text near
# TEXT_MAX_CHARS (~1,500 news sentences, or far more short ones) stays within about 2 s and
# bounded memory: graph methods grow with the square of the sentence count, LSA's SVD with its
# cube. Measured in bench/summarize_speed.py; Luhn and Edmundson are linear and uncapped.
RANK_LIMITS: dict[str, int] = {
    "lexrank": 2000,
    "textrank": 2000,
    "reduction": 2000,
    "sumbasic": 2000,
    "lsa": 500,
    "policy": 2000,
}
RANK_LIMIT_NOTE = "Long text: summarized from its first {limit:,} of {total:,} sentences."
METHODS: tuple[str, ...] = ("default", "lead", "policy", *SUMY_METHODS)

# Edmundson's cue method rewards bonus words and punishes stigma words. Bonus words default to
# the policy taxonomy (callers pass their own taxonomy phrases); stigma words are boilerplate.
DEFAULT_BONUS_WORDS: tuple[str, ...] = (
    "trade", "tariffs", "export controls", "sanctions", "fentanyl", "taiwan",
    "industrial policy", "investment restrictions", "technology", "semiconductors",
    "diplomacy", "security", "congress", "legislation", "regulation", "government",
)  # fmt: skip
STIGMA_WORDS: tuple[str, ...] = (
    "subscribe", "subscription", "newsletter", "click", "advertisement", "advertising",
    "copyright", "cookie", "cookies", "sign", "login", "share", "follow", "download",
    "app", "sponsored", "promo", "podcast",
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Shared, built-once NLP objects
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def tokenizer() -> NewsTokenizer:
    """The one tokenizer every method uses (no punkt_tab needed)."""
    return NewsTokenizer(LANGUAGE)


@lru_cache(maxsize=1)
def stemmer() -> Callable[[str], str]:
    """Sumy's English (Snowball) stemmer behind a memo: same stems, far fewer calls."""
    return lru_cache(maxsize=200_000)(Stemmer(LANGUAGE))


def _configured(cls: type) -> object:
    summarizer = cls(stemmer())
    if hasattr(summarizer, "stop_words"):
        summarizer.stop_words = stop_words()
    return summarizer


@cache
def _summarizer(name: str) -> object:
    """One configured instance per method; Sumy's summarizers keep no per-call state."""
    return _configured(SUMY_METHODS[name])


def _bonus_words(phrases: Iterable[str]) -> list[str]:
    return list(_bonus_words_of(tuple(phrases)))


@lru_cache(maxsize=16)
def _bonus_words_of(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """Tokenized once per phrase list: a taxonomy has hundreds of phrases."""
    words = {w.lower() for p in phrases for w in tokenizer().to_words(p)}
    return tuple(sorted(words - stop_words()))


def _edmundson(bonus_words: Iterable[str]) -> EdmundsonSummarizer:
    """Edmundson needs all three lists or it raises; the setters stem them."""
    summarizer = SUMY_METHODS["edmundson"](stemmer())
    summarizer.bonus_words = _bonus_words(bonus_words) or _bonus_words(DEFAULT_BONUS_WORDS)
    summarizer.stigma_words = STIGMA_WORDS
    summarizer.null_words = stop_words()
    return summarizer


def policy_summarizer(
    bonus_words: Iterable[str] = (), tags: Sequence[TopicTag] = (), weights: Weights | None = None
) -> PolicySummarizer:
    """The default summarizer with our NLP objects, the article's tags and Edmundson's lists."""
    return PolicySummarizer(
        stemmer(),
        stop_words=stop_words(),
        bonus_words=_bonus_words(bonus_words) or _bonus_words(DEFAULT_BONUS_WORDS),
        stigma_words=STIGMA_WORDS,
        tags=tags,
        weights=weights,
        textrank=_summarizer("textrank"),
    )


# --------------------------------------------------------------------------------------------
# Document
# --------------------------------------------------------------------------------------------

_NORMALIZE = re.compile(r"[^\w]+")


def _fingerprint(sentence: str) -> str:
    return _NORMALIZE.sub(" ", sentence.lower()).strip()


def build_document(
    cleaned: str, title: str = "", *, title_as_heading: bool = False
) -> ObjectDocumentModel:
    """Sumy document of already-cleaned text, without junk, repeated sentences or the title.

    When nothing is dropped this is exactly ``PlaintextParser(cleaned, tokenizer()).document``.
    ``title_as_heading`` adds the title as a heading, which only Edmundson's title and location
    methods read (for the others it would change the document's word counts).
    """
    document = PlaintextParser(cleaned, tokenizer()).document
    title = " ".join(title.split())
    seen: set[str] = {_fingerprint(title)} if title else set()
    paragraphs: list[Paragraph] = []
    dropped = False
    for paragraph in document.paragraphs:
        kept: list[Sentence] = []
        for sentence in paragraph.sentences:
            key = _fingerprint(str(sentence))
            if key in seen or is_junk_sentence(str(sentence)):
                dropped = True
                continue
            seen.add(key)
            kept.append(sentence)
        paragraphs.append(Paragraph([*paragraph.headings, *kept]))
    if title and title_as_heading:
        heading = Sentence(title, tokenizer(), is_heading=True)
        first = paragraphs[0] if paragraphs else Paragraph([])
        paragraphs[:1] = [Paragraph([heading, *first.headings, *first.sentences])]
        dropped = True
    return ObjectDocumentModel(paragraphs) if dropped else document


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def default_length(words: int) -> int:
    """Sentences for an article of ``words`` words: 3 up to ~600, 4 up to ~1,500, 5 beyond."""
    if words <= 600:
        return 3
    if words <= 1500:
        return 4
    return 5


def _resolve(method: str) -> str:
    name = (method or "default").strip().lower()
    if name not in METHODS:
        raise InputError(
            "bad_method",
            f"Unknown method {method!r}; choose one of: {', '.join(METHODS)}.",
        )
    return DEFAULT_METHOD if name == "default" else name


def _select(
    name: str,
    document: ObjectDocumentModel,
    count: int,
    bonus_words: Iterable[str],
    tags: Sequence[TopicTag],
) -> list[str]:
    if name == "lead":
        return [str(s) for s in document.sentences[:count]]
    if name == "policy":
        return [str(s) for s in policy_summarizer(bonus_words, tags)(document, count)]
    summarizer = _edmundson(bonus_words) if name == "edmundson" else _summarizer(name)
    return [str(s) for s in summarizer(document, count)]


def summarize(
    text: str,
    sentences: int | None = None,
    method: str = "default",
    *,
    title: str = "",
    bonus_words: Iterable[str] = (),
    tags: Sequence[TopicTag] = (),
) -> SummaryResult:
    """Summarize ``text`` in ``sentences`` sentences (default: by length), in article order.

    ``method`` is a name from ``METHODS``; the result names the concrete method used.
    ``bonus_words`` (e.g. taxonomy phrases) steer Edmundson; ``title`` feeds its title method.
    ``tags`` (the article's topic tags, from the tagger) let ``policy`` cover the topics shown.
    Text of fewer than three sentences comes back whole, with a note saying so. Sumy's methods
    rank only the first ``RANK_LIMITS[method]`` sentences of a longer text, with a note saying so.
    """
    name = _resolve(method)
    if not text or not text.strip():
        raise InputError("empty", "There is no text to summarize.")
    cleaned = clean_text(text)
    words = word_count(cleaned)
    count = default_length(words) if sentences is None else int(sentences)
    count = max(MIN_SENTENCES, min(MAX_SENTENCES, count))

    document = build_document(cleaned, title, title_as_heading=name in ("edmundson", "policy"))
    total = len(document.sentences)
    if total < 3:
        whole = split_sentences(cleaned) or [" ".join(text.split())]
        # Fewer than 3 distinct sentences, but maybe repeated 5,000 times: each once, capped.
        unique: dict[str, str] = {}
        for sentence in whole:
            unique.setdefault(_fingerprint(sentence), sentence)
        whole = list(unique.values())[:count]
        return SummaryResult(whole, name, words or word_count(text), [TOO_SHORT_NOTE])
    notes = []
    limit = RANK_LIMITS.get(name, total)
    if total > limit:
        document = first_sentences(document, limit)
        notes.append(RANK_LIMIT_NOTE.format(limit=limit, total=total))
    return SummaryResult(_select(name, document, count, bonus_words, tags), name, words, notes)
