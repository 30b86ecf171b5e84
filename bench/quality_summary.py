"""Summary quality against human references: ROUGE of every system next to Lead-3, the default's
held-out paired difference against cleaned Lead-3, and topic coverage.

Scoring follows ../shared/eval/README.md (rouge-score F1 x100 with stemming; R-1, R-2, R-Lsum;
mean and standard error over articles), at 3 sentences and at the default length (§4: 3 up to
~600 words, 4 up to ~1,500, 5 beyond). Systems: Lead-N on the raw text and after cleaning, every
registry method on our cleaned document, and Sumy's own classes on the raw text. The default
(``policy``) has fitted weights, so its row is never the shipped weights scored on the rows they
were fitted on: it is the grouped k-fold cross-validation of bench/fit_summary_weights.py, each
article summarized by weights fitted on other sources only.

Topic coverage (ours): over articles with two or more shown tags, the share of shown tags whose
evidence appears in the summary. On the human set it is held out like ROUGE; on the policy
excerpts (topics_policy.jsonl, never used for fitting) the shipped weights are scored.

    .venv/bin/python bench/quality_summary.py        (or as part of bench/quality.py)
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: LSA is 10-25x slower without

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import fit_summary_weights as fitting  # noqa: E402
from rouge import KEYS, LABELS, Rouge, load, mean_se, paired  # noqa: E402

from digests.summarize import METHODS, STIGMA_WORDS, summarize  # noqa: E402
from digests.text import NewsTokenizer, split_sentences  # noqa: E402
from digests.topics import default_taxonomy, tag_article  # noqa: E402

LENGTHS = ("3", "default")
BASELINE = "lead3-clean"
HELD_OUT = "default (policy, held-out)"

Summaries = dict[str, list[list[str]]]  # length -> one summary per article


def _sumy_own(name: str) -> Callable[[str, int], list[str]]:
    """Sumy's class as Sumy ships it, on the raw text (our tokenizer: punkt_tab is unavailable)."""
    from sumy.nlp.stemmers import Stemmer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.edmundson import EdmundsonSummarizer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.lsa import LsaSummarizer
    from sumy.summarizers.luhn import LuhnSummarizer
    from sumy.summarizers.reduction import ReductionSummarizer
    from sumy.summarizers.sum_basic import SumBasicSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    classes = {
        "lexrank": LexRankSummarizer,
        "textrank": TextRankSummarizer,
        "lsa": LsaSummarizer,
        "luhn": LuhnSummarizer,
        "edmundson": EdmundsonSummarizer,
        "sumbasic": SumBasicSummarizer,
        "reduction": ReductionSummarizer,
    }
    summarizer = classes[name](Stemmer("english"))
    stop = get_stop_words("english")
    if name == "edmundson":
        summarizer.bonus_words = [w for p in default_taxonomy().phrases() for w in p.split()]
        summarizer.stigma_words = STIGMA_WORDS
        summarizer.null_words = stop
    else:
        summarizer.stop_words = stop
    tokenizer = NewsTokenizer("english")

    memo: dict[str, list[str]] = {}

    def ranked(infos: list) -> list:
        """Sumy passes a callable count the sentences sorted by rating: keep that order."""
        memo["order"] = [str(i.sentence) for i in infos]
        return infos

    def run(text: str, count: int) -> list[str]:
        if memo.get("text") != text:  # one Sumy run per article serves every length
            document = PlaintextParser.from_string(text, tokenizer).document
            order = [str(s) for s in document.sentences]
            summarizer(document, ranked)
            memo.update(text=text, positions={s: i for i, s in enumerate(order)})
        best = memo["order"][:count]
        return sorted(best, key=memo["positions"].__getitem__)

    return run


