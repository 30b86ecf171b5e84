"""One error type for bad input, carrying the slug that the CLI and JSON output use (§4)."""

from __future__ import annotations


class InputError(Exception):
    """Input we refuse, with a stable ``code`` slug and a friendly one-line ``message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
