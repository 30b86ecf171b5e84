"""Speed of each Sumy method in our pipeline next to Sumy's own class, same texts, same run.

Ours = ``summarize(text, 5, method)`` (cleaning, sentence split, the vectorized classes of
``digests/fast_sumy.py``). Plain Sumy = Sumy's ``PlaintextParser`` + the method's own class
(English stemmer, stop words; Edmundson with our bonus/stigma/null words), 5 sentences, on the
raw text, with our offline ``NewsTokenizer`` (Sumy's own needs NLTK's punkt_tab, which we
cannot download). Times are CPU ms per text (``process_time``: single-threaded work, so other
processes on a shared machine do not count), median of the passes, the systems run in turn on
each text; ratio = plain / ours. Our stem cache is warmed on articles
that are not timed (it persists across articles in a running bot).

Sizes: dev articles (``--limit`` of them), ~5,000-word texts and one ~20,000-word text made by
joining consecutive articles. A method whose ``RANK_LIMITS`` cap cuts a text ranks fewer
sentences than Sumy; that row says "capped" and has no target.

``--identity`` (on by default) also checks that every Sumy method we speed up picks the same
sentences as Sumy's class on every dev article, at 3 and 5 sentences (the test suite checks a
sample). Texts come from ``../shared/eval`` at run time; without them the script exits 0.
With ``BENCH_JSON=path`` the figures are written there (see ``bench/run.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: LSA is 10-25x slower without

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sumy.nlp.stemmers import Stemmer  # noqa: E402
from sumy.parsers.plaintext import PlaintextParser  # noqa: E402
from sumy.summarizers.edmundson import EdmundsonSummarizer  # noqa: E402
from sumy.summarizers.lex_rank import LexRankSummarizer  # noqa: E402
from sumy.summarizers.lsa import LsaSummarizer  # noqa: E402
from sumy.summarizers.luhn import LuhnSummarizer  # noqa: E402
from sumy.summarizers.reduction import ReductionSummarizer  # noqa: E402
from sumy.summarizers.sum_basic import SumBasicSummarizer  # noqa: E402
from sumy.summarizers.text_rank import TextRankSummarizer  # noqa: E402
from sumy.utils import get_stop_words  # noqa: E402

from digests import summarize as summarize_module  # noqa: E402
from digests.summarize import (  # noqa: E402
    DEFAULT_BONUS_WORDS,
    STIGMA_WORDS,
    SUMY_METHODS,
    build_document,
    summarize,
)
from digests.text import NewsTokenizer, clean_text, word_count  # noqa: E402

DATA = ROOT.parent / "shared" / "eval"
FILES = ("summaries_human.jsonl", "summaries_bbc.jsonl")
COUNT = 5
SUMY_CLASSES = {
    "lexrank": LexRankSummarizer,
    "textrank": TextRankSummarizer,
    "lsa": LsaSummarizer,
    "reduction": ReductionSummarizer,
    "luhn": LuhnSummarizer,
    "sumbasic": SumBasicSummarizer,
    "edmundson": EdmundsonSummarizer,
}
# Issue 11's targets: (method, size) -> minimum ratio plain / ours.
TARGETS = {
    ("lexrank", "dev"): 1.5,
    ("lexrank", "5k"): 8.0,
    ("lexrank", "20k"): 20.0,
    ("textrank", "5k"): 4.0,
    ("lsa", "5k"): 4.0,
    ("reduction", "5k"): 4.0,
}


def configured(cls: type, stemmer: Callable[[str], str]) -> object:
    """A Sumy summarizer class (theirs or ours) with stop words, or Edmundson's word lists."""
    summarizer = cls(stemmer)
    if isinstance(summarizer, EdmundsonSummarizer):
        tokenizer = NewsTokenizer("english")
        words = {w.lower() for p in DEFAULT_BONUS_WORDS for w in tokenizer.to_words(p)}
        summarizer.bonus_words = sorted(words - get_stop_words("english"))
        summarizer.stigma_words = STIGMA_WORDS
        summarizer.null_words = get_stop_words("english")
    else:
        summarizer.stop_words = get_stop_words("english")
    return summarizer


