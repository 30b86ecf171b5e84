"""What a user asked to summarize, before it is fetched or read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SourceKind(StrEnum):
    URL = "url"
    HTML = "html"
    TEXT = "text"


@dataclass
class Source:
    """A URL, raw HTML (with the URL it came from, if known) or pasted text."""

    kind: SourceKind
    value: str | bytes
    title: str = ""
    url: str | None = None

    def __post_init__(self) -> None:
        self.kind = SourceKind(self.kind)

    @property
    def text(self) -> str:
        return (
            self.value.decode("utf-8", "replace") if isinstance(self.value, bytes) else self.value
        )

    @property
    def label(self) -> str:
        """How progress messages name it: the link, or the opening words of the text."""
        if self.kind is SourceKind.URL:
            return self.text
        words = " ".join(self.text.split()[:8])
        return self.title or (f"“{words}…”" if words else "your text")
