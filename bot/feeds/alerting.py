"""Posting alerts: match the channel's rules, claim the item once, keep to the hourly cap.

Called for every new feed item in a channel and for every new share (a link pasted there).
Order of steps is what makes "at most one alert per item" hold when a job is re-run: the claim
(``ZADD NX``) comes before the post, so a second run never posts again; a worker that dies
between the claim and Slack's answer loses that one alert (never the item: it is already in
the channel's digest).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.feeds.store import FeedStore
from bot.slack.clients import slack_error
from digests.alerts import AlertRule, CapAction, cap_action, match_rule
from digests.feed_render import AlertItem, alert_message, more_message
from digests.models import TopicTag

log = logging.getLogger(__name__)


class Alerter:
    def __init__(
        self,
        feeds: FeedStore,
        client_for: Callable[[str], WebClient | None],
        *,
        cap: int,
    ) -> None:
        self.feeds = feeds
        self.client_for = client_for
        self.cap = cap

    def consider(self, team: str, channel: str, akey: str, record: dict, item: AlertItem) -> str:
        """Alert on the item if a rule matches; returns what happened (for logs and tests)."""
        rules = [AlertRule(r["kind"], r["value"]) for r in self.feeds.alert_rules(team, channel)]
        if not rules:
            return "no_rules"
        topics = [TopicTag(**t) for t in record.get("topics") or []]
        rule = match_rule(
            rules,
            title=record.get("title") or "",
            summary=record.get("summary") or [],
            topics=topics,
        )
        if rule is None:
            return "no_match"
        if not self.feeds.claim_alert(team, channel, akey):
            return "already_alerted"
        client = self.client_for(team)
        if client is None:
            return "not_installed"
        count, hour = self.feeds.count_alert(team, channel)
        action = cap_action(count, self.cap)
        if action is CapAction.POST:
            text, blocks = alert_message(item, rule)
            self._post(client, channel, text, blocks)
            return "posted"
        self.feeds.push_more(team, channel, hour, item.title, item.url or "")
        if action is CapAction.OPEN_MORE:
            text, blocks = more_message(self.feeds.more_list(team, channel, hour), self.cap)
            ts = self._post(client, channel, text, blocks)
            if ts:
                self.feeds.more_ts(team, channel, hour, ts)
                self._refresh_more(client, team, channel, hour, ts)  # others may have come in
            return "folded"
        ts = self.feeds.more_ts(team, channel, hour)
        if ts:
            self._refresh_more(client, team, channel, hour, ts)
        return "folded"

    def _refresh_more(self, client: WebClient, team: str, channel: str, hour: int, ts: str) -> None:
        text, blocks = more_message(self.feeds.more_list(team, channel, hour), self.cap)
        try:
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("alert summary not updated in %s: %s", channel, slack_error(exc))

    def _post(self, client: WebClient, channel: str, text: str, blocks: list[dict]) -> str | None:
        try:
            resp = client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
            )
            return resp["ts"]
        except SlackApiError as exc:
            log.error("alert not posted in %s: %s", channel, slack_error(exc))
            return None


def alert_item_of(record: dict, **extra) -> AlertItem:
    """What an alert shows, from a stored article record."""
    return AlertItem(
        title=record.get("title") or "Untitled",
        url=record.get("url"),
        summary=list(record.get("summary") or []),
        tags=[t.get("label") or t.get("topic", "") for t in record.get("topics") or []],
        **extra,
    )
