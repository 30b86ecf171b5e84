"""``python -m bot digest``: print a channel's digest from the store, or build one from a file of
articles (``--input``: the whole pipeline without Slack, for research and newsletters);
``python -m bot feedback``: export the tag feedback votes for tuning."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

from bot.config import Settings
from bot.storage.store import StoreError
from digests.cluster import parse_published
from digests.digest import build_digest
from digests.errors import InputError
from digests.models import SharedItem, TopicTag

MAX_INPUT_ARTICLES = 20_000


def cmd_digest(args, settings: Settings) -> int:
    if args.input:
        return _digest_from_file(args, settings)
    if not args.channel:
        raise InputError("empty", "Give --channel C… (from the store) or --input FILE.jsonl.")
    from bot.bootstrap import compose, redis_url_for
    from bot.storage.store import connect

    url = redis_url_for(settings, local=True)
    bot = compose(settings, connect(url))
    try:
        return _print_digest(args, bot)
    except StoreError as exc:  # one line, no traceback: the store is unreachable or refused
        raise InputError("store_down", f"The store can't be reached: {exc}") from exc


def _print_digest(args, bot) -> int:
    bot.stores.build_indexes()
    team = args.team or _only_team(bot.stores.indexed("teams"))
    since = None
    if args.since:
        try:
            parsed = datetime.fromisoformat(args.since)
        except ValueError as exc:
            raise InputError(
                "bad_since", f"--since must be an ISO-8601 date or time, not {args.since!r}."
            ) from exc
        since = parsed.timestamp()  # a naive time is taken as this machine's local time
    output = Path(args.output) if args.output else None
    text, note = bot.builder.digest_for_cli(team, args.channel, since, args.format, output)
    if note:
        print(note, file=sys.stderr)
    if output is None:
        print(text, end="" if text.endswith("\n") else "\n")
    else:
        output.write_text(text, encoding="utf-8")
        print(f"Wrote {output}", file=sys.stderr)
    return 0


def cmd_feedback(args, settings: Settings) -> int:
    """One JSON line per article with votes: article id, title, url, shown tags, votes."""
    from bot.bootstrap import compose, redis_url_for
    from bot.storage.store import connect

    url = redis_url_for(settings, local=True)
    bot = compose(settings, connect(url))
    bot.stores.build_indexes()
    teams = [args.team] if args.team else bot.stores.indexed("teams")
    for line in bot.feedback.export(teams):
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    return 0


def _only_team(teams: list[str]) -> str:
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise InputError("no_data", "The store holds no shared articles yet.")
    raise InputError(
        "need_team", f"The store holds several workspaces ({', '.join(teams)}); pass --team."
    )


# -- digest --input FILE.jsonl ---------------------------------------------------------------------


def _input_source(obj: dict):
    """A line's article: its text or HTML when given (``url`` then only names it), else its URL."""
    from bot.entry.cli import _line_source
    from bot.flows.sources import Source

    url = str(obj["url"]) if obj.get("url") else None
    title = str(obj.get("title") or "")
    if obj.get("html"):
        return Source("html", str(obj["html"]).encode("utf-8"), title=title, url=url)
    if obj.get("text"):
        return Source("text", str(obj["text"]), title=title, url=url)
    return _line_source(obj)


def _item(number: int, obj: dict, bot, now: float) -> SharedItem:
    published = None
    if obj.get("published") not in (None, ""):
        published = parse_published(obj["published"])
        if published is None:
            raise InputError(
                "bad_option", '"published" must be an ISO-8601 date or time, e.g. "2025-04-16".'
            )
    result = bot.summarizer.summarize(_input_source(obj), use_cache=bot.redis is not None)
    url = result.get("url") or (str(obj["url"]) if obj.get("url") else None)
    return SharedItem(
        key=f"line{number}",
        title=result["title"],
        summary=list(result["summary"]),
        topics=[TopicTag(**t) for t in result["topics"]],
        shared_at=now,
        url=url,
        site=result.get("site"),
        published=published,
        id=str(obj["id"]) if obj.get("id") is not None else None,
    )


def read_items(path: Path, bot, now: float) -> tuple[list[SharedItem], list[dict]]:
    """Shared items from a ``summarize --jsonl``-shaped file, and one error object per bad line
    (``{"id", "error", "code"}``, as ``summarize --jsonl`` writes them); the rest go on."""
    from bot.entry.cli import _jsonl_lines

    items: list[SharedItem] = []
    errors: list[dict] = []
    max_line = bot.settings.text_max_chars * 4  # JSON escaping inflates text
    with path.open(encoding="utf-8", errors="replace") as stream:
        for number, line in _jsonl_lines(stream):
            line_id: object = number
            try:
                if len(items) >= MAX_INPUT_ARTICLES:
                    raise InputError(
                        "too_long", f"Only the first {MAX_INPUT_ARTICLES:,} articles are read."
                    )
                if len(line) > max_line:
                    raise InputError("too_long", "This line is too long.")
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise InputError("bad_json", "Each line must be a JSON object.")
                line_id = obj.get("id", number)
                items.append(_item(number, obj, bot, now))
            except json.JSONDecodeError as exc:
                errors.append({"id": line_id, "error": f"Not valid JSON ({exc.msg}).", "code": "bad_json"})  # fmt: skip
            except InputError as exc:
                errors.append({"id": line_id, "error": exc.message, "code": exc.code})
    return items, errors


def _digest_from_file(args, settings: Settings) -> int:
    from bot.bootstrap import build_cli

    path = Path(args.input)
    if not path.is_file():
        raise InputError("not_found", f"No such file: {args.input}")
    bot = build_cli(settings, no_cache=False)
    now = time.time()
    items, errors = read_items(path, bot, now)
    for error in errors:
        print(json.dumps(error, ensure_ascii=False), file=sys.stderr)
    if not items and errors:
        raise InputError("no_article", "No line of the input gave an article (errors above).")
    dates = [it.published for it in items if it.published is not None]
    taxonomy = bot.taxonomies.base
    digest = build_digest(
        items,
        period_start=min([*dates, now]),
        period_end=max([*dates, now]) + 1,
        tz="UTC",
        labels={tid: taxonomy.label(tid) for tid in taxonomy.ids()},
    )
    extra = {"errors": errors} if errors else None
    print(bot.builder.format_digest(digest, args.format, extra))
    return 0
