"""The taxonomy's plain data: cues, topics and scoring parameters (no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    """One weighted cue: a literal phrase (``*`` = any word ending) or a regex."""

    text: str
    weight: float
    regex: bool = False
    negative: bool = False


@dataclass(frozen=True)
class Topic:
    """A topic as the taxonomy file defines it; ``min_score`` overrides the global threshold."""

    id: str
    label: str
    phrases: tuple[Cue, ...] = ()
    patterns: tuple[Cue, ...] = ()
    negative: tuple[Cue, ...] = ()
    description: str = ""
    min_score: float | None = None

    def cues(self) -> tuple[Cue, ...]:
        return self.phrases + self.patterns + self.negative


@dataclass(frozen=True)
class Params:
    """Scoring knobs, read from ``[params]``; the defaults are what the shipped file uses."""

    min_score: float = 0.45
    score_scale: float = 4.0
    title_weight: float = 3.0
    lead_weight: float = 1.0
    body_weight: float = 1.0
    lead_chars: int = 400
    lead_sentences: int = 2
    repeat_decay: float = 0.5
    max_repeats: int = 4
    max_evidence: int = 5
    default_weight: float = 1.0
    negative_weight: float = 1.0
    team_weight: float = 3.0
    anchor_weight: float = 1.5  # a tag needs one cue at least this heavy (see scoring)
