"""Drive the real Bolt app: signed requests, a fake Slack Web API, and a local article server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.bootstrap import Bot, Hooks, compose
from bot.config import Settings
from bot.fetch.fetcher import Fetcher
from bot.slack.app import create_app
from bot.slack.executor import TrackingExecutor
from bot.slack.fakeslack import TEAM_ID, FakeSlack
from tests.local_http import QuietHandler, serve

ROOT = Path(__file__).resolve().parents[1]
SECRET = "test-signing-secret"
CHANNEL = "C0TEST"
# A pasted article long enough (600+ characters, 4+ sentences) to be summarized.
PASTED_ARTICLE = (
    "The Treasury Department imposed sanctions on three companies accused of supplying "
    "fentanyl precursor chemicals to Mexican cartels. Officials said the firms shipped the "
    "chemicals through brokers in Hong Kong. The sanctions freeze any assets the firms hold "
    "in the United States and bar Americans from dealing with them. China's foreign ministry "
    "said Washington should stop blaming others for its drug crisis. Lawmakers welcomed the "
    "move and urged more action against money laundering networks tied to the trade. "
    "The department said further designations would follow in the coming weeks, and that "
    "it was working with Mexican authorities on the case."
)

ARTICLE_HTML = """<html><head><title>{title}</title>
<meta property="og:site_name" content="Example Wire"></head><body>
<nav>Home | World | Sign up for our newsletter</nav><article><h1>{title}</h1>
<p>The Commerce Department added twelve Chinese companies to the Entity List on Tuesday, widening
export controls on advanced semiconductors and the tools used to make them.</p>
<p>The Bureau of Industry and Security said the firms had supplied chips to military end users.
Officials said licences for older chips would be reviewed case by case.</p>
<p>China's commerce ministry said it firmly opposed the move and would protect the rights of its
companies. Analysts expect Beijing to answer with limits on exports of rare metals.</p>
<p>Industry groups warned the rules could cost toolmakers billions of dollars in lost sales,
and urged Washington to coordinate with allies in Europe and Asia.</p>
<p>The rule takes effect in thirty days, and firms already shipping to the listed companies will
need to apply for licences that face a presumption of denial.</p></article>
<footer>Copyright Example Wire</footer></body></html>"""


class ArticleServer:
    """Serves ``/a/<slug>`` articles; ``gate`` (when set) blocks responses until released."""

    def __init__(self) -> None:
        self.gate: threading.Event | None = None
        self.delay = 0.0  # seconds each page takes (a slow site: jobs stay in flight)
        self.hits: list[str] = []
        self.titles: dict[str, str] = {}  # slug → the page's title as HTML (tests of escaping)
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.hits.append(self.path)
                if server.gate is not None:
                    server.gate.wait(20)
                time.sleep(server.delay)
                slug = self.path.rsplit("/", 1)[-1]
                title = server.titles.get(slug, f"Chip curbs widen ({slug})")
                body = ARTICLE_HTML.format(title=title).encode()
                self.send_body(body)

        self.httpd = serve(Handler)

    def url(self, slug: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/a/{slug}"

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def url_of(client) -> str:
    """The redis URL a test client talks to (the job queue opens its own connection)."""
    kw = client.connection_pool.connection_kwargs
    if kw.get("path"):
        return f"unix://{kw['path']}?db={kw.get('db', 0)}"
    return f"redis://{kw.get('host', '127.0.0.1')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"


class Harness:
    """The app as production builds it (one bootstrap, one job queue with an in-process
    worker), pointed at the fake Slack and a real Redis."""

    def __init__(self, redis_client, *, workers: int = 2, hooks: Hooks | None = None,
                 **settings) -> None:  # fmt: skip
        self.fake = FakeSlack().start()
        if "slack_client_id" not in settings:  # one workspace; else OAuth installs (test_oauth)
            settings.setdefault("slack_bot_token", "xoxb-test")
        self.settings = Settings(
            slack_signing_secret=SECRET,
            slack_api_url=self.fake.base_url,
            fetch_allow_private=["127.0.0.0/8"],
            **settings,
        )
        hooks = hooks or Hooks(post_interval=0)
        hooks.fetcher = hooks.fetcher or Fetcher(allow_private=["127.0.0.0/8"], deadline=5)
        self.bot: Bot = compose(self.settings, redis_client, redis_url=url_of(redis_client),
                                hooks=hooks)  # fmt: skip
        self.jobs = self.bot.jobs
        self.jobs.start_worker(workers, poll_ms=50)
        self.executor = TrackingExecutor()
        self.app = create_app(self.settings, self.bot.deps(),
                              listener_executor=self.executor)  # fmt: skip
        self.signer = SignatureVerifier(SECRET)
        self._n = 0

    def close(self) -> None:
        self.jobs.wait_idle(30)
        self.bot.close()
        self.fake.stop()

    # -- requests -------------------------------------------------------------------------------

    def headers(self, body: str, content_type: str, *, ts: int | None = None, **extra) -> dict:
        ts = int(time.time()) if ts is None else ts
        return {
            "content-type": content_type,
            "x-slack-request-timestamp": str(ts),
            "x-slack-signature": self.signer.generate_signature(timestamp=str(ts), body=body),
            **extra,
        }

    def event_body(
        self,
        text: str,
        *,
        event_id: str | None = None,
        user: str = "U1",
        ts: str | None = None,
        channel: str = CHANNEL,
        team: str = TEAM_ID,
        **event,
    ) -> str:
        self._n += 1
        payload = {
            "token": "t", "team_id": team, "api_app_id": "A1", "type": "event_callback",
            "event_id": event_id or f"Ev{self._n:06d}", "event_time": int(time.time()),
            "event": {"type": "message", "channel": channel, "user": user, "text": text,
                      "ts": ts or f"{int(time.time())}.{self._n:06d}", **event},
        }  # fmt: skip
        return json.dumps(payload)

    def command_body(
        self, text: str, *, user: str = "U1", channel: str = CHANNEL, team: str = TEAM_ID
    ) -> str:
        self._n += 1
        return urlencode({
            "token": "t", "team_id": team, "channel_id": channel, "user_id": user,
            "command": "/digest", "text": text, "api_app_id": "A1",
            "trigger_id": f"tr{self._n}", "response_url": self.fake.response_url(f"c{self._n}"),
        })  # fmt: skip

    def dispatch(
        self, body: str, content_type: str = "application/json", headers: dict | None = None
    ):
        headers = headers if headers is not None else self.headers(body, content_type)
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def message(self, text: str, **kw):
        return self.dispatch(self.event_body(text, **kw))

    def command(self, text: str, **kw):
        return self.dispatch(self.command_body(text, **kw), "application/x-www-form-urlencoded")

    def settle(self, timeout: float = 30) -> None:
        """Wait for Bolt's listener threads to enqueue and the job queue to drain."""
        for _ in range(2):  # a listener may enqueue work, and work may not spawn listeners
            assert self.executor.wait_idle(timeout), "Bolt listeners did not finish"
            assert self.jobs.wait_idle(timeout), "the job queue did not drain"

    def replies(self) -> list[dict]:
        """The bot's messages in the test channel, as they stand now (after updates)."""
        return self.fake.posts(CHANNEL)


