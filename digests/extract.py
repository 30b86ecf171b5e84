"""Article text and metadata from fetched bytes (pure: no network, testable with literal pages).

The fetcher hands us bytes; we decode them the way a browser would, refuse markup too big to
extract within budget, let trafilatura find the article body (``page_meta`` reads the title,
site, author and date), keep paragraphs apart (the sentence splitter and the summary renderer
need them), and say when a page holds only a paywalled opening (``paywall``). We report
paywalls and never try to get around them: the summary covers the public opening.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

import trafilatura
from lxml.html import HtmlElement

from digests.errors import InputError
from digests.models import Article
from digests.page_meta import page_meta, repeats_headline, site_from_url
from digests.paywall import is_paywalled, is_prompt_block

__all__ = [
    "MAX_ELEMENTS",
    "MIN_WORDS",
    "PAYWALL_NOTE",
    "check_markup",
    "decode_body",
    "extract_article",
    "word_count",
]

PAYWALL_NOTE = "Only the opening is public; this summary covers what is."
MIN_WORDS = 20  # fewer words than this is a stub, a JS shell or an error page, not an article
# Markup budget, checked before parsing. Extraction cost grows faster than the element count
# (libxml2's XPath node-set merges): a 20,000-element page takes 1-3 s, a 160,000-element one
# two minutes. Real news pages have 1,000-10,000 elements; the fetcher already stops at 5 MB.
MAX_ELEMENTS = 20_000
MAX_MARKUP_BYTES = 5_000_000

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.:-]+)""")
_XML_DECL_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SPACE = re.compile(r"\s+")


def _codec(label: str | None) -> str | None:
    """A Python codec for a charset label, with the browser's readings of legacy labels."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    # WHATWG Encoding: latin-1 and ascii labels mean windows-1252 (what servers really send).
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name


def _declared_charset(body: bytes) -> str | None:
    """The charset a page declares in its first bytes (<meta charset>, http-equiv, <?xml?>)."""
    head = body[:8192]
    match = _XML_DECL.match(head) or _META_CHARSET.search(head)
    if not match:
        return None
    codec = _codec(match.group(1).decode("ascii", "replace"))
    # A page whose bytes we could read as ASCII can't really be UTF-16 (WHATWG says: UTF-8).
    return "utf-8" if codec and codec.startswith("utf-16") else codec


def decode_body(body: bytes, charset: str | None = None, content_type: str = "text/html") -> str:
    """Bytes to text: BOM, then the HTTP charset, then the page's own declaration, then UTF-8.

    A declared charset that fails strictly still beats a guess (decoded with replacements),
    except that UTF-8 is tried first, as mislabelled UTF-8 is the common case.
    Undeclared non-UTF-8 bytes are read as windows-1252, as browsers do.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, "replace")
    declared = _codec(charset)
    if declared is None and content_type in HTML_TYPES:
        declared = _declared_charset(body)
    for codec in dict.fromkeys(c for c in (declared, "utf-8") if c):
        try:
            return body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode(declared or "cp1252", "replace")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _text(element: HtmlElement) -> str:
    """An element's text with line breaks (trafilatura's ``<lb/>``) read as spaces.

    ``"".join(itertext())`` would glue "dates:<br>June 9" into "dates:June 9".
    """
    if not len(element):
        return _norm(element.text or "")
    if next(element.iter("lb"), None) is None:
        return _norm("".join(element.itertext()))
    parts: list[str] = []

    def walk(node: HtmlElement) -> None:
        if node.tag == "lb":
            parts.append(" ")
        parts.append(node.text or "")
        for child in node:
            walk(child)
            parts.append(child.tail or "")

    walk(element)
    return _norm("".join(parts))


def _blocks(body: HtmlElement) -> Iterator[tuple[str, str]]:
    """(kind, text) per top-level block of trafilatura's output tree, in order."""
    if body.text and body.text.strip():
        yield "p", _norm(body.text)
    for child in body:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "list":
            items = [_text(item) for item in child.iter("item")]
            text = "\n".join(i for i in items if i)
        elif tag == "table":
            rows = []
            for row in child.iter("row"):
                cells = [_text(cell) for cell in row.iter("cell")]
                rows.append(" | ".join(c for c in cells if c))
            text = "\n".join(r for r in rows if r)
        elif tag in ("graphic", "lb"):
            text = ""
        else:
            text = _text(child)
        if text:
            yield tag or "p", text
        if child.tail and child.tail.strip():
            yield "p", _norm(child.tail)


# Scripts without spaces between words: each character counts as a word.
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
                       r"\u4e00-\u9fff\uf900-\ufaff]")  # fmt: skip


