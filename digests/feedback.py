"""The last ways in, as Block Kit and records: the "Share in thread" button, the 👍 / 👎 tag
feedback buttons and modal, and the export line for tuning. Pure: no Slack client, no storage.

Button values and the modal's ``private_metadata`` are JSON the bot wrote itself; they are
read back with :func:`read_value`, which never trusts their shape.
"""

from __future__ import annotations

import json
from typing import Any

from digests.render import escape

SHARE_ACTION = "share_in_thread"
UP_ACTION = "tags_up"
DOWN_ACTION = "tags_down"
FEEDBACK_VIEW = "tag_feedback"
WRONG_BLOCK, MISSING_BLOCK = "wrong", "missing"
VALUE_MAX = 2000  # Slack's limit for a button value
OPTIONS_MAX = 100  # options in one select / checkbox group
NO_SOURCE_HINT = (
    "That message has no link or article text for me to summarize. React with :{reaction}: on "
    "a message with a link, or paste the article's text."
)


def _value(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":"))
    if len(raw) > VALUE_MAX:
        raise ValueError("button value over Slack's limit")
    return raw


def read_value(raw: str | None) -> dict[str, Any]:
    """A value or private_metadata the bot wrote; ``{}`` for anything else."""
    try:
        data = json.loads(raw or "")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def share_actions(channel: str, message_ts: str, thread_ts: str | None) -> dict:
    """Under the shortcut's ephemeral summary: post it in the message's thread, as a share."""
    value = _value({"c": channel, "ts": message_ts, "th": thread_ts or ""})
    return {
        "type": "actions",
        "block_id": "share",
        "elements": [
            {
                "type": "button",
                "action_id": SHARE_ACTION,
                "text": {"type": "plain_text", "text": "Share in thread"},
                "style": "primary",
                "value": value,
            }
        ],
    }


def feedback_actions(akey: str, shown: list[str]) -> dict:
    """Under a summary reply: are its tags right? ``shown`` are the topic ids it shows."""
    value = _value({"a": akey, "t": shown[:8]})
    return {
        "type": "actions",
        "block_id": "tag_feedback",
        "elements": [
            {
                "type": "button",
                "action_id": UP_ACTION,
                "text": {"type": "plain_text", "text": "👍 Tags right", "emoji": True},
                "value": value,
            },
            {
                "type": "button",
                "action_id": DOWN_ACTION,
                "text": {"type": "plain_text", "text": "👎 Tags off", "emoji": True},
                "value": value,
            },
        ],
    }


def _option(tid: str, label: str) -> dict:
    return {"text": {"type": "plain_text", "text": label[:75]}, "value": tid[:150]}


def feedback_modal(
    akey: str, shown: list[str], choices: list[tuple[str, str]], meta: dict[str, str]
) -> dict:
    """The 👎 modal: tick the wrong tags, pick the missing topics. ``choices``: (id, label)."""
    labels = dict(choices)
    blocks: list[dict] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Which tags are wrong, and which topics are missing?",
            },
        }
    ]
    shown_options = [_option(t, labels.get(t, t)) for t in shown if t][:OPTIONS_MAX]
    if shown_options:
        blocks.append(
            {
                "type": "input",
                "block_id": WRONG_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "Wrong tags"},
                "element": {
                    "type": "checkboxes",
                    "action_id": WRONG_BLOCK,
                    "options": shown_options[:10],  # checkboxes take at most 10
                },
            }
        )
    missing = [_option(t, lab) for t, lab in choices if t not in shown][:OPTIONS_MAX]
    if missing:
        blocks.append(
            {
                "type": "input",
                "block_id": MISSING_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "Missing topics"},
                "element": {
                    "type": "multi_static_select",
                    "action_id": MISSING_BLOCK,
                    "placeholder": {"type": "plain_text", "text": "Pick topics"},
                    "options": missing,
                },
            }
        )
    return {
        "type": "modal",
        "callback_id": FEEDBACK_VIEW,
        "title": {"type": "plain_text", "text": "Tag feedback"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": _value({"a": akey, "t": shown[:8], **meta}),
        "blocks": blocks,
    }


def read_submission(view: dict) -> tuple[dict[str, Any], list[str], list[str]]:
    """(metadata, wrong tag ids, missing topic ids) from a ``view_submission``'s view."""
    meta = read_value(view.get("private_metadata"))
    values = (view.get("state") or {}).get("values") or {}
    wrong = (values.get(WRONG_BLOCK) or {}).get(WRONG_BLOCK) or {}
    missing = (values.get(MISSING_BLOCK) or {}).get(MISSING_BLOCK) or {}
    return (
        meta,
        [str(o.get("value")) for o in wrong.get("selected_options") or []][:10],
        [str(o.get("value")) for o in missing.get("selected_options") or []][:OPTIONS_MAX],
    )


def ack_text(vote: str, wrong: list[str], missing: list[str], labels: dict[str, str]) -> str:
    """The ephemeral thanks, saying back what was recorded (labels escaped once)."""
    if vote == "up":
        return "Thanks — noted that these tags are right."

    def names(ids: list[str]) -> str:
        return ", ".join(escape(labels.get(t, t)) for t in ids)

    parts = []
    if wrong:
        parts.append(f"wrong: {names(wrong)}")
    if missing:
        parts.append(f"missing: {names(missing)}")
    said = "; ".join(parts) if parts else "the tags are off"
    return f"Thanks — noted ({said}). It helps tune the tagger."


def export_line(team: str, akey: str, article: dict | None, votes: list[dict]) -> dict:
    """One JSON line of ``python -m bot feedback``: the article, the tags it showed, the votes
    (without who voted: tuning needs the verdicts, not the people)."""
    article = article or {}
    shown = next((v.get("shown") for v in votes if v.get("shown")), [])
    return {
        "team": team,
        "article": akey,
        "title": article.get("title"),
        "url": article.get("url"),
        "shown_tags": shown,
        "votes": [
            {k: v.get(k) for k in ("vote", "wrong", "missing", "at")}
            for v in sorted(votes, key=lambda v: v.get("at") or 0)
        ],
    }
