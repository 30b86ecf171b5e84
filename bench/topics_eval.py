"""Measure the topic tagger on the dev data in ../shared/eval (never copied into the repo).

Prints per-topic precision/recall/F1 with micro and macro averages on topics_policy.jsonl, the
`trade` topic against Reuters-21578 (Distribution 1.0) `trade` labels, and tagging speed.

    .venv/bin/python bench/topics_eval.py [--eval-dir DIR] [--taxonomy FILE] [--errors]

`--errors` lists each miss and false alarm with its evidence: use it to judge whether a change
generalises (add real policy vocabulary), never to memorise rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digests.topics import Taxonomy, tag_article  # noqa: E402

DEFAULT_EVAL = ROOT.parent / "shared" / "eval"
ANCHOR = "keyword floor: policy macro-F1 0.86; Reuters trade P 0.74 / R 0.93 / F1 0.82"


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall, F1; an empty denominator counts as 0 (conservative)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def eval_policy(rows: list[dict], tax: Taxonomy, show_errors: bool) -> dict:
    ids = tax.ids()
    counts = {t: Counter() for t in ids}
    other_tagged = 0
    others = 0
    for row in rows:
        gold = set(row["labels"]) - {"other"}
        tags = tag_article(row.get("title", ""), row["text"], tax)
        pred = {t.topic for t in tags}
        if "other" in row["labels"]:
            others += 1
            other_tagged += bool(pred)
        for t in ids:
            key = ("tp" if t in gold else "fp") if t in pred else ("fn" if t in gold else "tn")
            counts[t][key] += 1
        if show_errors and (pred - gold or gold - pred):
            ev = {t.topic: f"{t.score:.2f} {t.evidence[:3]}" for t in tags if t.topic not in gold}
            print(f"  {row['id']:<12} {row['title'][:60]!r}")
            if gold - pred:
                print(f"      missed: {sorted(gold - pred)}")
            for topic, detail in ev.items():
                print(f"      extra:  {topic} {detail}")
    per = {t: prf(c["tp"], c["fp"], c["fn"]) for t, c in counts.items()}
    tp = sum(c["tp"] for c in counts.values())
    fp = sum(c["fp"] for c in counts.values())
    fn = sum(c["fn"] for c in counts.values())
    scored = [t for t in ids if counts[t]["tp"] + counts[t]["fn"]]  # topics present in gold
    macro = tuple(statistics.fmean(per[t][i] for t in scored) for i in range(3))
    return {
        "per_topic": per,
        "support": {t: counts[t]["tp"] + counts[t]["fn"] for t in ids},
        "micro": prf(tp, fp, fn),
        "macro": macro,
        "other_tagged": (other_tagged, others),
    }


def eval_reuters(rows: list[dict], tax: Taxonomy, show_errors: bool) -> dict:
    """`trade` vs Reuters `trade`; also counting a `tariffs` tag as trade (Reuters does)."""
    out = {}
    for name, topics in (("trade", {"trade"}), ("trade|tariffs", {"trade", "tariffs"})):
        tp = fp = fn = 0
        for row in rows:
            gold = "trade" in row["labels"]
            tags = tag_article(row.get("title", ""), row["text"], tax)
            pred = any(t.topic in topics for t in tags)
            tp += gold and pred
            fp += pred and not gold
            fn += gold and not pred
            if show_errors and name == "trade" and gold != pred:
                ev = [f"{t.topic} {t.score:.2f} {t.evidence[:4]}" for t in tags]
                kind = "missed" if gold else "false+"
                print(f"  {kind} {row['id']} {row['labels']} {row['title'][:50]!r} {ev}")
        out[name] = (*prf(tp, fp, fn), tp, fp, fn)
    return out


def time_tagging(rows: list[dict], tax: Taxonomy) -> tuple[float, float, int]:
    """ms/article over the dev rows, and ms for one ~5k-word article built from them."""
    best = float("inf")
    for _ in range(5):  # best of 5: the first pass also warms the per-taxonomy word memo
        start = time.perf_counter()
        for row in rows:
            tag_article(row.get("title", ""), row["text"], tax)
        best = min(best, time.perf_counter() - start)
    per_article = best * 1000 / len(rows)
    words: list[str] = []
    for row in rows:
        words.extend(row["text"].split())
        if len(words) >= 5000:
            break
    long_text = " ".join(words[:5000])
    runs = []
    for _ in range(20):
        start = time.perf_counter()
        tag_article("A long article", long_text, tax)
        runs.append(time.perf_counter() - start)
    long_ms = statistics.median(runs) * 1000
    return per_article, long_ms, len(long_text.split())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    ap.add_argument("--taxonomy", type=Path, default=None, help="default: the packaged file")
    ap.add_argument("--errors", action="store_true", help="list misses and false alarms")
    args = ap.parse_args(argv)

    policy_path = args.eval_dir / "topics_policy.jsonl"
    reuters_path = args.eval_dir / "topics_reuters.jsonl"
    if not policy_path.exists() or not reuters_path.exists():
        print(f"eval data not found under {args.eval_dir}", file=sys.stderr)
        return 2
    tax = Taxonomy.load(args.taxonomy)
    policy = read_jsonl(policy_path)
    reuters = read_jsonl(reuters_path)

    if args.errors:
        print("policy errors:")
    pol = eval_policy(policy, tax, args.errors)
    if args.errors:
        print("reuters trade errors:")
    reu = eval_reuters(reuters, tax, args.errors)

    print(f"\ntopics_policy.jsonl ({len(policy)} excerpts), taxonomy {tax.source}")
    print(f"{'topic':<24}{'n':>4}{'P':>7}{'R':>7}{'F1':>7}")
    for topic, (p, r, f) in pol["per_topic"].items():
        print(f"{topic:<24}{pol['support'][topic]:>4}{p:>7.3f}{r:>7.3f}{f:>7.3f}")
    print(f"{'micro':<28}" + "".join(f"{v:>7.3f}" for v in pol["micro"]))
    print(f"{'macro':<28}" + "".join(f"{v:>7.3f}" for v in pol["macro"]))
    tagged, total = pol["other_tagged"]
    print(f"'other' (off-topic) rows given any tag: {tagged}/{total}")

    print(f"\ntopics_reuters.jsonl ({len(reuters)} newswires, Reuters-21578 Distribution 1.0)")
    print(f"{'counted as trade':<24}{'P':>7}{'R':>7}{'F1':>7}{'tp':>5}{'fp':>5}{'fn':>5}")
    for name, (p, r, f, tp, fp, fn) in reu.items():
        print(f"{name:<24}{p:>7.3f}{r:>7.3f}{f:>7.3f}{tp:>5}{fp:>5}{fn:>5}")

    per_article, long_ms, long_words = time_tagging(policy + reuters, tax)
    print(f"\nspeed: {per_article:.2f} ms/article over the dev rows (best of 5); ", end="")
    print(f"median {long_ms:.1f} ms for one {long_words}-word article")
    print(f"anchor {ANCHOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
