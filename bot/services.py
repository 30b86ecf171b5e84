"""Use cases: what the CLI, the Slack handlers and the clock ask the bot to do.

Handlers never touch Redis or the fetcher; they call these. Storage failures degrade as
ARCHITECTURE §3 says: caches fail open, saving fails visibly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from bot.config import Settings
from bot.fetch import Fetcher
from bot.store import DAY, Store, StoreError, digest_key
from digests.analyze import analyze
from digests.extract import extract_article
from digests.models import Article
from digests.topics import Taxonomy
from digests.urls import canonical_url

log = logging.getLogger(__name__)

CACHE_DOWN_NOTE = "The cache was unavailable, so this was not saved."


@dataclass
class Source:
    """What to summarize: a URL, raw HTML (with the URL it came from, if known) or text."""

    kind: str  # "url" | "html" | "text"
    value: str | bytes
    title: str = ""
    url: str | None = None


class Services:
    """The bot's use cases, bound to one configuration, store and fetcher."""

    def __init__(
        self, settings: Settings, store: Store | None, fetcher: Fetcher | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher or Fetcher(allow_private=settings.fetch_allow_private)

    @cached_property
    def taxonomy(self) -> Taxonomy:
        return Taxonomy.load(self.settings.taxonomy_file or None)

    # -- summarizing ----------------------------------------------------------------------------

    def summarize(
        self,
        source: Source,
        *,
        sentences: int | None = None,
        method: str | None = None,
        use_cache: bool = True,
        taxonomy: Taxonomy | None = None,
    ) -> dict:
        """The §4 result object for one source; raises ``InputError`` for refused input."""
        method = method or self.settings.summary_method
        taxonomy = taxonomy or self.taxonomy
        store = self.store if use_cache else None
        notes: list[str] = []
        source_key = self.source_key(source)
        cached = self._cache_read(store, notes, lambda s: s.cached_result(source_key, method, sentences))
        if cached is not None:
            cached["cached"] = True
            return cached
        article = self._article(source, store, notes)
        result = analyze(
            article,
            sentences=sentences,
            method=method,
            taxonomy=taxonomy,
            max_chars=self.settings.text_max_chars,
        )
        if store is not None and not notes:
            ttl = self.settings.summary_cache_days * DAY
            self._cache_write(store, notes, lambda s: s.cache_result(source_key, method, sentences, result, ttl))
        result["notes"] = [*result["notes"], *notes]
        return result

    def source_key(self, source: Source) -> str:
        if source.kind == "url":
            return digest_key("u", canonical_url(str(source.value)))
        value = source.value if isinstance(source.value, bytes) else source.value.encode()
        return digest_key("t", value.decode("utf-8", "replace"))

    def _article(self, source: Source, store: Store | None, notes: list[str]) -> Article:
        if source.kind == "text":
            text = source.value.decode("utf-8", "replace") if isinstance(source.value, bytes) else source.value
            return Article(text=text, title=source.title, url=source.url)
        if source.kind == "html":
            body = source.value.encode() if isinstance(source.value, str) else source.value
            article = extract_article(body, source.url)
            if source.title:
                article.title = source.title
            return article
        url = canonical_url(str(source.value))
        page_key = digest_key("u", url)
        page = self._cache_read(store, notes, lambda s: s.cached_page(page_key))
        if page is not None:
            return Article(**page)
        fetched = self.fetcher.fetch(url)
        article = extract_article(fetched.body, canonical_url(fetched.url), fetched.content_type, fetched.charset)
        if not article.url:
            article.url = canonical_url(fetched.url)
        if store is not None and not notes:
            ttl = self.settings.page_cache_hours * 3600
            self._cache_write(store, notes, lambda s: s.cache_page(page_key, vars(article), ttl))
        return article

    @staticmethod
    def _cache_read(store: Store | None, notes: list[str], read):
        if store is None:
            return None
        try:
            return read(store)
        except StoreError as exc:
            log.warning("cache read failed, continuing without it: %s", exc)
            if CACHE_DOWN_NOTE not in notes:
                notes.append(CACHE_DOWN_NOTE)
            return None

    @staticmethod
    def _cache_write(store: Store, notes: list[str], write) -> None:
        try:
            write(store)
        except StoreError as exc:
            log.warning("cache write failed: %s", exc)
            if CACHE_DOWN_NOTE not in notes:
                notes.append(CACHE_DOWN_NOTE)
