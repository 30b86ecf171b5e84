"""Buttons and the modal: "Share in thread" under the shortcut's ephemeral summary, 👍 / 👎
under a summary's tags, and the 👎 modal's submission. Each acks at once and enqueues the
work; only ``views.open`` happens here, because Slack's ``trigger_id`` lasts three seconds."""

from __future__ import annotations

import uuid

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.slack.deps import deps_of
from digests.feedback import (
    DOWN_ACTION,
    FEEDBACK_VIEW,
    SHARE_ACTION,
    UP_ACTION,
    feedback_modal,
    read_submission,
    read_value,
)


def _ids(body: dict) -> tuple[str, str, str]:
    """(team, channel, user) of an interaction."""
    team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id", ""
    )
    return team, channel, (body.get("user") or {}).get("id", "")


def _busy(deps, respond) -> None:
    respond(text=deps.busy_text(), response_type="ephemeral", replace_original=False)


def on_share(ack, body: dict, action: dict, respond, context) -> None:
    ack()
    deps = deps_of(context)
    team, channel, user = _ids(body)
    value = read_value(action.get("value"))
    if not value.get("ts"):
        return
    queued = deps.enqueue("share_message", team=context.team_id or team,
                          channel=value.get("c") or channel, ts=value["ts"], user=user,
                          thread_ts=value.get("th") or None, claim=uuid.uuid4().hex,
                          response_url=body.get("response_url", ""))  # fmt: skip
    if not queued:
        _busy(deps, respond)


def _thread_of(body: dict) -> str | None:
    message = body.get("message") or {}
    return message.get("thread_ts") or message.get("ts")


def on_tags_up(ack, body: dict, action: dict, respond, context) -> None:
    ack()
    deps = deps_of(context)
    team, channel, user = _ids(body)
    value = read_value(action.get("value"))
    if not value.get("a"):
        return
    queued = deps.enqueue("tag_vote", team=context.team_id or team, user=user, channel=channel,
                          akey=str(value["a"]), vote="up", shown=list(value.get("t") or []),
                          thread_ts=_thread_of(body))  # fmt: skip
    if not queued:
        _busy(deps, respond)


def on_tags_down(ack, body: dict, action: dict, client, respond, context) -> None:
    """Open the modal now (the trigger expires in 3 s); the vote comes with its submission."""
    ack()
    deps = deps_of(context)
    _team, channel, _user = _ids(body)
    value = read_value(action.get("value"))
    if not value.get("a"):
        return
    meta = {"c": channel, "th": _thread_of(body) or ""}
    view = feedback_modal(str(value["a"]), [str(t) for t in value.get("t") or []],
                          deps.topic_choices(), meta)  # fmt: skip
    try:
        client.views_open(trigger_id=body.get("trigger_id", ""), view=view)
    except SlackApiError:
        respond(text="I couldn't open the feedback form; try the button again.",
                    response_type="ephemeral", replace_original=False)  # fmt: skip


def on_feedback_submitted(ack, body: dict, view: dict, context) -> None:
    ack()  # closes the modal; the thanks arrive ephemerally in the thread
    deps = deps_of(context)
    meta, wrong, missing = read_submission(view)
    if not meta.get("a") or not meta.get("c"):
        return
    team = context.team_id or (body.get("team") or {}).get("id", "")
    deps.enqueue("tag_vote", team=team, user=(body.get("user") or {}).get("id", ""),
                 channel=str(meta["c"]), akey=str(meta["a"]), vote="down",
                 shown=[str(t) for t in meta.get("t") or []], thread_ts=meta.get("th") or None,
                 wrong=wrong, missing=missing)  # fmt: skip


def register(app: App) -> None:
    app.action(SHARE_ACTION)(on_share)
    app.action(UP_ACTION)(on_tags_up)
    app.action(DOWN_ACTION)(on_tags_down)
    app.view_submission(FEEDBACK_VIEW)(on_feedback_submitted)
