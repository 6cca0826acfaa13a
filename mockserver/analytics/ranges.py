"""A query's date range and interval as PostHog's QueryDateRange reads them.

`dateRange.date_from` (default `-7d`) starts at midnight unless the interval is hourly;
`date_to` (default now) runs to the end of its day (of its hour, for a relative hourly range),
so `-7d` is eight daily buckets, today included. Buckets start at date_from aligned to the
interval (weeks on the project's week_start_day, Sunday by default) and step while they start
before date_to. Events count from date_from itself, except that a month bucket counts its
whole month (PostHog's `date_from_with_adjusted_start_of_interval`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from mockserver import dates
from mockserver.analytics.properties import QueryError

INTERVALS = ("minute", "hour", "day", "week", "month")
MAX_BUCKETS = 10_000  # past this a chart means nothing, and the answer would be megabytes
DEFAULT_FROM = "-7d"


@dataclass(frozen=True)
class DateRange:
    date_from: datetime
    date_to: datetime  # inclusive
    interval: str
    week_start_day: int  # 0 Sunday, 1 Monday
    weekly_relative: bool = False  # `-Nd` with N a multiple of 7 and no date_to (see previous())

    @classmethod
    def of(cls, query: dict[str, Any], now: datetime, week_start_day: int | None, earliest: datetime | None = None,
           interval: str | None = None, exact: bool = False) -> "DateRange":
        """`exact` is BoldNumber's range: from now minus the relative amount to now, untruncated."""
        interval = interval or query.get("interval") or "day"
        if interval not in INTERVALS:
            raise QueryError(f"Unknown interval {interval!r}: use one of {', '.join(INTERVALS)}.")
        date_range = query.get("dateRange") or {}
        raw_from, raw_to = date_range.get("date_from") or DEFAULT_FROM, date_range.get("date_to")
        explicit = bool(date_range.get("explicitDate"))
        if exact and dates.RELATIVE.match(raw_from) and not raw_to:
            found = dates.RELATIVE.match(raw_from)
            unit = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}.get(found["unit"])
            if unit is not None:
                return cls(now - int(found["amount"]) * unit, now, interval, week_start_day or 0)
        date_from = (earliest or now) if raw_from == "all" else _moment(raw_from, now)
        found = dates.RELATIVE.match(raw_from)
        if found and found["unit"] == "h":
            date_from = date_from.replace(minute=0, second=0, microsecond=0)  # relative hours start on the hour
        date_to = _moment(raw_to, now) if raw_to else now
        relative_to = not raw_to or dates.RELATIVE.match(raw_to) is not None
        hourly = interval in ("hour", "minute")
        if not explicit:
            if not hourly:
                date_from = date_from.replace(hour=0, minute=0, second=0, microsecond=0)
                date_to = date_to.replace(hour=23, minute=59, second=59, microsecond=999999)
            elif relative_to:
                date_to = date_to.replace(minute=59, second=59, microsecond=999999)
        if date_to < date_from:
            raise QueryError("The date range ends before it starts.")
        weekly = bool(found and found["unit"] == "d" and int(found["amount"]) % 7 == 0 and not raw_to)
        return cls(date_from, date_to, interval, week_start_day or 0, weekly)

    @property
    def start(self) -> datetime:
        """The first bucket's start."""
        return align(self.date_from, self.interval, self.week_start_day)

    @property
    def end(self) -> datetime:
        return self.date_to

    @property
    def count_from(self) -> datetime:
        """The earliest event a trend counts: date_from, or the start of its month for months."""
        return self.start if self.interval == "month" else self.date_from

    def buckets(self) -> list[datetime]:
        values, at = [], self.start
        while at <= self.date_to:
            values.append(at)
            if len(values) > MAX_BUCKETS:
                raise QueryError(f"The date range holds more than {MAX_BUCKETS} {self.interval}s: choose a longer interval.")
            at = step(at, self.interval, 1)
        return values

    def previous(self) -> "DateRange":
        """The period just before, as long as this one (compareFilter.compare), as PostHog's
        get_compare_period_dates: the start keeps date_from's time of day, the end date_to's; a
        `-7d`-style range without date_to starts a day later (the two then share a day)."""
        diff = self.date_to - self.date_from
        start = _at_time_of(self.date_from - diff, self.date_from)
        if self.interval == "day" and self.weekly_relative:
            start += timedelta(days=1)
        end = _at_time_of(start + diff, self.date_to)
        return DateRange(start, end, self.interval, self.week_start_day)

    def shifted(self, compare_to: str) -> "DateRange":
        """This range moved back by a relative amount like `-1w` (compareFilter.compare_to)."""
        found = dates.RELATIVE.match(compare_to or "")
        if not found:
            raise QueryError(f"compare_to must be a relative date like -1w, not {compare_to!r}.")
        amount, unit = int(found["amount"]), found["unit"]
        shift = {"h": timedelta(hours=amount), "d": timedelta(days=amount), "w": timedelta(weeks=amount)}.get(unit)
        if shift is None:
            months = amount * {"m": 1, "q": 3, "y": 12}[unit]
            return DateRange(_months_back(self.date_from, months), _months_back(self.date_to, months), self.interval,
                             self.week_start_day)
        return DateRange(self.date_from - shift, self.date_to - shift, self.interval, self.week_start_day)

    def label(self, at: datetime) -> str:
        """format_label_date: `9-Jan-2020`, `9-Jan 00:00` (hours), `Dec 2022` (months), and for
        weeks the days of the week within the range, `8–14 Jun` (en dash)."""
        if self.interval in ("hour", "minute"):
            return at.strftime("%-d-%b %H:%M")
        if self.interval == "month":
            return at.strftime("%b %Y")
        if self.interval == "week":
            return _week_label(max(at, self.date_from.replace(hour=0, minute=0, second=0, microsecond=0)),
                               min(at + timedelta(days=6), self.date_to))
        return at.strftime("%-d-%b-%Y")

    def day(self, at: datetime) -> str:
        return at.strftime("%Y-%m-%d %H:%M:%S" if self.interval in ("hour", "minute") else "%Y-%m-%d")

    def sql_bucket(self, column: str = "e.timestamp") -> str:
        """The start of the bucket a timestamp falls in, in SQL (DuckDB's weeks start on Monday)."""
        if self.interval == "week":
            shift = (1 - self.week_start_day) % 7  # days to add so that the project's week starts on a Monday
            return f"(date_trunc('week', {column} + INTERVAL {shift} DAY) - INTERVAL {shift} DAY)"
        return f"date_trunc('{self.interval}', {column})"


