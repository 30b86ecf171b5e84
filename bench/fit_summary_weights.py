"""Fit the default summarizer's weights (digests/data/summary_weights.json) on the dev references,
and measure them only on folds they were not fitted on.

Protocol: ``../shared/eval/summaries_human.jsonl``, grouped k-fold cross-validation with the
article's ``source`` (CNN/DM, XSum, Newsroom, writer summaries, ...) as the group, so every
fold is scored by weights fitted on other sources only. Within the training folds the weights
(one per feature of ``digests.default_summarizer``: Sumy's LexRank, TextRank, Luhn, Edmundson
cue/title/location, position, topic evidence, length; plus the redundancy penalty and the topic
bonus) are found by coordinate ascent on the training ROUGE itself (R-2 + R-Lsum, at 3 sentences
and at the default length), starting from the pure position prior (Lead-N), with
- a shrinkage cost per unit of weight away from that prior (``SHRINK``): a signal must earn its
  place on several sources, or the fit stays with the lead (position is the strongest signal);
- a steep cost per point of topic coverage below Lead-3's + ``COVERAGE_MARGIN`` (issue 10).
The held-out fold is then summarized and scored. Deterministic. ``--write`` instead fits once on
every row and writes the shipped weights (a handful of numbers; never any data).

    .venv/bin/python bench/fit_summary_weights.py [--folds 5]     # held-out numbers
    .venv/bin/python bench/fit_summary_weights.py --write         # refit the shipped weights
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from rouge import KEYS, LABELS, Rouge, load, mean_se  # noqa: E402

from digests.default_summarizer import (  # noqa: E402
    FEATURES,
    WEIGHTS_PATH,
    Layout,
    Signals,
    Weights,
    layout,
    select,
)
from digests.summarize import build_document, default_length, policy_summarizer  # noqa: E402
from digests.text import clean_text, split_sentences, word_count  # noqa: E402
from digests.topics import default_taxonomy, tag_article  # noqa: E402

DATA = ROOT.parent / "shared" / "eval"
HUMAN = "summaries_human.jsonl"
FOLDS = 5
STEP, MIN_STEP, ROUNDS = 0.2, 0.05, 6
COVERAGE_PENALTY = 1.0  # objective points per coverage point short of the floor
SHRINK = 0.5  # objective points per unit of weight away from the pure position prior
COVERAGE_MARGIN = 15.0  # points above Lead-3 (issue 10)
OBJECTIVE = ("rouge2", "rougeLsum")

try:  # the one shown tag list (helper `tags`); before it lands, the four strongest
    from digests.topics import shown_tags
except ImportError:  # pragma: no cover - depends on merge order

    def shown_tags(tags):  # type: ignore[no-redef]
        return list(tags)[:4]


@dataclass
class Prepared:
    """One article, ready to be summarized under any weights."""

    row: dict
    sentences: list[str]
    signals: Signals | None  # None: too short, the text comes back whole
    candidates: Layout | None
    tags: list
    counts: dict[str, int]  # "3" and "default" -> sentences asked for

    def summary(self, weights: Weights, count: int) -> list[str]:
        if self.signals is None:
            return self.sentences
        scores = self.signals.features @ weights.vector()
        picked = select(
            scores,
            self.signals.similarity,
            self.candidates,
            count,
            redundancy=weights.redundancy,
            topic_bonus=weights.topic_bonus,
        )
        return [self.sentences[i] for i in picked]


def prepare(row: dict) -> Prepared:
    """What ``summarize(text, n, "policy", title=…, bonus_words=…, tags=…)`` computes, once."""
    taxonomy = default_taxonomy()
    title = row.get("title") or ""
    tags = shown_tags(tag_article(title, row["text"], taxonomy))
    cleaned = clean_text(row["text"])
    counts = {"3": 3, "default": default_length(word_count(cleaned))}
    document = build_document(cleaned, title, title_as_heading=True)
    sentences = [str(s) for s in document.sentences]
    if len(sentences) < 3:
        whole = split_sentences(cleaned) or [" ".join(row["text"].split())]
        return Prepared(row, whole, None, None, tags, counts)
    summarizer = policy_summarizer(taxonomy.phrases(), tags)
    signals = summarizer.signals(document)
    return Prepared(
        row,
        sentences,
        signals,
        layout(document, signals.topics),
        tags,
        counts,
    )


def prepare_all(rows: Sequence[dict]) -> list[Prepared]:
    return [prepare(row) for row in rows]


def grouped_folds(rows: Sequence[dict], k: int, key: str = "source") -> list[int]:
    """Fold of each row: whole groups, largest first, each to the smallest fold so far."""
    sizes: dict[str, int] = {}
    for row in rows:
        sizes[row.get(key) or "?"] = sizes.get(row.get(key) or "?", 0) + 1
    load_of = [0] * k
    fold_of: dict[str, int] = {}
    for group, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0])):
        fold = min(range(k), key=lambda f: (load_of[f], f))
        fold_of[group] = fold
        load_of[fold] += size
    return [fold_of[row.get(key) or "?"] for row in rows]


def covered(summary: Sequence[str], tags: Sequence) -> tuple[int, int]:
    """(tags whose evidence appears in the summary, tags), case-insensitive."""
    from digests.default_summarizer import tag_hits

    hits = set().union(*tag_hits(list(summary), tags)) if summary else set()
    return len(hits), len(tags)


def coverage(prepared: Sequence[Prepared], system: Callable[[Prepared, int], list[str]]) -> float:
    """Share (%) of shown tags with evidence in the summary, over articles with >= 2 tags."""
    hit = total = 0
    for p in prepared:
        if len(p.tags) >= 2:
            h, t = covered(system(p, p.counts["default"]), p.tags)
            hit, total = hit + h, total + t
    return 100 * hit / total if total else 0.0


def lead3(p: Prepared, count: int) -> list[str]:
    return split_sentences(clean_text(p.row["text"]))[:count]


class Scorer:
    """ROUGE of a summary, memoized: most weightings pick the same sentences."""

    def __init__(self, rouge: Rouge) -> None:
        self.rouge = rouge
        self._memo: dict[tuple[str, tuple[str, ...]], dict[str, float]] = {}

    def __call__(self, p: Prepared, summary: Sequence[str]) -> dict[str, float]:
        key = (p.row["id"], tuple(summary))
        if key not in self._memo:
            self._memo[key] = self.rouge.score(p.row["reference"], summary)
        return self._memo[key]


def objective(
    prepared: Sequence[Prepared], weights: Weights, scorer: Scorer, floor: float
) -> float:
    """Mean training ROUGE (R-2 + R-Lsum at both lengths), less a steep penalty per point of
    topic coverage short of the floor."""
    total = 0.0
    for p in prepared:
        for count in p.counts.values():
            score = scorer(p, p.summary(weights, count))
            total += sum(score[k] for k in OBJECTIVE)
    total /= max(1, len(prepared))
    cover = coverage(prepared, lambda p, n: p.summary(weights, n))
    size = sum(abs(v) for k, v in weights.weights.items() if k != "lead")
    return total - COVERAGE_PENALTY * max(0.0, floor - cover) - SHRINK * size


def _with(weights: Weights, name: str, value: float) -> Weights:
    if name == "redundancy":
        return Weights(weights.weights, max(0.0, value), weights.topic_bonus)
    if name == "topic_bonus":
        return Weights(weights.weights, weights.redundancy, max(0.0, value))
    return Weights({**weights.weights, name: value}, weights.redundancy, weights.topic_bonus)


def _value(weights: Weights, name: str) -> float:
    if name in ("redundancy", "topic_bonus"):
        return getattr(weights, name)
    return weights.weights[name]


def fit(prepared: Sequence[Prepared], scorer: Scorer) -> Weights:
    """Coordinate ascent on the training objective, starting from the lead (weight 1 on the
    position prior, which stays fixed and sets the scale): each round tries a few steps on
    every other weight and keeps what helps; steps halve when a round finds nothing."""
    floor = coverage(prepared, lead3) + COVERAGE_MARGIN
    names = [n for n in FEATURES if n != "lead"] + ["redundancy", "topic_bonus"]
    weights = Weights({n: (1.0 if n == "lead" else 0.0) for n in FEATURES}, 0.0, 0.0)
    best = objective(prepared, weights, scorer, floor)
    step = STEP
    for _ in range(ROUNDS):
        improved = False
        for name in names:
            for delta in (step, -step, 2 * step, -2 * step):
                trial = _with(weights, name, round(_value(weights, name) + delta, 4))
                value = objective(prepared, trial, scorer, floor)
                if value > best + 1e-9:
                    weights, best, improved = trial, value, True
                    break
        if not improved:
            step /= 2
            if step < MIN_STEP:
                break
    return weights


def cross_validate(
    prepared: Sequence[Prepared], k: int = FOLDS, scorer: Scorer | None = None
) -> tuple[dict[str, list[list[str]]], list[Weights]]:
    """Held-out summaries of every article (at "3" and "default"), each from weights fitted on
    the other folds, and the weights of each fold."""
    scorer = scorer or Scorer(Rouge())
    folds = grouped_folds([p.row for p in prepared], k)
    out: dict[str, list[list[str]]] = {"3": [[]] * len(prepared), "default": [[]] * len(prepared)}
    fitted: list[Weights] = []
    for fold in range(k):
        train = [p for p, f in zip(prepared, folds, strict=True) if f != fold]
        weights = fit(train, scorer)
        fitted.append(weights)
        for i, (p, f) in enumerate(zip(prepared, folds, strict=True)):
            if f == fold:
                for name, count in p.counts.items():
                    out[name][i] = p.summary(weights, count)
    return out, fitted


def write(weights: Weights, path: Path = WEIGHTS_PATH) -> None:
    data = {
        "about": "Fitted by bench/fit_summary_weights.py --write on the dev references "
        "(grouped k-fold CV; only held-out numbers are reported, by bench/quality.py).",
        "weights": {name: round(value, 4) for name, value in weights.weights.items()},
        "redundancy": weights.redundancy,
        "topic_bonus": weights.topic_bonus,
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the eval files")
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument(
        "--write", action="store_true", help=f"fit on every row and write {WEIGHTS_PATH.name}"
    )
    args = parser.parse_args(argv)
    path = args.data / HUMAN
    if not path.is_file():
        print(f"skip: {path} not found (the eval data lives in ../shared/eval)")
        return 0
    scorer = Scorer(Rouge())
    prepared = prepare_all(load(path))
    if args.write:  # the shipped weights: one fit on every row (never scored on them)
        write(fit(prepared, scorer))
        print(f"wrote {WEIGHTS_PATH.relative_to(ROOT)}")
        return 0
    summaries, fitted = cross_validate(prepared, args.folds, scorer)
    for name, outs in summaries.items():
        held_out = {
            k: mean_se([scorer(p, s)[k] for p, s in zip(prepared, outs, strict=True)]) for k in KEYS
        }
        lead = {
            k: mean_se([scorer(p, lead3(p, p.counts[name]))[k] for p in prepared]) for k in KEYS
        }
        print(
            f"@{name} held-out: "
            + "  ".join(f"{LABELS[k]} {m:.2f}±{se:.2f}" for k, (m, se) in held_out.items())
        )
        print(
            f"@{name} lead:     "
            + "  ".join(f"{LABELS[k]} {m:.2f}±{se:.2f}" for k, (m, se) in lead.items())
        )
    for i, w in enumerate(fitted):
        nonzero = " ".join(f"{n}={v:+.2f}" for n, v in w.weights.items() if v)
        print(f"fold {i}: {nonzero} redundancy={w.redundancy} topic_bonus={w.topic_bonus}")
    print("(bench/quality.py prints the full table with paired differences)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
