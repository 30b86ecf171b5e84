"""Polling a feed: fetch it (conditionally, through the SSRF-safe fetcher), parse it, and hand
each item every follower has not seen yet to the channels as summarized, tagged feed items.

One poll of a feed URL serves every channel that follows it. What makes a re-run safe (a worker
killed mid-poll): each item is marked seen for a follow only after it was delivered there, and
the feed's ETag/Last-Modified are saved only after every item was handled, so the next poll
fetches in full and finds exactly the unmarked items; delivering one twice is a no-op (the
channel's share is ``ZADD NX``, the alert claim too).

A follow's first poll does not flood: it alerts on nothing, and of the feed's items only those
published in the last ``BACKFILL_DAYS`` (and a few undated ones) reach the digest. From then on,
new items alert when they were published after the follow.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from bot.feeds.alerting import Alerter, alert_item_of
from bot.feeds.store import FeedState, FeedStore, Follow
from bot.fetch.fetcher import ALLOWED_CONTENT_TYPES, FetchedPage, Fetcher, FetchError
from bot.storage.store import Store, digest_key
from digests.errors import InputError
from digests.extract import extract_article
from digests.feeds import (
    FEED_CONTENT_TYPES,
    FeedError,
    FeedItem,
    ParsedFeed,
    discover_feeds,
    looks_like_html,
    parse_feed,
)
from digests.models import Article

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "text/html;q=0.5, */*;q=0.1"
)
READABLE = ALLOWED_CONTENT_TYPES | FEED_CONTENT_TYPES
BACKFILL_DAYS = 7
FIRST_POLL_UNDATED = 5  # undated items a new follow takes into the digest (feed order)
MAX_BACKOFF = 24 * 3600
ITEMS_PER_POLL = 60  # a poll delivers at most this many items; the rest come one minute later
RECORD_FIELDS = ("title", "url", "site", "author", "published", "summary", "topics", "words",
                 "method")  # fmt: skip

Analyze = Callable[[str, Article], dict]  # (team, article) -> the §4 result object


@dataclass
class Resolved:
    """A feed as ``follow`` read it: its URL, the parsed feed and the page's validators."""

    url: str
    parsed: ParsedFeed
    etag: str = ""
    modified: str = ""


@dataclass
class PollReport:
    """What one poll did: ``result`` ok | not_modified | error, new items per channel."""

    result: str
    message: str = ""
    new: dict[str, int] = field(default_factory=dict)  # "team|channel" -> items added
    queued: dict[str, int] = field(default_factory=dict)  # ... -> items handed to item jobs
    alerts: dict[str, str] = field(default_factory=dict)  # akey -> what the alerter did


