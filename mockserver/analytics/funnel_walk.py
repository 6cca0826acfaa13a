"""The ordered funnel as PostHog's UDF walks it, for every person at once (numpy, over a timeline
selection): what `funnels.py` asks for an ordered funnel without breakdown or exclusions, the
funnel frontends draw most.

The UDF (aggregate_funnel, steps.rs) keeps per step the entry time of the latest attempt that got
there. An event doing step k moves the attempt at step k-1 on to k when the event is within the
window of that attempt's entry and the attempt has not moved on to k already; every step-1 event
is a new attempt. So the attempts at step k change only at step-k events, and they are: for each
step-k event, the latest attempt at step k-1 strictly before it (same person, within the window),
the first such event only for each entry (entries only grow, so "not moved on already" means "the
entry differs from the one before"). Each step is a few passes over the rows, whatever the persons.

A person's result is their furthest step and the attempt that got there first, as the UDF keeps
it; its times are the step times of that attempt, traced back step by step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mockserver.analytics.timeline import EMPTY, Selection


@dataclass(frozen=True)
class Walked:
    reached: np.ndarray  # per person who entered (a step-1 event): how many steps they got through
    times: np.ma.MaskedArray  # (steps, persons): epoch microseconds of each step reached, masked past `reached`


@dataclass(frozen=True)
class _Attempts:
    """The attempts at one step: the rows where they moved on to it, whose they are, when they
    entered, and (from step 2) which attempt of the step before each one was."""

    at: np.ndarray
    owner: np.ndarray
    entry: np.ndarray
    back: np.ndarray


def walk(selection: Selection, steps: int, window_us: int) -> Walked:
    person, us = selection.person, selection.us
    at = _doing(selection, 0)
    attempts = _Attempts(at, person[at], us[at], EMPTY)  # every step-1 event enters
    levels = [attempts]
    for k in range(1, steps):
        if not len(attempts.at):
            break
        candidates = _doing(selection, k)
        marks = np.zeros(len(us), dtype=np.int64)
        marks[attempts.at] = 1
        before = np.cumsum(marks)[candidates] - marks[candidates] - 1  # the latest attempt strictly before
        before_any = np.maximum(before, 0)
        owner = person[candidates]
        moves = ((before >= 0) & (attempts.owner[before_any] == owner)
                 & (us[candidates] - attempts.entry[before_any] <= window_us))
        candidates, owner, before = candidates[moves], owner[moves], before[moves]
        entries = attempts.entry[before]
        first = np.ones(len(candidates), dtype=bool)
        first[1:] = (entries[1:] != entries[:-1]) | (owner[1:] != owner[:-1])
        attempts = _Attempts(candidates[first], owner[first], entries[first], before[first])
        levels.append(attempts)
    return _furthest(us, levels, steps)


def _furthest(us: np.ndarray, levels: list[_Attempts], steps: int) -> Walked:
    """Each person's furthest step and the times of the first attempt that reached it."""
    entrances = np.flatnonzero(_run_starts(levels[0].owner))  # each person's first attempt
    persons = levels[0].owner[entrances]
    reached = np.zeros(len(persons), dtype=np.int64)
    times = np.zeros((steps, len(persons)), dtype=np.int64)
    for k in reversed(range(len(levels))):
        firsts = entrances if k == 0 else np.flatnonzero(_run_starts(levels[k].owner))
        who = np.searchsorted(persons, levels[k].owner[firsts])
        fresh = reached[who] == 0
        who, attempt = who[fresh], firsts[fresh]
        reached[who] = k + 1
        for j in range(k, -1, -1):
            times[j, who] = us[levels[j].at[attempt]]
            if j:
                attempt = levels[j].back[attempt]
    masked = np.arange(steps)[:, None] >= reached[None, :]
    return Walked(reached, np.ma.masked_array(times, mask=masked))


def _doing(selection: Selection, step: int) -> np.ndarray:
    """The rows that do `step` (nonzero is several times faster over booleans than over integers)."""
    return np.flatnonzero((selection.steps & selection.steps.dtype.type(1 << step)) != 0)


def _run_starts(values: np.ndarray) -> np.ndarray:
    starts = np.ones(len(values), dtype=bool)
    starts[1:] = values[1:] != values[:-1]
    return starts
