"""The summarizer registry (digests/summarize.py) against Sumy's own classes and the lead rule."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sumy.nlp.stemmers import Stemmer
from sumy.parsers.plaintext import PlaintextParser
from sumy.summarizers.edmundson import EdmundsonSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.lsa import LsaSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.reduction import ReductionSummarizer
from sumy.summarizers.sum_basic import SumBasicSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

from digests import summarize as summarize_module
from digests.errors import InputError
from digests.summarize import (
    DEFAULT_METHOD,
    METHODS,
    STIGMA_WORDS,
    TOO_SHORT_NOTE,
    default_length,
    summarize,
)
from digests.text import NewsTokenizer, clean_text, split_sentences

# Written for these tests: a byline, a dateline, then twelve sentences in six paragraphs.
ARTICLE = """By . Staff Reporter . PUBLISHED: . 09:12 EST, 5 January 2025 .
WASHINGTON (Reuters) - The U.S. Commerce Department on Tuesday tightened export controls on \
advanced chips bound for China, officials said.

The new rules, which take effect on Jan. 15, cover graphics processors used to train artificial \
intelligence models. Commerce Secretary Gina Raimondo said the controls close loopholes that let \
Chinese firms buy restricted chips through third countries.

Nvidia Corp. shares fell 3.5% in early trading after the announcement. Analysts said the company \
could lose billions of dollars in annual sales to Chinese customers.

China's commerce ministry called the export controls a violation of free trade and vowed to \
protect the interests of Chinese companies. Beijing has already restricted exports of gallium \
and germanium, two metals used in chipmaking.

Sen. Marsha Blackburn, a Republican, praised the rules but said Congress should pass H.R. 2670 \
to make the chip controls permanent. Rep. Mike Gallagher said the controls were long overdue.

The Semiconductor Industry Association warned that broad export controls could hurt American \
chip companies and push buyers toward rivals in Europe and Asia.

Dr. Chris Miller, a historian at Tufts University, said the chip war between Washington and \
Beijing is likely to intensify over the next year.

The weather in Washington was cold and sunny on Tuesday afternoon.
"""
CLEAN_SENTENCES = split_sentences(clean_text(ARTICLE))
BONUS = ("export controls", "semiconductors")

SUMY_CLASSES = {
    "lexrank": LexRankSummarizer,
    "textrank": TextRankSummarizer,
    "lsa": LsaSummarizer,
    "luhn": LuhnSummarizer,
    "sumbasic": SumBasicSummarizer,
    "reduction": ReductionSummarizer,
}


def sumy_directly(method: str, text: str, count: int) -> list[str]:
    """Sumy's own class, configured from scratch, on our tokenizer and the cleaned text."""
    stemmer = Stemmer("english")
    stop = get_stop_words("english")
    document = PlaintextParser.from_string(clean_text(text), NewsTokenizer("english")).document
    if method == "edmundson":
        summarizer = EdmundsonSummarizer(stemmer)
        summarizer.bonus_words = ["export", "controls", "semiconductors"]
        summarizer.stigma_words = STIGMA_WORDS
        summarizer.null_words = stop
    else:
        summarizer = SUMY_CLASSES[method](stemmer)
        summarizer.stop_words = stop
    return [str(s) for s in summarizer(document, count)]


def test_article_fixture_is_clean_and_twelve_sentences() -> None:
    assert len(CLEAN_SENTENCES) == 12
    assert CLEAN_SENTENCES[0].startswith("The U.S. Commerce Department")


def test_methods_registry() -> None:
    assert set(METHODS) == {
        "default",
        "lead",
        "policy",
        "lexrank",
        "textrank",
        "lsa",
        "luhn",
        "edmundson",
        "sumbasic",
        "reduction",
    }
    assert "kl" not in METHODS


@pytest.mark.parametrize("method", [*SUMY_CLASSES, "edmundson"])
@pytest.mark.parametrize("count", [2, 3, 5])
def test_registry_selects_what_sumy_selects(method: str, count: int) -> None:
    ours = summarize(ARTICLE, count, method, bonus_words=BONUS)
    assert ours.method == method
    assert ours.sentences == sumy_directly(method, ARTICLE, count)
    assert len(ours.sentences) == count


def test_methods_really_differ() -> None:
    """Guards against a registry that maps every name to one summarizer."""
    picks = {tuple(summarize(ARTICLE, 3, m, bonus_words=BONUS).sentences) for m in METHODS}
    assert len(picks) >= 5


@pytest.mark.parametrize("method", METHODS)
def test_sentences_in_article_order_and_unique(method: str) -> None:
    result = summarize(ARTICLE, 5, method, bonus_words=BONUS)
    positions = [CLEAN_SENTENCES.index(s) for s in result.sentences]
    assert positions == sorted(set(positions))


def test_lead_is_first_sentences_after_junk_removal() -> None:
    result = summarize(ARTICLE, 3, "lead")
    assert result.method == "lead"
    assert result.sentences == CLEAN_SENTENCES[:3]
    assert not any("Reuters" in s or "PUBLISHED" in s for s in result.sentences)


