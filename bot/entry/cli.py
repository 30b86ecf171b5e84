"""``python -m bot``: the command line (summarize, extract, digest) and the way into every run mode."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.config import Settings
from digests.errors import InputError
from digests.topics import shown_tags

log = logging.getLogger("bot")

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _setup_logging(settings: Settings, quiet_default: bool) -> None:
    from bot.bootstrap import setup_logging

    setup_logging(settings, quiet_default=quiet_default)


def _cli_services(settings: Settings, no_cache: bool):
    """The CLI's summarizer: it caches under ``pd:cli:`` only when REDIS_URL is set."""
    from bot.bootstrap import build_cli

    return build_cli(settings, no_cache=no_cache).summarizer


# -- summarize ----------------------------------------------------------------------------------


def _source_from_arg(arg: str | None):
    """SOURCE as §4 defines it: a URL, a file (HTML or text), or ``-``/nothing for stdin."""
    from bot.flows.summarizer import Source

    if arg and arg != "-" and _SCHEME.match(arg) and not Path(arg).exists():
        return Source("url", arg)
    if arg and arg != "-":
        path = _readable_file(arg)
        data = _read(path)
        is_html = path.suffix.lower() in (".html", ".htm") or looks_like_html(data)
        return Source("html", data) if is_html else Source("text", _decode(data))
    if sys.stdin is None or sys.stdin.isatty():
        raise InputError("empty", "Give a URL, a file, or pipe text in (see --help).")
    data = sys.stdin.buffer.read()
    if looks_like_html(data):
        return Source("html", data)
    return Source("text", _decode(data))


def _readable_file(arg: str) -> Path:
    path = Path(arg)
    if path.is_dir():
        raise InputError("not_a_file", f"{arg} is a directory; give a file, a URL, or - for stdin.")
    if not path.is_file():
        raise InputError("not_found", f"No such file: {arg}")
    return path


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError("unreadable", f"Can't read {path}: {exc.strerror or exc}.") from exc


# Markup opens with a tag, a doctype, a comment or an XML declaration. Slack's own markup
# (<!channel>, <@U123>, <https://x|label>) is text.
_HTML_START = re.compile(rb"\s*<(?:!doctype\b|!--|\?xml\b|[a-z][a-z0-9]*[\s/>])", re.IGNORECASE)


def looks_like_html(data: bytes) -> bool:
    """Whether piped or file input is HTML rather than text (BOM and leading space skipped)."""
    return bool(_HTML_START.match(data.removeprefix(b"\xef\xbb\xbf")[:1024]))


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _line_text(obj: dict, key: str) -> str:
    value = obj[key]
    if value is not None and not isinstance(value, str):
        raise InputError("bad_option", f'"{key}" must be a string.')
    return value or ""


def _line_source(obj: dict):
    from bot.flows.summarizer import Source

    title = _line_text(obj, "title") if "title" in obj else ""
    if obj.get("url"):
        return Source("url", _line_text(obj, "url"), title=title)
    if obj.get("html"):
        return Source("html", _line_text(obj, "html").encode("utf-8"), title=title)
    if "text" in obj:
        return Source("text", _line_text(obj, "text"), title=title)
    raise InputError("empty", 'Each line needs "text", "html" or "url".')


def _line_method(value) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError("bad_option", '"method" must be one method name, such as "lead".')
    return value


