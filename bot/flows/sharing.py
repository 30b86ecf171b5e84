"""The share flow: a message (or mention) with links or an article gets one summary reply in
its thread and is remembered for the channel's digest; deletions, reactions and App Home too.

Every method here runs in a job on a worker (``bot.jobs``), at least once: a job killed
mid-way runs again, so each reply is keyed by (workspace, channel, message ts, source) and
posted once (``ReplyLedger``). Slack errors are logged with context and, where someone can act
on them, told to the user. Text arrives decoded (``from_slack``); user and page text goes out
through ``escape`` exactly once (``InputError`` messages are plain text).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.flows.sources import Source
from bot.flows.summarizer import Summarizer, source_key
from bot.flows.workspace_home import WorkspaceHome
from bot.slack.clients import find_in_thread, permalink, post, slack_error, update
from bot.slack.workspaces import Workspaces
from bot.storage.store import FULL_TEXT, Store, StoreError, StoreFull, Stores, fail_open, item_from
from digests import reply
from digests.errors import InputError
from digests.render import escape
from digests.triggers import AUTO_MODES, message_sources

log = logging.getLogger(__name__)

SAVE_FAILED = (
    "I couldn't save this for the channel's digest (storage is down); share it again later."
)
TOO_MANY = "That's a lot of links at once; I'll catch up if you share them again in a minute."
_FORGET_THIS = re.compile(r"^\s*forget(?:\s+(?:this|it))?\s*[.!]?\s*$", re.IGNORECASE)
SAVE_FULL = "I couldn't save this for the channel's digest: " + FULL_TEXT[0].lower() + FULL_TEXT[1:]
USER_LIMIT = (10, 60)  # links a user may share per minute
CHANNEL_LIMIT = (30, 60)  # links a channel may share per minute
REPLY_EVENT = "policy_digest_reply"


class ReplyLedger:
    """The bot's reply to one source of one message, posted once however often its job runs.

    ``P ch:{c}:reply:{message ts}:{akey}`` (HASH): ``try`` (a post was sent at), ``ts`` (the
    reply), ``done``. A run that finds ``try`` without ``ts`` looks in the thread for a reply
    whose metadata names this key before posting.
    """

    def __init__(self, store: Store | None, channel: str, message_ts: str, akey: str) -> None:
        self.store = store
        self.channel = channel
        self.id = f"{channel}:{message_ts}:{akey}"
        self.key = store.k("ch", channel, "reply", message_ts, akey) if store else ""

    def state(self) -> dict[str, str]:
        return fail_open(lambda: self.store.r.hgetall(self.key), {}) if self.store else {}

    def post_once(self, client: WebClient, thread_ts: str, text: str, blocks: list[dict]):
        """The reply's ts: the recorded one, one found in the thread, or a new post."""
        state = self.state()
        if state.get("ts"):
            return state["ts"]
        if state.get("try"):
            found = find_in_thread(client, self.channel, thread_ts, REPLY_EVENT, self.id)
            if found:
                self._set("ts", found)
                return found
        self._set("try", repr(time.time()))
        meta = {"event_type": REPLY_EVENT, "event_payload": {"key": self.id}}
        ts = post(client, self.channel, thread_ts, text, blocks, metadata=meta)
        if ts:
            self._set("ts", ts)
        return ts

    def finish(self) -> None:
        self._set("done", "1")

    def _set(self, field: str, value: str) -> None:
        if self.store is not None:
            fail_open(lambda: self.store.r.hset(self.key, field, value))
            fail_open(lambda: self.store.r.expire(self.key, 7 * 86_400))


