"""A message shared by someone other than its author: a :memo: reaction on it, or the
"Share in thread" button under the shortcut's ephemeral summary.

The message is read through the Web API (``conversations.history`` for a channel message,
``conversations.replies`` for a thread reply), then shared exactly like a pasted one
(``ShareFlow.on_message``: the person's rate limits, one reply per source, the share counted
as theirs). A second reaction on the same message does nothing (a claim per message); a
message with nothing to summarize gets a friendly ephemeral hint instead of silence.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.flows.sharing import ShareFlow
from bot.slack.clients import slack_error
from bot.slack.workspaces import Workspaces
from bot.storage.store import Stores, fail_open
from digests.feedback import NO_SOURCE_HINT
from digests.render import escape
from digests.triggers import message_sources

log = logging.getLogger(__name__)

CLAIM_SECONDS = 7 * 86_400  # as long as a reply ledger: the same message is never re-summarized
UNREADABLE = (
    "I can't read that message. Invite me to the channel (`/invite @Policy Digest`) and try again."
)


def read_message(client: WebClient, channel: str, ts: str, thread_ts: str | None = None):
    """The message at ``ts`` (a dict), or None when Slack won't show it to the bot."""
    try:
        if not thread_ts or thread_ts == ts:
            resp = client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
            for message in resp.get("messages", []):
                if message.get("ts") == ts:
                    return message
        # a thread reply: not in the channel's history; replies take the reply's own ts
        resp = client.conversations_replies(
            channel=channel, ts=thread_ts or ts, latest=ts, oldest=ts, inclusive=True, limit=2
        )
        for message in resp.get("messages", []):
            if message.get("ts") == ts:
                return message
    except SlackApiError as exc:
        log.warning("could not read message %s in %s: %s", ts, channel, slack_error(exc))
    return None


class MessageShares:
    def __init__(self, stores: Stores, shares: ShareFlow, workspaces: Workspaces,
                 reaction: str) -> None:  # fmt: skip
        self.stores = stores
        self.shares = shares
        self.workspaces = workspaces
        self.reaction = reaction

    def share_message(
        self,
        *,
        team: str,
        channel: str,
        ts: str,
        user: str,
        claim: str,
        thread_ts: str | None = None,
        response_url: str = "",
    ) -> None:
        """Summarize the message at ``ts`` in its thread, as a share by ``user``, once."""
        client = self.workspaces.client_for(team)
        if client is None:
            log.warning("share of %s in %s of %s, which has no installation", ts, channel, team)
            return
        if not self._claim(team, channel, ts, claim):
            self._tell(client, channel, user, thread_ts, response_url,
                       "That message is already summarized in its thread.")  # fmt: skip
            return
        message = read_message(client, channel, ts, thread_ts)
        if message is None:
            self._tell(client, channel, user, thread_ts, response_url, UNREADABLE)
            self._release(team, channel, ts)
            return
        text = message.get("text") or ""
        if not message_sources(text, "all"):
            hint = NO_SOURCE_HINT.format(reaction=escape(self.reaction))
            self._tell(client, channel, user, message.get("thread_ts"), response_url, hint)
            self._release(team, channel, ts)
            return
        self.shares.on_message(team=team, channel=channel, user=user, text=text, ts=ts,
                               thread_ts=message.get("thread_ts"), mention=True)  # fmt: skip
        if response_url:
            self.workspaces.responder(response_url)(
                text="Shared in the thread.", replace_original=True
            )

    def _claim(self, team: str, channel: str, ts: str, claim: str) -> bool:
        """First reaction (or a re-run of its own job) wins; fails open when Redis is away."""
        store = self.stores.for_team(team)
        if store is None:
            return True
        key = store.k("ch", channel, "reacted", ts)

        def take() -> bool:
            return bool(store.r.set(key, claim, nx=True, ex=CLAIM_SECONDS)) or (
                store.r.get(key) == claim
            )

        return fail_open(take, default=True)

    def _release(self, team: str, channel: str, ts: str) -> None:
        """Nothing was shared: a later reaction (after an edit, an invite) may try again."""
        store = self.stores.for_team(team)
        if store is not None:
            fail_open(lambda: store.r.delete(store.k("ch", channel, "reacted", ts)))

    def _tell(self, client: WebClient, channel: str, user: str, thread_ts: str | None,
              response_url: str, text: str) -> None:  # fmt: skip
        """Only the person who asked sees it (their ephemeral answer, or an ephemeral post)."""
        if response_url:
            self.workspaces.responder(response_url)(text=text, replace_original=False)
            return
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
        except SlackApiError as exc:
            log.warning("ephemeral hint not posted in %s: %s", channel, slack_error(exc))
