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


def test_a_metered_section_that_holds_the_article_is_not_a_paywall() -> None:
    html = page(PARAS[:1], after=f'<section class="meteredContent"><p>{PARAS[1]}</p></section>')
    article = extract_article(html.encode())
    assert not article.paywalled and article.notes == []
    assert PARAS[1] in article.text


def long_paragraphs() -> list[str]:
    """About 540 words: more than any public opening."""
    return [p.replace("council", f"council (session {i})") for i in range(6) for p in PARAS]


@pytest.mark.parametrize(
    "ld",
    [
        # NYT: not free, and the gated part (.meteredContent) is in the page with the text.
        {
            "@type": "NewsArticle",
            "isAccessibleForFree": False,
            "hasPart": {
                "@type": "WebPageElement",
                "isAccessibleForFree": False,
                "cssSelector": ".meteredContent",
            },
        },
        # LA Times: not free, no part named, the whole article in the page.
        {"@type": "NewsArticle", "isAccessibleForFree": "False"},
    ],
)
def test_full_articles_of_metered_sites_are_not_paywalled(ld: dict) -> None:
    body = "".join(f"<p>{p}</p>" for p in long_paragraphs())
    html = page([], head=f'<script type="application/ld+json">{json.dumps(ld)}</script>').replace(
        "</h1>", f'</h1><section class="meteredContent">{body}</section>'
    )
    article = extract_article(html.encode())
    assert not article.paywalled and article.notes == []
    assert len(article.text.split()) > 400


def test_not_free_markup_with_a_short_opening_and_no_gated_part_is_a_paywall() -> None:
    ld = json.dumps({"@type": "NewsArticle", "isAccessibleForFree": False})
    html = page(PARAS[:2], head=f'<script type="application/ld+json">{ld}</script>')
    article = extract_article(html.encode())
    assert article.paywalled and article.notes == [PAYWALL_NOTE]


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


# ---- text defects --------------------------------------------------------------------------


def test_line_breaks_inside_a_paragraph_keep_words_apart() -> None:
    dated = (
        "Important dates:<br>June 9 is the last day for comments on the proposed export rule, "
        "officials said.<br/>West Palm Beach, FL<br>June 10 is the hearing in the county hall."
    )
    article = extract_article(page([*PARAS, dated]).encode())
    assert "dates: June 9" in article.text
    assert "FL June 10" in article.text
    assert "dates:June" not in article.text and "FLJune" not in article.text


@pytest.mark.parametrize(
    ("title", "site", "url", "expected"),
    [
        ("Apple's new chip, tested | ZDNet", "", "https://www.zdnet.com/article/x/", "Apple's new chip, tested"),
        ("The best games of 2024 - IGN", "", "https://www.ign.com/articles/x", "The best games of 2024"),
        ("Ferry service extended – The Harbour Gazette", "Harbour Gazette", None, "Ferry service extended"),
        ("Reuters | Tariffs rise again", "Reuters", None, "Tariffs rise again"),
        # A dash that belongs to the headline stays.
        ("Biden - Xi talks resume in Lima", "", "https://www.zdnet.com/x", "Biden - Xi talks resume in Lima"),
    ],
)  # fmt: skip
def test_site_names_are_stripped_from_titles(title, site, url, expected) -> None:
    from digests.page_meta import clean_title

    assert clean_title(title, site, url) == expected


def test_a_title_with_a_site_suffix_is_not_repeated_as_the_opening() -> None:
    html = page().replace(
        '<meta property="og:title" content="Council extends winter ferry service">', ""
    )
    article = extract_article(html.encode(), "https://www.harbourgazette.example/local/ferry")
    assert article.title == "Council extends winter ferry service"
    assert article.text.split("\n\n")[0] == PARAS[0]


