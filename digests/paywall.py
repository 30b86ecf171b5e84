"""Whether a page holds only the public opening of a paywalled article.

We report paywalls and never try to get around them. The question is not whether the site sells
subscriptions (metered sites such as the NYT or the LA Times mark every article
``isAccessibleForFree: false`` yet send the whole text), but whether the text we extracted is just
an opening: it is short, and the page says the rest is gated (schema.org markup whose gated part
is missing, a gate element, or "subscribe to continue reading").
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from digests.page_meta import PageMeta

__all__ = ["OPENING_WORDS", "is_paywalled", "is_prompt_block"]

# More text than this is the article, not a public opening (sites show one to a few paragraphs).
OPENING_WORDS = 400
SHORT_WORDS = 150  # a teaser this short plus a subscribe prompt reads as a paywall

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
    r"|the rest of this (?:article|story) is (?:for|available to) subscribers"
)
# Weak phrases: newsletters and footers say these too; they count only next to a short text.
_PROMPT = re.compile(
    r"already a subscriber|subscribe (?:now|today)|become a (?:subscriber|member)"
    r"|start your (?:free )?trial|unlimited (?:digital )?access|sign in to read"
)
# Every phrase of each kind contains one of its hints. The patterns (lower case) run only
# around a hint that str.find located: Python's re is slow on long alternations (~0.3 us per
# character), which made the paywall check cost more than the metadata.
_GATE_HINTS = ("subscri", "reading", "free art", "free stor", "free read")
_PROMPT_HINTS = ("subscri", "become a", "trial", "unlimited", "sign in to read")
# class/id tokens of the gate itself (the box that asks readers to pay or register). Names of
# gated *content* ("meteredContent", "premium-content") are not here: when such a section holds
# text, the article is in the page.
_GATE_MARKER = re.compile(
    r"pay-?wall|reg-?wall|registration-wall|piano-offer|subscriber[s]?[-_]?only", re.IGNORECASE
)
_SIMPLE_SELECTOR = re.compile(r"^([.#])([\w-]+)$")
_SPACE = re.compile(r"\s+")


def _not_free(value: object) -> bool:
    return str(value).strip().lower() in ("false", "no", "0")


def _holds_text(tree: HtmlElement, selector: str) -> bool | None:
    """Whether an element matching a simple ``.class``/``#id`` selector has text (None: can't tell)."""
    match = _SIMPLE_SELECTOR.match(selector.strip())
    if not match:
        return None
    kind, name = match.groups()
    if kind == "#":
        elements = tree.xpath("//*[@id=$name]", name=name)
    else:
        found = tree.xpath("//*[contains(@class, $name)]", name=name)
        elements = [e for e in found if name in (e.get("class") or "").split()]
    return any(e.text_content().strip() for e in elements)


def _markup_gated(tree: HtmlElement, page: PageMeta) -> bool:
    """schema.org says the article is not free and its gated part is missing from the page."""
    for node in page.ld:
        if not any(k.lower() == "isaccessibleforfree" and _not_free(v) for k, v in node.items()):
            continue
        parts = node.get("hasPart")
        parts = parts if isinstance(parts, list) else [parts]
        selectors = [
            s.strip()
            for part in parts
            if isinstance(part, dict) and _not_free(part.get("isAccessibleForFree", "false"))
            for s in str(part.get("cssSelector") or "").split(",")
            if s.strip()
        ]
        present = [_holds_text(tree, s) for s in selectors]
        if not any(present):  # no selector named, or the gated part is not in the page
            return True
    return _not_free(page.tags.get("isaccessibleforfree", "")) or any(
        page.tags.get(name, "").strip().lower() == "locked"
        for name in ("article:content_tier", "content_tier")
    )


def _gate_element(tree: HtmlElement) -> bool:
    """An element whose class/id names a paywall and that has content (empty ones are mounts
    for scripts that free articles carry too)."""
    names = " ".join(tree.xpath("//body//@class | //body//@id"))
    if not _GATE_MARKER.search(names):
        return False
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
    return _SPACE.sub(" ", " ".join(parts)).strip()[:200_000]


def _near(text: str, hints: tuple[str, ...], pattern: re.Pattern[str]) -> bool:
    """Whether ``pattern`` matches ``text`` (lower case) within 120 characters of a hint."""
    for hint in hints:
        at = text.find(hint)
        while at >= 0:
            if pattern.search(text, max(0, at - 120), at + len(hint) + 120):
                return True
            at = text.find(hint, at + 1)
    return False


def _has_gate_phrase(text: str) -> bool:
    return _near(text.lower(), _GATE_HINTS, _GATE)


def _has_prompt(text: str) -> bool:
    return _near(text.lower(), _PROMPT_HINTS, _PROMPT)


def is_paywalled(tree: HtmlElement, page: PageMeta, text: str, words: int) -> bool:
    """Whether ``text`` (``words`` long, extracted from ``tree``) is only a paywalled opening.

    ``page`` is what ``page_meta`` read from the same tree (its meta tags and JSON-LD).

    Longer text is the article, whatever the markup says. Shorter text is an opening when the
    page's markup or wording gates the rest, or when a short teaser sits next to a subscribe
    prompt.
    """
    if words >= OPENING_WORDS:
        return False
    if _markup_gated(tree, page) or _gate_element(tree) or _has_gate_phrase(text):
        return True
    body = tree.find("body")
    everything = body.text_content() if body is not None else ""  # scripts too: a quick filter
    short = words < SHORT_WORDS
    if not _has_gate_phrase(everything) and not (short and _has_prompt(everything)):
        return False
    visible = _visible_text(tree)
    return _has_gate_phrase(visible) or (short and _has_prompt(visible))


def is_prompt_block(block: str) -> bool:
    """A short paragraph that is a subscribe prompt, not article text."""
    return len(block.split()) <= 30 and (_has_gate_phrase(block) or _has_prompt(block))
