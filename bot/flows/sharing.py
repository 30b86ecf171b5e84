"""Slack flows for shared articles: replies in thread, "already summarized", and the channel
commands (summarize, recent, forget, auto, topics). A mixin of ``bot.flows.summarizer.Services``.

Everything here runs after the ack, on our own pool. Slack errors are logged with context and,
where someone can act on them, told to the user. Text arrives decoded (``from_slack``); user and
page text goes out through ``escape`` exactly once (``InputError`` messages are plain text).
"""

from __future__ import annotations

import difflib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.flows.sources import Source
from bot.slack.clients import slack_error
from bot.storage.store import StoreError, fail_open, item_from
from digests import reply
from digests.commands import Command, help_text, parse_topic_phrases
from digests.errors import InputError
from digests.render import escape
from digests.triggers import AUTO_MODES, message_sources
from digests.urls import canonical_url, find_urls, slack_permalink

if TYPE_CHECKING:
    from bot.flows.summarizer import Services

log = logging.getLogger(__name__)

SAVE_FAILED = (
    "I couldn't save this for the channel's digest (storage is down); share it again later."
)
USER_LIMIT = (10, 60)  # links a user may share per minute
CHANNEL_LIMIT = (30, 60)  # links a channel may share per minute
RECENT_DAYS = 30
TOO_MANY = "That's a lot of links at once; I'll catch up if you share them again in a minute."
TOO_MANY_SUMMARIES = "That's a lot of summaries at once; try again in a minute."
FORGET_HOW = (
    "Give me the link to forget, `/digest forget <link>`; for a pasted text, the thread's link "
    "(⋯ → Copy link), or mention me in its thread: `@Policy Digest forget this`."
)
_FORGET_THIS = re.compile(r"^\s*forget(?:\s+(?:this|it))?\s*[.!]?\s*$", re.IGNORECASE)

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


