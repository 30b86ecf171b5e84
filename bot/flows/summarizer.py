"""Use cases: what the CLI, the Slack handlers and the clock ask the bot to do.

Handlers never touch Redis or the fetcher; they call these. Storage failures degrade as
ARCHITECTURE §3 says: caches fail open, saving fails visibly. The Slack flows live in
``bot.flows.sharing`` (shares, commands), ``bot.delivery.builder`` (digests) and ``bot.delivery.poster`` (posting a
digest exactly once), as mixins of ``Services``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import cached_property
from typing import Any

import redis

from bot.config import Settings
from bot.delivery.builder import DigestMixin
from bot.delivery.poster import PostingMixin
from bot.fetch.fetcher import Fetcher
from bot.flows.sharing import SharingMixin
from bot.flows.sources import Source
from bot.slack.executor import WorkPool
from bot.slack.workspaces import Workspaces
from bot.storage.store import DAY, Store, StoreError, digest_key, fail_open
from digests.analyze import analyze
from digests.extract import extract_article
from digests.models import Article
from digests.topics import Taxonomy
from digests.urls import canonical_url

log = logging.getLogger(__name__)

CACHE_DOWN_NOTE = "The cache was unavailable, so this was not saved."


class Services(SharingMixin, DigestMixin, PostingMixin):
    """The bot's use cases, bound to one configuration, Redis client and fetcher.

    ``cli=True`` keeps everything under ``pd:cli:`` (the command line never shares).
    """

    def __init__(
        self,
        settings: Settings,
        redis_client: redis.Redis | None,
        fetcher: Fetcher | None = None,
        *,
        cli: bool = False,
        pool: WorkPool | None = None,
        workspaces: Workspaces | None = None,
    ) -> None:
        self.settings = settings
        self.redis = redis_client
        self.cli = cli
        self.fetcher = fetcher or Fetcher(allow_private=settings.fetch_allow_private)
        self.pool = pool or WorkPool(workers=settings.workers)
        self.workspaces = workspaces or Workspaces.from_settings(settings, redis_client)
        self._taxonomies: dict[str, Taxonomy] = {}

    def store_for(self, team: str | None) -> Store | None:
        if self.redis is None:
            return None
        if self.cli:
            return Store(self.redis, "pd:cli:")
        return Store.for_team(self.redis, team or "local")

    @cached_property
    def taxonomy(self) -> Taxonomy:
        return Taxonomy.load(self.settings.taxonomy_file or None)

    def taxonomy_for(self, team: str | None) -> Taxonomy:
        """The base taxonomy plus the workspace's own phrases (``/digest topics add``)."""
        store = self.store_for(team)
        extra: dict[str, list[str]] = {}
        if store is not None and not self.cli:
            try:
                extra = store.team_topics()
            except StoreError as exc:
                log.warning("team topics unavailable for %s: %s", team, exc)
        if not extra:
            return self.taxonomy
        key = json.dumps(extra, sort_keys=True)
        if key not in self._taxonomies:
            self._taxonomies = {key: self.taxonomy.with_phrases(extra)}
        return self._taxonomies[key]

    # -- summarizing ----------------------------------------------------------------------------

    def summarize(
        self,
        source: Source,
        *,
        sentences: int | None = None,
        method: str | None = None,
        use_cache: bool = True,
        team: str | None = None,
    ) -> dict:
        """The §4 result object for one source; raises ``InputError`` for refused input."""
        method = method or self.settings.summary_method
        store = self.store_for(team) if use_cache else None
        notes: list[str] = []
        key = self.source_key(source)
        cached = _fail_open(store, notes, lambda s: s.cached_result(key, method, sentences))
        if cached is not None:
            cached["cached"] = True
            return cached
        article = self._article(source, store, notes)
        result = analyze(
            article,
            sentences=sentences,
            method=method,
            taxonomy=self.taxonomy_for(team),
            max_chars=self.settings.text_max_chars,
        )
        if store is not None and not notes:
            ttl = self.settings.summary_cache_days * DAY
            _fail_open(store, notes, lambda s: s.cache_result(key, method, sentences, result, ttl))
        result["notes"] = [*result["notes"], *notes]
        return result

    @staticmethod
    def source_key(source: Source) -> str:
        """Articles are keyed by canonical URL, pasted text by its content hash."""
        if source.kind == "url":
            return digest_key("u", canonical_url(source.text))
        return digest_key("t", source.text)

    def _article(self, source: Source, store: Store | None, notes: list[str]) -> Article:
        if source.kind == "text":
            return Article(text=source.text, title=source.title, url=source.url)
        if source.kind == "html":
            body = source.value.encode() if isinstance(source.value, str) else source.value
            article = extract_article(body, source.url)
            article.title = source.title or article.title
            return article
        url = canonical_url(source.text)
        page_key = digest_key("u", url)
        page = _fail_open(store, notes, lambda s: s.cached_page(page_key))
        if page is not None:
            return Article(**page)
        fetched = self.fetcher.fetch(url)
        final_url = canonical_url(fetched.url)
        article = extract_article(fetched.body, final_url, fetched.content_type, fetched.charset)
        article.url = article.url or final_url
        if store is not None and not notes:
            ttl = self.settings.page_cache_hours * 3600
            _fail_open(store, notes, lambda s: s.cache_page(page_key, vars(article), ttl))
        return article


def _fail_open(store: Store | None, notes: list[str], op: Callable[[Store], Any]) -> Any:
    """A cache operation that, on a Redis error, notes it once and carries on without the cache."""
    if store is None:
        return None
    down = object()
    result = fail_open(lambda: op(store), default=down)
    if result is down:
        if CACHE_DOWN_NOTE not in notes:
            notes.append(CACHE_DOWN_NOTE)
        return None
    return result
