"""``python -m bot extract``, and the command line's handling of odd input (issue 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_article.txt"
PARAGRAPHS = SAMPLE.read_text().strip().split("\n\n")[1:]
PAGE = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>U.S. widens chip export curbs | The Ledger</title>
<meta property="og:site_name" content="The Ledger">
<meta name="author" content="Ana Ruiz">
<meta property="article:published_time" content="2024-10-02T08:00:00Z">
</head><body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>U.S. widens chip export curbs</h1>
{"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}
</article><footer>© The Ledger</footer></body></html>"""


def run(args: list[str], *, stdin: str | bytes | None = None, env: dict | None = None):
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_URL"))}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True,
        text=not isinstance(stdin, bytes), timeout=120, cwd=ROOT, env=full,
    )  # fmt: skip


@pytest.fixture
def page_file(tmp_path) -> Path:
    path = tmp_path / "story.html"
    path.write_text(PAGE)
    return path


# ---- extract -------------------------------------------------------------------------------


def test_extract_json_shows_what_extraction_found(page_file):
    out = run(["extract", str(page_file), "--json"])
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["title"] == "U.S. widens chip export curbs"
    assert (result["site"], result["author"], result["published"]) == (
        "The Ledger",
        "Ana Ruiz",
        "2024-10-02",
    )
    assert result["paywalled"] is False and result["notes"] == []
    assert result["text"].split("\n\n") == PARAGRAPHS
    assert result["words"] == len(result["text"].split())
    assert "summary" not in result and "topics" not in result


def test_extract_readable_output_lists_each_field_then_the_text(page_file):
    out = run(["extract", str(page_file)])
    assert out.returncode == 0, out.stderr
    head, _, text = out.stdout.partition("\n\n")
    assert "title:     U.S. widens chip export curbs" in head
    assert "site:      The Ledger" in head and "author:    Ana Ruiz" in head
    assert "published: 2024-10-02" in head and "paywall:   no" in head
    assert text.strip().split("\n\n") == PARAGRAPHS


def test_extract_jsonl_takes_summarize_lines_and_writes_text(tmp_path):
    lines = [
        json.dumps({"id": "page", "html": PAGE}),
        json.dumps({"id": "text", "text": SAMPLE.read_text(), "title": "Mine"}),
        json.dumps({"id": "empty", "html": "<html><body><nav>Home</nav></body></html>"}),
        "{oops",
    ]
    out = run(["extract", "--jsonl"], stdin="\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in results] == ["page", "text", "empty", 4]
    assert results[0]["text"].split("\n\n") == PARAGRAPHS
    assert results[1]["title"] == "Mine" and results[1]["text"] == SAMPLE.read_text()
    assert [r.get("code") for r in results[2:]] == ["no_article", "bad_json"]


def test_extract_refuses_a_hostile_page_with_a_clear_line(tmp_path):
    hostile = tmp_path / "hostile.html"
    hostile.write_text("<html><body><article>" + "<p>x</p>" * 600_000 + "</article></body></html>")
    out = run(["extract", str(hostile)])
    assert out.returncode == 2
    assert "more than 20,000 HTML elements" in out.stderr and "Traceback" not in out.stderr


# ---- odd input -----------------------------------------------------------------------------


def test_cached_results_carry_each_lines_own_title_and_id(redis_client, redis_url):
    text = SAMPLE.read_text().split("\n\n", 1)[1]  # without its headline
    lines = [json.dumps({"id": i, "text": text, "title": title}) for i, title in enumerate("ABC")]
    lines.append(json.dumps({"id": "none", "text": text}))
    env = {"REDIS_URL": redis_url}
    for _ in range(2):  # the second run answers from the cache
        out = run(["summarize", "--jsonl"], stdin="\n".join(lines) + "\n", env=env)
        assert out.returncode == 0, out.stderr
        results = [json.loads(line) for line in out.stdout.splitlines()]
        assert [r["id"] for r in results] == [0, 1, 2, "none"]
        assert [r["title"] for r in results[:3]] == ["A", "B", "C"]
        assert results[3]["title"] not in "ABC"
    assert all(r["cached"] for r in results)


def test_a_directory_is_not_reported_as_a_missing_file(tmp_path):
    for args in (["summarize", str(tmp_path)], ["summarize", str(tmp_path), "--jsonl"]):
        out = run(args)
        assert out.returncode == 2
        assert "is a directory" in out.stderr and "No such file" not in out.stderr


def test_a_method_that_is_not_a_string_is_a_bad_option():
    lines = [
        json.dumps({"id": "list", "text": SAMPLE.read_text(), "method": ["lsa"]}),
        json.dumps({"id": "text", "text": ["not", "a", "string"]}),
        json.dumps({"id": "ok", "text": SAMPLE.read_text(), "method": "lsa"}),
    ]
    out = run(["summarize", "--jsonl"], stdin="\n".join(lines) + "\n")
    assert out.returncode == 0 and "Traceback" not in out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r.get("code") for r in results] == ["bad_option", "bad_option", None]
    assert results[2]["method"] == "lsa"


def test_slack_markup_at_the_start_of_text_is_not_html():
    text = "<!channel> Tariffs update <!here>\n" + SAMPLE.read_text().split("\n\n", 1)[1]
    out = run(["summarize", "-", "--json"], stdin=text)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["summary"]


@pytest.mark.parametrize(
    ("data", "html"),
    [
        (b"<!DOCTYPE html><html>", True),
        (b"\n  <html lang='en'>", True),
        (b"\xef\xbb\xbf<p>Hello</p>", True),
        (b"<!-- saved page --><html>", True),
        (b"<?xml version='1.0'?><html>", True),
        (b"<!channel> Tariffs update", False),
        (b"<@U123ABC> look at this", False),
        (b"<https://example.org|a link> and text", False),
        (b"<#C123|general> news", False),
        (b"Plain text", False),
    ],
)
def test_html_is_recognised_by_its_opening_tag(data: bytes, html: bool):
    from bot.entry.cli import looks_like_html

    assert looks_like_html(data) is html


def test_the_too_short_fallback_is_capped():
    from digests.summarize import summarize

    result = summarize("It is. " * 5000)
    assert result.sentences == ["It is."] and result.notes


def test_undecodable_bytes_hash_into_a_source_key():
    from bot.flows.sources import Source
    from bot.flows.summarizer import source_key
    from bot.storage.store import digest_key

    text = b"\xff\xfe binary".decode("utf-8", "surrogateescape")
    assert digest_key("t", text) != digest_key("t", "binary")
    assert source_key(Source("text", text)).startswith("t")


def test_binary_bytes_piped_into_the_shell_get_an_answer_not_a_traceback(tmp_path):
    article = SAMPLE.read_bytes()
    stdin = b'"""\n' + article + b"\n\xff\xfe\xc3\x28 trailing bytes\n" + b'"""\n'
    for encoding in ("utf-8", "utf-8:surrogateescape"):
        env = {"DATA_DIR": str(tmp_path / encoding), "PYTHONIOENCODING": encoding}
        out = run([], stdin=stdin, env=env)
        assert out.returncode == 0, out.stderr
        assert b"Traceback" not in out.stderr
        assert b"Entity List" in out.stdout
