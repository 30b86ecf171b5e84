"""``/digest``: an explicit table from subcommand to method, each answering the invoker.

Runs in a job on a worker, after the ack (``help`` is answered in the ack itself). Answers go
to ``respond`` (the command's ``response_url``, ephemeral); settings changes are announced in
the channel. User and page text goes out through ``escape`` exactly once.
"""

from __future__ import annotations

import difflib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.delivery.builder import DigestBuilder, plan_of, preview_blocks
from bot.delivery.ledger import Schedules
from bot.delivery.poster import DigestPoster, Status
from bot.flows.sharing import ShareFlow, forget_at, forgot_text
from bot.flows.sources import Source, SourceKind
from bot.flows.summarizer import Summarizer, Taxonomies, source_key
from bot.slack.clients import slack_error
from bot.storage.store import FULL_TEXT, StoreError, StoreFull, Stores
from digests import reply
from digests.commands import Command, parse_topic_phrases
from digests.errors import InputError
from digests.render import escape
from digests.schedule import describe, parse_schedule
from digests.triggers import AUTO_MODES
from digests.urls import canonical_url, find_urls, slack_permalink

log = logging.getLogger(__name__)

RECENT_DAYS = 30
TOO_MANY_SUMMARIES = "That's a lot of summaries at once; try again in a minute."
FORGET_HOW = (
    "Give me the link to forget, `/digest forget <link>`; for a pasted text, the thread's link "
    "(⋯ → Copy link), or mention me in its thread: `@Policy Digest forget this`."
)
NOW_SLOT_PREFIX = "now-"
SLACK_HINTS = {
    "not_in_channel": "Invite me to the channel first (`/invite @Policy Digest`).",
    "channel_not_found": "I can't see that channel; invite me to it first.",
    "ratelimited": "Slack asked me to slow down; try again in a minute.",
    "invalid_auth": "My Slack token is not valid; ask an admin to reinstall the app.",
}


@dataclass(frozen=True)
class Invocation:
    """Who ran a ``/digest`` command, where, and how to answer them."""

    client: WebClient
    respond: Callable
    team: str
    channel: str
    user: str
    at: float = 0.0  # when the command was sent: a re-run job names the same `now` slot


