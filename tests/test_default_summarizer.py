"""The default summarizer (digests/default_summarizer.py): Sumy-based, reads well, uses the tags."""

from __future__ import annotations

import numpy as np
import pytest
from sumy.parsers.plaintext import PlaintextParser
from sumy.summarizers._summarizer import AbstractSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer

from digests import summarize as summarize_module
from digests.default_summarizer import (
    FEATURES,
    Layout,
    PolicySummarizer,
    Weights,
    _lexrank,
    is_dangling_opener,
    quote_groups,
    select,
    shipped_weights,
    tag_hits,
)
from digests.models import TopicTag
from digests.summarize import DEFAULT_METHOD, build_document, policy_summarizer, summarize
from digests.text import clean_text, split_sentences

# Written for these tests.
ARTICLE = """WASHINGTON (Reuters) - Treasury Secretary Janet Yellen said on Monday the United States \
would keep tariffs on Chinese steel and aluminum while talks with Beijing continue.

Yellen spoke at a news conference after two days of meetings with Chinese Vice Premier He \
Lifeng in Washington. The talks covered trade, currency policy and investment.

“We are not going to lift these tariffs overnight. They exist for a reason, and that reason \
has not gone away,” Yellen said.

Officials said the two sides also discussed the flow of fentanyl precursor chemicals from \
Chinese suppliers to Mexican cartels.

The Commerce Department added six Chinese companies to the Entity List last week, a step \
that restricts their access to American technology.

Analysts said the meeting was cordial but produced few concrete results.

The next round of talks is planned for the autumn in Beijing.
"""
SENTENCES = split_sentences(clean_text(ARTICLE))
FENTANYL = TopicTag("fentanyl", "Fentanyl", 0.8, ["fentanyl precursor chemicals"])
TARIFFS = TopicTag("tariffs", "Tariffs", 0.9, ["tariffs"])


def _document(text: str, title: str = ""):
    return build_document(clean_text(text), title, title_as_heading=True)


def test_is_a_sumy_summarizer_registered_as_the_default() -> None:
    assert issubclass(PolicySummarizer, AbstractSummarizer)
    assert DEFAULT_METHOD == "policy"
    assert "policy" in summarize_module.METHODS and "lead" in summarize_module.METHODS
    result = summarize(ARTICLE, 3)
    assert result.method == "policy"
    assert result.sentences == summarize(ARTICLE, 3, "policy").sentences
    assert summarize(ARTICLE, 3, "lead").sentences == SENTENCES[:3]


def test_works_on_sumys_document_model() -> None:
    document = PlaintextParser.from_string(clean_text(ARTICLE), summarize_module.tokenizer())
    picked = policy_summarizer()(document.document, 2)
    assert len(picked) == 2
    assert all(s in document.document.sentences for s in picked)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_sentences_in_article_order(count: int) -> None:
    result = summarize(ARTICLE, count, "policy", tags=[FENTANYL, TARIFFS])
    positions = [SENTENCES.index(s) for s in result.sentences]
    assert positions == sorted(set(positions))
    assert len(positions) == count


def test_lexrank_signal_is_sumys_lexrank() -> None:
    document = _document(ARTICLE)
    lexrank = LexRankSummarizer(summarize_module.stemmer())
    lexrank.stop_words = summarize_module.stop_words()
    words = [lexrank._to_words_set(s) for s in document.sentences]
    tf, idf = lexrank._compute_tf(words), lexrank._compute_idf(words)
    matrix = lexrank._create_matrix(words, lexrank.threshold, tf, idf)
    expected = lexrank.power_method(matrix, lexrank.epsilon)
    ours, _ = _lexrank(lexrank, document)
    assert np.allclose(ours, expected)


