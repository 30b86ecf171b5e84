"""Digest flows: building a channel's digest, the clock's sweep, and ``/digest schedule``,
``preview`` and ``now``. Posting itself, exactly once, is ``bot.delivery.poster``. A mixin of
``Services``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery.ledger import Schedules
from bot.delivery.poster import PostOutcome
from bot.flows.sharing import Invocation
from bot.storage.store import DAY, StoreError, item_from
from digests.commands import Command
from digests.digest import build_digest
from digests.models import SharedItem
from digests.render import (
    digest_to_json,
    escape,
    render_blocks,
    render_empty,
    render_markdown,
)
from digests.schedule import Schedule, Slot, describe, latest_due_slot, parse_schedule, period_start

if TYPE_CHECKING:
    from bot.flows.summarizer import Services

log = logging.getLogger(__name__)

NOW_SLOT_PREFIX = "now-"


def preview_blocks(parts: list[tuple[str, list[dict]]]) -> tuple[str, list[dict]]:
    """The digest's parts as one ephemeral message (50 blocks at most; the rest is counted)."""
    blocks: list[dict] = []
    for index, (_, part_blocks) in enumerate(parts):
        if len(blocks) + len(part_blocks) > 49:
            rest = len(parts) - index
            note = f"_…and {rest} more section{'s' if rest > 1 else ''} in the posted digest._"
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
            break
        if blocks:
            blocks.append({"type": "divider"})
        blocks.extend(part_blocks)
    return f"Preview: {parts[0][0]}", blocks


def _plan(parts: list, since: float, until: float, items: int) -> dict:
    """What a slot will post: its rendered parts and the period they cover."""
    return {"parts": [list(p) for p in parts], "since": since, "until": until, "items": items}


