"""Vectorized Sumy summarizers (digests/fast_sumy.py) and the batch word tokenizer
(digests/fast_words.py) choose exactly what Sumy's own classes and NLTK's tokenizer do.

The dev-data check here runs on a sample (every 16th article, 3 and 5 sentences, every method)
to keep the suite fast; ``bench/summarize_speed.py`` checks all 536 articles on every run.
"""

from __future__ import annotations

import json
import random
import re
import string
import sys
import warnings
from functools import lru_cache
from pathlib import Path

import pytest
from nltk.tokenize import NLTKWordTokenizer
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
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

from digests import fast_sumy, fast_words
from digests import summarize as summarize_module
from digests.summarize import STIGMA_WORDS, summarize
from digests.text import NewsTokenizer, clean_text

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
EVAL_FILES = ("summaries_human.jsonl", "summaries_bbc.jsonl")
STEMMER = lru_cache(maxsize=None)(Stemmer("english"))  # same stems, computed once
STOP = get_stop_words("english")
TOKENIZER = NewsTokenizer("english")

PAIRS = {
    "lexrank": (LexRankSummarizer, fast_sumy.FastLexRank),
    "textrank": (TextRankSummarizer, fast_sumy.FastTextRank),
    "lsa": (LsaSummarizer, fast_sumy.FastLsa),
    "reduction": (ReductionSummarizer, fast_sumy.FastReduction),
    "luhn": (LuhnSummarizer, fast_sumy.FastLuhn),
    "sumbasic": (SumBasicSummarizer, fast_sumy.FastSumBasic),
    "edmundson": (EdmundsonSummarizer, fast_sumy.FastEdmundson),
}


def configured(cls: type) -> object:
    summarizer = cls(STEMMER)
    if isinstance(summarizer, EdmundsonSummarizer):
        summarizer.bonus_words = ["trade", "tariff", "export", "chips"]
        summarizer.stigma_words = STIGMA_WORDS
        summarizer.null_words = STOP
    else:
        summarizer.stop_words = STOP
    return summarizer


INSTANCES = {m: (configured(a), configured(b)) for m, (a, b) in PAIRS.items()}


def picks(summarizer: object, document: ObjectDocumentModel, count: object) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LSA warns on documents with few distinct words
        return [str(s) for s in summarizer(document, count)]  # type: ignore[operator]


def assert_same_picks(make_document, counts=(1, 3, 5)) -> None:
    """Each method, on its own fresh document (tokenized in batch), picks what Sumy picks."""
    reference = make_document()  # Sumy tokenizes it sentence by sentence, once
    for method, (sumy, fast) in INSTANCES.items():
        document = make_document()
        for count in counts:
            expected = picks(sumy, reference, count)
            assert picks(fast, document, count) == expected, (method, count)


def document_of(paragraphs: list[list[str]], headings: tuple[str, ...] = ()) -> ObjectDocumentModel:
    built = [Paragraph([Sentence(t, TOKENIZER) for t in p]) for p in paragraphs]
    if headings:
        first = [Sentence(h, TOKENIZER, is_heading=True) for h in headings]
        built[0] = Paragraph([*first, *built[0].sentences])
    return ObjectDocumentModel(built)


# --------------------------------------------------------------------------------------------
# Synthetic documents: ties, repeats, empty and one-word sentences
# --------------------------------------------------------------------------------------------

VOCABULARY = ["trade", "tariffs", "China", "export", "chips", "rule", "vote", "the", "and", "of"]


def random_paragraphs(rng: random.Random) -> list[list[str]]:
    sentences: list[str] = []
    for _ in range(rng.randint(1, 28)):
        if sentences and rng.random() < 0.15:
            sentences.append(rng.choice(sentences))  # a repeated sentence
            continue
        words = [rng.choice(VOCABULARY) for _ in range(rng.choice([0, 1, 1, 2, 3, 5, 8]))]
        sentences.append((" ".join(words) or "42") + ".")
    cut = rng.randint(0, len(sentences))
    return [p for p in (sentences[:cut], sentences[cut:]) if p]


@pytest.mark.parametrize("seed", range(60))
def test_random_tie_heavy_documents(seed: int) -> None:
    """A ten-word vocabulary makes equal ratings, equal cosines and repeats common."""
    paragraphs = random_paragraphs(random.Random(seed))
    headings = ("TRADE AND CHIPS",) if seed % 3 == 0 else ()
    assert_same_picks(lambda: document_of(paragraphs, headings), counts=(1, 3, 5, "40%"))