def sumy_class(method: str) -> object:
    """Sumy's own class, configured as its README shows (plain Snowball stemmer, no memo)."""
    return configured(SUMY_CLASSES[method], Stemmer("english"))


def plain(method: str) -> Callable[[str], list[str]]:
    tokenizer = NewsTokenizer("english")
    summarizer = sumy_class(method)

    def run(text: str) -> list[str]:
        document = PlaintextParser.from_string(text, tokenizer).document
        return [str(s) for s in summarizer(document, COUNT)]  # type: ignore[operator]

    return run


def ours(method: str) -> Callable[[str], list[str]]:
    return lambda text: summarize(text, COUNT, method).sentences


def cpu_ms(run: Callable[[str], list[str]], text: str) -> float:
    """CPU time of one run: on a shared machine, waiting for a core is not our cost."""
    started = time.process_time()
    run(text)
    return (time.process_time() - started) * 1000


def joined(texts: list[str], words: int, count: int) -> list[str]:
    """``count`` texts of at least ``words`` words, each consecutive articles joined."""
    out: list[str] = []
    start = 0
    while len(out) < count and start < len(texts):
        parts: list[str] = []
        while start < len(texts) and sum(word_count(p) for p in parts) < words:
            parts.append(texts[start])
            start += 1
        out.append("\n\n".join(parts))
    return out


def capped(method: str, texts: list[str]) -> bool:
    limit = summarize_module.RANK_LIMITS.get(method)
    return limit is not None and any(
        len(build_document(clean_text(t)).sentences) > limit for t in texts
    )


def measure(size: str, texts: list[str], methods: list[str], repeat: int) -> list[dict]:
    rows = []
    words = statistics.median(word_count(t) for t in texts)
    print(f"\n== {size}: {len(texts)} texts, median {words:,.0f} words, median of {repeat} passes")
    print(f"{'method':<11}{'plain sumy CPU ms':>19}{'ours':>10}{'ratio':>9}{'target':>9}")
    for method in methods:
        systems = {"plain": plain(method), "ours": ours(method)}
        passes: dict[str, list[float]] = {name: [] for name in systems}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # LSA warns on short texts
            for _ in range(repeat):  # text by text, the systems in turn: load hits both alike
                spent = dict.fromkeys(systems, 0.0)
                for text in texts:
                    for name, run in systems.items():
                        spent[name] += cpu_ms(run, text)
                for name in systems:
                    passes[name].append(spent[name] / len(texts))
        base, fast = (statistics.median(passes[n]) for n in ("plain", "ours"))
        is_capped = capped(method, texts)
        target = None if is_capped else TARGETS.get((method, size))
        row = {
            "method": method,
            "size": size,
            "words": words,
            "plain_ms": round(base, 2),
            "ours_ms": round(fast, 2),
            "ratio": round(base / fast, 2),
            "target": target,
            "capped": is_capped,
        }
        rows.append(row)
        shown = "capped" if is_capped else (f">= {target:g}" if target else "-")
        print(f"{method:<11}{base:>19.1f}{fast:>10.1f}{base / fast:>8.1f}x{shown:>9}", flush=True)
    return rows


def _in_order(values: list) -> Callable[[object], object]:
    """A rating that gives ``values`` one by one (Sumy rates sentences in document order)."""
    it = iter(values)
    return lambda _sentence: next(it)