def test_the_h1_shows_where_a_title_of_an_unnamed_site_ends() -> None:
    html = (
        page()
        .replace('<meta property="og:title" content="Council extends winter ferry service">', "")
        .replace('<meta property="og:site_name" content="Harbour Gazette">', "")
        .replace(
            "Council extends winter ferry service | Harbour Gazette", "Ferry - Council | HG News"
        )
        .replace("<h1>Council extends winter ferry service</h1>", "<h1>Ferry - Council</h1>")
    )
    assert extract_article(html.encode(), "https://unrelated.example/x").title == "Ferry - Council"


def test_a_paragraph_repeating_the_headline_is_dropped() -> None:
    html = page(["Council extends winter ferry service", *PARAS]).replace("<h1>", "<h1 hidden>")
    article = extract_article(html.encode())
    assert article.text.split("\n\n") == PARAS


JAPANESE = (
    "政府は火曜日、半導体の輸出規制を強化すると発表した。対象となる品目は先端的な製造装置で、"
    "同盟国との協議を経て来月から適用される。経済産業省の担当者は、安全保障上の懸念に対応する"
    "ための措置だと説明した。業界団体は影響を精査するとしている。"
)


def test_a_japanese_article_is_extracted_and_refused_as_unsupported_language() -> None:
    from digests.analyze import analyze
    from digests.topics import Taxonomy

    html = page([JAPANESE, JAPANESE.replace("政府", "内閣")], title="半導体の輸出規制を強化")
    article = extract_article(html.replace('lang="en"', 'lang="ja"').encode())
    assert "半導体" in article.text
    with pytest.raises(InputError) as info:
        analyze(article, taxonomy=Taxonomy.load())
    assert info.value.code == "unsupported_language"


def test_word_count_counts_unspaced_scripts() -> None:
    from digests.extract import word_count

    assert word_count("two words") == 2
    assert word_count("政府は発表") == 5
    assert word_count("The 政府 said") == 4


# ---- budget: hostile markup is refused before parsing --------------------------------------


@pytest.mark.parametrize(
    "markup",
    [
        # 600,000 paragraphs in an article (4.8 MB): 91 s and 1.2 GB before the budget.
        "<html><body><article>" + "<p>x</p>" * 600_000 + "</article></body></html>",
        # 160,000 elements in 1.28 MB: two minutes before the budget.
        "<html><body>" + "<p>x</p>" * 160_000 + "</body></html>",
    ],
    ids=["600k-paragraphs", "160k-elements"],
)
def test_hostile_pages_are_refused_before_parsing(markup: str, monkeypatch) -> None:
    import trafilatura

    def must_not_parse(*args, **kwargs):
        raise AssertionError("parsed a page over the budget")

    monkeypatch.setattr(trafilatura, "load_html", must_not_parse)
    with pytest.raises(InputError) as info:
        extract_article(markup.encode(), "https://x.example/a")
    assert info.value.code == "too_complex"
    assert "paste the article text" in info.value.message


def test_pages_over_the_size_limit_are_too_large() -> None:
    from digests.extract import MAX_MARKUP_BYTES

    html = page().replace("</footer>", "<!--" + "x" * MAX_MARKUP_BYTES + "--></footer>")
    with pytest.raises(InputError) as info:
        extract_article(html.encode())
    assert info.value.code == "too_large"


def test_element_count_skips_scripts_and_stops_at_the_limit() -> None:
    from digests.extract import element_count

    script = "<script>" + "if (a<b) { x = a<c; }" * 5000 + "</script>"
    assert element_count("<html><body><p>a</p>" + script + "</body></html>", 100) == 4
    # An unclosed script swallows the rest of the page, as in a browser.
    assert element_count("<p>x</p><script>" + "<p>y</p>" * 1000, 100) == 2
    assert element_count("<p>x</p>" * 10_000, 100) == 101
    # A page under the limit with scripts full of "<" still extracts.
    html = page(after=script)
    assert extract_article(html.encode()).text.split("\n\n") == PARAS


def test_deeply_nested_json_ld_is_ignored() -> None:
    ld = "[" * 100_000 + "]" * 100_000
    html = page(head=f'<script type="application/ld+json">{ld}</script>')
    assert extract_article(html.encode()).text.split("\n\n") == PARAS
