"""\"Add to Slack\": Bolt's OAuth flow at its default paths (``/slack/install``,
``/slack/oauth_redirect``), on our installation and state stores and our Web API client, so
``oauth.v2.access`` (and any token refresh) honours ``SLACK_API_URL`` like every other call.
"""

from __future__ import annotations

import logging

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.config import Settings
from bot.slack.workspaces import Workspaces

# The bot scopes of manifest.yml (tests/test_oauth.py checks they stay the same).
BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "chat:write",
    "commands",
    "files:write",
    "reactions:read",
    "users:read",
)
STATE_SECONDS = 600


def authorize_url(api_url: str) -> str:
    """Slack's consent page beside its Web API: ``https://slack.com/api/`` → ``…/oauth/v2/authorize``."""
    base = api_url[: -len("api/")] if api_url.endswith("/api/") else api_url
    return base.rstrip("/") + "/oauth/v2/authorize"


def oauth_settings(settings: Settings, workspaces: Workspaces, client: WebClient) -> OAuthSettings:
    """Bolt's settings for the install flow and for finding each request's bot token.

    ``authorize`` reads only the bot (``find_bot``) and caches what ``auth.test`` said per token,
    so a request costs one Redis read before its listener runs, not an extra Web API call.
    """
    if workspaces.installations is None or workspaces.oauth_states is None:
        raise ValueError("OAuth needs the Redis installation store")
    logger = logging.getLogger("slack_bolt")
    flow = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        authorization_url=authorize_url(settings.slack_api_url),
        installation_store=workspaces.installations,
        installation_store_bot_only=True,
        state_store=workspaces.oauth_states,
        state_expiration_seconds=STATE_SECONDS,
        logger=logger,
    )
    flow.authorize = InstallationStoreAuthorize(
        logger=logger,
        installation_store=workspaces.installations,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        bot_only=True,
        cache_enabled=True,
        client=client,
    )
    return flow
