"""Redis records for feeds: one state per feed URL (shared by every channel that follows it),
and per channel its follows, what each follow has seen, its alert rules and alert claims.

Global keys (one poll of a feed serves every follower; feeds are public pages, and nothing here
is shown to another workspace). The braces are Redis Cluster hash tags: one feed's keys share a
slot, and the one-time key migration of ``Stores.build_indexes`` leaves them alone:

  pd:{feed:FID}:state        HASH url, title, site, etag, modified, last_poll, result
                             (ok|not_modified|error), message, new, failures, status
  pd:{feed:FID}:subs         SET "team|channel" following it
  pd:{feed:FID}:items        ZSET item key -> published (else first seen); last 1000 (7-day counts)
  pd:{feeds}:due             ZSET fid -> when it is next due (the clock's sweep reads this)
  pd:{feeds}:lease:FID       (TTL) a poll in progress
  pd:{feeds}:host:HOST       (TTL) the host was just polled (per-host politeness)

Per workspace (``P`` = the workspace's prefix, as ``bot.store``):

  P ch:{c}:follows           HASH fid -> JSON {url, title, at, by, primed}
  P feedchannels             SET of channels with a follow (the App Home lists them)
  P ch:{c}:feedseen:{fid}    ZSET item key -> when handled (last 1000): a follow sees an item once
  P ch:{c}:alerts            HASH rule key -> JSON {kind, value, by, at}
  P ch:{c}:alerted           ZSET akey -> when (last 5000): each item gets at most one alert
  P ch:{c}:alertcount:{hour} (TTL) alerts this clock hour
  P ch:{c}:alertmore:{hour}  (TTL) LIST of the hour's alerts past the cap; ``…:ts`` its message

A feed item in a channel is a share record like any other (``P ch:{c}:shares``, ``…:share:{akey}``
with ``feed`` and ``feed_url``), so digests, ``recent``, ``forget`` and retention treat it alike.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from bot.storage.store import Store, StoreError

log = logging.getLogger(__name__)

FEEDS = "pd:{feeds}:"
DUE = FEEDS + "due"
SEEN_KEEP = 1000
ALERTED_KEEP = 5000
HOUR = 3600


def feed_id(url: str) -> str:
    """A feed is named by its canonical URL's hash (one state however many follow it)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:20]


@dataclass
class Follow:
    """One channel following one feed."""

    team: str
    channel: str
    fid: str
    url: str
    title: str
    at: float  # when the follow was made: nothing published before it is alerted
    by: str = ""
    primed: bool = False  # its first poll is done (from then on, new items may alert)


@dataclass
class FeedState:
    url: str
    title: str = ""
    site: str = ""
    etag: str = ""
    modified: str = ""
    last_poll: float | None = None
    result: str = ""  # ok | not_modified | error
    message: str = ""
    new: int = 0
    failures: int = 0
    status: str = ""  # ok | malformed

    @property
    def failing(self) -> bool:
        return self.result == "error"