def _line_sentences(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        raise InputError("bad_option", '"sentences" must be a whole number from 1 to 10.')
    return value


def _print_readable(result: dict, out) -> None:
    out.write(f"{result['title']}\n")
    meta = " · ".join(
        x for x in (result.get("site"), result.get("author"), result.get("published")) if x
    )
    if meta:
        out.write(f"{meta}\n")
    if result.get("url"):
        out.write(f"{result['url']}\n")
    out.write("\n")
    for sentence in result["summary"]:
        out.write(f"  • {sentence}\n")
    out.write("\n")
    if result["topics"]:
        for tag in shown_tags(result["topics"]):
            evidence = ", ".join(f'"{e}"' for e in tag["evidence"])
            out.write(f"  #{tag['topic']} ({tag['label']}, {tag['score']:.2f}): {evidence}\n")
    else:
        out.write("  (no policy topics)\n")
    out.write(f"\n{result['words']} words · method {result['method']}")
    out.write(" · from cache\n" if result.get("cached") else "\n")
    for note in result["notes"]:
        out.write(f"note: {note}\n")


def _jsonl_lines(stream: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(stream, 1):
        if line.strip():
            yield number, line


def _run_jsonl(args, line_result: Callable[[dict], dict]) -> int:
    """One result per input line, in order; a bad line gives ``{"id", "error", "code"}``."""
    if args.source and args.source != "-":
        path = _readable_file(args.source)
        stream = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
    else:
        stream = sys.stdin

    def work(item: tuple[int, str]) -> dict:
        number, line = item
        line_id = number
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise InputError("bad_json", "Each line must be a JSON object.")
            line_id = obj.get("id", number)
            return {"id": line_id, **line_result(obj)}
        except json.JSONDecodeError as exc:
            return {"id": line_id, "error": f"Not valid JSON ({exc.msg}).", "code": "bad_json"}
        except InputError as exc:
            return {"id": line_id, "error": exc.message, "code": exc.code}
        except Exception as exc:  # one bad line must not stop the batch
            log.exception("line %s failed", line_id)
            return {"id": line_id, "error": f"Internal error: {exc}", "code": "internal"}

    from tqdm import tqdm

    with stream, ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = pool.map(work, _jsonl_lines(stream))
        progress = tqdm(results, unit="article", file=sys.stderr, disable=not sys.stderr.isatty())
        for result in progress:
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    return EXIT_OK


def cmd_summarize(args, settings: Settings) -> int:
    services = _cli_services(settings, args.no_cache)

    def summarize(source, sentences=None, method=None) -> dict:
        return services.summarize(
            source,
            sentences=sentences or args.sentences,
            method=method or args.method,
            use_cache=not args.no_cache,
        )

    if args.jsonl:
        return _run_jsonl(
            args,
            lambda obj: summarize(
                _line_source(obj),
                _line_sentences(obj.get("sentences")),
                _line_method(obj.get("method")),
            ),
        )
    return _print_one(args, lambda: summarize(_source_from_arg(args.source)), _print_readable)


def _print_one(args, produce: Callable[[], dict], readable: Callable[[dict, object], None]) -> int:
    """One result for SOURCE: JSON or readable on stdout, notes and errors on stderr."""
    try:
        result = produce()
    except InputError as exc:
        if args.json:
            print(json.dumps({"error": exc.message, "code": exc.code}))
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for note in result["notes"]:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        readable(result, sys.stdout)
    return EXIT_OK


# -- extract ------------------------------------------------------------------------------------


def _print_extraction(result: dict, out) -> None:
    out.write(f"title:     {result['title'] or '(none)'}\n")
    for label, key in (("site", "site"), ("author", "author"), ("published", "published")):
        out.write(f"{label + ':':<10} {result.get(key) or '(none)'}\n")
    if result.get("url"):
        out.write(f"url:       {result['url']}\n")
    paywall = "yes, only the opening is public" if result["paywalled"] else "no"
    out.write(f"paywall:   {paywall}\n")
    out.write(f"words:     {result['words']}\n\n{result['text']}\n")


def cmd_extract(args, settings: Settings) -> int:
    """What extraction found in a page, before any summarizing (to see why a summary is off)."""
    services = _cli_services(settings, args.no_cache)

    def extract(source) -> dict:
        return services.extract(source, use_cache=not args.no_cache)

    if args.jsonl:
        return _run_jsonl(args, lambda obj: extract(_line_source(obj)))
    return _print_one(args, lambda: extract(_source_from_arg(args.source)), _print_extraction)


# -- argument parsing ---------------------------------------------------------------------------


def _sentences(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 10:
        raise argparse.ArgumentTypeError("choose between 1 and 10 sentences")
    return number


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    """SOURCE, --json/--jsonl, --jobs and --no-cache: the same for summarize and extract."""
    parser.add_argument(
        "source", nargs="?", help="http(s) URL, file (.html/.htm or text), or - for stdin"
    )
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON result object")
    fmt.add_argument(
        "--jsonl", action="store_true", help="read JSON lines, write one result per line"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="parallel workers for --jsonl (default 1)"
    )
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Policy Digest: summarize and tag policy news; run the Slack bot.",
        epilog="With no command: the shell when SLACK_BOT_TOKEN and SLACK_CLIENT_ID are unset, "
        "Socket Mode when SLACK_APP_TOKEN is set (one workspace), otherwise the web app on $PORT.",
    )
    sub = parser.add_subparsers(dest="command")

    s = sub.add_parser("summarize", help="summarize and tag a URL, a file or stdin")
    s.add_argument(
        "--sentences", type=_sentences, help="summary length (default: by article length)"
    )
    s.add_argument(
        "--method", help="lexrank textrank lsa luhn edmundson sumbasic reduction lead default"
    )
    _source_arguments(s)

    e = sub.add_parser(
        "extract",
        help="show what extraction finds in a page: title, site, author, date, paywall, text",
        description="Show what extraction finds in a page (title, site, author, date, paywall, "
        "text), to see why a summary looks wrong. SOURCE and --jsonl lines as for summarize.",
    )
    _source_arguments(e)

    d = sub.add_parser(
        "digest", help="print a channel's digest from the store, or build one from a file"
    )
    where = d.add_mutually_exclusive_group(required=True)
    where.add_argument("--channel", help="channel id, e.g. C0123456")
    where.add_argument(
        "--input",
        metavar="FILE.jsonl",
        help='articles, one JSON object a line: {"id", "text"|"html"|"url", "title"?, "url"?, '
        '"published"?} (summarize --jsonl input); bad lines are reported on stderr',
    )
    d.add_argument("--team", help="workspace id (optional when the store holds one workspace)")
    d.add_argument(
        "--since",
        help="ISO-8601 start (default: since the last digest; if nothing is new, its period)",
    )
    d.add_argument("--format", choices=("markdown", "json", "blocks"), default="markdown")
    d.add_argument(
        "--output", "-o", help="write to this file (Markdown: the trend chart goes beside it)"
    )

    f = sub.add_parser("feedback", help="export tag feedback votes for tuning (JSON lines)")
    f.add_argument("--team", help="workspace id (default: every workspace in the store)")
    f.add_argument("--format", choices=("jsonl",), default="jsonl")

    for name, summary, description in _MODES:
        sub.add_parser(name, help=summary, description=description)
    return parser


_MODES = [
    ("shell", "drive the bot from the terminal, no Slack account needed",
     "The real bot against a local stand-in for Slack: type or paste a link or an article, "
     "':sample' for the sample article, '/digest help' for commands; put a multi-line article "
     'between two lines of """. Reads a pipe too. Without REDIS_URL it keeps its data in an '
     "embedded server under DATA_DIR (./.data). Runs the digest clock in-process."),
    ("socket", "connect to Slack with Socket Mode (needs SLACK_APP_TOKEN)",
     "Slack over Socket Mode: no public URL needed. Needs SLACK_BOT_TOKEN and an app-level "
     "SLACK_APP_TOKEN (xapp-…, connections:write). Runs the digest clock in-process; without "
     "REDIS_URL it uses the embedded server under DATA_DIR."),
    ("web", "serve POST /slack/events and GET /healthz on $PORT",
     "The HTTP app under gunicorn on $PORT: POST /slack/events (signed Slack requests) and "
     "GET /healthz (what is wrong, if anything). It verifies, acks and enqueues: 'worker' "
     "processes do the work, a 'clock' process posts digests. Needs SLACK_BOT_TOKEN (or "
     "SLACK_CLIENT_ID/SECRET), SLACK_SIGNING_SECRET and REDIS_URL."),
    ("worker", "run jobs from the queue (everything after an ack)",
     "Runs the jobs the web process enqueues (summaries, replies, commands, deletions, "
     "reactions, App Home) on WORKERS threads; run as many as you like, on any machines. A "
     "worker killed mid-job has its job run again by another. Needs REDIS_URL and the token."),
    ("clock", "run the digest clock (one sweep every 30 s)",
     "Posts scheduled digests: one sweep every 30 s over every channel's schedule, each slot "
     "posted exactly once even with several clocks running; prunes old records daily. Needs "
     "SLACK_BOT_TOKEN (or OAuth settings) and REDIS_URL (the web process's Redis)."),
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    command = args.command
    if command is None:
        if not (settings.slack_bot_token or settings.oauth_enabled):
            command = "shell"
        elif settings.slack_app_token and not settings.oauth_enabled:
            command = "socket"
        else:
            command = "web"
    if settings.placeholders and command in ("shell", "socket", "web", "clock"):
        print(f"note: {', '.join(settings.placeholders)} still hold .env.example's placeholders "
              f"and count as unset ({command} mode).", file=sys.stderr)  # fmt: skip
    quiet = ("summarize", "extract", "digest", "feedback", "shell")
    _setup_logging(settings, quiet_default=command in quiet)
    try:
        if command == "summarize":
            return cmd_summarize(args, settings)
        if command == "extract":
            return cmd_extract(args, settings)
        if command == "digest":
            from bot.entry.digest_cli import cmd_digest

            return cmd_digest(args, settings)
        if command == "feedback":
            from bot.entry.digest_cli import cmd_feedback

            return cmd_feedback(args, settings)
        from bot.entry import runners

        return runners.run(command, settings)
    except InputError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        log.exception("internal error")
        print(f"internal error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