def _systems(
    prepared: Sequence[fitting.Prepared],
) -> dict[str, Callable[[fitting.Prepared, int], list[str]]]:
    phrases = default_taxonomy().phrases()
    table: dict[str, Callable[[fitting.Prepared, int], list[str]]] = {
        "lead3-raw": lambda p, n: split_sentences(p.row["text"])[:n],
        BASELINE: fitting.lead3,
    }
    for name in METHODS:
        if name in ("default", "policy"):
            continue  # fitted on these rows: only its held-out row counts
        table[name] = lambda p, n, name=name: (
            summarize(
                p.row["text"], n, name, title=p.row.get("title") or "", bonus_words=phrases
            ).sentences
        )
    for name in ("lexrank", "textrank", "lsa", "luhn", "edmundson", "sumbasic", "reduction"):
        own = _sumy_own(name)
        table[f"sumy {name}"] = lambda p, n, own=own: own(p.row["text"], n)
    return table


def _score_all(
    rouge: Rouge, prepared: Sequence[fitting.Prepared], summaries: Summaries
) -> dict[str, dict[str, list[float]]]:
    """length -> key -> per-article scores."""
    return {
        length: {
            key: [
                rouge.score(p.row["reference"], s)[key] for p, s in zip(prepared, outs, strict=True)
            ]
            for key in KEYS
        }
        for length, outs in summaries.items()
    }


def _coverage(
    prepared: Sequence[fitting.Prepared], summaries: Sequence[Sequence[str]]
) -> dict[str, float | int]:
    hits = total = 0
    shares: list[float] = []
    for p, summary in zip(prepared, summaries, strict=True):
        if len(p.tags) >= 2:
            h, t = fitting.covered(summary, p.tags)
            hits, total = hits + h, total + t
            shares.append(100 * h / t)
    mean, se = mean_se(shares)
    return {
        "articles": len(shares),
        "tags": total,
        "pooled": 100 * hits / total if total else 0.0,
        "mean": mean,
        "se": se,
    }


def _paired_coverage(prepared, ours, base) -> tuple[float, float]:
    diffs = []
    for p, a, b in zip(prepared, ours, base, strict=True):
        if len(p.tags) >= 2:
            diffs.append(
                100 * (fitting.covered(a, p.tags)[0] - fitting.covered(b, p.tags)[0]) / len(p.tags)
            )
    return mean_se(diffs)


def _policy_excerpts(eval_dir: Path) -> dict[str, dict]:
    """Coverage on the policy excerpts (never fitted on): shipped weights vs Lead-N."""
    path = eval_dir / "topics_policy.jsonl"
    if not path.is_file():
        return {}
    taxonomy = default_taxonomy()
    rows = []
    for row in load(path):
        title = row.get("title") or ""
        tags = fitting.shown_tags(tag_article(title, row["text"], taxonomy))
        ours = summarize(
            row["text"], None, "default", title=title, bonus_words=taxonomy.phrases(), tags=tags
        )
        lead = summarize(row["text"], None, "lead", title=title)
        rows.append(
            (fitting.Prepared(row, [], None, None, tags, {}), ours.sentences, lead.sentences)
        )
    prepared = [r[0] for r in rows]
    return {
        "default": _coverage(prepared, [r[1] for r in rows]),
        "lead": _coverage(prepared, [r[2] for r in rows]),
        "diff": dict(
            zip(
                ("mean", "se"),
                _paired_coverage(prepared, [r[1] for r in rows], [r[2] for r in rows]),
                strict=True,
            )
        ),
    }


def _verdict(diff: float, se: float) -> str:
    if diff > se:
        return "win"
    if diff >= -se:
        return "tie (within 1 s.e.)"
    return "LOSS"


