"""Deterministic demo data: the same ids, names, keys and queries every time.

Times are offsets from the moment of seeding, so "the last 7 days" always has views in it.
Two organizations: Hogflix (projects 1 "Hogflix Web", with a staging environment 3, and 2
"Hogflix Mobile") and Acme (project 4), so a key of one organization can be shown refused by
the other. `--scale N` pads project 1 with generated insights up to N, for benchmarks.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mockserver import insight_queries
from mockserver.analytics.stream import CHAINS
from mockserver.clock import Clock, iso
from mockserver.settings import Settings
from mockserver.store import Store
from posthog_spec import Spec

DEMO_USER_ID = 1
DEMO_STREAMS = [1, 2, 4]  # projects with a generated event stream (mockserver/analytics/stream.py)
HOGFLIX, ACME = "0190a2c1-0000-7000-8000-0000000000c1", "0190a2c1-0000-7000-8000-0000000000c2"


@dataclass(frozen=True)
class DemoKey:
    name: str
    label: str
    scopes: tuple[str, ...]
    scoped_teams: tuple[int, ...] | None = None
    user_id: int = DEMO_USER_ID

    @property
    def value(self) -> str:
        digest = hashlib.sha256(f"posthog-mock:{self.name}".encode()).hexdigest()
        return f"phx_{self.name.replace('-', '')}{digest}"[:47]


DEMO_KEYS = (
    DemoKey("all-access", "All access (Ada)", ("*",)),
    DemoKey("insights-read", "Insights read-only (Ada)", ("insight:read",)),
    DemoKey("insights-write", "Insights read-write and activity (Ada)", ("insight:write", "activity_log:read")),
    DemoKey("elements", "Elements read-write (Ada)", ("element:write",)),
    DemoKey("project-2", "All access, Hogflix Mobile only (Ada)", ("*",), scoped_teams=(2,)),
    DemoKey("acme", "All access (Wile, Acme)", ("*",), user_id=4),
)


def demo_keys_summary() -> list[dict[str, Any]]:
    return [
        {"name": k.name, "label": k.label, "value": k.value, "scopes": list(k.scopes),
         "scoped_teams": list(k.scoped_teams) if k.scoped_teams else None, "user_id": k.user_id}
        for k in DEMO_KEYS
    ]


def load(store: Store, settings: Settings, clock: Clock, spec: Spec) -> None:
    """Write the seed into an empty store, in one transaction."""
    now = clock.now()
    with store.transaction(write=True):
        _accounts(store, now)
        if settings.seed == "demo":
            _demo(store, now, spec)
        # The demo projects' events are generated, not written: the store only says which have them.
        store.events.set_demo_projects(DEMO_STREAMS if settings.seed == "demo" else [])
        if settings.scale:
            _pad_insights(store, now, settings.scale)


def short_id_for(insight_id: int) -> str:
    alphabet = string.ascii_letters + string.digits
    digest = hashlib.sha256(f"insight:{insight_id}".encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:8])


# Accounts ------------------------------------------------------------------------------------------
ORGANIZATIONS = [(HOGFLIX, "Hogflix", "hogflix"), (ACME, "Acme", "acme")]
TEST_ACCOUNT_FILTERS = [{"key": "email", "value": "@hogflix.io", "operator": "not_icontains", "type": "person"}]
# (id, organization, name, token name, app urls, test account filters, primary dashboard, week start)
PROJECTS = [
    (1, HOGFLIX, "Hogflix Web", "HogflixWeb", ["https://hogflix.io"], TEST_ACCOUNT_FILTERS, 1, 1),
    (2, HOGFLIX, "Hogflix Mobile", "HogflixMobile", [], TEST_ACCOUNT_FILTERS, 4, 1),
    (4, ACME, "Acme Analytics", "AcmeAnalytics", [], [], 5, 0),
]
# (id, project, name, token name): the main environment of a project has the project's id
TEAMS = [(1, 1, "Hogflix Web", "HogflixWeb"), (2, 2, "Hogflix Mobile", "HogflixMobile"),
         (3, 1, "Hogflix Web (staging)", "HogflixStaging"), (4, 4, "Acme Analytics", "AcmeAnalytics")]
# (id, distinct id, first name, last name, email, role, current team)
USERS = [
    (1, "ada-lovelace", "Ada", "Lovelace", "ada@hogflix.io", "engineering", 1),
    (2, "grace-hopper", "Grace", "Hopper", "grace@hogflix.io", "product", 1),
    (3, "alan-turing", "Alan", "Turing", "alan@hogflix.io", "data", 1),
    (4, "wile-coyote", "Wile", "Coyote", "wile@acme.example", "founder", 4),
]
MEMBERSHIPS = [(1, HOGFLIX, 15), (2, HOGFLIX, 1), (3, HOGFLIX, 8), (4, ACME, 15)]  # 1 member, 8 admin, 15 owner
DEMO_PROJECTS = [
    {"id": project_id, "name": name, "environments": [team_id for team_id, project, *_ in TEAMS if project == project_id]}
    for project_id, _, name, *_ in PROJECTS
]


def _accounts(store: Store, now: datetime) -> None:
    accounts, created = store.accounts, iso(now - timedelta(days=90))
    for organization_id, name, slug in ORGANIZATIONS:
        accounts.add_organization(id=organization_id, name=name, slug=slug, created_at=created)
    for project_id, organization_id, name, token, app_urls, test_accounts, dashboard, week_start in PROJECTS:
        accounts.add_project(
            id=project_id, uuid=_uuid(f"b{project_id}"), organization_id=organization_id, name=name,
            api_token=_token(token), app_urls=json.dumps(app_urls), test_account_filters=json.dumps(test_accounts),
            primary_dashboard=dashboard, week_start_day=week_start, created_at=created, updated_at=created,
        )
    for team_id, project_id, name, token in TEAMS:
        accounts.add_team(id=team_id, project_id=project_id, uuid=_uuid(f"e{team_id}"), name=name, api_token=_token(token))
    for user_id, distinct_id, first_name, last_name, email, role, team_id in USERS:
        accounts.add_user(
            id=user_id, uuid=_uuid(f"00000000a00{user_id}"), distinct_id=distinct_id, first_name=first_name,
            last_name=last_name, email=email, is_email_verified=1, role_at_organization=role,
            current_team_id=team_id, date_joined=created,
        )
    for user_id, organization_id, level in MEMBERSHIPS:
        accounts.add_membership(user_id, organization_id, level)
    for n, key in enumerate(DEMO_KEYS, start=1):
        accounts.create_key(
            user_id=key.user_id, label=key.label, scopes=list(key.scopes), now=created,
            scoped_teams=list(key.scoped_teams) if key.scoped_teams else None, value=key.value, key_id=_uuid(f"d{n:03d}"),
        )


# The demo project ----------------------------------------------------------------------------------
def _trends(event: str, math: str = "total", interval: str = "day", date_from: str = "-30d", **extra: Any) -> dict:
    return {"kind": "InsightVizNode", "source": {
        "kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": event, "name": event, "math": math}],
        "interval": interval, "dateRange": {"date_from": date_from}, **extra}}


def _funnel(*events: str) -> dict:
    return {"kind": "InsightVizNode", "source": {
        "kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": e, "name": e} for e in events],
        "funnelsFilter": {"funnelVizType": "steps", "funnelOrderType": "ordered"}, "dateRange": {"date_from": "-30d"}}}


QUERIES: dict[str, Any] = {
    "signups": _trends("user signed up", interval="week", date_from="-90d"),
    "dau": _trends("$pageview", math="dau"),
    "signup_funnel": _funnel("$pageview", "user signed up", "onboarding completed"),
    "retention": {"kind": "InsightVizNode", "source": {"kind": "RetentionQuery", "retentionFilter": {
        "period": "Week", "totalIntervals": 8, "retentionType": "retention_first_time",
        "targetEntity": {"id": "user signed up", "type": "events", "name": "user signed up"},
        "returningEntity": {"id": "$pageview", "type": "events", "name": "$pageview"}}}},
    "paths": {"kind": "InsightVizNode", "source": {"kind": "PathsQuery", "pathsFilter": {
        "includeEventTypes": ["$pageview"], "startPoint": "https://hogflix.io/pricing", "stepLimit": 5}}},
    "journeys": {"kind": "InsightVizNode", "source": {"kind": "PathsV2Query", "dateRange": {"date_from": "-14d"}}},
    "stickiness": {"kind": "InsightVizNode", "source": {"kind": "StickinessQuery", "series": [
        {"kind": "EventsNode", "event": "video played", "name": "video played"}], "interval": "day"}},
    "lifecycle": {"kind": "InsightVizNode", "source": {"kind": "LifecycleQuery", "series": [
        {"kind": "EventsNode", "event": "$pageview", "name": "$pageview"}], "interval": "week"}},
    "revenue_sql": {"kind": "DataVisualizationNode", "display": "ActionsBar", "source": {
        "kind": "HogQLQuery", "query": "SELECT properties.plan AS plan, sum(toFloat(properties.amount)) AS revenue"
        " FROM events WHERE event = 'subscription paid' GROUP BY plan ORDER BY revenue DESC"}},
    "errors_table": {"kind": "DataTableNode", "source": {"kind": "EventsQuery", "select": [
        "*", "event", "person", "timestamp"], "event": "$exception", "after": "-24h"}},
    "hog": {"kind": "HogQuery", "code": "return (select count() from events where event = 'video played')"},
    "checkout": _funnel("checkout started", "payment submitted", "subscription paid"),
    "flag_volume": _trends("$feature_flag_called", breakdownFilter={"breakdown": "$feature/new-onboarding", "breakdown_type": "event"}),
    "flag_users": _trends("$feature_flag_called", math="dau", breakdownFilter={"breakdown": "$feature/new-onboarding", "breakdown_type": "event"}),
    "screens": _trends("$screen", interval="day"),
    "crashes": _trends("app crashed", math="dau"),
}

# The two insights PostHog creates for every feature flag, named as the spec names them.
FEATURE_FLAG_INSIGHT = (("feature flag insight", 0), ("feature flag insight", 1))

# (id, team, name, derived name, description, query, tags, favorited, saved, order, creator,
#  days since created, days since last modified, dashboards, deleted)
INSIGHTS = [
    (1, 1, "Weekly signups", None, "Users who finished signing up, per week.", "signups", ["growth"], True, True, None, 1, 53, 3, [1], False),
    (2, 1, "Daily active users", None, "Unique users with a pageview each day.", "dau", ["growth", "kpi"], True, True, 1, 2, 50, 10, [1, 2], False),
    (3, 1, "Signup funnel", None, "From landing page to finished onboarding.", "signup_funnel", ["funnel", "growth"], False, True, None, 1, 45, 12, [1], False),
    (4, 1, "Week 1 retention", None, "Who comes back after signing up.", "retention", ["retention"], False, True, None, 3, 40, 40, [2], False),
    (5, 1, "Pricing page paths", None, None, "paths", [], False, True, None, 1, 38, 20, [], False),
    (6, 1, "Onboarding journeys", None, None, "journeys", [], False, True, None, 2, 30, 30, [], False),
    (7, 1, "Power users", None, "Days per week people play a video.", "stickiness", ["kpi"], False, True, None, 3, 28, 5, [2], False),
    (8, 1, "User lifecycle", None, None, "lifecycle", ["kpi"], False, True, None, 1, 25, 25, [], False),
    (9, 1, "Revenue by plan", None, "SQL: paid subscriptions summed by plan.", "revenue_sql", ["revenue"], True, True, 2, 3, 20, 2, [2], False),
    (10, 1, "Recent errors", None, None, "errors_table", ["errors"], False, True, None, 2, 18, 18, [], False),
    (11, 1, "Video plays (Hog)", None, None, "hog", [], False, True, None, 3, 15, 15, [], False),
    (12, 1, "Legacy pageviews", None, "Still on legacy filters.", None, [], False, True, None, 1, 400, 300, [], False),
    (13, 1, None, "Pageview count", None, "dau", [], False, True, None, 2, 12, 12, [], False),
    (14, 1, None, None, None, "screens", [], False, False, None, 1, 2, 2, [], False),
    (15, 1, FEATURE_FLAG_INSIGHT[0], None, None, "flag_volume", [], False, True, None, 1, 10, 10, [], False),
    (16, 1, FEATURE_FLAG_INSIGHT[1], None, None, "flag_users", [], False, True, None, 1, 10, 10, [], False),
    (17, 1, "Checkout conversion", None, "Checkout to paid subscription.", "checkout", ["funnel", "revenue"], True, True, 3, 2, 9, 1, [3], False),
    (18, 1, "Abandoned experiment", None, None, "dau", ["experiments"], False, True, None, 1, 30, 6, [], True),
    (19, 3, "Staging smoke test", None, "Created in the staging environment.", "dau", ["staging"], False, True, None, 3, 4, 4, [], False),
    (20, 2, "Mobile screen views", None, None, "screens", ["mobile"], False, True, None, 2, 35, 8, [4], False),
    (21, 2, "App crashes", None, "Unique users hitting a crash.", "crashes", ["mobile", "kpi"], True, True, None, 1, 33, 3, [4], False),
    (22, 4, "Acme signups", None, None, "signups", [], False, True, None, 4, 20, 20, [5], False),
]
PROJECT_OF_TEAM = {1: 1, 2: 2, 3: 1, 4: 4}
LEGACY_FILTERS = {"insight": "TRENDS", "events": [{"id": "$pageview", "type": "events", "math": "total"}], "interval": "day"}

# (user, insight, hours ago), in the team of the insight
VIEWS = [
    (1, 1, 1), (1, 2, 3), (1, 3, 26), (1, 9, 50), (1, 17, 5), (1, 18, 2), (1, 7, 70),
    (2, 1, 2), (2, 2, 30), (2, 10, 96), (2, 17, 12),
    (3, 1, 6), (3, 4, 72), (3, 9, 240), (3, 7, 100),
    (2, 20, 10), (1, 21, 4),
]
DASHBOARDS = [
    (1, 1, "Growth", "default"), (2, 1, "Product health", "default"), (3, 1, "Scratchpad", "unlisted"),
    (4, 2, "Mobile KPIs", "default"), (5, 4, "Acme overview", "default"),
]


def _demo(store: Store, now: datetime, spec: Spec) -> None:
    for dashboard_id, team, name, mode in DASHBOARDS:
        store.insights.add_dashboard(id=dashboard_id, team_id=team, project_id=PROJECT_OF_TEAM[team], name=name,
                                     creation_mode=mode)
    tile_id = 0
    for (insight_id, team, name, derived, description, query_name, tags, favorited, saved, order, creator,
         created_days, modified_days, dashboards, deleted) in INSIGHTS:
        query = QUERIES[query_name] if query_name else None
        filters = {} if query else LEGACY_FILTERS
        created_at, modified_at = iso(now - timedelta(days=created_days)), iso(now - timedelta(days=modified_days))
        assigned = store.insights.insert({
            "team_id": team, "project_id": PROJECT_OF_TEAM[team], "short_id": "QZb2cxTK" if insight_id == 1 else short_id_for(insight_id),
            "name": _demo_name(name, spec), "derived_name": derived, "description": description, "query": query, "filters": filters,
            "order": order, "deleted": deleted, "saved": saved, "favorited": favorited, "created_at": created_at,
            "created_by_id": creator, "updated_at": modified_at, "last_modified_at": modified_at,
            "last_modified_by_id": creator, "kind": insight_queries.kind_of(query, filters),
            "events": insight_queries.events_of(query),
        })
        assert assigned == insight_id, "the demo insights are written first, into an empty table"
        store.insights.set_tags(insight_id, tags)
        for dashboard_id in dashboards:
            tile_id += 1
            store.insights.add_tile(
                id=tile_id, dashboard_id=dashboard_id, insight_id=insight_id, deleted=1 if deleted else None,
                color="blue" if tile_id % 2 else None, layouts=json.dumps({"sm": {"x": 0, "y": tile_id * 5, "w": 6, "h": 5}}),
            )
        store.insights.record_views(team, creator, [insight_id], created_at)
        activity_name = _demo_name(name, spec) or derived
        if activity_name:
            def log(verb: str, at: str, changes: list | None = None) -> None:
                store.activity.log(
                    team_id=team, project_id=PROJECT_OF_TEAM[team], item_id=insight_id, activity=verb, user_id=creator,
                    detail={"changes": changes, "trigger": None, "name": activity_name,
                            "short_id": "QZb2cxTK" if insight_id == 1 else short_id_for(insight_id), "type": None},
                    created_at=at,
                )
            log("created", created_at)
            if insight_id == 1:
                log("updated", modified_at, [{"type": "Insight", "action": "changed", "field": "name", "before": "Signups", "after": "Weekly signups"}])
            if deleted:
                log("deleted", modified_at, [{"type": "Insight", "action": "changed", "field": "deleted", "before": False, "after": True}])
    for user_id, insight_id, hours in VIEWS:
        team = next(row[1] for row in INSIGHTS if row[0] == insight_id)
        store.insights.record_views(team, user_id, [insight_id], iso(now - timedelta(hours=hours)))
    _elements(store)


def _elements(store: Store) -> None:
    """Elements kept in the demo environment (the click events come with the demo stream)."""
    for element in CHAINS[0][:2] + CHAINS[2][:1]:
        store.elements.insert(1, {"order": 0, **{k: element.get(k) for k in (
            "text", "tag_name", "attr_class", "href", "attr_id", "nth_child", "nth_of_type")}, "attributes": element["attributes"]})


def _demo_name(name: Any, spec: Spec) -> str | None:
    if name in FEATURE_FLAG_INSIGHT:
        names = spec.operation("insights_list").parameter("hide_feature_flag_insights").extensions["x-insight-names"]
        return names[name[1]]
    return name


# Scale ---------------------------------------------------------------------------------------------
def _pad_insights(store: Store, now: datetime, total: int) -> None:
    """Generated insights in project 1 until it holds `total` (deterministic, bulk-inserted)."""
    have = store.insights.count_in_project(1)
    start = store.insights.largest_id() + 1
    rng = random.Random(total)
    # Each generated insight uses one of these queries: their stored forms are worked out once.
    stored = [
        (json.dumps(QUERIES[name]), insight_queries.kind_of(QUERIES[name], None), json.dumps(insight_queries.events_of(QUERIES[name])))
        for name in QUERIES if QUERIES[name]["kind"] == "InsightVizNode"
    ]
    words = ["Weekly", "Daily", "Monthly", "Mobile", "Web", "Paid", "Trial", "Churned", "New", "Returning"]
    topics = ["signups", "pageviews", "plays", "checkouts", "errors", "searches", "shares", "invites", "logins", "upgrades"]
    tags = ["growth", "kpi", "revenue", "mobile", "funnel", "retention", "experiments", "ops"]
    insights, tag_rows = [], []
    for insight_id in range(start, start + max(0, total - have)):
        query, kind, events = stored[insight_id % len(stored)]
        created = now - timedelta(minutes=rng.randrange(60, 2 * 365 * 24 * 60))
        modified = created + timedelta(minutes=rng.randrange(0, int((now - created).total_seconds() // 60)))
        insights.append({
            "id": insight_id, "team_id": 1, "project_id": 1, "short_id": short_id_for(insight_id),
            "name": f"{rng.choice(words)} {rng.choice(topics)} #{insight_id}", "derived_name": None, "description": None,
            "query": query, "filters": "{}", "order": None, "deleted": False, "saved": True,
            "favorited": rng.random() < 0.1, "is_sample": False, "created_at": iso(created),
            "created_by_id": rng.randrange(1, 4), "updated_at": iso(modified), "last_modified_at": iso(modified),
            "last_modified_by_id": 1, "kind": kind, "events": events,
        })
        tag_rows += [(insight_id, t) for t in rng.sample(tags, rng.randrange(0, 3))]
    store.insights.insert_many(insights)
    store.insights.add_tags(tag_rows)


def _uuid(suffix: str) -> str:
    return f"0190a2c1-0000-7000-8000-{suffix.rjust(12, '0')}"


def _token(name: str) -> str:
    return f"phc_mock{name}".ljust(47, "0")
