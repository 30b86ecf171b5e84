"""Sumy's summarizers, rated with vectorized numpy instead of Python loops: same sentences chosen.

Each class subclasses Sumy 0.13's own and replaces only how ratings are computed; the choice is
still Sumy's ``_get_best_sentences`` over a rating dict built the way Sumy builds it (so a
repeated sentence keeps Sumy's rating, ties go to the earlier sentence). Where our arithmetic
could round differently from Sumy's loops, the result cannot change the choice:

- TextRank, Reduction: word overlaps are integers (exact in any order); the log norms come from
  ``math.log`` per sentence and the divisions are the same IEEE operations, so the weight matrix
  is bit-identical and Sumy's own normalisation and power method run on it. Reduction adds each
  sentence's edges in Sumy's order (one pass per sentence).
- LexRank: the idf-cosine matrix is one co-occurrence product. Only the threshold test uses it:
  pairs within 1e-9 of the threshold are recomputed with Sumy's own ``cosine_similarity``, so the
  0/1 graph (and hence the power method) is Sumy's exactly.
- LSA: the term matrix and its TF transform are the same IEEE operations on the same cells in
  the same row order (the dictionary is built from the same frozenset), so the SVD is Sumy's;
  the ranks repeat Sumy's scalar arithmetic on Python floats. (They must: with every dimension
  kept a rank is the column's norm, so many sentences tie and rounding noise orders them.)
- Luhn, SumBasic, Edmundson: Sumy's code, with words tokenized in one batch
  (``fast_words.prime_words``), Luhn's significant words as a set, and SumBasic stopped once
  the requested sentences are picked (only when no sentence repeats: repeats change its ratings).

Stems are cached per summarizer across articles (bounded). ``tests/test_fast_sumy.py`` checks
identical selections against Sumy's classes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from itertools import repeat
from warnings import warn

import numpy
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.summarizers.edmundson import EdmundsonSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.lsa import LsaSummarizer, singular_value_decomposition
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.reduction import ReductionSummarizer
from sumy.summarizers.sum_basic import SumBasicSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer

from .fast_words import prime_words

__all__ = [
    "FastEdmundson",
    "FastLexRank",
    "FastLsa",
    "FastLuhn",
    "FastReduction",
    "FastSumBasic",
    "FastTextRank",
    "first_sentences",
]

STEM_CACHE_SIZE = 50_000  # words per summarizer; cleared when full
_NEAR = 1e-9  # how close a float must be to a decision boundary to be recomputed Sumy's way
_DENSE_GROUP = 64  # terms in more sentences than this are added as one outer product


def _all_sentences(document: ObjectDocumentModel) -> list[Sentence]:
    return [s for p in document.paragraphs for s in (*p.headings, *p.sentences)]


def first_sentences(document: ObjectDocumentModel, limit: int) -> ObjectDocumentModel:
    """The document cut after its first ``limit`` sentences (headings before the cut stay)."""
    paragraphs: list[Paragraph] = []
    left = limit
    for paragraph in document.paragraphs:
        if left <= 0:
            break
        kept = paragraph.sentences[:left]
        left -= len(kept)
        paragraphs.append(Paragraph([*paragraph.headings, *kept]))
    return ObjectDocumentModel(paragraphs)


class _Stems:
    """Cached ``(normalized word, stem)`` per token, as Sumy's ``normalize_word``/``stem_word``."""

    _stem_cache: dict[str, tuple[str, str, str]]

    def _stem_entries(self, words: Sequence[str]) -> list[tuple[str, str, str]]:
        """(lowered, stem of the lowered word, stem of the word) per word."""
        cache = self.__dict__.get("_stem_cache")
        if cache is None:
            cache = self._stem_cache = {}
        entries = list(map(cache.get, words))
        if None in entries:
            for i, entry in enumerate(entries):
                if entry is None:
                    entries[i] = self._stem_entry(cache, words[i])
        return entries

    def _stem_entry(self, cache: dict, word: str) -> tuple[str, str, str]:
        if len(cache) >= STEM_CACHE_SIZE:
            cache.clear()
        lowered = self.normalize_word(word)  # type: ignore[attr-defined]
        stem = self.stem_word(lowered)  # type: ignore[attr-defined]
        raw = stem if lowered.lower() == lowered else self.stem_word(word)  # type: ignore[attr-defined]
        cache[word] = entry = (lowered, stem, raw)
        return entry

    def _content_stems(self, sentences: Sequence[Sentence]) -> list[list[str]]:
        """``[self._to_words_set(s) for s in sentences]`` (stop words out, stems in order)."""
        prime_words(sentences)
        stop = self._stop_words  # type: ignore[attr-defined]
        return [
            [stem for lowered, stem, _ in self._stem_entries(s.words) if lowered not in stop]
            for s in sentences
        ]


