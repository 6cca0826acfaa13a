"""The demo event stream: persons and ~90 days of their events, the same every time.

Nothing here is stored: the stream is a function of the project, its size and the day it ends,
generated when the analytics engine loads (numpy, vectorised, so a million events take well
under a second) and identical in every worker. It ends on the mock clock's current day, so
"the last 7 days" always has data; events later than now are never read.

Each project has persons (a few hundred, more with `--scale`) who arrive over the 90 days
(more of them lately: the product grows), visit on some days with a weekly rhythm (fewer at the
weekend) that fades for most of them (churn) and comes back for some (resurrection), and on a
visit view pages, click (with the element chains element statistics count), sometimes rage- or
dead-click, play videos, sign up once, finish onboarding, and go through a checkout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np

DAYS = 90
DAY = 86_400

URLS = ["https://hogflix.io/", "https://hogflix.io/pricing", "https://hogflix.io/watch/42", "https://hogflix.io/signup",
        "https://hogflix.io/docs", "https://hogflix.io/watch/7"]
URL_WEIGHTS = [0.30, 0.14, 0.28, 0.08, 0.06, 0.14]
SCREENS, SCREEN_WEIGHTS = ["Home", "Browse", "Player", "Search", "Profile", "Settings"], [0.30, 0.24, 0.26, 0.10, 0.06, 0.04]
BROWSERS, BROWSER_WEIGHTS = ["Chrome", "Safari", "Firefox", "Microsoft Edge"], [0.58, 0.24, 0.12, 0.06]
OSES, OS_WEIGHTS = ["Mac OS X", "Windows", "iOS", "Android", "Linux"], [0.34, 0.30, 0.16, 0.14, 0.06]
REFERRERS, REFERRER_WEIGHTS = ["$direct", "www.google.com", "news.ycombinator.com", "twitter.com", "duckduckgo.com"], \
    [0.40, 0.34, 0.10, 0.10, 0.06]
COUNTRIES, COUNTRY_WEIGHTS = ["US", "GB", "DE", "FR", "BR", "IN", "CA"], [0.36, 0.14, 0.12, 0.08, 0.10, 0.12, 0.08]
PLANS, PLAN_WEIGHTS = ["free", "pro", "team"], [0.70, 0.24, 0.06]
FLAG = "new-onboarding"
FLAG_VARIANTS = ["control", "test"]
WEEKDAY_FACTOR = np.array([1.0, 1.05, 1.05, 1.0, 0.9, 0.55, 0.5])  # Monday first
HOURS = np.array([1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 7, 7, 8, 8, 8, 7, 7, 8, 7, 5, 3, 2], dtype=float)
TEST_ACCOUNT_DOMAIN = "hogflix.io"  # the demo projects' test_account_filters leave these persons out

# The element chains people click (clicked element first), with how often each is clicked.
CHAINS = [
    [{"tag_name": "button", "text": "Sign up", "attr_id": "signup-cta", "attr_class": ["btn", "btn-primary"], "nth_child": 1, "nth_of_type": 1, "attributes": {"attr__data-attr": "signup", "attr__class": "btn btn-primary"}},
     {"tag_name": "div", "attr_class": ["hero"], "nth_child": 2, "nth_of_type": 1, "attributes": {"attr__class": "hero"}},
     {"tag_name": "body", "nth_child": 1, "nth_of_type": 1, "attributes": {}}],
    [{"tag_name": "button", "text": "Start free trial", "attr_class": ["btn"], "nth_child": 3, "nth_of_type": 2, "attributes": {"attr__data-attr": "trial"}},
     {"tag_name": "section", "attr_class": ["pricing"], "nth_child": 4, "nth_of_type": 1, "attributes": {}},
     {"tag_name": "body", "nth_child": 1, "nth_of_type": 1, "attributes": {}}],
    [{"tag_name": "a", "text": "Pricing", "href": "/pricing", "nth_child": 2, "nth_of_type": 2, "attributes": {"attr__href": "/pricing"}},
     {"tag_name": "nav", "nth_child": 1, "nth_of_type": 1, "attributes": {}},
     {"tag_name": "header", "nth_child": 1, "nth_of_type": 1, "attributes": {}},
     {"tag_name": "body", "nth_child": 1, "nth_of_type": 1, "attributes": {}}],
    [{"tag_name": "a", "text": "Docs", "href": "https://hogflix.io/docs", "nth_child": 3, "nth_of_type": 3, "attributes": {"attr__href": "https://hogflix.io/docs"}},
     {"tag_name": "nav", "nth_child": 1, "nth_of_type": 1, "attributes": {}},
     {"tag_name": "body", "nth_child": 1, "nth_of_type": 1, "attributes": {}}],
    [{"tag_name": "input", "attr_id": "email-input", "nth_child": 1, "nth_of_type": 1, "attributes": {"attr__type": "email", "attr__data-attr": "email"}},
     {"tag_name": "form", "attr_class": ["signup"], "nth_child": 1, "nth_of_type": 1, "attributes": {}},
     {"tag_name": "body", "nth_child": 1, "nth_of_type": 1, "attributes": {}}],
    [{"tag_name": "button", "text": "Play", "attr_class": ["player-control"], "nth_child": 1, "nth_of_type": 1, "attributes": {"attr__data-attr": "play"}},
     {"tag_name": "div", "attr_class": ["player"], "nth_child": 1, "nth_of_type": 1, "attributes": {}},
     {"tag_name": "body", "nth_child": 1, "nth_of_type": 1, "attributes": {}}],
    [{"tag_name": "span", "text": "Load more", "nth_child": 1, "nth_of_type": 1, "attributes": {}},
     {"tag_name": "button", "attr_class": ["catalog-more"], "nth_child": 9, "nth_of_type": 1, "attributes": {}},
     {"tag_name": "div", "attr_class": ["catalog"], "nth_child": 2, "nth_of_type": 1, "attributes": {}},
     {"tag_name": "body", "nth_child": 1, "nth_of_type": 1, "attributes": {}}],
]
CHAIN_WEIGHTS = np.array([30, 14, 22, 8, 10, 40, 12], dtype=float)
CHAIN_TEXTS = [json.dumps(chain, separators=(",", ":")) for chain in CHAINS]


@dataclass(frozen=True)
class Profile:
    """What kind of product a demo project is: which events its visits hold."""

    persons: int
    web: bool  # pageviews and clicks; else a mobile app's screens and crashes
    seed: int


PROFILES = {1: Profile(persons=400, web=True, seed=2026), 2: Profile(persons=150, web=False, seed=2027),
            4: Profile(persons=60, web=True, seed=2028)}


@dataclass
class Columns:
    """A stream as columns: one entry per event (codes into the `names` lists), and its persons."""

    timestamp: list = field(default_factory=list)  # numpy arrays, concatenated at the end
    event: list = field(default_factory=list)
    person: list = field(default_factory=list)
    session: list = field(default_factory=list)
    url: list = field(default_factory=list)  # -1: none
    chain: list = field(default_factory=list)  # -1: none
    number: list = field(default_factory=list)  # duration or amount; nan: none
    names: list[str] = field(default_factory=list)

    def add(self, event: str, timestamp, person, session, url=None, chain=None, number=None) -> None:
        if event not in self.names:
            self.names.append(event)
        n = len(timestamp)
        self.timestamp.append(np.asarray(timestamp, dtype=np.int64))
        self.event.append(np.full(n, self.names.index(event), dtype=np.int16))
        self.person.append(np.asarray(person, dtype=np.int32))
        self.session.append(np.asarray(session, dtype=np.int64))
        self.url.append(np.full(n, -1, dtype=np.int16) if url is None else np.asarray(url, dtype=np.int16))
        self.chain.append(np.full(n, -1, dtype=np.int16) if chain is None else np.asarray(chain, dtype=np.int16))
        self.number.append(np.full(n, np.nan) if number is None else np.asarray(number, dtype=float))

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate(getattr(self, name)) for name in
                ("timestamp", "event", "person", "session", "url", "chain", "number")}


@dataclass
class Stream:
    """One project's demo persons and events, as columns ready for the analytics engine."""

    project_id: int
    team_id: int
    persons: dict[str, np.ndarray]  # distinct_id index -> email, plan, country, created (epoch s), browser, os
    events: dict[str, np.ndarray]
    event_names: list[str]

    def __len__(self) -> int:
        return len(self.events["timestamp"])


