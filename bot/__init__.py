"""Everything that touches the outside world: config, Redis, fetching, Slack wiring, the CLI."""
