"""Redis storage: caches with TTLs, durable article/share records without, all under one prefix.

Key layout (``P`` = ``pd:{team_id}:`` or ``pd:cli:``). The braces are literal: a Redis Cluster
hash tag, so every key of one workspace lives on one slot and every multi-key script or
transaction below stays inside one workspace. Keys outside any workspace (``pd:index:*``, the
job queue's ``pd:{jobs}:*``) are only ever touched one key per command.

indexes (durable; replace whole-keyspace SCANs)
  pd:index:teams                   SET of workspaces with anything stored (pruning walks it)
  pd:index:scheduled               SET of workspaces with a schedule or an open slot (the sweep)

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
  P ch:{c}:share:{akey}            HASH reply_ts (the bot's summary reply), permalink, shared_at,
                                   reactions (on that reply)
  P ch:{c}:replies                 HASH reply ts -> akey (to count reactions on replies)
  P ch:{c}:sharers:{akey}          HASH message ts -> user id (one field per sharing message)
  P topics                         HASH topic id -> JSON list of the workspace's own phrases
  P ch:{c}:settings                HASH auto (and the digest fields of ``bot.delivery.ledger``)
  P ch:{c}:msg:{ts}                SET of akeys a message shared (for deletions)
  P ch:{c}:msgs                    ZSET message ts -> time (so pruning finds old msg sets)
  P user:{u}:shares                ZSET "channel|message ts|akey" -> time (the sharer's App Home)
  P users                          SET of users who shared (for pruning)
  P ch:{c}:deleted:{ts}            (TTL) a deleted message, so a summary in flight isn't saved
  P feedback, P feedback:{akey}    tag feedback votes (``bot.storage.feedback``), pruned with
                                   the article
  P ch:{c}:reacted:{ts}            (TTL) a message already summarized by reaction (dedupe)
Schedules, digest ledgers and the posting lock: see ``bot.delivery.ledger``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from digests.cluster import parse_published
from digests.models import SharedItem, TopicTag

log = logging.getLogger(__name__)

StoreError = redis.RedisError
StoreFull = redis.exceptions.OutOfMemoryError  # maxmemory reached under ``noeviction``
DAY = 86_400
FULL_TEXT = (
    "My storage is full, so nothing new can be saved (what is stored is kept, and summaries "
    "still work). An admin needs to give Redis more memory or lower RETENTION_DAYS."
)


def fail_open(op: Callable[[], Any], default: Any = None) -> Any:
    """Run a storage call whose failure must not stop the user's request (caches, dedup)."""
    try:
        return op()
    except StoreError as exc:
        log.warning("storage unavailable, carrying on without it: %s", exc)
        return default


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


INDEX_PREFIX = "pd:index:"
_LEGACY_TEAM = re.compile(r"^(?:[TE][A-Z0-9]+|local)$")  # Slack team/enterprise ids


def team_prefix(team: str) -> str:
    """``pd:{T123}:``: the braces make the workspace id a Redis Cluster hash tag."""
    return "pd:{" + team + "}:"


class Stores:
    """Hands out the per-workspace ``Store`` (or the CLI's), and reads the workspace indexes."""

    def __init__(self, client: redis.Redis | None, *, cli: bool = False) -> None:
        self.redis = client
        self.cli = cli

    def for_team(self, team: str | None) -> Store | None:
        if self.redis is None:
            return None
        if self.cli:
            return Store(self.redis, "pd:cli:")
        return Store.for_team(self.redis, team or "local")

    def indexed(self, name: str) -> list[str]:
        """Workspaces in an index: ``scheduled`` (the sweep) or ``teams`` (pruning)."""
        if self.redis is None:
            return []
        return sorted(self.redis.smembers(INDEX_PREFIX + name))

    def build_indexes(self) -> None:
        """Once per database: move keys written before the hash tag (``pd:T1:…``) under
        ``pd:{T1}:`` and fill the indexes. The only keyspace SCAN left, guarded by a marker."""
        r = self.redis
        if r is None or r.exists(INDEX_PREFIX + "built"):
            return
        if not r.set(INDEX_PREFIX + "building", "1", nx=True, ex=600):
            return  # another process is at it
        for key in r.scan_iter(match="pd:*", count=1000):
            _, team, rest = key.split(":", 2) if key.count(":") >= 2 else ("", "", "")
            if not _LEGACY_TEAM.match(team):
                continue  # already tagged, or not a workspace's (pd:cli:, pd:oauth:, pd:index:)
            new_key = team_prefix(team) + rest
            r.renamenx(key, new_key)
            if rest in ("channels", "articles", "schedules"):
                r.sadd(INDEX_PREFIX + "teams", team)
            if rest in ("schedules", "open"):
                r.sadd(INDEX_PREFIX + "scheduled", team)
        r.set(INDEX_PREFIX + "built", "1")
        r.delete(INDEX_PREFIX + "building")

    def unindex(self, name: str, team: str) -> None:
        if self.redis is not None:
            self.redis.srem(INDEX_PREFIX + name, team)


