"""Alerts: which rule an item matches, and what the hourly cap lets through.

A rule is a topic id (matched against the item's tags, so it means exactly what tags mean in
digests) or a quoted phrase (matched case-insensitively as whole words in the title and
summary). The cap is a count per channel per clock hour: the first ``cap`` alerts are posted,
the rest fold into one "N more" message that is edited as more arrive.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import Enum

from digests.errors import InputError
from digests.models import TopicTag

PHRASE_MIN, PHRASE_MAX = 2, 80
MAX_RULES = 25


@dataclass(frozen=True)
class AlertRule:
    """``kind`` is "topic" (``value`` a topic id) or "phrase" (``value`` as typed)."""

    kind: str
    value: str

    @property
    def key(self) -> str:
        """How the rule is stored and compared (phrases case-insensitively)."""
        return f"{self.kind}:{self.value.lower()}"

    @property
    def label(self) -> str:
        return f"`{self.value}`" if self.kind == "topic" else f"“{self.value}”"

    @classmethod
    def from_key(cls, key: str, value: str | None = None) -> AlertRule:
        kind, _, rest = key.partition(":")
        return cls(kind, value if value is not None else rest)


def parse_rule(text: str, topic_ids: Collection[str]) -> AlertRule:
    """``export_controls`` or ``"entity list"`` → a rule; a friendly InputError otherwise."""
    text = (text or "").strip()
    quoted = re.fullmatch(r'"([^"]+)"|“([^”]+)”|\'([^\']+)\'', text)
    if quoted:
        phrase = " ".join(next(g for g in quoted.groups() if g).split())
        if not PHRASE_MIN <= len(phrase) <= PHRASE_MAX:
            raise InputError(
                "bad_alert", f"A phrase is {PHRASE_MIN} to {PHRASE_MAX} characters long."
            )
        return AlertRule("phrase", phrase)
    topic = text.lower()
    if topic in topic_ids:
        return AlertRule("topic", topic)
    hint = ", ".join(sorted(topic_ids)[:12])
    raise InputError(
        "bad_alert",
        f"Give a topic id or a phrase in quotes: `/digest alert export_controls` or "
        f'`/digest alert "entity list"`. Topic ids: {hint}.',
    )


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in phrase.lower().split()]
    return re.compile(r"(?<!\w)" + r"\W+".join(words) + r"(?!\w)")


def match_rule(
    rules: Sequence[AlertRule], *, title: str, summary: Sequence[str], topics: Sequence[TopicTag]
) -> AlertRule | None:
    """The first rule (in the order given) the item matches, or None."""
    tagged = {t.topic for t in topics}
    text = " ".join([title, *summary]).lower()
    for rule in rules:
        if rule.kind == "topic" and rule.value in tagged:
            return rule
        if rule.kind == "phrase" and _phrase_pattern(rule.value).search(text):
            return rule
    return None


class CapAction(Enum):
    POST = "post"  # under the cap: post the alert
    OPEN_MORE = "open_more"  # the first one over: post the "N more" message
    UPDATE_MORE = "update_more"  # later ones: edit that message


def cap_action(count_in_hour: int, cap: int) -> CapAction:
    """What to do with the ``count_in_hour``-th alert (1-based) of a channel's hour."""
    if count_in_hour <= cap:
        return CapAction.POST
    return CapAction.OPEN_MORE if count_in_hour == cap + 1 else CapAction.UPDATE_MORE
