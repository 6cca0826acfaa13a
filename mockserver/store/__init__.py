"""The mock's state over SQLite: one Store per process, repositories by domain."""

from __future__ import annotations

from mockserver.store.accounts import Accounts
from mockserver.store.activity import Activity
from mockserver.store.database import Database
from mockserver.store.elements import Elements
from mockserver.store.insights import Insights


class Store:
    def __init__(self, db: Database):
        self.db = db
        self.accounts = Accounts(db)
        self.insights = Insights(db)
        self.activity = Activity(db)
        self.elements = Elements(db)

    @classmethod
    def open(cls, path: str, *, reset: bool = False) -> "Store":
        return cls(Database.open(path, reset=reset))

    def transaction(self, *, write: bool = False):
        return self.db.transaction(write=write)
