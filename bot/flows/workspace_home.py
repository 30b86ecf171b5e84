"""What the App Home shows about the workspace (beyond the user's own shares): each channel's
digest schedule with its next run, the followed feeds, and the topics the bot tags."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.delivery.ledger import Schedules
from bot.flows.summarizer import Taxonomies
from bot.storage.store import StoreError, Stores
from digests.home import workspace_blocks
from digests.schedule import Schedule, describe, next_slot

log = logging.getLogger(__name__)

FeedLister = Callable[[str], list[tuple[str, str]]]  # team -> (channel, feed title or URL)


def followed_feeds_for_home(team: str) -> list[tuple[str, str]] | None:
    """HOOK for the feeds issue (``/digest follow``): return (channel, title) per followed
    feed from its store. None until then, and the Home leaves the part out."""
    return None


class WorkspaceHome:
    def __init__(
        self,
        stores: Stores,
        taxonomies: Taxonomies,
        clock: Callable[[], float] = time.time,
        feeds: Callable[[str], list[tuple[str, str]] | None] = followed_feeds_for_home,
    ) -> None:
        self.stores = stores
        self.taxonomies = taxonomies
        self.clock = clock
        self.feeds = feeds

    def blocks(self, team: str) -> list[dict]:
        store = self.stores.for_team(team)
        now = self.clock()
        schedules: list[tuple[float, str, str]] = []
        added: dict[str, list[str]] = {}
        try:
            if store is not None:
                added = store.team_topics()
                for channel, data in Schedules(store).all().items():
                    try:
                        schedule = Schedule.from_dict(data)
                        schedules.append((next_slot(schedule, now).at, channel,
                                          describe(schedule, now)))  # fmt: skip
                    except (ValueError, KeyError, TypeError) as exc:
                        log.warning("unreadable schedule in %s of %s: %s", channel, team, exc)
        except StoreError as exc:
            log.warning("App Home for %s without workspace data, storage down: %s", team, exc)
        taxonomy = self.taxonomies.base
        topics = [(tid, taxonomy.topics[tid].label, len(added.get(tid, [])))
                  for tid in taxonomy.ids()]  # fmt: skip
        return workspace_blocks(
            [(channel, text) for _at, channel, text in sorted(schedules)],
            topics,
            self.feeds(team),
        )