def align(moment: datetime, interval: str, week_start_day: int) -> datetime:
    if interval == "minute":
        return moment.replace(second=0, microsecond=0)
    if interval == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "week":
        weekday = (day.weekday() + 1) % 7  # 0 Sunday
        return day - timedelta(days=(weekday - week_start_day) % 7)
    if interval == "month":
        return day.replace(day=1)
    return day


def step(moment: datetime, interval: str, count: int) -> datetime:
    if interval == "month":
        year, month = divmod(moment.year * 12 + moment.month - 1 + count, 12)
        return moment.replace(year=year, month=month + 1)
    return moment + {"minute": timedelta(minutes=count), "hour": timedelta(hours=count), "day": timedelta(days=count),
                     "week": timedelta(weeks=count)}[interval]


def naive(moment: datetime) -> datetime:
    """A UTC moment as the engine stores timestamps (naive, UTC)."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def aware(moment: datetime) -> datetime:
    """An engine timestamp (naive, UTC) as a UTC moment."""
    return moment.replace(tzinfo=timezone.utc)


def _week_label(first: datetime, last: datetime) -> str:
    if first.date() >= last.date():
        return first.strftime("%-d-%b-%Y")
    if first.year != last.year:
        return f"{first.strftime('%-d-%b-%Y')} \u2013 {last.strftime('%-d-%b-%Y')}"
    if first.month != last.month:
        return f"{first.strftime('%-d-%b')} \u2013 {last.strftime('%-d-%b')}"
    return f"{first.day}\u2013{last.strftime('%-d %b')}"


def _at_time_of(moment: datetime, clock: datetime) -> datetime:
    return moment.replace(hour=clock.hour, minute=clock.minute, second=clock.second, microsecond=clock.microsecond)


def _moment(value: str, now: datetime) -> datetime:
    try:
        moment = dates.parse(value, now)
    except ValueError:
        raise QueryError(f"{value!r} is not a date: use an ISO date, a date-time or a relative date like -7d.")
    return moment if moment is not None else now


def _months_back(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    return moment.replace(year=year, month=month + 1, day=min(moment.day, 28))
