"""The web process as deployed (gunicorn + Bolt's WSGI adapter) answers signed requests."""

from __future__ import annotations

import json
import urllib.request

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.fakeslack import FakeSlack
from tests.slack_harness import SECRET, ArticleServer, post, web_process


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
    site = ArticleServer()
    try:
        with web_process(fake, redis_url) as base:
            with urllib.request.urlopen(base + "/healthz") as resp:
                assert json.loads(resp.read()) == {"ok": True, "redis": True}

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
