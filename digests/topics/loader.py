"""Read a taxonomy from its TOML structure, with errors that name the file and the entry."""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from digests.topics.model import Cue, Params, Topic

TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_TOPIC_KEYS = {
    "label",
    "description",
    "min_score",
    "phrases",
    "patterns",
    "negative",
    "negative_patterns",
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parse_params(data: Any, source: str) -> Params:
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: [params] must be a table")
    known = {f.name: f for f in fields(Params)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ValueError(
                f"{source}: unknown parameter '{key}' in [params] "
                f"(known: {', '.join(sorted(known))})"
            )
        is_int = known[key].type in ("int", int)
        if not _is_number(value) or (is_int and not isinstance(value, int)):
            kind = "an integer" if is_int else "a number"
            raise ValueError(f"{source}: parameter '{key}' must be {kind}, got {value!r}")
        positive = key.endswith("_weight") and key != "negative_weight"
        if value < 0 or (positive and value <= 0):
            raise ValueError(f"{source}: parameter '{key}' must be positive, got {value!r}")
        values[key] = value
    params = Params(**values)
    if not 0 < params.min_score < 1:
        raise ValueError(f"{source}: parameter 'min_score' must be between 0 and 1")
    if params.score_scale <= 0:
        raise ValueError(f"{source}: parameter 'score_scale' must be positive")
    if not 0 <= params.repeat_decay <= 1:
        raise ValueError(f"{source}: parameter 'repeat_decay' must be between 0 and 1")
    return params


def clean_phrase(phrase: Any, where: str) -> str:
    if not isinstance(phrase, str):
        raise ValueError(f"{where}: phrases must be strings, got {phrase!r}")
    text = " ".join(phrase.strip().strip("\"'\u201c\u201d").split())
    if not text.rstrip("*").strip():
        raise ValueError(f"{where}: empty phrase")
    if "*" in text.rstrip("*") or text.endswith("**"):
        raise ValueError(f"{where}: '*' is only allowed once, at the end of a phrase: {text!r}")
    return text


def _parse_cues(
    value: Any, *, where: str, default: float, regex: bool, negative: bool
) -> tuple[Cue, ...]:
    """Accept ``["a", "b"]`` (default weight) or a table ``{"a" = 2.0, ...}``."""
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, list):
        items = [(v, default) for v in value]
    else:
        raise ValueError(f'{where} must be a list of strings or a table of "text" = weight')
    cues: list[Cue] = []
    seen: set[str] = set()
    for text, weight in items:
        if regex:
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{where}: patterns must be non-empty strings, got {text!r}")
            text = text.strip()
        else:
            text = clean_phrase(text, where)
        # a negative may weigh 0: it then only masks the positive cues it overlaps
        if not _is_number(weight) or weight < 0 or (weight == 0 and not negative):
            kind = "a number >= 0" if negative else "a positive number"
            raise ValueError(f"{where}: weight for {text!r} must be {kind}, got {weight!r}")
        key = text if regex else text.lower()
        if key in seen:
            raise ValueError(f"{where}: {text!r} is listed twice")
        seen.add(key)
        cues.append(Cue(text, float(weight), regex=regex, negative=negative))
    return tuple(cues)


def parse_off_topic(body: Any, source: str) -> tuple[Cue, ...]:
    where = f"{source}: [off_topic]"
    if not isinstance(body, Mapping):
        raise ValueError(f"{where} must be a table")
    unknown = set(body) - {"phrases", "patterns"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    found: list[Cue] = []
    for key, regex in (("phrases", False), ("patterns", True)):
        if key in body:
            found += _parse_cues(
                body[key], where=f"{where} {key}", default=1.0, regex=regex, negative=True
            )
    return tuple(found)


def parse_topic(tid: Any, body: Any, params: Params, source: str) -> Topic:
    where = f"{source}: topic '{tid}'"
    if not isinstance(tid, str) or not TOPIC_ID.match(tid):
        raise ValueError(
            f"{where}: ids must be lower-case letters, digits or '_', starting with a letter"
        )
    if not isinstance(body, Mapping):
        raise ValueError(f"{where}: must be a table ([topics.{tid}])")
    unknown = set(body) - _TOPIC_KEYS
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
            f"(allowed: {', '.join(sorted(_TOPIC_KEYS))})"
        )
    label = body.get("label", tid)
    if not isinstance(label, str) or not label.strip():
        raise ValueError(f"{where}: 'label' must be a non-empty string")
    description = body.get("description", "")
    if not isinstance(description, str):
        raise ValueError(f"{where}: 'description' must be a string")
    min_score = body.get("min_score")
    if min_score is not None and (not _is_number(min_score) or not 0 < min_score < 1):
        raise ValueError(f"{where}: 'min_score' must be a number between 0 and 1")

    def cues(key: str, default: float, regex: bool, negative: bool) -> tuple[Cue, ...]:
        if key not in body:
            return ()
        return _parse_cues(
            body[key], where=f"{where}: {key}", default=default, regex=regex, negative=negative
        )

    phrases = cues("phrases", params.default_weight, False, False)
    patterns = cues("patterns", params.default_weight, True, False)
    negative = cues("negative", params.negative_weight, False, True) + cues(
        "negative_patterns", params.negative_weight, True, True
    )
    if not phrases and not patterns:
        raise ValueError(f"{where}: needs at least one entry in 'phrases' or 'patterns'")
    return Topic(
        id=tid,
        label=label.strip(),
        phrases=phrases,
        patterns=patterns,
        negative=negative,
        description=description.strip(),
        min_score=float(min_score) if min_score is not None else None,
    )


def read_toml(file: Path) -> Mapping[str, Any]:
    """The parsed TOML of a taxonomy file; every problem is a ``ValueError`` naming the file."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read taxonomy file {file}: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"{file}: taxonomy file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{file}: invalid TOML: {exc}") from None


def parse(data: Any, source: str) -> tuple[list[Topic], Params, tuple[Cue, ...]]:
    """Topics, parameters and off-topic cues from the parsed TOML structure."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: taxonomy must be a table")
    unknown = set(data) - {"version", "params", "off_topic", "topics"}
    if unknown:
        raise ValueError(f"{source}: unknown top-level key(s): {', '.join(sorted(unknown))}")
    params = parse_params(data.get("params", {}), source)
    topics_data = data.get("topics")
    if not isinstance(topics_data, Mapping) or not topics_data:
        raise ValueError(f"{source}: missing [topics.<id>] tables")
    topics = [parse_topic(tid, body, params, source) for tid, body in topics_data.items()]
    return topics, params, parse_off_topic(data.get("off_topic", {}), source)
