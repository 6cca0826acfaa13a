"""The SQLite connection: one per process, one transaction per request.

A file database is shared by uvicorn workers (WAL journal, a busy timeout so writers queue
rather than fail); `:memory:` is private to one process and gone when it ends.
"""

from __future__ import annotations

import contextlib
import sqlite3
from importlib import resources
from pathlib import Path
from urllib.parse import quote
from typing import Any, Iterable, Iterator, Sequence

from mockserver.store import search, stamps

SCHEMA_VERSION = "6"
# Tables written by triggers from others (schema.sql, store/search.py), never copied as they are.
DERIVED_TABLES = ("insight_counts", *search.INDEX_TABLES, *stamps.TABLES)
# How to bring an older schema up to date, by the version it holds; each step ends one version on.
MIGRATIONS = {
    "2": search.SCHEMA + search.BACKFILL,  # the trigram index of similar search
    # The demo's click events are generated now, not stored; stored events get persons and projects.
    "3": """
DROP TABLE events;
CREATE TABLE persons (id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id), distinct_id TEXT NOT NULL,
                      properties TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, UNIQUE (project_id, distinct_id));
CREATE TABLE events (id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),
                     team_id INTEGER NOT NULL REFERENCES teams(id), event TEXT NOT NULL, timestamp TEXT NOT NULL,
                     distinct_id TEXT NOT NULL, properties TEXT NOT NULL DEFAULT '{}', elements_chain TEXT);
INSERT OR REPLACE INTO meta (key, value) SELECT 'demo_streams', '[1, 2, 4]' WHERE EXISTS (SELECT 1 FROM insights);
CREATE TABLE query_results (team_id INTEGER NOT NULL REFERENCES teams(id), cache_key TEXT NOT NULL, response TEXT NOT NULL,
                            PRIMARY KEY (team_id, cache_key));
CREATE TABLE query_runs (team_id INTEGER NOT NULL REFERENCES teams(id), id TEXT NOT NULL, cache_key TEXT NOT NULL,
                         status TEXT NOT NULL, PRIMARY KEY (team_id, id));
""",
    "4": stamps.SCHEMA + stamps.BACKFILL,  # rows rendered once, kept under their stamp (fragments.py)
    # A rename marks the insight stale in the search index, not re-indexed at once; keys and memberships
    # follow the accounts' stamp, so the account caches outlive writes to insights.
    "5": search.LAZY_RENAMES + stamps.KEYS_AND_MEMBERSHIPS,
}


class SchemaMismatch(RuntimeError):
    """The database file was written by another version of the mock."""


