"""Summarizing one source: cache → fetch → extract → analyze, for the CLI, commands and shares.

Storage failures degrade as docs/architecture.md says: caches fail open (a note says so),
nothing here ever fails because Redis is down or full.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import cached_property
from typing import Any

from bot.config import Settings
from bot.fetch.fetcher import Fetcher
from bot.flows.sources import Source, SourceKind
from bot.storage.store import DAY, Store, StoreError, Stores, digest_key, fail_open
from digests.analyze import analyze
from digests.extract import word_count
from digests.models import Article
from digests.topics import Taxonomy
from digests.urls import canonical_url

log = logging.getLogger(__name__)

CACHE_DOWN_NOTE = "The cache was unavailable, so this was not saved."


class Taxonomies:
    """The base taxonomy, plus each workspace's own phrases (``/digest topics add``)."""

    def __init__(self, settings: Settings, stores: Stores) -> None:
        self.settings = settings
        self.stores = stores
        self._merged: dict[str, Taxonomy] = {}

    @cached_property
    def base(self) -> Taxonomy:
        return Taxonomy.load(self.settings.taxonomy_file or None)

    def for_team(self, team: str | None) -> Taxonomy:
        store = self.stores.for_team(team)
        extra: dict[str, list[str]] = {}
        if store is not None and not self.stores.cli:
            try:
                extra = store.team_topics()
            except StoreError as exc:
                log.warning("team topics unavailable for %s: %s", team, exc)
        if not extra:
            return self.base
        key = json.dumps(extra, sort_keys=True)
        if key not in self._merged:
            self._merged = {key: self.base.with_phrases(extra)}
        return self._merged[key]


def source_key(source: Source) -> str:
    """Articles are keyed by canonical URL, pasted text by its content hash."""
    if source.kind is SourceKind.URL:
        return digest_key("u", canonical_url(source.text))
    return digest_key("t", source.text)


class Summarizer:
    """The result object (README, command line) for a source, cached per workspace or ``pd:cli:``."""

    def __init__(
        self,
        settings: Settings,
        stores: Stores,
        fetcher: Fetcher,
        taxonomies: Taxonomies,
        extractor: Callable[..., Article],
    ) -> None:
        self.settings = settings
        self.stores = stores
        self.fetcher = fetcher
        self.taxonomies = taxonomies
        # extract_article's signature, within a time and memory budget (bot.fetch.extracting)
        self.extractor = extractor

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
        """The result object for one source; raises ``InputError`` for refused input."""
        method = method or self.settings.summary_method
        store = self.stores.for_team(team) if use_cache else None
        notes: list[str] = []
        key = source_key(source)
        if source.title:  # a title changes the result (headline, tags): cache it apart
            key = f"{key}:{digest_key('h', source.title)}"
        cached = _fail_open(store, notes, lambda s: s.cached_result(key, method, sentences))
        if cached is not None:
            cached["cached"] = True
            return cached
        article = self._article(source, store, notes)
        result = analyze(
            article,
            sentences=sentences,
            method=method,
            taxonomy=self.taxonomies.for_team(team),
            max_chars=self.settings.text_max_chars,
        )
        if store is not None and not notes:
            ttl = self.settings.summary_cache_days * DAY
            _fail_open(store, notes, lambda s: s.cache_result(key, method, sentences, result, ttl))
        result["notes"] = [*result["notes"], *notes]
        return result

    def extract(self, source: Source, *, use_cache: bool = True) -> dict:
        """What extraction found, before summarizing: ``python -m bot extract``'s result."""
        notes: list[str] = []
        store = self.stores.for_team(None) if use_cache else None
        article = self._article(source, store, notes)
        result: dict = {"title": article.title}
        for name in ("url", "site", "author", "published"):
            if getattr(article, name):
                result[name] = getattr(article, name)
        result.update(
            paywalled=article.paywalled,
            words=word_count(article.text),
            text=article.text,
            notes=[*article.notes, *notes],
        )
        return result

    def _article(self, source: Source, store: Store | None, notes: list[str]) -> Article:
        if source.kind is SourceKind.TEXT:
            return Article(text=source.text, title=source.title, url=source.url)
        if source.kind is SourceKind.HTML:
            body = source.value.encode() if isinstance(source.value, str) else source.value
            article = self.extractor(body, source.url)
            article.title = source.title or article.title
            return article
        url = canonical_url(source.text)
        page_key = digest_key("u", url)
        page = _fail_open(store, notes, lambda s: s.cached_page(page_key))
        if page is not None:
            return Article(**{**page, "title": source.title or page.get("title", "")})
        fetched = self.fetcher.fetch(url)
        final_url = canonical_url(fetched.url)
        article = self.extractor(fetched.body, final_url, fetched.content_type, fetched.charset)
        article.url = article.url or final_url
        if store is not None and not notes:
            ttl = self.settings.page_cache_hours * 3600
            _fail_open(store, notes, lambda s: s.cache_page(page_key, vars(article), ttl))
        article.title = source.title or article.title  # the page cache keeps the page's own
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
