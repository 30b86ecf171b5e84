"""Many workspaces: "Add to Slack" through Bolt's OAuth flow against the fake Slack, two
workspaces sharing at once through the real app, uninstalling, and tokens kept secret."""

from __future__ import annotations

import html
import http.client
import json
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from cryptography.fernet import Fernet
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.delivery.poster import EVENT_TYPE
from bot.entry.web import wsgi_app
from bot.slack.fakeslack import CLIENT_ID, CLIENT_SECRET
from bot.slack.oauth import BOT_SCOPES, authorize_url
from bot.storage.installations import RedisInstallationStore
from bot.storage.token_cipher import TokenCipher, TokenCipherError
from digests.schedule import Schedule
from tests.slack_harness import Harness

KEY = Fernet.generate_key().decode()
A, B = "T0AAAA", "T0BBBB"
SHARED = "C0SHARED"  # a Slack Connect channel: the same id in both workspaces
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def h(redis_client):
    harness = Harness(
        redis_client,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        token_encryption_key=KEY,
    )
    yield harness
    harness.close()


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def web(h):
    """The web process's WSGI app (Bolt's adapter with its OAuth paths) on a local port."""
    server = make_server("127.0.0.1", 0, wsgi_app(h.app, h.bot), handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    h.fake.redirect_url = base + "/slack/oauth_redirect"
    yield base
    server.shutdown()
    server.server_close()


def get(url: str, headers: dict | None = None) -> tuple[int, http.client.HTTPResponse, str]:
    """One GET, redirects not followed (the test plays the browser)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request(
        "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {}
    )
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    return resp.status, resp, body


def start_install(web: str, team: str) -> tuple[str, str]:
    """``GET /slack/install``: the "Add to Slack" page's link and the state cookie it set."""
    status, resp, page = get(f"{web}/slack/install?team={team}")
    assert status == 200, page
    link = html.unescape(re.search(r'href="([^"]*/oauth/v2/authorize[^"]*)"', page).group(1))
    cookie = resp.getheader("Set-Cookie").split(";")[0]
    return link, cookie


def install(web: str, team: str) -> tuple[int, str]:
    """The whole flow: install page → Slack's consent page (the fake's, which redirects with a
    code) → ``/slack/oauth_redirect?code=…&state=…`` with the browser's cookie."""
    link, cookie = start_install(web, team)
    status, resp, _ = get(link)
    assert status == 302
    status, _, body = get(resp.getheader("Location"), {"Cookie": cookie})
    return status, body


def raw_install_values(redis_client, team: str) -> dict[str, str]:
    values = {}
    for key in redis_client.scan_iter(match=f"pd:{{{team}}}:install:*"):
        kind = redis_client.type(key)
        values[key] = (
            redis_client.get(key)
            if kind == "string"
            else json.dumps(sorted(redis_client.smembers(key)))
        )
    return values


def answers_since(h, n: int) -> list[str]:
    return [c.params.get("text", "") for c in h.fake.calls_to("response_url")[n:]]


def command(h, text: str, team: str) -> str:
    before = len(h.fake.calls_to("response_url"))
    h.command(text, team=team, channel=SHARED)
    h.settle()
    return "\n".join(answers_since(h, before))


# -- install ------------------------------------------------------------------------------------


def test_install_flow_stores_the_workspace_with_its_token_encrypted(h, web, redis_client):
    link, _ = start_install(web, A)
    assert link.startswith(authorize_url(h.settings.slack_api_url))  # the fake's consent page
    assert f"client_id={CLIENT_ID}" in link and "scope=" + ",".join(BOT_SCOPES) in link
    (state_key,) = redis_client.keys("pd:oauth:state:*")
    assert 0 < redis_client.ttl(state_key) <= 600  # a state expires

    status, body = install(web, A)
    assert status == 200, body
    (token,) = h.fake.tokens_of(A)
    # oauth.v2.access went to SLACK_API_URL (the fake), with the app's credentials
    assert len(h.fake.calls_to("oauth.v2.access")) == 1
    assert [c.team for c in h.fake.calls_to("auth.test")] == [A]
    bot = h.bot.workspaces.installations.find_bot(enterprise_id=None, team_id=A)
    assert bot.bot_token == token and bot.bot_user_id == f"UBOT{A}"
    # at rest: encrypted; nothing in Redis shows the token
    values = raw_install_values(redis_client, A)
    assert {f"pd:{{{A}}}:install:bot", f"pd:{{{A}}}:install:latest"} <= set(values)
    assert not any(token in v or "xoxb-" in v for v in values.values())
    assert not any(
        token in (redis_client.get(k) or "")
        for k in redis_client.keys("*")
        if redis_client.type(k) == "string"
    )
    # the install's state was consumed; only the first page's unused one waits for its TTL
    assert redis_client.keys("pd:oauth:state:*") == [state_key]


def test_a_redirect_with_a_forged_or_replayed_state_installs_nothing(h, web):
    link, cookie = start_install(web, A)
    state = re.search(r"state=([^&]+)", link).group(1)
    code = h.fake.install_code(A)
    forged = f"{web}/slack/oauth_redirect?code={code}&state=forged"
    status, _, _ = get(forged, {"Cookie": "slack-app-oauth-state=forged"})
    assert status >= 400
    status, _, _ = get(f"{web}/slack/oauth_redirect?code={code}&state={state}", {"Cookie": cookie})
    assert status == 200
    again = h.fake.install_code(A)
    status, _, _ = get(f"{web}/slack/oauth_redirect?code={again}&state={state}", {"Cookie": cookie})
    assert status >= 400  # each state works once
    assert len(h.fake.tokens_of(A)) == 1


def test_requests_from_a_workspace_that_never_installed_are_refused(h, web):
    install(web, A)
    before = len(h.fake.calls_to("chat.postMessage"))
    h.message("<https://example.org/x>", team=B, channel=SHARED)
    h.settle()
    assert len(h.fake.calls_to("chat.postMessage")) == before
    assert "can't find its installation" in command(h, "recent", B)  # said, not silence


# -- two workspaces at once ---------------------------------------------------------------------


def test_two_workspaces_sharing_at_once_never_see_each_others_data(h, web, site):
    assert install(web, A)[0] == 200 and install(web, B)[0] == 200
    links = [(A, f"a{n}") for n in range(4)] + [(B, f"b{n}") for n in range(4)]
    with ThreadPoolExecutor(8) as pool:  # both workspaces paste links at the same moment
        list(pool.map(
            lambda ts: h.message(f"<{site.url(ts[1])}>", team=ts[0], channel=SHARED, user=f"U{ts[1]}"),
            links,
        ))  # fmt: skip
    h.settle()
    # each summary was answered with its own workspace's token, in its own thread
    summaries = [m for m in h.fake.posts(SHARED) if "Chip curbs widen" in m["text"]]
    assert len(summaries) == 8
    for message in summaries:
        slug = re.search(r"\((\w\d)\)", message["text"]).group(1)
        assert message["team"] == (A if slug.startswith("a") else B), message["text"]
    assert all(c.team in (A, B) for c in h.fake.calls if c.method.startswith("chat."))

    # topics, schedules and `recent` are the workspace's own
    assert "now also matches" in command(h, 'topics add chipwar "entity list" --new', A)
    assert "chipwar" in command(h, "topics", A)
    assert "chipwar" not in command(h, "topics", B)
    assert "Daily" in command(h, "schedule daily 09:00 UTC", A)
    assert "No digest is scheduled here" in command(h, "schedule", B)
    recent_b = command(h, "recent", B)
    assert "(b0)" in recent_b and "(a0)" not in recent_b
    recent_a = command(h, "recent", A)
    assert "(a0)" in recent_a and "(b0)" not in recent_a

    # `/digest now` in both at once: each digest holds its own shares, posted with its own token
    before = len(h.fake.calls_to("response_url"))
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda team: h.command("now", team=team, channel=SHARED), (A, B)))
    h.settle()
    answers = answers_since(h, before)
    assert len(answers) == 2 and all("Posted the digest" in t for t in answers), answers
    digests = [
        m for m in h.fake.posts(SHARED) if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE
    ]
    for team, mine, theirs in ((A, "a", "b"), (B, "b", "a")):  # (the four pages are one story)
        text = json.dumps([m["blocks"] for m in digests if m["team"] == team])
        assert all(f"U{mine}{n}" in text for n in range(4)), text  # its sharers
        assert f"U{theirs}" not in text and f"({theirs}" not in text


