"""The web process as deployed (gunicorn + Bolt's WSGI adapter) answers signed requests."""

from __future__ import annotations

import json
import urllib.request

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.slack.fakeslack import FakeSlack
from tests.slack_harness import SECRET, ArticleServer, post, web_process, worker_process


@pytest.fixture
def fake():
    server = FakeSlack().start()
    yield server
    server.stop()


def _signed(body: str, ctype: str) -> dict:
    import time

    ts = str(int(time.time()))
    sig = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    return {"Content-Type": ctype, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def test_web_process_serves_health_commands_and_events(fake, redis_client, redis_url):
    """The web process acks and enqueues; a worker process answers."""
    site = ArticleServer()
    try:
        with web_process(fake, redis_url) as base, worker_process(fake, redis_url):
            with urllib.request.urlopen(base + "/healthz") as resp:
                health = json.loads(resp.read())
                assert health["ok"] and health["redis"] and health["slack"] == "ok"
                assert health["queue_depth"] >= 0

            body = "command=%2Fdigest&text=help&team_id=T0LOCAL&channel_id=C1&user_id=U1"
            ctype = "application/x-www-form-urlencoded"
            status, text = post(base + "/slack/events", body, _signed(body, ctype))
            assert status == 200 and "/digest summarize" in text

            status, _ = post(base + "/slack/events", body, {"Content-Type": ctype})
            assert status == 401

            event = json.dumps({
                "type": "event_callback", "team_id": "T0LOCAL", "event_id": "EvWEB1",
                "event": {"type": "message", "channel": "C1", "user": "U1", "ts": "1.000001",
                          "text": f"<{site.url('web')}>"},
            })  # fmt: skip
            status, _ = post(base + "/slack/events", event, _signed(event, "application/json"))
            assert status == 200
            assert fake.wait_for(lambda calls: any(c.method == "chat.update" for c in calls), 30)
            (reply,) = fake.posts("C1")
            assert "Chip curbs widen (web)" in reply["text"]
    finally:
        site.stop()


# -- configuration errors, a Slack that is away, and garbage requests ---------------------------


def _env(monkeypatch, fake, redis_url: str, **extra) -> None:
    for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    values = dict(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
                  SLACK_API_URL=fake.base_url, REDIS_URL=redis_url, LOG_LEVEL="WARNING")  # fmt: skip
    values.update(extra)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def _call(app, path: str, body: bytes = b"", headers: dict | None = None, method: str = "POST"):
    """One WSGI request, in process: (status code, JSON or text body)."""
    import io

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
               "SERVER_NAME": "test", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
               "wsgi.url_scheme": "http"}  # fmt: skip
    for key, value in (headers or {}).items():
        name = key.upper().replace("-", "_")
        environ[name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + name] = value
    seen = {}

    def start_response(status, response_headers):
        seen["status"] = int(status.split()[0])

    out = b"".join(app(environ, start_response)).decode()
    try:
        return seen["status"], json.loads(out)
    except ValueError:
        return seen["status"], out


def test_gunicorn_without_redis_url_stops_with_one_line_instead_of_restarting(fake, tmp_path):
    import os
    import subprocess
    import sys

    from tests.slack_harness import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_URL"))}
    env.update(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
               SLACK_API_URL=fake.base_url)  # fmt: skip
    cmd = [sys.executable, "-m", "gunicorn", "bot.entry.web:create_wsgi()", "--bind", "127.0.0.1:0",
           "--workers", "1"]  # fmt: skip
    out = subprocess.run(cmd, cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if "REDIS_URL" in line]
    assert lines == ["error: The web process needs REDIS_URL (the Redis it shares with workers "
                     "and the clock)."]  # fmt: skip


def test_python_m_bot_web_says_what_is_missing(monkeypatch, capsys):
    from bot.config import Settings
    from bot.entry.web import serve

    assert serve(Settings(slack_bot_token="xoxb-1", slack_signing_secret="s")) == 2
    assert capsys.readouterr().err.strip().startswith("error: The web process needs REDIS_URL")


def test_a_token_slack_refuses_stops_the_web_process(monkeypatch, fake, redis_url, capsys):
    from bot.entry.web import APP_LOAD_ERROR, create_wsgi

    _env(monkeypatch, fake, redis_url)
    fake.fail("auth.test", error="invalid_auth")
    with pytest.raises(SystemExit) as exc:
        create_wsgi()
    assert exc.value.code == APP_LOAD_ERROR
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in line


def test_slack_away_at_start_is_retried_and_reported_by_healthz(monkeypatch, fake, redis_url):
    import time

    from bot.entry import web

    monkeypatch.setattr(web, "RETRY_SECONDS", (0.2,))
    _env(monkeypatch, fake, redis_url)
    fake.fail("auth.test", status=500, times=2)
    app = web.create_wsgi()
    status, health = _call(app, "/healthz", method="GET")
    assert status == 503 and health["ok"] is False and "fatal_error" in health["slack"]
    body = "command=%2Fdigest&text=help&team_id=T0LOCAL&channel_id=C1&user_id=U1"
    headers = _signed(body, "application/x-www-form-urlencoded")
    assert _call(app, "/slack/events", body.encode(), headers)[0] == 503
    deadline = time.monotonic() + 30
    while _call(app, "/healthz", method="GET")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _call(app, "/healthz", method="GET")[1] == {"ok": True, "redis": True, "slack": "ok",
                                                        "queue_depth": 0}  # fmt: skip
    status, answer = _call(app, "/slack/events", body.encode(), headers)
    assert status == 200 and "/digest summarize" in str(answer), answer


def test_garbage_requests_get_400_or_401_before_parsing(monkeypatch, fake, redis_url):
    from bot.entry import web

    _env(monkeypatch, fake, redis_url)
    app = web.create_wsgi()
    ctype_json, ctype_form = "application/json", "application/x-www-form-urlencoded"
    bad_json = b'{"type": "event_callback", "event": '
    unsigned = {"Content-Type": ctype_json}
    assert _call(app, "/slack/events", bad_json, unsigned)[0] == 401
    signed_bad_json = _signed(bad_json.decode(), ctype_json)
    assert _call(app, "/slack/events", bad_json, signed_bad_json)[0] == 400
    text_ts = {**_signed("x=1", ctype_form), "X-Slack-Request-Timestamp": "soon"}
    assert _call(app, "/slack/events", b"x=1", text_ts)[0] == 401
    huge = b"text=" + b"a" * (10 * 1024 * 1024)
    assert _call(app, "/slack/events", huge, {"Content-Type": ctype_form})[0] == 413
    bad_payload = "payload=%7Bnot+json"
    assert (
        _call(app, "/slack/events", bad_payload.encode(), _signed(bad_payload, ctype_form))[0]
        == 400
    )
    not_utf8 = b"text=\xff\xfe"
    assert _call(app, "/slack/events", not_utf8, {"Content-Type": ctype_form})[0] == 400