def _term_ids(sentences_words: Sequence[Sequence[str]]) -> list[dict[int, int]]:
    """Each sentence as {term id: count}."""
    vocabulary: dict[str, int] = {}
    return [
        {vocabulary.setdefault(t, len(vocabulary)): c for t, c in Counter(words).items()}
        for words in sentences_words
    ]


def _cooccurrence(rows: numpy.ndarray, terms: numpy.ndarray, values: numpy.ndarray, n: int):
    """Dense n×n ``S[i, j] = Σ_t values(i, t)·values(j, t)`` over (row, term, value) triples.

    One sparse product without scipy: pairs within each term's postings, summed by ``bincount``;
    terms in many sentences are added as dense outer products, which bounds the pair arrays.
    """
    result = numpy.zeros(n * n)
    if not rows.size:
        return result.reshape(n, n)
    order = numpy.argsort(terms, kind="stable")
    rows, terms, values = rows[order], terms[order], values[order]
    starts = numpy.flatnonzero(numpy.r_[True, terms[1:] != terms[:-1]])
    sizes = numpy.diff(numpy.r_[starts, terms.size])
    small = sizes <= _DENSE_GROUP
    # Small groups: every (left, right) pair of one term's postings.
    member = numpy.repeat(small, sizes)
    group_size = numpy.repeat(sizes, sizes)[member]
    group_start = numpy.repeat(starts, sizes)[member]
    left = numpy.repeat(numpy.flatnonzero(member), group_size)
    block = numpy.repeat(numpy.cumsum(group_size) - group_size, group_size)
    right = numpy.repeat(group_start, group_size) + numpy.arange(left.size) - block
    result += numpy.bincount(
        rows[left] * n + rows[right], weights=values[left] * values[right], minlength=n * n
    )
    result = result.reshape(n, n)
    for start, size in zip(starts[~small], sizes[~small], strict=True):
        idx = rows[start : start + size]
        vals = values[start : start + size]
        result[numpy.ix_(idx, idx)] += numpy.outer(vals, vals)
    return result


def _triples(sentences_terms: Sequence[dict[int, float]]):
    rows = numpy.fromiter(
        (i for i, terms in enumerate(sentences_terms) for _ in terms), dtype=numpy.int64
    )
    terms = numpy.fromiter((t for terms in sentences_terms for t in terms), dtype=numpy.int64)
    values = numpy.fromiter(
        (v for terms in sentences_terms for v in terms.values()), dtype=numpy.float64
    )
    return rows, terms, values


def _overlap_weights(sentences_words: Sequence[Sequence[str]], zero_norm_is_rank: bool):
    """Sumy's TextRank/Reduction edge ``rank / (log |s1| + log |s2|)`` for all pairs at once.

    ``rank`` is the integer word overlap; with both sentences one word long (norm 0) TextRank
    uses the rank itself and Reduction 0.
    """
    n = len(sentences_words)
    counts = _term_ids(sentences_words)
    rows, terms, values = _triples([{t: float(c) for t, c in s.items()} for s in counts])
    overlap = _cooccurrence(rows, terms, values, n)
    logs = numpy.array([math.log(len(w)) if w else 0.0 for w in sentences_words])
    norm = logs[:, None] + logs[None, :]
    weights = numpy.zeros((n, n))
    numpy.divide(overlap, norm, out=weights, where=(overlap != 0) & (norm != 0))
    if zero_norm_is_rank:
        ones = (overlap != 0) & (norm == 0)
        weights[ones] = overlap[ones]
    return weights


