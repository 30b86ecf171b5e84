"""The pure domain of Policy Digest: no Slack, Redis, scheduler or network I/O here."""
