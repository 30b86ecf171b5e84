"""``/digest follow | following | unfollow | alert | alerts``.

Changes (follow, unfollow, alert, alert off) are limited to ``DIGEST_ADMINS`` and announced in
the channel, like ``topics`` and ``schedule``. Answers go to the invoker (``respond``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Any, Protocol

from bot.feeds.poller import PollReport, Resolved
from bot.feeds.store import FeedStore, Follow
from digests.alerts import MAX_RULES, AlertRule, parse_rule
from digests.commands import Command
from digests.errors import InputError
from digests.feed_render import (
    FollowRow,
    alerts_message,
    followed_message,
    following_message,
)
from digests.render import escape, link
from digests.urls import canonical_url, find_urls

WEEK = 7 * 86400


class Ctx(Protocol):
    """The invocation a command runs for (``bot.sharing.Invocation`` has these)."""

    client: Any
    respond: Callable
    team: str
    channel: str
    user: str


class FeedCommands:
    def __init__(
        self,
        feeds: FeedStore,
        resolve: Callable[[str], Resolved],
        poll_now: Callable[[str, Resolved | None], PollReport],
        topic_ids: Callable[[str], Collection[str]],
        require_admin: Callable[[str], None],
        audit: Callable[[Any, str, str], Any],
        *,
        alert_cap: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.feeds = feeds
        self.resolve = resolve
        self.poll_now = poll_now
        self.topic_ids = topic_ids
        self.require_admin = require_admin
        self.audit = audit
        self.alert_cap = alert_cap
        self.clock = clock

    def table(self) -> dict[str, Callable[[Command, Ctx], None]]:
        return {
            "follow": self.follow,
            "following": self.following,
            "unfollow": self.unfollow,
            "alert": self.alert,
            "alerts": self.alerts,
        }

    # -- follow / following / unfollow -----------------------------------------------------------

    def follow(self, cmd: Command, ctx: Ctx) -> None:
        urls = find_urls(cmd.rest)
        if not urls:
            raise InputError(
                "empty", "Give me a feed or a site address: `/digest follow https://…`."
            )
        self.require_admin(ctx.user)
        resolved = self.resolve(urls[0])  # FetchError/FeedError: told to the user
        feed_url, parsed = resolved.url, resolved.parsed
        fid = self.feeds.ensure_feed(feed_url, parsed.title, parsed.link or "")
        follow = Follow(ctx.team, ctx.channel, fid, feed_url, parsed.title, self.clock(), ctx.user)
        if not self.feeds.follow(follow):
            ctx.respond(
                text=f"This channel already follows *{link(feed_url, parsed.title)}*.",
            )
            return
        self.audit(
            ctx.client,
            ctx.channel,
            f"<@{ctx.user}> followed the feed *{link(feed_url, parsed.title)}* for this channel.",
        )
        report = self.poll_now(fid, resolved)
        where = f"{ctx.team}|{ctx.channel}"
        new = report.new.get(where, 0) + report.queued.get(where, 0)
        note = "; ".join(parsed.notes)
        ctx.respond(text=followed_message(parsed.title, feed_url, new, note))

    def rows(self, team: str, channel: str) -> list[tuple[Follow, FollowRow]]:
        now = self.clock()
        out = []
        for f in self.feeds.follows(team, channel):
            state = self.feeds.state(f.fid)
            if state is None:
                out.append((f, FollowRow(f.title, f.url, None, "not polled yet", 0)))
                continue
            if state.result == "error":
                times = f"{state.failures} time{'s' if state.failures != 1 else ''}"
                result = f"failed {times} in a row: {state.message}"
            elif state.result == "not_modified":
                result = "no change"
            elif state.result == "ok":
                result = f"ok, {state.new} new" + (" (feed has XML errors)"
                                                    if state.status == "malformed" else "")  # fmt: skip
            else:
                result = "not polled yet"
            row = FollowRow(
                title=state.title or f.title,
                url=f.url,
                last_poll=state.last_poll,
                result=result,
                items_7d=self.feeds.items_since(f.fid, now - WEEK),
                failing=state.failing,
            )
            out.append((f, row))
        return out

    def following(self, cmd: Command, ctx: Ctx) -> None:
        rows = [row for _, row in self.rows(ctx.team, ctx.channel)]
        text, blocks = following_message(rows, self.clock())
        ctx.respond(text=text, blocks=blocks)

    def unfollow(self, cmd: Command, ctx: Ctx) -> None:
        arg = cmd.rest.strip()
        if not arg:
            raise InputError(
                "empty", "Which feed? `/digest unfollow <URL>` or the number from `following`."
            )
        follows = self.feeds.follows(ctx.team, ctx.channel)
        target = None
        if arg.isdigit():
            n = int(arg)
            if not 1 <= n <= len(follows):
                raise InputError(
                    "bad_number",
                    f"There is no feed number {n} here; `/digest following` lists {len(follows)}.",
                )
            target = follows[n - 1]
        else:
            urls = find_urls(arg)
            wanted = canonical_url(urls[0]) if urls else arg
            for f in follows:
                state = self.feeds.state(f.fid)
                site = state.site if state else ""
                if wanted in (canonical_url(f.url), canonical_url(site) if site else None):
                    target = f
                    break
        if target is None:
            ctx.respond(text="This channel doesn't follow that feed; see `/digest following`.")
            return
        self.require_admin(ctx.user)
        self.feeds.unfollow(ctx.team, ctx.channel, target.fid)
        self.audit(
            ctx.client,
            ctx.channel,
            f"<@{ctx.user}> unfollowed the feed *{link(target.url, target.title)}*.",
        )
        ctx.respond(
            text=f"Unfollowed *{link(target.url, target.title)}*; what it already added stays "
            "in the digest (`/digest forget <link>` removes an item)."
        )

    # -- alerts ---------------------------------------------------------------------------------

    def _rules(self, team: str, channel: str) -> list[AlertRule]:
        return [AlertRule(r["kind"], r["value"]) for r in self.feeds.alert_rules(team, channel)]

    def alert(self, cmd: Command, ctx: Ctx) -> None:
        rest = cmd.rest.strip()
        off = rest.lower().startswith("off ") or rest.lower() == "off"
        if off:
            rest = rest[3:].strip()
        if not rest:
            raise InputError(
                "empty",
                "Give a topic id or a phrase: `/digest alert export_controls` or "
                '`/digest alert "entity list"`; `/digest alert off …` removes one.',
            )
        rule = parse_rule(rest, self.topic_ids(ctx.team))
        self.require_admin(ctx.user)
        if off:
            if not self.feeds.set_alert(ctx.team, ctx.channel, rule.key, None):
                ctx.respond(text=f"There was no alert for {escape(rule.label)} here.")
                return
            self.audit(ctx.client, ctx.channel,
                       f"<@{ctx.user}> turned off the alert for {escape(rule.label)}.")  # fmt: skip
            ctx.respond(text=f"Alert for {escape(rule.label)} turned off.")
            return
        rules = self._rules(ctx.team, ctx.channel)
        if rule in rules or any(r.key == rule.key for r in rules):
            ctx.respond(text=f"This channel already has an alert for {escape(rule.label)}.")
            return
        if len(rules) >= MAX_RULES:
            raise InputError(
                "too_many", f"A channel has at most {MAX_RULES} alerts; turn one off first."
            )
        record = {"kind": rule.kind, "value": rule.value, "by": ctx.user, "at": self.clock()}
        self.feeds.set_alert(ctx.team, ctx.channel, rule.key, record)
        self.audit(
            ctx.client,
            ctx.channel,
            f"<@{ctx.user}> added an alert for {escape(rule.label)}: new items from followed "
            f"feeds and links shared here that match are posted at once (at most "
            f"{self.alert_cap} an hour).",
        )
        ctx.respond(text=f"Alert added for {escape(rule.label)}.")

    def alerts(self, cmd: Command, ctx: Ctx) -> None:
        ctx.respond(text=alerts_message(self._rules(ctx.team, ctx.channel), self.alert_cap))
