"""The job table: every piece of work after an ack, by name, with a JSON payload.

Handlers enqueue (``bot.slack.deps.Deps.enqueue``); workers run these. Each job may run more
than once (a worker killed mid-job, a retry): the flows it calls are idempotent (replies keyed
by workspace, channel, message ts and source; digests by their slot ledger).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.flows.commands import Commands
from bot.flows.sharing import ShareFlow
from bot.slack.workspaces import Workspaces
from digests.commands import Command


def job_table(
    shares: ShareFlow, commands: Commands, workspaces: Workspaces
) -> dict[str, Callable[..., None]]:
    def command(*, team: str, channel: str, user: str, response_url: str, command: dict,
                at: float) -> None:  # fmt: skip
        respond = workspaces.responder(response_url)
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
        "home": shares.publish_home,
        "command": command,
        "uninstalled": workspaces.uninstalled,
        "tokens_revoked": workspaces.tokens_revoked,
    }