def test_degenerate_documents() -> None:
    cases = [
        [["Trade."]],
        [["The and of."], ["Of the."]],
        [["Trade."], ["Trade."], ["Trade."]],
        [["Trade tariffs.", "Trade tariffs.", "Chips rule.", "Trade tariffs."]],
        [["Export export export.", "Export.", "Rule vote.", "Vote rule vote."]],
    ]
    for paragraphs in cases:
        assert_same_picks(lambda p=paragraphs: document_of(p))


def test_empty_document() -> None:
    for _, fast in INSTANCES.values():
        if not isinstance(fast, fast_sumy.FastEdmundson):
            assert picks(fast, ObjectDocumentModel([]), 3) == []


def test_first_sentences_keeps_paragraphs_and_headings() -> None:
    document = document_of([["A one.", "A two."], ["B one.", "B two."]], headings=("HEAD",))
    cut = fast_sumy.first_sentences(document, 3)
    assert [str(s) for s in cut.sentences] == ["A one.", "A two.", "B one."]
    assert [str(s) for s in cut.headings] == ["HEAD"]
    assert len(cut.paragraphs) == 2


def test_stem_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_sumy, "STEM_CACHE_SIZE", 5)
    summarizer = configured(fast_sumy.FastTextRank)
    words = "Tariffs on chips rose while exports of steel and grain fell sharply."
    summarizer(document_of([[words, words.upper().lower()]]), 1)
    assert 0 < len(summarizer._stem_cache) <= 5


# --------------------------------------------------------------------------------------------
# The cap: superlinear methods rank at most RANK_LIMITS[method] sentences
# --------------------------------------------------------------------------------------------


def long_text(sentences: int) -> str:
    filler = [
        f"Officials in district {i} met on a quiet afternoon to discuss local roads."
        for i in range(sentences - 3)
    ]
    key = [
        "Export controls on chips and tariffs on chips drove the trade fight.",
        "The trade fight over chips, export controls and tariffs widened.",
        "Chips tariffs and export controls are the core of the trade fight.",
    ]
    return "\n\n".join([*filler, *key])


