"""Recent requests with their outcome, for `GET /_mock/requests` (kept per process)."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from mockserver.clock import iso


@dataclass
class Entry:
    at: datetime  # formatted when read: the request path only stores it
    method: str
    path: str
    operation_id: str | None
    status: int
    problems: list[str] = field(default_factory=list)
    key_id: str | None = None


class Journal:
    def __init__(self, size: int = 1000):
        self.entries: deque[Entry] = deque(maxlen=size)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def recent(self, limit: int) -> list[dict[str, Any]]:
        """Newest first."""
        return [{**asdict(e), "at": iso(e.at)} for e in list(self.entries)[::-1][:limit]]

    def clear(self) -> None:
        self.entries.clear()
