"""What a user asked to summarize, before it is fetched or read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Source:
    """A URL, raw HTML (with the URL it came from, if known) or pasted text."""

    kind: str  # "url" | "html" | "text"
    value: str | bytes
    title: str = ""
    url: str | None = None

    @property
    def text(self) -> str:
        return (
            self.value.decode("utf-8", "replace") if isinstance(self.value, bytes) else self.value
        )

    @property
    def label(self) -> str:
        """How progress messages name it: the link, or the opening words of the text."""
        if self.kind == "url":
            return self.text
        words = " ".join(self.text.split()[:8])
        return self.title or (f"“{words}…”" if words else "your text")