def seed(h, team: str, titles: list[str], when: float) -> None:
    store = h.bot.stores.for_team(team)
    for n, title in enumerate(titles):
        akey = f"u{team}{n}"
        store.save_article(akey, {
            "title": title, "url": f"https://news.example/{team}/{n}", "site": "News",
            "summary": ["One sentence.", "Two sentences."],
            "topics": [{"topic": "sanctions", "label": "Sanctions", "score": 0.9, "evidence": ["x"]}],
        }, now=when)  # fmt: skip
        store.add_share(SHARED, akey, user="U1", message_ts=f"{when + n:.6f}", now=when + n)


def test_the_clock_posts_each_workspaces_digest_with_that_workspaces_token(h, web):
    from bot.delivery.ledger import Schedules

    install(web, A)
    install(web, B)
    monday = 1772460000.0  # 2026-03-02T14:00Z, a Monday
    for team, titles in (
        (A, ["Alpha wheat story", "Alpha copper story"]),
        (B, ["Bravo drone story"]),
    ):
        seed(h, team, titles, monday - 2 * 86400)
        sched = Schedule(
            kind="weekly", time="09:00", tz="UTC", weekday=0, changed_at=monday - 9 * 86400
        )
        Schedules(h.bot.stores.for_team(team)).set(SHARED, sched.to_dict())
    outcomes = h.bot.sweeper.sweep(now=monday)
    assert sorted(outcomes.values()) == ["posted", "posted"], outcomes
    posts = [c for c in h.fake.calls_to("chat.postMessage") if c.params.get("metadata")]
    by_team = {team: json.dumps([c.params for c in posts if c.team == team]) for team in (A, B)}
    assert "Alpha wheat" in by_team[A] and "Bravo" not in by_team[A]
    assert "Bravo drone" in by_team[B] and "Alpha" not in by_team[B]


