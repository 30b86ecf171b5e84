"""One bootstrap for every entry point (web, worker, clock, socket, shell, CLI): settings →
Redis (real or embedded) → the composed objects, each given its dependencies → logging, once.

    stores ─┬─ taxonomies ─ summarizer (cache → fetch → extract → analyze)
            ├─ shares (ShareFlow: messages, deletions, reactions, Home)   ─┐
            │    message_shares (a reacted/button-shared message), feedback │
            ├─ builder (DigestBuilder) ─ poster (DigestPoster + ledger)  ─┼─ commands (/digest)
            ├─ sweeper (Sweeper: the clock's pass, pruning)               │
            ├─ feeds (FeedKit: follows, polls, items, alerts; bot.feeds)  ─┤
            └─ jobs (JobQueue, Dramatiq) ── job_table(shares, commands) ──┘
    workspaces (Workspaces: a workspace's Web API client: SLACK_BOT_TOKEN or the installations)
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from bot.config import Settings
from bot.delivery.builder import DigestBuilder
from bot.delivery.poster import DigestPoster
from bot.delivery.sweeper import Sweeper
from bot.feeds.wiring import FeedKit, build_feed_kit
from bot.fetch.extracting import shared_extractor
from bot.fetch.fetcher import Fetcher
from bot.flows.commands import Commands
from bot.flows.message_share import MessageShares
from bot.flows.sharing import ShareFlow
from bot.flows.summarizer import Summarizer, Taxonomies
from bot.flows.tag_feedback import TagFeedback
from bot.flows.workspace_home import WorkspaceHome
from bot.jobs.queue import JobQueue
from bot.jobs.tasks import job_table
from bot.slack.deps import Deps
from bot.slack.workspaces import Workspaces
from bot.storage.embedded import EmbeddedServer
from bot.storage.store import Stores, connect
from digests.chart import render_chart
from digests.models import Article

log = logging.getLogger(__name__)

_logging_done = False


def setup_logging(settings: Settings, *, quiet_default: bool = False) -> None:
    """Once per process; CLI commands default to WARNING unless ``LOG_LEVEL`` is set."""
    global _logging_done
    if _logging_done:
        return
    _logging_done = True
    explicit = os.environ.get("LOG_LEVEL")
    level = settings.log_level if explicit or not quiet_default else "WARNING"
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def redis_url_for(settings: Settings, *, local: bool) -> str:
    """``REDIS_URL`` when set; in local modes the embedded server under ``DATA_DIR``."""
    if settings.redis_url:
        return settings.redis_url
    if not local:
        raise SystemExit("REDIS_URL is required for the web, worker and clock processes.")
    return EmbeddedServer(settings.data_dir).start()


@dataclass
class Hooks:
    """What tests (and the shell) inject instead of patching classes."""

    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    owner_id: str | None = None
    post_interval: float = 1.0
    lease_ms: int | None = None  # default: DIGEST_LEASE_SECONDS
    draw_chart: Callable[..., bytes | None] = render_chart
    fetcher: Fetcher | None = None
    workspaces: Workspaces | None = None
    extractor: Callable[..., Article] | None = None


@dataclass
class Bot:
    """Everything one process runs, wired once."""

    settings: Settings
    stores: Stores
    workspaces: Workspaces
    summarizer: Summarizer
    taxonomies: Taxonomies
    shares: ShareFlow
    builder: DigestBuilder
    poster: DigestPoster
    sweeper: Sweeper
    commands: Commands
    feedback: TagFeedback
    jobs: JobQueue | None = None
    redis: redis.Redis | None = field(default=None, repr=False)
    feeds: FeedKit | None = None  # followed feeds and alerts (not in the CLI)

    def serve_jobs(self, threads: int | None = None, *, poll_ms: int = 1000) -> None:
        """Run a worker in this process on the shared queue (worker process, local modes)."""
        assert self.jobs is not None
        self.jobs.start_worker(threads or self.settings.workers, poll_ms=poll_ms)

    def deps(self) -> Deps:
        """What the Slack listeners get (they only enqueue)."""
        assert self.jobs is not None
        return Deps(self.jobs, self.stores, self.workspaces,
                    reaction=self.settings.summary_reaction,
                    topic_choices=self.feedback.choices)  # fmt: skip

    def close(self) -> None:
        if self.jobs is not None:
            self.jobs.close()


def compose(
    settings: Settings,
    client: redis.Redis | None,
    *,
    redis_url: str | None = None,
    cli: bool = False,
    hooks: Hooks | None = None,
) -> Bot:
    """The objects, given their dependencies; ``redis_url`` (the queue's Redis) adds the job
    queue."""
    hooks = hooks or Hooks()
    stores = Stores(client, cli=cli)
    workspaces = hooks.workspaces or Workspaces.from_settings(settings, client)
    fetcher = hooks.fetcher or Fetcher(allow_private=settings.fetch_allow_private)
    taxonomies = Taxonomies(settings, stores)
    # Extraction workers are processes: one set per process, shared by every compose().
    extractor = hooks.extractor or shared_extractor()
    summarizer = Summarizer(settings, stores, fetcher, taxonomies, extractor)
    home = WorkspaceHome(stores, taxonomies, clock=hooks.clock)
    shares = ShareFlow(settings, stores, summarizer, workspaces, clock=hooks.clock, home=home)
    message_shares = MessageShares(stores, shares, workspaces, settings.summary_reaction)
    feedback = TagFeedback(stores, workspaces, taxonomies)
    builder = DigestBuilder(stores, taxonomies, top_stories=settings.digest_top_stories)
    poster = DigestPoster(stores, workspaces, owner_id=hooks.owner_id, sleep=hooks.sleep,
                          post_interval=hooks.post_interval,
                          lease_ms=hooks.lease_ms or settings.digest_lease_seconds * 1000,
                          draw_chart=hooks.draw_chart)  # fmt: skip
    sweeper = Sweeper(stores, builder, poster, retention_days=settings.retention_days,
                      clock=hooks.clock)  # fmt: skip
    commands = Commands(settings, stores, summarizer, taxonomies, shares, builder, poster,
                        clock=hooks.clock)  # fmt: skip
    jobs = None
    if redis_url:
        jobs = JobQueue(redis_url, max_depth=settings.queue_max_depth,
                        heartbeat_seconds=settings.queue_heartbeat_seconds)  # fmt: skip
    feeds = None
    if client is not None and not cli:
        feeds = build_feed_kit(
            settings, client, store_for=stores.for_team, fetcher=fetcher,
            taxonomy_for=taxonomies.for_team, client_for=workspaces.client_for,
            require_admin=commands._require_admin, audit=commands._audit,
            enqueue=jobs.enqueue if jobs else None, clock=hooks.clock,
        )  # fmt: skip
        commands.table.update(feeds.commands.table())
        shares.after_save = feeds.alert_on_share
        home.feeds = feeds.store.home_feeds
    if jobs is not None:
        table = job_table(shares, commands, workspaces, message_shares, feedback)
        jobs.serve({**table, **(feeds.jobs() if feeds else {})})
    return Bot(settings, stores, workspaces, summarizer, taxonomies, shares, builder, poster,
               sweeper, commands, feedback, jobs, client, feeds)  # fmt: skip


def build(settings: Settings, *, local: bool, hooks: Hooks | None = None) -> Bot:
    """A process's ``Bot`` on ``REDIS_URL`` (or, in local modes, the embedded store)."""
    setup_logging(settings)
    url = redis_url_for(settings, local=local)
    queue_url = settings.queue_redis_url or url
    bot = compose(settings, connect(url), redis_url=queue_url, hooks=hooks)
    bot.stores.build_indexes()
    return bot


def build_cli(settings: Settings, *, no_cache: bool) -> Bot:
    """The CLI caches under ``pd:cli:`` only when ``REDIS_URL`` is set; it never shares."""
    setup_logging(settings, quiet_default=True)
    client = None
    if settings.redis_url and not no_cache:
        client = connect(settings.redis_url, timeout=2.0)
    return compose(settings, client, cli=True)