def test_lead_skips_furniture_fragments_and_repeats() -> None:
    text = (
        "The Senate passed the farm bill on Tuesday.\n"
        "Advertisement\n"
        "Click here to read our live coverage.\n"
        "The vote was 68 to 31.\n"
        "The Senate passed the farm bill on Tuesday.\n"
        "Ok.\n"
        "The House is expected to vote next week.\n"
        "The president said he would sign it."
    )
    assert summarize(text, 3, "lead").sentences == [
        "The Senate passed the farm bill on Tuesday.",
        "The vote was 68 to 31.",
        "The House is expected to vote next week.",
    ]


def test_no_duplicate_sentences_from_sumy_methods() -> None:
    repeated = (
        ARTICLE + "\n\nChina's commerce ministry called the export controls a violation "
        "of free trade and vowed to protect the interests of Chinese companies."
    )
    for method in ("lexrank", "textrank", "luhn"):
        sentences = summarize(repeated, 5, method).sentences
        assert len(sentences) == len(set(sentences)) == 5


def test_default_resolves_and_names_the_concrete_method() -> None:
    result = summarize(ARTICLE, 3)
    assert DEFAULT_METHOD in METHODS and DEFAULT_METHOD != "default"
    assert result.method == DEFAULT_METHOD
    assert result.sentences == summarize(ARTICLE, 3, DEFAULT_METHOD).sentences


def test_method_name_is_case_insensitive() -> None:
    assert summarize(ARTICLE, 3, " LexRank ").method == "lexrank"


def test_unknown_method_lists_valid_names() -> None:
    with pytest.raises(InputError) as caught:
        summarize(ARTICLE, 3, "kl")
    assert caught.value.code == "bad_method"
    for name in METHODS:
        assert name in caught.value.message


@pytest.mark.parametrize(
    ("words", "expected"),
    [(0, 3), (120, 3), (600, 3), (601, 4), (1500, 4), (1501, 5), (20_000, 5)],
)
def test_default_length_rule(words: int, expected: int) -> None:
    assert default_length(words) == expected


def _long_text(sentences: int) -> str:
    return " ".join(
        f"Officials in district {i} said the new tariff on imported steel would cost local "
        f"factories about {i + 3} million dollars a year."
        for i in range(sentences)
    )


@pytest.mark.parametrize(("sentences", "expected"), [(10, 3), (40, 4), (80, 5)])
def test_default_length_applied_when_sentences_not_given(sentences: int, expected: int) -> None:
    text = _long_text(sentences)
    result = summarize(text, None, "lead")
    assert result.words == 21 * sentences
    assert len(result.sentences) == expected


@pytest.mark.parametrize(("asked", "got"), [(0, 1), (-4, 1), (1, 1), (10, 10), (50, 10)])
def test_sentence_count_is_clamped(asked: int, got: int) -> None:
    assert len(summarize(_long_text(15), asked, "lexrank").sentences) == got


@pytest.mark.parametrize("method", ["lead", "lexrank", "edmundson"])
def test_too_short_comes_back_as_is(method: str) -> None:
    text = "By John Smith\nThe Senate passed the bill. The House votes next week."
    result = summarize(text, 3, method)
    assert result.sentences == ["The Senate passed the bill.", "The House votes next week."]
    assert result.notes == [TOO_SHORT_NOTE]
    assert result.words == 10


def test_whole_text_when_fewer_sentences_than_asked() -> None:
    text = "The Senate voted. The House agreed on Friday. The bill became law in June."
    assert summarize(text, 5, "lexrank").sentences == split_sentences(text)


def test_empty_text_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        summarize("   \n")
    assert caught.value.code == "empty"


def test_edmundson_bonus_words_steer_the_choice() -> None:
    weather = summarize(ARTICLE, 1, "edmundson", bonus_words=["weather", "sunny afternoon"])
    chips = summarize(ARTICLE, 1, "edmundson", bonus_words=["gallium", "germanium"])
    assert weather.sentences == [CLEAN_SENTENCES[-1]]
    assert chips.sentences == [CLEAN_SENTENCES[6]]


def test_edmundson_title_counts() -> None:
    plain = summarize(ARTICLE, 1, "edmundson", bonus_words=["zzz"])
    titled = summarize(
        ARTICLE, 1, "edmundson", bonus_words=["zzz"], title="Historian sees chip war intensify"
    )
    assert plain.sentences != titled.sentences
    assert titled.sentences == [CLEAN_SENTENCES[-2]]


def test_a_sentence_repeating_the_title_is_dropped() -> None:
    text = "Chip curbs tighten\n\n" + ARTICLE
    with_title = summarize(text, 3, "lead", title="Chip curbs tighten")
    without = summarize(text, 3, "lead")
    assert without.sentences[0] == "Chip curbs tighten"
    assert with_title.sentences == CLEAN_SENTENCES[:3]


def test_nlp_objects_are_built_once() -> None:
    assert summarize_module.tokenizer() is summarize_module.tokenizer()
    assert summarize_module.stemmer() is summarize_module.stemmer()
    assert summarize_module._summarizer("lexrank") is summarize_module._summarizer("lexrank")


def test_digests_text_and_summarize_stay_pure() -> None:
    banned = {"slack_bolt", "slack_sdk", "redis", "apscheduler", "requests", "urllib3", "httpx"}
    root = Path(summarize_module.__file__).parent
    for name in ("text.py", "summarize.py"):
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            assert not {m.split(".")[0] for m in modules} & banned, (name, modules)
