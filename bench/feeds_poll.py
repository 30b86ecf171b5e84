"""Benchmark: polling followed feeds, 200 feeds x 50 items served by a local HTTP server.

Prints, next to baselines measured in the same run on the same server:

* ``first poll``: every feed polled once for its (new) follower: fetch, parse, summarize and
  tag each item, store it in the channel; wall time and items/s. Baseline: the same fetches and
  feedparser parses alone (what any feed reader does), so the ratio is what summarizing, tagging
  and storing cost on top.
* ``steady round``: the next round, every feed answering 304 to the conditional request.
  Baseline: one plain GET of each feed (the cheapest thing a poll can do without validators).
* peak memory: the process's peak resident size (``ru_maxrss``) after each phase.

Items carry their full text (the feed has the article), so no article page is fetched; a teaser
feed adds one page fetch per new item. Polls run on ``--threads`` threads, as the in-process pool
does (``WORKERS``, 4) per worker process. Redis is an embedded server in a temporary directory unless ``--redis URL``
names one (its database is flushed). ``BENCH_JSON=path`` also writes the figures as JSON.

Run: ``.venv/bin/python bench/feeds_poll.py [--feeds 200] [--items 50] [--threads 4]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


from bot.bootstrap import Hooks, compose  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.feeds.store import Follow  # noqa: E402
from bot.fetch.fetcher import Fetcher  # noqa: E402
from bot.storage.store import connect  # noqa: E402
from digests.feeds import parse_feed  # noqa: E402
from tests.local_http import QuietHandler, serve  # noqa: E402

TEAM = "TBENCH"
WORDS = [
    "commerce",
    "ministry",
    "export",
    "controls",
    "licence",
    "semiconductor",
    "tariff",
    "sanctions",
    "treasury",
    "entity",
    "list",
    "rule",
    "firms",
    "shipments",
    "allies",
    "officials",
    "statement",
    "review",
    "trade",
    "talks",
    "chips",
    "tools",
    "review",
    "agency",
    "department",
    "measures",
    "guidance",
    "partners",
    "border",
    "goods",
    "contracts",
]


def _paragraph(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def make_feed(base: str, f: int, items: int, now: float) -> bytes:
    rng = random.Random(f)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>',
        f"<title>Agency {f} press releases</title><link>{base}/f{f}/</link>",
    ]
    for i in range(items):
        body = "".join(f"<p>{_paragraph(rng, 18)} {_paragraph(rng, 14)}</p>" for _ in range(5))
        parts.append(
            f"<item><title>Agency {f} statement {i} on {rng.choice(WORDS)}</title>"
            f"<link>{base}/f{f}/news/{i}</link><guid>f{f}-{i}</guid>"
            f"<pubDate>{formatdate(now - 3600 * (i + 1), usegmt=True)}</pubDate>"
            f"<content:encoded>{escape(body)}</content:encoded></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


class Server:
    def __init__(self, feeds: int, items: int, now: float) -> None:
        self.bodies: dict[str, bytes] = {}
        server = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:  # noqa: N802
                body = server.bodies.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                etag = f'"{len(body)}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_body(body, "application/rss+xml", headers={"ETag": etag})

        self.httpd = serve(Handler)
        base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.urls = [f"{base}/f{f}.xml" for f in range(feeds)]
        for f, url in enumerate(self.urls):
            self.bodies[url[len(base) :]] = make_feed(base, f, items, now)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(threads: int, fn, args) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(fn, args))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--redis", default="", help="a Redis URL whose database is flushed")
    args = parser.parse_args()

    embedded = None
    url = args.redis
    if not url:
        from bot.storage.embedded import EmbeddedServer

        embedded = EmbeddedServer(Path(tempfile.mkdtemp(prefix="feeds-bench-")))
        url = embedded.start()
    client = connect(url, timeout=5.0)
    client.flushdb()
    now = time.time()
    server = Server(args.feeds, args.items, now)
    settings = Settings(slack_bot_token="xoxb-bench", fetch_allow_private=["127.0.0.0/8"])
    fetcher = Fetcher(allow_private=["127.0.0.0/8"])
    # No job queue: polls run on this bench's threads and items inside their poll, so the
    # figures are the work itself (a worker process does the same work per job).
    kit = compose(settings, client, hooks=Hooks(fetcher=fetcher)).feeds
    try:
        # Baseline: fetch + parse every feed, nothing else.
        def fetch_parse(u: str) -> int:
            page = kit.poller.fetch(u)
            return len(parse_feed(page.body, page.url, page.content_type).items)

        t_base = timed(args.threads, fetch_parse, server.urls)
        mem_base = peak_mb()

        fids = []
        for n, u in enumerate(server.urls):
            fid = kit.store.ensure_feed(u, f"Agency {n}")
            kit.store.follow(Follow(TEAM, f"C{n:04d}", fid, u, f"Agency {n}", now - 60))
            fids.append(fid)

        t_first = timed(args.threads, kit.poll, fids)
        mem_first = peak_mb()
        delivered = sum(
            int(client.zcard(f"pd:{{{TEAM}}}:ch:C{n:04d}:shares")) for n in range(args.feeds)
        )

        results: list[str] = []
        t_steady = timed(args.threads, lambda fid: results.append(kit.poll(fid).result), fids)
        mem_steady = peak_mb()
        t_get = timed(args.threads, lambda u: fetcher.fetch(u, content_types={"application/rss+xml"}),
                      server.urls)  # fmt: skip
        # The baseline again, after: the faster of the two (order and warm-up must not decide).
        t_base = min(t_base, timed(args.threads, fetch_parse, server.urls))
    finally:
        server.stop()
        client.flushdb()
        if embedded is not None:
            embedded.stop()

    items = args.feeds * args.items
    not_modified = results.count("not_modified")
    print(f"feeds poll: {args.feeds} feeds x {args.items} items, {args.threads} threads, "
          f"python {sys.version.split()[0]}")  # fmt: skip
    print(f"  baseline fetch+parse   {t_base:8.2f} s  {items / t_base:9.0f} items/s")
    print(f"  first poll             {t_first:8.2f} s  {delivered / t_first:9.0f} items/s  "
          f"= {t_first / t_base:5.1f}x baseline  ({delivered} items stored)")  # fmt: skip
    print(f"  baseline plain GET     {t_get:8.2f} s  {args.feeds / t_get:9.0f} feeds/s")
    print(f"  steady round (304)     {t_steady:8.2f} s  {args.feeds / t_steady:9.0f} feeds/s  "
          f"= {t_steady / t_get:5.2f}x plain GET  ({not_modified}/{args.feeds} not modified)")  # fmt: skip
    print(f"  peak RSS               {mem_base:8.0f} MB after baseline, {mem_first:.0f} MB after "
          f"first poll, {mem_steady:.0f} MB after steady round")  # fmt: skip
    figures = {
        "feeds": args.feeds, "items_per_feed": args.items, "threads": args.threads,
        "baseline_fetch_parse_s": round(t_base, 3), "first_poll_s": round(t_first, 3),
        "first_poll_items": delivered, "first_poll_items_per_s": round(delivered / t_first, 1),
        "first_poll_vs_baseline": round(t_first / t_base, 2),
        "baseline_plain_get_s": round(t_get, 3), "steady_round_s": round(t_steady, 3),
        "steady_not_modified": not_modified, "steady_vs_plain_get": round(t_steady / t_get, 3),
        "peak_rss_mb_baseline": round(mem_base, 1), "peak_rss_mb_first_poll": round(mem_first, 1),
        "peak_rss_mb_steady": round(mem_steady, 1),
    }  # fmt: skip
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
