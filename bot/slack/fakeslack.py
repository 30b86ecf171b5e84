"""A local stand-in for the Slack Web API: a real HTTP server that records every call.

The shell drives the real Bolt app against it, and the tests use it to see what the bot posted
and to inject faults (429 with Retry-After, 500, Slack errors, a connection dropped after a
post was accepted). It keeps channel history with message metadata, like Slack does.

Files: ``files.getUploadURLExternal`` hands out an upload URL on this same server, the bytes
POSTed there are kept, and ``files.completeUploadExternal`` shares them into a channel (a
thread with ``thread_ts``) as a message with ``files``, like Slack; ``uploads`` holds the bytes.

Several workspaces: ``install_code(team)`` hands out an OAuth code that ``oauth.v2.access``
exchanges for that workspace's bot token (``GET /oauth/v2/authorize`` redirects with one, like
Slack's consent page); every call is recorded with the team its token belongs to, ``auth.test``
answers that team, and ``revoke(team)`` makes its tokens fail as an uninstall does. A token the
fake did not issue (``xoxb-test``) belongs to ``TEAM_ID``.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlencode, urlparse

BOT_USER_ID = "UBOT"
TEAM_ID = "T0LOCAL"
WORKSPACE_URL = "https://local.slack.test/"
CLIENT_ID = "111.222"  # the app credentials the fake accepts at oauth.v2.access
CLIENT_SECRET = "fake-client-secret"


def bot_user_of(team: str) -> str:
    """The bot's user id in a workspace (``UBOT`` in the default one)."""
    return BOT_USER_ID if team == TEAM_ID else f"UBOT{team}"


