"""Our own bounded pool for work after an ack, so slow summaries never starve Bolt's acks."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class TrackingExecutor(ThreadPoolExecutor):
    """A thread pool that counts what is in flight, so the shell and tests can wait for idle.

    Also Bolt's listener executor in the shell and tests.
    """

    def __init__(self, max_workers: int = 5, name: str = "bolt-listener") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=name)
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


class WorkPool:
    """Our pool for work after an ack; refuses new work once ``workers + queue`` jobs wait.

    Refusing is better than queueing forever: the user is told "busy, try again in a minute".
    """

    def __init__(self, workers: int = 4, queue: int = 16) -> None:
        self._executor = TrackingExecutor(max_workers=workers, name="pd-work")
        self._slots = threading.BoundedSemaphore(workers + queue)

    def submit(self, fn: Callable[[], None], context: str = "") -> bool:
        """Run ``fn`` soon; False (nothing queued) when the pool is full."""
        if not self._slots.acquire(blocking=False):
            log.warning("work pool full, refusing %s", context)
            return False

        def run() -> None:
            try:
                fn()
            except Exception:
                log.exception("background work failed: %s", context)
            finally:
                self._slots.release()

        self._executor.submit(run)
        return True

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no work is pending (the shell and the tests use this)."""
        return self._executor.wait_idle(timeout)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)
