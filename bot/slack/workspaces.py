"""The workspaces the bot is in: the one place a job gets a workspace's Web API client, and
what an uninstall removes.

Two modes, one interface: ``SLACK_BOT_TOKEN`` (one workspace: that token, whatever the team) or
``SLACK_CLIENT_ID`` + ``SLACK_CLIENT_SECRET`` (OAuth: each workspace's bot token, from the
installation store). Every job (shares, commands, digests) runs on a worker, after the request
is gone, so it asks ``client_for(team)`` here rather than using Bolt's request client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.config import Settings
from bot.slack.clients import make_client
from bot.storage.installations import RedisInstallationStore, RedisOAuthStateStore
from bot.storage.store import Store, StoreError, Stores
from bot.storage.token_cipher import TokenCipher

log = logging.getLogger(__name__)


class Workspaces:
    """Clients per workspace, installations (OAuth mode) and forgetting a workspace."""

    def __init__(
        self,
        settings: Settings,
        redis_client: redis.Redis | None,
        installations: RedisInstallationStore | None = None,
        oauth_states: RedisOAuthStateStore | None = None,
    ) -> None:
        self.settings = settings
        self.redis = redis_client
        self.installations = installations
        self.oauth_states = oauth_states
        self._single: dict[bool, WebClient] = {}

    @classmethod
    def from_settings(cls, settings: Settings, redis_client: redis.Redis | None) -> Workspaces:
        if not settings.oauth_enabled or redis_client is None:
            return cls(settings, redis_client)
        cipher = TokenCipher(settings.token_encryption_key)
        return cls(
            settings,
            redis_client,
            RedisInstallationStore(redis_client, cipher),
            RedisOAuthStateStore(redis_client),
        )

    def __repr__(self) -> str:
        mode = "oauth" if self.installations is not None else "single token"
        return f"Workspaces({mode})"

    def client_for(self, team: str, *, retry_connection_errors: bool = True) -> WebClient | None:
        """The client for background work in ``team``; ``None`` when the bot is not installed
        there (uninstalled, or never was). Raises ``StoreError`` when Redis is down."""
        if self.installations is None:
            if retry_connection_errors not in self._single:
                self._single[retry_connection_errors] = make_client(
                    self.settings, retry_connection_errors=retry_connection_errors
                )
            return self._single[retry_connection_errors]
        bot = self.installations.find_bot(enterprise_id=None, team_id=team)
        if bot is None or not bot.bot_token:
            log.warning("no installation for workspace %s", team)
            return None
        return make_client(
            self.settings, token=bot.bot_token, retry_connection_errors=retry_connection_errors
        )

    def poster_for(self, team: str) -> WebClient | None:
        """Digest posting never re-sends blindly after a dropped connection (see make_client)."""
        return self.client_for(team, retry_connection_errors=False)

    @staticmethod
    def responder(response_url: str) -> Callable[..., None]:
        """``respond(text=…, blocks=…)`` for a command's ``response_url`` (ephemeral by default)."""
        webhook = WebhookClient(response_url, timeout=10)

        def respond(text: str = "", blocks: list[dict] | None = None, **kw) -> None:
            kw.setdefault("response_type", "ephemeral")
            resp = webhook.send(text=text, blocks=blocks, **kw)
            if resp.status_code >= 400:
                log.error("response_url answered HTTP %s", resp.status_code)

        return respond

    # -- uninstall ----------------------------------------------------------------------------

    def tokens_revoked(
        self, team: str, enterprise: str | None, *, bot: bool, users: list[str]
    ) -> None:
        """``tokens_revoked``: forget the revoked tokens (Slack already refuses them)."""
        if self.installations is None:
            return
        for user in users:
            self.installations.delete_installation(
                enterprise_id=enterprise, team_id=team, user_id=user
            )
        if bot:
            self.installations.delete_bot(enterprise_id=enterprise, team_id=team)

    def uninstalled(self, team: str, enterprise: str | None = None) -> int:
        """``app_uninstalled``: the tokens, then everything stored for the workspace (shares,
        articles, topics, schedules, digest ledgers). Returns how many keys went."""
        if self.installations is not None:
            self.installations.delete_all(enterprise_id=enterprise, team_id=team)
        removed = self.forget(team)
        log.info("uninstalled from %s: %d keys deleted", team, removed)
        return removed

    def forget(self, team: str) -> int:
        """Delete every key under the workspace's prefix (one ``SCAN`` of its own keys)."""
        if self.redis is None or not team:
            return 0
        pattern = Store.for_team(self.redis, team).k("*")
        removed = 0
        batch: list[str] = []
        try:
            for index in ("teams", "scheduled"):
                Stores(self.redis).unindex(index, team)
            for key in self.redis.scan_iter(match=pattern, count=500):
                batch.append(key)
                if len(batch) >= 500:
                    removed += self.redis.unlink(*batch)
                    batch = []
            if batch:
                removed += self.redis.unlink(*batch)
        except StoreError as exc:
            log.error("could not delete the data of %s (kept until pruned): %s", team, exc)
        return removed
