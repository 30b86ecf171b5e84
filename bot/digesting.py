"""Digest flows: schedules, preview, ``/digest now`` and the clock's exactly-once posting.

How a digest is posted (ARCHITECTURE §4): take the channel's lock (a lease renewed before every
part) → claim the slot in the durable ledger, storing the rendered plan → for each part not yet
recorded: if an earlier attempt may have reached Slack, look for it in history (message
metadata names slot and part), else post it → record its ts → mark done and move the channel's
"last digest" mark. A claimant that dies leaves a claimed ledger; the next one, once the lease
has expired, finishes the same plan and posts only what is missing. A mixin of ``Services``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.store import DAY, ChannelLock, Schedules, StoreError
from digests.commands import Command
from digests.digest import build_digest
from digests.models import SharedItem, TopicTag
from digests.render import digest_to_json, render_blocks, render_empty, render_markdown
from digests.schedule import Schedule, Slot, describe, latest_due_slot, parse_schedule, period_start

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

EVENT_TYPE = "policy_digest_part"
NOW_SLOT_PREFIX = "now-"


@dataclass
class PostOutcome:
    """What one posting attempt did (the sweep logs it, ``/digest now`` reports it)."""

    status: str  # "posted" | "done_before" | "busy" | "skipped_empty" | "failed" | "lost_lease"
    parts_posted: int = 0
    items: int = 0


class DigestMixin:
    """Schedules and digests for channels."""

    post_interval: float = 1.0  # seconds between parts: about one message a second per channel
    sleep: Callable[[float], None] = staticmethod(time.sleep)
    owner_id: str = f"pd-{uuid.uuid4().hex[:12]}"

    # -- reading the channel's shares ------------------------------------------------------------

    def shared_items(
        self: Services, team: str, channel: str, since: float, until: float
    ) -> list[SharedItem]:
        store = self.store_for(team)
        shares = store.shares_between(channel, since, until)
        articles = store.get_articles([s.akey for s in shares])
        items = []
        for share, article in zip(shares, articles, strict=True):
            if not article:
                continue
            items.append(
                SharedItem(
                    key=share.akey,
                    title=article.get("title") or "Untitled",
                    summary=list(article.get("summary") or []),
                    topics=[TopicTag(**t) for t in article.get("topics") or []],
                    shared_at=share.shared_at,
                    sharers=share.users,
                    url=article.get("url"),
                    site=article.get("site"),
                    permalink=share.permalink or None,
                )
            )
        return items

    def _window(
        self: Services,
        team: str,
        channel: str,
        schedule: Schedule | None,
        until: float,
        slot: Slot | None = None,
    ) -> float:
        """Since the channel's last digest, at most one period back (7 days with no schedule)."""
        if schedule is not None:
            reference = slot or Slot(name="", at=until)
            floor = (
                period_start(schedule, reference)
                if slot
                else until - (7 * DAY if schedule.kind == "weekly" else DAY)
            )
        else:
            floor = until - 7 * DAY
        mark = Schedules(self.store_for(team)).last_digest(channel)
        return max(floor, mark) if mark is not None else floor

    def build_channel_digest(
        self: Services,
        team: str,
        channel: str,
        *,
        until: float,
        schedule: Schedule | None,
        slot: Slot | None = None,
        since: float | None = None,
    ):
        since = self._window(team, channel, schedule, until, slot) if since is None else since
        items = self.shared_items(team, channel, since, until)
        taxonomy = self.taxonomy_for(team)
        labels = {tid: taxonomy.label(tid) for tid in taxonomy.ids()}
        return build_digest(
            items,
            period_start=since,
            period_end=until,
            tz=schedule.tz if schedule else "UTC",
            topic_filter=schedule.topics if schedule else (),
            labels=labels,
        )

    # -- posting, exactly once --------------------------------------------------------------------

    def post_slot(
        self: Services,
        client: WebClient,
        team: str,
        channel: str,
        slot_name: str,
        plan_for: Callable[[], tuple[list[tuple[str, list[dict]]], float, int]],
    ) -> PostOutcome:
        """Post one slot's parts exactly once. ``plan_for`` renders (parts, until, items) lazily,
        under the lock, so a claimant that finds the slot done renders nothing. Times recorded
        here are wall-clock (they are compared with Slack's message timestamps)."""
        store = self.store_for(team)
        schedules = Schedules(store)
        lock = ChannelLock(store, channel, f"{self.owner_id}:{uuid.uuid4().hex[:8]}")
        if not lock.acquire():
            return PostOutcome("busy")
        try:
            ledger = schedules.ledger(channel, slot_name)
            if ledger.get("state") == "done":
                return PostOutcome("done_before")
            plan = None
            if "plan" not in ledger:
                parts, until, count = plan_for()
                plan = {"parts": [list(p) for p in parts], "until": until, "items": count}
            ledger = schedules.claim(channel, slot_name, lock.owner, plan, time.time())
            plan = json.loads(ledger["plan"])
            parts = plan["parts"]
            if not parts:
                schedules.mark_done(channel, slot_name, plan["until"], time.time())
                return PostOutcome("skipped_empty")
            posted = 0
            parent_ts = ledger.get("part:0")
            for index, (text, blocks) in enumerate(parts):
                if ledger.get(f"part:{index}"):
                    continue
                if not lock.renew():
                    log.warning("lost the lock for %s/%s mid-post", channel, slot_name)
                    return PostOutcome("lost_lease", posted)
                ts = None
                if ledger.get(f"try:{index}"):
                    ts = self._find_part(
                        client, channel, slot_name, index, parent_ts, float(ledger["claimed_at"])
                    )
                if ts is None:
                    if posted:
                        self.sleep(self.post_interval)
                    schedules.mark_try(channel, slot_name, index)
                    ts = self._post_part(
                        client,
                        channel,
                        slot_name,
                        index,
                        text,
                        blocks,
                        None if index == 0 else parent_ts,
                    )
                    if ts is None:
                        return PostOutcome("failed", posted)
                    posted += 1
                schedules.mark_part(channel, slot_name, index, ts)
                if index == 0:
                    parent_ts = ts
            schedules.mark_done(channel, slot_name, plan["until"], time.time())
            return PostOutcome("posted", posted, plan.get("items", 0))
        finally:
            with contextlib.suppress(StoreError):
                lock.release()

    def _post_part(
        self,
        client: WebClient,
        channel: str,
        slot: str,
        index: int,
        text: str,
        blocks: list[dict],
        thread_ts: str | None,
    ) -> str | None:
        try:
            resp = client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"slot": slot, "part": index}},
            )
            return resp["ts"]
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else "unknown"
            log.error("digest part %d of %s in %s not posted: %s", index, slot, channel, error)
        except Exception as exc:  # a dropped connection: Slack may have it; look before re-sending
            log.error(
                "digest part %d of %s in %s: %s; will check history", index, slot, channel, exc
            )
        return None

    def _find_part(
        self,
        client: WebClient,
        channel: str,
        slot: str,
        index: int,
        parent_ts: str | None,
        since: float,
    ) -> str | None:
        """Did an earlier attempt's part reach Slack? Read history once (it is rate-limited)."""
        try:
            if index == 0 or not parent_ts:
                resp = client.conversations_history(
                    channel=channel, oldest=str(since - 60), include_all_metadata=True, limit=200
                )
            else:
                resp = client.conversations_replies(
                    channel=channel, ts=parent_ts, include_all_metadata=True, limit=200
                )
        except SlackApiError as exc:
            log.error("history lookup failed in %s: %s", channel, exc)
            raise
        for message in resp.get("messages", []):
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if (
                meta.get("event_type") == EVENT_TYPE
                and payload.get("slot") == slot
                and int(payload.get("part", -1)) == index
            ):
                return message["ts"]
        return None

    def _render_parts(self, digest, schedule: Schedule | None) -> list[tuple[str, list[dict]]]:
        if digest.total_stories == 0:
            if schedule is not None and schedule.empty == "skip":
                return []
            return [tuple(render_empty(digest.period_start, digest.period_end, digest.tz))]
        return [tuple(part) for part in render_blocks(digest)]

    # -- the clock ----------------------------------------------------------------------------------

    def sweep(
        self: Services, client_for: Callable[[str], WebClient], now: float | None = None
    ) -> dict:
        """One pass over every schedule: post each channel's latest due slot, once."""
        now = time.time() if now is None else now
        outcomes: dict[str, str] = {}
        try:
            teams = self.teams_with_schedules()
        except StoreError as exc:
            log.error("storage down, sweep skipped; due slots post when it is back: %s", exc)
            return outcomes
        for team in teams:
            store = self.store_for(team)
            try:
                schedules = Schedules(store).all()
            except StoreError as exc:
                log.error("storage down reading schedules of %s: %s", team, exc)
                continue
            for channel, raw in schedules.items():
                schedule = Schedule.from_dict(raw)
                slot = latest_due_slot(schedule, now)
                if slot is None:
                    continue
                key = f"{team}/{channel}/{slot.name}"
                try:
                    outcome = self.post_scheduled(
                        client_for(team), team, channel, schedule, slot, now
                    )
                    outcomes[key] = outcome.status
                except StoreError as exc:
                    log.error("storage down at slot %s; will post when it is back: %s", key, exc)
                    outcomes[key] = "store_down"
                except Exception:
                    log.exception("posting slot %s failed", key)
                    outcomes[key] = "error"
        return outcomes

    def post_scheduled(
        self: Services,
        client: WebClient,
        team: str,
        channel: str,
        schedule: Schedule,
        slot: Slot,
        now: float,
    ) -> PostOutcome:
        def plan():
            since = self._window(team, channel, schedule, slot.at, slot)
            if since >= slot.at:  # `/digest now` already covered this slot's period
                return [], slot.at, 0
            digest = self.build_channel_digest(
                team, channel, until=slot.at, schedule=schedule, since=since
            )
            return self._render_parts(digest, schedule), slot.at, digest.total_stories

        return self.post_slot(client, team, channel, slot.name, plan)

    def teams_with_schedules(self: Services) -> list[str]:
        if self.redis is None:
            return []
        teams = []
        for key in self.redis.scan_iter(match="pd:*:schedules", count=500):
            team = key.split(":")[1]
            if team != "cli":
                teams.append(team)
        return sorted(set(teams))

    # -- /digest schedule | preview | now -----------------------------------------------------------

    def channel_schedule(self: Services, team: str, channel: str) -> Schedule | None:
        raw = Schedules(self.store_for(team)).get(channel)
        return Schedule.from_dict(raw) if raw else None

    def cmd_schedule(
        self: Services,
        cmd: Command,
        *,
        client: WebClient,
        respond: Callable,
        team: str,
        channel: str,
        user: str,
    ) -> None:
        now = time.time()
        current = self.channel_schedule(team, channel)
        if not cmd.args:
            if current is None:
                respond(
                    text="No digest is scheduled here. Try `/digest schedule weekly mon 09:00`."
                )
            else:
                respond(text=f"Digest here: {describe(current, now)}.")
            return
        self._require_admin(user)
        schedules = Schedules(self.store_for(team))
        if cmd.args[0].lower() == "off":
            schedules.set(channel, None)
            self._audit(
                client, channel, f"<@{user}> turned off the scheduled digest for this channel."
            )
            respond(
                text="Scheduled digest turned off."
                if current
                else "There was no schedule; nothing changed."
            )
            return
        taxonomy = self.taxonomy_for(team)
        schedule = parse_schedule(cmd.rest, self._user_tz(client, user), taxonomy.ids(), now)
        schedules.set(channel, schedule.to_dict())
        text = describe(schedule, now)
        self._audit(client, channel, f"<@{user}> scheduled the digest: {text}.")
        respond(text=f"Scheduled: {text}.")

    def _user_tz(self, client: WebClient, user: str) -> str:
        """The invoking user's Slack timezone (``users:read``), UTC if Slack won't say."""
        try:
            return client.users_info(user=user)["user"].get("tz") or "UTC"
        except (SlackApiError, KeyError) as exc:
            log.warning("no timezone for %s, using UTC: %s", user, exc)
            return "UTC"

    def cmd_preview(
        self: Services, cmd: Command, *, respond: Callable, team: str, channel: str, **_
    ) -> None:
        now = time.time()
        schedule = self.channel_schedule(team, channel)
        digest = self.build_channel_digest(team, channel, until=now, schedule=schedule)
        if digest.total_stories == 0:
            respond(
                text="Nothing has been shared here since the last digest, so the next one is empty."
            )
            return
        respond(text=render_markdown(digest)[:3900])

    def cmd_now(
        self: Services,
        cmd: Command,
        *,
        client: WebClient,
        respond: Callable,
        team: str,
        channel: str,
        user: str,
    ) -> None:
        now = time.time()
        schedule = self.channel_schedule(team, channel)

        def plan():
            digest = self.build_channel_digest(team, channel, until=now, schedule=schedule)
            parts = self._render_parts(digest, None)
            return parts, now, digest.total_stories

        slot_name = f"{NOW_SLOT_PREFIX}{int(now)}-{user}"
        outcome = self.post_slot(client, team, channel, slot_name, plan)
        messages = {
            "posted": f"Posted the digest ({outcome.items} stories) and moved the 'last digest' mark.",
            "busy": "A digest is being posted in this channel right now; it will include these items.",
            "failed": "Slack did not take the digest; try `/digest now` again in a minute.",
            "lost_lease": "Posting took too long and was handed over; it will finish shortly.",
        }
        respond(text=messages.get(outcome.status, f"Digest: {outcome.status}."))

    def digest_for_cli(
        self: Services, team: str, channel: str, since: float | None, fmt: str
    ) -> str:
        """``python -m bot digest``: the channel's digest from the store, printed, not posted."""
        now = time.time()
        schedule = self.channel_schedule(team, channel)
        digest = self.build_channel_digest(team, channel, until=now, schedule=schedule, since=since)
        if fmt == "json":
            return json.dumps(digest_to_json(digest), ensure_ascii=False, indent=2)
        if fmt == "blocks":
            return json.dumps(
                [{"text": t, "blocks": b} for t, b in self._render_parts(digest, None)],
                ensure_ascii=False,
                indent=2,
            )
        return render_markdown(digest)
