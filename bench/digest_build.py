"""Benchmark: build one channel-week digest from 2,000 and 10,000 synthetic shared articles.

Prints, per size: clustering time, whole build time (filter + cluster + assemble), rendering
time (the compact digest: at most six messages), "what changed" (clustering the previous week's
items with this week's to find stories still developing), and tracemalloc peak memory, each next to baselines measured in the same run on the same
items, so the numbers travel between machines as ratios:

* ``sort``: a plain sort of the items by (shares, reactions, recency), the least any digest does;
* ``tokenize``: tokenizing every title + summary once, the least any text clustering does.

Synthetic stories mimic a busy policy channel: a Zipf-distributed vocabulary shared by every
article (so common words really are common), a few event-specific words per story, and 1-5
outlets per story, each paraphrasing the event in its own words. Clustering pairwise precision and
recall against that ground truth is printed too (a sanity check, not the quality measure: that is
tests/test_cluster.py on real articles).

The trend chart (8 periods, matplotlib Agg) is timed once: its cost does not grow with the week.

Run: ``.venv/bin/python bench/digest_build.py [SIZE ...]`` (default 2000 10000). With
``BENCH_JSON=path`` the figures are also written there as one JSON object.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import json
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digests.changes import PeriodRecord, developing_keys  # noqa: E402
from digests.chart import render_chart  # noqa: E402
from digests.cluster import cluster_items, tokens  # noqa: E402
from digests.digest import build_digest  # noqa: E402
from digests.models import SharedItem, TopicTag  # noqa: E402
from digests.render import MAX_MESSAGES, check_blocks, render_blocks  # noqa: E402
from digests.topics import Taxonomy  # noqa: E402

TOPICS = Taxonomy.load().ids()
LABELS = {t: t.replace("_", " ").capitalize() for t in TOPICS}
WEEK = 7 * 86400.0
START = 1_767_225_600.0  # 2026-01-01T00:00Z


def _word(rng: random.Random) -> str:
    letters = "abcdefghijklmnoprstuvwy"
    return "".join(rng.choice(letters) for _ in range(rng.randint(4, 9)))


def synthetic(n: int, seed: int = 42) -> tuple[list[SharedItem], list[int]]:
    """``n`` shared items and, for each, the id of the story it reports."""
    rng = random.Random(seed)
    vocab = list(dict.fromkeys(_word(rng) for _ in range(40_000)))
    weights = [1.0 / (r + 1) for r in range(len(vocab))]  # Zipf: a few words are everywhere
    cum = list(itertools.accumulate(weights))

    def filler(k: int) -> list[str]:
        return rng.choices(vocab, cum_weights=cum, k=k)

    items: list[SharedItem] = []
    truth: list[int] = []
    story = 0
    while len(items) < n:
        outlets = rng.choices([1, 2, 3, 4, 5], weights=[70, 18, 7, 3, 2])[0]
        # What outlets reporting one event have in common: names (two-word phrases), figures and
        # a few event words; everything else is each outlet's own wording.
        names = [" ".join(rng.sample(vocab[3_000:], 2)) for _ in range(2)]
        figures = [str(rng.randrange(2, 5_000)) for _ in range(2)]
        event = rng.sample(vocab[1_000:], 5)
        topic = rng.choice(TOPICS)
        day = START + rng.uniform(0, WEEK - 3 * 86400)
        for o in range(min(outlets, n - len(items))):
            title = [names[0], *rng.sample(event, 2), *filler(3)]
            rng.shuffle(title)
            sentences = []
            for k in range(3):
                words = [names[k % 2], rng.choice(figures), *rng.sample(event, 2), *filler(6)]
                rng.shuffle(words)
                sentences.append(" ".join(words).capitalize() + ".")
            key = f"s{story}o{o}"
            items.append(
                SharedItem(
                    key=key,
                    title=" ".join(title).capitalize(),
                    summary=sentences,
                    topics=[
                        TopicTag(topic, LABELS[topic], round(rng.uniform(0.5, 1.0), 2)),
                        TopicTag(rng.choice(TOPICS), "", round(rng.uniform(0.1, 0.5), 2)),
                    ],
                    shared_at=day + rng.uniform(0, 2 * 86400),
                    sharers=[f"U{rng.randrange(60):04d}" for _ in range(rng.choice([1, 1, 1, 2]))],
                    url=f"https://outlet{rng.randrange(40)}.example/{key}",
                    site=f"Outlet {rng.randrange(40)}",
                    permalink=f"https://team.slack.com/archives/C1/p{rng.randrange(10**12)}",
                    reactions=rng.choice([0, 0, 0, 1, 2, 5]),
                )
            )
            truth.append(story)
        story += 1
    return items, truth


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` runs, in seconds (GC off while timing, as timeit does)."""
    runs = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return statistics.median(runs)


def peak(fn: Callable[[], object]) -> int:
    """tracemalloc peak (bytes) of one run of ``fn`` above what was allocated before it."""
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        fn()
        _, top = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return top - base


