"""How long extract_article takes per page, on realistic pages built from the eval articles.

Each article text from ../shared/eval/summaries_human.jsonl is wrapped in a news-site template
(nav, sidebar of links, share buttons, newsletter box, footer, scripts, JSON-LD) so trafilatura
has real boilerplate to remove. Prints ms per page (mean / median / p95), the share of article
words recovered, pages where boilerplate leaked in, and pages wrongly flagged as paywalled.

    .venv/bin/python bench/extract_speed.py [--limit N] [--repeat R]

Reads the eval data at run time and skips (exit 0) when it is missing; nothing is copied.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digests.errors import InputError  # noqa: E402
from digests.extract import extract_article  # noqa: E402

EVAL_FILE = ROOT.parent / "shared" / "eval" / "summaries_human.jsonl"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
BOILERPLATE = ("Trending now", "Sign up for the Morning Brief", "All rights reserved", "Most read")

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} | The Daily Ledger</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="The Daily Ledger">
<meta name="author" content="Staff Reporter">
<meta property="article:published_time" content="2024-06-0{day}T08:00:00Z">
<link rel="stylesheet" href="/static/site.css">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"{title}","isAccessibleForFree":true,"publisher":{{"@type":"Organization",
"name":"The Daily Ledger"}}}}</script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments)}}</script>
</head><body>
<header class="site-header"><a class="logo" href="/">The Daily Ledger</a>
<nav class="main-nav"><ul><li><a href="/world">World</a></li><li><a href="/politics">Politics</a>
</li><li><a href="/business">Business</a></li><li><a href="/tech">Tech</a></li>
<li><a href="/opinion">Opinion</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<form class="search"><input name="q" placeholder="Search"></form></header>
<div class="ad-slot" id="ad-top">Advertisement</div>
<main><article class="story">
<h1 class="headline">{title}</h1>
<div class="byline">By <a href="/staff">Staff Reporter</a> · <time>June {day}, 2024</time></div>
<div class="share"><a href="#">Share on X</a> <a href="#">Share on Facebook</a>
<a href="#">Email</a></div>
<div class="story-body">
{paragraphs}
</div>
<div class="newsletter"><h3>Sign up for the Morning Brief</h3><p>Our editors' picks,
every weekday. <a href="/newsletters">Subscribe to our newsletter</a></p></div>
</article>
<aside class="rail"><h2>Trending now</h2><ol>
<li><a href="/a">Markets close higher as investors weigh rate outlook</a></li>
<li><a href="/b">Five takeaways from the weekend summit</a></li>
<li><a href="/c">Storm season forecast revised upward</a></li>
<li><a href="/d">Opinion: what the new budget gets wrong</a></li></ol>
<h2>Most read</h2><ul><li><a href="/e">Ten photos of the week</a></li>
<li><a href="/f">Quiz: how well do you know the news?</a></li></ul></aside></main>
<footer class="site-footer"><ul><li><a href="/about">About us</a></li>
<li><a href="/contact">Contact</a></li><li><a href="/privacy">Privacy policy</a></li>
<li><a href="/terms">Terms of use</a></li></ul>
<p>© 2024 The Daily Ledger. All rights reserved.</p></footer>
<script src="/static/app.js"></script>
</body></html>"""


def build_page(row: dict, index: int) -> tuple[bytes, str]:
    """A news page for one eval row, and the article text it carries."""
    text = " ".join(row["text"].split())
    sentences = SENTENCE_END.split(text)
    paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    title = row.get("title") or " ".join(text.split()[:10])
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    page = TEMPLATE.format(title=html.escape(title), day=index % 9 + 1, paragraphs=body)
    return page.encode("utf-8"), text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="pages to use (0 = all)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per page")
    args = parser.parse_args()
    if not EVAL_FILE.exists():
        print(f"skipped: {EVAL_FILE} not found")
        return 0
    rows = [json.loads(line) for line in EVAL_FILE.read_text().splitlines() if line.strip()]
    if args.limit:
        rows = rows[: args.limit]
    pages = [build_page(row, i) for i, row in enumerate(rows)]

    extract_article(pages[0][0], "https://www.dailyledger.com/warmup")  # imports, caches
    times_ms: list[float] = []
    recall: list[float] = []
    leaked = paywalled = failed = 0
    words = 0
    for i, (body, source) in enumerate(pages):
        url = f"https://www.dailyledger.com/2024/06/story-{i}.html"
        best = float("inf")
        article = None
        for _ in range(max(1, args.repeat)):
            start = time.perf_counter()
            try:
                article = extract_article(body, url)
            except InputError:
                article = None
            best = min(best, (time.perf_counter() - start) * 1000)
        times_ms.append(best)
        if article is None:
            failed += 1
            continue
        words += len(source.split())
        expected = set(source.lower().split())
        got = set(article.text.lower().split())
        recall.append(len(expected & got) / max(1, len(expected)))
        leaked += any(marker in article.text for marker in BOILERPLATE)
        paywalled += article.paywalled

    times_ms.sort()
    p95 = times_ms[min(len(times_ms) - 1, int(round(0.95 * (len(times_ms) - 1))))]
    print(f"pages: {len(pages)} (avg {words / max(1, len(recall)):.0f} words of article text)")
    print(
        f"extract_article ms/page: mean {statistics.fmean(times_ms):.1f}  "
        f"median {statistics.median(times_ms):.1f}  p95 {p95:.1f}  max {times_ms[-1]:.1f}"
    )
    print(
        f"article words recovered: mean {100 * statistics.fmean(recall or [0]):.1f}%  "
        f"min {100 * min(recall or [0]):.1f}%"
    )
    print(f"boilerplate leaked: {leaked}  flagged paywalled: {paywalled}  no_article: {failed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
