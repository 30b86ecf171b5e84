"""Canonical URLs (cache keys, dedup) and links found in Slack messages."""

from __future__ import annotations

import pytest

from digests.urls import canonical_url, find_urls


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Example.ORG/News/Story", "https://www.example.org/News/Story"),
        ("https://example.org:443/a", "https://example.org/a"),
        ("http://example.org:80/a", "http://example.org/a"),
        ("https://example.org:8443/a", "https://example.org:8443/a"),
        ("http://example.org:443/a", "http://example.org:443/a"),
        ("https://example.org/", "https://example.org"),
        ("https://example.org", "https://example.org"),
        ("https://example.org/a/", "https://example.org/a/"),
        ("https://example.org/a#section-2", "https://example.org/a"),
        ("https://example.org/?utm_source=x", "https://example.org"),
        ("https://example.org/a?b=2&a=1", "https://example.org/a?a=1&b=2"),
        (
            "https://example.org/a?utm_source=tw&utm_Medium=s&fbclid=X&gclid=Y&mc_cid=1&mc_eid=2"
            "&igshid=3&ref=hn&ref_src=twsrc&smid=nytcore&cmpid=rss&id=42",
            "https://example.org/a?id=42",
        ),
        ("https://example.org/a?UTM_CAMPAIGN=x&page=2", "https://example.org/a?page=2"),
        ("https://example.org/a?q=a%20b&x=%7e", "https://example.org/a?q=a%20b&x=~"),
        ("https://example.org/%7euser/%2f", "https://example.org/~user/%2F"),
        ("https://example.org/a?flag&z=", "https://example.org/a?flag&z="),
        ("https://user:secret@example.org/a", "https://example.org/a"),
        ("https://example.org./a", "https://example.org/a"),
        ("https://[2001:DB8::1]:443/a", "https://[2001:db8::1]/a"),
        ("  https://example.org/a  ", "https://example.org/a"),
        ("not a url", "not a url"),
        ("https://[broken/a", "https://[broken/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_is_idempotent_and_keeps_order_independent_keys_equal() -> None:
    a = canonical_url("https://Example.org/story?b=2&a=1&utm_source=x#top")
    b = canonical_url("https://example.org:443/story?a=1&b=2&fbclid=abc")
    assert a == b == canonical_url(a)


def test_find_urls_in_slack_markup() -> None:
    text = (
        "Worth a read <https://example.org/a?x=1&amp;y=2|Example story> and "
        "<https://example.org/b> cc <@U123> in <#C42|policy> <!here> <mailto:a@b.example|mail>"
    )
    assert find_urls(text) == ["https://example.org/a?x=1&y=2", "https://example.org/b"]


def test_find_urls_bare_with_trailing_punctuation() -> None:
    text = (
        "See https://example.org/one. Also (https://example.org/two), "
        "https://en.wikipedia.org/wiki/Tariff_(disambiguation)! and "
        '"https://example.org/three?x=1"; finally HTTPS://Example.org/four...'
    )
    assert find_urls(text) == [
        "https://example.org/one",
        "https://example.org/two",
        "https://en.wikipedia.org/wiki/Tariff_(disambiguation)",
        "https://example.org/three?x=1",
        "HTTPS://Example.org/four",
    ]


def test_find_urls_dedupes_by_canonical_form_keeping_the_first() -> None:
    text = (
        "<https://example.org/a?utm_source=slack|first> then https://example.org/a "
        "and https://EXAMPLE.org/a#comments and <https://example.org/b>"
    )
    assert find_urls(text) == ["https://example.org/a?utm_source=slack", "https://example.org/b"]


def test_find_urls_ignores_non_web_and_empty() -> None:
    assert find_urls("") == []
    assert find_urls("ftp://example.org/x file:///etc/passwd http:// nothing") == []
    assert find_urls("<javascript:alert(1)|click>") == []