# -- uninstall ----------------------------------------------------------------------------------


def lifecycle_event(h, kind: str, team: str, **event) -> None:
    body = json.dumps({
        "token": "t", "team_id": team, "api_app_id": "A1", "type": "event_callback",
        "event_id": f"Ev{kind}{team}", "event_time": 1, "event": {"type": kind, **event},
    })  # fmt: skip
    assert h.dispatch(body).status == 200
    h.settle()


def test_uninstall_deletes_the_tokens_and_the_workspaces_data_only(h, web, site, redis_client):
    install(web, A)
    install(web, B)
    for team in (A, B):
        h.message(f"<{site.url(team.lower())}>", team=team, channel=SHARED)
        command(h, "schedule daily 09:00 UTC", team)
    h.settle()
    assert redis_client.keys(f"pd:{{{A}}}:ch:*") and redis_client.keys(f"pd:{{{B}}}:ch:*")

    h.fake.revoke(A)  # Slack: the tokens die, then the events arrive
    lifecycle_event(h, "tokens_revoked", A, tokens={"oauth": [], "bot": [f"UBOT{A}"]})
    assert h.bot.workspaces.installations.find_bot(enterprise_id=None, team_id=A) is None
    assert not redis_client.keys(f"pd:{{{A}}}:install:*")
    assert h.bot.workspaces.client_for(A) is None
    lifecycle_event(h, "app_uninstalled", A)
    assert not redis_client.keys(f"pd:{{{A}}}:*")  # shares, articles, schedules: gone
    # the other workspace is untouched and still works
    assert h.bot.workspaces.installations.find_bot(enterprise_id=None, team_id=B)
    assert "Daily" in command(h, "schedule", B)
    assert h.bot.sweeper.sweep(now=2e9)  # B's slot is due; A has nothing left to post
    assert all(key.startswith(f"{B}/") for key in h.bot.sweeper.sweep(now=2e9 + 86400))


def test_a_digest_for_an_uninstalled_workspace_is_not_posted(h, web):
    install(web, A)
    h.bot.workspaces.installations.delete_bot(enterprise_id=None, team_id=A)
    assert h.bot.poster.post_slot(A, SHARED, "slot-1", lambda: {}).status == "not_installed"
    assert not h.fake.calls_to("chat.postMessage")


# -- secrets ------------------------------------------------------------------------------------