class FastLexRank(_Stems, LexRankSummarizer):
    """LexRank whose similarity matrix is one co-occurrence product."""

    def __call__(self, document, sentences_count):
        self._ensure_dependencies_installed()
        sentences = document.sentences
        sentences_words = self._content_stems(sentences)
        if not sentences_words:
            return ()
        matrix = self._graph(sentences_words)
        scores = self.power_method(matrix, self.epsilon)
        ratings = dict(zip(sentences, scores, strict=True))
        return self._get_best_sentences(sentences, sentences_count, ratings)

    def _graph(self, sentences_words: list[list[str]]) -> numpy.ndarray:
        """Sumy's ``_create_matrix``: rows of 1/degree where idf-cosine > threshold."""
        n = len(sentences_words)
        tf_metrics = self._compute_tf(sentences_words)
        document_frequency = Counter(t for tf in tf_metrics for t in tf)
        idf = {t: math.log(n / (1 + df)) for t, df in document_frequency.items()}
        ids = {t: i for i, t in enumerate(idf)}
        weighted = [{ids[t]: tf * idf[t] for t, tf in metrics.items()} for metrics in tf_metrics]
        similarity = _cooccurrence(*_triples(weighted), n)
        norms = numpy.sqrt(numpy.diagonal(similarity).copy())
        inverse = numpy.divide(1.0, norms, out=numpy.zeros(n), where=norms > 0)
        similarity *= inverse[:, None]
        similarity *= inverse[None, :]
        for i, j in zip(
            *numpy.nonzero(numpy.abs(similarity - self.threshold) <= _NEAR), strict=True
        ):
            similarity[i, j] = self.cosine_similarity(
                sentences_words[i], sentences_words[j], tf_metrics[i], tf_metrics[j], idf
            )
        linked = similarity > self.threshold
        degrees = linked.sum(axis=1).astype(numpy.float64)
        degrees[degrees == 0] = 1
        return linked / degrees[:, None]


class FastTextRank(_Stems, TextRankSummarizer):
    """TextRank whose weight matrix is one overlap product."""

    def _create_matrix(self, document):
        sentences_as_words = self._content_stems(document.sentences)
        sentences_count = len(sentences_as_words)
        weights = _overlap_weights(sentences_as_words, zero_norm_is_rank=True)
        # From here on Sumy's own arithmetic, on the same matrix.
        weights /= weights.sum(axis=1)[:, numpy.newaxis] + self._ZERO_DIVISION_PREVENTION
        return (
            numpy.full((sentences_count, sentences_count), (1.0 - self.damping) / sentences_count)
            + self.damping * weights
        )


class FastReduction(_Stems, ReductionSummarizer):
    """Reduction with all edges in one overlap product, summed in Sumy's order."""

    def rate_sentences(self, document):
        sentences = document.sentences
        words = self._content_stems(sentences)
        n = len(words)
        if n < 2:
            return {s: 0.0 for s in sentences}
        edges = _overlap_weights(words, zero_norm_is_rank=False)
        numpy.fill_diagonal(edges, 0.0)
        # Sumy adds sentence k's edges pair by pair: to k, in the order of the other sentence.
        # edges is symmetric, so adding row j to every total adds e(j, k) to total k in that order.
        totals = numpy.zeros(n)
        for row in edges:
            totals += row
        ratings = dict(zip(sentences, totals.tolist(), strict=True))
        positions: dict[Sentence, list[int]] = {}
        for i, sentence in enumerate(sentences):
            positions.setdefault(sentence, []).append(i)
        for sentence, group in positions.items():
            if len(group) > 1:  # equal sentences share one rating in Sumy's dict
                ratings[sentence] = self._shared_rating(edges, group)
        return ratings

    @staticmethod
    def _shared_rating(edges: numpy.ndarray, group: list[int]) -> float:
        """Sumy's sum for one dict key held by several equal sentences, pair by pair."""
        members = set(group)
        n = len(edges)
        total = 0.0
        for i in range(n):
            row = edges[i].tolist()
            if i in members:
                for j in range(i + 1, n):
                    total += row[j]
                    if j in members:
                        total += row[j]
            else:
                for j in group:
                    if j > i:
                        total += row[j]
        return total