def test_features_are_scaled_per_article() -> None:
    signals = policy_summarizer(tags=[FENTANYL]).signals(_document(ARTICLE))
    assert signals.features.shape == (len(SENTENCES), len(FEATURES))
    assert signals.features.min() >= 0 and signals.features.max() <= 1
    fentanyl_row = next(i for i, s in enumerate(SENTENCES) if "fentanyl" in s)
    assert signals.topics[fentanyl_row] == {"fentanyl"}
    assert signals.features[fentanyl_row, FEATURES.index("topics")] == 1.0


# ------------------------------------------------------------------------ quotations


def test_a_quotation_over_two_sentences_is_one_group() -> None:
    groups = quote_groups(_document(ARTICLE))
    quote = [i for i, s in enumerate(SENTENCES) if "overnight" in s or "reason" in s]
    assert quote in groups
    assert sum(len(g) for g in groups) == len(SENTENCES)


def test_unclosed_quote_does_not_swallow_the_paragraph() -> None:
    text = (
        "He said “the plan would fail. Nobody believed it. The vote came late. "
        "The bill passed anyway. Markets rose on the news. Traders cheered loudly."
    )
    groups = quote_groups(_document(text))
    assert all(len(g) == 1 for g in groups)


@pytest.mark.parametrize("count", [1, 2, 3])
def test_quotation_kept_whole_or_skipped(count: int) -> None:
    """Even when the quote's second half is the best sentence, it never comes alone."""
    document = _document(ARTICLE)
    n = len(document.sentences)
    second_half = next(i for i, s in enumerate(SENTENCES) if "has not gone away" in s)
    scores = np.linspace(1.0, 0.5, n)
    scores[second_half] = 10.0
    picked = select(
        scores,
        np.zeros((n, n)),
        Layout.of(quote_groups(document), [False] * n, [frozenset()] * n),
        count,
        redundancy=0.0,
        topic_bonus=0.0,
    )
    assert len(picked) == count
    assert (second_half in picked) == (second_half - 1 in picked)
    assert (second_half in picked) == (count >= 2)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_summaries_never_cut_the_quotation(count: int) -> None:
    result = summarize(ARTICLE, count, "policy", tags=[TARIFFS])
    halves = [any("overnight" in s for s in result.sentences)]
    halves.append(any("has not gone away" in s for s in result.sentences))
    assert halves[0] == halves[1]


# ------------------------------------------------------------------------ openers


@pytest.mark.parametrize(
    ("sentence", "dangling"),
    [
        ("He told reporters the deal was done.", True),
        ("They will meet again in May.", True),
        ("This was the third round of talks.", True),
        ("Its shares fell 3%.", True),
        ("“We will not back down,” he said.", True),
        ("“We will not back down.”", True),
        ('"We will not back down," said Janet Yellen.', False),
        ("“We will not back down,” Yellen told reporters.", False),
        ("“We will not back down,” the Treasury secretary said.", False),
        ("“We will not back down,” one official said.", True),
        ("Hewlett-Packard said sales rose.", False),
        ("The talks covered trade.", False),
        ("Thistle Co. said profits rose.", False),
    ],
)
def test_dangling_openers(sentence: str, dangling: bool) -> None:
    assert is_dangling_opener(sentence) is dangling


def test_does_not_open_on_a_pronoun_when_a_better_sentence_exists() -> None:
    text = (
        "She said the tariffs on Chinese steel would stay in place for now.\n\n"
        "Treasury Secretary Janet Yellen met Chinese officials in Washington on Monday.\n\n"
        "The talks covered trade, currency policy and investment rules.\n\n"
        "Both sides agreed to meet again in the autumn."
    )
    for count in (1, 2, 3):
        result = summarize(text, count, "policy")
        assert not is_dangling_opener(result.sentences[0]), result.sentences


def test_does_not_open_on_an_unattributed_quote() -> None:
    text = (
        "“This is a turning point for the industry,” he said.\n\n"
        "Commerce Secretary Gina Raimondo announced new limits on chip exports to China.\n\n"
        "The rules take effect in January and cover advanced graphics processors.\n\n"
        "Chipmakers said they were studying the rules."
    )
    for count in (1, 2, 3):
        first = summarize(text, count, "policy").sentences[0]
        assert not first.startswith("“"), first


