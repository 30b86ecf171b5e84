"""Slack installations and OAuth states in our Redis, every token encrypted (``TokenCipher``).

slack_sdk's ``InstallationStore`` and ``OAuthStateStore`` interfaces, so Bolt's OAuth flow saves
here and Bolt's ``authorize`` reads from here. slack_sdk ships no Redis store, and its file and
SQLite stores live on one machine; our Redis is already what every process shares.

Keys (``P`` = ``pd:{team_id}:``; all durable but the state):
  P install:bot            JSON: the workspace's bot (slack_sdk ``Bot``), secrets encrypted
  P install:latest         JSON: the latest ``Installation`` (it repeats the bot token), encrypted
  P install:user:{user}    JSON: the ``Installation`` made by that user, encrypted
  P install:users          SET of users with an ``install:user`` record
  pd:oauth:state:{state}   (TTL) a state issued by ``/slack/install``, consumed once
An org-wide install (not offered: ``org_deploy_enabled: false``) would key by its enterprise id.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import redis
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from bot.storage.store import Store, StoreError
from bot.storage.token_cipher import TokenCipher, TokenCipherError

log = logging.getLogger(__name__)

SECRET_FIELDS = (
    "bot_token",
    "bot_refresh_token",
    "user_token",
    "user_refresh_token",
    "incoming_webhook_url",  # anyone holding it can post to the channel
)
STATE_PREFIX = "pd:oauth:state:"


def _owner(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None):
    return enterprise_id if is_enterprise_install and enterprise_id else team_id


class RedisInstallationStore(InstallationStore):
    """One workspace's bot and installations under its own ``pd:{team_id}:`` prefix."""

    def __init__(self, client: redis.Redis, cipher: TokenCipher) -> None:
        self.r = client
        self.cipher = cipher
        self._logger = log

    def __repr__(self) -> str:
        return f"RedisInstallationStore({self.cipher!r})"

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    def _k(self, owner: str, *parts: str) -> str:
        return Store.for_team(self.r, owner).k("install", *parts)

    # -- (de)serializing, with the secrets encrypted -------------------------------------------

    def _dump(self, record: Bot | Installation) -> str:
        data: dict[str, Any] = dict(vars(record))
        for name in SECRET_FIELDS:
            if data.get(name):
                data[name] = self.cipher.encrypt(data[name])
        return json.dumps(data)

    def _load(self, raw: str | None, kind: type[Bot] | type[Installation]):
        if raw is None:
            return None
        data = json.loads(raw)
        for name in SECRET_FIELDS:
            if data.get(name):
                data[name] = self.cipher.decrypt(data[name])
        return kind(**data)

    # -- InstallationStore ---------------------------------------------------------------------

    def save(self, installation: Installation) -> None:
        owner = _owner(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        if not owner:
            raise ValueError("an installation without a team or enterprise id")
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self._k(owner, "latest"), self._dump(installation))
        if installation.user_id:
            pipe.set(self._k(owner, "user", installation.user_id), self._dump(installation))
            pipe.sadd(self._k(owner, "users"), installation.user_id)
        if installation.bot_token:
            pipe.set(self._k(owner, "bot"), self._dump(installation.to_bot()))
        pipe.execute()
        log.info("installed in %s (bot user %s)", owner, installation.bot_user_id)

    def save_bot(self, bot: Bot) -> None:
        owner = _owner(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        if not owner:
            raise ValueError("a bot without a team or enterprise id")
        self.r.set(self._k(owner, "bot"), self._dump(bot))

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        owner = _owner(enterprise_id, team_id, is_enterprise_install)
        if not owner:
            return None
        try:
            return self._load(self.r.get(self._k(owner, "bot")), Bot)
        except (StoreError, TokenCipherError) as exc:  # Bolt would only log it at INFO
            log.error("cannot read the installation of %s: %s", owner, exc)
            raise

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        owner = _owner(enterprise_id, team_id, is_enterprise_install)
        if not owner:
            return None
        key = self._k(owner, "user", user_id) if user_id else self._k(owner, "latest")
        return self._load(self.r.get(key), Installation)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Every record holding the bot token goes: the bot and the installations (which repeat
        it; this app asks for no user scopes, so they hold nothing else worth keeping)."""
        owner = _owner(enterprise_id, team_id, enterprise_id is not None and team_id is None)
        if owner:
            self._delete(owner, users=None)

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        owner = _owner(enterprise_id, team_id, enterprise_id is not None and team_id is None)
        if not owner:
            return
        if user_id is None:
            self._delete(owner, users=None, bot=False)
            return
        latest = self.find_installation(enterprise_id=None, team_id=owner, user_id=None)
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(self._k(owner, "user", user_id))
        pipe.srem(self._k(owner, "users"), user_id)
        if latest is not None and latest.user_id == user_id:
            pipe.delete(self._k(owner, "latest"))
        pipe.execute()

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        owner = _owner(enterprise_id, team_id, enterprise_id is not None and team_id is None)
        if owner:
            self._delete(owner, users=None)

    def _delete(self, owner: str, users: list[str] | None, bot: bool = True) -> None:
        users = users if users is not None else list(self.r.smembers(self._k(owner, "users")))
        keys = [self._k(owner, "latest"), self._k(owner, "users")]
        keys += [self._k(owner, "user", user) for user in users]
        if bot:
            keys.append(self._k(owner, "bot"))
        self.r.delete(*keys)
        log.info("deleted the tokens of %s", owner)


class RedisOAuthStateStore(OAuthStateStore):
    """States for the OAuth flow: issued with a TTL, consumed at most once (``GETDEL``)."""

    def __init__(self, client: redis.Redis, expiration_seconds: int = 600) -> None:
        self.r = client
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args, **kwargs) -> str:
        state = secrets.token_urlsafe(24)
        self.r.set(STATE_PREFIX + state, "1", ex=self.expiration_seconds)
        return state

    def consume(self, state: str) -> bool:
        if not state:
            return False
        return self.r.getdel(STATE_PREFIX + state) is not None
