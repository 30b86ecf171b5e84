"""Bolt's listener executor in the shell and tests: a thread pool that can be waited on."""

from __future__ import annotations

import logging
import threading
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
