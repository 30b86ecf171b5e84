"""What in a Slack message should make the bot summarize: links, or text that reads like an article."""

from __future__ import annotations

import re

from digests.text import from_slack, split_sentences
from digests.urls import find_urls

MAX_LINKS = 5
ARTICLE_MIN_CHARS = 600
ARTICLE_MIN_SENTENCES = 4
AUTO_MODES = ("links", "all", "off")

_MARKUP = re.compile(r"<[^>\s]+>")


def looks_like_article(text: str) -> bool:
    """Pasted prose long enough to be an article (600+ chars, 4+ sentences), not a chat line."""
    prose = _MARKUP.sub(" ", text).strip()
    return len(prose) >= ARTICLE_MIN_CHARS and len(split_sentences(prose)) >= ARTICLE_MIN_SENTENCES


def message_sources(text: str, auto: str = "all") -> list[tuple[str, str]]:
    """``[("url", u), …]`` (at most five) or ``[("text", text)]``, as the channel's mode allows.

    ``text`` is Slack's (markup, entity-escaped); pasted text comes back decoded (``from_slack``).

    A message that is mostly an article with a link in it counts as the article's text only when
    no link is present: a link is always the better source.
    """
    if auto == "off" or not text:
        return []
    urls = find_urls(text)
    if urls:
        return [("url", url) for url in urls[:MAX_LINKS]]
    if auto == "all" and looks_like_article(text):
        return [("text", from_slack(text))]
    return []
