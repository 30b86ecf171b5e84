"""Speed of our summarizing pipeline next to plain Sumy LexRank on the same texts, in one run.

Our pipeline = clean_text + sentence split + summarize (``default`` and ``lexrank``; ``--all`` adds
every registry method). Plain Sumy = ``LexRankSummarizer`` (English stemmer and stop words) on a
``PlaintextParser`` document of the raw text. Sumy's own ``Tokenizer`` cannot run here (it needs
NLTK's punkt_tab), so the baseline uses our ``NewsTokenizer`` with no cleaning. Every system
summarizes each text to the same default length; times are ms per article (median of
``--repeat`` passes) and ratios against the baseline measured in this run.

Texts come from ``../shared/eval`` at run time (never copied into the repository); ``--long``
also times ~5k-word texts made by joining articles. Without the data the script exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: LSA is 10-25x slower without

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sumy.nlp.stemmers import Stemmer  # noqa: E402
from sumy.parsers.plaintext import PlaintextParser  # noqa: E402
from sumy.summarizers.lex_rank import LexRankSummarizer  # noqa: E402
from sumy.utils import get_stop_words  # noqa: E402

from digests.summarize import METHODS, default_length, summarize  # noqa: E402
from digests.text import NewsTokenizer, word_count  # noqa: E402

DATA = ROOT.parent / "shared" / "eval"
FILES = ("summaries_human.jsonl", "summaries_bbc.jsonl")


def plain_sumy_lexrank() -> Callable[[str, int], list[str]]:
    """Sumy as its README shows it, built once, minus the punkt_tab tokenizer it can't load."""
    tokenizer = NewsTokenizer("english")
    summarizer = LexRankSummarizer(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")

    def run(text: str, count: int) -> list[str]:
        parser = PlaintextParser.from_string(text, tokenizer)
        return [str(s) for s in summarizer(parser.document, count)]

    return run


def ours(method: str) -> Callable[[str, int], list[str]]:
    return lambda text, count: summarize(text, count, method).sentences


def time_pass(run: Callable[[str, int], list[str]], texts: list[str], counts: list[int]) -> float:
    started = time.perf_counter()
    for text, count in zip(texts, counts, strict=True):
        run(text, count)
    return (time.perf_counter() - started) * 1000 / len(texts)


def report(label: str, texts: list[str], methods: list[str], repeat: int) -> None:
    """Passes interleave the systems (round robin) so drift in machine load hits all alike."""
    counts = [default_length(word_count(t)) for t in texts]
    systems = {"plain sumy lexrank": plain_sumy_lexrank()}
    systems.update({f"ours {m}": ours(m) for m in methods})
    for run in systems.values():  # warm caches (models, stemmer memo) outside the clock
        run(texts[0], counts[0])
    passes: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(repeat):
        for name, run in systems.items():
            passes[name].append(time_pass(run, texts, counts))
    words = statistics.median(word_count(t) for t in texts)
    print(f"\n== {label}: {len(texts)} texts, median {words:.0f} words, median of {repeat} passes")
    print(f"{'system':<28}{'ms/article':>12}{'x baseline':>12}")
    base = statistics.median(passes["plain sumy lexrank"])
    for name, times in passes.items():
        ms = statistics.median(times)
        print(f"{name:<28}{ms:>12.1f}{ms / base:>12.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the eval files")
    parser.add_argument("--limit", type=int, default=200, help="articles to time (0 = all)")
    parser.add_argument("--repeat", type=int, default=3, help="passes; the median is reported")
    parser.add_argument("--all", action="store_true", help="time every registry method")
    parser.add_argument("--long", action="store_true", help="also time ~5k-word texts")
    args = parser.parse_args(argv)

    rows: list[dict] = []
    for name in FILES:
        path = args.data / name
        if path.is_file():
            with path.open(encoding="utf-8") as handle:
                rows.extend(json.loads(line) for line in handle if line.strip())
    if not rows:
        print(f"skip: no eval data under {args.data}")
        return 0
    texts = [r["text"] for r in rows][: args.limit or None]
    methods = [m for m in METHODS if m != "default"] if args.all else ["lead", "lexrank"]
    methods = ["default", *methods]
    report("articles", texts, methods, args.repeat)
    if args.long:
        long_texts = [" \n\n".join(texts[i : i + 12]) for i in range(0, 120, 12)]
        report("long texts", long_texts, methods, max(1, args.repeat - 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
