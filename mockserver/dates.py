"""Date filters as PostHog reads them: absolute dates, date-times, or `-7d`-style relative dates."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from mockserver.clock import iso

RELATIVE = re.compile(r"^-(?P<amount>[0-9]+)(?P<unit>[hdwmqy])(?P<edge>Start|End)?$")
EARLIEST = datetime(1, 1, 2, tzinfo=timezone.utc)
LATEST = datetime(9999, 12, 30, tzinfo=timezone.utc)


def parse(value: str, now: datetime) -> datetime | None:
    """A moment in UTC, or None for `all` (no bound). Values far out of range are clamped.

    Relative days, weeks, months, quarters and years start at midnight (relative_date_parse);
    hours keep the time; `Start`/`End` snap to the start or end of that month or year.
    """
    if value == "all":
        return None
    found = RELATIVE.match(value)
    if found:
        return _relative(int(found["amount"]), found["unit"], found["edge"], now)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = datetime.combine(date.fromisoformat(value), time(), tzinfo=timezone.utc)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # hours from year 1 or 9999 with an offset: before or after anything stored
        return EARLIEST if moment.year == 1 else LATEST


def parse_iso(value: str, now: datetime) -> str | None:
    moment = parse(value, now)
    return iso(moment) if moment is not None else None


def _relative(amount: int, unit: str, edge: str | None, now: datetime) -> datetime:
    try:
        if unit == "h":
            return now - timedelta(hours=amount)
        if unit in ("d", "w"):
            moment = now - timedelta(days=amount * (7 if unit == "w" else 1))
        else:
            months = amount * {"m": 1, "q": 3, "y": 12}[unit]
            year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
            if year < 1:
                return EARLIEST
            moment = now.replace(year=year, month=month + 1, day=min(now.day, 28))
            if edge == "Start":
                moment = moment.replace(day=1) if unit != "y" else moment.replace(month=1, day=1)
            elif edge == "End":
                moment = _end_of(moment, unit)
                return moment
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    except (OverflowError, ValueError):
        return EARLIEST


def _end_of(moment: datetime, unit: str) -> datetime:
    if unit == "y":
        return moment.replace(month=12, day=31, hour=23, minute=59, second=59, microsecond=999999)
    following = (moment.replace(day=1) + timedelta(days=32)).replace(day=1)
    return following.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(microseconds=1)