def digest_key(kind: str, value: str) -> str:
    """A short stable id: ``u`` + hash of a canonical URL, ``t`` + hash of a text.

    Text read with ``surrogateescape`` (undecodable bytes from a pipe) hashes too.
    """
    return kind + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:24]


@dataclass
class Share:
    """One article as shared in one channel."""

    akey: str
    shared_at: float
    reply_ts: str = ""  # the bot's summary reply in the thread of the first share
    permalink: str = ""
    sharers: dict[str, str] | None = None  # message ts -> user id
    reactions: int = 0
    feed: str = ""  # the feed's title, when a followed feed brought it (``bot.feeds``)

    @property
    def users(self) -> list[str]:
        seen: dict[str, None] = {}
        for user in (self.sharers or {}).values():
            seen.setdefault(user, None)
        return list(seen)


def item_from(share: Share, article: dict) -> SharedItem:
    """A stored share and its article record as the digest model sees them."""
    return SharedItem(
        key=share.akey,
        title=article.get("title") or "Untitled",
        summary=list(article.get("summary") or []),
        topics=[TopicTag(**t) for t in article.get("topics") or []],
        shared_at=share.shared_at,
        sharers=share.users,
        url=article.get("url"),
        site=article.get("site"),
        permalink=share.permalink or None,
        reactions=share.reactions,
        feed=share.feed or None,
        published=parse_published(article.get("published")),
    )


