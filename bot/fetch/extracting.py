"""Extraction with a budget: every page is read in a worker process limited in time and memory.

``digests.extract`` refuses markup over its element and size limits before parsing, but a page
under them can still be pathological in ways we haven't met. So pages are extracted in worker
processes: each has an address-space limit (``EXTRACT_MEMORY_MB`` above what it holds when it
starts) and a CPU-time limit per page, and the caller waits at most ``EXTRACT_SECONDS`` before
killing the worker. A thread waiting for a worker holds no GIL, so the process stays responsive
(acks, health checks, SIGTERM); a worker whose parent dies is stopped by its CPU limit or by the
closed pipe.

Workers are fresh interpreters (``python -m bot.fetch.extracting``, started with fork+exec, so no lock
or thread of this process is copied) talking over two pipes, and are reused: a page costs a pipe
round trip (well under a millisecond), not a process start (about half a second, once).
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from functools import lru_cache
from multiprocessing.connection import Connection

from digests.errors import InputError
from digests.extract import extract_article
from digests.models import Article

__all__ = ["EXTRACT_MEMORY_MB", "EXTRACT_SECONDS", "BoundedExtractor", "shared_extractor"]

log = logging.getLogger(__name__)

EXTRACT_SECONDS = 20.0
EXTRACT_MEMORY_MB = 400
_MAX_IDLE = 4
_START_SECONDS = 60.0

_PASTE = "paste the article text instead"


class _WorkerLost(Exception):
    """The worker ran out of time or memory, or died."""


def _address_space() -> int:
    """This process's virtual size in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit(kind: int, soft: int) -> None:
    """Lower a soft limit; platforms that refuse (macOS for RLIMIT_AS) keep the wall-clock one."""
    try:
        _, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(kind, (soft, hard))
    except (ValueError, OSError) as exc:
        log.debug("resource limit %s not set: %s", kind, exc)


def _serve(inbox: Connection, outbox: Connection) -> None:
    """Worker loop: the setup message, then one page per message until EOF or ``None``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent to handle
    path, target, memory, seconds = pickle.loads(inbox.recv_bytes())
    sys.path[:] = path
    target = pickle.loads(target)  # imports the target's module under the parent's sys.path
    base = _address_space()
    if base:
        _limit(resource.RLIMIT_AS, base + memory)
    outbox.send("ready")
    while True:
        try:
            task = inbox.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        usage = resource.getrusage(resource.RUSAGE_SELF)
        _limit(resource.RLIMIT_CPU, int(usage.ru_utime + usage.ru_stime + seconds) + 2)
        try:
            reply: tuple = ("ok", target(*task))
        except InputError as exc:
            reply = ("input", exc.code, exc.message)
        except MemoryError:
            outbox.send(("memory",))
            return  # a heap that hit the limit is not worth reusing
        except Exception as exc:  # a bug: reported to the caller, the worker stays usable
            reply = ("bug", f"{type(exc).__name__}: {exc}")
        outbox.send(reply)


class _Worker:
    def __init__(self, target: Callable[..., Article], memory: int, seconds: float) -> None:
        task_read, task_write = os.pipe()
        reply_read, reply_write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.fetch.extracting", str(task_read), str(reply_write)],
            pass_fds=(task_read, reply_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        os.close(task_read)
        os.close(reply_write)
        self.outbox = Connection(task_write, readable=False)
        self.inbox = Connection(reply_read, writable=False)
        # The budget starts with the page: wait out the worker's start (imports) first.
        try:
            self.outbox.send_bytes(pickle.dumps((sys.path, pickle.dumps(target), memory, seconds)))
            ready = self.inbox.poll(_START_SECONDS) and self.inbox.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.stop(kill=True)
            raise RuntimeError("the extraction worker did not start")

    def run(self, task: tuple, seconds: float) -> tuple:
        try:
            self.outbox.send(task)
            if not self.inbox.poll(seconds):
                raise _WorkerLost("time")
            return self.inbox.recv()
        except (EOFError, OSError) as exc:
            raise _WorkerLost("died") from exc

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.outbox.send(None)
            except OSError:
                self.process.kill()
        self.outbox.close()
        self.inbox.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class BoundedExtractor:
    """``extract_article`` with a time and memory budget per page; safe to share across threads.

    ``target`` replaces ``extract_article`` in tests (it must be importable by name).
    """

    def __init__(
        self,
        seconds: float = EXTRACT_SECONDS,
        memory_mb: int = EXTRACT_MEMORY_MB,
        target: Callable[..., Article] = extract_article,
    ) -> None:
        self.seconds = seconds
        self.memory = memory_mb * 2**20
        self.target = target
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def __call__(
        self,
        body: bytes,
        url: str | None = None,
        content_type: str = "text/html",
        charset: str | None = None,
    ) -> Article:
        """Like ``extract_article``; also raises InputError("too_complex") over the budget."""
        worker = self._take()
        try:
            reply = worker.run((body, url, content_type, charset), self.seconds)
        except _WorkerLost as exc:
            worker.stop(kill=True)
            log.warning("extraction of %s stopped (%s), %d bytes", url or "a page", exc, len(body))
            if str(exc) == "time":
                raise InputError(
                    "too_complex",
                    f"Reading that page took longer than {self.seconds:g} seconds, so I gave up; "
                    f"{_PASTE}.",
                ) from None
            raise self._too_much_memory() from None
        if reply[0] == "memory":
            worker.stop(kill=True)
            raise self._too_much_memory()
        self._give_back(worker)
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "input":
            raise InputError(reply[1], reply[2])
        raise RuntimeError(f"extraction failed: {reply[1]}")

    def _too_much_memory(self) -> InputError:
        return InputError(
            "too_complex",
            f"That page needed more than {self.memory // 2**20} MB to read, so I gave up; "
            f"{_PASTE}.",
        )

    def _take(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Worker(self.target, self.memory, self.seconds)

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if len(self._idle) < _MAX_IDLE:
                self._idle.append(worker)
                return
        worker.stop()

    def close(self) -> None:
        """Stop the idle workers (busy ones stop when their page is done)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


@lru_cache(maxsize=1)
def shared_extractor() -> BoundedExtractor:
    """One set of workers per process, however many times ``bootstrap.compose`` runs in it."""
    return BoundedExtractor()


if __name__ == "__main__":  # a worker: python -m bot.fetch.extracting INBOX_FD OUTBOX_FD
    _serve(
        Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False)
    )
