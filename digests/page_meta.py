"""Title, site, author and date of a news page, read from its meta tags and JSON-LD.

Publishers put these in ``<meta>`` tags (Open Graph, Twitter, Dublin Core, Parse.ly) and in
schema.org JSON-LD for search engines, so one pass over those is enough and costs well under a
millisecond. (trafilatura's own metadata step also scans the whole page for dates, categories
and licences, which made extraction 1.5x slower than the body extraction alone.)

Titles lose the site's name that ``<title>`` tags carry ("… | ZDNet", "IGN - …"), so the
headline can be recognised when the page repeats it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from lxml.html import HtmlElement

__all__ = ["PageMeta", "clean_title", "json_ld", "page_meta", "site_from_url"]

_SPACE = re.compile(r"\s+")
# " | ", " - ", " – ", " — ", " · ", " :: ", " » " between a headline and a site's name.
_TITLE_SEPARATOR = re.compile(r"\s+(?:[|\-–—·•»]|::)\s+")
_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})(?:/|$)")
_BY = re.compile(r"^\s*by\s+", re.IGNORECASE)

_TITLE_KEYS = ("og:title", "twitter:title", "dc.title", "parsely-title", "sailthru.title")
_SITE_KEYS = ("og:site_name", "application-name", "twitter:app:name:iphone")
_AUTHOR_KEYS = (
    "author",
    "article:author",
    "byl",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
)
_DATE_KEYS = (
    "article:published_time", "datepublished", "og:published_time", "pubdate", "publishdate",
    "publish-date", "date", "dc.date", "dc.date.issued", "dcterms.created", "dcterms.date",
    "parsely-pub-date", "sailthru.date", "article.published", "published_time", "release_date",
)  # fmt: skip
_ARTICLE_TYPES = ("article", "newsarticle", "reportagenewsarticle", "blogposting", "report")


@dataclass
class PageMeta:
    """What the page says about itself; empty strings when it doesn't say."""

    title: str = ""
    site: str = ""
    author: str = ""
    published: str = ""  # YYYY-MM-DD
    # Headline variants the body may repeat (raw <title>, og:title, <h1>), for dropping.
    headlines: set[str] = field(default_factory=set)
    # What the paywall check reads too: <meta> contents by lower-cased name, JSON-LD objects.
    tags: dict[str, str] = field(default_factory=dict)
    ld: list[dict] = field(default_factory=list)


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text or "").strip()


def _key(text: str) -> str:
    """Letters and digits only, case-folded: how a name or a headline is compared."""
    return re.sub(r"[\W_]+", "", text.casefold())


def site_from_url(url: str | None) -> str:
    """``www.example.org`` -> ``example.org`` ("" when there is no usable host)."""
    if not url:
        return ""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _names_site(part: str, site: str, host: str) -> bool:
    """Whether a title segment is the site's name ("ZDNet", "The Daily Ledger", "IGN")."""
    key = _key(part)
    if not key or len(part) > 60:
        return False
    keys = {_key(site), _key(site).removeprefix("the")} - {""}
    if host:
        labels = host.split(".")
        keys |= {_key(host), _key(".".join(labels[:-1]))}
        keys |= {_key(label) for label in labels[:-1] if len(label) > 2}
    return key in keys or key.removeprefix("the") in keys


def clean_title(title: str, site: str = "", url: str | None = None) -> str:
    """A headline without the site name a ``<title>`` puts before or after it."""
    title = _norm(title)
    host = site_from_url(url)
    parts = _TITLE_SEPARATOR.split(title)
    while len(parts) > 1 and _names_site(parts[-1], site, host):
        parts.pop()
    while len(parts) > 1 and _names_site(parts[0], site, host):
        parts.pop(0)
    if len(parts) == len(_TITLE_SEPARATOR.split(title)):
        return title
    # Rejoin with the separators the headline itself used ("Apple - the year in review").
    kept = " ".join(parts)
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end] if start >= 0 and end > start else kept


_SEPARATOR_AT_END = re.compile(_TITLE_SEPARATOR.pattern + r"\Z")


def _framed_headline(title: str, h1: str) -> bool:
    """Whether ``title`` is the ``<h1>`` plus a separator and something else (a site's name)."""
    if not h1 or title == h1:
        return False
    if title.startswith(h1):
        return _TITLE_SEPARATOR.match(title, len(h1)) is not None
    return title.endswith(h1) and _SEPARATOR_AT_END.search(title[: -len(h1)]) is not None