def sumy_picks(summarizer: object, document: object, counts: tuple[int, ...]) -> list[list[str]]:
    """Sumy's picks at each count from one run of its rating (no Sumy class rates by count),
    each made by Sumy's own ``_get_best_sentences``: half the time of one call per count."""
    select = type(summarizer)._get_best_sentences
    captured: dict = {}

    def capture(sentences, count, rating, *args, **kwargs):
        if isinstance(rating, dict):
            captured["rating"] = lambda: rating
        else:  # a function of the sentence (LSA's draws from an iterator: call it once each)
            values = [rating(s, *args, **kwargs) for s in sentences]
            captured["rating"] = lambda: _in_order(values)
        captured["sentences"] = sentences
        return ()

    summarizer._get_best_sentences = capture  # type: ignore[attr-defined]
    try:
        summarizer(document, counts[0])  # type: ignore[operator]
    finally:
        del summarizer._get_best_sentences  # type: ignore[attr-defined]
    if not captured:  # returned early: an empty document
        return [[] for _ in counts]
    return [
        [str(s) for s in select(captured["sentences"], c, captured["rating"]())] for c in counts
    ]


def identity(texts: list[str], methods: list[str]) -> dict[str, int]:
    """Mismatches of our class against Sumy's, per method, at 3 and 5 sentences."""
    tokenizer = NewsTokenizer("english")
    mismatches = dict.fromkeys(methods, 0)
    stems = summarize_module.stemmer()  # the same stems, memoized: this check is long enough
    instances = {
        m: (configured(SUMY_CLASSES[m], stems), configured(SUMY_METHODS[m], stems)) for m in methods
    }
    counts = (3, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for text in texts:
            cleaned = clean_text(text)
            reference = PlaintextParser(cleaned, tokenizer).document
            for method, (sumy, fast) in instances.items():
                document = PlaintextParser(cleaned, tokenizer).document
                wanted = sumy_picks(sumy, reference, counts)
                for count, want in zip(counts, wanted, strict=True):
                    got = [str(s) for s in fast(document, count)]  # ours: one call per count
                    mismatches[method] += want != got
    return mismatches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the eval files")
    parser.add_argument("--limit", type=int, default=30, help="dev articles to time")
    parser.add_argument("--repeat", type=int, default=3, help="passes (20k texts: 1)")
    parser.add_argument("--methods", default=",".join(SUMY_CLASSES), help="comma-separated")
    parser.add_argument("--no-identity", dest="identity", action="store_false")
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
    started = time.perf_counter()
    texts = [r["text"] for r in rows]
    methods = [m for m in args.methods.split(",") if m]
    for method in methods:  # warm our stem cache on articles that are not timed
        for text in texts[-40:]:
            summarize(text, COUNT, method)
    dev = texts[:: max(1, len(texts) // args.limit)][: args.limit]
    long_pool = texts[: len(texts) - 40]
    results = measure("dev", dev, methods, args.repeat)
    results += measure("5k", joined(long_pool, 5000, 2), methods, args.repeat)
    results += measure("20k", joined(long_pool, 20000, 1), methods, 1)

    figures = [
        {
            "name": f"{r['method']} {r['size']} speed-up vs plain Sumy"
            + (" (capped)" if r["capped"] else ""),
            "value": r["ratio"],
            "unit": "x",
            "target": None if r["target"] is None else f">= {r['target']:g}x",
            "pass": None if r["target"] is None else r["ratio"] >= r["target"],
        }
        for r in results
    ]
    report: dict = {"rows": results}
    if args.identity:
        checked = [m for m in methods if m in SUMY_METHODS]
        mismatches = identity(texts, checked)
        print(f"\n== identity: {len(texts)} dev articles x 3 and 5 sentences")
        for method, bad in mismatches.items():
            print(f"{method:<11}{bad:>4} different selections")
            figures.append(
                {
                    "name": f"{method} selections differing from Sumy ({len(texts)} articles x 2)",
                    "value": bad,
                    "target": "0",
                    "pass": bad == 0,
                }
            )
        report["identity_mismatches"] = mismatches
    report["figures"] = figures
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(f"\n({report['seconds']} s)")
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
