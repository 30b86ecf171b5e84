"""Article text and metadata from fetched bytes (pure: no network, testable with literal pages).

The fetcher hands us bytes; we decode them the way a browser would, let trafilatura find the
article body and its metadata, keep paragraphs apart (the sentence splitter and the summary
renderer need them), and say when a page is paywalled. We report paywalls and never try to get
around them: the summary covers the public opening.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import trafilatura
from lxml.html import HtmlElement

from digests.errors import InputError
from digests.models import Article

__all__ = ["MIN_WORDS", "PAYWALL_NOTE", "decode_body", "extract_article", "is_paywalled"]

PAYWALL_NOTE = "Only the opening is public; this summary covers what is."
MIN_WORDS = 20  # fewer words than this is a stub, a JS shell or an error page, not an article
SHORT_WORDS = 150  # a teaser this short plus a subscribe prompt reads as a paywall

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# Strong phrases: on their own they mean the article is gated.
_GATE = re.compile(
    r"subscribe(?: now| today)? to (?:continue|keep) reading"
    r"|subscribe to (?:read|unlock|access) (?:the (?:full|rest|whole)|this|more)"
    r"|(?:to )?(?:continue|keep) reading,? (?:please )?(?:subscribe|become a subscriber)"
    r"|(?:sign|log) in (?:or (?:subscribe|register) )?to (?:continue|keep) reading"
    r"|(?:create|register for) a free account to (?:continue|keep) reading"
    r"|this (?:article|story|content|piece) is (?:only )?(?:available |reserved )?(?:for|to) "
    r"(?:paid |paying |our )?subscribers"
    r"|(?:exclusive |available )?(?:for|to) subscribers only"
    r"|subscribers?[- ]only (?:article|story|content)"
    r"|you(?:'ve| have) (?:reached|used(?: up)?|hit) (?:your|all(?: of)? your|the) "
    r"(?:monthly )?(?:limit of )?(?:\d+ )?free (?:articles?|stories|reads)"
    r"|the rest of this (?:article|story) is (?:for|available to) subscribers",
    re.IGNORECASE,
)
# Every strong phrase contains one of these; the full pattern runs only around them (10x faster).
_GATE_HINT = re.compile(r"subscri|reading|free (?:articles?|stories|reads)", re.IGNORECASE)
# Weak phrases: newsletters and footers say these too; they count only next to a short text.
_PROMPT = re.compile(
    r"already a subscriber|subscribe (?:now|today)|become a (?:subscriber|member)"
    r"|start your (?:free )?trial|unlimited (?:digital )?access|\bsign in to read\b",
    re.IGNORECASE,
)
# class/id tokens sites put on gated content or on the gate itself.
_GATE_MARKER = re.compile(
    r"pay-?wall|subscriber[s]?[-_]?only|metered-?content|premium-content|reg-?wall"
    r"|registration-wall|article-locked|locked-content|content-locked|piano-offer",
    re.IGNORECASE,
)

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


def _blocks(body: HtmlElement) -> Iterator[tuple[str, str]]:
    """(kind, text) per top-level block of trafilatura's output tree, in order."""
    if body.text and body.text.strip():
        yield "p", _norm(body.text)
    for child in body:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "list":
            items = [_norm("".join(item.itertext())) for item in child.iter("item")]
            text = "\n".join(i for i in items if i)
        elif tag == "table":
            rows = []
            for row in child.iter("row"):
                cells = [_norm("".join(cell.itertext())) for cell in row.iter("cell")]
                rows.append(" | ".join(c for c in cells if c))
            text = "\n".join(r for r in rows if r)
        elif tag == "graphic":
            text = ""
        else:
            text = _norm("".join(child.itertext()))
        if text:
            yield tag or "p", text
        if child.tail and child.tail.strip():
            yield "p", _norm(child.tail)