class Store:
    """All reads and writes of one workspace (or of the CLI) go through here."""

    def __init__(self, client: redis.Redis, prefix: str, team: str = "") -> None:
        self.r = client
        self.prefix = prefix
        self.team = team

    @classmethod
    def for_team(cls, client: redis.Redis, team_id: str) -> Store:
        team = team_id or "local"
        return cls(client, team_prefix(team), team)

    def index(self, *names: str) -> None:
        """Add this workspace to indexes (``teams``, ``scheduled``); the CLI is never indexed."""
        for name in names if self.team else ():
            self.r.sadd(INDEX_PREFIX + name, self.team)

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
        key, token = self.k("event", event_id), uuid.uuid4().hex
        # A unique value: if a timed-out SET was applied and then resent by the client's retry,
        # the key holds our own token, and this is still the first delivery.
        return bool(self.r.set(key, token, nx=True, ex=ttl)) or self.r.get(key) == token

    def hit(
        self,
        scope: str,
        ident: str,
        limit: int,
        window: int,
        *,
        amount: int = 1,
        now: float | None = None,
    ) -> bool:
        """Count ``amount`` uses in a fixed window; False once ``limit`` is exceeded."""
        now = time.time() if now is None else now
        key = self.k("rate", scope, ident, str(int(now // window)))
        pipe = self.r.pipeline(transaction=True)
        pipe.incrby(key, amount)
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
            reply_ts=info.get("reply_ts", ""),
            permalink=info.get("permalink", ""),
            sharers=sharers,
            reactions=max(0, int(info.get("reactions", 0))),
            feed=info.get("feed", ""),
        )

    def add_share(
        self,
        channel: str,
        akey: str,
        *,
        user: str,
        message_ts: str,
        reply_ts: str = "",
        permalink: str = "",
        now: float | None = None,
    ) -> bool:
        """Record that ``user`` shared ``akey`` in ``channel``; True when it is new there."""
        now = time.time() if now is None else now
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(self.k("ch", channel, "shares"), {akey: now}, nx=True)
        share_key = self.k("ch", channel, "share", akey)
        pipe.hsetnx(share_key, "shared_at", str(now))
        if reply_ts:
            pipe.hsetnx(share_key, "reply_ts", reply_ts)
            pipe.hsetnx(self.k("ch", channel, "replies"), reply_ts, akey)
        if permalink:
            pipe.hsetnx(share_key, "permalink", permalink)
        pipe.hset(self.k("ch", channel, "sharers", akey), message_ts, user)
        pipe.sadd(self.k("channels"), channel)
        pipe.zadd(self.k("articles"), {akey: now})
        pipe.sadd(self.k("ch", channel, "msg", message_ts), akey)
        pipe.zadd(self.k("ch", channel, "msgs"), {message_ts: now})
        pipe.zadd(self.k("user", user, "shares"), {f"{channel}|{message_ts}|{akey}": now})
        pipe.sadd(self.k("users"), user)
        new = bool(pipe.execute()[0])
        self.index("teams")
        return new

    def user_shares(self, user: str, limit: int = 20) -> list[tuple[str, Share]]:
        """The user's own shares, newest first, across channels (only for their App Home).

        Entries whose share was deleted or forgotten since are skipped and dropped.
        """
        key = self.k("user", user, "shares")
        out: list[tuple[str, Share]] = []
        for member in self.r.zrevrange(key, 0, limit * 3):
            channel, message_ts, akey = member.split("|", 2)
            if self.r.hget(self.k("ch", channel, "sharers", akey), message_ts) != user:
                self.r.zrem(key, member)
                continue
            share = self.get_share(channel, akey)
            if share is not None:
                out.append((channel, share))
            if len(out) == limit:
                break
        return out

    def remove_message(self, channel: str, message_ts: str) -> list[str]:
        """A deleted Slack message takes its shares with it; returns the akeys dropped entirely.

        Atomic (one script), so a concurrent share of the same article is never wiped; a marker
        tells a summary still in progress for this message not to save it.
        """
        dropped = self.r.eval(
            _REMOVE_MESSAGE, 1, self.k("ch", channel, "msg", message_ts), self.k("ch", channel, ""),
            message_ts, DELETED_MARK_SECONDS,
        )  # fmt: skip
        return sorted(dropped)

    def was_deleted(self, channel: str, message_ts: str) -> bool:
        return bool(self.r.exists(self.k("ch", channel, "deleted", message_ts)))

    def akeys_at(self, channel: str, ts: str) -> set[str]:
        """The articles a message shared, or the one a bot reply summarized (``forget`` by link)."""
        reply = self.r.hget(self.k("ch", channel, "replies"), ts)
        return {reply} if reply else set(self.r.smembers(self.k("ch", channel, "msg", ts)))

    def forget(self, channel: str, akey: str) -> bool:
        """Remove an article's share from one channel; True when there was one."""
        pipe = self.r.pipeline(transaction=True)
        pipe.zrem(self.k("ch", channel, "shares"), akey)
        pipe.delete(self.k("ch", channel, "share", akey))
        pipe.delete(self.k("ch", channel, "sharers", akey))
        return bool(pipe.execute()[0])

    def count_reaction(self, channel: str, reply_ts: str, delta: int) -> bool:
        """A reaction added (+1) or removed (-1) on one of the bot's summary replies."""
        akey = self.r.hget(self.k("ch", channel, "replies"), reply_ts)
        if akey is None or self.r.zscore(self.k("ch", channel, "shares"), akey) is None:
            return False
        self.r.hincrby(self.k("ch", channel, "share", akey), "reactions", delta)
        return True

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
            messages = self.k("ch", channel, "msgs")
            for ts in self.r.zrangebyscore(messages, "-inf", f"({cutoff}"):
                self.r.delete(self.k("ch", channel, "msg", ts))
                self.r.zrem(messages, ts)
        for user in self.r.smembers(self.k("users")):
            self.r.zremrangebyscore(self.k("user", user, "shares"), "-inf", f"({cutoff}")
        old_articles = self.r.zrangebyscore(self.k("articles"), "-inf", f"({cutoff}")
        for akey in old_articles:
            self.r.delete(self.k("article", akey), self.k("feedback", akey))  # votes go with it
            self.r.zrem(self.k("articles"), akey)
            self.r.zrem(self.k("feedback"), akey)
            removed += 1
        return removed


DELETED_MARK_SECONDS = 3600
# KEYS[1]: the message's akey set; ARGV: the channel's key prefix, the message ts, marker TTL.
_REMOVE_MESSAGE = """
local prefix = ARGV[1]
local ts = ARGV[2]
redis.call('set', prefix .. 'deleted:' .. ts, '1', 'EX', ARGV[3])
local dropped = {}
for _, akey in ipairs(redis.call('smembers', KEYS[1])) do
  local sharers = prefix .. 'sharers:' .. akey
  redis.call('hdel', sharers, ts)
  if redis.call('hlen', sharers) == 0 then
    redis.call('zrem', prefix .. 'shares', akey)
    redis.call('del', prefix .. 'share:' .. akey, sharers)
    table.insert(dropped, akey)
  end
end
redis.call('del', KEYS[1])
redis.call('zrem', prefix .. 'msgs', ts)
return dropped
"""
