"""ROUGE of every summarizer against human-written references, next to Lead-3, in one run.

Scoring follows ../shared/eval/README.md: rouge-score F1 x 100 with stemming, ROUGE-1, ROUGE-2 and
ROUGE-Lsum (one sentence per line), mean and standard error over articles, 3 sentences. Lead-3 is
reported on the raw text and after cleaning. The data is read at run time from ``../shared/eval``
beside the repository and never copied into it; without it the script says so and exits 0.

    .venv/bin/python bench/rouge_eval.py [--sets human,bbc] [--methods lead,lexrank] [--by-source]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: LSA is 10-25x slower without

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digests.summarize import METHODS, summarize  # noqa: E402
from digests.text import clean_text, split_sentences  # noqa: E402

DATA = ROOT.parent / "shared" / "eval"
SETS = {"human": "summaries_human.jsonl", "bbc": "summaries_bbc.jsonl"}
KEYS = ("rouge1", "rouge2", "rougeLsum")
SENTENCES = 3

System = Callable[[dict], list[str]]


def systems(methods: Iterable[str]) -> dict[str, System]:
    """Lead-3 raw and cleaned, then every registry method at three sentences."""
    table: dict[str, System] = {
        "lead3-raw": lambda row: split_sentences(row["text"])[:SENTENCES],
        "lead3-clean": lambda row: split_sentences(clean_text(row["text"]))[:SENTENCES],
    }
    for name in methods:
        table[name] = lambda row, name=name: (
            summarize(row["text"], SENTENCES, name, title=row.get("title") or "").sentences
        )
    return table


def mean_se(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0] if values else 0.0), 0.0
    return statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values))


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate(rows: list[dict], table: dict[str, System], by_source: bool = False) -> None:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(KEYS), use_stemmer=True)
    print(f"{'system':<14}" + "".join(f"{k:>16}" for k in ("R-1", "R-2", "R-Lsum")) + "  ms/doc")
    for name, system in table.items():
        scores: dict[str, list[float]] = defaultdict(list)
        per_source: dict[str, list[list[float]]] = defaultdict(list)
        started = time.perf_counter()
        for row in rows:
            summary = system(row)
            result = scorer.score("\n".join(row["reference"]), "\n".join(summary))
            triple = [100 * result[k].fmeasure for k in KEYS]
            for key, value in zip(KEYS, triple, strict=True):
                scores[key].append(value)
            per_source[row.get("source", "?")].append(triple)
        ms = (time.perf_counter() - started) * 1000 / max(1, len(rows))
        cells = "".join(f"{m:>10.2f} ±{se:<4.2f}" for m, se in map(mean_se, scores.values()))
        print(f"{name:<14}{cells}  {ms:6.1f}")
        if by_source:
            for source, triples in sorted(per_source.items()):
                means = "/".join(f"{statistics.fmean(t[i] for t in triples):.1f}" for i in range(3))
                print(f"    {source:<45} n={len(triples):<4} {means}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the eval files")
    parser.add_argument("--sets", default="human,bbc", help="comma-separated: human, bbc")
    parser.add_argument("--methods", default=",".join(METHODS), help="registry methods to score")
    parser.add_argument("--limit", type=int, default=0, help="score only the first N rows")
    parser.add_argument("--by-source", action="store_true", help="also print means per source")
    args = parser.parse_args(argv)

    try:
        import rouge_score  # noqa: F401
    except ImportError:
        print("skip: rouge-score is not installed (pip install -e '.[dev]')")
        return 0
    methods = [m for m in args.methods.split(",") if m]
    table = systems(methods)
    for key in [s for s in args.sets.split(",") if s]:
        path = args.data / SETS[key]
        if not path.is_file():
            print(f"skip: {path} not found (the eval data lives in ../shared/eval)")
            continue
        rows = load(path)[: args.limit or None]
        print(f"\n== {path.name}: {len(rows)} articles, {SENTENCES} sentences, F1 x100 ± s.e.")
        evaluate(rows, table, args.by_source)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
