"""Time and peak memory of extraction on hostile pages and on the worst pages under the budget.

Issue 8 measured, before the budget: 600,000 ``<p>`` in an ``<article>`` (4.8 MB) took 91 s and
1.2 GB; 160,000 elements (1.28 MB) took 124 s. Each case here runs ``extract_article`` in a fresh
process (so peak RSS is its own) and prints the outcome, wall seconds and the peak RSS added by
extraction. The "under the limit" shapes are the slowest we found just below MAX_ELEMENTS; the
budgeted worker (bot.fetch.extracting) stops anything that still runs past 20 s or 400 MB.

    .venv/bin/python bench/extract_hostile.py

With BENCH_JSON=path it also writes the figures there as one JSON object. Needs no eval data.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digests.extract import MAX_ELEMENTS  # noqa: E402

PARA = "The committee said the tariff schedule would be reviewed in the spring, officials added."
UNDER = MAX_ELEMENTS - 50


def _page(case: str) -> str:
    if case == "600k <p> in <article> (issue)":
        return "<html><body><article>" + "<p>x</p>" * 600_000 + "</article></body></html>"
    if case == "160k <p> (issue)":
        return "<html><body>" + "<p>x</p>" * 160_000 + "</body></html>"
    if case == "flat <p>, under the limit":
        return "<html><body><article>" + "<p>x</p>" * UNDER + "</article></body></html>"
    if case == "nested <div>, under the limit":
        unit = "<div>" * 200 + f"<p>{PARA}</p>" + "</div>" * 200
        return "<html><body><article>" + unit * (UNDER // 201) + "</article></body></html>"
    if case == "links, lists, tables, under the limit":
        unit = (
            f"<p>{PARA} <a href='/w/x'>link</a> and <b>bold</b> text.</p>"
            "<ul><li><a href='/a'>item one</a></li><li>item two</li></ul>"
            "<table><tr><td>cell</td><td>cell</td></tr></table>"
        )
        return "<html><body><div id='content'>" + unit * (UNDER // 11) + "</div></body></html>"
    if case == "<br> runs, under the limit":
        return "<html><body><article><p>" + "word<br>" * UNDER + "</p></article></body></html>"
    raise ValueError(case)


CASES = (
    "600k <p> in <article> (issue)",
    "160k <p> (issue)",
    "flat <p>, under the limit",
    "nested <div>, under the limit",
    "links, lists, tables, under the limit",
    "<br> runs, under the limit",
)


def _one(case: str) -> dict:
    """Run in a child process: extract one page, report outcome, seconds and peak RSS added."""
    from digests.errors import InputError
    from digests.extract import extract_article

    body = _page(case).encode()
    extract_article(b"<html><body><p>" + PARA.encode() * 3 + b"</p></body></html>")  # imports
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        article = extract_article(body, "https://hostile.example/page")
        outcome = f"read, {len(article.text.split())} words"
    except InputError as exc:
        outcome = f"refused: {exc.code}"
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "case": case,
        "bytes": len(body),
        "outcome": outcome,
        "seconds": round(seconds, 3),
        "peak_mb_added": round((after - before) / 1024, 1),
    }


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        print(json.dumps(_one(sys.argv[2])))
        return 0
    rows = []
    print(f"{'case':40} {'MB':>6} {'outcome':>24} {'seconds':>8} {'peak MB added':>14}")
    for case in CASES:
        out = subprocess.run(
            [sys.executable, __file__, "--case", case],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        row = json.loads(out.stdout)
        rows.append(row)
        print(
            f"{case:40} {row['bytes'] / 1e6:6.2f} {row['outcome']:>24} {row['seconds']:8.2f} "
            f"{row['peak_mb_added']:14.1f}"
        )
    if os.environ.get("BENCH_JSON"):
        figures = [
            {
                "name": f"{row['case']}: seconds ({row['outcome']})",
                "value": row["seconds"],
                "unit": " s",
                "target": "<= 20",
                "pass": row["seconds"] <= 20,
            }
            for row in rows
        ] + [
            {
                "name": "largest peak RSS added by one page",
                "value": max(row["peak_mb_added"] for row in rows),
                "unit": " MB",
                "target": "<= 400",
                "pass": max(row["peak_mb_added"] for row in rows) <= 400,
            }
        ]
        Path(os.environ["BENCH_JSON"]).write_text(
            json.dumps({"figures": figures, "cases": rows}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