@dataclass
class Call:
    """One Web API call (or response_url post) as the bot made it."""

    method: str
    params: dict
    at: float = field(default_factory=time.time)
    team: str | None = None  # whose token made the call (None: no token, e.g. response_url)


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
        self.client_id, self.client_secret = CLIENT_ID, CLIENT_SECRET
        self.redirect_url = ""  # the app's configured redirect URL (GET /oauth/v2/authorize)
        self._codes: dict[str, tuple[str, str]] = {}  # code -> (team, installing user)
        self._tokens: dict[str, str] = {}  # token -> team
        self._revoked: set[str] = set()
        self.uploads: dict[str, dict] = {}  # file id -> filename, length, alt_txt, data (bytes)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                fake._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                fake._authorize_page(self)

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

    def add_message(
        self, channel: str, text: str, *, user: str = "U1", ts: str | None = None,
        thread_ts: str | None = None,
    ) -> str:  # fmt: skip
        """A person's message in history (so ``conversations.history``/``replies`` find it)."""
        ts = ts or self._next_ts()
        message = {"type": "message", "ts": ts, "user": user, "text": text, "team": TEAM_ID}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._lock:
            self.history.setdefault(channel, []).append(message)
            self.history[channel].sort(key=lambda m: float(m["ts"]))
        return ts

    # -- workspaces and OAuth ---------------------------------------------------------------

    def install_code(self, team: str, user: str = "UINSTALLER") -> str:
        """A code the consent page would hand the app for installing into ``team``."""
        code = f"code-{team}-{secrets.token_hex(4)}"
        with self._lock:
            self._codes[code] = (team, user)
        return code

    def revoke(self, team: str) -> None:
        """What an uninstall does at Slack: the workspace's tokens stop working."""
        with self._lock:
            self._revoked.update(t for t, owner in self._tokens.items() if owner == team)

    def tokens_of(self, team: str) -> list[str]:
        with self._lock:
            return [t for t, owner in self._tokens.items() if owner == team]

    def _team_of(self, token: str | None) -> str | None:
        if not token:
            return None
        with self._lock:
            return self._tokens.get(token, TEAM_ID)

    def _authorize_page(self, request: BaseHTTPRequestHandler) -> None:
        """Slack's consent page, already accepted: redirect to the app with a code and the state."""
        url = urlparse(request.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path != "/oauth/v2/authorize" or query.get("client_id") != self.client_id:
            self._reply(request, 404, {"ok": False, "error": "not_found"})
            return
        code = self.install_code(query.get("team") or TEAM_ID)
        target = query.get("redirect_uri") or self.redirect_url
        location = f"{target}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        self._record(Call("oauth.authorize", query))
        request.send_response(302)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    def _oauth_access(self, request: BaseHTTPRequestHandler, p: dict) -> dict:
        auth = request.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        else:
            client_id, secret = p.get("client_id", ""), p.get("client_secret", "")
        if (client_id, secret) != (self.client_id, self.client_secret):
            return {"ok": False, "error": "invalid_client_id"}
        with self._lock:
            found = self._codes.pop(p.get("code", ""), None)
            if found is None:
                return {"ok": False, "error": "invalid_code"}
            team, user = found
            token = f"xoxb-{team}-{secrets.token_hex(12)}"
            self._tokens[token] = team
        return {
            "ok": True, "app_id": "A1", "access_token": token, "token_type": "bot",
            "scope": "chat:write,commands", "bot_user_id": bot_user_of(team),
            "team": {"id": team, "name": f"Workspace {team}"}, "enterprise": None,
            "is_enterprise_install": False, "authed_user": {"id": user},
        }  # fmt: skip

    # -- the API --------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        path = urlparse(request.path).path
        if path.startswith("/upload/"):  # step 2 of files_upload_v2: the bytes themselves
            self._receive_upload(request, path.rsplit("/", 1)[-1], request.rfile.read(length))
            return
        raw = request.rfile.read(length).decode("utf-8") if length else ""
        if "json" in (request.headers.get("Content-Type") or ""):
            params = json.loads(raw or "{}")
        else:
            params = dict(parse_qsl(raw))
            for key in ("blocks", "metadata", "attachments", "view"):
                if isinstance(params.get(key), str):
                    with contextlib.suppress(ValueError):
                        params[key] = json.loads(params[key])
        for key, value in parse_qsl(urlparse(request.path).query):
            params.setdefault(key, value)  # files.getUploadURLExternal sends its arguments so
        if isinstance(params.get("files"), str):
            with contextlib.suppress(ValueError):
                params["files"] = json.loads(params["files"])
        method = "response_url" if path.startswith("/response/") else path.rsplit("/", 1)[-1]
        auth = request.headers.get("Authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else params.pop("token", None)
        team = self._team_of(token)
        if method == "oauth.v2.access":
            body = self._oauth_access(request, params)
            self._record(Call(method, {"code": params.get("code")}))
            self._reply(request, 200, body)
            return
        if token in self._revoked:
            self._record(Call(method, {**params, "_failed": 200}, team=team))
            self._reply(request, 200, {"ok": False, "error": "token_revoked"})
            return
        fault = self._take_fault(method)
        if fault and not fault.drop_after_accept:
            if fault.accept:
                self._answer(method, params, team)
            self._record(Call(method, {**params, "_failed": fault.status}, team=team))
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            body = {
                "ok": False,
                "error": fault.error or ("ratelimited" if fault.status == 429 else "fatal_error"),
            }
            self._reply(request, fault.status, body, headers)
            return
        body = self._answer(method, params, team)
        self._record(Call(method, params, team=team))
        if fault and fault.drop_after_accept:
            request.close_connection = True
            request.connection.shutdown(2)  # Slack took it, the client never hears back
            return
        self._reply(request, 200, body)

    def _receive_upload(self, request: BaseHTTPRequestHandler, file_id: str, data: bytes) -> None:
        with self._lock:
            known = file_id in self.uploads
            if known:
                self.uploads[file_id]["data"] = data
        self._record(Call("upload", {"file_id": file_id, "bytes": len(data)}))
        body = b"OK - " + str(len(data)).encode() if known else b"not found"
        request.send_response(200 if known else 404)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _complete_upload(self, p: dict, team: str) -> dict:
        with self._lock:
            files = [self.uploads.get(str(f.get("id"))) for f in p.get("files") or []]
            if not files or any(f is None or f.get("data") is None for f in files):
                return {"ok": False, "error": "invalid_file_id"}
            for f, spec in zip(files, p["files"], strict=True):
                f["title"] = spec.get("title") or f["filename"]
            shown = [{"id": f["id"], "name": f["filename"], "title": f["title"],
                      "alt_txt": f.get("alt_txt"), "size": len(f["data"])} for f in files]  # fmt: skip
            channel = p.get("channel_id")
            if channel:
                self.history.setdefault(channel, []).append({
                    "ts": self._next_ts(), "channel": channel, "text": p.get("initial_comment", ""),
                    "files": shown, "thread_ts": p.get("thread_ts"), "user": bot_user_of(team),
                    "team": team, "bot_id": "BBOT", "upload": True,
                })  # fmt: skip
        return {"ok": True, "files": shown}

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

    @staticmethod
    def _in_range(messages: list[dict], p: dict) -> list[dict]:
        """``oldest``/``latest`` bounds, exclusive unless ``inclusive`` (as Slack does)."""
        inclusive = str(p.get("inclusive")).lower() in ("true", "1")
        oldest = float(p.get("oldest") or 0)
        latest = float(p.get("latest") or "inf")
        return [
            m for m in messages
            if (oldest <= float(m["ts"]) <= latest if inclusive
                else oldest < float(m["ts"]) < latest)
        ]  # fmt: skip

    def _answer(self, method: str, p: dict, team: str | None = None) -> dict:
        team = team or TEAM_ID
        if method == "auth.test":
            return {
                "ok": True,
                "url": WORKSPACE_URL,
                "team": "Local" if team == TEAM_ID else f"Workspace {team}",
                "team_id": team,
                "user": "policy-digest",
                "user_id": bot_user_of(team),
                "bot_id": "BBOT" if team == TEAM_ID else f"B{team}",
            }
        if method == "chat.postMessage":
            ts = self._next_ts()
            message = {
                "ts": ts,
                "channel": p.get("channel"),
                "text": p.get("text", ""),
                "blocks": p.get("blocks") or [],
                "thread_ts": p.get("thread_ts"),
                "user": bot_user_of(team),
                "team": team,
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
            messages = [
                m for m in self._in_range(messages, p)
                if not m.get("thread_ts") or m["thread_ts"] == m["ts"]
            ]  # fmt: skip
            if str(p.get("include_all_metadata")).lower() not in ("true", "1"):
                messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
            return self._page(list(reversed(messages)), p)
        if method == "conversations.replies":
            with self._lock:
                history = self.history.get(p.get("channel", ""), [])
                asked = next((m for m in history if m["ts"] == p.get("ts")), None)
                root = (asked or {}).get("thread_ts") or p.get("ts")  # a reply's ts: its thread
                messages = [m for m in history if m["ts"] == root or m.get("thread_ts") == root]
            if not messages:
                return {"ok": False, "error": "thread_not_found"}
            # like Slack: the parent first, then the replies in the asked range
            return self._page(messages[:1] + self._in_range(messages[1:], p), p)
        if method == "views.open":
            if not p.get("trigger_id"):
                return {"ok": False, "error": "invalid_trigger_id"}
            return {"ok": True, "view": {"id": f"V{next(self._ts)}", **(p.get("view") or {})}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{secrets.token_hex(5).upper()}"
            with self._lock:
                self.uploads[file_id] = {
                    "id": file_id, "filename": p.get("filename", ""), "alt_txt": p.get("alt_txt"),
                    "length": int(p.get("length") or 0), "data": None,
                }  # fmt: skip
            url = f"http://127.0.0.1:{self.port}/upload/v1/{file_id}"
            return {"ok": True, "upload_url": url, "file_id": file_id}
        if method == "files.completeUploadExternal":
            return self._complete_upload(p, team)
        if method == "users.info":
            return {"ok": True, "user": {"id": p.get("user"), "tz": self.user_tz}}
        return {"ok": True}
