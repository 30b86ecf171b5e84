"""Extraction from small pages written for these tests (no network, no eval data)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from digests.errors import InputError
from digests.extract import PAYWALL_NOTE, decode_body, extract_article

ROOT = Path(__file__).resolve().parents[1]

PARAS = [
    "The city council voted on Tuesday to extend the harbour ferry service through the winter, "
    "after residents of the outer islands said the seasonal cut left them without a way to work.",
    "The extension costs about four hundred thousand dollars, which the council will take from "
    "a reserve fund set aside for transport projects that were delayed last year.",
    "Opponents argued the money should go to road repairs, but the measure passed by seven "
    "votes to two after a debate that ran late into the evening.",
]


def page(
    paragraphs: list[str] = PARAS,
    *,
    head: str = "",
    after: str = "",
    title: str = "Council extends winter ferry service",
    charset_meta: str = '<meta charset="utf-8">',
) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head>{charset_meta}
<title>{title} | Harbour Gazette</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="Harbour Gazette">
<meta name="author" content="Mira Okafor">
<meta property="article:published_time" content="2024-11-05T09:30:00+00:00">
{head}
</head><body>
<header><nav><a href="/">Home</a> | <a href="/local">Local</a> |
<a href="/sport">Sport</a></nav></header>
<main><article><h1>{title}</h1>{body}{after}</article></main>
<aside><h3>Most read</h3><ul><li><a href="/a">Bakery wins award</a></li>
<li><a href="/b">Tides table for November</a></li></ul></aside>
<footer><p>Sign up for our newsletter. Copyright 2024 Harbour Gazette.</p></footer>
</body></html>"""


def test_article_text_and_metadata() -> None:
    article = extract_article(page().encode(), "https://www.gazette.example/local/ferry")
    assert article.text.split("\n\n") == PARAS
    assert article.title == "Council extends winter ferry service"
    assert article.site == "Harbour Gazette"
    assert article.author == "Mira Okafor"
    assert article.published == "2024-11-05"
    assert article.url == "https://www.gazette.example/local/ferry"
    assert not article.paywalled and article.notes == []
    for boilerplate in ("Home", "Most read", "Bakery", "Copyright", "newsletter"):
        assert boilerplate not in article.text


def test_site_falls_back_to_the_host_name() -> None:
    html = page().replace('<meta property="og:site_name" content="Harbour Gazette">', "")
    html = html.replace(" | Harbour Gazette", "")
    article = extract_article(html.encode(), "https://www.gazette.example/x")
    assert article.site and "gazette.example" in article.site


def test_lists_keep_items_on_their_own_lines() -> None:
    html = page(after="<ul><li>Ferries every two hours</li><li>Night boat on Fridays</li></ul>")
    assert "Ferries every two hours\nNight boat on Fridays" in extract_article(html.encode()).text


def test_plain_text_comes_back_as_is() -> None:
    raw = "Line one of a memo.\r\n\r\nSecond paragraph, with café.\r\n"
    article = extract_article(raw.encode("cp1252"), "https://x.example/memo.txt", "text/plain")
    assert article.text == "Line one of a memo.\n\nSecond paragraph, with café."
    assert article.title == "" and not article.paywalled and article.site == "x.example"


@pytest.mark.parametrize(
    ("body", "charset", "expected"),
    [
        ("naïve café".encode(), None, "naïve café"),
        ("naïve café".encode("cp1252"), "iso-8859-1", "naïve café"),
        ("naïve café – “quoted”".encode("cp1252"), None, "naïve café – “quoted”"),
        (b"\xef\xbb\xbfBOM wins", "iso-8859-1", "BOM wins"),
        ("mislabelled ü".encode(), "bogus-charset", "mislabelled ü"),
    ],
)
def test_decoding(body: bytes, charset: str | None, expected: str) -> None:
    assert decode_body(body, charset, "text/plain") == expected


def test_meta_charset_is_honoured() -> None:
    html = page(
        [p.replace("harbour", "harbour café") for p in PARAS],
        charset_meta='<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
    )
    article = extract_article(html.encode("cp1252"))
    assert "harbour café" in article.text


