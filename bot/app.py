"""The one Bolt app factory behind every mode: web, Socket Mode, the shell and the tests."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App

from bot.config import Settings
from bot.services import Services
from bot.slack_client import make_client
from handlers import commands, home, messages, reactions, shortcuts

log = logging.getLogger(__name__)


def create_app(
    settings: Settings, services: Services, *, listener_executor: Executor | None = None
) -> App:
    """Build the Bolt app; ``App`` calls ``auth.test`` here, once, not on the first request.

    The token comes with ``client`` (so every Web API call uses ``SLACK_API_URL``).
    """
    app = App(
        signing_secret=settings.slack_signing_secret,
        client=make_client(settings),
        process_before_response=False,
        listener_executor=listener_executor,
        logger=logging.getLogger("slack_bolt"),
    )

    @app.middleware
    def provide_services(context, next) -> None:  # noqa: A002 (Bolt's argument name)
        context["services"] = services
        next()

    messages.register(app)
    commands.register(app)
    reactions.register(app)
    home.register(app)
    shortcuts.register(app)
    return app
