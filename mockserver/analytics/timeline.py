"""Every environment's events in person and time order, for the walks that follow one person
through their events (the ordered funnel).

DuckDB keeps the events in time order, so a date range skips most of them; a funnel wants them
by person, and sorting the half million events of a 30-day funnel on every query cost more than
the rest of the funnel. So the engine sorts once, when it builds, and a query either scatters the
rows DuckDB selected (by rowid) into this order, which costs one pass instead of a sort, or, when
it filters on nothing but event names and time, picks its rows here without asking DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

EMPTY = np.zeros(0, dtype=np.int64)


# The unsigned integers a row's steps are held in (bit k: step k), smallest first, with DuckDB's name for each.
STEP_TYPES = {np.uint8: "UTINYINT", np.uint16: "USMALLINT", np.uint32: "UINTEGER", np.uint64: "UBIGINT"}
MAX_STEPS = 64


def step_bits(steps: int) -> type[np.unsignedinteger]:
    """The smallest unsigned integer with a bit per step (the arrays of a million events are the
    funnel's cost: an eighth of the bytes to allocate and read when a funnel has up to 8 steps)."""
    return next(kind for kind in STEP_TYPES if np.iinfo(kind).bits >= steps)


@dataclass(frozen=True)
class Selection:
    """Rows a query chose, in person and time order: each one's person, time (epoch microseconds)
    and steps (bit k: the row is step k)."""

    person: np.ndarray
    us: np.ndarray
    steps: np.ndarray


@dataclass(frozen=True)
class Timeline:
    person: np.ndarray  # int64, every event by (team, person, time)
    us: np.ndarray  # int64, epoch microseconds, the same order
    event: np.ndarray  # int64, the event name's code (its place in `names`), the same order
    place: np.ndarray  # int64, by DuckDB rowid: where that row is in this order
    names: dict[str, int]
    teams: dict[int, tuple[int, int]]  # team id -> its rows [start, end)

    @classmethod
    def of(cls, database: duckdb.DuckDBPyConnection) -> "Timeline":
        """The timeline of the engine's events, once their names are an ENUM (engine.settle)."""
        if not database.execute("SELECT count(*) FROM events").fetchone()[0]:
            return cls(EMPTY, EMPTY, EMPTY, EMPTY, {}, {})
        names = [name for (name,) in database.execute("SELECT unnest(enum_range(NULL::event_name))").fetchall()]
        columns = database.execute("SELECT rowid, team_id, person_id, epoch_us(timestamp) AS us, enum_code(event) AS event"
                                   " FROM events ORDER BY team_id, person_id, timestamp").fetchnumpy()
        place = np.empty(len(columns["rowid"]), dtype=np.int64)
        place[columns["rowid"]] = np.arange(len(place))
        team_ids, starts = np.unique(columns["team_id"], return_index=True)
        ends = [*starts[1:], len(place)]
        return cls(*(np.asarray(columns[name], dtype=np.int64) for name in ("person_id", "us", "event")), place,
                   {name: code for code, name in enumerate(names)},
                   {int(team): (int(start), int(end)) for team, start, end in zip(team_ids, starts, ends)})

    def select(self, rowid: np.ndarray, steps: np.ndarray) -> Selection:
        """The rows `rowid`, each doing the steps `steps` (a row doing none is left out)."""
        scattered = np.zeros(len(self.place), dtype=steps.dtype)
        scattered[self.place[rowid]] = steps
        return self._chosen(scattered, 0)

    def of_events(self, team_id: int, steps: list[str | None], start_us: int, end_us: int) -> Selection:
        """The team's events in [start_us, end_us] with step k for an event named `steps[k]`
        (None: any event); what DuckDB would select for steps with no property filters."""
        start, end = self.teams.get(team_id, (0, 0))
        kind = step_bits(len(steps))
        bits = np.zeros(len(self.names), dtype=kind)  # per event name: the steps it does
        for k, name in enumerate(steps):
            if name is None:
                bits |= kind(1 << k)
            elif name in self.names:
                bits[self.names[name]] |= kind(1 << k)
        us = self.us[start:end]
        return self._chosen(np.where((us >= start_us) & (us <= end_us), bits[self.event[start:end]], kind(0)), start)

    def _chosen(self, steps: np.ndarray, offset: int) -> Selection:
        """The rows with steps (`steps[i]` is row offset+i's), with each person's simultaneous
        events put earlier step first, as the funnel SQL orders its keys (the UDF plays
        simultaneous events most generously)."""
        chosen = np.flatnonzero(steps != 0)  # (nonzero is several times faster over booleans)
        steps = steps[chosen]
        chosen += offset
        person, us = self.person[chosen], self.us[chosen]
        tied = (person[1:] == person[:-1]) & (us[1:] == us[:-1])
        if tied.any():
            steps = _earlier_step_first(tied, steps)
        return Selection(person, us, steps)


def _earlier_step_first(tied: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Each run of simultaneous rows of a person, reordered by the first step each does (only
    their steps move: person and time are the run's own). Runs are few, so only they are sorted."""
    in_run = np.zeros(len(steps), dtype=bool)
    in_run[:-1] |= tied
    in_run[1:] |= tied
    rows = np.flatnonzero(in_run)
    run = np.cumsum(np.concatenate(([True], ~tied[rows[:-1]])))  # rows[i] starts a run unless tied to the row before
    lowest = steps[rows] & (~steps[rows] + steps.dtype.type(1))  # the lowest bit: the first step, as a number that sorts like it
    reordered = steps.copy()
    reordered[rows] = steps[rows[np.lexsort((lowest, run))]]
    return reordered