def test_xhtml_with_an_xml_declaration() -> None:
    html = '<?xml version="1.0" encoding="iso-8859-1"?>\n' + page(
        [p.replace("outer islands", "île extérieure") for p in PARAS], charset_meta=""
    )
    article = extract_article(html.encode("latin-1"), content_type="application/xhtml+xml")
    assert "île extérieure" in article.text


# ---- paywalls ------------------------------------------------------------------------------

PAYWALL_LD = json.dumps(
    {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Harbour Gazette"},
            {
                "@type": "NewsArticle",
                "headline": "Council extends winter ferry service",
                "isAccessibleForFree": "False",
                "hasPart": {"@type": "WebPageElement", "cssSelector": ".locked"},
            },
        ],
    }
)


def test_json_ld_paywall_is_reported_not_bypassed() -> None:
    html = page(PARAS[:1], head=f'<script type="application/ld+json">{PAYWALL_LD}</script>')
    article = extract_article(html.encode())
    assert article.paywalled
    assert article.notes == [PAYWALL_NOTE]
    assert article.text == PARAS[0]


def test_paywall_markup_and_prompt_is_reported_and_prompt_dropped() -> None:
    gate = (
        '<div class="article-paywall subscriber-only"><p>Subscribe to continue reading.</p>'
        "<p>Already a subscriber? Log in.</p></div>"
    )
    article = extract_article(page(PARAS[:2], after=gate).encode())
    assert article.paywalled and PAYWALL_NOTE in article.notes
    assert "Subscribe" not in article.text and "subscriber" not in article.text
    assert article.text.split("\n\n") == PARAS[:2]


def test_gated_section_class_alone_marks_a_paywall() -> None:
    html = page(PARAS[:1], after=f'<section class="meteredContent"><p>{PARAS[1]}</p></section>')
    article = extract_article(html.encode())
    assert article.paywalled and PAYWALL_NOTE in article.notes


def test_short_teaser_with_a_subscribe_prompt_is_a_paywall() -> None:
    teaser = "The council voted to extend the ferry service through the winter, officials said."
    prompt = "<p>Become a subscriber for unlimited access. Subscribe today.</p>"
    article = extract_article(
        page([teaser, teaser.replace("council", "board")], after=prompt).encode()
    )
    assert article.paywalled


def test_free_article_with_newsletter_prompts_is_not_a_paywall() -> None:
    html = page(
        after="<p><i>Subscribe to our weekly newsletter for more local news.</i></p>",
        head='<script type="application/ld+json">{"@type":"NewsArticle",'
        '"isAccessibleForFree":true}</script>',
    ).replace("<main>", '<main><div id="paywall-mount"></div>')  # empty mount point
    assert not extract_article(html.encode()).paywalled


def test_paywall_with_almost_nothing_public_is_no_article() -> None:
    html = page(
        ["Subscribe to continue reading."],
        head=f"<script type='application/ld+json'>{PAYWALL_LD}</script>",
    )
    with pytest.raises(InputError) as info:
        extract_article(html.encode())
    assert info.value.code == "no_article" and "paywall" in info.value.message


# ---- nothing to extract --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b"", "text/html"),
        (b"   \n", "text/html"),
        (b"<html><head><title>x</title></head><body></body></html>", "text/html"),
        (b"<html><body><div id='app'></div><script>render()</script></body></html>", "text/html"),
        (
            b"<html><body><nav><a href='/'>Home</a> <a href='/a'>About</a></nav></body></html>",
            "text/html",
        ),
        (b"<html><body><p>Page not found.</p></body></html>", "text/html"),
        (b"\x00\x01\x02binary\xff\xfe", "text/html"),
        (b"  \r\n ", "text/plain"),
    ],
)
def test_empty_or_near_empty_pages_are_no_article(body: bytes, ctype: str) -> None:
    with pytest.raises(InputError) as info:
        extract_article(body, "https://x.example/", ctype)
    assert info.value.code == "no_article"
    assert info.value.message.endswith(".") and "\n" not in info.value.message


def test_extract_module_is_pure() -> None:
    banned = {"slack_bolt", "slack_sdk", "redis", "apscheduler", "urllib3", "requests", "socket"}
    for name in ("extract.py", "urls.py"):
        tree = ast.parse((ROOT / "digests" / name).read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
        assert not imported & banned, (name, imported & banned)
    assert "fetch_url" not in (ROOT / "digests" / "extract.py").read_text()
