"""Durable jobs: Dramatiq's Redis broker on our Redis, so work acked to Slack is never lost.

Why Dramatiq (README, "Jobs"): a message stays in Redis until a worker acks it *after* the
job ran; a worker that dies (``kill -9``) stops sending heartbeats, and the broker's
maintenance puts its unacked messages back on the queue once ``QUEUE_HEARTBEAT_SECONDS``
(60 s by default) have passed. Dramatiq runs maintenance on a random 0.1% of commands; ours
runs it at least every quarter heartbeat too, so a dead worker's job runs again within
about 1.25 × the heartbeat (75 s by default), under the 2 minutes we promise. Retries
with exponential backoff and a dead-letter queue come with it; ``depth()`` is the queue size.

One actor, ``pd_job``, runs a named job from the table a worker serves (``bot.jobs.tasks``),
so the web process needs no job code to enqueue. All of Dramatiq's keys share the hash tag
``{jobs}`` (namespace ``pd:{jobs}``): its Lua scripts touch several keys of one queue, and
under Redis Cluster they must live on one slot.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from bot.slack.executor import TrackingExecutor

log = logging.getLogger(__name__)

QUEUE = "pd"
NAMESPACE = "pd:{jobs}"
ASSUMED_JOBS_PER_MINUTE = 600  # only for telling a refused user when to retry
FALLBACK_THREADS = 4
FALLBACK_QUEUE = 32


class _Broker(RedisBroker):
    """Dramatiq's Redis broker, with maintenance (requeueing dead workers' jobs) at least every
    quarter heartbeat, so recovery time does not depend on chance."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._every = self.heartbeat_timeout / 4000
        self._last = time.monotonic()

    def _should_do_maintenance(self, command: str) -> int:
        if command not in ("ack", "nack") and time.monotonic() - self._last >= self._every:
            self._last = time.monotonic()
            return 1
        return super()._should_do_maintenance(command)


class JobQueue:
    """Enqueue named jobs with JSON payloads; run them on an in-process or separate worker."""

    def __init__(
        self,
        redis_url: str,
        *,
        max_depth: int = 5000,
        heartbeat_seconds: int = 60,
        max_retries: int = 5,
        min_backoff_ms: int = 1_000,
        max_backoff_ms: int = 60_000,
    ) -> None:
        client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
        self.broker = _Broker(
            client=client, namespace=NAMESPACE, heartbeat_timeout=heartbeat_seconds * 1000
        )
        self.max_depth = max_depth
        self._table: dict[str, Callable[..., None]] = {}
        self._worker: dramatiq.Worker | None = None
        self._fallback = TrackingExecutor(FALLBACK_THREADS, name="pd-fallback")
        self._fallback_slots = threading.BoundedSemaphore(FALLBACK_THREADS + FALLBACK_QUEUE)
        self._actor = dramatiq.actor(
            self._run,
            broker=self.broker,
            actor_name="pd_job",
            queue_name=QUEUE,
            max_retries=max_retries,
            min_backoff=min_backoff_ms,
            max_backoff=max_backoff_ms,
            time_limit=180_000,
        )

    def _run(self, kind: str, payload: dict) -> None:
        job = self._table.get(kind)
        if job is None:
            raise LookupError(f"this worker has no job named {kind!r}")
        job(**payload)

    # -- producing ------------------------------------------------------------------------------

    def enqueue(self, kind: str, **payload) -> bool:
        """Queue a job; False (nothing queued) when more than ``max_depth`` jobs wait.

        When Redis refuses (down, or full under ``noeviction``) the job runs here instead, on a
        small bounded pool: not durable, but the user still gets an answer (saying what could
        not be saved) rather than silence.
        """
        try:
            if self.depth() >= self.max_depth:
                log.warning("queue over %d jobs, refusing %s", self.max_depth, kind)
                return False
            self._actor.send(kind, payload)
            return True
        except redis.RedisError as exc:
            log.error("job queue unavailable (%s); running %s in this process", exc, kind)
            return self._run_here(kind, payload)

    def _run_here(self, kind: str, payload: dict) -> bool:
        if not self._fallback_slots.acquire(blocking=False):
            return False

        def run() -> None:
            try:
                self._run(kind, payload)
            except Exception:
                log.exception("job %s failed (run in-process, queue unavailable)", kind)
            finally:
                self._fallback_slots.release()

        self._fallback.submit(run)
        return True

    def depth(self) -> int:
        """Jobs waiting, running or waiting for a retry."""
        return int(self.broker.do_qsize(QUEUE))

    def busy_text(self) -> str:
        try:
            depth = self.depth()
        except redis.RedisError:
            depth = self.max_depth
        minutes = max(1, math.ceil(depth / ASSUMED_JOBS_PER_MINUTE))
        return (
            f"I'm busy right now (over {self.max_depth:,} jobs waiting); "
            f"try again in about {minutes} minute{'s' if minutes > 1 else ''}."
        )

    # -- consuming ------------------------------------------------------------------------------

    def serve(self, table: Mapping[str, Callable[..., None]]) -> None:
        """The jobs this process can run (``bot.jobs.tasks.job_table``); every process knows
        them, for the in-process fallback, and only workers consume."""
        self._table = dict(table)

    def start_worker(self, threads: int, *, poll_ms: int = 1000) -> None:
        """Consume in this process: the ``worker`` entry point, and local modes' in-process
        worker (the same queue code, on the embedded store)."""
        self._worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=poll_ms)
        self._worker.start()

    def wait_idle(self, timeout: float = 120) -> bool:
        """Until nothing is queued or running (the shell reads its next line after this)."""
        deadline = time.monotonic() + timeout
        self._fallback.wait_idle(timeout)
        while time.monotonic() < deadline:
            try:
                depth = self.depth()
            except redis.RedisError:
                return self._fallback.wait_idle(max(0.0, deadline - time.monotonic()))
            if depth == 0:
                if self._worker is not None:
                    self._worker.join()
                if self.depth() == 0:
                    return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        self._fallback.shutdown(wait=True)
        if self._worker is not None:
            self._worker.stop(timeout=5000)
            self._worker = None
        self.broker.close()