def test_a_dangling_sentence_may_follow_its_context() -> None:
    n = 3
    picked = select(
        np.array([0.5, 1.0, 0.1]),
        np.zeros((n, n)),
        Layout.of([[0], [1], [2]], [False, True, False], [frozenset()] * n),
        2,
        redundancy=0.0,
        topic_bonus=0.0,
    )
    assert picked == [0, 1]


def test_only_dangling_sentences_still_give_a_summary() -> None:
    picked = select(
        np.array([0.5, 1.0, 0.1]),
        np.zeros((3, 3)),
        Layout.of([[0], [1], [2]], [True, True, True], [frozenset()] * 3),
        2,
        redundancy=0.0,
        topic_bonus=0.0,
    )
    assert len(picked) == 2


# ------------------------------------------------------------------------ redundancy, topics


def test_redundancy_penalty_skips_a_near_copy() -> None:
    scores = np.array([1.0, 0.95, 0.5])
    similarity = np.array([[1.0, 0.9, 0.1], [0.9, 1.0, 0.1], [0.1, 0.1, 1.0]])
    args = (Layout.of([[0], [1], [2]], [False] * 3, [frozenset()] * 3), 2)
    assert select(scores, similarity, *args, redundancy=0.0, topic_bonus=0.0) == [0, 1]
    assert select(scores, similarity, *args, redundancy=1.0, topic_bonus=0.0) == [0, 2]


def test_topic_bonus_brings_in_an_uncovered_tag() -> None:
    scores = np.array([1.0, 0.9, 0.8, 0.7])
    topics = [frozenset({"tariffs"}), frozenset({"tariffs"}), frozenset(), frozenset({"fentanyl"})]
    args = (np.zeros((4, 4)), Layout.of([[0], [1], [2], [3]], [False] * 4, topics), 2)
    assert select(scores, *args, redundancy=0.0, topic_bonus=0.0) == [0, 1]
    assert select(scores, *args, redundancy=0.0, topic_bonus=0.5) == [0, 3]


def test_tag_evidence_matched_case_and_space_insensitively() -> None:
    hits = tag_hits(
        ["Fentanyl  precursor\nchemicals flow", "No match here", "tariffs rose"],
        [FENTANYL, TARIFFS],
    )
    assert hits == [frozenset({"fentanyl"}), frozenset(), frozenset({"tariffs"})]


SANCTIONS = TopicTag("sanctions", "Sanctions", 0.8, ["sanctions"])
TAGGED = (
    "The European Union agreed on Tuesday to a new package of measures against Russia.\n\n"
    "Ministers met in Brussels for six hours before the agreement was announced.\n\n"
    "The meeting was chaired by the foreign minister of Poland.\n\n"
    "The package adds sanctions on twelve banks and three shipping companies.\n\n"
    "Officials said the measures would take effect next month.\n\n"
    "The next meeting is planned for the spring."
)


def _first_count_with(word: str, tags: list[TopicTag]) -> int:
    return next(
        n
        for n in range(1, 7)
        if any(word in s for s in summarize(TAGGED, n, "policy", tags=tags).sentences)
    )


def test_shipped_weights_use_the_tags() -> None:
    """Given the article's tags, the shipped weights reach the tag's evidence sooner."""
    weights = shipped_weights()
    assert set(weights.weights) == set(FEATURES)
    assert weights.topic_bonus > 0 or weights.weights["topics"] > 0
    assert _first_count_with("sanctions", [SANCTIONS]) < _first_count_with("sanctions", [])


def test_weights_are_injectable() -> None:
    lead_only = Weights({n: float(n == "lead") for n in FEATURES}, 0.0, 0.0)
    picked = policy_summarizer(weights=lead_only)(_document(ARTICLE), 2)
    assert [str(s) for s in picked] == SENTENCES[:2]