def run(eval_dir: Path) -> tuple[str, dict]:
    """The summary section of bench/quality.py: Markdown and a JSON-able dict."""
    path = eval_dir / fitting.HUMAN
    if not path.is_file():
        return f"## Summaries\n\nskipped: {path} not found.\n", {"skipped": str(path)}
    started = time.perf_counter()
    rouge = Rouge()
    rows = load(path)
    rouge.check(rows[0]["reference"], split_sentences(rows[0]["text"])[:3])
    prepared = fitting.prepare_all(rows)

    summaries: dict[str, Summaries] = {}
    timings: dict[str, float] = {}
    for name, system in _systems(prepared).items():
        t0 = time.perf_counter()
        outs: Summaries = {length: [] for length in LENGTHS}
        for p in prepared:
            done: dict[int, list[str]] = {}  # most articles: 3 sentences is the default length
            for length in LENGTHS:
                count = p.counts[length]
                if count not in done:
                    done[count] = system(p, count)
                outs[length].append(done[count])
        summaries[name] = outs
        timings[name] = (time.perf_counter() - t0) * 1000 / len(prepared)
    t0 = time.perf_counter()
    held_out, fold_weights = fitting.cross_validate(prepared, scorer=fitting.Scorer(rouge))
    timings[HELD_OUT] = (time.perf_counter() - t0) * 1000 / len(prepared)
    summaries = {HELD_OUT: held_out, **summaries}
    scores = {name: _score_all(rouge, prepared, outs) for name, outs in summaries.items()}

    data: dict = {
        "articles": len(prepared),
        "folds": fitting.FOLDS,
        "grouped_by": "source",
        "systems": {
            name: {
                length: {
                    key: dict(zip(("mean", "se"), mean_se(values), strict=True))
                    for key, values in per.items()
                }
                for length, per in by_length.items()
            }
            for name, by_length in scores.items()
        },
        "ms_per_summary": timings,
    }
    data["paired_vs_lead3_clean"] = {
        length: {
            key: dict(
                zip(
                    ("diff", "se"),
                    paired(scores[HELD_OUT][length][key], scores[BASELINE][length][key]),
                    strict=True,
                )
            )
            for key in KEYS
        }
        for length in LENGTHS
    }
    sources = sorted({p.row.get("source", "?") for p in prepared})
    data["paired_by_source_default_length"] = {
        source: {
            "n": sum(p.row.get("source") == source for p in prepared),
            **{
                key: dict(
                    zip(
                        ("diff", "se"),
                        paired(
                            [
                                v
                                for p, v in zip(
                                    prepared, scores[HELD_OUT]["default"][key], strict=True
                                )
                                if p.row.get("source") == source
                            ],
                            [
                                v
                                for p, v in zip(
                                    prepared, scores[BASELINE]["default"][key], strict=True
                                )
                                if p.row.get("source") == source
                            ],
                        ),
                        strict=True,
                    )
                )
                for key in ("rouge2", "rougeLsum")
            },
        }
        for source in sources
    }
    data["coverage_human"] = {
        length: {
            "default": _coverage(prepared, summaries[HELD_OUT][length]),
            "lead": _coverage(prepared, summaries[BASELINE][length]),
            "diff": dict(
                zip(
                    ("mean", "se"),
                    _paired_coverage(
                        prepared, summaries[HELD_OUT][length], summaries[BASELINE][length]
                    ),
                    strict=True,
                )
            ),
        }
        for length in LENGTHS
    }
    data["coverage_policy_excerpts"] = _policy_excerpts(eval_dir)
    data["fold_weights"] = [
        {**w.weights, "redundancy": w.redundancy, "topic_bonus": w.topic_bonus}
        for w in fold_weights
    ]
    data["seconds"] = round(time.perf_counter() - started, 1)
    data["figures"] = _figures(data)
    return _markdown(data), data


