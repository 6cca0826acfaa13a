"""Snapshots of the whole state, so a run can leave the mock as it found it.

The contracts take one before they start against the toolkit's mock and restore it when they
end: the insights, keys, sessions and elements a run made are gone, and the demo data is back as
it was. A snapshot is a copy of the database in a file of its own, next to the database file (so
every worker can restore it), or in a temporary directory for a database in memory.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from pathlib import Path

from mockserver.store import Store

SNAPSHOT_ID = re.compile(r"^[0-9a-f]{32}$")


class Snapshots:
    def __init__(self, store: Store):
        self.store = store
        if store.db.in_memory:
            self._scratch = tempfile.TemporaryDirectory(prefix="posthog-mock-snapshots-")
            self.directory = Path(self._scratch.name)
        else:
            self.directory = Path(store.db.path).with_name(Path(store.db.path).name + ".snapshots")

    def take(self) -> str:
        snapshot = uuid.uuid4().hex
        self.directory.mkdir(parents=True, exist_ok=True)
        self.store.db.save_copy(self._file(snapshot))
        return snapshot

    def restore(self, snapshot: str) -> bool:
        """False when there is no such snapshot."""
        path = self._file(snapshot)
        if path is None or not path.exists():
            return False
        self.store.db.restore_copy(path)
        return True

    def drop(self, snapshot: str) -> bool:
        path = self._file(snapshot)
        if path is None or not path.exists():
            return False
        path.unlink()
        return True

    def _file(self, snapshot: str) -> Path | None:
        return self.directory / f"{snapshot}.sqlite3" if SNAPSHOT_ID.match(snapshot) else None
