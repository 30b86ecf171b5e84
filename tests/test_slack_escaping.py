"""Slack markup from users and pages never reaches a posted field raw, and ``&`` is escaped once.

Everything goes through the real Bolt app and the fake Slack. Slack delivers message and command
text entity-escaped (``&amp;``, ``&lt;``, ``&gt;``), so the inputs here are written as Slack
sends them; every field the bot then posts (top-level ``text``, blocks, views, acks) is checked.
"""

from __future__ import annotations

import json

from tests.slack_harness import CHANNEL

RAW_MARKUP = ("<!channel>", "<!here>", "<!everyone>", "<@UEVIL1", "<https://evil.example")

# As Slack sends a message whose author typed the markup literally.
SLACK_PASTE = (
    "U.S. &amp; China resume R&amp;D talks\n"
    "&lt;!channel&gt; Tariffs update &lt;!here&gt; The Commerce Department said on Tuesday "
    "that trade talks with China would resume next month in Geneva. Officials from both sides "
    "will discuss tariffs on semiconductors, rare earth exports and farm goods. The talks "
    "stalled in March after Washington added more companies to the Entity List. &lt;@UEVIL1&gt; "
    "Beijing said it wanted the export controls lifted before any deal. Analysts expect the "
    "first round to focus on agriculture, where both sides see room for a quick agreement. "
    "Industry groups welcomed the news and urged negotiators to settle the chip dispute soon."
)
# A page whose title carries Slack markup (HTML-escaped in the page, as a browser would need).
HOSTILE_TITLE = (
    "&lt;!channel&gt; Chips &amp; tariffs &lt;@UEVIL1&gt; &lt;https://evil.example|click&gt;"
)


def _strings(value) -> list[str]:
    """Every string inside a call's parameters (text, blocks, views…), recursively."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _posted(h, acks: list[str]) -> list[str]:
    return [s for call in h.fake.calls for s in _strings(call.params)] + acks


def _assert_no_raw_markup(texts: list[str]) -> None:
    for text in texts:
        for markup in RAW_MARKUP:
            assert markup not in text, f"raw {markup!r} posted in: {text[:300]!r}"
        assert "&amp;amp;" not in text and "&amp;lt;" not in text, f"escaped twice: {text[:300]!r}"


def _ack(response) -> str:
    body = response.body or ""
    try:
        return json.loads(body).get("text", body)
    except ValueError:
        return body


def test_a_pasted_article_with_markup_is_posted_escaped_once(h):
    h.message(SLACK_PASTE, ts="1700000000.000100")
    h.settle()
    (reply,) = h.replies()
    texts = _posted(h, [])
    _assert_no_raw_markup(texts)
    # decoded once on the way in, escaped once on the way out: the headline reads as typed
    assert reply["text"].startswith("U.S. &amp; China resume R&amp;D talks")
    assert "U.S. &amp; China resume R&amp;D talks" in json.dumps(reply["blocks"])
    assert any("&lt;!channel&gt;" in t or "&lt;!here&gt;" in t for t in texts)
    placeholder = h.fake.calls_to("chat.postMessage")[0].params
    assert placeholder["text"].startswith("Summarizing")


def test_a_hostile_page_title_is_escaped_in_every_reply_digest_and_home(h, site):
    site.titles["evil"] = HOSTILE_TITLE
    h.message(f"<{site.url('evil')}>", user="U1", ts="1700000000.000200")
    h.settle()
    h.message(f"again <{site.url('evil')}>", user="U2", ts="1700000001.000300")  # "already"
    h.command("recent")
    h.command("preview")
    h.dispatch(h.event_body("", type="app_home_opened", user="U1", tab="home"))
    h.settle()
    h.command("now")
    h.settle()
    texts = _posted(h, [])
    _assert_no_raw_markup(texts)
    assert h.fake.calls_to("chat.update") and h.fake.calls_to("views.publish")
    digest = [p for p in h.fake.posts(CHANNEL) if p.get("metadata")]
    assert digest, "the digest was posted"
    escaped = "&lt;!channel&gt; Chips &amp; tariffs &lt;@UEVIL1&gt;"
    assert any(escaped in t for t in texts)


def test_commands_echoing_user_text_escape_it(h):
    acks = [
        _ack(h.command("help")),
        _ack(h.command("&lt;!channel&gt;")),
        _ack(h.command("summarize hello --method &lt;!here&gt;")),
    ]
    for text in (
        'topics add trade "&lt;!channel&gt; ping"',
        "schedule weekly &lt;!here&gt; 09:00",
        "schedule daily 08:00 &lt;@UEVIL1&gt;",
        "forget &lt;!channel&gt;",
        "topics remove &lt;!everyone&gt;",
        "recent &lt;!here&gt;",
        "auto &lt;!channel&gt;",
    ):
        h.command(text)
        h.settle()
    texts = _posted(h, acks)
    _assert_no_raw_markup(texts)
    help_ack = acks[0]
    assert "&lt;link or text&gt;" in help_ack and "<link" not in help_ack
    assert "I don't know" in acks[1] and "&lt;!channel&gt;" in acks[1]
    audit = [c.params["text"] for c in h.fake.calls_to("chat.postMessage")]
    assert any("“&lt;!channel&gt; ping”" in t for t in audit)


def test_app_home_hint_is_escaped(h):
    h.dispatch(h.event_body("", type="app_home_opened", user="UNEW", tab="home"))
    h.settle()
    (call,) = h.fake.calls_to("views.publish")
    text = json.dumps(call.params["view"])
    assert "/digest forget &lt;link&gt;" in text and "<link>" not in text


def test_a_headline_with_an_ampersand_in_a_summarize_command_is_escaped_once(h):
    h.command("summarize " + SLACK_PASTE)
    h.settle()
    (answer,) = h.fake.calls_to("response_url")
    texts = _strings(answer.params)
    _assert_no_raw_markup(texts)
    assert answer.params["text"].startswith("U.S. &amp; China resume R&amp;D talks")
