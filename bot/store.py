"""Redis storage: caches with TTLs, durable article/share records without, all under one prefix.

Key layout (``P`` = ``pd:{team_id}:`` or ``pd:cli:``):

caches (TTL)
  P result:{source}:{method}:{n}   a finished summary result (JSON)
  P page:{urlhash}                 an extracted page (JSON), so a new length does not refetch
  P event:{event_id}               Slack event dedup marker
durable (no TTL; pruned by ``prune``)
  P article:{akey}                 the article record (JSON)
  P articles                       ZSET akey -> last time it was saved or shared
  P channels                       SET of channels with shares
  P ch:{c}:shares                  ZSET akey -> first time shared in the channel
  P ch:{c}:share:{akey}            HASH thread_ts, permalink, shared_at
  P ch:{c}:sharers:{akey}          HASH message ts -> user id (one field per sharing message)
  P ch:{c}:msg:{ts}                SET of akeys a message shared (for deletions)
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

StoreError = redis.RedisError
DAY = 86_400


def connect(url: str, *, timeout: float = 0.5) -> redis.Redis:
    """A client with tight timeouts: the request path must never wait seconds on Redis."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
        decode_responses=True,
        health_check_interval=30,
    )


def digest_key(kind: str, value: str) -> str:
    """A short stable id: ``u`` + hash of a canonical URL, ``t`` + hash of a text."""
    return kind + hashlib.sha256(value.encode("utf-8")).hexdigest()[:24]


@dataclass
class Share:
    """One article as shared in one channel."""

    akey: str
    shared_at: float
    thread_ts: str = ""
    permalink: str = ""
    sharers: dict[str, str] | None = None  # message ts -> user id

    @property
    def users(self) -> list[str]:
        seen: dict[str, None] = {}
        for user in (self.sharers or {}).values():
            seen.setdefault(user, None)
        return list(seen)


