"""The request journal: every API request with its outcome, one journal for all workers.

Each request is noted where the pipeline ends (5xx answers and injected faults included), with
its bodies (the first MAX_BODY bytes; personal API keys masked before anything is written; each
distinct body stored once, since a remembered answer sends the same bytes again and again), who
called, how long it took, its validation problems and the fault injected into it, if any. Entries
wait in memory and are written to the workbench database (sidecar.py) in one transaction a second
later, by a thread of the journal's own, or at once when this worker reads the journal: the
request path only appends to a bounded queue. The journal keeps the newest `size` entries, so the
queue holds no more than that either: under load, an entry that a second of newer ones has already
pushed out of the journal is never formatted or written. (A memoised read costs about as much as
writing its entry would: at four batches a second, served GET insight and page of 100 ran at
10-20% below the 2026-12-01 code; at one a second they match it, bench/README.md.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sqlite3
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, NamedTuple

from mockserver.clock import iso
from mockserver.store.accounts import mask_value

logger = logging.getLogger("mockserver")

MAX_BODY = 64 * 1024
FLUSH_DELAY_S = 1.0
KEY_PATTERN = re.compile(rb"phx_[A-Za-z0-9_\-]{8,}")
LISTED = ("id", "at", "method", "path", "query", "operation_id", "status", "duration_ms", "caller", "key_id",
          "problems", "fault", "worker")
STATUS_CLASS = re.compile(r"^[1-5]xx$")


class Entry(NamedTuple):
    """A tuple of plain values, on purpose: a waiting entry is then nothing the garbage collector
    walks (holding a thousand requests' objects until they were written slowed every request down
    by a fifth), and formatting waits until it is written."""
    at: datetime
    method: str
    path: str
    operation_id: str | None
    status: int
    problems: tuple[str, ...] = ()
    key_id: str | None = None
    query: bytes = b""
    duration_ms: float = 0.0
    caller: str | None = None
    fault: dict[str, Any] | None = None
    request_type: str | None = None
    request_body: bytes = b""
    response_type: str | None = None
    response_body: bytes = b""


class Journal:
    """`connection` reads the journal; `writer`, a second connection to the same file, writes it
    from a thread of its own, so a batch (some 10 ms for a thousand entries) never holds up the
    event loop. In memory there is one connection, and batches are written on the loop."""

    def __init__(self, connection: sqlite3.Connection, size: int = 1000, *, writer: sqlite3.Connection | None = None):
        self.connection = connection
        self.size = size
        self.worker = os.getpid()
        self._writer = writer or connection
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal") if writer is not None else None
        self._waiting: deque[Entry] = deque(maxlen=size)
        self._flush_due = False

    def add(self, entry: Entry) -> None:
        self._waiting.append(entry)
        if not self._flush_due:
            try:
                asyncio.get_running_loop().call_later(FLUSH_DELAY_S, self._write_soon)
                self._flush_due = True
            except RuntimeError:  # no event loop (a direct call): written when next read
                pass

    def flush(self) -> None:
        """Write the waiting entries now (after any batch already on its way, so ids keep their order)."""
        self._send(self._take(), wait=True)

    def _write_soon(self) -> None:
        self._send(self._take(), wait=False)

    def _send(self, batch: deque[Entry], *, wait: bool) -> None:
        """To the writer thread, if there is one; a batch nobody waits for has its failure logged."""
        if self._thread is None:
            self._write(batch)
        elif wait:
            self._thread.submit(self._write, batch).result()
        else:
            self._thread.submit(self._write, batch).add_done_callback(_log_failure)

    def _take(self) -> deque[Entry]:
        self._flush_due = False
        waiting, self._waiting = self._waiting, deque(maxlen=self.size)
        return waiting

    def _write(self, waiting: deque[Entry]) -> None:
        """Write a batch, then forget the oldest entries beyond the journal's size."""
        if not waiting:
            return
        with self._writer:
            self._writer.execute("BEGIN IMMEDIATE")
            bodies: dict[tuple[int, int], int] = {}
            rows = [self._row(entry, bodies) for entry in waiting]
            self._writer.executemany(
                "INSERT INTO journal (at, method, path, query, operation_id, status, duration_ms, caller, key_id, problems,"
                " fault, request_type, request_body, response_type, response_body, worker)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            newest = self._writer.execute("SELECT max(id) FROM journal").fetchone()[0]
            self._writer.execute("DELETE FROM journal WHERE id <= ?", (newest - self.size,))
            self._writer.execute(
                "DELETE FROM journal_bodies WHERE id NOT IN (SELECT request_body FROM journal WHERE request_body IS NOT NULL"
                " UNION ALL SELECT response_body FROM journal WHERE response_body IS NOT NULL)")

    def _body_id(self, body: bytes, bodies: dict[tuple[int, int], int]) -> int | None:
        """The stored body's id, stored now if new. Its digest is Python's hash of the bytes, which a
        bytes object keeps once computed (a remembered answer's is computed once), with this process's
        id since each process salts its hashes."""
        if not body:
            return None
        known = (hash(body), len(body))
        if known not in bodies:
            digest = f"{self.worker}:{known[0]}:{known[1]}"
            found = self._writer.execute("SELECT id FROM journal_bodies WHERE digest = ?", (digest,)).fetchone()
            bodies[known] = found[0] if found else self._writer.execute(
                "INSERT INTO journal_bodies (digest, body, size) VALUES (?, ?, ?)",
                (digest, _masked(body[:MAX_BODY]), len(body))).lastrowid
        return bodies[known]

    def recent(self, limit: int, *, status: str | None = None, operation: str | None = None,
               after: int | None = None) -> list[dict[str, Any]]:
        """Newest first, without bodies. `status` is a status (`503`) or a class (`5xx`);
        `operation` an operation id (either prefix's); `after` an entry id (what a poll has seen)."""
        self.flush()
        where, params = ["1"], []
        if status and status.isdigit():
            where.append("status = ?")
            params.append(int(status))
        elif status and STATUS_CLASS.match(status):
            where.append("status BETWEEN ? AND ?")
            params += [int(status[0]) * 100, int(status[0]) * 100 + 99]
        if operation:
            where.append("(operation_id = ? OR operation_id = 'environments_' || ?)")
            params += [operation, operation]
        if after is not None:
            where.append("id > ?")
            params.append(after)
        rows = self.connection.execute(
            f"SELECT {', '.join(LISTED)} FROM journal WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
            (*params, limit)).fetchall()
        return [_listed(row) for row in rows]

    def entry(self, entry_id: int) -> dict[str, Any] | None:
        """One entry with its bodies (as text)."""
        self.flush()
        row = self.connection.execute(
            f"SELECT {', '.join(f'j.{column}' for column in LISTED)}, j.request_type, q.body, q.size, j.response_type,"
            " a.body, a.size FROM journal j LEFT JOIN journal_bodies q ON q.id = j.request_body"
            " LEFT JOIN journal_bodies a ON a.id = j.response_body WHERE j.id = ?", (entry_id,)).fetchone()
        if row is None:
            return None
        found = _listed(row[:len(LISTED)])
        request_type, request_body, request_size, response_type, response_body, response_size = row[len(LISTED):]
        found["request"] = {"content_type": request_type, "body": _text(request_body), "size": request_size or 0,
                            "truncated": (request_size or 0) > len(request_body or b"")}
        found["response"] = {"content_type": response_type, "body": _text(response_body), "size": response_size or 0,
                             "truncated": (response_size or 0) > len(response_body or b"")}
        return found

    def clear(self) -> None:
        self._take()  # what waits is dropped,
        self.flush()  # and what is on its way lands first, to go with the rest
        self._writer.execute("DELETE FROM journal")
        self._writer.execute("DELETE FROM journal_bodies")

    def _row(self, e: Entry, bodies: dict[tuple[int, int], int]) -> tuple[Any, ...]:
        return (
            iso(e.at), e.method, e.path, _masked(e.query).decode("latin-1"), e.operation_id, e.status,
            round(e.duration_ms, 3), e.caller, e.key_id, json.dumps(e.problems) if e.problems else "[]",
            json.dumps(e.fault) if e.fault is not None else None,
            e.request_type, self._body_id(e.request_body, bodies), e.response_type, self._body_id(e.response_body, bodies),
            self.worker,
        )


def _log_failure(written: Future[None]) -> None:
    if written.exception() is not None:
        logger.error("the request journal could not write a batch", exc_info=written.exception())


def _masked(raw: bytes) -> bytes:
    """Personal API keys shown as PostHog shows them (`phx_...AbCd`), never whole."""
    if b"phx_" not in raw:
        return raw
    return KEY_PATTERN.sub(lambda found: mask_value(found.group().decode()).encode(), raw)


def _listed(row: tuple[Any, ...]) -> dict[str, Any]:
    entry = dict(zip(LISTED, row))
    entry["problems"] = json.loads(entry["problems"])
    entry["fault"] = json.loads(entry["fault"]) if entry["fault"] else None
    return entry


def _text(body: bytes | None) -> str:
    return (body or b"").decode("utf-8", errors="replace")