class FeedStore:
    """Feed state and follows. ``store_for(team)`` gives a workspace's ``Store``."""

    def __init__(
        self,
        client: redis.Redis,
        store_for: Callable[[str], Store],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.r = client
        self.store_for = store_for
        self.clock = clock

    # -- feeds --------------------------------------------------------------------------------

    @staticmethod
    def _fk(fid: str, part: str) -> str:
        return "pd:{feed:" + fid + "}:" + part

    def state(self, fid: str) -> FeedState | None:
        raw = self.r.hgetall(self._fk(fid, "state"))
        if not raw:
            return None
        return FeedState(
            url=raw.get("url", ""),
            title=raw.get("title", ""),
            site=raw.get("site", ""),
            etag=raw.get("etag", ""),
            modified=raw.get("modified", ""),
            last_poll=float(raw["last_poll"]) if raw.get("last_poll") else None,
            result=raw.get("result", ""),
            message=raw.get("message", ""),
            new=int(raw.get("new", 0)),
            failures=int(raw.get("failures", 0)),
            status=raw.get("status", ""),
        )

    def ensure_feed(self, url: str, title: str, site: str = "") -> str:
        fid = feed_id(url)
        key = self._fk(fid, "state")
        pipe = self.r.pipeline(transaction=True)
        pipe.hsetnx(key, "url", url)
        pipe.hset(key, mapping={"title": title, "site": site})
        pipe.execute()
        return fid

    def record_poll(
        self,
        fid: str,
        *,
        result: str,
        next_due: float,
        message: str = "",
        new: int = 0,
        etag: str | None = None,
        modified: str | None = None,
        status: str = "",
        title: str = "",
    ) -> int:
        """Save a poll's outcome and when the feed is next due; returns the failure count."""
        key = self._fk(fid, "state")
        fields: dict[str, str] = {
            "last_poll": str(self.clock()),
            "result": result,
            "message": message,
            "new": str(new),
        }
        if status:
            fields["status"] = status
        if title:
            fields["title"] = title
        if etag is not None:
            fields["etag"] = etag
        if modified is not None:
            fields["modified"] = modified
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(key, mapping=fields)
        if result == "error":
            pipe.hincrby(key, "failures", 1)
        else:
            pipe.hset(key, "failures", 0)
        pipe.zadd(DUE, {fid: next_due})
        out = pipe.execute()
        return int(out[1]) if result == "error" else 0

    def schedule(self, fid: str, when: float) -> None:
        self.r.zadd(DUE, {fid: when})

    def unschedule(self, fid: str) -> None:
        self.r.zrem(DUE, fid)

    def forget_feed(self, fid: str) -> None:
        """Nobody follows it any more (unfollowed, or the workspaces uninstalled)."""
        self.r.zrem(DUE, fid)
        self.r.delete(self._fk(fid, "state"), self._fk(fid, "items"), self._fk(fid, "subs"))

    def due(self, now: float, limit: int = 200) -> list[str]:
        return self.r.zrangebyscore(DUE, "-inf", now, start=0, num=limit)

    def take_lease(self, fid: str, seconds: int) -> bool:
        return bool(self.r.set(f"{FEEDS}lease:{fid}", "1", nx=True, ex=seconds))

    def drop_lease(self, fid: str) -> None:
        self.r.delete(f"{FEEDS}lease:{fid}")

    def take_host(self, host: str, gap_ms: int) -> bool:
        """True when ``host`` was not polled in the last ``gap_ms`` (and marks it polled)."""
        if gap_ms <= 0:
            return True
        return bool(self.r.set(f"{FEEDS}host:{host}", "1", nx=True, px=gap_ms))

    def note_items(self, fid: str, scored: dict[str, float]) -> None:
        """Remember the feed's items (published, else first seen) for ``following``'s count."""
        if not scored:
            return
        key = self._fk(fid, "items")
        pipe = self.r.pipeline(transaction=False)
        pipe.zadd(key, scored, nx=True)
        pipe.zremrangebyrank(key, 0, -SEEN_KEEP - 1)
        pipe.execute()

    def items_since(self, fid: str, since: float) -> int:
        return int(self.r.zcount(self._fk(fid, "items"), since, "+inf"))

    # -- follows ------------------------------------------------------------------------------

    def follow(self, f: Follow) -> bool:
        """Record the follow; True when the channel did not follow this feed yet."""
        store = self.store_for(f.team)
        record = {"url": f.url, "title": f.title, "at": f.at, "by": f.by, "primed": f.primed}
        new = bool(store.r.hsetnx(store.k("ch", f.channel, "follows"), f.fid, json.dumps(record)))
        if new:
            self.r.sadd(self._fk(f.fid, "subs"), f"{f.team}|{f.channel}")
            store.r.sadd(store.k("channels"), f.channel)
            store.r.sadd(store.k("feedchannels"), f.channel)
        return new

    def unfollow(self, team: str, channel: str, fid: str) -> bool:
        store = self.store_for(team)
        gone = bool(store.r.hdel(store.k("ch", channel, "follows"), fid))
        store.r.delete(store.k("ch", channel, "feedseen", fid))
        if not store.r.hlen(store.k("ch", channel, "follows")):
            store.r.srem(store.k("feedchannels"), channel)
        self.r.srem(self._fk(fid, "subs"), f"{team}|{channel}")
        if not self.r.scard(self._fk(fid, "subs")):
            self.forget_feed(fid)
        return gone

    def follows(self, team: str, channel: str) -> list[Follow]:
        """The channel's follows, oldest first (``following`` numbers them in this order)."""
        store = self.store_for(team)
        raw = store.r.hgetall(store.k("ch", channel, "follows"))
        out = [_follow(team, channel, fid, json.loads(v)) for fid, v in raw.items()]
        return sorted(out, key=lambda f: (f.at, f.url))

    def home_feeds(self, team: str) -> list[tuple[str, str]] | None:
        """(channel, feed title) for the workspace's App Home; None when storage is down."""
        try:
            store = self.store_for(team)
            return [(f.channel, f.title or f.url)
                    for channel in sorted(store.r.smembers(store.k("feedchannels")))
                    for f in self.follows(team, channel)]  # fmt: skip
        except StoreError as exc:
            log.warning("followed feeds unavailable for the Home of %s: %s", team, exc)
            return None

    def followers(self, fid: str) -> list[Follow]:
        """Every channel following the feed. A subscription whose workspace record is gone
        (unfollowed elsewhere, or the workspace uninstalled and deleted) is dropped here."""
        out = []
        for member in sorted(self.r.smembers(self._fk(fid, "subs"))):
            team, _, channel = member.partition("|")
            store = self.store_for(team)
            raw = store.r.hget(store.k("ch", channel, "follows"), fid)
            if raw is None:
                self.r.srem(self._fk(fid, "subs"), member)
                continue
            out.append(_follow(team, channel, fid, json.loads(raw)))
        return out

    def mark_primed(self, f: Follow) -> None:
        store = self.store_for(f.team)
        key = store.k("ch", f.channel, "follows")
        raw = store.r.hget(key, f.fid)
        if raw is None:
            return
        record = json.loads(raw)
        if not record.get("primed"):
            record["primed"] = True
            store.r.hset(key, f.fid, json.dumps(record))

    def unseen(self, f: Follow, keys: list[str]) -> set[str]:
        """The item keys this follow has not handled yet."""
        if not keys:
            return set()
        store = self.store_for(f.team)
        scores = store.r.zmscore(store.k("ch", f.channel, "feedseen", f.fid), keys)
        return {k for k, s in zip(keys, scores, strict=True) if s is None}

    def mark_seen(self, f: Follow, keys: list[str]) -> None:
        if not keys:
            return
        store = self.store_for(f.team)
        key = store.k("ch", f.channel, "feedseen", f.fid)
        now = self.clock()
        pipe = store.r.pipeline(transaction=False)
        pipe.zadd(key, dict.fromkeys(keys, now), nx=True)
        pipe.zremrangebyrank(key, 0, -SEEN_KEEP - 1)
        pipe.execute()

    # -- feed items in a channel ----------------------------------------------------------------

    def add_item(
        self, team: str, channel: str, akey: str, *, feed_title: str, feed_url: str
    ) -> bool:
        """Put a feed item in the channel (a share with no sharer, marked with its feed); False
        when the article is already there (shared by someone, or from another feed)."""
        store = self.store_for(team)
        now = self.clock()
        pipe = store.r.pipeline(transaction=True)
        pipe.zadd(store.k("ch", channel, "shares"), {akey: now}, nx=True)
        pipe.sadd(store.k("channels"), channel)
        pipe.zadd(store.k("articles"), {akey: now})
        new = bool(pipe.execute()[0])
        store.index("teams")  # pruning walks this index
        if new:
            store.r.hset(
                store.k("ch", channel, "share", akey),
                mapping={"shared_at": str(now), "feed": feed_title, "feed_url": feed_url},
            )
        return new

    # -- alerts ---------------------------------------------------------------------------------

    def alert_rules(self, team: str, channel: str) -> list[dict]:
        store = self.store_for(team)
        raw = store.r.hgetall(store.k("ch", channel, "alerts"))
        return sorted((json.loads(v) for v in raw.values()), key=lambda r: r.get("at", 0))

    def set_alert(self, team: str, channel: str, key: str, record: dict | None) -> bool:
        """Add (``record``) or remove (``None``) a rule; True when that changed anything."""
        store = self.store_for(team)
        name = store.k("ch", channel, "alerts")
        if record is None:
            return bool(store.r.hdel(name, key))
        return bool(store.r.hset(name, key, json.dumps(record)))

    def claim_alert(self, team: str, channel: str, akey: str) -> bool:
        """True once per item and channel: whoever claims first posts the alert."""
        store = self.store_for(team)
        key = store.k("ch", channel, "alerted")
        claimed = bool(store.r.zadd(key, {akey: self.clock()}, nx=True))
        if claimed:
            store.r.zremrangebyrank(key, 0, -ALERTED_KEEP - 1)
        return claimed

    def count_alert(self, team: str, channel: str) -> tuple[int, int]:
        """This alert's number within the channel's clock hour, and the hour."""
        store = self.store_for(team)
        hour = int(self.clock() // HOUR)
        key = store.k("ch", channel, "alertcount", str(hour))
        pipe = store.r.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, 2 * HOUR)
        return int(pipe.execute()[0]), hour

    def push_more(self, team: str, channel: str, hour: int, title: str, url: str) -> int:
        store = self.store_for(team)
        key = store.k("ch", channel, "alertmore", str(hour))
        pipe = store.r.pipeline(transaction=True)
        pipe.rpush(key, json.dumps([title, url]))
        pipe.expire(key, 2 * HOUR)
        return int(pipe.execute()[0])

    def more_list(self, team: str, channel: str, hour: int) -> list[tuple[str, str | None]]:
        store = self.store_for(team)
        raw = store.r.lrange(store.k("ch", channel, "alertmore", str(hour)), 0, -1)
        return [tuple(json.loads(x)) for x in raw]

    def more_ts(self, team: str, channel: str, hour: int, ts: str | None = None) -> str | None:
        """The hour's "N more" message ts (set it by passing ``ts``)."""
        store = self.store_for(team)
        key = store.k("ch", channel, "alertmore", str(hour), "ts")
        if ts is not None:
            store.r.set(key, ts, ex=2 * HOUR)
            return ts
        return store.r.get(key)


def _follow(team: str, channel: str, fid: str, record: dict) -> Follow:
    return Follow(
        team=team,
        channel=channel,
        fid=fid,
        url=record.get("url", ""),
        title=record.get("title", ""),
        at=float(record.get("at", 0)),
        by=record.get("by", ""),
        primed=bool(record.get("primed")),
    )
