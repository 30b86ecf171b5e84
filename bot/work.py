"""Our own bounded pool for work after an ack, so slow summaries never starve Bolt's acks."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class WorkPool:
    """A thread pool that refuses new work when ``workers + queue`` jobs are already waiting.

    Refusing is better than queueing forever: the user is told "busy, try again in a minute".
    """

    def __init__(self, workers: int = 4, queue: int = 16) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pd-work")
        self._slots = threading.BoundedSemaphore(workers + queue)
        self._idle = threading.Condition()
        self._pending = 0

    def submit(self, fn: Callable[[], None], context: str = "") -> bool:
        """Run ``fn`` soon; False (nothing queued) when the pool is full."""
        if not self._slots.acquire(blocking=False):
            log.warning("work pool full, refusing %s", context)
            return False
        with self._idle:
            self._pending += 1

        def run() -> None:
            try:
                fn()
            except Exception:
                log.exception("background work failed: %s", context)
            finally:
                self._slots.release()
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

        self._pool.submit(run)
        return True

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no work is pending (the shell and the tests use this)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


class TrackingExecutor(ThreadPoolExecutor):
    """Bolt's listener executor, counting what is in flight so the shell can wait for it."""

    def __init__(self, max_workers: int = 5) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="bolt-listener")
        self._idle = threading.Condition()
        self._pending = 0

    def submit(self, fn, /, *args, **kwargs):
        with self._idle:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)
