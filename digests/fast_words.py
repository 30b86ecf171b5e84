"""NLTK's word tokenizer run over many sentences at once, giving the same tokens.

``NLTKWordTokenizer`` makes ~30 regular-expression passes per sentence; called once per sentence
that overhead is most of what summarizing costs once the ranking is vectorized. Here the same
passes run once over all sentences joined by newlines. Each pass is NLTK's own pattern (same
engine, same flags), made line-local where it could otherwise see across a newline: anchors
match per line (MULTILINE) and character classes that could match the separator exclude it.
Patterns this module does not know (a newer NLTK) switch batching off instead of guessing, and a
sentence holding a newline is tokenized on its own. Identity with NLTK is tested on fuzzed text
and on the development data (``tests/test_fast_sumy.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from nltk.tokenize import NLTKWordTokenizer
from sumy.models.dom import Sentence
from sumy.nlp.tokenizers import Tokenizer

__all__ = ["batch_tokenize", "batch_words", "prime_words"]


@dataclass(frozen=True)
class _Known:
    """How one of NLTK's passes runs over joined lines.

    ``source``: a line-local pattern replacing NLTK's (None: NLTK's own is already line-local);
    ``multiline``: its anchors are per line; ``replacement``: replacing NLTK's (None: NLTK's);
    ``needs``: substrings at least one of which every match contains (absent: the pass is
    skipped); ``folded``: the same, for the case-insensitive patterns, in ``_folded`` text.
    """

    needs: tuple[str, ...] = ()
    source: str | None = None
    multiline: bool = False
    replacement: str | None = None
    folded: str | None = None


def _chars(chars: str) -> tuple[str, ...]:
    return tuple(chars)


# NLTK 3.10's patterns, by source. Rewritten ones stay inside a line (anchors per line, classes
# that could match the newline exclude it) or are faster with the same result: a lookbehind
# replaces a consumed one-character context, which no previous match can end on (they end on a
# quote or a space), so the same matches are found.
_KNOWN: dict[str, _Known] = {
    # STARTING_QUOTES
    "([«“‘„]|[`]+)": _Known(_chars("«“‘„`")),
    '^\\"': _Known(('"',), '^\\"', multiline=True),
    "(``)": _Known(("``",)),
    "([ \\(\\[{<])(\\\"|\\'{2})": _Known(
        ('"', "''"), "(?<=[ \\(\\[{<])(\\\"|\\'{2})", replacement=" `` "
    ),
    "(?i)(?<!\\w)(\\')(?!(?:re|ve|ll|m|t|s|d|n)\\b)(?=\\w)": _Known(("'",)),
    # PUNCTUATION
    "([^\\.])(\\.)([\\]\\)}>\"\\'»”’ ]*+)\\s*$": _Known(
        (".",), "([^\\.\\n])(\\.)([\\]\\)}>\"\\'»”’ ]*+)[^\\S\\n]*$", multiline=True
    ),
    "([:,])([^\\d])": _Known(_chars(":,"), "([:,])([^\\d\\n])"),
    "([:,])$": _Known(_chars(":,"), "([:,])$", multiline=True),
    "\\.{2,}": _Known(("..",)),
    "[;@#$%&]": _Known(_chars(";@#$%&")),
    "[\\u2012-\\u2015]": _Known(_chars("\u2012\u2013\u2014\u2015")),
    "([^\\.])(\\.)([\\]\\)}>\"\\']*)\\s*$": _Known(
        (".",), "([^\\.\\n])(\\.)([\\]\\)}>\"\\']*)[^\\S\\n]*$", multiline=True
    ),
    "[?!]": _Known(_chars("?!")),
    "([^'])' ": _Known(("' ",), "([^'\\n])' "),
    "[*]": _Known(("*",)),
    # PARENS_BRACKETS, DOUBLE_DASHES
    "[\\]\\[\\(\\)\\{\\}\\<\\>]": _Known(_chars("[](){}<>")),
    "--": _Known(("--",)),
    # ENDING_QUOTES ("\\s+" is _squeeze_spaces)
    "([»”’])": _Known(_chars("»”’")),
    "''": _Known(("''",)),
    '"': _Known(('"',)),
    "([^' ])('[sS]|'[mM]|'[dD]|') ": _Known(("'",), "([^' \\n])('[sS]|'[mM]|'[dD]|') "),
    "([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ": _Known(
        ("'",), "(?<=[^' \\n])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", replacement=" \\1 "
    ),
    # CONTRACTIONS2, CONTRACTIONS3 (stdlib re, case-insensitive: slow scans, rare matches)
    "(?i)\\b(can)(?#X)(not)\\b": _Known(folded="cannot"),
    "(?i)\\b(d)(?#X)('ye)\\b": _Known(folded="d'ye"),
    "(?i)\\b(gim)(?#X)(me)\\b": _Known(folded="gimme"),
    "(?i)\\b(gon)(?#X)(na)\\b": _Known(folded="gonna"),
    "(?i)\\b(got)(?#X)(ta)\\b": _Known(folded="gotta"),
    "(?i)\\b(lem)(?#X)(me)\\b": _Known(folded="lemme"),
    "(?i)\\b(more)(?#X)('n)\\b": _Known(folded="more'n"),
    "(?i)\\b(wan)(?#X)(na)(?=\\s)": _Known(folded="wanna"),
    "(?i) ('t)(?#X)(is)\\b": _Known(folded="'tis"),
    "(?i) ('t)(?#X)(was)\\b": _Known(folded="'twas"),
}
_WHITESPACE_RUNS = "\\s+"
# Under ``re.IGNORECASE`` the only non-ASCII characters equal to an ASCII letter (checked by a
# test), so a pattern of ASCII letters can only match where ``_folded`` text holds them.
ASCII_FOLDS = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}


def _folded(text: str) -> str:
    for char, letter in ASCII_FOLDS.items():  # str.translate is ~10x slower on long text
        text = text.replace(char, letter)
    return text.lower()


@dataclass(frozen=True)
class _Pass:
    """One of NLTK's passes over joined lines, skipped when it cannot match."""

    sub: Callable[[str, str], str]
    replacement: str
    needs: tuple[str, ...] = ()
    folded: str | None = None

    def __call__(self, text: str, folded: Callable[[], str]) -> str:
        if self.folded is not None:
            return self.sub(self.replacement, text) if self.folded in folded() else text
        return self.sub(self.replacement, text) if any(n in text for n in self.needs) else text


