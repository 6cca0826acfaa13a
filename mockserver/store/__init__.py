"""The mock's state over SQLite: one Store per process, repositories by domain.

Heavy reads may run off the event loop, each worker thread on a read-only connection of its own
(`reader()`), so the loop's connection keeps serving other requests meanwhile (WAL lets readers
run beside a writer). A database in memory has no second connection: its reads stay on the loop.
"""

from __future__ import annotations

import threading

from mockserver.store.accounts import Accounts
from mockserver.store.activity import Activity
from mockserver.store.database import Database
from mockserver.store.elements import Elements
from mockserver.store.events import Events
from mockserver.store.insights import Insights
from mockserver.store.results import Results


class Store:
    def __init__(self, db: Database):
        self.db = db
        self.accounts = Accounts(db)
        self.insights = Insights(db)
        self.activity = Activity(db)
        self.elements = Elements(db)
        self.events = Events(db)
        self.results = Results(db)
        self._readers = threading.local()

    @property
    def can_read_elsewhere(self) -> bool:
        """Whether another connection sees this store's data (a file does; memory does not)."""
        return not self.db.in_memory

    def reader(self) -> "Store":
        """This store over a read-only connection of the calling thread, opened on first use."""
        store = getattr(self._readers, "store", None)
        if store is None:
            store = self._readers.store = Store(Database(self.db.path, read_only=True))
        return store

    @classmethod
    def open(cls, path: str, *, reset: bool = False) -> "Store":
        return cls(Database.open(path, reset=reset))

    def transaction(self, *, write: bool = False):
        return self.db.transaction(write=write)