def _figures(data: dict) -> list[dict]:
    """Headline figures with the issue's targets, for bench/run.py's table."""
    figures = []
    for length, per in data["paired_vs_lead3_clean"].items():
        for key in ("rouge2", "rougeLsum"):
            cell = per[key]
            figures.append(
                {
                    "name": f"default - cleaned Lead-3, {LABELS[key]} @{length} (held-out)",
                    "value": round(cell["diff"], 2),
                    "unit": f"± {cell['se']:.2f}",
                    "target": ">= -1 s.e.",
                    "pass": cell["diff"] >= -cell["se"],
                }
            )
    for length, cell in data["coverage_human"].items():
        gain = cell["default"]["pooled"] - cell["lead"]["pooled"]
        figures.append(
            {
                "name": f"topic coverage gain over Lead @{length} (held-out)",
                "value": round(gain, 1),
                "unit": "points",
                "target": ">= 15",
                "pass": gain >= 15,
            }
        )
    return figures


def _markdown(data: dict) -> str:
    out = [
        "## Summaries (human references)",
        "",
        f"{data['articles']} articles; F1 x100 ± s.e.; the default's row is held out "
        f"({data['folds']}-fold CV grouped by {data['grouped_by']}).",
        "",
    ]
    for length in LENGTHS:
        title = "3 sentences" if length == "3" else "default length"
        out += [
            f"### ROUGE, {title}",
            "",
            "| system | R-1 | R-2 | R-Lsum | ms/article |",
            "|---|---|---|---|---|",
        ]
        for name, by_length in data["systems"].items():
            cells = " | ".join(
                f"{by_length[length][k]['mean']:.2f} ± {by_length[length][k]['se']:.2f}"
                for k in KEYS
            )
            out.append(f"| {name} | {cells} | {data['ms_per_summary'][name]:.1f} |")
        out.append("")
    out += [
        "### Default (held-out) minus cleaned Lead-3, paired",
        "",
        "| length | metric | diff ± s.e. | verdict |",
        "|---|---|---|---|",
    ]
    for length, per in data["paired_vs_lead3_clean"].items():
        for key, cell in per.items():
            out.append(
                f"| {length} | {LABELS[key]} | {cell['diff']:+.2f} ± {cell['se']:.2f} | {_verdict(cell['diff'], cell['se'])} |"
            )
    out += [
        "",
        "By source, default length (R-2, R-Lsum diff ± s.e.):",
        "",
        "| source | n | R-2 | R-Lsum |",
        "|---|---|---|---|",
    ]
    for source, cell in data["paired_by_source_default_length"].items():
        out.append(
            f"| {source} | {cell['n']} | {cell['rouge2']['diff']:+.2f} ± {cell['rouge2']['se']:.2f} "
            f"| {cell['rougeLsum']['diff']:+.2f} ± {cell['rougeLsum']['se']:.2f} |"
        )
    out += [
        "",
        "### Topic coverage (shown tags with evidence in the summary, articles with ≥ 2 tags)",
        "",
    ]
    out += [
        "| set | length | articles / tags | default | Lead | paired diff ± s.e. (per article) |",
        "|---|---|---|---|---|---|",
    ]
    rows = [("human (held-out)", length, cell) for length, cell in data["coverage_human"].items()]
    if data["coverage_policy_excerpts"]:
        rows.append(
            ("policy excerpts (shipped weights)", "default", data["coverage_policy_excerpts"])
        )
    for name, length, cell in rows:
        out.append(
            f"| {name} | {length} | {cell['default']['articles']} / {cell['default']['tags']} "
            f"| {cell['default']['pooled']:.1f}% | {cell['lead']['pooled']:.1f}% "
            f"| {cell['diff']['mean']:+.1f} ± {cell['diff']['se']:.1f} |"
        )
    out += ["", f"({data['seconds']} s)", ""]
    return "\n".join(out)


def main() -> int:
    try:
        import rouge_score  # noqa: F401
    except ImportError:
        print("skip: rouge-score is not installed (pip install -e '.[dev]')")
        return 0
    markdown, data = run(ROOT.parent / "shared" / "eval")
    print(markdown)
    if os.environ.get("BENCH_JSON"):
        import json

        Path(os.environ["BENCH_JSON"]).write_text(json.dumps(data, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