def process_env(fake: FakeSlack, redis_url: str, **env) -> dict:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    full_env.update(
        SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake.base_url,
        REDIS_URL=redis_url, FETCH_ALLOW_PRIVATE="127.0.0.0/8", LOG_LEVEL="WARNING",
    )  # fmt: skip
    full_env.update(env)
    return full_env


def spawn(kind: str, fake: FakeSlack, redis_url: str, **env) -> subprocess.Popen:
    """``python -m bot worker`` or ``clock``, as the Procfile runs them."""
    return subprocess.Popen([sys.executable, "-m", "bot", kind], cwd=ROOT,
                            env=process_env(fake, redis_url, **env), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip


@contextmanager
def worker_process(fake: FakeSlack, redis_url: str, **env):
    proc = spawn("worker", fake, redis_url, **env)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def web_process(fake: FakeSlack, redis_url: str, **env):
    """Run the real web process (gunicorn, as the Procfile does) on a free port; yields its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    full_env = process_env(fake, redis_url, **env)
    cmd = [sys.executable, "-m", "gunicorn", "bot.entry.web:create_wsgi()", "--bind",
           f"127.0.0.1:{port}", "--workers", "1", "--threads", "8"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"web process died: {proc.stderr.read()}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("web process did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def post(url: str, body: str, headers: dict, timeout: float = 10) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
