"""Cleaning, sentence splitting, tokenizing and input checks (digests/text.py)."""

from __future__ import annotations

import nltk
import pytest
from sumy.nlp.tokenizers import Tokenizer
from sumy.parsers.plaintext import PlaintextParser

from digests.errors import InputError
from digests.text import (
    NewsTokenizer,
    check_text,
    clean_text,
    from_slack,
    is_junk_sentence,
    split_sentences,
    title_and_body,
    word_count,
)

# --------------------------------------------------------------------------------------------
# split_sentences
# --------------------------------------------------------------------------------------------

ONE_SENTENCE_EACH = [
    "The U.S. and the U.K. signed the deal in London on Tuesday.",
    "The tariffs take effect on Jan. 5 under the new rules.",
    "The company is ranked No. 2 in the world by sales.",
    "Gov. Gavin Newsom signed the bill into law on Monday.",
    "Sen. Elizabeth Warren and Rep. Ro Khanna wrote to the agency.",
    "Dr. Anthony Fauci testified before the committee for three hours.",
    "Shares of Acme Inc. rose after the ruling, analysts said.",
    "Inflation rose 3.5% in March, faster than economists expected.",
    "The House passed H.R. 2670 by a vote of 219 to 210.",
    "The vote was held at 9 a.m. and the results came at 4 p.m. on Friday.",
    "The protest began at 10 a.m. Monday outside the embassy.",
    "Talks resumed in St. Louis after a short break.",
    "Section 301 duties were raised under Sec. 301 of the Trade Act.",
]


@pytest.mark.parametrize("sentence", ONE_SENTENCE_EACH)
def test_news_abbreviations_do_not_split(sentence: str) -> None:
    assert split_sentences(sentence) == [sentence]


@pytest.mark.parametrize("sentence", ONE_SENTENCE_EACH)
def test_abbreviations_between_other_sentences(sentence: str) -> None:
    text = f"Officials met again. {sentence} The talks will continue."
    assert split_sentences(text) == ["Officials met again.", sentence, "The talks will continue."]


def test_sentence_ending_in_abbreviation_still_splits() -> None:
    assert split_sentences("He moved to the U.S. He likes it there.") == [
        "He moved to the U.S.",
        "He likes it there.",
    ]


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Imports of iron ore. China said exports fell.", "Imports of iron ore."),
        ("He fell ill. Smith said so.", "He fell ill."),
        ("Asked about a deal, he said no. Talks ended.", "Asked about a deal, he said no."),
    ],
)
def test_words_the_model_mistook_for_abbreviations_end_sentences(text: str, first: str) -> None:
    assert split_sentences(text)[0] == first
    assert len(split_sentences(text)) == 2


def test_ordinary_sentences_split_in_order() -> None:
    text = 'The ministry objected. "We will respond," it said. Would talks resume? Nobody knew!'
    assert split_sentences(text) == [
        "The ministry objected.",
        '"We will respond," it said.',
        "Would talks resume?",
        "Nobody knew!",
    ]


def test_paragraph_break_ends_a_sentence_and_lines_join() -> None:
    text = "Trade talks stall in Geneva\n\nNegotiators left the\nroom on Friday. They return soon."
    assert split_sentences(text) == [
        "Trade talks stall in Geneva",
        "Negotiators left the room on Friday.",
        "They return soon.",
    ]


def test_blank_text_has_no_sentences() -> None:
    assert split_sentences(" \n\n \t") == []


# --------------------------------------------------------------------------------------------
# NewsTokenizer
# --------------------------------------------------------------------------------------------