class SharingMixin:
    """Flows for messages, mentions and the ``/digest`` commands that don't build digests."""

    clock: Callable[[], float] = staticmethod(time.time)  # rate-limit windows; tests pin it

    # -- messages and mentions ------------------------------------------------------------------

    def on_message(
        self: Services,
        client: WebClient,
        *,
        team: str,
        channel: str,
        user: str,
        text: str,
        ts: str,
        thread_ts: str | None,
        event_id: str | None,
        mention: bool = False,
    ) -> None:
        """A message (or a mention) arrived: summarize what it shares, in thread, once."""
        store = self.store_for(team)
        if event_id and store is not None:
            try:
                if not store.first_delivery(event_id):
                    log.info("event %s already handled (a Slack retry), skipping", event_id)
                    return
            except StoreError as exc:
                log.warning("event dedup unavailable, handling %s anyway: %s", event_id, exc)
        if mention and thread_ts and _FORGET_THIS.match(text):
            self._forget_thread(client, team, channel, thread_ts)
            return
        auto = "all" if mention else self.auto_mode(team, channel)
        sources = message_sources(text, auto)
        if not sources:
            log.debug(
                "message %s in %s not summarized: no link or article-length text", ts, channel
            )
            return
        if not self._within_limits(team, channel, user, len(sources)):
            self._post(client, channel, thread_ts or ts, *reply.error_message(TOO_MANY))
            return
        for kind, value in sources:
            self.share(
                client,
                team=team,
                channel=channel,
                user=user,
                message_ts=ts,
                thread_ts=thread_ts or ts,
                source=Source(kind, value),
            )

    def share(
        self: Services,
        client: WebClient,
        *,
        team: str,
        channel: str,
        user: str,
        message_ts: str,
        thread_ts: str,
        source: Source,
    ) -> None:
        """Reply in thread with the summary (or "already summarized") and record the share."""
        store = self.store_for(team)
        akey = self.source_key(source)
        try:
            existing = store.get_share(channel, akey) if store else None
        except StoreError:
            existing = None
        if existing is not None and existing.reply_ts:
            article = fail_open(lambda: store.get_article(akey)) or {}
            fail_open(lambda: store.add_share(channel, akey, user=user, message_ts=message_ts))
            self._post(
                client,
                channel,
                thread_ts,
                *reply.already_message(article.get("title", "this article"), existing.permalink),
            )
            return
        placeholder = self._post(client, channel, thread_ts, *reply.progress_message(source.label))
        if placeholder is None:
            return
        try:
            result = self.summarize(source, team=team)
        except InputError as exc:
            self._update(client, channel, placeholder, *reply.error_message(exc.message))
            return
        except Exception:
            log.exception("summarizing failed (team %s channel %s)", team, channel)
            self._update(
                client,
                channel,
                placeholder,
                *reply.error_message("Something went wrong on my side; try again later."),
            )
            return
        permalink = self._permalink(client, channel, placeholder)
        if not self._save_share(
            store, team, channel, akey, result, user, message_ts, placeholder, permalink
        ):
            result = {**result, "notes": [*result["notes"], SAVE_FAILED]}
        self._update(client, channel, placeholder, *reply.summary_message(result))

    def _save_share(
        self, store, team, channel, akey, result, user, message_ts, reply_ts, permalink
    ) -> bool:
        if store is None:
            return False
        if fail_open(lambda: store.was_deleted(channel, message_ts)):
            return True  # the message was deleted while we summarized: keep nothing
        record = {
            k: result.get(k)
            for k in (
                "title",
                "url",
                "site",
                "author",
                "published",
                "summary",
                "topics",
                "words",
                "method",
            )
        }
        record["saved_at"] = time.time()
        try:
            store.save_article(akey, record)
            store.add_share(
                channel,
                akey,
                user=user,
                message_ts=message_ts,
                reply_ts=reply_ts,
                permalink=permalink,
            )
            return True
        except StoreError as exc:
            log.error("could not save share (team %s channel %s): %s", team, channel, exc)
            return False

    def on_message_deleted(self: Services, *, team: str, channel: str, ts: str) -> None:
        """A deleted Slack message takes its shares out of the channel's digest."""
        store = self.store_for(team)
        try:
            dropped = store.remove_message(channel, ts) if store else []
        except StoreError as exc:
            log.error("could not remove shares of deleted message %s in %s: %s", ts, channel, exc)
            return
        if dropped:
            log.info("deleted message %s in %s removed %d share(s)", ts, channel, len(dropped))

    def on_reaction(self: Services, *, team: str, channel: str, ts: str, delta: int) -> None:
        """Reactions on the bot's summary replies rank stories in the digest."""
        fail_open(lambda: self.store_for(team).count_reaction(channel, ts, delta))

    def publish_home(self: Services, client: WebClient, *, team: str, user: str) -> None:
        """The user's App Home: their own recent shares, across the channels they shared in."""
        store = self.store_for(team)
        try:
            shares = store.user_shares(user) if store else []
            articles = store.get_articles([s.akey for _, s in shares]) if shares else []
        except StoreError as exc:
            log.warning("App Home for %s without data, storage down: %s", user, exc)
            shares, articles = [], []
        items = [
            (channel, item_from(share, article))
            for (channel, share), article in zip(shares, articles, strict=True)
            if article
        ]
        try:
            client.views_publish(user_id=user, view=reply.home_view(items))
        except SlackApiError as exc:
            log.error("views.publish failed for %s: %s", user, slack_error(exc))

    def _within_limits(self: Services, team: str, channel: str, user: str, count: int) -> bool:
        store = self.store_for(team)
        if store is None:
            return True
        now = self.clock()
        try:
            ok_user = store.hit("user", user, *USER_LIMIT, amount=count, now=now)
            ok_channel = store.hit("channel", channel, *CHANNEL_LIMIT, amount=count, now=now)
            return ok_user and ok_channel
        except StoreError:
            return True  # rate limiting fails open, like the other caches

    # -- Slack calls ----------------------------------------------------------------------------

    def _post(
        self, client: WebClient, channel: str, thread_ts: str | None, text: str, blocks: list[dict]
    ) -> str | None:
        try:
            resp = client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
            return resp["ts"]
        except SlackApiError as exc:
            log.error("chat.postMessage failed in %s: %s", channel, slack_error(exc))
            return None

    def _update(
        self, client: WebClient, channel: str, ts: str, text: str, blocks: list[dict]
    ) -> None:
        try:
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.error("chat.update failed in %s: %s", channel, slack_error(exc))

    def _permalink(self, client: WebClient, channel: str, ts: str) -> str:
        try:
            return client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
        except SlackApiError as exc:
            log.warning("chat.getPermalink failed in %s: %s", channel, slack_error(exc))
            return ""

    # -- /digest commands -----------------------------------------------------------------------

    def auto_mode(self: Services, team: str, channel: str) -> str:
        store = self.store_for(team)
        try:
            mode = store.channel_setting(channel, "auto") if store else None
        except StoreError:
            mode = None
        return mode if mode in AUTO_MODES else "all"

    def is_admin(self: Services, user: str) -> bool:
        return not self.settings.digest_admins or user in self.settings.digest_admins

    def run_command(
        self: Services,
        cmd: Command,
        *,
        client: WebClient,
        respond: Callable,
        team: str,
        channel: str,
        user: str,
    ) -> None:
        """Everything ``/digest`` does after the ack; answers go to ``respond`` (ephemeral)."""
        try:
            handler = getattr(self, f"cmd_{cmd.name}")
            handler(cmd, Invocation(client, respond, team, channel, user))
        except InputError as exc:
            respond(text=escape(exc.message))
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

    def cmd_help(self: Services, cmd: Command, ctx: Invocation) -> None:
        ctx.respond(text=escape(help_text(cmd.rest)))

    def cmd_summarize(self: Services, cmd: Command, ctx: Invocation) -> None:
        if not self._within_limits(ctx.team, ctx.channel, ctx.user, 1):
            ctx.respond(text=escape(TOO_MANY_SUMMARIES))
            return
        urls = find_urls(cmd.rest)
        source = Source("url", urls[0]) if urls else Source("text", cmd.rest)
        try:
            result = self.summarize(
                source, sentences=cmd.sentences, method=cmd.method, team=ctx.team
            )
        except InputError as exc:
            ctx.respond(text=f":warning: {escape(exc.message)}")
            return
        text, blocks = reply.summary_message(result)
        ctx.respond(text=text, blocks=blocks)

    def cmd_recent(self: Services, cmd: Command, ctx: Invocation) -> None:
        topic = cmd.args[0].lower() if cmd.args else None
        now = time.time()
        items = self.shared_items(
            ctx.team, ctx.channel, now - RECENT_DAYS * 86400, now + 1, limit=200
        )
        if topic:
            items = [item for item in items if topic in {t.topic for t in item.topics}]
        ctx.respond(text=reply.recent_message(items[:15], topic))

    def cmd_forget(self: Services, cmd: Command, ctx: Invocation) -> None:
        """``forget <link>``: an article's link, or a Slack link to its message or thread."""
        urls = find_urls(cmd.rest)
        if not urls:
            raise InputError("empty", FORGET_HOW)
        store = self.store_for(ctx.team)
        thread = slack_permalink(urls[0])
        if thread is not None:
            channel, stamps = thread
            if channel != ctx.channel:
                raise InputError("other_channel", "That thread is in another channel; run "
                                 "`/digest forget` there.")  # fmt: skip
            titles = self._forget_at(store, ctx.channel, stamps)
            ctx.respond(text=_forgot(titles, "That thread"))
            return
        akey = self.source_key(Source("url", urls[0]))
        if store.forget(ctx.channel, akey):
            url = canonical_url(urls[0])
            ctx.respond(text=f"Forgot {escape(url)} in this channel: it won't be in digests.")
        else:
            ctx.respond(
                text="That link wasn't shared in this channel, so there was nothing to forget."
            )

    def _forget_thread(self: Services, client, team: str, channel: str, thread_ts: str) -> None:
        """``@Policy Digest forget this`` in a thread: forget what the thread's message shared."""
        try:
            text = _forgot(
                self._forget_at(self.store_for(team), channel, [thread_ts]), "This thread"
            )
        except StoreError as exc:
            log.error("forget in %s failed, storage down: %s", channel, exc)
            text = escape("I can't reach my storage right now, so nothing was forgotten.")
        self._post(client, channel, thread_ts, text, [_section(text)])

    @staticmethod
    def _forget_at(store, channel: str, stamps: list[str]) -> list[str]:
        """Forget the articles shared by the first of ``stamps`` that names a share; their titles."""
        if store is None:
            raise StoreError("no storage")
        for ts in stamps:
            akeys = sorted(store.akeys_at(channel, ts))
            forgotten = [akey for akey in akeys if store.forget(channel, akey)]
            if forgotten:
                articles = store.get_articles(forgotten)
                return [(a or {}).get("title") or "Untitled" for a in articles]
        return []

    def cmd_auto(self: Services, cmd: Command, ctx: Invocation) -> None:
        mode = cmd.args[0].lower() if cmd.args else ""
        current = self.auto_mode(ctx.team, ctx.channel)
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
        self.store_for(ctx.team).set_channel_setting(ctx.channel, "auto", mode)
        self._audit(
            ctx.client, ctx.channel, f"<@{ctx.user}> set `/digest auto {mode}` for this channel."
        )
        ctx.respond(text=f"Done: `auto {mode}`.")

    def cmd_topics(self: Services, cmd: Command, ctx: Invocation) -> None:
        action = cmd.args[0].lower() if cmd.args else ""
        store = self.store_for(ctx.team)
        if action == "add":
            self._require_admin(ctx.user)
            rest = cmd.rest.split(None, 1)[1] if len(cmd.args) > 1 else ""
            new = re.search(r"\s--new\s*$", rest) is not None
            topic, phrases = parse_topic_phrases(re.sub(r"\s--new\s*$", "", rest))
            team_topics = store.team_topics()
            known = set(self.taxonomy.ids()) | set(team_topics)
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
        taxonomy = self.taxonomy_for(ctx.team)
        extra = store.team_topics() if store else {}
        lines = ["*Topics I tag* (id — label — a few phrases):"]
        for tid in taxonomy.ids():
            topic = taxonomy.topics[tid]
            sample = ", ".join(cue.text.rstrip("*") for cue in topic.phrases[:4])
            mine = f" _(+{len(extra[tid])} added here)_" if tid in extra else ""
            lines.append(f"• `{tid}` — {reply.escape(topic.label)} — {reply.escape(sample)}{mine}")
        ctx.respond(text="\n".join(lines))

    def _require_admin(self: Services, user: str) -> None:
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


def _forgot(titles: list[str], what: str) -> str:
    """The answer to ``forget``, escaped (titles are page text)."""
    if not titles:
        return escape(f"{what} has no summary I saved in this channel, so nothing was forgotten.")
    names = ", ".join(f"*{escape(t)}*" for t in titles)
    return f"Forgot {names} in this channel: it won't be in digests."


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
