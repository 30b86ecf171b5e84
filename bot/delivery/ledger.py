"""Schedules, the per-slot digest ledger, the channel's "last digest" mark and its posting lock.

Keys (``P`` = ``pd:{team_id}:``), all durable but the lock:
  P schedules               HASH channel -> schedule (JSON)
  P ch:{c}:settings         HASH … last_digest (only ever moves forward), open_slot, carry_from
  P open                    SET of channels whose open_slot is not finished
  P ledger:{c}:{slot}       HASH state (claimed|done|failed), owner, claimed_at, plan (JSON),
                            try:{i} (when a post of part i was sent), part:{i} (its ts),
                            attempts, retry_at
  P ledgers                 ZSET "channel|slot" -> claim time (pruning reads it, no SCAN)
  P lock:{c}                the posting lock (a lease, renewed by a heartbeat while held)
  P ch:{c}:periods          HASH slot -> the posted digest's period record (JSON: since, until,
                            stories per topic, labels, total; ``digests.changes.PeriodRecord``),
                            the newest ``KEEP_PERIODS`` only: "what changed" and the trend chart
"""

from __future__ import annotations

import json
import logging
import threading

from bot.storage.store import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # then the slot is given up; its items fall into the next digest
KEEP_PERIODS = 12  # period records kept per channel (the chart draws 8)

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
# KEYS: lock, ledger. ARGV: owner, part. What the ledger says of a part, if we still hold the lock.
_BEGIN_PART = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then
  return {'lost', ''}
end
local ts = redis.call('hget', KEYS[2], 'part:' .. ARGV[2])
if ts then
  return {'posted', ts}
end
local tried = redis.call('hget', KEYS[2], 'try:' .. ARGV[2])
if tried then
  return {'tried', tried}
end
return {'new', ''}
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
# KEYS: ledger, channel settings, open set. ARGV: slot, time, now, channel, final state.
# done: the mark moves forward to `time` (the plan's end) and any carried period is cleared.
# failed with a `time` (the plan's start): carried into the next digest, once; a carried period
# that fails again is dropped, so one unpostable story cannot block every digest after it.
_FINISH = """
redis.call('hset', KEYS[1], 'state', ARGV[5], 'done_at', ARGV[3])
if ARGV[5] == 'done' then
  local mark = tonumber(redis.call('hget', KEYS[2], 'last_digest') or '-1')
  if tonumber(ARGV[2]) > mark then
    redis.call('hset', KEYS[2], 'last_digest', ARGV[2])
  end
  redis.call('hdel', KEYS[2], 'carry_from')
elseif ARGV[2] ~= '' then
  if redis.call('hexists', KEYS[2], 'carry_from') == 1 then
    redis.call('hdel', KEYS[2], 'carry_from')
  else
    redis.call('hset', KEYS[2], 'carry_from', ARGV[2])
  end
end
if redis.call('hget', KEYS[2], 'open_slot') == ARGV[1] then
  redis.call('hdel', KEYS[2], 'open_slot')
  redis.call('srem', KEYS[3], ARGV[4])
end
return 1
"""


class ChannelLock:
    """A per-channel posting lock with a lease: a holder that dies lets the next one in.

    While held, a heartbeat renews the lease every third of it, so a slow post (a 429's
    ``Retry-After``) never lets a second poster in; ``lost`` says if renewing ever failed.
    """

    def __init__(self, store: Store, channel: str, owner: str, lease_ms: int = 60_000) -> None:
        self.store = store
        self.key = store.k("lock", channel)
        self.owner = owner
        self.lease_ms = lease_ms
        self.lost = False
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(self) -> bool:
        if not self.store.r.set(self.key, self.owner, nx=True, px=self.lease_ms):
            return False
        self._beat = threading.Thread(target=self._heartbeat, daemon=True, name="pd-lease")
        self._beat.start()
        return True

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.lease_ms / 3000):
            if not self.renew():
                self.lost = True
                return

    def renew(self) -> bool:
        """Extend the lease; False when it was lost (expired and taken), so stop posting."""
        try:
            return bool(self.store.r.eval(_RENEW, 1, self.key, self.owner, self.lease_ms))
        except Exception as exc:  # a Redis blip: the next beat tries again
            log.warning("lease renewal failed for %s: %s", self.key, exc)
            return True

    def release(self) -> None:
        self._stop.set()
        self.store.r.eval(_RELEASE, 1, self.key, self.owner)


