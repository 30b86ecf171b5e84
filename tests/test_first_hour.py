"""What a new user hits first: a second ``make run``, a copied ``.env.example``, silent lines,
``--help`` of each mode, and ``digest`` with Redis away."""

from __future__ import annotations

import io
import itertools
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_article.txt"


def _run(args: list[str], stdin: str, cwd: Path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_URL"))}
    clean.update(PYTHONPATH=str(ROOT), DATA_DIR=str(cwd / ".data"), **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
        timeout=180, cwd=cwd, env=clean,
    )  # fmt: skip


def test_a_second_shell_run_on_the_same_data_answers_pastes(redis_client, redis_url, tmp_path):
    first = _run([], ":sample\n", tmp_path, REDIS_URL=redis_url, LOG_LEVEL="ERROR")
    assert first.returncode == 0 and "bot (in thread)" in first.stdout, first.stderr
    again = _run([], ":sample\n", tmp_path, REDIS_URL=redis_url, LOG_LEVEL="ERROR")
    assert again.returncode == 0, again.stderr
    assert "bot (in thread)" in again.stdout  # answered ("already summarized"), not silent


def test_a_skipped_duplicate_is_shown_in_the_shell(redis_client, redis_url):
    from bot.entry.shell import Shell

    out = io.StringIO()
    shell = Shell(replace(Settings(), redis_url=redis_url), out, clock=False)
    shell._ids = itertools.repeat(1)  # the same event id twice, as a Slack retry would be
    article = SAMPLE.read_text(encoding="utf-8")
    shell.feed(article.replace("\n", " "))
    shell.feed(article.replace("\n", " ") + " Again.")
    shell.run(io.StringIO(""))
    text = out.getvalue()
    assert text.count("bot (in thread)") == 1
    assert "already handled (a Slack retry), skipping" in text


def test_lines_that_get_no_answer_get_a_hint(redis_client, redis_url, tmp_path):
    out = _run([], "hello there\n/digest help\n", tmp_path, REDIS_URL=redis_url)
    assert out.returncode == 0, out.stderr
    assert "(no reply: I summarize links and article-length text" in out.stdout
    assert out.stdout.count("(no reply") == 1  # a command answers for itself
    assert '"""' in out.stdout  # the help explains multi-line pasting


def test_env_example_placeholders_keep_the_shell(redis_client, redis_url, tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")  # the README's Slack step 2
    out = _run([], "/digest help\n", tmp_path)
    assert out.returncode == 0, out.stderr
    assert "/digest summarize" in out.stdout  # the shell answered
    (note,) = out.stderr.strip().splitlines()  # that one line, no warnings from Bolt
    assert "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET still hold .env.example's placeholders" in note


def test_placeholders_count_as_unset(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-...")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "…")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A1-2-abc")
    settings = Settings.from_env(dotenv=False)
    assert settings.slack_bot_token == "" and settings.slack_signing_secret == ""
    assert settings.slack_app_token == "xapp-1-A1-2-abc"
    assert settings.placeholders == ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")


def test_socket_mode_without_its_tokens_says_why_in_one_line(tmp_path):
    out = _run(["socket"], "", tmp_path, SLACK_BOT_TOKEN="xoxb-1")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("Socket Mode needs")


@pytest.mark.parametrize(
    ("mode", "words"),
    [("shell", "stand-in for Slack"), ("socket", "SLACK_APP_TOKEN"), ("web", "verifies, acks and enqueues"),
     ("worker", "run again by another"), ("clock", "exactly once")],
)  # fmt: skip
def test_help_of_each_mode_describes_it(mode, words, tmp_path):
    out = _run([mode, "--help"], "", tmp_path)
    assert out.returncode == 0 and words in " ".join(out.stdout.split())


def test_digest_with_redis_unreachable_is_one_line_and_exit_2(dead_redis, tmp_path):
    url = dead_redis.connection_pool.connection_kwargs
    out = _run(["digest", "--channel", "C1"], "", tmp_path,
               REDIS_URL=f"redis://127.0.0.1:{url['port']}/0")  # fmt: skip
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error: The store can't be reached")
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_tests_use_the_embedded_server_unless_told_otherwise():
    from tests.conftest import chosen_redis_url

    assert chosen_redis_url({}) == "embedded"  # never db 15 of whatever answers on 6379
    assert chosen_redis_url({"TEST_REDIS_URL": "redis://h:6379/8"}) == "redis://h:6379/8"
    # each xdist worker flushes a database of its own; the embedded server is per worker anyway
    worker = {"TEST_REDIS_URL": "redis://h:6379/8", "PYTEST_XDIST_WORKER": "gw1"}
    assert chosen_redis_url(worker) == "redis://h:6379/9"
    assert chosen_redis_url({"PYTEST_XDIST_WORKER": "gw1"}) == "embedded"
    with pytest.raises(pytest.UsageError, match="no database for xdist worker 1"):
        chosen_redis_url({"TEST_REDIS_URL": "redis://h:6379/15", "PYTEST_XDIST_WORKER": "gw1"})
    ci = (ROOT / ".ci" / "run").read_text()
    assert "TEST_REDIS_URL=" in ci.split("make test\n")[0] and "TEST_REDIS_URL=embedded make" in ci


def test_socket_mode_with_a_refused_token_says_why_in_one_line(redis_client, redis_url, tmp_path):
    from bot.slack.fakeslack import FakeSlack

    fake = FakeSlack().start()
    try:
        fake.fail("auth.test", error="invalid_auth")
        out = _run(["socket"], "", tmp_path, SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1",
                   SLACK_API_URL=fake.base_url, REDIS_URL=redis_url)  # fmt: skip
    finally:
        fake.stop()
    assert out.returncode != 0 and "Traceback" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("Socket Mode can't start") and "invalid_auth" in last


def test_the_clock_without_a_token_says_why_in_one_line(tmp_path):
    out = _run(["clock"], "", tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("The clock needs SLACK_BOT_TOKEN")
