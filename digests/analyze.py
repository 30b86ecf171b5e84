"""Article in, result object out: check, summarize and tag in one pure step (the §4 JSON shape)."""

from __future__ import annotations

import re

from digests.models import Article
from digests.summarize import summarize
from digests.text import check_text, clean_text
from digests.topics import Taxonomy, tag_article

_TITLE_MAX = 120


def split_headline(text: str) -> tuple[str, str]:
    """Pasted text often starts with its headline: (headline, rest), or ("", text) if it doesn't.

    A headline is a short first line without closing punctuation, followed by more lines.
    """
    lines = text.strip().splitlines()
    first = lines[0].strip() if lines else ""
    if (
        len(lines) > 1
        and first
        and len(first) <= _TITLE_MAX
        and not first.endswith((".", "?", "!", ":"))
    ):
        return first, "\n".join(lines[1:]).strip()
    return "", text


def guess_title(text: str) -> str:
    """A title for text without one: its opening sentence, shortened."""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
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
    title, body = article.title.strip(), article.text
    if not title:
        title, body = split_headline(article.text)
        title = title or guess_title(clean_text(body))
    tags = tag_article(title, body, taxonomy)
    result = summarize(
        body, sentences, method, title=title, bonus_words=taxonomy.phrases(), tags=tags
    )
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
