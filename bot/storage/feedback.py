"""Tag feedback votes, stored beside the article they judge (durable; pruned with it).

Keys (``P`` as in ``bot.storage.store``):
  P feedback:{akey}    HASH user id -> the user's latest vote (JSON: vote, wrong, missing,
                       shown, channel, at); one vote per person per article, the last one counts
  P feedback           ZSET akey -> time of its latest vote (the export walks it)
``Store.prune`` deletes both with the article, so votes keep the articles' retention.
"""

from __future__ import annotations

import json
import time

from bot.storage.store import Store


class FeedbackStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.r = store.r

    def record(self, akey: str, user: str, vote: dict, now: float | None = None) -> None:
        now = time.time() if now is None else now
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(self.store.k("feedback", akey), user, json.dumps({**vote, "at": now}))
        pipe.zadd(self.store.k("feedback"), {akey: now})
        pipe.execute()
        self.store.index("teams")

    def votes(self, akey: str) -> list[dict]:
        raw = self.r.hgetall(self.store.k("feedback", akey))
        return [json.loads(v) for v in raw.values()]

    def voted_articles(self) -> list[str]:
        """Articles with votes, oldest vote first."""
        return list(self.r.zrange(self.store.k("feedback"), 0, -1))
