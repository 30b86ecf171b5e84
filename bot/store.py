"""Redis storage: caches with TTLs, durable article/share records without, all under one prefix.

Key layout (``P`` = ``pd:{team_id}:`` or ``pd:cli:``):

caches (TTL)
  P result:{source}:{method}:{n}   a finished summary result (JSON)
  P page:{urlhash}                 an extracted page (JSON), so a new length does not refetch
  P event:{event_id}               Slack event dedup marker
  P rate:{scope}:{id}:{window}     rate-limit counters
durable (no TTL; pruned by ``prune``)
  P article:{akey}                 the article record (JSON)
  P articles                       ZSET akey -> last time it was saved or shared
  P channels                       SET of channels with shares
  P ch:{c}:shares                  ZSET akey -> first time shared in the channel
  P ch:{c}:share:{akey}            HASH thread_ts, permalink, shared_at
  P ch:{c}:sharers:{akey}          HASH message ts -> user id (one field per sharing message)
  P topics                         HASH topic id -> JSON list of the workspace's own phrases
  P ch:{c}:settings                HASH auto, schedule (JSON), last_digest
  P ch:{c}:msg:{ts}                SET of akeys a message shared (for deletions)
  P schedules                      HASH channel -> schedule (JSON)
  P ledger:{c}:{slot}              HASH state, owner, claimed_at, plan (JSON), try:{i}, part:{i}
lease (TTL, renewed while held)
  P lock:{c}                       the channel's posting lock
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

    def cache_result(self, source: str, method: str, n: int | None, result: dict, ttl: int) -> None:
        self.r.set(self.k("result", source, method, str(n or 0)), json.dumps(result), ex=ttl)

    def cached_page(self, url_key: str) -> dict | None:
        return self.get_json(self.k("page", url_key))

    def cache_page(self, url_key: str, page: dict, ttl: int) -> None:
        self.r.set(self.k("page", url_key), json.dumps(page), ex=ttl)

    def first_delivery(self, event_id: str, ttl: int = 3600) -> bool:
        """Mark an event as being handled; False when it already was (a retry)."""
        return bool(self.r.set(self.k("event", event_id), "1", nx=True, ex=ttl))

    def hit(
        self, scope: str, ident: str, limit: int, window: int, now: float | None = None
    ) -> bool:
        """Count one use in a fixed window; False once ``limit`` is exceeded."""
        now = time.time() if now is None else now
        key = self.k("rate", scope, ident, str(int(now // window)))
        pipe = self.r.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, window * 2)
        return pipe.execute()[0] <= limit

    # -- settings (durable) ---------------------------------------------------------------------

    def channel_setting(self, channel: str, name: str) -> str | None:
        return self.r.hget(self.k("ch", channel, "settings"), name)

    def set_channel_setting(self, channel: str, name: str, value: str | None) -> None:
        key = self.k("ch", channel, "settings")
        if value is None:
            self.r.hdel(key, name)
        else:
            self.r.hset(key, name, value)
            self.r.sadd(self.k("channels"), channel)

    def team_topics(self) -> dict[str, list[str]]:
        return {tid: json.loads(raw) for tid, raw in self.r.hgetall(self.k("topics")).items()}

    def set_team_topic(self, topic: str, phrases: list[str] | None) -> None:
        if phrases:
            self.r.hset(self.k("topics"), topic, json.dumps(phrases))
        else:
            self.r.hdel(self.k("topics"), topic)

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


_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class ChannelLock:
    """A per-channel posting lock with a lease: a holder that dies lets the next one in."""

    def __init__(self, store: Store, channel: str, owner: str, lease_ms: int = 60_000) -> None:
        self.store = store
        self.key = store.k("lock", channel)
        self.owner = owner
        self.lease_ms = lease_ms

    def acquire(self) -> bool:
        return bool(self.store.r.set(self.key, self.owner, nx=True, px=self.lease_ms))

    def renew(self) -> bool:
        """Extend the lease; False when it was lost (expired and taken), so stop posting."""
        return bool(self.store.r.eval(_RENEW, 1, self.key, self.owner, self.lease_ms))

    def release(self) -> None:
        self.store.r.eval(_RELEASE, 1, self.key, self.owner)


class Schedules:
    """Schedules, the digest ledger and the channel's "last digest" mark, for one workspace."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.r = store.r

    def get(self, channel: str) -> dict | None:
        raw = self.r.hget(self.store.k("schedules"), channel)
        return None if raw is None else json.loads(raw)

    def set(self, channel: str, schedule: dict | None) -> None:
        if schedule is None:
            self.r.hdel(self.store.k("schedules"), channel)
        else:
            self.r.hset(self.store.k("schedules"), channel, json.dumps(schedule))

    def all(self) -> dict[str, dict]:
        return {c: json.loads(v) for c, v in self.r.hgetall(self.store.k("schedules")).items()}

    def last_digest(self, channel: str) -> float | None:
        raw = self.store.channel_setting(channel, "last_digest")
        return None if raw is None else float(raw)

    def set_last_digest(self, channel: str, at: float) -> None:
        self.store.set_channel_setting(channel, "last_digest", repr(at))

    # -- ledger ---------------------------------------------------------------------------------

    def ledger_key(self, channel: str, slot: str) -> str:
        return self.store.k("ledger", channel, slot)

    def ledger(self, channel: str, slot: str) -> dict[str, str]:
        return self.r.hgetall(self.ledger_key(channel, slot))

    def claim(
        self, channel: str, slot: str, owner: str, plan: dict | None, now: float
    ) -> dict[str, str]:
        """Claim a slot (an earlier claimant's plan, if any, wins) and return its ledger."""
        key = self.ledger_key(channel, slot)
        pipe = self.r.pipeline(transaction=True)
        if plan is not None:
            pipe.hsetnx(key, "plan", json.dumps(plan))
        pipe.hsetnx(key, "claimed_at", repr(now))
        pipe.hsetnx(key, "state", "claimed")
        pipe.hset(key, "owner", owner)
        pipe.execute()
        return self.r.hgetall(key)

    def mark_try(self, channel: str, slot: str, part: int) -> None:
        self.r.hset(self.ledger_key(channel, slot), f"try:{part}", "1")

    def mark_part(self, channel: str, slot: str, part: int, ts: str) -> None:
        self.r.hset(self.ledger_key(channel, slot), f"part:{part}", ts)

    def mark_done(self, channel: str, slot: str, until: float, now: float) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(self.ledger_key(channel, slot), mapping={"state": "done", "done_at": repr(now)})
        pipe.hset(self.store.k("ch", channel, "settings"), "last_digest", repr(until))
        pipe.execute()

    def prune_ledger(self, before: float) -> int:
        removed = 0
        for key in self.r.scan_iter(match=self.store.k("ledger", "*"), count=500):
            done_at = self.r.hget(key, "done_at")
            if done_at is not None and float(done_at) < before:
                removed += self.r.delete(key)
        return removed