@dataclass(frozen=True)
class _SqueezeSpaces:
    """NLTK's ``\\s+`` -> " " per line; with spaces as the only whitespace, by str.replace."""

    sub: Callable[[str, str], str]

    def __call__(self, text: str, folded: Callable[[], str]) -> str:
        if not text.replace("\n", "").isprintable():  # tabs, NBSP... (all non-printable)
            return self.sub(" ", text)
        while "  " in text:
            text = text.replace("  ", " ")
        return text


def _line_local(pattern: object, replacement: str) -> _Pass | _SqueezeSpaces | None:
    """NLTK's pass for joined lines, compiled by the engine that compiled ``pattern``."""
    source = pattern.pattern  # type: ignore[attr-defined]
    flags = pattern.flags  # type: ignore[attr-defined]
    if source == _WHITESPACE_RUNS:
        source, multiline, known = "[^\\S\\n]+", False, None
    elif source in _KNOWN:
        known = _KNOWN[source]
        source, multiline = known.source or source, known.multiline
        replacement = known.replacement or replacement
    else:
        return None
    flags |= re.MULTILINE if multiline else 0
    if isinstance(pattern, re.Pattern):
        sub = re.compile(source, flags).sub
    else:
        from nltk import redos  # the engine of NLTK's own patterns (the `regex` package)

        sub = redos.compile(source, flags).sub
    if known is None:
        return _SqueezeSpaces(sub)
    return _Pass(sub, replacement, known.needs, known.folded)


@cache
def _passes() -> tuple[_Pass | _SqueezeSpaces, ...] | None:
    """NLTK's passes, in its order (None: a pattern this module does not know)."""
    t = NLTKWordTokenizer
    passes = [
        *t.STARTING_QUOTES,
        *t.PUNCTUATION,
        t.PARENS_BRACKETS,
        t.DOUBLE_DASHES,
        (None, None),  # NLTK pads the text with spaces here
        *t.ENDING_QUOTES,
        *((p, r" \1 \2 ") for p in t.CONTRACTIONS2),
        *((p, r" \1 \2 ") for p in t.CONTRACTIONS3),
    ]
    compiled = []
    for pattern, replacement in passes:
        line_pass = _pad if pattern is None else _line_local(pattern, replacement)
        if line_pass is None:
            return None
        compiled.append(line_pass)
    return tuple(compiled)


