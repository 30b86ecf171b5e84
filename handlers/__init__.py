"""Thin Slack listeners, one module per kind; each exposes ``register(app)``.

Listeners are plain module-level functions declaring only the arguments they use. They ack,
then enqueue a job through ``deps_of(context)`` (``bot.slack.deps.Deps``); a worker does the
rest. They never touch Redis, the fetcher or the flows directly.
"""
