"""ROUGE as ../shared/eval/README.md scores it (rouge-score F1 x100, stemming, R-1, R-2, R-Lsum
with one sentence per line), with each sentence tokenized once: scoring many systems and many
weightings of the same sentences is then cheap. Same numbers as ``RougeScorer.score``.

Also the small statistics the quality benches share: mean and standard error, paired
differences, and reading the eval files.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path

KEYS = ("rouge1", "rouge2", "rougeLsum")
LABELS = {"rouge1": "R-1", "rouge2": "R-2", "rougeLsum": "R-Lsum"}


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the mean."""
    if len(values) < 2:
        return (values[0] if values else 0.0), 0.0
    return statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values))


def paired(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Mean of a - b over the same articles and its standard error."""
    return mean_se([x - y for x, y in zip(a, b, strict=True)])


class Rouge:
    """rouge-score's tokenizer and formulas, with a per-sentence token memo."""

    def __init__(self) -> None:
        from rouge_score import rouge_scorer

        self._scorer = rouge_scorer.RougeScorer(list(KEYS), use_stemmer=True)
        self._module = rouge_scorer
        self._tokens: dict[str, list[str]] = {}

    def tokens(self, sentence: str) -> list[str]:
        cached = self._tokens.get(sentence)
        if cached is None:
            cached = self._tokens[sentence] = self._scorer._tokenizer.tokenize(sentence)
        return cached

    def score(self, reference: Sequence[str], summary: Sequence[str]) -> dict[str, float]:
        """F1 x100 per key of ``summary`` sentences against ``reference`` sentences."""
        m = self._module
        ref = [self.tokens(s) for s in reference if s]
        out = [self.tokens(s) for s in summary if s]
        ref_flat = [t for s in ref for t in s]
        out_flat = [t for s in out for t in s]
        result = {}
        for key, n in (("rouge1", 1), ("rouge2", 2)):
            result[key] = m._score_ngrams(
                m._create_ngrams(ref_flat, n), m._create_ngrams(out_flat, n)
            ).fmeasure
        result["rougeLsum"] = m._summary_level_lcs(ref, out).fmeasure
        return {k: 100 * v for k, v in result.items()}

    def check(self, reference: Sequence[str], summary: Sequence[str]) -> None:
        """Raise if this scorer and rouge-score's own disagree on one pair."""
        ours = self.score(reference, summary)
        theirs = self._scorer.score("\n".join(reference), "\n".join(summary))
        for key in KEYS:
            if not math.isclose(ours[key], 100 * theirs[key].fmeasure, abs_tol=1e-9):
                raise AssertionError(f"{key}: {ours[key]} != {100 * theirs[key].fmeasure}")
