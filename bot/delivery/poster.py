"""Posting a digest exactly once (docs/architecture.md §6), whatever crashes, races or Slack does.

Take the channel's lock (a lease a heartbeat renews) → finish any slot left open → claim the
slot in the durable ledger, storing its rendered plan → for each part not yet recorded: check
the lock is still ours; if an earlier attempt may have reached Slack, look for it in history
(message metadata names slot and part), else post it → record its ts → mark the slot done and
move the channel's "last digest" mark forward. A claimant that dies leaves a claimed ledger;
the next one, once the lease has expired, finishes the same plan and posts only what is missing.

The trend chart is one more part (``{"chart": …}`` in the plan: the data, drawn at upload time),
uploaded into the digest's thread with ``files_upload_v2``. It is posted *at most* once: an
upload has no message metadata to find it by, so a chart whose upload was sent but not
recorded (a crash, a dropped connection) is skipped rather than risk a second copy, and a
refused upload (an install without ``files:write``) is skipped too: the chart never holds the
digest back. The period record of a finished plan is stored for the next digest's comparison.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from slack_sdk.errors import SlackApiError

from bot.delivery.ledger import MAX_ATTEMPTS, ChannelLock, Schedules
from bot.slack.clients import slack_error
from bot.slack.workspaces import Workspaces
from bot.storage.store import StoreError, Stores
from digests.changes import PeriodRecord
from digests.chart import alt_text, render_chart

log = logging.getLogger(__name__)

EVENT_TYPE = "policy_digest_part"
MAX_HISTORY_PAGES = 10


class Status(StrEnum):
    """What one posting attempt did (the sweep logs it, ``/digest now`` reports it)."""

    POSTED = "posted"
    SKIPPED_EMPTY = "skipped_empty"
    DONE_BEFORE = "done_before"
    BUSY = "busy"
    BACKOFF = "backoff"
    FAILED = "failed"
    LOST_LEASE = "lost_lease"
    NOT_INSTALLED = "not_installed"  # no token for the workspace: uninstalled
    STORE_DOWN = "store_down"  # the sweep's own: storage failed mid-way, retried next sweep
    ERROR = "error"  # the sweep's own: an unexpected error, logged


FINISHED = (Status.POSTED, Status.SKIPPED_EMPTY, Status.DONE_BEFORE)


@dataclass
class PostOutcome:
    status: Status
    items: int = 0


class DigestPoster:
    """Exactly-once posting of planned digests, one channel at a time under its lock.

    ``sleep``, ``owner_id``, ``post_interval`` and ``draw_chart`` (the PNG of a chart part,
    ~0.1 s each) are hooks: tests pass their own.
    """

    def __init__(
        self,
        stores: Stores,
        workspaces: Workspaces,
        *,
        owner_id: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        post_interval: float = 1.0,
        lease_ms: int = 60_000,
        draw_chart: Callable[..., bytes | None] = render_chart,
    ) -> None:
        self.stores = stores
        self.workspaces = workspaces
        # the pid says which process holds a channel's lock (an operator, or the fault test)
        self.owner_id = owner_id or f"pd-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.sleep = sleep
        self.post_interval = post_interval  # about one message a second per channel
        self.lease_ms = lease_ms
        self.draw_chart = draw_chart

    def post_slot(
        self,
        team: str,
        channel: str,
        slot_name: str | None,
        plan_for: Callable[[], dict] | None = None,
        now: float | None = None,
        retry_now: bool = False,
    ) -> PostOutcome:
        """Post one slot's parts exactly once, under the channel's lock.

        Any slot left open by an earlier claimant (a crash, a Slack failure) is finished first,
        so a new digest never plans items an unfinished one already holds. ``plan_for`` renders
        the plan (see ``_plan``) lazily, only when the slot has no plan yet. ``slot_name=None`` only
        finishes the open slot. ``now`` is the clock's time (for retry back-off; tests drive it);
        what is compared with Slack's message timestamps is always wall-clock. ``retry_now``
        (a person asked, with ``/digest now``) skips the back-off of an earlier failure.
        """
        now = time.time() if now is None else now
        store = self.stores.for_team(team)
        schedules = Schedules(store)
        client = self.workspaces.poster_for(team)  # the workspace's own token
        if client is None:
            return PostOutcome(Status.NOT_INSTALLED)
        owner = f"{self.owner_id}:{uuid.uuid4().hex[:8]}"
        lock = ChannelLock(store, channel, owner, lease_ms=self.lease_ms)
        if not lock.acquire():
            return PostOutcome(Status.BUSY)
        try:
            open_slot = schedules.open_slot(channel)
            if open_slot and open_slot != slot_name:
                outcome = self._post_plan(
                    client, schedules, lock, channel, open_slot, now, retry_now
                )
                if outcome.status not in FINISHED or slot_name is None:
                    return outcome
            if slot_name is None:
                return PostOutcome(Status.DONE_BEFORE)
            ledger = schedules.ledger(channel, slot_name)
            if ledger.get("state") in ("done", "failed"):
                return PostOutcome(Status.DONE_BEFORE)
            plan = plan_for() if "plan" not in ledger else None
            schedules.claim(channel, slot_name, lock.owner, plan, time.time())
            return self._post_plan(client, schedules, lock, channel, slot_name, now, retry_now)
        finally:
            with contextlib.suppress(StoreError):
                lock.release()

    def _post_plan(
        self,
        client,
        schedules: Schedules,
        lock: ChannelLock,
        channel: str,
        slot: str,
        now: float,
        retry_now: bool = False,
    ) -> PostOutcome:
        """Post what a claimed slot's plan still lacks; times are wall-clock (Slack's ``ts``).

        Before each part one script checks that we still hold the lock and reads what the ledger
        says of that part now (posted, tried, new), so a holder whose lease was lost stops.
        """
        ledger = schedules.ledger(channel, slot)
        if ledger.get("state") in ("done", "failed"):
            return PostOutcome(Status.DONE_BEFORE)
        if "plan" not in ledger:  # pruned or never planned: nothing left to finish
            schedules.finish(channel, slot, None, time.time(), state="failed")
            return PostOutcome(Status.DONE_BEFORE)
        if float(ledger.get("retry_at", 0)) > now and not retry_now:
            return PostOutcome(Status.BACKOFF)
        plan = json.loads(ledger["plan"])
        parent_ts: str | None = None
        posted = 0
        for index, part in enumerate(plan["parts"]):
            if posted:  # about one message a second per channel; check the lock after waiting
                self.sleep(self.post_interval)
            state, value = schedules.begin_part(channel, slot, index, lock.key, lock.owner)
            if state == "lost":
                log.warning("lost the lock for %s/%s mid-post; stopping", channel, slot)
                return PostOutcome(Status.LOST_LEASE)
            if isinstance(part, dict):  # the chart: at most once, never holding the digest back
                if state != "posted":
                    schedules.mark_try(channel, slot, index, time.time())
                    done = state == "new" and self._upload_chart(client, channel, part, parent_ts)
                    schedules.mark_part(channel, slot, index, "chart" if done else "skipped")
                    posted += int(bool(done))
                continue
            text, blocks = part
            ts = value if state == "posted" else None
            if state == "tried":
                try:
                    ts = self._find_part(client, channel, slot, index, parent_ts, float(value))
                except Exception as exc:  # history unreadable: back off like a failed post
                    log.error("history lookup for %s/%s failed: %s", channel, slot, exc)
                    return self._failed(schedules, channel, slot, now)
            if ts is None:
                schedules.mark_try(channel, slot, index, time.time())
                ts, refused = self._post_part(client, channel, slot, index, text, blocks, parent_ts)
                if ts is None:
                    if refused:
                        schedules.clear_try(channel, slot, index)
                    return self._failed(schedules, channel, slot, now)
                posted += 1
            schedules.mark_part(channel, slot, index, ts)
            parent_ts = parent_ts or ts
        if plan.get("record"):
            schedules.record_period(channel, slot, plan["record"])
        schedules.finish(channel, slot, plan["until"], time.time())
        status = Status.POSTED if plan["parts"] else Status.SKIPPED_EMPTY
        return PostOutcome(status, plan.get("items", 0))

    def _failed(self, schedules: Schedules, channel: str, slot: str, now: float) -> PostOutcome:
        attempts = schedules.record_failure(channel, slot, now)
        if attempts >= MAX_ATTEMPTS:
            ledger = schedules.ledger(channel, slot)
            nothing_posted = not any(key.startswith("part:") for key in ledger)
            # Carry the period into the next digest only when none of it reached the channel:
            # carrying a half-posted one would post its first parts twice.
            carry = json.loads(ledger["plan"])["since"] if nothing_posted else None
            log.error("giving up digest %s in %s after %d attempts (%s)", slot, channel,
                      attempts, "period carried into the next digest" if carry is not None
                      else "some parts were posted; the rest is dropped")  # fmt: skip
            schedules.finish(channel, slot, carry, time.time(), state="failed")
        return PostOutcome(Status.FAILED)

    def _upload_chart(self, client, channel: str, part: dict, parent_ts: str | None) -> bool:
        """Draw the plan's chart and upload it into the digest's thread; False if Slack refused."""
        chart = part["chart"]
        periods = [PeriodRecord.from_dict(p) for p in chart["periods"]]
        png = self.draw_chart(periods, chart["tz"])
        if png is None:
            return False
        try:
            client.files_upload_v2(
                channel=channel,
                thread_ts=parent_ts,
                file=png,
                filename="policy-digest-trend.png",
                title=chart["title"],
                alt_txt=alt_text(periods, chart["tz"]),
                initial_comment=chart["comment"],
            )
            return True
        except Exception as exc:  # no files:write yet, a 5xx, a dropped upload: go on without it
            detail = slack_error(exc) if isinstance(exc, SlackApiError) else exc
            log.warning("trend chart not uploaded to %s (%s); the digest goes on", channel, detail)
            return False

    def _post_part(
        self,
        client,
        channel: str,
        slot: str,
        index: int,
        text: str,
        blocks: list[dict],
        parent_ts: str | None,
    ) -> tuple[str | None, bool]:
        """(ts, refused): ``refused`` when Slack answered ``ok: false`` (it surely has nothing)."""
        try:
            resp = client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                thread_ts=None if index == 0 else parent_ts,
                unfurl_links=False,
                unfurl_media=False,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"slot": slot, "part": index}},
            )
            return resp["ts"], False
        except SlackApiError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            log.error("digest part %d of %s in %s not posted: %s (HTTP %s)", index, slot,
                      channel, slack_error(exc), status)  # fmt: skip
            return None, status == 200
        except Exception as exc:  # a dropped connection: Slack may have it; look before re-sending
            log.error("digest part %d of %s in %s: %s; will check history", index, slot,
                      channel, exc)  # fmt: skip
            return None, False

    def _find_part(
        self,
        client,
        channel: str,
        slot: str,
        index: int,
        parent_ts: str | None,
        tried_at: float,
    ) -> str | None:
        """Did an earlier attempt's part reach Slack? Look near the attempt's time, page by page
        (history is rate-limited, so only when an attempt may have reached Slack)."""
        if index == 0 or not parent_ts:
            call = client.conversations_history
            args = {"oldest": str(tried_at - 60), "latest": str(tried_at + 600)}
        else:
            call = client.conversations_replies
            args = {"ts": parent_ts}
        cursor = None
        for _ in range(MAX_HISTORY_PAGES):
            resp = call(channel=channel, include_all_metadata=True, limit=200, cursor=cursor,
                        **args)  # fmt: skip
            for message in resp.get("messages", []):
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if (
                    meta.get("event_type") == EVENT_TYPE
                    and payload.get("slot") == slot
                    and int(payload.get("part", -1)) == index
                ):
                    return message["ts"]
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not (resp.get("has_more") and cursor):
                return None
        raise RuntimeError(f"history of {channel} too long to search for {slot} part {index}")