def _json_ld_gated(tree: HtmlElement) -> bool:
    """schema.org ``isAccessibleForFree: false`` anywhere in the page's JSON-LD or microdata."""

    def walk(node: object) -> bool:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.lower() == "isaccessibleforfree" and str(value).strip().lower() in (
                    "false",
                    "no",
                    "0",
                ):
                    return True
                if walk(value):
                    return True
        elif isinstance(node, list):
            return any(walk(v) for v in node)
        return False

    for script in tree.xpath('//script[contains(translate(@type, "JSONLD", "jsonld"), "ld+json")]'):
        raw = (script.text or "").strip().removeprefix("<!--").removesuffix("-->").strip()
        try:
            if walk(json.loads(raw)):
                return True
        except ValueError:
            continue
    for meta in tree.xpath('//*[@itemprop="isAccessibleForFree"]'):
        if (meta.get("content") or meta.text_content() or "").strip().lower() == "false":
            return True
    return any(
        (m.get("content") or "").strip().lower() == "locked"
        for m in tree.xpath('//meta[@property="article:content_tier" or @name="content_tier"]')
    )


def _marked_gate(tree: HtmlElement) -> bool:
    """An element whose class/id names a paywall and that has content (empty ones are mounts
    for scripts that free articles carry too)."""
    for element in tree.xpath("//body//*[@class or @id]"):
        if element.tag in ("script", "style", "link", "meta", "noscript"):
            continue
        names = f"{element.get('class', '')} {element.get('id', '')}"
        if _GATE_MARKER.search(names) and (len(element) or element.text_content().strip()):
            return True
    return False


def _visible_text(tree: HtmlElement) -> str:
    parts = tree.xpath(
        "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::template)]"
    )
    return _norm(" ".join(parts))[:200_000]


def _has_gate_phrase(text: str) -> bool:
    for hint in _GATE_HINT.finditer(text):
        if _GATE.search(text, max(0, hint.start() - 120), hint.end() + 120):
            return True
    return False


def is_paywalled(tree: HtmlElement, text: str) -> bool:
    """Whether the site gates this article: markup says so, the page asks readers to subscribe
    to go on, or a short teaser sits next to a subscribe prompt."""
    if _json_ld_gated(tree) or _marked_gate(tree):
        return True
    visible = _visible_text(tree)
    if _has_gate_phrase(visible) or _has_gate_phrase(text):
        return True
    return len(text.split()) < SHORT_WORDS and bool(_PROMPT.search(visible))


def _is_prompt_block(block: str) -> bool:
    """A short paragraph that is a subscribe prompt, not article text."""
    return len(block.split()) <= 30 and (_has_gate_phrase(block) or bool(_PROMPT.search(block)))


def _site_from_url(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    return host.removeprefix("www.") or None


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
    return Article(text=text, url=url, site=_site_from_url(url))


def extract_article(
    body: bytes,
    url: str | None = None,
    content_type: str = "text/html",
    charset: str | None = None,
) -> Article:
    """The article in a fetched page: text (paragraphs split by blank lines) and metadata.

    ``text/plain`` comes back as is. Raises InputError("no_article") when there is no article
    to speak of. A paywalled page is an Article with ``paywalled=True`` and a note, not an error.
    """
    content_type = (content_type or "text/html").split(";", 1)[0].strip().lower()
    if content_type == "text/plain":
        return _plain_article(body, url, charset)

    markup = _XML_DECL_TEXT.sub("", decode_body(body, charset, content_type), count=1)
    if not markup.strip():
        raise _no_article()
    try:
        tree = trafilatura.load_html(markup)
    except (ValueError, TypeError):
        tree = None
    if tree is None:
        raise _no_article()

    document = trafilatura.bare_extraction(
        tree,  # trafilatura works on a copy, so `tree` stays whole for the paywall checks
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
    )
    title = _norm(document.title or "") if document is not None else ""
    blocks: list[str] = []
    if document is not None and document.body is not None:
        for kind, block in _blocks(document.body):
            if kind == "head" and block.casefold() == title.casefold():
                continue  # the headline repeated as the first heading
            blocks.append(block)
    text = "\n\n".join(blocks)
    paywalled = is_paywalled(tree, text)
    if paywalled:
        text = "\n\n".join(b for b in blocks if not _is_prompt_block(b))
    if len(text.split()) < MIN_WORDS:
        raise _no_article(paywalled)

    assert document is not None  # text is non-empty only when trafilatura found something
    article = Article(
        text=text,
        title=title,
        url=url,
        site=_norm(document.sitename or "") or document.hostname or _site_from_url(url),
        author=_norm(document.author or "") or None,
        published=document.date or None,
        paywalled=paywalled,
    )
    if paywalled:
        article.notes.append(PAYWALL_NOTE)
    return article
