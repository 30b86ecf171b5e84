"""What triggers the bot in a message, and how ``/digest`` input is parsed (pure, no I/O)."""

from __future__ import annotations

import pytest

from digests.commands import parse_command, parse_topic_phrases
from digests.errors import InputError
from digests.render import check_blocks
from digests.reply import summary_message
from digests.triggers import MAX_LINKS, looks_like_article, message_sources

ARTICLE = " ".join(
    f"Sentence {i} says the ministry weighed new export rules for chips and batteries today."
    for i in range(8)
)


def test_links_win_and_at_most_five_are_taken():
    text = " ".join(f"<https://news.example/{i}|story {i}>" for i in range(7))
    sources = message_sources(text, "all")
    assert sources == [("url", f"https://news.example/{i}") for i in range(MAX_LINKS)]


def test_article_like_text_triggers_only_in_all_mode():
    assert looks_like_article(ARTICLE)
    assert message_sources(ARTICLE, "all") == [("text", ARTICLE)]
    assert message_sources(ARTICLE, "links") == []
    assert message_sources(ARTICLE, "off") == []
    assert message_sources("<https://a.example/x>", "off") == []


def test_chat_lines_do_not_trigger():
    assert message_sources("lunch at noon? also the tariff thing is wild", "all") == []
    short = "One. Two. Three. Four."
    assert not looks_like_article(short)


def test_summarize_options_are_parsed_and_validated():
    cmd = parse_command("summarize https://x.example/a --sentences 4 --method LexRank")
    assert (cmd.name, cmd.rest, cmd.sentences, cmd.method) == (
        "summarize", "https://x.example/a", 4, "lexrank")  # fmt: skip
    with pytest.raises(InputError, match="1 to 10"):
        parse_command("summarize https://x.example/a --sentences 40")
    with pytest.raises(InputError) as err:
        parse_command("summarize")
    assert err.value.code == "empty"


def test_unknown_subcommands_become_help():
    assert parse_command("").name == "help"
    assert parse_command("what is this").name == "help"
    assert parse_command("SCHEDULE weekly mon 09:00").name == "schedule"


def test_topic_phrases_accept_straight_and_curly_quotes():
    assert parse_topic_phrases('chips "wafer fab", “lithography”') == (
        "chips", ["wafer fab", "lithography"])  # fmt: skip
    with pytest.raises(InputError):
        parse_topic_phrases("Bad-Id phrase")


def test_a_huge_summary_reply_stays_within_block_kit_limits():
    result = {
        "title": "T" * 500, "url": "https://x.example/a", "summary": ["word " * 400] * 10,
        "topics": [{"topic": "trade", "label": "Trade", "score": 1.0, "evidence": ["x" * 900] * 5}] * 11,
        "notes": ["n" * 3000],
    }  # fmt: skip
    text, blocks = summary_message(result)
    assert check_blocks(blocks) == [] and len(text) <= 3000