class FastLsa(_Stems, LsaSummarizer):
    """LSA with the term matrix built and transformed by numpy; Sumy's SVD and ranks."""

    def __call__(self, document, sentences_count):
        self._ensure_dependecies_installed()
        prime_words(_all_sentences(document))
        dictionary = self._create_dictionary(document)
        if not dictionary:
            return ()
        matrix = self._create_matrix(document, dictionary)
        matrix = self._compute_term_frequency(matrix)
        _u, sigma, v = singular_value_decomposition(matrix, full_matrices=False)
        ranks = iter(self._compute_ranks(sigma, v))
        return self._get_best_sentences(
            document.sentences, sentences_count, lambda _sentence: next(ranks)
        )

    def _create_dictionary(self, document):
        stop = self._stop_words
        unique_words = frozenset(
            stem for lowered, stem, _ in self._stem_entries(document.words) if lowered not in stop
        )
        return {w: i for i, w in enumerate(unique_words)}

    def _create_matrix(self, document, dictionary):
        sentences = document.sentences
        words_count, sentences_count = len(dictionary), len(sentences)
        if words_count < sentences_count:
            warn(
                f"Number of words ({words_count}) is lower than number of sentences "
                f"({sentences_count}). LSA algorithm may not work properly.",
                stacklevel=2,
            )
        cells = [
            dictionary[raw] * sentences_count + col
            for col, sentence in enumerate(sentences)
            for _, _, raw in self._stem_entries(sentence.words)
            if raw in dictionary
        ]
        counts = numpy.bincount(
            numpy.array(cells, dtype=numpy.int64), minlength=words_count * sentences_count
        )
        return counts.astype(numpy.float64).reshape(words_count, sentences_count)

    def _compute_term_frequency(self, matrix, smooth=0.4):
        """``smooth + (1 - smooth) * count / column max`` per cell, as Sumy (0-max columns stay)."""
        assert 0.0 <= smooth < 1.0
        max_word_frequencies = numpy.max(matrix, axis=0)
        columns = max_word_frequencies != 0
        if columns.all():
            matrix /= max_word_frequencies
            matrix *= 1.0 - smooth
            matrix += smooth
        else:
            frequency = matrix[:, columns] / max_word_frequencies[columns]
            matrix[:, columns] = smooth + (1.0 - smooth) * frequency
        return matrix

    def _compute_ranks(self, sigma, v_matrix):
        """Sumy's ranks, bit for bit, with numpy doing all but the squaring.

        Sumy squares with numpy's scalar ``**``, which is libm's ``pow`` and not ``x * x`` (they
        differ in ~0.1% of cases): so do we, with ``math.pow``. Products and the left-to-right
        sum over dimensions are the same IEEE operations, one dimension at a time.
        """
        assert len(sigma) == v_matrix.shape[0], "Matrices should be multiplicable"
        dimensions = max(
            LsaSummarizer.MIN_DIMENSIONS, int(len(sigma) * LsaSummarizer.REDUCTION_RATIO)
        )
        powered_sigma = [float(s**2) if i < dimensions else 0.0 for i, s in enumerate(sigma)]
        squares = numpy.fromiter(
            map(math.pow, v_matrix.ravel().tolist(), repeat(2.0)), numpy.float64, v_matrix.size
        ).reshape(v_matrix.shape)
        ranks = numpy.zeros(v_matrix.shape[1])
        for s, row in zip(powered_sigma, squares, strict=True):
            ranks += s * row
        return numpy.sqrt(ranks).tolist()


class FastLuhn(LuhnSummarizer):
    """Luhn with words tokenized in one batch and its significant words as a set."""

    def __call__(self, document, sentences_count):
        prime_words(_all_sentences(document))
        return super().__call__(document, sentences_count)

    def _get_significant_words(self, words):
        return frozenset(super()._get_significant_words(words))  # only ever tested with ``in``


class FastSumBasic(SumBasicSummarizer):
    """SumBasic that stops once the requested number of sentences is picked."""

    def __call__(self, document, sentences_count):
        sentences = document.sentences
        prime_words(sentences)
        distinct = len(set(sentences)) == len(sentences)
        if not (distinct and isinstance(sentences_count, int)):
            return super().__call__(document, sentences_count)
        ratings = self._first_ratings(sentences, sentences_count)
        return self._get_best_sentences(sentences, sentences_count, ratings)

    def _first_ratings(self, sentences, count: int) -> dict[Sentence, int]:
        """Sumy's ``_compute_ratings`` for the first ``count`` picks; later ones rank lower.

        Sumy rates the k-th pick ``-k``: with no repeated sentence the first ``count`` picks
        are exactly the ``count`` best, whatever comes after.
        """
        word_freq = self._compute_tf(sentences)
        remaining = list(sentences)
        sentences_as_words = [self._get_content_words_in_sentence(s) for s in sentences]
        ratings: dict[Sentence, int] = {}
        while remaining and len(ratings) < count:
            best = self._find_index_of_best_sentence(word_freq, sentences_as_words)
            ratings[remaining.pop(best)] = -len(ratings)
            self._update_tf(word_freq, sentences_as_words.pop(best))
        for sentence in remaining:
            ratings[sentence] = -count
        return ratings


class FastEdmundson(EdmundsonSummarizer):
    """Edmundson with words tokenized in one batch (its rating is already linear)."""

    def __call__(self, document, sentences_count):
        prime_words(_all_sentences(document))
        return super().__call__(document, sentences_count)
