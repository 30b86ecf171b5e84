"""A local stand-in for the Slack Web API: a real HTTP server that records every call.

The shell drives the real Bolt app against it, and the tests use it to see what the bot posted
and to inject faults (429 with Retry-After, 500, Slack errors, a connection dropped after a
post was accepted). It keeps channel history with message metadata, like Slack does.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

BOT_USER_ID = "UBOT"
TEAM_ID = "T0LOCAL"
WORKSPACE_URL = "https://local.slack.test/"


@dataclass
class Call:
    """One Web API call (or response_url post) as the bot made it."""

    method: str
    params: dict
    at: float = field(default_factory=time.time)


@dataclass
class _Fault:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    drop_after_accept: bool = False
    times: int = 1
    skip: int = 0
    accept: bool = False


class FakeSlack:
    """Start with ``start()``; point ``WebClient(base_url=fake.base_url)`` at it."""

    def __init__(self, user_tz: str = "America/New_York") -> None:
        self.calls: list[Call] = []
        self.history: dict[str, list[dict]] = {}
        self.user_tz = user_tz
        self.listeners: list[Callable[[Call], None]] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._ts = itertools.count(1)
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                fake._handle(self)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, token: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/response/{token}"

    # -- test helpers ---------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        drop_after_accept: bool = False,
        times: int = 1,
        skip: int = 0,
        accept: bool = False,
    ) -> None:
        """Let ``skip`` calls of ``method`` through, then make ``times`` calls fail that way.

        ``accept``: Slack did the work (the message is in history) but answered with the error.
        """
        with self._lock:
            self._faults.setdefault(method, []).append(
                _Fault(status, error, retry_after, drop_after_accept, times, skip, accept)
            )

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 10.0) -> bool:
        """Block until ``predicate(calls)`` holds; False on timeout (tests assert on it)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(list(self.calls)):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    def posts(self, channel: str | None = None) -> list[dict]:
        """Every message currently in history (after updates), oldest first."""
        with self._lock:
            channels = [channel] if channel else list(self.history)
            return [dict(m) for c in channels for m in self.history.get(c, [])]

    # -- the API --------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode("utf-8") if length else ""
        if "json" in (request.headers.get("Content-Type") or ""):
            params = json.loads(raw or "{}")
        else:
            params = dict(parse_qsl(raw))
            for key in ("blocks", "metadata", "attachments", "view"):
                if isinstance(params.get(key), str):
                    with contextlib.suppress(ValueError):
                        params[key] = json.loads(params[key])
        path = urlparse(request.path).path
        method = "response_url" if path.startswith("/response/") else path.rsplit("/", 1)[-1]
        fault = self._take_fault(method)
        if fault and not fault.drop_after_accept:
            if fault.accept:
                self._answer(method, params)
            self._record(Call(method, {**params, "_failed": fault.status}))
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            body = {
                "ok": False,
                "error": fault.error or ("ratelimited" if fault.status == 429 else "fatal_error"),
            }
            self._reply(request, fault.status, body, headers)
            return
        body = self._answer(method, params)
        self._record(Call(method, params))
        if fault and fault.drop_after_accept:
            request.close_connection = True
            request.connection.shutdown(2)  # Slack took it, the client never hears back
            return
        self._reply(request, 200, body)

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(method) or []
            if not queue:
                return None
            fault = queue[0]
            if fault.skip > 0:
                fault.skip -= 1
                return None
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()
        for listener in list(self.listeners):
            listener(call)

    @staticmethod
    def _reply(request, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(data)

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    @staticmethod
    def _page(messages: list[dict], p: dict) -> dict:
        """Slack-style pages: ``limit`` messages, then ``next_cursor`` (an offset here)."""
        start = int(p.get("cursor") or 0)
        limit = int(p.get("limit") or 100)
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _answer(self, method: str, p: dict) -> dict:
        if method == "auth.test":
            return {
                "ok": True,
                "url": WORKSPACE_URL,
                "team": "Local",
                "team_id": TEAM_ID,
                "user": "policy-digest",
                "user_id": BOT_USER_ID,
                "bot_id": "BBOT",
            }
        if method == "chat.postMessage":
            ts = self._next_ts()
            message = {
                "ts": ts,
                "channel": p.get("channel"),
                "text": p.get("text", ""),
                "blocks": p.get("blocks") or [],
                "thread_ts": p.get("thread_ts"),
                "user": BOT_USER_ID,
                "bot_id": "BBOT",
            }
            if p.get("metadata"):
                message["metadata"] = p["metadata"]
            with self._lock:
                self.history.setdefault(p.get("channel", ""), []).append(message)
            return {"ok": True, "channel": p.get("channel"), "ts": ts, "message": message}
        if method == "chat.update":
            with self._lock:
                for message in self.history.get(p.get("channel", ""), []):
                    if message["ts"] == p.get("ts"):
                        message["text"] = p.get("text", message["text"])
                        message["blocks"] = p.get("blocks") or []
                        return {"ok": True, "channel": p["channel"], "ts": p["ts"]}
            return {"ok": False, "error": "message_not_found"}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.getPermalink":
            ts = str(p.get("message_ts", "")).replace(".", "")
            return {"ok": True, "permalink": f"{WORKSPACE_URL}archives/{p.get('channel')}/p{ts}"}
        if method == "conversations.history":
            with self._lock:
                messages = list(self.history.get(p.get("channel", ""), []))
            oldest = float(p.get("oldest") or 0)
            latest = float(p.get("latest") or "inf")
            messages = [
                m for m in messages
                if oldest <= float(m["ts"]) <= latest and not m.get("thread_ts")
            ]  # fmt: skip
            if str(p.get("include_all_metadata")).lower() not in ("true", "1"):
                messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
            return self._page(list(reversed(messages)), p)
        if method == "conversations.replies":
            with self._lock:
                messages = [
                    m
                    for m in self.history.get(p.get("channel", ""), [])
                    if m["ts"] == p.get("ts") or m.get("thread_ts") == p.get("ts")
                ]
            return self._page(messages, p)
        if method == "users.info":
            return {"ok": True, "user": {"id": p.get("user"), "tz": self.user_tz}}
        return {"ok": True}
