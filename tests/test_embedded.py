"""The embedded store keeps data across restarts, and a second process joins the first one."""

from __future__ import annotations

import subprocess
import sys

from bot.storage.embedded import EmbeddedServer
from bot.storage.store import connect


def test_data_survives_a_restart(tmp_path):
    server = EmbeddedServer(tmp_path)
    client = connect(server.start(), timeout=2.0)
    client.set("pd:T1:article:x", "kept")
    client.close()
    server.stop()

    again = EmbeddedServer(tmp_path)
    client = connect(again.start(), timeout=2.0)
    try:
        assert client.get("pd:T1:article:x") == "kept"
    finally:
        client.close()
        again.stop()


def test_a_second_process_joins_the_running_server(tmp_path):
    server = EmbeddedServer(tmp_path)
    client = connect(server.start(), timeout=2.0)
    client.set("greeting", "hello")
    code = (
        "from bot.storage.embedded import EmbeddedServer; from bot.storage.store import connect; import sys; "
        f"s = EmbeddedServer({str(tmp_path)!r}); c = connect(s.start(), timeout=2.0); "
        "print(c.get('greeting')); sys.stdout.flush()"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
        )
        assert out.stdout.strip() == "hello", out.stderr
        assert client.ping()  # the joiner did not stop the owner's server
    finally:
        client.close()
        server.stop()