class Schedules:
    """Schedules, marks and ledgers of one workspace."""

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
            self.store.index("scheduled", "teams")

    def all(self) -> dict[str, dict]:
        return {c: json.loads(v) for c, v in self.r.hgetall(self.store.k("schedules")).items()}

    def last_digest(self, channel: str) -> float | None:
        raw = self.store.channel_setting(channel, "last_digest")
        return None if raw is None else float(raw)

    def carry_from(self, channel: str) -> float | None:
        """Start of a given-up digest's period: the next digest reaches back to it."""
        raw = self.store.channel_setting(channel, "carry_from")
        return None if raw is None else float(raw)

    def open_slot(self, channel: str) -> str | None:
        """A claimed slot not yet finished: it must be finished before any new digest."""
        return self.store.channel_setting(channel, "open_slot")

    def channels_with_open_slots(self) -> set[str]:
        return self.r.smembers(self.store.k("open"))

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
            pipe.hset(self.store.k("ch", channel, "settings"), "open_slot", slot)
            pipe.sadd(self.store.k("open"), channel)
        pipe.hsetnx(key, "claimed_at", repr(now))
        pipe.hsetnx(key, "state", "claimed")
        pipe.hset(key, "owner", owner)
        pipe.zadd(self.store.k("ledgers"), {f"{channel}|{slot}": now}, nx=True)
        pipe.execute()
        if plan is not None:
            self.store.index(
                "scheduled", "teams"
            )  # the sweep finishes open slots, e.g. a `/digest now`
        return self.r.hgetall(key)

    def begin_part(
        self, channel: str, slot: str, part: int, lock_key: str, owner: str
    ) -> tuple[str, str]:
        """``("lost", "")`` if the lock is no longer ours, else what the ledger says of the part
        now: ``("posted", ts)``, ``("tried", attempt time)`` or ``("new", "")``."""
        state, value = self.r.eval(_BEGIN_PART, 2, lock_key, self.ledger_key(channel, slot),
                                   owner, part)  # fmt: skip
        return state, value

    def mark_try(self, channel: str, slot: str, part: int, at: float) -> None:
        """A post of this part is about to be sent: if we die now, look in history near ``at``."""
        self.r.hset(self.ledger_key(channel, slot), f"try:{part}", repr(at))

    def clear_try(self, channel: str, slot: str, part: int) -> None:
        """Slack definitely refused the post (``ok: false``): no need to look for it later."""
        self.r.hdel(self.ledger_key(channel, slot), f"try:{part}")

    def mark_part(self, channel: str, slot: str, part: int, ts: str) -> None:
        self.r.hsetnx(self.ledger_key(channel, slot), f"part:{part}", ts)

    def record_failure(self, channel: str, slot: str, now: float) -> int:
        """Back off after a failed attempt (30 s, 1 min, 2 min…); returns the attempt count."""
        key = self.ledger_key(channel, slot)
        attempts = self.r.hincrby(key, "attempts", 1)
        self.r.hset(key, "retry_at", repr(now + min(30 * 2 ** (attempts - 1), 3600)))
        return attempts

    def finish(
        self, channel: str, slot: str, at: float | None, now: float, state: str = "done"
    ) -> None:
        """Close a slot. ``done``: the channel's mark moves forward to ``at`` (the plan's end),
        never back. ``failed``: ``at`` (the plan's start), if given, is carried into the next
        digest."""
        self.r.eval(
            _FINISH, 3, self.ledger_key(channel, slot), self.store.k("ch", channel, "settings"),
            self.store.k("open"), slot, "" if at is None else repr(at), repr(now), channel, state,
        )  # fmt: skip

    # -- period history -------------------------------------------------------------------------

    def record_period(self, channel: str, slot: str, record: dict) -> None:
        """Remember a posted digest's period (idempotent: keyed by its slot), newest kept."""
        key = self.store.k("ch", channel, "periods")
        self.r.hset(key, slot, json.dumps(record))
        raw = self.r.hgetall(key)
        if len(raw) > KEEP_PERIODS:
            by_end = sorted(raw, key=lambda s: float(json.loads(raw[s])["until"]))
            self.r.hdel(key, *by_end[:-KEEP_PERIODS])

    def periods(self, channel: str) -> list[dict]:
        """The channel's recorded periods, oldest first."""
        raw = self.r.hgetall(self.store.k("ch", channel, "periods")).values()
        return sorted((json.loads(v) for v in raw), key=lambda p: float(p["until"]))

    def prune_ledger(self, before: float) -> int:
        """Drop ledgers finished (or abandoned) before ``before``; ``P ledgers`` lists them all,
        so nothing scans the keyspace."""
        index = self.store.k("ledgers")
        removed = 0
        for member in self.r.zrangebyscore(index, "-inf", f"({before}"):
            channel, slot = member.split("|", 1)
            key = self.ledger_key(channel, slot)
            stamp = self.r.hget(key, "done_at") or self.r.hget(key, "claimed_at")
            if stamp is None or float(stamp) < before:
                removed += self.r.delete(key)
                self.r.zrem(index, member)
        return removed
