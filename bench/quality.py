"""What the bot *says*, measured in one run on ../shared/eval: summaries (ROUGE vs Lead-3 and
every Sumy method, held-out), topic coverage, tags (per-topic P/R/F1, held-out folds) and story
clustering (pairwise P/R, 10k-article time). Prints Markdown and writes it with a JSON twin.

    .venv/bin/python bench/quality.py [--out DIR]     (default: bench/out/, not committed)

Each part is a module beside this one exposing ``run(eval_dir) -> (markdown, dict)``:
``quality_summary``, ``quality_topics``, ``quality_clusters``; a part not present yet is
listed as missing, the rest still run. Without ../shared/eval every part says it skipped.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

EVAL = ROOT.parent / "shared" / "eval"
PARTS = ("quality_summary", "quality_topics", "quality_clusters")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "out", help="folder for the reports")
    parser.add_argument("--eval", type=Path, default=EVAL, help="folder of the eval files")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated part modules")
    args = parser.parse_args(argv)

    sections = [f"# Quality report\n\nData: `{args.eval}`.\n"]
    report: dict = {"eval_dir": str(args.eval), "parts": {}}
    for name in [p for p in args.parts.split(",") if p]:
        if importlib.util.find_spec(name) is None:
            sections.append(f"## {name}\n\nnot present yet.\n")
            report["parts"][name] = {"missing": True}
            continue
        started = time.perf_counter()
        markdown, data = importlib.import_module(name).run(args.eval)
        data = {**data, "part_seconds": round(time.perf_counter() - started, 1)}
        sections.append(markdown)
        report["parts"][name] = data
        print(markdown, flush=True)

    report["figures"] = [f for part in report["parts"].values() for f in part.get("figures", [])]
    text = "\n".join(sections)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.md").write_text(text, encoding="utf-8")
    payload = json.dumps(report, indent=2, default=float)
    (args.out / "quality.json").write_text(payload, encoding="utf-8")
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(payload, encoding="utf-8")
    print(f"wrote {args.out / 'quality.md'} and {args.out / 'quality.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