class FeedPoller:
    def __init__(
        self,
        feeds: FeedStore,
        fetcher: Fetcher,
        analyze: Analyze,
        alerter: Alerter,
        store_for: Callable[[str], Store],
        *,
        interval: float,
        clock: Callable[[], float] = time.time,
        dispatch: Callable[[dict], bool] | None = None,
    ) -> None:
        """``dispatch`` hands an item job (``deliver_item``'s keyword arguments, JSON) to a
        queue and says whether it was taken; without it items are delivered in this poll."""
        self.dispatch = dispatch
        self.feeds = feeds
        self.fetcher = fetcher
        self.analyze = analyze
        self.alerter = alerter
        self.store_for = store_for
        self.interval = interval
        self.clock = clock

    # -- fetching -------------------------------------------------------------------------------

    def fetch(self, url: str, state: FeedState | None = None) -> FetchedPage:
        headers = {"Accept": FEED_ACCEPT}
        if state is not None and state.etag:
            headers["If-None-Match"] = state.etag
        if state is not None and state.modified:
            headers["If-Modified-Since"] = state.modified
        return self.fetcher.fetch(url, headers=headers, content_types=READABLE)

    def resolve(self, url: str) -> Resolved:
        """A feed or site URL → the feed's URL and the parsed feed. A site page is searched for
        ``<link rel="alternate">``. Raises FetchError/FeedError with a message for the user."""
        page = self.fetch(url)
        if looks_like_html(page.body, page.content_type):
            found = discover_feeds(page.body, page.url)
            if not found:
                raise FeedError(
                    "not_a_feed",
                    "That address is a web page without a feed link in it; give me the feed's "
                    "own address (often ending in /feed, /rss or .xml).",
                )
            page = self.fetch(found[0][0])
        parsed = parse_feed(page.body, page.url, page.content_type)
        return Resolved(page.url, parsed, page.etag or "", page.last_modified or "")

    # -- polling --------------------------------------------------------------------------------

    def poll(self, fid: str, resolved: Resolved | None = None) -> PollReport:
        """Poll one feed for all its followers (``resolved``: the feed ``follow`` just read)."""
        state = self.feeds.state(fid)
        follows = self.feeds.followers(fid)
        if state is None or not follows:
            self.feeds.forget_feed(fid)
            return PollReport("no_followers")
        now = self.clock()
        if resolved is not None:
            parsed, etag, modified = resolved.parsed, resolved.etag, resolved.modified
        else:
            conditional = all(f.primed for f in follows)  # a new follow needs the whole feed
            try:
                page = self.fetch(state.url, state if conditional else None)
            except FetchError as exc:
                return self._failed(fid, state, exc.message)
            if page.status == 304:
                self.feeds.record_poll(
                    fid, result="not_modified", next_due=now + self.interval, message=""
                )
                return PollReport("not_modified")
            try:
                parsed = parse_feed(page.body, page.url, page.content_type)
            except FeedError as exc:
                return self._failed(fid, state, exc.message)
            etag, modified = page.etag or "", page.last_modified or ""
        report = PollReport("ok", message=" ".join(parsed.notes))
        complete = self._deliver_all(fid, parsed, follows, now, report)
        if complete:
            for f in follows:
                self.feeds.mark_primed(f)
        else:  # a backlog: no validators (so the next poll reads it all), and come back soon
            etag = modified = ""
        self.feeds.note_items(fid, {it.key: it.published or now for it in parsed.items})
        self.feeds.record_poll(
            fid,
            result="ok",
            next_due=now + (self.interval if complete else 60),
            message=report.message,
            new=sum(report.new.values()) + sum(report.queued.values()),
            etag=etag,
            modified=modified,
            status=parsed.status,
            title=parsed.title,
        )
        return report

    def _failed(self, fid: str, state: FeedState, message: str) -> PollReport:
        backoff = min(self.interval * 2**state.failures, MAX_BACKOFF)
        failures = self.feeds.record_poll(
            fid, result="error", next_due=self.clock() + backoff, message=message
        )
        log.info("feed %s failed (%d in a row): %s", state.url[:200], failures, message)
        return PollReport("error", message=message)

    def _deliver_all(
        self, fid: str, parsed: ParsedFeed, follows: list[Follow], now: float, report: PollReport
    ) -> bool:
        """Deliver what each follow has not seen; False when ``ITEMS_PER_POLL`` cut it short."""
        delivered = 0
        keys = [it.key for it in parsed.items]
        unseen = {id(f): self.feeds.unseen(f, keys) for f in follows}
        undated = {id(f): 0 for f in follows}
        cutoff = now - BACKFILL_DAYS * 86400
        feed_title = parsed.title
        state = self.feeds.state(fid)
        feed_url = state.url if state else ""
        for item in parsed.items:
            if delivered >= ITEMS_PER_POLL:
                return False
            targets: list[list] = []  # [team, channel, may alert]
            handled: list[Follow] = []
            for f in follows:
                if item.key not in unseen[id(f)]:
                    continue
                handled.append(f)
                if item.published is not None and item.published < cutoff:
                    continue  # old news: seen, not delivered
                if not f.primed:
                    if item.published is None:
                        undated[id(f)] += 1
                        if undated[id(f)] > FIRST_POLL_UNDATED:
                            continue
                    targets.append([f.team, f.channel, False])
                    continue
                after_follow = item.published is None or item.published >= f.at
                targets.append([f.team, f.channel, after_follow])
            if targets:
                delivered += 1
                job = {"feed_title": feed_title, "feed_url": feed_url, "item": asdict(item),
                       "targets": targets}  # fmt: skip
                if self.dispatch is None:
                    done = self.deliver_item(**job)
                    for where, n in done.new.items():
                        report.new[where] = report.new.get(where, 0) + n
                    report.alerts.update(done.alerts)
                elif self.dispatch(job):
                    for team, channel, _ in targets:
                        where = f"{team}|{channel}"
                        report.queued[where] = report.queued.get(where, 0) + 1
                else:
                    raise RuntimeError("the job queue refused a feed item; the next poll retries")
            for f in handled:
                self.feeds.mark_seen(f, [item.key])
        return True

    def deliver_item(
        self, *, feed_title: str, feed_url: str, item: dict, targets: list[list]
    ) -> PollReport:
        """One item into the channels ``targets`` names (``[team, channel, may alert]``):
        read, summarize and tag it once per workspace, store it, alert. Safe to run twice."""
        feed_item = FeedItem(**item)
        report = PollReport("ok")
        article = self._article(feed_item)
        akey = (
            digest_key("u", feed_item.url)
            if feed_item.url
            else digest_key("t", feed_item.guid + feed_item.title)
        )
        records: dict[str, dict] = {}
        for team, channel, may_alert in targets:
            store = self.store_for(team)
            if team not in records:
                existing = store.get_article(akey)
                records[team] = existing or self._save(store, team, akey, article, feed_item)
            record = records[team]
            if not self.feeds.add_item(
                team, channel, akey, feed_title=feed_title, feed_url=feed_url
            ):
                continue  # already in the channel: shared there, or from another feed
            where = f"{team}|{channel}"
            report.new[where] = report.new.get(where, 0) + 1
            if may_alert:
                shown = alert_item_of(record, feed=feed_title)
                report.alerts[akey] = self.alerter.consider(team, channel, akey, record, shown)
        return report

    def _save(self, store: Store, team: str, akey: str, article: Article, item: FeedItem) -> dict:
        try:
            result = self.analyze(team, article)
        except InputError:
            result = {"title": item.title, "url": item.url, "summary": [], "topics": []}
        record = {k: result.get(k) for k in RECORD_FIELDS}
        record["url"] = record.get("url") or item.url
        record["saved_at"] = self.clock()
        store.save_article(akey, record)
        return record

    def _article(self, item: FeedItem) -> Article:
        """The feed's own text when it has the article; else the page (a teaser's link)."""
        published = _iso(item.published)
        if item.teaser and item.url:
            try:
                page = self.fetcher.fetch(item.url)
                article = extract_article(page.body, page.url, page.content_type, page.charset)
                article.title = item.title or article.title
                article.url = item.url
                article.published = article.published or published
                return article
            except InputError as exc:  # fetch refused/failed, or no article on the page
                log.info("feed item page unreadable (%s), using the feed's text", exc.code)
        text = item.text or item.title
        site = urlsplit(item.url).hostname if item.url else None
        return Article(text=text, title=item.title, url=item.url, site=site,
                       author=item.author or None, published=published)  # fmt: skip


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
