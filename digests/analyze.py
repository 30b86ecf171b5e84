"""Article in, result object out: check, summarize and tag in one pure step (the §4 JSON shape)."""

from __future__ import annotations

import re

from digests.models import Article
from digests.summarize import summarize
from digests.text import check_text, clean_text
from digests.topics import Taxonomy, tag_article

_TITLE_MAX = 120


def guess_title(text: str) -> str:
    """A title for pasted text: its first line when it reads like a headline, else its opening."""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first_line and len(first_line) <= _TITLE_MAX and not first_line.endswith((".", "?", "!")):
        return first_line
    opening = re.split(r"(?<=[.!?])\s", first_line, maxsplit=1)[0]
    if len(opening) <= 90:
        return opening
    return opening[:87].rsplit(" ", 1)[0] + "…"


def analyze(
    article: Article,
    *,
    sentences: int | None = None,
    method: str = "default",
    taxonomy: Taxonomy,
    max_chars: int = 200_000,
) -> dict:
    """Summarize and tag one article; raises ``InputError`` for text we refuse."""
    check_text(article.text, max_chars)
    title = article.title.strip() or guess_title(clean_text(article.text))
    result = summarize(
        article.text, sentences, method, title=title, bonus_words=taxonomy.phrases()
    )
    tags = tag_article(title, article.text, taxonomy)
    out: dict = {"title": title}
    for name in ("url", "site", "author", "published"):
        value = getattr(article, name)
        if value:
            out[name] = value
    out.update(
        summary=result.sentences,
        topics=[tag.to_dict() for tag in tags],
        method=result.method,
        words=result.words,
        cached=False,
        notes=[*article.notes, *result.notes],
    )
    return out
