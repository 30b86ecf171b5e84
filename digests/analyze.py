"""Article in, result object out: check, summarize and tag in one pure step (the §4 JSON shape)."""

from __future__ import annotations

from digests.models import Article
from digests.summarize import summarize
from digests.text import check_text, title_and_body
from digests.topics import Taxonomy, tag_article


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
        title, body = title_and_body(article.text)
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