class Store:
    """All reads and writes of one workspace (or of the CLI) go through here."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r = client
        self.prefix = prefix

    @classmethod
    def for_team(cls, client: redis.Redis, team_id: str) -> Store:
        return cls(client, f"pd:{team_id or 'local'}:")

    def k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def ping(self) -> bool:
        try:
            return bool(self.r.ping())
        except StoreError:
            return False

    # -- caches ---------------------------------------------------------------------------------

    def get_json(self, key: str) -> Any:
        raw = self.r.get(key)
        return None if raw is None else json.loads(raw)

    def cached_result(self, source: str, method: str, n: int | None) -> dict | None:
        return self.get_json(self.k("result", source, method, str(n or 0)))

    def cache_result(
        self, source: str, method: str, n: int | None, result: dict, ttl: int
    ) -> None:
        self.r.set(self.k("result", source, method, str(n or 0)), json.dumps(result), ex=ttl)

    def cached_page(self, url_key: str) -> dict | None:
        return self.get_json(self.k("page", url_key))

    def cache_page(self, url_key: str, page: dict, ttl: int) -> None:
        self.r.set(self.k("page", url_key), json.dumps(page), ex=ttl)

    def first_delivery(self, event_id: str, ttl: int = 3600) -> bool:
        """Mark an event as being handled; False when it already was (a retry)."""
        return bool(self.r.set(self.k("event", event_id), "1", nx=True, ex=ttl))

    # -- articles and shares (durable) ----------------------------------------------------------

    def save_article(self, akey: str, record: dict, now: float | None = None) -> None:
        now = time.time() if now is None else now
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self.k("article", akey), json.dumps(record))
        pipe.zadd(self.k("articles"), {akey: now})
        pipe.execute()

    def get_article(self, akey: str) -> dict | None:
        return self.get_json(self.k("article", akey))

    def get_articles(self, akeys: list[str]) -> list[dict | None]:
        if not akeys:
            return []
        raws = self.r.mget([self.k("article", a) for a in akeys])
        return [None if raw is None else json.loads(raw) for raw in raws]

    def get_share(self, channel: str, akey: str) -> Share | None:
        first = self.r.zscore(self.k("ch", channel, "shares"), akey)
        if first is None:
            return None
        info = self.r.hgetall(self.k("ch", channel, "share", akey))
        sharers = self.r.hgetall(self.k("ch", channel, "sharers", akey))
        return Share(
            akey=akey,
            shared_at=float(first),
            thread_ts=info.get("thread_ts", ""),
            permalink=info.get("permalink", ""),
            sharers=sharers,
        )

    def add_share(
        self,
        channel: str,
        akey: str,
        *,
        user: str,
        message_ts: str,
        thread_ts: str = "",
        permalink: str = "",
        now: float | None = None,
    ) -> bool:
        """Record that ``user`` shared ``akey`` in ``channel``; True when it is new there."""
        now = time.time() if now is None else now
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(self.k("ch", channel, "shares"), {akey: now}, nx=True)
        share_key = self.k("ch", channel, "share", akey)
        pipe.hsetnx(share_key, "shared_at", str(now))
        if thread_ts:
            pipe.hsetnx(share_key, "thread_ts", thread_ts)
        if permalink:
            pipe.hsetnx(share_key, "permalink", permalink)
        pipe.hset(self.k("ch", channel, "sharers", akey), message_ts, user)
        pipe.sadd(self.k("channels"), channel)
        pipe.zadd(self.k("articles"), {akey: now})
        added = pipe.execute()[0]
        self._remember_message(channel, message_ts, akey)
        return bool(added)

    def set_thread(self, channel: str, akey: str, thread_ts: str, permalink: str = "") -> None:
        """Where the bot's reply for this share lives (known only after posting)."""
        mapping = {"thread_ts": thread_ts}
        if permalink:
            mapping["permalink"] = permalink
        self.r.hset(self.k("ch", channel, "share", akey), mapping=mapping)

    def _remember_message(self, channel: str, message_ts: str, akey: str) -> None:
        self.r.sadd(self.k("ch", channel, "msg", message_ts), akey)

    def remove_message(self, channel: str, message_ts: str) -> list[str]:
        """A deleted Slack message takes its shares with it; returns the akeys dropped entirely."""
        key = self.k("ch", channel, "msg", message_ts)
        dropped = []
        for akey in sorted(self.r.smembers(key)):
            sharers_key = self.k("ch", channel, "sharers", akey)
            self.r.hdel(sharers_key, message_ts)
            if not self.r.hlen(sharers_key):
                self.forget(channel, akey)
                dropped.append(akey)
        self.r.delete(key)
        return dropped

    def forget(self, channel: str, akey: str) -> bool:
        """Remove an article's share from one channel; True when there was one."""
        pipe = self.r.pipeline(transaction=True)
        pipe.zrem(self.k("ch", channel, "shares"), akey)
        pipe.delete(self.k("ch", channel, "share", akey))
        pipe.delete(self.k("ch", channel, "sharers", akey))
        return bool(pipe.execute()[0])

    def shares_between(
        self, channel: str, since: float, until: float, limit: int | None = None
    ) -> list[Share]:
        """Shares first made in [since, until), newest first."""
        akeys = self.r.zrevrangebyscore(
            self.k("ch", channel, "shares"),
            f"({until}",
            since,
            start=0 if limit else None,
            num=limit,
        )
        shares = [self.get_share(channel, akey) for akey in akeys]
        return [s for s in shares if s is not None]

    # -- retention ------------------------------------------------------------------------------

    def prune(self, retention_days: int, now: float | None = None) -> int:
        """Drop shares and articles older than the retention period; returns records removed."""
        now = time.time() if now is None else now
        cutoff = now - retention_days * DAY
        removed = 0
        for channel in self.r.smembers(self.k("channels")):
            old = self.r.zrangebyscore(self.k("ch", channel, "shares"), "-inf", f"({cutoff}")
            for akey in old:
                removed += self.forget(channel, akey)
            for key in self.r.scan_iter(match=self.k("ch", channel, "msg", "*"), count=500):
                akeys = self.r.smembers(key)
                if not any(self.r.zscore(self.k("ch", channel, "shares"), a) for a in akeys):
                    self.r.delete(key)
        old_articles = self.r.zrangebyscore(self.k("articles"), "-inf", f"({cutoff}")
        for akey in old_articles:
            self.r.delete(self.k("article", akey))
            self.r.zrem(self.k("articles"), akey)
            removed += 1
        return removed