def _pad(text: str, folded: Callable[[], str]) -> str:
    return " " + text.replace("\n", " \n ") + " "


def _tokenized(texts: Sequence[str]) -> str | None:
    """NLTK's tokenized string of each text (tokens apart by whitespace), one per line."""
    passes = _passes()
    if passes is None:
        return None
    text = "\n".join(texts)
    folded: list[str | None] = [None, None]  # (text, its folded form), made when first needed

    def fold() -> str:
        if folded[0] is not text:
            folded[:] = [text, _folded(text)]
        return folded[1]  # type: ignore[return-value]

    for line_pass in passes:
        text = line_pass(text, fold)
    return text


def _batch(
    texts: Sequence[str],
    per_line: Callable[[str], list[list[str]]],
    single: Callable[[str], list[str]],
) -> list[list[str]]:
    joinable = [i for i, t in enumerate(texts) if "\n" not in t]
    out: list[list[str] | None] = [None] * len(texts)
    text = _tokenized([texts[i] for i in joinable]) if joinable else None
    lines = per_line(text) if text is not None else []
    if len(lines) == len(joinable):
        for i, words in zip(joinable, lines, strict=True):
            out[i] = words
    return [single(t) if words is None else words for t, words in zip(texts, out, strict=True)]


def batch_tokenize(texts: Sequence[str]) -> list[list[str]]:
    """``NLTKWordTokenizer().tokenize(t)`` for each of ``texts``, in one pass over them all."""
    return _batch(
        texts,
        lambda text: [line.split() for line in text.split("\n")],
        NLTKWordTokenizer().tokenize,
    )


class _IsWord(dict):
    """Sumy's word filter (``Tokenizer._is_word``) per token, memoized (bounded)."""

    limit = 100_000

    def __missing__(self, token: str) -> bool:
        if len(self) >= self.limit:
            self.clear()
        self[token] = answer = bool(Tokenizer._WORD_PATTERN.match(token))
        return answer


_IS_WORD = _IsWord()


def _words_per_line(text: str) -> list[list[str]]:
    is_word = _IS_WORD
    return [[t for t in line.split() if is_word[t]] for line in text.split("\n")]


def batch_words(texts: Sequence[str]) -> list[list[str]]:
    """``NewsTokenizer.to_words(t)`` (NLTK's tokens that Sumy counts as words) for each text."""
    single = NLTKWordTokenizer()
    return _batch(texts, _words_per_line, lambda t: [w for w in single.tokenize(t) if _IS_WORD[w]])


_WORDS_SLOT = "_cached_property_words"  # where Sumy 0.13's Sentence caches ``words``


def _batchable(tokenizer: object) -> bool:
    """True for our NewsTokenizer, whose ``to_words`` is NLTK's tokenizer + Sumy's word filter."""
    from .text import NewsTokenizer

    return (
        isinstance(tokenizer, NewsTokenizer)
        and type(tokenizer).to_words is NewsTokenizer.to_words
        and type(tokenizer._word_tokenizer) is NLTKWordTokenizer
    )


def prime_words(sentences: Iterable[Sentence]) -> None:
    """Fill each sentence's cached ``words`` in one batch, exactly as its tokenizer would.

    Sentences already tokenized, or with another tokenizer, are left to Sumy.
    """
    if _WORDS_SLOT not in getattr(Sentence, "__slots__", ()):
        return
    todo = [s for s in sentences if not hasattr(s, _WORDS_SLOT)]
    tokenizers = {id(s._tokenizer): s._tokenizer for s in todo}  # noqa: SLF001
    batchable = {key for key, tokenizer in tokenizers.items() if _batchable(tokenizer)}
    todo = [s for s in todo if id(s._tokenizer) in batchable]  # noqa: SLF001
    for sentence, words in zip(todo, batch_words([str(s) for s in todo]), strict=True):
        setattr(sentence, _WORDS_SLOT, tuple(words))