@pytest.mark.filterwarnings("ignore:Number of words")  # LSA on a 20-sentence, few-word text
@pytest.mark.parametrize("method", ["lexrank", "textrank", "lsa", "reduction", "sumbasic"])
def test_long_text_ranks_only_the_first_sentences_with_a_note(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    monkeypatch.setitem(summarize_module.RANK_LIMITS, method, 20)
    text = long_text(30)
    result = summarize(text, 3, method)
    assert result.notes == ["Long text: summarized from its first 20 of 30 sentences."]
    first = clean_text(text).split("\n\n")[:20]
    assert set(result.sentences) <= set(first)
    # The same picks as Sumy's own class on the first 20 sentences.
    sumy, _ = INSTANCES[method]
    document = PlaintextParser("\n\n".join(first), NewsTokenizer("english")).document
    assert result.sentences == picks(sumy, document, 3)


def test_short_text_and_linear_methods_are_not_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(summarize_module.RANK_LIMITS) == {
        "lexrank",
        "textrank",
        "reduction",
        "sumbasic",
        "lsa",
        "policy",  # the default summarizer ranks with LexRank and TextRank too
    }
    for method in summarize_module.RANK_LIMITS:
        monkeypatch.setitem(summarize_module.RANK_LIMITS, method, 20)
    assert summarize(long_text(20), 3, "lexrank").notes == []
    for method in ("lead", "luhn", "edmundson"):
        assert summarize(long_text(30), 3, method).notes == [], method
    assert set(summarize_module.RANK_LIMITS) == {
        "lexrank",
        "textrank",
        "reduction",
        "sumbasic",
        "lsa",
        "policy",  # the default summarizer ranks with LexRank and TextRank too
    }


# --------------------------------------------------------------------------------------------
# Batch word tokenizer
# --------------------------------------------------------------------------------------------

ATOMS = [
    "can", "not", "cannot", "CanNot", "gonna", "Wanna", "wanna", "'t", "is", "'tis", "'Twas",
    "n't", "don't", "It's", "'s", "'S", "'ll", "'re", "'ve", "'m", "'d", "'", "''", '"', "``",
    "`", "«", "»", "“", "”", "‘", "’", "„", ".", "..", "...", ",", ":", ";", "?", "!", "(", ")",
    "[", "]", "{", "}", "<", ">", "-", "--", "—", "–", "*", "$", "%", "&", "@", "#", "3.88",
    "1,000", "U.S.", "e.g.", "abc", "Word", "well-known", "İstanbul", "ſ", "K", "ı", "d'ye",
    "more'n", "gimme", "lemme", "gotta", "\t", "\xa0", "\u2028", "\x1c", "\r", "x", "Z",
]  # fmt: skip


def fuzzed_sentences(rng: random.Random, count: int, atoms: list[str] = ATOMS) -> list[str]:
    sentences = []
    for _ in range(count):
        picked = [rng.choice(atoms) for _ in range(rng.randint(0, 12))]
        sentences.append("".join(a + rng.choice(["", " ", " ", "  "]) for a in picked))
    return sentences


def test_batch_tokenizer_is_active() -> None:
    """Batching is on with the installed NLTK (else the identity tests below prove nothing)."""
    assert fast_words._passes() is not None


def test_batch_tokenize_matches_nltk_on_fuzzed_text() -> None:
    """Once with tabs, NBSPs... in the text, once with spaces only (a faster path)."""
    nltk = NLTKWordTokenizer()
    printable = [a for a in ATOMS if a.isprintable()]
    for atoms in (ATOMS, printable):
        sentences = fuzzed_sentences(random.Random(7), 1000, atoms)
        sentences += ["", " ", "line one\nline two", "'quoted' end.'", 'He said: "yes."', "a  b"]
        assert fast_words.batch_tokenize(sentences) == [nltk.tokenize(s) for s in sentences]


def test_batch_words_match_the_tokenizer_on_fuzzed_text() -> None:
    sentences = fuzzed_sentences(random.Random(8), 1500) + ["", "a\nb c", "Can't 'tis x-y."]
    assert fast_words.batch_words(sentences) == [list(TOKENIZER.to_words(s)) for s in sentences]


def all_characters() -> str:
    return "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)


def test_whitespace_assumptions_hold() -> None:
    """Spaces are squeezed by str.replace when the text is printable (so holds no whitespace
    for NLTK's `regex` engine but " "), and words are cut by `re`'s \\s, which is str.isspace."""
    import regex

    every = all_characters()
    engine_space = set(regex.findall(r"\s", every, flags=regex.V0))
    assert all(c == " " or not c.isprintable() for c in engine_space)
    assert set(re.findall(r"\s", every)) == {c for c in every if c.isspace()}


def test_prime_words_fills_what_the_tokenizer_gives() -> None:
    text = (
        "It's the U.S. rule -- \"cannot\" wait. Gonna vote? Sen. Smith's bill (H.R. 2670) passed."
    )
    fresh = PlaintextParser(text, TOKENIZER).document.sentences
    primed = PlaintextParser(text, TOKENIZER).document.sentences
    fast_words.prime_words(primed)
    assert all(hasattr(s, "_cached_property_words") for s in primed)
    assert [s.words for s in primed] == [TOKENIZER.to_words(str(s)) for s in fresh]


def test_ascii_folds_are_all_that_ignorecase_equates_to_ascii_letters() -> None:
    found = set(re.findall("(?i)[a-z]", all_characters())) - set(string.ascii_letters)
    assert found == set(fast_words.ASCII_FOLDS)


# --------------------------------------------------------------------------------------------
# Development data (a sample; the bench checks every article)
# --------------------------------------------------------------------------------------------


def dev_texts(step: int) -> list[str]:
    rows = []
    for name in EVAL_FILES:
        path = EVAL / name
        if path.is_file():
            rows += [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    return [clean_text(r["text"]) for r in rows[::step]]


@pytest.mark.skipif(not EVAL.is_dir(), reason="no ../shared/eval")
def test_same_picks_as_sumy_on_dev_sample() -> None:
    texts = dev_texts(16)
    assert texts
    for text in texts:
        assert_same_picks(lambda t=text: PlaintextParser(t, TOKENIZER).document, counts=(3, 5))


@pytest.mark.skipif(not EVAL.is_dir(), reason="no ../shared/eval")
def test_batch_tokenize_matches_nltk_on_dev_sample() -> None:
    sentences = [
        str(s) for t in dev_texts(8) for s in PlaintextParser(t, TOKENIZER).document.sentences
    ]
    nltk = NLTKWordTokenizer()
    assert fast_words.batch_tokenize(sentences) == [nltk.tokenize(s) for s in sentences]
    assert fast_words.batch_words(sentences) == [list(TOKENIZER.to_words(s)) for s in sentences]
