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
from functools import cache

from nltk.tokenize import NLTKWordTokenizer
from sumy.models.dom import Sentence
from sumy.nlp.tokenizers import Tokenizer

__all__ = ["batch_tokenize", "prime_words"]

# NLTK 3.10 patterns that behave the same per line as per string, as they are.
_AS_IS = frozenset(
    {
        "([«“‘„]|[`]+)",
        "(``)",
        "(?i)(?<!\\w)(\\')(?!(?:re|ve|ll|m|t|s|d|n)\\b)(?=\\w)",
        "\\.{2,}",
        "[;@#$%&]",
        "[\\u2012-\\u2015]",
        "[?!]",
        "[*]",
        "([»”’])",
        "''",
        '"',
        "[\\]\\[\\(\\)\\{\\}\\<\\>]",
        "--",
        "(?i)\\b(can)(?#X)(not)\\b",
        "(?i)\\b(d)(?#X)('ye)\\b",
        "(?i)\\b(gim)(?#X)(me)\\b",
        "(?i)\\b(gon)(?#X)(na)\\b",
        "(?i)\\b(got)(?#X)(ta)\\b",
        "(?i)\\b(lem)(?#X)(me)\\b",
        "(?i)\\b(more)(?#X)('n)\\b",
        "(?i)\\b(wan)(?#X)(na)(?=\\s)",
        "(?i) ('t)(?#X)(is)\\b",
        "(?i) ('t)(?#X)(was)\\b",
    }
)
# ... and those rewritten to stay inside one line, or to be faster with the same result:
# source -> (new source, needs MULTILINE, new replacement or None for NLTK's). Lookbehinds
# replace a consumed one-character context: the previous match never ends on such a character
# (it ends on a quote or a space), so the matches found are the same. The whitespace pass
# matches only runs that change (two or more, or one that is not a space).
_REWRITTEN: dict[str, tuple[str, bool, str | None]] = {
    '^\\"': ('^\\"', True, None),
    "([ \\(\\[{<])(\\\"|\\'{2})": ("(?<=[ \\(\\[{<])(\\\"|\\'{2})", False, " `` "),
    "([^\\.])(\\.)([\\]\\)}>\"\\'»”’ ]*+)\\s*$": (
        "([^\\.\\n])(\\.)([\\]\\)}>\"\\'»”’ ]*+)[^\\S\\n]*$",
        True,
        None,
    ),
    "([:,])([^\\d])": ("([:,])([^\\d\\n])", False, None),
    "([:,])$": ("([:,])$", True, None),
    "([^\\.])(\\.)([\\]\\)}>\"\\']*)\\s*$": (
        "([^\\.\\n])(\\.)([\\]\\)}>\"\\']*)[^\\S\\n]*$",
        True,
        None,
    ),
    "([^'])' ": ("([^'\\n])' ", False, None),
    "\\s+": ("[^\\S\\n]{2,}|[^\\S\\n ]", False, None),
    "([^' ])('[sS]|'[mM]|'[dD]|') ": ("([^' \\n])('[sS]|'[mM]|'[dD]|') ", False, None),
    "([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ": (
        "(?<=[^' \\n])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ",
        False,
        " \\1 ",
    ),
}

# Case-insensitive contraction patterns (stdlib ``re``) scan slowly; each can only match where
# its letters appear, ignoring case, so it runs only then. Under ``re.IGNORECASE`` the only
# non-ASCII characters equal to an ASCII letter are these four (checked by a test).
_REQUIRED = {
    "(?i)\\b(can)(?#X)(not)\\b": "cannot",
    "(?i)\\b(d)(?#X)('ye)\\b": "d'ye",
    "(?i)\\b(gim)(?#X)(me)\\b": "gimme",
    "(?i)\\b(gon)(?#X)(na)\\b": "gonna",
    "(?i)\\b(got)(?#X)(ta)\\b": "gotta",
    "(?i)\\b(lem)(?#X)(me)\\b": "lemme",
    "(?i)\\b(more)(?#X)('n)\\b": "more'n",
    "(?i)\\b(wan)(?#X)(na)(?=\\s)": "wanna",
    "(?i) ('t)(?#X)(is)\\b": "'tis",
    "(?i) ('t)(?#X)(was)\\b": "'twas",
}
ASCII_FOLDS = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}


