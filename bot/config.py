"""Settings from the environment (and a ``.env`` file when present), read in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from exc


def _placeholder(value: str) -> bool:
    """``.env.example``'s ``xoxb-...`` and ``...``: never a real token, secret or URL."""
    return "..." in value or "…" in value


def _secret(name: str, ignored: list[str]) -> str:
    """A token or secret; a placeholder counts as unset (and is named in ``ignored``)."""
    value = os.environ.get(name, "").strip()
    if value and _placeholder(value):
        ignored.append(name)
        return ""
    return value


def _list(name: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]


@dataclass(frozen=True)
class Settings:
    """Everything configurable; see the README's environment table for meanings."""

    slack_bot_token: str = field(default="", repr=False)  # secrets never reach a log line
    slack_signing_secret: str = field(default="", repr=False)
    slack_app_token: str = field(default="", repr=False)
    slack_client_id: str = ""  # with the secret: OAuth installs, many workspaces
    slack_client_secret: str = field(default="", repr=False)
    token_encryption_key: str = field(default="", repr=False)
    slack_api_url: str = "https://slack.com/api/"
    redis_url: str = field(default="", repr=False)  # may carry a password
    queue_redis_url: str = field(
        default="", repr=False
    )  # the job queue's own Redis; "" = REDIS_URL
    data_dir: Path = Path(".data")
    port: int = 3000
    fetch_allow_private: list[str] = field(default_factory=list)
    text_max_chars: int = 200_000
    summary_method: str = "default"
    taxonomy_file: str = ""
    retention_days: int = 180
    digest_admins: list[str] = field(default_factory=list)
    log_level: str = "INFO"
    workers: int = 4  # job threads per worker process
    queue_max_depth: int = 5000  # beyond this many waiting jobs, new work is refused ("busy")
    queue_heartbeat_seconds: int = 60  # a worker silent this long is dead: its jobs run again
    digest_lease_seconds: int = 60  # a clock dead mid-post holds a channel this long at most
    summary_cache_days: int = 30
    summary_reaction: str = "memo"  # this reaction on a message summarizes it in its thread
    page_cache_hours: int = 24
    digest_top_stories: int = 5  # stories shown in full per topic; the rest as headlines
    placeholders: tuple[str, ...] = ()  # variables still set to .env.example's placeholders
    feed_poll_minutes: int = 30  # each followed feed is polled this often
    feed_host_gap_seconds: int = 2  # at most one poll per host this often
    alerts_per_hour: int = 6  # per channel; the rest fold into one "N more" message

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.slack_client_id)

    def oauth_problem(self) -> str | None:
        """What is wrong with the OAuth configuration, if anything (``None`` when fine)."""
        if not (self.slack_client_id or self.slack_client_secret):
            return None
        if not (self.slack_client_id and self.slack_client_secret):
            return "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together (OAuth installs)."
        if self.slack_bot_token:
            return (
                "Set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID/SECRET (OAuth), not both."
            )
        if not self.token_encryption_key:
            return (
                "OAuth installs need TOKEN_ENCRYPTION_KEY (tokens are encrypted at rest); make "
                "one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
        return None

    @classmethod
    def from_env(cls, *, dotenv: bool = True) -> Settings:
        """Read the environment; a ``.env`` in the working directory fills what is unset."""
        if dotenv:
            load_dotenv(Path(".env"), override=False)  # the working directory's, as documented
        ignored: list[str] = []
        secrets = {
            "slack_client_id": _secret("SLACK_CLIENT_ID", ignored),
            "slack_client_secret": _secret("SLACK_CLIENT_SECRET", ignored),
            "token_encryption_key": _secret("TOKEN_ENCRYPTION_KEY", ignored),
            "slack_bot_token": _secret("SLACK_BOT_TOKEN", ignored),
            "slack_signing_secret": _secret("SLACK_SIGNING_SECRET", ignored),
            "slack_app_token": _secret("SLACK_APP_TOKEN", ignored),
            "redis_url": _secret("REDIS_URL", ignored),
            "queue_redis_url": _secret("QUEUE_REDIS_URL", ignored),
        }
        api_url = os.environ.get("SLACK_API_URL", "").strip() or cls.slack_api_url
        if not api_url.endswith("/"):
            api_url += "/"
        settings = cls(
            **secrets,
            slack_api_url=api_url,
            data_dir=Path(os.environ.get("DATA_DIR", "").strip() or ".data"),
            port=_int("PORT", 3000),
            fetch_allow_private=_list("FETCH_ALLOW_PRIVATE"),
            text_max_chars=_int("TEXT_MAX_CHARS", 200_000),
            summary_method=os.environ.get("SUMMARY_METHOD", "").strip() or "default",
            taxonomy_file=os.environ.get("TAXONOMY_FILE", "").strip(),
            retention_days=_int("RETENTION_DAYS", 180),
            digest_admins=_list("DIGEST_ADMINS"),
            log_level=(os.environ.get("LOG_LEVEL", "").strip() or "INFO").upper(),
            workers=_int("WORKERS", 4),
            digest_top_stories=max(1, min(_int("DIGEST_TOP_STORIES", 5), 20)),
            placeholders=tuple(ignored),
            queue_max_depth=_int("QUEUE_MAX_DEPTH", 5000),
            queue_heartbeat_seconds=_int("QUEUE_HEARTBEAT_SECONDS", 60),
            summary_reaction=os.environ.get("SUMMARY_REACTION", "").strip().strip(":") or "memo",
            digest_lease_seconds=_int("DIGEST_LEASE_SECONDS", 60),
            feed_poll_minutes=max(1, _int("FEED_POLL_MINUTES", 30)),
            feed_host_gap_seconds=max(0, _int("FEED_HOST_GAP_SECONDS", 2)),
            alerts_per_hour=max(1, _int("ALERTS_PER_HOUR", 6)),
        )
        problem = settings.oauth_problem()
        if problem:
            raise SystemExit(problem)
        return settings
