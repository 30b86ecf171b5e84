"""The job table: every piece of work after an ack, by name, with a JSON payload.

Handlers enqueue (``bot.slack.deps.Deps.enqueue``); workers run these. Each job may run more
than once (a worker killed mid-job, a retry): the flows it calls are idempotent (replies keyed
by workspace, channel, message ts and source; digests by their slot ledger).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.flows.commands import Commands
from bot.flows.message_share import MessageShares
from bot.flows.sharing import ShareFlow
from bot.flows.tag_feedback import TagFeedback
from bot.slack.workspaces import Workspaces
from digests.commands import Command
from digests.feedback import share_actions


def _with_share_button(respond: Callable[..., None], share: dict) -> Callable[..., None]:
    """The shortcut's ephemeral summary (an answer with blocks) gets "Share in thread"."""

    def respond_with_button(text: str = "", blocks: list[dict] | None = None, **kw) -> None:
        if blocks:
            blocks = [*blocks, share_actions(share["c"], share["ts"], share.get("th"))]
        respond(text=text, blocks=blocks, **kw)

    return respond_with_button


def job_table(
    shares: ShareFlow,
    commands: Commands,
    workspaces: Workspaces,
    message_shares: MessageShares,
    feedback: TagFeedback,
) -> dict[str, Callable[..., None]]:
    def command(*, team: str, channel: str, user: str, response_url: str, command: dict,
                at: float, share: dict | None = None) -> None:  # fmt: skip
        respond = workspaces.responder(response_url)
        if share and share.get("ts"):
            respond = _with_share_button(respond, share)
        client = workspaces.client_for(team)
        if client is None:
            respond(text="Policy Digest is not installed in this workspace any more.")
            return
        commands.run(
            Command(**command),
            client=client,
            respond=respond,
            team=team,
            channel=channel,
            user=user,
            at=at,
        )

    return {
        "message": shares.on_message,
        "deleted": shares.on_message_deleted,
        "reaction": shares.on_reaction,
        "share_message": message_shares.share_message,
        "tag_vote": feedback.vote,
        "home": shares.publish_home,
        "command": command,
        "uninstalled": workspaces.uninstalled,
        "tokens_revoked": workspaces.tokens_revoked,
    }
