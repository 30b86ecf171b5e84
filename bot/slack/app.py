"""The one Bolt app factory behind every mode: web, Socket Mode, the shell and the tests."""

from __future__ import annotations

import logging
import os
from concurrent.futures import Executor

from slack_bolt import App

from bot.config import Settings
from bot.slack.clients import make_client
from bot.slack.deps import Deps
from bot.slack.oauth import oauth_settings
from handlers import actions, commands, home, installs, messages, reactions, shortcuts

log = logging.getLogger(__name__)

_OAUTH_ENV = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
UNAVAILABLE = (
    "Policy Digest can't find its installation for this workspace right now. Try again in a "
    "minute; if it keeps saying this, ask an admin to add it to Slack again."
)


def create_app(settings: Settings, deps: Deps, *, listener_executor: Executor | None = None) -> App:
    """Build the Bolt app; with one token ``App`` calls ``auth.test`` here, once, not on the
    first request. With OAuth (``SLACK_CLIENT_ID``) each request's token comes from the
    installation store (``bot.slack.oauth``).

    Every Web API call, ``oauth.v2.access`` included, goes through ``client``'s ``SLACK_API_URL``.
    Listeners find ``deps`` (typed: ``bot.slack.deps.deps_of``) in their context; they only ack
    and enqueue.
    """
    # Settings is the one reader of the environment. Bolt reads it again when these exist, even
    # empty or as .env.example's placeholders: SLACK_CLIENT_ID/SECRET start its own OAuth flow
    # (one token and the shell must not inherit that) and SLACK_BOT_TOKEN logs a warning.
    bolt_reads = ("SLACK_BOT_TOKEN",) + (() if settings.oauth_enabled else _OAUTH_ENV)
    for name in bolt_reads:
        os.environ.pop(name, None)
    client = make_client(settings)
    app = App(
        signing_secret=settings.slack_signing_secret,
        client=client,
        oauth_settings=(
            oauth_settings(settings, deps.workspaces, client) if settings.oauth_enabled else None
        ),
        process_before_response=False,
        listener_executor=listener_executor,
        user_facing_authorize_error_message=UNAVAILABLE,
        logger=logging.getLogger("slack_bolt"),
    )

    @app.middleware
    def provide_deps(context, next) -> None:  # noqa: A002 (Bolt's argument name)
        context["deps"] = deps
        next()

    messages.register(app)
    commands.register(app)
    reactions.register(app)
    home.register(app)
    shortcuts.register(app)
    actions.register(app)
    installs.register(app)
    return app
