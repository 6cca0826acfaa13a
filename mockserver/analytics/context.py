"""What every query runner starts from: one environment's events up to now, filtered as asked.

A runner names the events it wants (a series, a funnel step), the date range and the query's
property filters; `events_sql` gives the FROM/WHERE for them, the persons joined when a filter
or breakdown reads person properties. Events later than the mock's now exist (the demo stream
runs to the end of today) and are never read.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import duckdb
import numpy as np

from mockserver.analytics import properties
from mockserver.analytics.properties import QueryError, Sql
from mockserver.analytics.ranges import aware, naive
from mockserver.analytics.timeline import Timeline

EPOCH, MICROSECOND = datetime(1970, 1, 1, tzinfo=timezone.utc), timedelta(microseconds=1)


@dataclass
class Context:
    cursor: duckdb.DuckDBPyConnection
    team_id: int
    now: datetime
    week_start_day: int | None
    test_account_filters: list[dict[str, Any]]
    timeline: Timeline  # the same events in person order, for the walks that follow a person

    def events_sql(self, sql: Sql, *, start: datetime | None, end: datetime | None, event: Any = "*",
                   filters: tuple[Any, ...] = (), filter_test_accounts: bool = False, persons: bool = False,
                   events: list[str | None] | None = None, lenient: bool = False) -> str:
        """FROM and WHERE over the environment's events in [start, end] (and not after now).

        `event` is one event name, None for all events, or "*" for no condition on the name;
        `events` a list of names to choose among (None among them: any event). `lenient` leaves
        out filters the engine cannot apply (see properties.where).
        """
        groups = [*filters, *([self.test_account_filters] if filter_test_accounts else [])]
        join = persons  # person filters are semi-joins of their own: only breakdowns need the persons joined
        conditions = [f"e.team_id = {sql.value(self.team_id)}", f"e.timestamp <= {sql.value(naive(self.now))}"]
        if start is not None:
            conditions.append(f"e.timestamp >= {sql.value(naive(start))}")
        if end is not None:
            conditions.append(f"e.timestamp <= {sql.value(naive(end))}")
        if events is not None:
            if None not in events:
                conditions.append(f"e.event IN ({', '.join(sql.value(name) for name in events)})" if events else "FALSE")
        elif event != "*" and event is not None:
            conditions.append(f"e.event = {sql.value(event)}")
        conditions.append(properties.where(sql, *groups, lenient=lenient))
        joined = " LEFT JOIN persons p ON p.person_id = e.person_id" if join else ""
        return f"FROM events e{joined} WHERE " + " AND ".join(conditions)

    def span_us(self, start: datetime | None, end: datetime | None) -> tuple[int, int]:
        """The times events_sql reads for [start, end], as epoch microseconds (the timeline's)."""
        last = min(self.now, end) if end is not None else self.now
        first = (start - EPOCH) // MICROSECOND if start is not None else np.iinfo(np.int64).min
        return first, (last - EPOCH) // MICROSECOND

    def earliest(self, event: str | None = None) -> datetime | None:
        """The environment's first event (of `event`, when named) after 1980, for `date_from: all`."""
        sql = Sql()
        name = f" AND event = {sql.value(event)}" if event is not None else ""
        row = self.cursor.execute(f"SELECT min(timestamp) FROM events WHERE team_id = {sql.value(self.team_id)}"
                                  f" AND timestamp > TIMESTAMP '1980-01-01'{name}", sql.parameters).fetchone()
        return aware(row[0]) if row and row[0] else None

    def rows(self, text: str, sql: Sql) -> list[tuple]:
        with _query_errors():
            return self.cursor.execute(text, sql.parameters).fetchall()

    def columns(self, text: str, sql: Sql) -> dict[str, np.ndarray]:
        """The answer as numpy arrays by column name (for the runners that go on in numpy)."""
        with _query_errors():
            return self.cursor.execute(text, sql.parameters).fetchnumpy()


@contextmanager
def _query_errors() -> Iterator[None]:
    try:
        yield
    except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.OutOfRangeException) as problem:
        # a regex that does not compile, a value out of a type's range: the query's own values
        raise QueryError(f"The query could not run: {str(problem).splitlines()[0]}")


def series_event(node: dict[str, Any]) -> str | None:
    """The event an EventsNode counts (None: all events); other nodes are not supported."""
    kind = node.get("kind", "EventsNode")
    if kind == "EventsNode":
        event = node.get("event")
        if event is not None and not isinstance(event, str):
            raise QueryError("An EventsNode's event must be an event name or null.")
        return event
    if kind == "ActionsNode":
        raise QueryError("Actions are not supported by the mock: use an EventsNode series.")
    raise QueryError(f"Series of kind {kind} are not supported by the mock.")


def series_label(node: dict[str, Any]) -> str:
    event = node.get("event")
    return node.get("custom_name") or node.get("name") or (event if event is not None else "All events")