class DigestMixin:
    """Schedules and digests for channels."""

    # -- reading the channel's shares ------------------------------------------------------------

    def shared_items(
        self: Services,
        team: str,
        channel: str,
        since: float,
        until: float,
        limit: int | None = None,
    ) -> list[SharedItem]:
        """The channel's shares first made in [since, until), newest first, with their articles."""
        store = self.store_for(team)
        shares = store.shares_between(channel, since, until, limit=limit)
        articles = store.get_articles([s.akey for s in shares])
        items = []
        for share, article in zip(shares, articles, strict=True):
            if not article:
                continue
            items.append(item_from(share, article))
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
        if schedule is not None and slot is not None:
            floor = period_start(schedule, slot)
        elif schedule is not None and schedule.kind == "daily":
            floor = until - DAY
        else:
            floor = until - 7 * DAY
        schedules = Schedules(self.store_for(team))
        carry = schedules.carry_from(channel)  # a given-up digest's period comes along
        floor = min(floor, carry) if carry is not None else floor
        mark = schedules.last_digest(channel)
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

    def _render_parts(self, digest, schedule: Schedule | None) -> list[tuple[str, list[dict]]]:
        if digest.total_stories == 0:
            if schedule is not None and schedule.empty == "skip":
                return []
            return [tuple(render_empty(digest.period_start, digest.period_end, digest.tz))]
        return [tuple(part) for part in render_blocks(digest)]

    # -- the clock ----------------------------------------------------------------------------------

    def sweep(self: Services, now: float | None = None, teams: list[str] | None = None) -> dict:
        """One pass: post each scheduled channel's latest due slot once, and finish open slots.

        ``teams`` limits the pass (the shell sweeps only its own stand-in workspace).
        """
        now = time.time() if now is None else now
        outcomes: dict[str, str] = {}
        try:
            teams = self.teams_with_schedules() if teams is None else teams
        except StoreError as exc:
            log.error("storage down, sweep skipped; due slots post when it is back: %s", exc)
            return outcomes
        for team in teams:
            try:
                schedules = Schedules(self.store_for(team))
                scheduled = schedules.all()
                open_channels = schedules.channels_with_open_slots()
                unfinished = open_channels - set(scheduled)
            except StoreError as exc:
                log.error("storage down reading schedules of %s: %s", team, exc)
                continue
            for channel in sorted(scheduled) + sorted(unfinished):
                key = f"{team}/{channel}"
                try:
                    if channel in scheduled:
                        schedule = Schedule.from_dict(scheduled[channel])
                        slot = latest_due_slot(schedule, now)
                        if slot is None:
                            if channel in open_channels:  # e.g. a `/digest now` to finish
                                outcomes[key] = self.post_slot(team, channel, None, now=now).status
                            continue
                        key += f"/{slot.name}"
                        outcome = self.post_scheduled(team, channel, schedule, slot, now)
                    else:
                        outcome = self.post_slot(team, channel, None, now=now)
                    outcomes[key] = outcome.status
                except StoreError as exc:
                    log.error("storage down at %s; will post when it is back: %s", key, exc)
                    outcomes[key] = "store_down"
                except Exception:
                    log.exception("digest for %s failed", key)
                    outcomes[key] = "error"
        return outcomes

    def post_scheduled(
        self: Services, team: str, channel: str, schedule: Schedule, slot: Slot, now: float
    ) -> PostOutcome:
        def plan():
            since = self._window(team, channel, schedule, slot.at, slot)
            if since >= slot.at:  # `/digest now` already covered this slot's period
                return _plan([], since, slot.at, 0)
            digest = self.build_channel_digest(
                team, channel, until=slot.at, schedule=schedule, since=since
            )
            return _plan(self._render_parts(digest, schedule), since, slot.at, digest.total_stories)

        return self.post_slot(team, channel, slot.name, plan, now)

    def teams_with_schedules(self: Services) -> list[str]:
        return self._teams_with("schedules", "open")

    def teams(self: Services) -> list[str]:
        """Every workspace with anything stored (for pruning)."""
        return self._teams_with("channels", "schedules", "articles")

    def _teams_with(self: Services, *kinds: str) -> list[str]:
        if self.redis is None:
            return []
        found = set()
        for kind in kinds:
            for key in self.redis.scan_iter(match=f"pd:*:{kind}", count=1000):
                found.add(key.split(":")[1])
        return sorted(found - {"cli"})

    # -- /digest schedule | preview | now -----------------------------------------------------------

    def channel_schedule(self: Services, team: str, channel: str) -> Schedule | None:
        raw = Schedules(self.store_for(team)).get(channel)
        return Schedule.from_dict(raw) if raw else None

    def cmd_schedule(self: Services, cmd: Command, ctx: Invocation) -> None:
        now = time.time()
        current = self.channel_schedule(ctx.team, ctx.channel)
        if not cmd.args:
            if current is None:
                ctx.respond(
                    text="No digest is scheduled here. Try `/digest schedule weekly mon 09:00`."
                )
            else:
                ctx.respond(text=f"Digest here: {escape(describe(current, now))}.")
            return
        self._require_admin(ctx.user)
        schedules = Schedules(self.store_for(ctx.team))
        if cmd.args[0].lower() == "off":
            schedules.set(ctx.channel, None)
            self._audit(
                ctx.client,
                ctx.channel,
                f"<@{ctx.user}> turned off the scheduled digest for this channel.",
            )
            ctx.respond(
                text="Scheduled digest turned off."
                if current
                else "There was no schedule; nothing changed."
            )
            return
        taxonomy = self.taxonomy_for(ctx.team)
        schedule = parse_schedule(
            cmd.rest, self._user_tz(ctx.client, ctx.user), taxonomy.ids(), now
        )
        text = escape(describe(schedule, now))
        schedules.set(ctx.channel, schedule.to_dict())  # saved first: only then announced
        error = self._audit(ctx.client, ctx.channel, f"<@{ctx.user}> scheduled the digest: {text}.")
        if error in ("not_in_channel", "channel_not_found"):
            schedules.set(ctx.channel, current.to_dict() if current else None)
            ctx.respond(text="I can't post in this channel, so a digest couldn't be delivered here. "
                         "Invite me (`/invite @Policy Digest`), then schedule again.")  # fmt: skip
            return
        ctx.respond(text=f"Scheduled: {text}.")

    def _user_tz(self, client: WebClient, user: str) -> str:
        """The invoking user's Slack timezone (``users:read``), UTC if Slack won't say."""
        try:
            return client.users_info(user=user)["user"].get("tz") or "UTC"
        except (SlackApiError, KeyError) as exc:
            log.warning("no timezone for %s, using UTC: %s", user, exc)
            return "UTC"

    def cmd_preview(self: Services, cmd: Command, ctx: Invocation) -> None:
        now = time.time()
        schedule = self.channel_schedule(ctx.team, ctx.channel)
        digest = self.build_channel_digest(ctx.team, ctx.channel, until=now, schedule=schedule)
        if digest.total_stories == 0:
            ctx.respond(
                text="Nothing has been shared here since the last digest, so the next one is empty."
            )
            return
        text, blocks = preview_blocks(self._render_parts(digest, None))
        ctx.respond(text=text, blocks=blocks)

    def cmd_now(self: Services, cmd: Command, ctx: Invocation) -> None:
        now = time.time()
        schedule = self.channel_schedule(ctx.team, ctx.channel)

        def plan():
            digest = self.build_channel_digest(ctx.team, ctx.channel, until=now, schedule=schedule)
            parts = [] if digest.empty else self._render_parts(digest, None)  # empty: tell only you
            return _plan(parts, digest.period_start, now, digest.total_stories)

        outcome = self.post_slot(
            ctx.team, ctx.channel, f"{NOW_SLOT_PREFIX}{int(now)}-{ctx.user}", plan, retry_now=True
        )
        messages = {
            "posted": f"Posted the digest ({outcome.items} "
            f"{'story' if outcome.items == 1 else 'stories'}); the next one starts from here.",
            "skipped_empty": "Nothing new has been shared here since the last digest.",
            "busy": "A digest is being posted in this channel right now; try again in a minute.",
            "backoff": "An earlier digest here could not be posted yet; I'll retry it shortly.",
            "failed": "Slack did not take the digest; I'll retry the missing part shortly.",
            "lost_lease": "Posting was interrupted; the clock will finish it shortly.",
        }
        ctx.respond(text=messages.get(outcome.status, f"Digest: {outcome.status}."))

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
