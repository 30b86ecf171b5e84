"""The shell through a pipe: the real app answers typed commands and pasted articles, then exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_shell(stdin: str, redis_url: str, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(REDIS_URL=redis_url, DATA_DIR=str(tmp_path), LOG_LEVEL="ERROR")
    return subprocess.run(
        [sys.executable, "-m", "bot"], input=stdin, capture_output=True, text=True,
        timeout=120, cwd=ROOT, env=env,
    )  # fmt: skip


def test_help_through_a_pipe_answers_and_exits(redis_client, redis_url, tmp_path):
    out = _run_shell("/digest help\n", redis_url, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "/digest summarize" in out.stdout and "Traceback" not in out.stderr


def test_a_pasted_article_comes_back_summarized_and_tagged(redis_client, redis_url, tmp_path):
    out = _run_shell(":sample\n/digest recent export_controls\n", redis_url, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "bot (in thread)" in out.stdout
    assert "Entity List" in out.stdout and "Export controls" in out.stdout
    # the share was stored for the channel, so `recent` lists it under its topic
    assert "Recently shared here — export_controls" in out.stdout


def test_a_multiline_paste_between_triple_quotes_is_one_message(redis_client, redis_url, tmp_path):
    article = (ROOT / "examples" / "sample_article.txt").read_text()
    out = _run_shell(f'"""\n{article}\n"""\n', redis_url, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("bot (in thread)") == 1
