"""``python -m bot digest``: print a channel's digest from the store (for email or a document);
``python -m bot feedback``: export the tag feedback votes for tuning."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from bot.config import Settings
from bot.storage.store import StoreError
from digests.errors import InputError


def cmd_digest(args, settings: Settings) -> int:
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
