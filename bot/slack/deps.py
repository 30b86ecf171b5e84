"""What Slack listeners may use, typed, so go-to-definition works from a listener.

``bot.slack.app`` puts one ``Deps`` in Bolt's context; listeners call ``deps_of(context)``.
Listeners only ever enqueue: everything after the ack is a job (``bot.jobs``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.jobs.queue import JobQueue
from bot.slack.workspaces import Workspaces
from bot.storage.store import Stores, fail_open

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    jobs: JobQueue
    stores: Stores
    workspaces: Workspaces  # the OAuth flow's installation store
    reaction: str = "memo"  # adding it to a message summarizes the message (SUMMARY_REACTION)
    topic_choices: Callable[[], list[tuple[str, str]]] = field(default=list)  # the 👎 modal's

    def enqueue(self, kind: str, **payload) -> bool:
        """Queue a job; False when the queue is over its depth (say ``busy_text()``)."""
        return self.jobs.enqueue(kind, **payload)

    def busy_text(self) -> str:
        return self.jobs.busy_text()

    def first_delivery(self, team: str, event_id: str | None) -> bool:
        """False for a Slack retry of an event already queued (fails open: Redis down = new)."""
        store = self.stores.for_team(team)
        if not event_id or store is None:
            return True
        first = fail_open(lambda: store.first_delivery(event_id), default=True)
        if not first:
            log.info("event %s already handled (a Slack retry), skipping", event_id)
        return first


def deps_of(context) -> Deps:
    return context["deps"]