class Database:
    def __init__(self, path: str, *, read_only: bool = False):
        self.path = path
        if read_only:
            uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
            self.connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        else:
            self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.row_factory = sqlite3.Row
        search.register(self.connection)
        self.connection.execute("PRAGMA foreign_keys = ON")
        self.connection.execute("PRAGMA busy_timeout = 10000")
        if not self.in_memory and not read_only:
            self.connection.execute("PRAGMA journal_mode = WAL")
            self.connection.execute("PRAGMA synchronous = NORMAL")
        self._depth = 0
        self._data_version = self.scalar("PRAGMA data_version")
        self.generation = 0  # advances whenever the data may have changed; caches compare it
        self.rollbacks = 0  # what was read inside a transaction rolled back may never have been

    @property
    def in_memory(self) -> bool:
        return self.path == ":memory:"

    def notice_other_writers(self) -> None:
        """Advance the generation if another connection (a worker) committed since the last look."""
        version = self.connection.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._data_version = version
            self.generation += 1

    @classmethod
    def open(cls, path: str, *, reset: bool = False) -> "Database":
        """Open (and with `reset`, first delete) the database file, creating the schema if new."""
        if reset and path != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
        db = cls(path)
        db.ensure_schema()
        return db

    def is_empty(self) -> bool:
        return self.scalar("SELECT COUNT(*) FROM organizations") == 0

    def ensure_schema(self) -> None:
        has_meta = self.scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
        if not has_meta:
            # executescript commits whatever is open first, so the script brings its own transaction.
            self.connection.executescript(
                f"BEGIN IMMEDIATE;\n{_schema_sql()}\n{search.SCHEMA}\n{stamps.SCHEMA}\n{stamps.BACKFILL}\n"
                f"INSERT INTO meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}');\nCOMMIT;"
            )
            return
        version = self.scalar("SELECT value FROM meta WHERE key = 'schema_version'")
        while version in MIGRATIONS:
            following = str(int(version) + 1)
            self.connection.executescript(
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[version]}\n"
                f"UPDATE meta SET value = '{following}' WHERE key = 'schema_version';\nCOMMIT;"
            )
            version = following
        if version != SCHEMA_VERSION:
            raise SchemaMismatch(
                f"{self.path} holds schema version {version}, this mock needs {SCHEMA_VERSION}; start with --reset"
            )

    def load_from(self, source: sqlite3.Connection) -> None:
        """Replace every row with another database's (SQLite's backup API). A write, like any other:
        what was remembered of the old data is forgotten."""
        source.backup(self.connection)
        self.generation += 1

    def clear(self) -> None:
        """Delete every row (the schema stays); used to go back to the seed."""
        with self.transaction(write=True):
            self.execute("PRAGMA defer_foreign_keys = ON")
            for table in self._data_tables():
                self.execute(f'DELETE FROM "{table}"')

    def save_copy(self, path: Path) -> None:
        """A copy of every row in a file of its own (SQLite's backup API), to restore later."""
        with contextlib.closing(sqlite3.connect(path)) as copy:
            self.connection.backup(copy)

    def restore_copy(self, path: Path) -> None:
        """Every row replaced with those of a copy, in one transaction: another worker reading
        meanwhile sees the state before or after, never between. What triggers keep (the search
        index, the insight counts) follows the insights, and the counts are then made exact."""
        self.execute("ATTACH DATABASE ? AS copy", (str(path),))
        try:
            with self.transaction(write=True):
                self.execute("PRAGMA defer_foreign_keys = ON")
                tables = [t for t in self._data_tables() if t not in DERIVED_TABLES]
                for table in tables:
                    self.execute(f'DELETE FROM main."{table}"')
                for table in tables:
                    self.execute(f'INSERT INTO main."{table}" SELECT * FROM copy."{table}"')
                self.execute("DELETE FROM main.meta WHERE key != 'schema_version'")
                self.execute("INSERT INTO main.meta SELECT * FROM copy.meta WHERE key != 'schema_version'")
                self.execute("DELETE FROM insight_counts")
                self.execute("INSERT INTO insight_counts SELECT project_id, deleted, saved, COUNT(*) FROM insights"
                             " GROUP BY project_id, deleted, saved")
        finally:
            self.execute("DETACH DATABASE copy")

    def _data_tables(self) -> list[str]:
        """The tables holding the mock's state (and the FTS tables; their shadow tables are their own)."""
        return [r[0] for r in self.query(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'virtual')"
            " AND name != 'meta' AND name NOT LIKE 'sqlite_%'")]

    @contextlib.contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[None]:
        """One transaction; nested calls join the outer one. Writers take the lock up front."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.connection.execute("ROLLBACK")
            self.generation += 1
            self.rollbacks += 1
            raise
        self._depth = 0
        self.connection.execute("COMMIT")
        if write:
            self.generation += 1

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.connection.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.connection.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.connection.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        return self.connection.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.connection.execute(sql, params).fetchone()
        return row[0] if row else None

    def insert_row(self, table: str, values: dict[str, Any]) -> int:
        """INSERT one row; the column names come from our own field lists, never from a request."""
        names = ", ".join(f'"{c}"' for c in values)
        cursor = self.connection.execute(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(values))})", list(values.values()))
        return cursor.lastrowid  # type: ignore[return-value]

    def insert_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        """INSERT many rows with the same columns (those of the first row) in one statement."""
        if not rows:
            return
        columns = list(rows[0])
        names = ", ".join(f'"{c}"' for c in columns)
        self.connection.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})",
            [[row[c] for c in columns] for row in rows],
        )

    def update_row(self, table: str, row_id: int, values: dict[str, Any]) -> None:
        """UPDATE the named columns of one row by id; nothing to do when no column is named."""
        if values:
            assignments = ", ".join(f'"{c}" = ?' for c in values)
            self.connection.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", [*values.values(), row_id])

    def close(self) -> None:
        self.connection.close()


def _schema_sql() -> str:
    return resources.files("mockserver.store").joinpath("schema.sql").read_text(encoding="utf-8")