class Commands:
    """The ``/digest`` subcommands (``help`` excepted: the ack answers it)."""

    def __init__(
        self,
        settings: Settings,
        stores: Stores,
        summarizer: Summarizer,
        taxonomies: Taxonomies,
        shares: ShareFlow,
        builder: DigestBuilder,
        poster: DigestPoster,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.stores = stores
        self.summarizer = summarizer
        self.taxonomies = taxonomies
        self.shares = shares
        self.builder = builder
        self.poster = poster
        self.clock = clock
        self.table: dict[str, Callable[[Command, Invocation], None]] = {
            "summarize": self.cmd_summarize,
            "recent": self.cmd_recent,
            "forget": self.cmd_forget,
            "auto": self.cmd_auto,
            "topics": self.cmd_topics,
            "schedule": self.cmd_schedule,
            "preview": self.cmd_preview,
            "now": self.cmd_now,
        }

    def is_admin(self, user: str) -> bool:
        return not self.settings.digest_admins or user in self.settings.digest_admins

    def run(
        self,
        cmd: Command,
        *,
        client: WebClient,
        respond: Callable,
        team: str,
        channel: str,
        user: str,
        at: float = 0.0,
    ) -> None:
        """Everything ``/digest`` does after the ack; answers go to ``respond`` (ephemeral)."""
        try:
            handler = self.table.get(cmd.name)
            if handler is None:
                raise InputError(
                    "unknown_command", f"Unknown command `{cmd.name}`; try `/digest help`."
                )
            handler(cmd, Invocation(client, respond, team, channel, user, at))
        except InputError as exc:
            respond(text=escape(exc.message))
        except StoreFull as exc:
            log.error("/digest %s refused, storage full (team %s): %s", cmd.name, team, exc)
            respond(text=FULL_TEXT)
        except StoreError as exc:
            log.error(
                "/digest %s failed, storage down (team %s channel %s): %s",
                cmd.name,
                team,
                channel,
                exc,
            )
            respond(
                text="I can't reach my storage right now, so nothing was changed. Try again in a minute."
            )
        except SlackApiError as exc:
            error = slack_error(exc)
            log.error(
                "/digest %s: Slack error %s (team %s channel %s)", cmd.name, error, team, channel
            )
            respond(text=SLACK_HINTS.get(error, f"Slack said `{error}`; try again later."))
        except Exception:
            log.exception("/digest %s failed (team %s channel %s)", cmd.name, team, channel)
            respond(text="Something went wrong on my side; try again later.")

    def cmd_summarize(self, cmd: Command, ctx: Invocation) -> None:
        if not self.shares.within_limits(ctx.team, ctx.channel, ctx.user, 1):
            ctx.respond(text=escape(TOO_MANY_SUMMARIES))
            return
        urls = find_urls(cmd.rest)
        source = Source(SourceKind.URL, urls[0]) if urls else Source(SourceKind.TEXT, cmd.rest)
        try:
            result = self.summarizer.summarize(
                source, sentences=cmd.sentences, method=cmd.method, team=ctx.team
            )
        except InputError as exc:
            ctx.respond(text=f":warning: {escape(exc.message)}")
            return
        text, blocks = reply.summary_message(result)
        ctx.respond(text=text, blocks=blocks)

    def cmd_recent(self, cmd: Command, ctx: Invocation) -> None:
        topic = cmd.args[0].lower() if cmd.args else None
        now = self.clock()
        items = self.builder.shared_items(
            ctx.team, ctx.channel, now - RECENT_DAYS * 86400, now + 1, limit=200
        )
        if topic:
            items = [item for item in items if topic in {t.topic for t in item.topics}]
        ctx.respond(text=reply.recent_message(items[:15], topic))

    def cmd_forget(self, cmd: Command, ctx: Invocation) -> None:
        """``forget <link>``: an article's link, or a Slack link to its message or thread."""
        urls = find_urls(cmd.rest)
        if not urls:
            raise InputError("empty", FORGET_HOW)
        store = self.stores.for_team(ctx.team)
        thread = slack_permalink(urls[0])
        if thread is not None:
            channel, stamps = thread
            if channel != ctx.channel:
                raise InputError("other_channel", "That thread is in another channel; run "
                                 "`/digest forget` there.")  # fmt: skip
            ctx.respond(text=forgot_text(forget_at(store, ctx.channel, stamps), "That thread"))
            return
        akey = source_key(Source(SourceKind.URL, urls[0]))
        if store.forget(ctx.channel, akey):
            url = canonical_url(urls[0])
            ctx.respond(text=f"Forgot {escape(url)} in this channel: it won't be in digests.")
        else:
            ctx.respond(
                text="That link wasn't shared in this channel, so there was nothing to forget."
            )

    def cmd_auto(self, cmd: Command, ctx: Invocation) -> None:
        mode = cmd.args[0].lower() if cmd.args else ""
        current = self.shares.auto_mode(ctx.team, ctx.channel)
        if mode not in AUTO_MODES:
            wrong = f"`{escape(cmd.args[0][:40])}` isn't a mode. " if cmd.args else ""
            ctx.respond(
                text=f"{wrong}This channel is on `auto {current}`. "
                "Choose `/digest auto links`, `all` (links and pasted articles) or `off`."
            )
            return
        self._require_admin(ctx.user)
        if mode == current:
            ctx.respond(text=f"This channel is already on `auto {mode}`; nothing changed.")
            return
        self.stores.for_team(ctx.team).set_channel_setting(ctx.channel, "auto", mode)
        self._audit(
            ctx.client, ctx.channel, f"<@{ctx.user}> set `/digest auto {mode}` for this channel."
        )
        ctx.respond(text=f"Done: `auto {mode}`.")

    def cmd_topics(self, cmd: Command, ctx: Invocation) -> None:
        action = cmd.args[0].lower() if cmd.args else ""
        store = self.stores.for_team(ctx.team)
        if action == "add":
            self._require_admin(ctx.user)
            rest = cmd.rest.split(None, 1)[1] if len(cmd.args) > 1 else ""
            new = re.search(r"\s--new\s*$", rest) is not None
            topic, phrases = parse_topic_phrases(re.sub(r"\s--new\s*$", "", rest))
            team_topics = store.team_topics()
            known = set(self.taxonomies.base.ids()) | set(team_topics)
            if topic not in known and not new:
                close = difflib.get_close_matches(topic, sorted(known), n=1, cutoff=0.6)
                hint = f"Did you mean `{close[0]}`? " if close else ""
                ctx.respond(text=escape(
                    f"There is no topic `{topic}`. {hint}To create it, repeat the command "
                    f"with `--new` at the end: `/digest topics add {topic} \"…\" --new`."
                ))  # fmt: skip
                return
            current = team_topics.get(topic, [])
            merged = current + [p for p in phrases if p.lower() not in {c.lower() for c in current}]
            store.set_team_topic(topic, merged)
            quoted = ", ".join(f"“{escape(p)}”" for p in phrases)
            self._audit(
                ctx.client,
                ctx.channel,
                f"<@{ctx.user}> added {quoted} to topic `{topic}` for this workspace.",
            )
            ctx.respond(text=f"Topic `{topic}` now also matches {quoted}.")
            return
        if action == "remove":
            self._require_admin(ctx.user)
            topic = cmd.args[1].lower() if len(cmd.args) > 1 else ""
            if topic not in store.team_topics():
                ctx.respond(
                    text=f"`{escape(topic or '?')}` has no phrases added by this workspace."
                )
                return
            store.set_team_topic(topic, None)
            self._audit(
                ctx.client,
                ctx.channel,
                f"<@{ctx.user}> removed this workspace's phrases for topic `{topic}`.",
            )
            ctx.respond(text=f"Removed this workspace's phrases for `{topic}`.")
            return
        taxonomy = self.taxonomies.for_team(ctx.team)
        extra = store.team_topics() if store else {}
        lines = ["*Topics I tag* (id — label — a few phrases):"]
        for tid in taxonomy.ids():
            topic = taxonomy.topics[tid]
            sample = ", ".join(cue.text.rstrip("*") for cue in topic.phrases[:4])
            mine = f" _(+{len(extra[tid])} added here)_" if tid in extra else ""
            lines.append(f"• `{tid}` — {reply.escape(topic.label)} — {reply.escape(sample)}{mine}")
        ctx.respond(text="\n".join(lines))

    def _require_admin(self, user: str) -> None:
        if not self.is_admin(user):
            raise InputError(
                "not_admin", "Only the digest admins of this workspace can change that."
            )

    def _audit(self, client: WebClient, channel: str, text: str) -> str | None:
        """Every settings change is announced in the channel (who did what).

        Returns Slack's error code when the line could not be posted (e.g. ``not_in_channel``).
        """
        try:
            client.chat_postMessage(channel=channel, text=text)
            return None
        except SlackApiError as exc:
            log.warning("audit line not posted in %s: %s", channel, slack_error(exc))
            return slack_error(exc)

    def cmd_schedule(self, cmd: Command, ctx: Invocation) -> None:
        now = self.clock()
        current = self.builder.schedule_of(ctx.team, ctx.channel)
        if not cmd.args:
            if current is None:
                ctx.respond(
                    text="No digest is scheduled here. Try `/digest schedule weekly mon 09:00`."
                )
            else:
                ctx.respond(text=f"Digest here: {escape(describe(current, now))}.")
            return
        self._require_admin(ctx.user)
        schedules = Schedules(self.stores.for_team(ctx.team))
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
        taxonomy = self.taxonomies.for_team(ctx.team)
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

    def cmd_preview(self, cmd: Command, ctx: Invocation) -> None:
        now = self.clock()
        schedule = self.builder.schedule_of(ctx.team, ctx.channel)
        digest = self.builder.build(ctx.team, ctx.channel, until=now, schedule=schedule)
        if digest.total_stories == 0:
            ctx.respond(
                text="Nothing has been shared here since the last digest, so the next one is empty."
            )
            return
        chart = self.builder.chart_periods(ctx.team, ctx.channel, digest)
        text, blocks = preview_blocks(self.builder.render_parts(digest, None, chart), chart)
        ctx.respond(text=text, blocks=blocks)

    def cmd_now(self, cmd: Command, ctx: Invocation) -> None:
        now = ctx.at or self.clock()
        schedule = self.builder.schedule_of(ctx.team, ctx.channel)

        def plan():
            digest = self.builder.build(ctx.team, ctx.channel, until=now, schedule=schedule)
            if digest.empty:  # tell only you
                return plan_of([], digest.period_start, now, 0)
            return self.builder.plan(ctx.team, ctx.channel, digest, None)

        outcome = self.poster.post_slot(
            ctx.team, ctx.channel, f"{NOW_SLOT_PREFIX}{int(now)}-{ctx.user}", plan, retry_now=True
        )
        messages = {
            Status.POSTED: f"Posted the digest ({outcome.items} "
            f"{'story' if outcome.items == 1 else 'stories'}); the next one starts from here.",
            Status.SKIPPED_EMPTY: "Nothing new has been shared here since the last digest.",
            Status.BUSY: "A digest is being posted in this channel right now; try again in a minute.",
            Status.BACKOFF: "An earlier digest here could not be posted yet; I'll retry it shortly.",
            Status.FAILED: "Slack did not take the digest; I'll retry the missing part shortly.",
            Status.LOST_LEASE: "Posting was interrupted; the clock will finish it shortly.",
        }
        ctx.respond(text=messages.get(outcome.status, f"Digest: {outcome.status.value}."))