def _folded(text: str) -> str:
    """Lower case in which every character ``re.IGNORECASE`` equates to an ASCII letter is it."""
    for char, letter in ASCII_FOLDS.items():  # str.translate is ~10x slower on long text
        text = text.replace(char, letter)
    return text.lower()


_Pass = tuple[Callable[[str, str], str], str, str | None]


def _line_local(pattern: object, replacement: str) -> _Pass | None:
    """NLTK's pass for joined lines, compiled by the engine that compiled ``pattern``."""
    source = pattern.pattern  # type: ignore[attr-defined]
    flags = pattern.flags  # type: ignore[attr-defined]
    if source in _AS_IS:
        return pattern.sub, replacement, _REQUIRED.get(source)  # type: ignore[attr-defined]
    if source not in _REWRITTEN:
        return None
    new_source, multiline, new_replacement = _REWRITTEN[source]
    flags |= re.MULTILINE if multiline else 0
    if isinstance(pattern, re.Pattern):
        compiled = re.compile(new_source, flags)
    else:
        from nltk import redos  # the engine of NLTK's own patterns (the `regex` package)

        compiled = redos.compile(new_source, flags)
    return compiled.sub, replacement if new_replacement is None else new_replacement, None


@cache
def _passes() -> tuple[tuple[_Pass, ...], tuple[_Pass, ...]] | None:
    """NLTK's passes before and after it pads the text with spaces, or None if unknown."""
    t = NLTKWordTokenizer
    before = [*t.STARTING_QUOTES, *t.PUNCTUATION, t.PARENS_BRACKETS, t.DOUBLE_DASHES]
    after = [
        *t.ENDING_QUOTES,
        *((p, r" \1 \2 ") for p in t.CONTRACTIONS2),
        *((p, r" \1 \2 ") for p in t.CONTRACTIONS3),
    ]
    compiled: list[list[_Pass]] = [[], []]
    for out, passes in zip(compiled, (before, after), strict=True):
        for pattern, replacement in passes:
            line_pass = _line_local(pattern, replacement)
            if line_pass is None:
                return None
            out.append(line_pass)
    return tuple(compiled[0]), tuple(compiled[1])


def _tokenize_lines(texts: Sequence[str]) -> list[list[str]] | None:
    passes = _passes()
    if passes is None:
        return None
    before, after = passes
    text = "\n".join(texts)
    for sub, replacement, _ in before:
        text = sub(replacement, text)
    text = " " + text.replace("\n", " \n ") + " "
    folded = ""
    for sub, replacement, required in after:
        if required is None:
            text, folded = sub(replacement, text), ""
            continue
        folded = folded or _folded(text)
        if required in folded:
            text, folded = sub(replacement, text), ""
    lines = text.split("\n")
    return [line.split() for line in lines] if len(lines) == len(texts) else None


def batch_tokenize(texts: Sequence[str]) -> list[list[str]]:
    """``NLTKWordTokenizer().tokenize(t)`` for each of ``texts``, in one pass over them all."""
    single = NLTKWordTokenizer()
    joinable = [i for i, t in enumerate(texts) if "\n" not in t]
    tokens: list[list[str] | None] = [None] * len(texts)
    batched = _tokenize_lines([texts[i] for i in joinable]) if joinable else []
    if batched is not None:
        for i, words in zip(joinable, batched, strict=True):
            tokens[i] = words
    return [
        single.tokenize(t) if words is None else words
        for t, words in zip(texts, tokens, strict=True)
    ]


_WORDS_SLOT = "_cached_property_words"  # where Sumy 0.13's Sentence caches ``words``
_IS_WORD = Tokenizer._WORD_PATTERN.match


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
    todo = [
        s
        for s in sentences
        if not hasattr(s, _WORDS_SLOT) and _batchable(s._tokenizer)  # noqa: SLF001
    ]
    if not todo:
        return
    for sentence, tokens in zip(todo, batch_tokenize([str(s) for s in todo]), strict=True):
        setattr(sentence, _WORDS_SLOT, tuple(w for w in tokens if _IS_WORD(w)))
