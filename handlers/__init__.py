"""Thin Slack listeners, one module per kind; each exposes ``register(app)``.

Listeners get the services object from Bolt's ``context`` (a middleware in ``bot.slack.app`` puts it
there), so they stay plain module-level functions declaring only the arguments they use.
"""
