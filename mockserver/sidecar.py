"""The workbench's own database, beside the state's: the request journal and the fault rules.

Every worker opens the same file (`<db>.workbench` next to the state's database), so the journal
and the fault rules are one for all workers. It is a second SQLite file rather than tables in the
state's, on purpose: every commit to the state's file tells each worker's memo that the data may
have changed (PRAGMA data_version, see memo.py), and snapshots, exports and resets copy the state's
tables; a journal written on every request belongs in neither. With `--db :memory:` it is in
memory too (one process). Losing its last writes in a crash costs nothing, so it syncs lazily.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SUFFIX = ".workbench"

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL DEFAULT '',
    operation_id TEXT,
    status INTEGER NOT NULL,
    duration_ms REAL NOT NULL DEFAULT 0,
    caller TEXT,
    key_id TEXT,
    problems TEXT NOT NULL DEFAULT '[]',      -- JSON array
    fault TEXT,                               -- JSON object: the injected fault, if any
    request_type TEXT,
    request_body INTEGER REFERENCES journal_bodies (id),   -- NULL: no body
    response_type TEXT,
    response_body INTEGER REFERENCES journal_bodies (id),
    worker INTEGER
);
CREATE TABLE IF NOT EXISTS journal_bodies (   -- each distinct body once: a remembered answer repeats the same bytes
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    digest TEXT NOT NULL UNIQUE,
    body BLOB NOT NULL,                       -- the first MAX_BODY bytes, keys masked
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS fault_rules (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,    -- the order rules were added in, the order they apply in
    id TEXT NOT NULL UNIQUE,
    rule TEXT NOT NULL,                       -- JSON: match, effect, probability, source
    remaining INTEGER,                        -- NULL: every time; else the answers it still changes
    hits INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO versions VALUES ('faults', 0);
"""
SCHEMA_VERSION = 3  # 2: bodies in journal_bodies; 3: no index by status (a filter over `size` rows needs none,
# every write paid for it); an older journal is dropped (it is a log, not state)


def path_for(db_path: str) -> str:
    """Where the workbench database of a state database lives (`:memory:` for one in memory)."""
    if db_path == ":memory:":
        return ":memory:"
    return str(Path(db_path).with_name(Path(db_path).name + SUFFIX))


def remove(db_path: str) -> None:
    """Delete the workbench database of a state database (with `--reset`)."""
    if db_path != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(path_for(db_path) + suffix).unlink(missing_ok=True)


def connect(db_path: str) -> sqlite3.Connection:
    """A connection of this process to the workbench database of the state at `db_path`."""
    path = path_for(db_path)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA busy_timeout = 10000")
    if path != ":memory:":
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = OFF")
    # One script (executescript commits whatever is open first); an older journal is dropped, not migrated.
    connection.executescript(
        "BEGIN IMMEDIATE;\n"
        + ("DROP TABLE IF EXISTS journal;\n" if connection.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION else "")
        + f"{SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;")
    return connection
