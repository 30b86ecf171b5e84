"""``python -m bot summarize`` and ``digest`` as a user runs them: output shape, exit codes,
the cache, and friendly errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_article.txt"


def run(args: list[str], *, stdin: str | None = None, env: dict | None = None, cwd=ROOT):
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_URL"))}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
        timeout=120, cwd=cwd, env=full,
    )  # fmt: skip


def test_summarize_json_has_the_documented_shape():
    out = run(["summarize", str(SAMPLE), "--json"])
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["title"] == "U.S. widens chip export curbs as Beijing weighs response"
    assert len(result["summary"]) == 3 and all(s in SAMPLE.read_text() for s in result["summary"])
    assert result["topics"][0]["topic"] == "export_controls"
    scores = [t["score"] for t in result["topics"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert all(t["evidence"] for t in result["topics"])
    assert result["method"] != "default" and result["cached"] is False
    assert isinstance(result["words"], int) and result["notes"] == []


def test_readable_output_shows_sentences_and_evidence():
    out = run(["summarize", str(SAMPLE), "--sentences", "2", "--method", "textrank"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("  • ") == 2 and "#export_controls" in out.stdout
    assert "method textrank" in out.stdout


def test_stdin_and_html_files_work(tmp_path):
    out = run(["summarize", "-", "--json"], stdin=SAMPLE.read_text())
    assert out.returncode == 0 and json.loads(out.stdout)["topics"]
    page = tmp_path / "page.html"
    paragraphs = "".join(f"<p>{p}</p>" for p in SAMPLE.read_text().split("\n\n")[1:])
    page.write_text(f"<html><head><title>Chip curbs</title></head><body><article>{paragraphs}"
                    "</article></body></html>")  # fmt: skip
    out = run(["summarize", str(page), "--json"])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["title"] == "Chip curbs"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["summarize", "-"], "", "no text"),
        (["summarize", "-"], "\x00\x01\x02" * 400, "binary"),
        (["summarize", "-", "--method", "kl"], SAMPLE.read_text(), "lexrank"),
        (["summarize", "ftp://example.org/x"], None, "http"),
        (["summarize", "/no/such/file.txt"], None, "No such file"),
        (["summarize", "/no/such/batch.jsonl", "--jsonl"], None, "No such file"),
    ],
)
def test_bad_input_exits_2_with_one_friendly_line(args, stdin, message):
    out = run(args, stdin=stdin)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr


def test_too_long_text_is_refused_with_the_limit():
    out = run(["summarize", "-"], stdin=SAMPLE.read_text(), env={"TEXT_MAX_CHARS": "500"})
    assert out.returncode == 2 and "500" in out.stderr


def test_jsonl_goes_on_after_bad_lines_and_exits_0(tmp_path):
    lines = [
        json.dumps({"id": "a", "text": SAMPLE.read_text()}),
        "{not json",
        json.dumps({"id": "c", "text": ""}),
        json.dumps({"id": "d", "url": "http://10.0.0.1/x"}),
        json.dumps({"id": "e", "text": SAMPLE.read_text(), "sentences": 2, "method": "lead"}),
        json.dumps({"id": "f", "text": SAMPLE.read_text(), "sentences": "lots"}),
    ]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(lines) + "\n")
    out = run(["summarize", str(batch), "--jsonl", "--jobs", "2"])
    assert out.returncode == 0, out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in results] == ["a", 2, "c", "d", "e", "f"]
    assert results[5]["code"] == "bad_option"
    assert results[0]["summary"] and results[4]["summary"] == results[0]["summary"][:2]
    assert results[4]["method"] == "lead"
    assert [r.get("code") for r in results[1:4]] == ["bad_json", "empty", "private_address"]


def test_cli_cache_is_used_only_with_redis_url(redis_client, redis_url):
    env = {"REDIS_URL": redis_url}
    first = json.loads(run(["summarize", str(SAMPLE), "--json"], env=env).stdout)
    second = json.loads(run(["summarize", str(SAMPLE), "--json"], env=env).stdout)
    assert first["cached"] is False and second["cached"] is True
    assert second["summary"] == first["summary"]
    keys = redis_client.keys("*")
    assert keys and all(k.startswith("pd:cli:") for k in keys)
    assert not any(":ch:" in k or ":article:" in k for k in keys)  # never a share
    assert (
        json.loads(run(["summarize", str(SAMPLE), "--json", "--no-cache"], env=env).stdout)[
            "cached"
        ]
        is False
    )


def test_cache_unavailable_still_summarizes_and_says_so():
    out = run(["summarize", str(SAMPLE), "--json"], env={"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert out.returncode == 0
    assert any("cache" in note for note in json.loads(out.stdout)["notes"])
    assert "cache" in out.stderr


def test_digest_command_prints_a_channel_digest(redis_client, redis_url):
    from bot.storage.store import Store

    store = Store.for_team(redis_client, "T9")
    import time

    store.save_article("u1", {"title": "Entity List grows", "url": "https://a.example/1",
                              "summary": ["Twelve firms were added."],
                              "topics": [{"topic": "export_controls", "label": "Export controls",
                                          "score": 0.9, "evidence": ["entity list"]}]})  # fmt: skip
    store.add_share("C9", "u1", user="U1", message_ts="1.0", now=time.time() - 3600)
    out = run(["digest", "--channel", "C9", "--format", "markdown"], env={"REDIS_URL": redis_url})
    assert out.returncode == 0, out.stderr
    assert "Entity List grows" in out.stdout and "Export controls" in out.stdout
    data = json.loads(
        run(["digest", "--channel", "C9", "--format", "json"], env={"REDIS_URL": redis_url}).stdout
    )
    assert data["total_stories"] == 1
    assert data["sections"][0]["stories"][0]["items"] == [
        {"title": "Entity List grows", "url": "https://a.example/1", "outlet": "a.example",
         "sharers": ["U1"]}
    ]  # fmt: skip
    out = run(["digest", "--channel", "C9", "--since", "yesterday"], env={"REDIS_URL": redis_url})
    assert out.returncode == 2 and "ISO-8601" in out.stderr


def test_every_command_has_help():
    for command in ("summarize", "digest", "shell", "socket", "web", "clock"):
        out = run([command, "--help"])
        assert out.returncode == 0 and "usage:" in out.stdout


def test_a_url_is_fetched_once_and_then_answered_from_the_cache(redis_client, redis_url):
    from tests.slack_harness import ArticleServer

    site = ArticleServer()
    try:
        env = {"REDIS_URL": redis_url, "FETCH_ALLOW_PRIVATE": "127.0.0.0/8"}
        first = run(["summarize", site.url("cli") + "?utm_source=x", "--json"], env=env)
        assert first.returncode == 0, first.stderr
        result = json.loads(first.stdout)
        assert result["url"] == site.url("cli") and result["site"] == "Example Wire"
        second = json.loads(run(["summarize", site.url("cli"), "--json"], env=env).stdout)
        assert second["cached"] is True and site.hits == ["/a/cli"]
        refused = run(["summarize", site.url("cli"), "--no-cache"], env={"REDIS_URL": redis_url})
        assert refused.returncode == 2 and "private network" in refused.stderr
    finally:
        site.stop()