class ShareFlow:
    """Messages, mentions, deletions, reactions and the App Home."""

    def __init__(
        self,
        settings: Settings,
        stores: Stores,
        summarizer: Summarizer,
        workspaces: Workspaces,
        clock: Callable[[], float] = time.time,
        home: WorkspaceHome | None = None,
    ) -> None:
        self.home = home  # the App Home's workspace part (schedules, feeds, topics)
        self.settings = settings
        self.stores = stores
        self.summarizer = summarizer
        self.workspaces = workspaces
        self.clock = clock  # rate-limit windows; tests pin it
        self.after_save: Callable[..., None] | None = None  # called once a new share is saved

    def on_message(
        self,
        *,
        team: str,
        channel: str,
        user: str,
        text: str,
        ts: str,
        thread_ts: str | None = None,
        mention: bool = False,
    ) -> None:
        """A message (or a mention) arrived: summarize what it shares, in thread, once."""
        client = self.workspaces.client_for(team)
        if client is None:
            log.warning("message in %s of %s, which has no installation: dropped", channel, team)
            return
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
        if not self.within_limits(team, channel, user, len(sources)):
            post(client, channel, thread_ts or ts, *reply.error_message(TOO_MANY))
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
        self,
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
        store = self.stores.for_team(team)
        akey = source_key(source)
        ledger = ReplyLedger(store, channel, message_ts, akey)
        mine = ledger.state()
        if mine.get("done"):
            return  # this job ran before and finished: a re-run posts nothing
        try:
            existing = store.get_share(channel, akey) if store else None
        except StoreError:
            existing = None
        if existing is not None and existing.reply_ts and existing.reply_ts != mine.get("ts"):
            article = fail_open(lambda: store.get_article(akey)) or {}
            fail_open(lambda: store.add_share(channel, akey, user=user, message_ts=message_ts))
            title = article.get("title", "this article")
            ledger.post_once(client, thread_ts, *reply.already_message(title, existing.permalink))
            ledger.finish()
            return
        placeholder = ledger.post_once(client, thread_ts, *reply.progress_message(source.label))
        if placeholder is None:
            return
        try:
            result = self.summarizer.summarize(source, team=team)
        except InputError as exc:
            update(client, channel, placeholder, *reply.error_message(exc.message))
            ledger.finish()
            return
        except Exception:
            log.exception("summarizing failed (team %s channel %s)", team, channel)
            update(client, channel, placeholder, *reply.error_message(
                "Something went wrong on my side; try again later."
            ))  # fmt: skip
            ledger.finish()
            return
        link = permalink(client, channel, placeholder)
        failure = self._save_share(store, team, channel, akey, result, user, message_ts,
                                   placeholder, link)  # fmt: skip
        if failure:
            result = {**result, "notes": [*result["notes"], failure]}
        update(client, channel, placeholder, *reply.summary_message(result, feedback_key=akey))
        ledger.finish()
        if not failure and self.after_save is not None:  # alerts (bot.feeds), once per item
            self.after_save(team=team, channel=channel, akey=akey, result=result, user=user,
                            permalink=link)  # fmt: skip

    def _save_share(
        self, store, team, channel, akey, result, user, message_ts, reply_ts, link
    ) -> str | None:
        """Record the share; a note for the reply when it could not be saved."""
        if store is None:
            return SAVE_FAILED
        if fail_open(lambda: store.was_deleted(channel, message_ts)):
            return None  # the message was deleted while we summarized: keep nothing
        fields = ("title", "url", "site", "author", "published", "summary", "topics", "words",
                  "method")  # fmt: skip
        record = {k: result.get(k) for k in fields}
        record["saved_at"] = time.time()
        try:
            store.save_article(akey, record)
            store.add_share(channel, akey, user=user, message_ts=message_ts, reply_ts=reply_ts,
                            permalink=link)  # fmt: skip
            return None
        except StoreFull as exc:
            log.error("storage full, share not saved (team %s channel %s): %s", team, channel, exc)
            return SAVE_FULL
        except StoreError as exc:
            log.error("could not save share (team %s channel %s): %s", team, channel, exc)
            return SAVE_FAILED

    def on_message_deleted(self, *, team: str, channel: str, ts: str) -> None:
        """A deleted Slack message takes its shares out of the channel's digest."""
        store = self.stores.for_team(team)
        dropped = store.remove_message(channel, ts) if store else []  # StoreError: job retries
        if dropped:
            log.info("deleted message %s in %s removed %d share(s)", ts, channel, len(dropped))

    def on_reaction(self, *, team: str, channel: str, ts: str, delta: int) -> None:
        """Reactions on the bot's summary replies rank stories in the digest."""
        fail_open(lambda: self.stores.for_team(team).count_reaction(channel, ts, delta))

    def publish_home(self, *, team: str, user: str) -> None:
        """The user's App Home: their own recent shares, across the channels they shared in."""
        store = self.stores.for_team(team)
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
        client = self.workspaces.client_for(team)
        if client is None:
            return
        try:
            workspace = self.home.blocks(team) if self.home else []
            client.views_publish(user_id=user, view=reply.home_view(items, workspace))
        except SlackApiError as exc:
            log.error("views.publish failed for %s: %s", user, slack_error(exc))

    def within_limits(self, team: str, channel: str, user: str, count: int) -> bool:
        store = self.stores.for_team(team)
        if store is None:
            return True
        now = self.clock()
        try:
            ok_user = store.hit("user", user, *USER_LIMIT, amount=count, now=now)
            ok_channel = store.hit("channel", channel, *CHANNEL_LIMIT, amount=count, now=now)
            return ok_user and ok_channel
        except StoreError:
            return True  # rate limiting fails open, like the other caches

    def _forget_thread(self, client: WebClient, team: str, channel: str, thread_ts: str) -> None:
        """``@Policy Digest forget this`` in a thread: forget what the thread's message shared."""
        try:
            text = forgot_text(forget_at(self.stores.for_team(team), channel, [thread_ts]),
                               "This thread")  # fmt: skip
        except StoreError as exc:
            log.error("forget in %s failed, storage down: %s", channel, exc)
            text = escape("I can't reach my storage right now, so nothing was forgotten.")
        post(client, channel, thread_ts, text, [_section(text)])

    def auto_mode(self, team: str, channel: str) -> str:
        store = self.stores.for_team(team)
        try:
            mode = store.channel_setting(channel, "auto") if store else None
        except StoreError:
            mode = None
        return mode if mode in AUTO_MODES else "all"


def forget_at(store: Store | None, channel: str, stamps: list[str]) -> list[str]:
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


def forgot_text(titles: list[str], what: str) -> str:
    """The answer to ``forget``, escaped (titles are page text)."""
    if not titles:
        return escape(f"{what} has no summary I saved in this channel, so nothing was forgotten.")
    names = ", ".join(f"*{escape(t)}*" for t in titles)
    return f"Forgot {names} in this channel: it won't be in digests."


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