def test_tokens_never_reach_logs_or_reprs(h, web, site, caplog):
    caplog.set_level(logging.DEBUG)  # everything, slack_sdk's and Bolt's debug lines included
    install(web, A)
    h.message(f"<{site.url('x')}>", team=A, channel=SHARED)
    h.settle()
    (token,) = h.fake.tokens_of(A)
    assert caplog.records  # the flow did log
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert token not in logged and KEY not in logged and CLIENT_SECRET not in logged
    store = h.bot.workspaces.installations
    bot = store.find_bot(enterprise_id=None, team_id=A)
    installation = store.find_installation(enterprise_id=None, team_id=A)
    for obj in (h.settings, h.bot.workspaces, store, store.cipher, bot, installation,
                h.bot.workspaces.client_for(A)):  # fmt: skip
        assert token not in repr(obj) and KEY not in repr(obj) and CLIENT_SECRET not in repr(obj)


def test_a_changed_key_is_a_clear_error_not_garbage(redis_client):
    from slack_sdk.oauth.installation_store import Installation

    RedisInstallationStore(redis_client, TokenCipher(KEY)).save(
        Installation(team_id=A, bot_token="xoxb-secret", bot_user_id="U", user_id="U1")
    )
    other = RedisInstallationStore(redis_client, TokenCipher(Fernet.generate_key().decode()))
    with pytest.raises(TokenCipherError, match="TOKEN_ENCRYPTION_KEY"):
        other.find_bot(enterprise_id=None, team_id=A)
    rotated = RedisInstallationStore(
        redis_client, TokenCipher(f"{Fernet.generate_key().decode()},{KEY}")
    )
    assert rotated.find_bot(enterprise_id=None, team_id=A).bot_token == "xoxb-secret"


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"}, "TOKEN_ENCRYPTION_KEY"),
        ({"SLACK_CLIENT_ID": "1.2"}, "go together"),
        (
            {
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "s",
                "TOKEN_ENCRYPTION_KEY": KEY,
                "SLACK_BOT_TOKEN": "xoxb-1",
            },
            "not both",
        ),  # fmt: skip
    ],
)
def test_oauth_misconfiguration_is_a_clear_error(monkeypatch, env, message):
    for name in (
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "TOKEN_ENCRYPTION_KEY",
        "SLACK_BOT_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match=message):
        Settings.from_env(dotenv=False)


def test_a_malformed_key_says_how_to_make_one():
    with pytest.raises(ValueError, match="generate_key"):
        TokenCipher("not-a-key")


def test_the_requested_scopes_are_the_manifests():
    text = (ROOT / "manifest.yml").read_text()
    block = text.split("    bot:\n", 1)[1].split("settings:", 1)[0]
    manifest = re.findall(r"^\s+- ([a-z_.:]+)", block, flags=re.M)
    assert tuple(manifest) == BOT_SCOPES
    assert "/slack/oauth_redirect" in text
    assert "- app_uninstalled" in text and "- tokens_revoked" in text


def test_authorize_url_sits_beside_the_web_api():
    assert authorize_url("https://slack.com/api/") == "https://slack.com/oauth/v2/authorize"


def test_the_web_process_serves_the_install_flow_from_its_environment(redis_client, redis_url):
    """gunicorn as the Procfile runs it, configured only by env: install, then a signed command
    from the new workspace is answered."""
    from urllib.parse import urlencode

    from bot.slack.fakeslack import FakeSlack
    from tests.slack_harness import SECRET, post, web_process, worker_process

    fake = FakeSlack().start()
    env = {"SLACK_BOT_TOKEN": "", "SLACK_CLIENT_ID": CLIENT_ID,
           "SLACK_CLIENT_SECRET": CLIENT_SECRET, "TOKEN_ENCRYPTION_KEY": KEY}  # fmt: skip
    try:
        with web_process(fake, redis_url, **env) as base, worker_process(fake, redis_url, **env):
            fake.redirect_url = base + "/slack/oauth_redirect"
            assert install(base, A)[0] == 200
            body = urlencode({"team_id": A, "channel_id": SHARED, "user_id": "U1",
                              "command": "/digest", "text": "schedule",
                              "response_url": fake.response_url("w1")})  # fmt: skip
            ts = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
                    timestamp=ts, body=body
                ),
            }
            assert post(base + "/slack/events", body, headers)[0] == 200
            assert fake.wait_for(lambda calls: any(c.method == "response_url" for c in calls))
    finally:
        fake.stop()
    (token,) = fake.tokens_of(A)
    assert "No digest is scheduled" in fake.calls_to("response_url")[0].params["text"]
    assert not any(token in v for v in raw_install_values(redis_client, A).values())
