"""Building the running bot: settings → Redis (real or embedded) → services → Bolt app."""

from __future__ import annotations

import logging

import redis

from bot.config import Settings
from bot.storage.embedded import EmbeddedServer
from bot.storage.store import connect

log = logging.getLogger(__name__)


def open_redis(settings: Settings, *, local: bool) -> redis.Redis:
    """``REDIS_URL`` when set; in local modes the embedded server under ``DATA_DIR``."""
    if settings.redis_url:
        return connect(settings.redis_url)
    if not local:
        raise SystemExit("REDIS_URL is required for the web and clock processes (see README).")
    url = EmbeddedServer(settings.data_dir).start()
    return connect(url)


def build(settings: Settings, *, local: bool, listener_executor=None):
    """The services and the Bolt app for one process."""
    from bot.flows.summarizer import Services
    from bot.slack.app import create_app

    services = Services(settings, open_redis(settings, local=local))
    app = create_app(settings, services, listener_executor=listener_executor)
    return services, app
