"""Time, from one place, so tests can freeze it: trending windows and views depend on it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def iso(moment: datetime) -> str:
    """PostHog's (DRF's) rendering of an aware datetime: ISO 8601 in UTC with a `Z`.

    Stored times are compared as text, so the year is always four digits (strftime's `%Y`
    writes year 999 as "999", which sorts after "2026").
    """
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class Clock:
    """The system clock."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FrozenClock(Clock):
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now
