"""The semantic model: the run's own insights as it made them, and what PostHog's list keeps of
them for each filter (fact sheet §3.1). Pure: no requests, so the rules can be read and tested
on their own.

Some answers the model cannot know, and says so rather than guess: whether a dashboard is
listed (`saved=true` also keeps unsaved insights on a listed dashboard), and which insights a
search finds "similar" when none matches exactly. The expectation is then a range: what must
be listed, and what may be.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator

# Filters whose value PostHog ignores: their presence alone filters (fact sheet §3.1, §8.8).
PRESENCE_FILTERS = ("favorited", "user")
# Date filters: the field they bound, and whether the bound is from (strictly after) or to (strictly before).
DATE_FILTERS = {
    "date_from": ("last_modified_at", True), "date_to": ("last_modified_at", False),
    "created_date_from": ("created_at", True), "created_date_to": ("created_at", False),
    "last_viewed_date_from": ("last_viewed_at", True), "last_viewed_date_to": ("last_viewed_at", False),
}
# Orderings whose ties and collation the model can judge: short_id mixes cases, and a database's
# collation may order mixed case otherwise than code points, so it is left out.
ORDERINGS = ("order", "id", "name", "created_at", "updated_at", "last_modified_at", "last_viewed_at", "created_by", "favorited")


def moment(value: str | None) -> datetime | None:
    """An ISO 8601 instant as the target wrote it (`Z` or an offset)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@dataclass
class ModelInsight:
    id: int
    short_id: str
    name: str
    kind: str  # the `insight` filter value its query answers to
    tags: set[str]
    creator: int
    derived_name: str | None = None
    description: str | None = None
    favorited: bool = False
    saved: bool = True
    order: int | None = None
    dashboards: frozenset[int] = frozenset()
    deleted: bool = False
    # Instants as the target showed them: every date filter is checked with these, never the clock.
    created_at: datetime | None = None
    last_modified_at: datetime | None = None
    last_viewed_at: datetime | None = None
    updated_at: datetime | None = None

    def texts(self) -> list[str]:
        """What a search looks in: name, derived name, description and tag names."""
        return [t for t in (self.name, self.derived_name, self.description, *self.tags) if t]

    def instant(self, name: str) -> datetime | None:
        return getattr(self, name)


@dataclass
class Model:
    insights: dict[int, ModelInsight] = field(default_factory=dict)
    # When each insight was last viewed by the run's user, counted in requests: ids of one request
    # share a moment, so their order among themselves is not defined (PostHog upserts them with
    # one timestamp).
    viewed_at: dict[int, int] = field(default_factory=dict)
    moments: Iterator[int] = field(default_factory=itertools.count)

    def view(self, insight_ids: list[int]) -> None:
        moment_ = next(self.moments)
        for insight_id in insight_ids:
            self.viewed_at[insight_id] = moment_

    def live(self) -> list[ModelInsight]:
        return [i for i in self.insights.values() if not i.deleted]

    def last_viewed_allows(self, answer: list[int], n: int) -> bool:
        """Whether `answer` can be the newest-first list of the last `n` live viewed insights."""
        live = sorted((self.viewed_at[i], i) for i in self.viewed_at if not self.insights[i].deleted)[::-1]
        wanted = min(n, len(live))
        head = answer[:wanted]
        if len(head) < wanted or any(i not in self.viewed_at or self.insights[i].deleted for i in head):
            return False
        moments = [self.viewed_at[i] for i in head]
        if moments != sorted(moments, reverse=True):
            return False
        cutoff = moments[-1] if moments else None
        return all(i in head for moment_, i in live if cutoff is not None and moment_ > cutoff)


@dataclass(frozen=True)
class Expected:
    """What a filtered list must hold, and what it may hold besides."""

    must: frozenset[int]
    may: frozenset[int] = frozenset()

    def allows(self, listed: Iterable[int]) -> bool:
        listed = set(listed)
        return self.must <= listed <= self.must | self.may


def expected(query: dict[str, str], insights: Iterable[ModelInsight], caller: int | None) -> Expected:
    """What the insights list answers `query` (string values, as sent) with, of these insights,
    to a caller who is user `caller`. Filters combine with AND; soft-deleted insights are never
    listed."""
    candidates = []
    for insight in insights:
        if insight.deleted:
            continue
        verdicts = [_keeps(name, value, insight, caller) for name, value in query.items() if name != "search"]
        if False not in verdicts:
            candidates.append((insight, None in verdicts))
    term = (query.get("search") or "").strip().lower()
    if term:
        exact = [(i, unsure) for i, unsure in candidates if any(term in text.lower() for text in i.texts())]
        if all(unsure for _, unsure in exact):  # only "similar" matches (maybe), which the model cannot tell
            return Expected(frozenset(), frozenset(i.id for i, _ in candidates))
        candidates = exact
    return Expected(frozenset(i.id for i, unsure in candidates if not unsure),
                    frozenset(i.id for i, unsure in candidates if unsure))


def _keeps(name: str, value: str, insight: ModelInsight, caller: int | None) -> bool | None:
    """Whether the list keeps `insight` for filter `name=value`; None when the model cannot know."""
    if name in DATE_FILTERS:
        field_name, after = DATE_FILTERS[name]
        seen, bound = insight.instant(field_name), moment(value)
        return seen is not None and (seen > bound if after else seen < bound)
    keep = KEEPS.get(name)
    return True if keep is None else keep(value, insight, caller)


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes", "t", "y", "on")


def _ids(value: str) -> set[Any]:
    return set(json.loads(value))


def _saved(value: str, insight: ModelInsight, caller: int | None) -> bool | None:
    """saved=true: saved, or shown on a listed dashboard (which dashboards are listed, the model
    does not know); saved=false: unsaved only."""
    if not _truthy(value):
        return not insight.saved
    return True if insight.saved else (None if insight.dashboards else False)


KEEPS: dict[str, Callable[[str, ModelInsight, int | None], bool | None]] = {
    "favorited": lambda value, insight, caller: insight.favorited,  # presence-based: `false` filters too
    "user": lambda value, insight, caller: None if caller is None else insight.creator == caller,  # presence-based
    "saved": _saved,
    "tags": lambda value, insight, caller: not _ids(value) or bool(insight.tags & _ids(value)),  # any of them
    "created_by": lambda value, insight, caller: not _ids(value) or insight.creator in _ids(value),
    "dashboards": lambda value, insight, caller: _ids(value) <= insight.dashboards,  # on every one of them
    "insight": lambda value, insight, caller: insight.kind == value,
    "short_id": lambda value, insight, caller: insight.short_id == value,
}


def misordered(order: str, listed: list[dict[str, Any]], insights: dict[int, ModelInsight]) -> tuple[int, int] | None:
    """The first two neighbours of the list out of `order` (a field, `-` for descending), or None.

    Ties may come in any order. NULLs come last ascending and first descending (Postgres); the
    spec says so for `order`, and the run's insights all have a view, so `last_viewed_at` has none.
    """
    name, descending = order.lstrip("-"), order.startswith("-")
    keyed = [(_sort_key(name, insights[item["id"]]), item["id"]) for item in listed]
    for (key, first), (following, second) in zip(keyed, keyed[1:]):
        if (following > key) if descending else (following < key):
            return first, second
    return None


def _sort_key(name: str, insight: ModelInsight) -> tuple:
    value = insight.creator if name == "created_by" else getattr(insight, name)
    return (value is None, value if value is not None else 0)