def json_ld(tree: HtmlElement) -> Iterator[dict]:
    """Every JSON object in the page's ``application/ld+json`` scripts (graphs flattened)."""
    for script in tree.iterfind(".//script[@type]"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        raw = (script.text or "").strip().removeprefix("<!--").removesuffix("-->").strip()
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(reversed(node))
            elif isinstance(node, dict):
                yield node
                if isinstance(node.get("@graph"), list):
                    stack.extend(reversed(node["@graph"]))


def _types(node: dict) -> set[str]:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds if k}


def _name(value: object) -> str:
    """A person's or organisation's name from a JSON-LD value (string, object or list)."""
    if isinstance(value, str):
        return _norm(value)
    if isinstance(value, dict):
        return _norm(str(value.get("name") or ""))
    if isinstance(value, list):
        names = [n for n in (_name(v) for v in value) if n]
        return ", ".join(dict.fromkeys(names))
    return ""


def _iso_day(value: str) -> str:
    match = _ISO_DATE.search(value or "")
    if not match:
        return ""
    try:
        return date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        return ""


def _author(value: str) -> str:
    value = _BY.sub("", _norm(value))
    # A profile URL is not a name.
    return "" if value.startswith(("http://", "https://", "/")) else value


def page_meta(tree: HtmlElement, url: str | None = None) -> PageMeta:
    """Title, site, author and publication day from meta tags, JSON-LD, <title> and <h1>."""
    meta: dict[str, str] = {}
    for element in tree.iter("meta"):
        name = element.get("property") or element.get("name") or element.get("itemprop")
        content = element.get("content")
        if name and content and content.strip():
            meta.setdefault(name.lower(), content)

    ld = list(json_ld(tree))
    ld_title = ld_site = ld_author = ld_date = ""
    for node in ld:
        kinds = _types(node)
        if kinds & set(_ARTICLE_TYPES) or any(k.endswith("article") for k in kinds):
            ld_title = ld_title or _norm(str(node.get("headline") or ""))
            ld_author = ld_author or _name(node.get("author"))
            ld_date = ld_date or _iso_day(str(node.get("datePublished") or ""))
            ld_site = ld_site or _name(node.get("publisher"))
        elif "website" in kinds or "newsmediaorganization" in kinds:
            ld_site = ld_site or _name(node.get("name"))

    title_tag = tree.find(".//title")
    raw_title = _norm(title_tag.text_content()) if title_tag is not None else ""
    h1s = [_norm(h.text_content()) for h in tree.iterfind(".//h1")]
    h1 = h1s[0] if len(h1s) == 1 else ""

    site = _norm(next((meta[k] for k in _SITE_KEYS if k in meta), "")) or ld_site
    title = _norm(next((meta[k] for k in _TITLE_KEYS if k in meta), ""))
    title = title or ld_title or raw_title or h1
    author = next((a for a in (_author(meta.get(k, "")) for k in _AUTHOR_KEYS) if a), "")
    if not author:
        author = ld_author
    if not author:
        bylines = tree.xpath('//*[@rel="author"]')
        author = _author(bylines[0].text_content()) if bylines else ""
    published = next((d for d in (_iso_day(meta.get(k, "")) for k in _DATE_KEYS) if d), "")
    published = published or ld_date
    if not published:
        stamp = tree.find(".//time[@datetime]")
        published = _iso_day(stamp.get("datetime", "")) if stamp is not None else ""
    if not published and url:
        match = _URL_DATE.search(urlsplit(url).path)
        published = _iso_day("-".join(match.groups())) if match else ""

    site = site.lstrip("@")
    title = clean_title(title, site, url)
    if h1s and _framed_headline(title, h1s[0]):
        title = h1s[0]  # "Headline | Some Site" whose site we couldn't name
    headlines = {h for h in (title, raw_title, h1, meta.get("og:title", ""), ld_title) if h}
    return PageMeta(
        title=title,
        site=site,
        author=author[:200],
        published=published,
        headlines={_key(h) for h in headlines},
        tags=meta,
        ld=ld,
    )


def repeats_headline(block: str, meta: PageMeta) -> bool:
    """A paragraph that is only the page's headline again (any of its spellings)."""
    return len(block) <= 400 and _key(block) in meta.headlines