def last_day(now: datetime) -> datetime:
    """The stream ends with the day `now` falls in (UTC midnight of it)."""
    now = now.astimezone(timezone.utc)
    return datetime(now.year, now.month, now.day, tzinfo=timezone.utc)


def generate(project_id: int, team_id: int, end_day: datetime, scale: int = 1) -> Stream:
    """The project's stream: `scale` times as many persons as its profile has (so events grow with it)."""
    profile = PROFILES.get(project_id, Profile(persons=40, web=True, seed=project_id))
    rng = np.random.default_rng(profile.seed)
    n = profile.persons * max(1, scale)
    start = int((end_day - timedelta(days=DAYS - 1)).timestamp())
    persons = _persons(rng, n, start)
    columns = Columns()
    first_day = persons["first_day"]
    # Person-days from each person's arrival to the end; a visit on some of them.
    span = DAYS - first_day
    person_of_day = np.repeat(np.arange(n), span)
    day = first_day[person_of_day] + _ramp(span)
    age = day - first_day[person_of_day]
    weekday = (_weekday(start) + day) % 7
    loyalty = persons["loyalty"][person_of_day]
    returns = persons["resurrects_at"][person_of_day]
    chance = loyalty * WEEKDAY_FACTOR[weekday] * np.where(age < 1, 1.0, np.exp(-age / persons["half_life"][person_of_day]))
    chance = np.where((returns >= 0) & (day >= returns) & (day < returns + 10), np.maximum(chance, 0.5), chance)
    visited = (age == 0) | (rng.random(len(day)) < chance)
    visitor, visit_day = person_of_day[visited], day[visited]
    visits = len(visitor)
    hour = rng.choice(24, size=visits, p=HOURS / HOURS.sum())
    visit_start = start + visit_day * DAY + hour * 3600 + rng.integers(0, 3000, visits)
    session = np.arange(visits, dtype=np.int64) + project_id * 10_000_000
    if profile.web:
        _web_visits(columns, rng, visitor, visit_start, session, persons)
    else:
        _app_visits(columns, rng, visitor, visit_start, session)
    _once_per_person(columns, rng, visitor, visit_start, session, visit_day, persons, profile.web)
    arrays = columns.arrays()
    order = np.argsort(arrays["timestamp"], kind="stable")
    events = {name: values[order] for name, values in arrays.items()}
    # PostHog creates a person with their first event: so each demo person was created then.
    first_seen = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_seen, events["person"], events["timestamp"])
    persons["created"] = np.where(first_seen < np.iinfo(np.int64).max, first_seen, persons["created"])
    return Stream(project_id, team_id, {k: v for k, v in persons.items()}, events, columns.names)


