"""Tag feedback: 👍 / 👎 on a summary's tags, stored with the article and thanked ephemerally;
exported for tuning (``python -m bot feedback``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from slack_sdk.errors import SlackApiError

from bot.flows.summarizer import Taxonomies
from bot.slack.clients import slack_error
from bot.slack.workspaces import Workspaces
from bot.storage.feedback import FeedbackStore
from bot.storage.store import FULL_TEXT, StoreFull, Stores
from digests.feedback import ack_text, export_line

log = logging.getLogger(__name__)


class TagFeedback:
    def __init__(self, stores: Stores, workspaces: Workspaces, taxonomies: Taxonomies) -> None:
        self.stores = stores
        self.workspaces = workspaces
        self.taxonomies = taxonomies

    def choices(self) -> list[tuple[str, str]]:
        """Every topic a vote may name: (id, label), the taxonomy's order."""
        base = self.taxonomies.base
        return [(tid, base.topics[tid].label) for tid in base.ids()]

    def vote(
        self,
        *,
        team: str,
        user: str,
        channel: str,
        akey: str,
        vote: str,
        shown: list[str],
        thread_ts: str | None = None,
        wrong: list[str] | None = None,
        missing: list[str] | None = None,
    ) -> None:
        """Store one person's verdict on an article's tags, then thank them (only they see it)."""
        labels = dict(self.choices())
        shown = [t for t in shown if t in labels]
        wrong = [t for t in wrong or [] if t in shown]
        missing = [t for t in missing or [] if t in labels and t not in shown]
        store = self.stores.for_team(team)
        record = {"vote": "up" if vote == "up" else "down", "wrong": wrong, "missing": missing,
                  "shown": shown, "channel": channel}  # fmt: skip
        try:
            FeedbackStore(store).record(akey, user, record)  # other StoreErrors: the job retries
            text = ack_text(record["vote"], wrong, missing, labels)
        except StoreFull:
            text = FULL_TEXT
        client = self.workspaces.client_for(team)
        if client is None:
            return
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
        except SlackApiError as exc:
            log.warning("feedback thanks not posted in %s: %s", channel, slack_error(exc))

    def export(self, teams: list[str]) -> Iterator[dict]:
        """One record per article with votes: the article, the tags it showed, the votes."""
        for team in teams:
            store = self.stores.for_team(team)
            if store is None:
                continue
            votes = FeedbackStore(store)
            for akey in votes.voted_articles():
                yield export_line(team, akey, store.get_article(akey), votes.votes(akey))