def test_news_tokenizer_is_a_sumy_tokenizer_that_never_needs_punkt_tab(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("punkt_tab / nltk data must never be touched")

    monkeypatch.setattr(nltk.tokenize, "PunktTokenizer", refuse)
    monkeypatch.setattr(nltk, "sent_tokenize", refuse)
    monkeypatch.setattr(nltk, "word_tokenize", refuse)
    monkeypatch.setattr(nltk, "download", refuse)
    monkeypatch.setattr(nltk.data, "load", refuse)

    tokenizer = NewsTokenizer("english")
    assert isinstance(tokenizer, Tokenizer)
    assert tokenizer.language == "english"
    document = PlaintextParser.from_string(
        "Gov. Smith met Sen. Jones. They didn't agree.\n\nTalks end.", tokenizer
    ).document
    assert [str(s) for s in document.sentences] == [
        "Gov. Smith met Sen. Jones.",
        "They didn't agree.",
        "Talks end.",
    ]
    # Sumy's word filter keeps Treebank's "n't" but drops punctuation, numbers and "U.S.".
    assert tokenizer.to_words("The U.S. raised tariffs by 25%, didn't it?") == (
        "The",
        "raised",
        "tariffs",
        "by",
        "did",
        "n't",
        "it",
    )


def test_news_tokenizer_refuses_other_languages() -> None:
    with pytest.raises(LookupError):
        NewsTokenizer("german")


# --------------------------------------------------------------------------------------------
# clean_text
# --------------------------------------------------------------------------------------------

BODY = "The Senate passed the bill on Tuesday. The House votes next week."


@pytest.mark.parametrize(
    "dirty",
    [
        f"By John Smith\n{BODY}",
        f"By John Smith and Jane Doe, Reuters\n{BODY}",
        f"By . Associated Press . {BODY}",
        f"By . Harriet Arkell For Mailonline . {BODY}",
        f"By . Daily Mail Reporter . PUBLISHED: . 14:11 EST, 25 October 2013 . | . "
        f"UPDATED: . 15:36 EST, 25 October 2013 . {BODY}",
        f"WASHINGTON (Reuters) - {BODY}",
        f"WASHINGTON, Jan. 5 (Reuters) - {BODY}",
        f"BEIJING, China (CNN) -- {BODY}",
        f"(CNN) -- {BODY}",
        f"(CNN){BODY}",
        f"WASHINGTON — {BODY}",
        f"PUBLISHED: 10:00 EST, 1 May 2024\n{BODY}",
        f"Share this withEmailFacebookTwitterWhatsAppCopy this link{BODY}",
        f"Media playback is not supported on this device{BODY}",
        f"Published • 10 April 2025 at 5:34 PM\n{BODY}",
        f"Published • 10 April 2025 at 5:34 PM {BODY}",
        f"Updated 6:35 PM ET, Sat October 29, 2016\n{BODY}",
        f"Updated: 3 hours ago\n{BODY}",
        f"Last updated on April 10, 2025, 5:34 p.m. EDT {BODY}",
        f"date 2025-09-25 {BODY}",
        f"Saturday, 30 August 2014\n{BODY}",
        f"Washington, DC – September 26, 2025\n{BODY}",
        f"By Jane Smith and Tom Jones\nUpdated 6:35 PM ET, Sat October 29, 2016\n{BODY}",
        f"Category: English Premier League\n{BODY}",
        f"• {BODY}",
    ],
)
def test_clean_text_drops_bylines_and_datelines(dirty: str) -> None:
    assert clean_text(dirty) == BODY


@pytest.mark.parametrize(
    "prose",
    [
        "Updated figures showed exports fell 5% in March.",
        "Published reports said the deal was close.",
        "Dated rules from 1998 still apply, officials said.",
        "- 5 percent is the floor, the minister said.",
    ],
)
def test_clean_text_keeps_prose_that_starts_like_a_stamp(prose: str) -> None:
    assert clean_text(prose) == prose.removeprefix("- ")


HEADLINE_BODY = (
    "The Ministry of Commerce said on Thursday that exports of graphite will need licences "
    "from December. Exporters have two weeks to apply."
)


@pytest.mark.parametrize(
    ("pasted", "title"),
    [
        # A headline-like first line is the title, under whatever furniture comes first.
        (f"Graphite exports need licences\n{HEADLINE_BODY}", "Graphite exports need licences"),
        (f"date 2024-05-23 Ministry of Commerce curbs graphite\n{HEADLINE_BODY}",
         "Ministry of Commerce curbs graphite"),
        (f"Published • 10 April 2025 at 5:34 PM\nTrump Hikes China Tariffs to 125%\n{HEADLINE_BODY}",
         "Trump Hikes China Tariffs to 125%"),
        (f"By Jane Smith\nSaturday, 30 August 2014\nGraphite curbs widen\n{HEADLINE_BODY}",
         "Graphite curbs widen"),
        # Else the first full sentence, never a bullet item or a date.
        (f"• Premier League\n• La Liga\n{HEADLINE_BODY}",
         "The Ministry of Commerce said on Thursday that exports of graphite will need licences…"),
        (f"date 2024-05-23 {HEADLINE_BODY}",
         "The Ministry of Commerce said on Thursday that exports of graphite will need licences…"),
        ("Exporters have two weeks to apply. The rule starts in December.",
         "Exporters have two weeks to apply."),
    ],
)  # fmt: skip
def test_title_of_pasted_text(pasted: str, title: str) -> None:
    guessed, body = title_and_body(pasted)
    assert guessed == title
    assert len(guessed) <= 120 and not guessed.startswith(("•", "date", "Published"))
    assert "Exporters have two weeks to apply." in body
    assert not body.startswith(title) or title.endswith(("…", "."))  # a headline leaves the body


@pytest.mark.parametrize(
    "junk_line",
    [
        "(Photo: Jane Doe/AP)",
        "Photo: Jane Doe/Reuters",
        "Image copyright Getty Images",
        "Image caption The senator spoke to reporters",
        "Protesters outside the Capitol. Getty Images",
        "Read more: Why the tariffs matter",
        "READ MORE: Congress in crisis",
        "Sign up for our newsletter",
        "Click here to subscribe",
        "Follow us on Twitter",
        "Advertisement",
        "Reporting by David Lawder; Editing by Chizu Nomiyama",
        "> an earlier message someone quoted",
    ],
)
def test_clean_text_drops_captions_furniture_and_quotes(junk_line: str) -> None:
    text = f"The Senate passed the bill on Tuesday.\n{junk_line}\nThe House votes next week."
    assert clean_text(text) == "The Senate passed the bill on Tuesday.\nThe House votes next week."


def test_clean_text_drops_inline_photo_credits() -> None:
    text = "The senator (Photo: Jane Doe/AP) spoke on Tuesday (Getty Images)."
    assert clean_text(text) == "The senator spoke on Tuesday."


def test_from_slack_unwraps_markup_and_decodes_entities_once() -> None:
    text = (
        "See <https://example.org/report|the report> and <https://example.org/b> "
        "from <mailto:press@example.org|the press office> &amp; <#C123|policy>. "
        "<!channel> R&amp;amp;D &lt;!here&gt;"
    )
    assert from_slack(text) == (
        "See the report and https://example.org/b from the press office & #policy. "
        "@channel R&amp;D <!here>"
    )


def test_clean_text_leaves_entities_alone_text_is_decoded_at_the_slack_boundary() -> None:
    assert clean_text("AT&amp;T said &lt;no&gt;.") == "AT&amp;T said &lt;no&gt;."
    slack = "The Senate passed the bill.\n&gt; a quoted reply as Slack sends it\nThe House votes."
    assert clean_text(from_slack(slack)) == "The Senate passed the bill.\nThe House votes."


def test_clean_text_keeps_paragraphs_and_collapses_whitespace() -> None:
    text = "  First   paragraph\t here.\n\n\n\nSecond\u00a0paragraph.  \n  Same paragraph.  \n"
    assert clean_text(text) == "First paragraph here.\n\nSecond paragraph.\nSame paragraph."


def test_clean_text_gives_headlines_their_own_paragraph() -> None:
    assert clean_text("Trade talks stall\nOfficials met on Monday.") == (
        "Trade talks stall\n\nOfficials met on Monday."
    )


def test_clean_text_drops_scraper_periods_before_lowercase() -> None:
    assert clean_text("He wore a casual . navy shirt.") == "He wore a casual navy shirt."


def test_clean_text_keeps_prose_that_looks_like_junk() -> None:
    text = (
        "By Tuesday, the Senate had voted on the bill.\n"
        "Updated guidance was published by the Treasury.\n"
        "Photos released by the ministry show the damage.\n"
        "Copyright law was not part of the deal."
    )
    assert clean_text(text) == text


def test_is_junk_sentence() -> None:
    assert is_junk_sentence("Click here to read more.")
    assert is_junk_sentence("Advertisement")
    assert is_junk_sentence("Yes.")
    assert not is_junk_sentence("The Senate passed the bill on Tuesday.")


def test_word_count() -> None:
    assert word_count("The U.S. raised tariffs by 3.5% — didn't it?") == 8
    assert word_count("") == 0


# --------------------------------------------------------------------------------------------
# check_text
# --------------------------------------------------------------------------------------------

ENGLISH = (
    "The government said on Tuesday that it would raise tariffs on imported steel, "
    "and officials expect the measure to take effect within a month."
)


def _code(text: str, max_chars: int = 10_000) -> str:
    with pytest.raises(InputError) as caught:
        check_text(text, max_chars)
    return caught.value.code


@pytest.mark.parametrize(
    "text",
    [
        ENGLISH,
        "Tariffs rise.",  # too short to judge the language
        "Tariffs: 25% on steel, 10% on aluminum. Effective: March 12. Exemptions: Canada, Mexico.",
        "Xi Jinping met Vladimir Putin and Luiz Inacio Lula da Silva in Moscow for talks.",
    ],
)
def test_check_text_accepts_english(text: str) -> None:
    assert check_text(text, 10_000) is None


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_check_text_empty(text: str) -> None:
    assert _code(text) == "empty"


def test_check_text_too_long_names_the_limit() -> None:
    with pytest.raises(InputError) as caught:
        check_text(ENGLISH, 50)
    assert caught.value.code == "too_long"
    assert "50" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "PK\x03\x04\x00\x00binary zip header",
        "".join(chr(c) for c in range(1, 32)) * 10,
        "\ufffd\ufffd\ufffdabc\ufffd\ufffd\ufffd\ufffd\ufffd",
    ],
)
def test_check_text_binary(text: str) -> None:
    assert _code(text) == "binary"


@pytest.mark.parametrize(
    "text",
    [
        "El gobierno anunció el martes nuevos aranceles sobre el acero importado desde varios "
        "países, según fuentes oficiales del ministerio.",
        "Die Regierung kündigte am Dienstag neue Zölle auf importierten Stahl aus mehreren "
        "Ländern an, teilte das Ministerium mit.",
        "O governo anunciou na terça-feira novas tarifas sobre o aço importado de vários "
        "países, segundo o ministério.",
        "Le gouvernement a annoncé mardi de nouveaux droits de douane sur l'acier importé de "
        "plusieurs pays, selon le ministère.",
        "De regering kondigde dinsdag nieuwe invoerheffingen aan op staal uit verschillende "
        "landen, aldus het ministerie.",
        "政府周二宣布对进口钢铁征收新的关税，官员表示该措施将在一个月内生效。",
        "Правительство во вторник объявило о новых пошлинах на импортную сталь.",
    ],
)
def test_check_text_unsupported_language(text: str) -> None:
    with pytest.raises(InputError) as caught:
        check_text(text, 10_000)
    assert caught.value.code == "unsupported_language"
    assert "only English is supported for now" in caught.value.message