def _persons(rng: np.random.Generator, n: int, start: int) -> dict[str, np.ndarray]:
    # Arrivals grow toward the end (the product grows); the first tenth were there from the start.
    first_day = np.where(rng.random(n) < 0.1, 0, np.floor(DAYS * np.sqrt(rng.random(n))).astype(int)).astype(int)
    first_day = np.minimum(first_day, DAYS - 1)
    internal = np.arange(n) < max(3, n // 40)  # employees: test accounts
    return {
        "first_day": first_day,
        "created": start + first_day * DAY + rng.integers(0, DAY, n),
        "loyalty": rng.beta(2.0, 3.5, n),
        "half_life": rng.choice([4.0, 12.0, 40.0, 400.0], size=n, p=[0.35, 0.30, 0.25, 0.10]),
        "resurrects_at": np.where(rng.random(n) < 0.12, rng.integers(20, DAYS, n), -1),
        "internal": internal,
        "plan": rng.choice(len(PLANS), size=n, p=PLAN_WEIGHTS),
        "country": rng.choice(len(COUNTRIES), size=n, p=COUNTRY_WEIGHTS),
        "browser": rng.choice(len(BROWSERS), size=n, p=BROWSER_WEIGHTS),
        "os": rng.choice(len(OSES), size=n, p=OS_WEIGHTS),
        "referrer": rng.choice(len(REFERRERS), size=n, p=REFERRER_WEIGHTS),
        "flag": rng.integers(0, len(FLAG_VARIANTS), n),
        "signs_up": rng.random(n) < 0.6,
    }


def _web_visits(columns: Columns, rng: np.random.Generator, visitor, start, session, persons) -> None:
    visits = len(visitor)
    pages = rng.poisson(2.5, visits) + 1
    page_visit = np.repeat(np.arange(visits), pages)
    offset = _ramp(pages) * 40 + rng.integers(0, 35, len(page_visit))
    columns.add("$pageview", start[page_visit] + offset, visitor[page_visit], session[page_visit],
                url=rng.choice(len(URLS), size=len(page_visit), p=URL_WEIGHTS))
    clicks = rng.poisson(1.8, visits)
    click_visit = np.repeat(np.arange(visits), clicks)
    chain = rng.choice(len(CHAINS), size=len(click_visit), p=CHAIN_WEIGHTS / CHAIN_WEIGHTS.sum())
    kind = rng.choice(3, size=len(click_visit), p=[0.85, 0.10, 0.05])
    at = start[click_visit] + 5 + rng.integers(0, 300, len(click_visit))
    url = rng.choice(len(URLS), size=len(click_visit), p=URL_WEIGHTS)
    for code, name in enumerate(("$autocapture", "$rageclick", "$dead_click")):
        chosen = kind == code
        columns.add(name, at[chosen], visitor[click_visit][chosen], session[click_visit][chosen], url=url[chosen], chain=chain[chosen])
    plays = rng.random(visits) < 0.45
    columns.add("video played", start[plays] + rng.integers(30, 600, plays.sum()), visitor[plays], session[plays],
                url=np.full(plays.sum(), 2), number=np.round(rng.gamma(2.0, 300.0, plays.sum())))
    flagged = rng.random(visits) < 0.3
    columns.add("$feature_flag_called", start[flagged] + 1, visitor[flagged], session[flagged])
    errors = rng.random(visits) < 0.04
    columns.add("$exception", start[errors] + rng.integers(10, 900, errors.sum()), visitor[errors], session[errors])


def _app_visits(columns: Columns, rng: np.random.Generator, visitor, start, session) -> None:
    visits = len(visitor)
    screens = rng.poisson(3.0, visits) + 1
    screen_visit = np.repeat(np.arange(visits), screens)
    columns.add("$screen", start[screen_visit] + _ramp(screens) * 30, visitor[screen_visit], session[screen_visit],
                url=rng.choice(len(SCREENS), size=len(screen_visit), p=SCREEN_WEIGHTS))  # an app's pages are its screens
    plays = rng.random(visits) < 0.5
    columns.add("video played", start[plays] + rng.integers(30, 600, plays.sum()), visitor[plays], session[plays],
                number=np.round(rng.gamma(2.0, 250.0, plays.sum())))
    crashes = rng.random(visits) < 0.03
    columns.add("app crashed", start[crashes] + rng.integers(5, 900, crashes.sum()), visitor[crashes], session[crashes])


def _once_per_person(columns: Columns, rng, visitor, start, session, visit_day, persons, web: bool) -> None:
    """Sign-up on the first visit (for those who sign up), onboarding after it, and a checkout
    for some paying persons, each step a little later than the one before."""
    first_visit = np.unique(visitor, return_index=True)[1]
    who, when, where = visitor[first_visit], start[first_visit], session[first_visit]
    signs_up = persons["signs_up"][who]
    columns.add("user signed up", when[signs_up] + 120, who[signs_up], where[signs_up])
    if not web:
        return
    onboarded = signs_up & (rng.random(len(who)) < 0.7)
    columns.add("onboarding completed", when[onboarded] + 900 + rng.integers(0, 3600, onboarded.sum()), who[onboarded], where[onboarded])
    pays = signs_up & (persons["plan"][who] > 0)
    started = pays & (rng.random(len(who)) < 0.8)
    at = when + 86_400 * rng.integers(0, 5, len(who)) + 1800
    columns.add("checkout started", at[started], who[started], where[started])
    submitted = started & (rng.random(len(who)) < 0.75)
    columns.add("payment submitted", at[submitted] + 240, who[submitted], where[submitted])
    paid = submitted & (rng.random(len(who)) < 0.9)
    amount = np.where(persons["plan"][who] == 2, 49.0, 12.0)
    columns.add("subscription paid", at[paid] + 300, who[paid], where[paid], number=amount[paid])


def _ramp(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., k-1 for each count k, concatenated (the position within each group)."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=int)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


def _weekday(epoch_day_start: int) -> int:
    return datetime.fromtimestamp(epoch_day_start, timezone.utc).weekday()
