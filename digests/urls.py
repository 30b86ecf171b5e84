"""URL helpers: one canonical form per article (cache keys, dedup) and links found in messages.

Pure string work (no network): the fetcher decides what is safe to fetch; this module only
decides when two links name the same page and which links a message contains.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["TRACKING_PARAMS", "canonical_url", "find_urls"]

# Query keys that identify a campaign, click or sharer rather than the page (compared lower-case).
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "smid",
        "smtyp",
        "cmpid",
        "cmp",
        "ncid",
        "ocid",
        "sr_share",
        "mkt_tok",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "hsctatracking",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "wt.mc_id",
        "wt.tsrc",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "intcmp",
        "icid",
        "fb_action_ids",
        "fb_action_types",
        "fb_ref",
        "fb_source",
        "action_object_map",
        "action_type_map",
        "action_ref_map",
        "__twitter_impression",
        "s_cid",
        "rss",
        "spm",
        "vero_id",
        "oly_anon_id",
        "oly_enc_id",
        "rb_clickid",
    }
)
# Key prefixes of whole tracking families (utm_source, utm_medium, pk_campaign, hsa_acc...).
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "piwik_", "hsa_", "itm_")

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _normalize_escapes(part: str) -> str:
    """Upper-case percent escapes and decode the ones that stand for unreserved characters.

    RFC 3986 §6.2.2: ``%7e`` and ``~`` (and ``%2f`` and ``%2F``) name the same resource, so
    they must map to one cache key.
    """

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(0)[1:], 16))
        return char if char in _UNRESERVED else match.group(0).upper()

    return _PERCENT.sub(fix, part)


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _clean_query(query: str) -> str:
    """Drop tracking keys and sort what is left, keeping each pair's original spelling."""
    pairs = []
    for piece in query.split("&") if query else ():
        if not piece:
            continue
        key = _normalize_escapes(piece.split("=", 1)[0])
        if _is_tracking(key.replace("+", " ").strip()):
            continue
        pairs.append((key, _normalize_escapes(piece)))
    pairs.sort()
    return "&".join(piece for _, piece in pairs)


def canonical_url(url: str) -> str:
    """One spelling per page, so the cache and "already summarized" checks see shares as equal.

    Lower-cases scheme and host, drops user info, default ports, the fragment and tracking
    parameters, sorts the remaining query pairs and drops the trailing slash of a bare "/" path.
    Never raises: input that is not a URL comes back stripped.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return url
    scheme = parts.scheme.lower()
    if not scheme or not parts.netloc:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]  # never keep credentials in a key or a log
    host, port = netloc, ""
    if netloc.startswith("["):  # IPv6 literal: [::1]:8080
        end = netloc.find("]")
        if end != -1:
            host, rest = netloc[: end + 1], netloc[end + 1 :]
            port = rest[1:] if rest.startswith(":") else ""
    elif ":" in netloc:
        host, port = netloc.rsplit(":", 1)
    host = host.lower().rstrip(".")
    if port == _DEFAULT_PORTS.get(scheme):
        port = ""
    netloc = f"{host}:{port}" if port else host
    path = _normalize_escapes(parts.path)
    if path == "/":
        path = ""
    query = _clean_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


# Slack wraps links as <https://x|label> or <https://x>; plain text has bare URLs.
_URL_RE = re.compile(
    r"<(?P<slack>https?://[^\s|<>]+)(?:\|[^<>]*)?>"
    r"|(?P<bare>https?://[^\s<>\"'`|\[\]{}]+)",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'\"*_~"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_ENTITIES = (("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"))


def _unescape(url: str) -> str:
    """Undo Slack's escaping of & < > inside message text."""
    for entity, char in _ENTITIES:
        url = url.replace(entity, char)
    return url


def _strip_trailing(url: str) -> str:
    """Drop sentence punctuation after a bare URL, keeping balanced brackets (Wikipedia_(x))."""
    while url:
        last = url[-1]
        unbalanced = last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last])
        if last in _TRAILING or unbalanced:
            url = url[:-1]
        else:
            break
    return url


def find_urls(text: str) -> list[str]:
    """The http(s) links in a message, in order, each once (same canonical form = same link).

    Reads Slack markup (``<url|label>``, ``<url>``, with ``&amp;`` unescaped) and bare URLs,
    and strips punctuation that ends the sentence rather than the link.
    """
    found: list[str] = []
    seen: set[str] = set()
    for match in _URL_RE.finditer(text or ""):
        if match.group("slack"):
            url = _unescape(match.group("slack"))
        else:
            url = _strip_trailing(_unescape(match.group("bare")))
        if len(url) <= len("https://"):
            continue
        if not _host(url):
            continue
        key = canonical_url(url)
        if key in seen:
            continue
        seen.add(key)
        found.append(url)
    return found


def _host(url: str) -> str:
    """The host part of a URL, or "" when there is none (or the URL cannot be parsed)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


_PERMALINK = re.compile(r"^https?://[^/\s]+/archives/([A-Z0-9]+)/p(\d{10})(\d{6})(?:\?(.*))?$")


def slack_permalink(url: str) -> tuple[str, list[str]] | None:
    """A Slack message link → (channel, [thread ts, message ts]); None for any other URL.

    "Copy link" on a thread reply adds ``thread_ts``; the parent's ts comes first.
    """
    match = _PERMALINK.match(url.strip())
    if not match:
        return None
    channel, secs, micros, query = match.groups()
    stamps = [f"{secs}.{micros}"]
    thread = re.search(r"(?:^|&)thread_ts=(\d+\.\d+)", query or "")
    if thread and thread.group(1) != stamps[0]:
        stamps.insert(0, thread.group(1))
    return channel, stamps
