"""Scale-out: durable jobs (at-least-once, retries, depth), idempotent replies, the workspace
indexes, and a full Redis. Process tests run the real ``python -m bot worker``."""

from __future__ import annotations

import os
import signal
import threading
import time

from bot.delivery.ledger import Schedules
from bot.jobs.queue import JobQueue
from bot.slack.fakeslack import FakeSlack
from bot.storage.store import Store, Stores, connect
from tests.slack_harness import CHANNEL, Harness, spawn, url_of

TEAM = "T0LOCAL"


def wait(predicate, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


# -- the queue ----------------------------------------------------------------------------------


def test_a_failing_job_is_retried_with_backoff_and_depth_is_visible(redis_client):
    queue = JobQueue(url_of(redis_client), min_backoff_ms=200, max_backoff_ms=400)
    runs: list[float] = []

    def flaky(n: int) -> None:
        runs.append(time.monotonic())
        if len(runs) < 3:
            raise ConnectionError("Slack hiccup")

    queue.serve({"flaky": flaky})
    try:
        assert queue.enqueue("flaky", n=1) and queue.depth() == 1  # visible before any worker
        queue.start_worker(1, poll_ms=50)
        assert queue.wait_idle(30)
        assert len(runs) == 3 and runs[1] - runs[0] >= 0.1 and runs[2] - runs[1] >= 0.1
        assert queue.depth() == 0
    finally:
        queue.close()


def test_over_the_configured_depth_new_work_is_refused(redis_client):
    queue = JobQueue(url_of(redis_client), max_depth=3)
    try:
        assert all(queue.enqueue("anything") for _ in range(3))
        assert queue.enqueue("anything") is False
        assert "try again in about 1 minute" in queue.busy_text()
    finally:
        queue.broker.flush_all()
        queue.close()


def test_a_worker_killed_mid_job_is_replaced_and_the_share_is_answered_once(
    redis_client, redis_url, site
):
    """kill -9 while the job waits on the page: another worker runs it again, and the thread
    ends with one reply (the first run's placeholder, updated)."""
    fake = FakeSlack().start()
    env = {"QUEUE_HEARTBEAT_SECONDS": "2", "WORKERS": "1"}
    queue = JobQueue(redis_url)
    site.gate = threading.Event()
    first = spawn("worker", fake, redis_url, **env)
    second = None
    try:
        url = site.url("killed")
        queue.enqueue("message", team=TEAM, channel=CHANNEL, user="U1", text=f"<{url}>",
                      ts="1700000000.000100")  # fmt: skip
        assert wait(lambda: site.hits and fake.posts(CHANNEL), 60), "the first worker never started"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        site.gate.set()
        started = time.monotonic()
        second = spawn("worker", fake, redis_url, **env)
        assert wait(lambda: queue.depth() == 0, 120), "the killed worker's job never ran again"
        assert time.monotonic() - started < 120
        (reply,) = fake.posts(CHANNEL)
        assert "Chip curbs widen (killed)" in reply["text"]
        assert len(fake.calls_to("chat.postMessage")) == 1  # the re-run found its placeholder
        store = Store.for_team(redis_client, TEAM)
        assert len(store.shares_between(CHANNEL, 0, time.time() + 10)) == 1
    finally:
        site.gate.set()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        queue.close()
        fake.stop()


# -- idempotent jobs ----------------------------------------------------------------------------


def test_a_share_job_run_twice_posts_one_reply(h, site):
    job = {"team": TEAM, "channel": CHANNEL, "user": "U1", "text": f"<{site.url('twice')}>",
           "ts": "1700000000.000200"}  # fmt: skip
    h.bot.shares.on_message(**job)
    h.bot.shares.on_message(**job)
    (reply,) = h.replies()
    assert "Chip curbs widen (twice)" in reply["text"]


def test_a_run_that_died_after_posting_finds_its_reply_in_the_thread(h, site, redis_client):
    job = {"team": TEAM, "channel": CHANNEL, "user": "U1", "text": f"<{site.url('lost')}>",
           "ts": "1700000000.000300"}  # fmt: skip
    h.bot.shares.on_message(**job)
    store = h.bot.stores.for_team(TEAM)
    (key,) = redis_client.keys(store.k("ch", CHANNEL, "reply", "*"))
    redis_client.hdel(key, "ts", "done")  # as if the first run died right after Slack took it
    h.bot.shares.on_message(**job)
    assert len(h.replies()) == 1 and len(h.fake.calls_to("chat.postMessage")) == 1


# -- Redis at scale -----------------------------------------------------------------------------


def test_the_sweep_and_pruning_read_indexes_not_the_keyspace(h, redis_client):
    Schedules(h.bot.stores.for_team("T1")).set("C1", {"kind": "daily", "time": "09:00"})
    h.bot.stores.for_team("T2").add_share("C2", "u1", user="U1", message_ts="1.0")
    redis_client.set("pd:{T3}:schedules", "stray")  # not indexed: never walked
    assert h.bot.stores.indexed("scheduled") == ["T1"]
    assert h.bot.stores.indexed("teams") == ["T1", "T2"]


def test_keys_written_before_the_hash_tag_move_under_it_once(redis_client):
    redis_client.hset("pd:T7:schedules", "C1", "{}")
    redis_client.set("pd:T7:article:u1", "{}")
    redis_client.set("pd:cli:result:x", "{}")
    stores = Stores(redis_client)
    stores.build_indexes()
    assert redis_client.hget("pd:{T7}:schedules", "C1") == "{}"
    assert redis_client.get("pd:{T7}:article:u1") == "{}" and not redis_client.exists(
        "pd:T7:schedules"
    )
    assert redis_client.exists("pd:cli:result:x")
    assert stores.indexed("scheduled") == ["T7"] and stores.indexed("teams") == ["T7"]


def test_a_full_redis_refuses_writes_clearly_while_summaries_answer(private_redis, site):
    client = connect(private_redis, timeout=2.0)
    h = Harness(client)
    try:
        h.message(f"<{site.url('before')}>")
        h.settle()
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", 1)  # full: every write is refused with OOM
        h.message(f"<{site.url('after')}>")
        h.settle()
        after = h.replies()[-1]
        assert "Chip curbs widen (after)" in after["text"]  # the summary still answers
        assert "storage is full" in str(after["blocks"])
        h.command("recent")  # reads still work
        h.settle()
        assert "Chip curbs widen (before)" in h.fake.calls_to("response_url")[-1].params["text"]
        h.command("auto links")  # a write: a clear error, nothing half-changed
        h.settle()
        assert "storage is full" in h.fake.calls_to("response_url")[-1].params["text"]
        client.config_set("maxmemory", 0)
        shares = h.bot.stores.for_team(TEAM).shares_between(CHANNEL, 0, time.time() + 10)
        assert len(shares) == 1  # what was stored before is all there
    finally:
        client.config_set("maxmemory", 0)
        h.close()