def word_count(text: str) -> int:
    """Words for our length thresholds: whitespace-separated runs, plus one per CJK/Thai
    character (Chinese and Japanese put no spaces between words)."""
    unspaced = len(_UNSPACED.findall(text))
    if not unspaced:
        return len(text.split())
    return len(_UNSPACED.sub(" ", text).split()) + unspaced


def element_count(markup: str, limit: int) -> int:
    """Start tags in ``markup``, counted without parsing and up to ``limit + 1`` at most.

    Script and style bodies are skipped the way a browser reads them (to their end tag, or to
    the end of the page when there is none), so ``if (a<b)`` in a script is not an element.
    Linear in the markup, whatever it holds.
    """
    lower = markup.lower() if markup.count("<") > limit else ""
    count, pos = 0, 0
    while count <= limit:
        match = _START_TAG.search(lower, pos)
        if match is None:
            break
        count += 1
        pos = match.end()
        raw = match.group(1)
        if raw in ("script", "style"):
            end = lower.find(f"</{raw}", pos)
            if end < 0:
                break
            pos = end
    return count


_START_TAG = re.compile(r"<([a-z][a-z0-9-]*)")


def check_markup(body: bytes, markup: str) -> None:
    """Refuse markup too big to extract within our time and memory budget, before parsing it."""
    if len(body) > MAX_MARKUP_BYTES:
        raise InputError(
            "too_large",
            f"That page is bigger than {MAX_MARKUP_BYTES / 1_000_000:g} MB, so I didn't read "
            "it; paste the article text instead.",
        )
    if element_count(markup, MAX_ELEMENTS) > MAX_ELEMENTS:
        raise InputError(
            "too_complex",
            f"That page has more than {MAX_ELEMENTS:,} HTML elements, too many for me to read "
            "quickly; paste the article text instead.",
        )


def _no_article(paywalled: bool = False) -> InputError:
    if paywalled:
        return InputError(
            "no_article",
            "That page is behind a paywall and shows almost none of the article, so there's "
            "nothing to summarize; paste the text if you have access.",
        )
    return InputError(
        "no_article",
        "I couldn't find an article on that page (it may be empty or need JavaScript); "
        "paste the article text instead.",
    )


def _plain_article(body: bytes, url: str | None, charset: str | None) -> Article:
    text = decode_body(body, charset, "text/plain").replace("\r\n", "\n").replace("\r", "\n")
    text = text.strip()
    if not text:
        raise _no_article()
    return Article(text=text, url=url, site=site_from_url(url) or None)


def extract_article(
    body: bytes,
    url: str | None = None,
    content_type: str = "text/html",
    charset: str | None = None,
) -> Article:
    """The article in a fetched page: text (paragraphs split by blank lines) and metadata.

    ``text/plain`` comes back as is. Raises InputError: ``no_article`` when there is no article
    to speak of, ``too_large``/``too_complex`` for markup over our budget. A paywalled page is an
    Article with ``paywalled=True`` and a note, not an error.
    """
    content_type = (content_type or "text/html").split(";", 1)[0].strip().lower()
    if content_type == "text/plain":
        return _plain_article(body, url, charset)

    markup = _XML_DECL_TEXT.sub("", decode_body(body, charset, content_type), count=1)
    if not markup.strip():
        raise _no_article()
    check_markup(body, markup)
    try:
        tree = trafilatura.load_html(markup)
    except (ValueError, TypeError):
        tree = None
    if tree is None:
        raise _no_article()

    meta = page_meta(tree, url)
    document = trafilatura.bare_extraction(
        tree,  # trafilatura works on a copy, so `tree` stays whole for the paywall checks
        url=url,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
    )
    blocks: list[str] = []
    if document is not None and document.body is not None:
        for _kind, block in _blocks(document.body):
            if not blocks and repeats_headline(block, meta):
                continue  # the headline (or the <title>) repeated above the article
            blocks.append(block)
    text = "\n\n".join(blocks)
    words = word_count(text)
    paywalled = is_paywalled(tree, meta, text, words)
    if paywalled:
        text = "\n\n".join(b for b in blocks if not is_prompt_block(b))
        words = word_count(text)
    if words < MIN_WORDS:
        raise _no_article(paywalled)

    article = Article(
        text=text,
        title=meta.title,
        url=url,
        site=meta.site or site_from_url(url) or None,
        author=meta.author or None,
        published=meta.published or None,
        paywalled=paywalled,
    )
    if paywalled:
        article.notes.append(PAYWALL_NOTE)
    return article