def pairwise(groups: list[list[int]], truth: list[int]) -> tuple[float, float]:
    label = {i: g[0] for g in groups for i in g}
    by_story: dict[int, list[int]] = {}
    for i, s in enumerate(truth):
        by_story.setdefault(s, []).append(i)
    by_pred: dict[int, list[int]] = {}
    for i, g in label.items():
        by_pred.setdefault(g, []).append(i)
    gold = sum(len(v) * (len(v) - 1) // 2 for v in by_story.values())
    pred = sum(len(v) * (len(v) - 1) // 2 for v in by_pred.values())
    both = sum(
        1 for v in by_pred.values() for i, j in itertools.combinations(v, 2) if truth[i] == truth[j]
    )
    return both / max(pred, 1), both / max(gold, 1)


def run(n: int) -> dict:
    items, truth = synthetic(n)
    end = START + WEEK
    repeat = 5 if n <= 2_000 else 3

    def sort() -> object:
        return sorted(items, key=lambda it: (-len(it.sharers), -it.reactions, -it.shared_at))

    def tokenize() -> object:
        return [tokens(it.title + " " + " ".join(it.summary)) for it in items]

    def cluster() -> object:
        return cluster_items(items)

    def build() -> object:
        return build_digest(items, period_start=START, period_end=end, tz="UTC", labels=LABELS)

    digest = build()
    t_sort, t_tok = timed(sort, repeat * 4), timed(tokenize, repeat)
    t_cluster, t_build = timed(cluster, repeat), timed(build, repeat)
    t_render = timed(lambda: render_blocks(digest), repeat)
    previous = [
        dataclasses.replace(it, key="p" + it.key, shared_at=it.shared_at - WEEK)
        for it in synthetic(n, seed=7)[0]
    ]
    t_changes = timed(lambda: developing_keys(previous, items), max(1, repeat // 2))
    m_sort, m_tok, m_build = peak(sort), peak(tokenize), peak(build)
    m_items = peak(lambda: synthetic(n))
    precision, recall = pairwise(cluster(), truth)
    parts = render_blocks(digest)
    assert len(parts) <= MAX_MESSAGES and all(check_blocks(p.blocks) == [] for p in parts)

    print(f"\n== {n:,} articles, one channel-week: {digest.total_stories:,} stories, "
          f"{len(digest.sections)} sections, {len(parts)} message parts")  # fmt: skip
    print(f"  baseline sort         {t_sort * 1e3:9.2f} ms   peak {m_sort / 1e6:8.2f} MB")
    print(f"  baseline tokenize     {t_tok * 1e3:9.2f} ms   peak {m_tok / 1e6:8.2f} MB")
    for name, t in (("cluster_items", t_cluster), ("build_digest", t_build)):
        print(f"  {name:<20}  {t * 1e3:9.2f} ms   = {t / t_sort:7.0f}x sort, "
              f"{t / t_tok:5.1f}x tokenize")  # fmt: skip
    print(f"  render_blocks         {t_render * 1e3:9.2f} ms   ({len(parts)} messages)")
    print(f"  what changed          {t_changes * 1e3:9.2f} ms   = {t_changes / t_cluster:5.1f}x "
          f"cluster_items (previous week of {n:,} items + this one)")  # fmt: skip
    print(f"  build_digest peak     {m_build / 1e6:9.2f} MB   = {m_build / max(m_sort, 1):7.0f}x "
          f"sort, {m_build / m_tok:5.1f}x tokenize; the items themselves: "
          f"{m_items / 1e6:.2f} MB")  # fmt: skip
    print(f"  synthetic clustering  pairwise P {precision:.3f}  R {recall:.3f}")
    return {
        "stories": digest.total_stories, "messages": len(parts), "sort_ms": t_sort * 1e3,
        "cluster_ms": t_cluster * 1e3, "build_ms": t_build * 1e3, "render_ms": t_render * 1e3,
        "changes_ms": t_changes * 1e3, "build_peak_mb": m_build / 1e6,
        "cluster_precision": precision, "cluster_recall": recall,
    }  # fmt: skip


def chart_time() -> float:
    """Median time to draw an 8-period chart of 11 topics (any week size)."""
    rng = random.Random(1)
    periods = [
        PeriodRecord(
            START + i * WEEK,
            START + (i + 1) * WEEK,
            {t: rng.randrange(0, 300) for t in TOPICS},
            LABELS,
        )  # fmt: skip
        for i in range(8)
    ]
    render_chart(periods, "UTC")  # the first draw loads fonts
    return timed(lambda: render_chart(periods, "UTC"), 3)


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [2_000, 10_000]
    print(f"python {sys.version.split()[0]}; times are medians; memory is tracemalloc peak")
    figures = {str(n): run(n) for n in sizes}
    t_chart = chart_time()
    print(f"\ntrend chart, 8 periods x 11 topics: {t_chart * 1e3:.0f} ms (PNG, Agg)")
    figures["chart_ms"] = t_chart * 1e3
    if os.environ.get("BENCH_JSON"):
        with open(os.environ["BENCH_JSON"], "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=2)


if __name__ == "__main__":
    main(sys.argv[1:])
