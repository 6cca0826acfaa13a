"""Seed files and state documents: the mock's state as YAML or JSON, checked, then loaded whole.

One format serves three doors: `posthog-mock serve --seed-file FILE` (repeatable), `POST
/_mock/state`, and what `GET /_mock/state` exports (state.py), so a state saved on one machine
loads on another. A document has sections (organizations, projects, environments, users,
memberships, personal_api_keys, dashboards, insights, dashboard_tiles, views, activity, elements,
events), each a list of records; most fields may be left out and get what PostHog would give a new
object. Times may be absolute (ISO 8601) or relative to the moment of loading (`-3d`, `-2h`,
`-15m`, `now`), so "the last 7 days" of a fixture never goes stale. `base: demo` starts from the
demo data (`base: accounts`: only its organizations, users and keys); `project: N` makes the
document one project's data, which replaces that project's and leaves the rest alone.

A document is checked before the store is touched: each field against the spec's schema of that
object (an insight's query against InsightQuery, an element against ElementWrite, a key's label
against PersonalAPIKey...), then the store's rules (unique ids, every reference to an object
that exists, one short_id per environment). Everything is written in one transaction; any
problem rolls it back and names the file, the place in it and what is wrong, so a store is never
half loaded.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import yaml

from mockserver import insight_queries, seed
from mockserver.clock import Clock, iso
from mockserver.settings import Settings
from mockserver.store import Store
from mockserver.store.accounts import KEY_PREFIX, mask_value, secure_value
from posthog_spec import Spec

RELATIVE_TIME = re.compile(r"^-(\d+)([smhdw])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
LEVELS = {"member": 1, "admin": 8, "owner": 15}
NAMESPACE = uuid.UUID("0190a2c1-0000-7000-8000-000000000000")
BASES = ("demo", "accounts")


class SeedFileError(ValueError):
    """What is wrong with a document: its file, the place in it, and the problem, one per line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text | int | bool | json | time | flag (0/1/NULL kept as NULL, false, true)
    required: bool = False


@dataclass(frozen=True)
class Section:
    name: str  # in the document
    table: str  # in the store
    columns: tuple[Column, ...]
    schemas: tuple[str, ...] = ()  # the spec's schemas whose properties check the same-named fields
    key: str | None = "id"  # the column other records refer to this one by
    extra: tuple[str, ...] = ()  # fields a record may carry that are not columns

    @property
    def names(self) -> set[str]:
        return {c.name for c in self.columns} | set(self.extra)


def _columns(spec: str) -> tuple[Column, ...]:
    """`name:kind!` items (`!`: required) separated by spaces."""
    found = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        required = kind.endswith("!") or name.endswith("!")
        found.append(Column(name.rstrip("!"), (kind or "text").rstrip("!"), required))
    return tuple(found)


SECTIONS = (
    Section("organizations", "organizations", _columns("id! name! slug ai_data_processing_approved:bool created_at:time"),
            ("Organization",)),
    Section("projects", "projects", _columns(
        "id:int! organization_id! name! uuid api_token timezone app_urls:json test_account_filters:json"
        " primary_dashboard:int week_start_day:int created_at:time updated_at:time"), ("Project",)),
    Section("environments", "teams", _columns("id:int! project_id:int! name! uuid api_token"), ("ProjectBasic",)),
    Section("users", "users", _columns(
        "id:int! uuid distinct_id first_name last_name email! is_email_verified:bool role_at_organization"
        " is_active:bool current_team_id:int date_joined:time"), ("User",)),
    Section("memberships", "memberships", _columns("user_id:int! organization_id! level:int!"), key=None),
    Section("personal_api_keys", "personal_api_keys", _columns(
        "id user_id:int! label! secure_value mask_value scopes:json! scoped_teams:json scoped_organizations:json"
        " created_at:time last_used_at:time"), ("PersonalAPIKey",), extra=("value",)),
    Section("dashboards", "dashboards", _columns("id:int! team_id:int! project_id:int name! creation_mode filters:json deleted:bool")),
    Section("insights", "insights", _columns(
        "id:int team_id:int! project_id:int short_id name derived_name description query:json filters:json order:int"
        " deleted:bool saved:bool favorited:bool is_sample:bool created_at:time created_by_id:int updated_at:time"
        " last_modified_at:time last_modified_by_id:int"), ("InsightCreate", "Insight"), extra=("tags", "dashboards")),
    Section("dashboard_tiles", "dashboard_tiles", _columns(
        "id:int dashboard_id:int! insight_id:int! deleted:flag color layouts:json")),
    Section("views", "insight_views", _columns("team_id:int user_id:int! insight_id:int! last_viewed_at:time!"), key=None),
    Section("activity", "activity_log", _columns(
        "id team_id:int! project_id:int scope item_id! activity! user_id:int detail:json created_at:time!"
        " was_impersonated:bool is_system:bool client")),
    Section("elements", "elements", _columns(
        "id:int team_id:int! text tag_name attr_class:json href attr_id nth_child:int nth_of_type:int attributes:json order:int"),
        ("ElementWrite",)),
    Section("persons", "persons", _columns("id:int project_id:int! distinct_id! properties:json created_at:time")),
    Section("events", "events", _columns(
        "id:int team_id:int! event! timestamp:time! distinct_id! properties:json elements_chain:json")),
)
BY_NAME = {section.name: section for section in SECTIONS}
# Which section a field refers to; `[]` marks a list of references.
REFERENCES = {
    "projects": {"organization_id": "organizations", "primary_dashboard": "dashboards"},
    "environments": {"project_id": "projects"},
    "users": {"current_team_id": "environments"},
    "memberships": {"user_id": "users", "organization_id": "organizations"},
    "personal_api_keys": {"user_id": "users", "scoped_teams[]": "environments", "scoped_organizations[]": "organizations"},
    "dashboards": {"team_id": "environments"},
    "insights": {"team_id": "environments", "created_by_id": "users", "last_modified_by_id": "users", "dashboards[]": "dashboards"},
    "dashboard_tiles": {"dashboard_id": "dashboards", "insight_id": "insights"},
    "views": {"team_id": "environments", "user_id": "users", "insight_id": "insights"},
    "activity": {"team_id": "environments", "user_id": "users"},
    "elements": {"team_id": "environments"},
    "persons": {"project_id": "projects"},
    "events": {"team_id": "environments"},
}
ACCOUNT_SECTIONS = ("organizations", "users", "memberships", "personal_api_keys")
TOP_LEVEL = {"base", "project", "format", "exported_at", "demo_streams", *BY_NAME}
# Fields a document gives differently from the API: the API never shows a key's value again.
NOT_AS_IN_THE_API = {("personal_api_keys", "value")}


@dataclass
class Document:
    """One document and where it came from (a file name, or "request body")."""

    source: str
    data: Any


def read_files(paths: Iterable[str | Path]) -> list[Document]:
    """The files as documents: YAML (JSON is YAML too), or a clear error naming the file."""
    documents, problems = [], []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as problem:
            problems.append(f"{path}: cannot be read: {problem.strerror or problem}")
            continue
        try:
            documents.append(Document(str(path), yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))))
        except yaml.YAMLError as problem:
            mark = getattr(problem, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            problems.append(f"{path}: is not YAML or JSON{where}: {getattr(problem, 'problem', None) or problem}")
    if problems:
        raise SeedFileError(problems)
    return documents


def load_files(store: Store, paths: Sequence[str | Path], spec: Spec, clock: Clock) -> dict[str, int]:
    return load_documents(store, read_files(paths), spec, clock)


def load_documents(store: Store, documents: list[Document], spec: Spec, clock: Clock) -> dict[str, int]:
    """Check the documents, then replace the state with them in one transaction (or one project's
    data, for a `project` document); the number of records loaded per section."""
    now = clock.now()
    plan = _Plan(spec, now)
    for document in documents:
        plan.read(document)
    plan.raise_problems()
    with store.transaction(write=True):
        store.db.execute("PRAGMA defer_foreign_keys = ON")
        plan.make_room(store, clock)
        plan.resolve(store)
        plan.raise_problems()
        plan.write(store)
        plan.check_written(store)
        plan.raise_problems()
    return plan.counts()


# Reading a document ---------------------------------------------------------------------------------
@dataclass
class Record:
    section: Section
    values: dict[str, Any]
    where: str  # "FILE: insights[3]"


class _Plan:
    def __init__(self, spec: Spec, now: datetime):
        self.spec = spec
        self.now = now
        self.records: dict[str, list[Record]] = {name: [] for name in BY_NAME}
        self.problems: list[str] = []
        self.base: str | None = None
        self.project: int | None = None
        self.validators: dict[tuple[str, str], Any] = {}
        self.documents = 0
        self.demo_streams: list[int] | None = None  # the projects with a generated demo stream, when a document says

    def raise_problems(self) -> None:
        if self.problems:
            raise SeedFileError(self.problems[:20] + ([f"... and {len(self.problems) - 20} more"] if len(self.problems) > 20 else []))

    def counts(self) -> dict[str, int]:
        return {name: len(records) for name, records in self.records.items() if records}

    def read(self, document: Document) -> None:
        source, data = document.source, document.data
        first = self.documents == 0
        self.documents += 1
        if not isinstance(data, Mapping):
            self.problems.append(f"{source}: a seed file is a mapping of sections (organizations, projects, insights, ...),"
                                 f" not {type(data).__name__}")
            return
        for name in sorted(set(data) - TOP_LEVEL):
            self.problems.append(f"{source}: {name}: unknown section (sections: {', '.join(BY_NAME)})")
        if "base" in data:
            if data["base"] not in BASES:
                self.problems.append(f"{source}: base: must be one of {', '.join(BASES)} (got {data['base']!r})")
            elif not first:
                self.problems.append(f"{source}: base: only the first document may start from a base")
            else:
                self.base = data["base"]
        if "demo_streams" in data:
            streams = data["demo_streams"]
            if not isinstance(streams, list) or not all(type(p) is int for p in streams):
                self.problems.append(f"{source}: demo_streams: must be a list of project ids")
            else:
                self.demo_streams = streams
        if "project" in data:
            if type(data["project"]) is not int or self.documents > 1 or "base" in data:
                self.problems.append(f"{source}: project: a one-project document names its project by id,"
                                     " alone (no base, no other document)")
            else:
                self.project = data["project"]
                for name in ACCOUNT_SECTIONS:
                    if data.get(name):
                        self.problems.append(f"{source}: {name}: a one-project document holds no accounts")
        elif self.project is not None:
            self.problems.append(f"{source}: a one-project document must be loaded alone")
        for section in SECTIONS:
            items = data.get(section.name)
            if items is None:
                continue
            if not isinstance(items, list):
                self.problems.append(f"{source}: {section.name}: must be a list of records")
                continue
            for index, item in enumerate(items):
                where = f"{source}: {section.name}[{index}]"
                if not isinstance(item, Mapping):
                    self.problems.append(f"{where}: must be a mapping of fields")
                    continue
                values = self._fields(section, dict(item), where)
                if values is not None:
                    self.records[section.name].append(Record(section, values, where))

    def _fields(self, section: Section, item: dict[str, Any], where: str) -> dict[str, Any] | None:
        """The record's fields checked on their own: known, present when required, of the right
        type (the spec's schema where it has one), times read. None when something is wrong."""
        before = len(self.problems)
        if section.name == "memberships" and isinstance(item.get("level"), str) and item["level"] in LEVELS:
            item["level"] = LEVELS[item["level"]]
        for name in sorted(set(item) - section.names):
            self.problems.append(f"{where}.{name}: unknown field (fields: {', '.join(sorted(section.names))})")
        for column in section.columns:
            if column.required and item.get(column.name) is None and not self._derived(section, column.name, item):
                self.problems.append(f"{where}.{column.name}: is required")
        for column in section.columns:
            value = item.get(column.name)
            if value is None:
                continue
            if column.kind == "time":
                moment = self._time(value)
                if moment is None:
                    self.problems.append(f"{where}.{column.name}: {value!r} is not a time (ISO 8601 with its zone, or -3d, -2h, -15m, now)")
                else:
                    item[column.name] = moment
            elif column.kind == "int" and type(value) is not int:
                self.problems.append(f"{where}.{column.name}: {value!r} is not a whole number")
            elif column.kind in ("bool", "flag") and type(value) is not bool:
                self.problems.append(f"{where}.{column.name}: {value!r} is not true or false")
            elif column.kind == "text" and not isinstance(value, str) and not (column.name == "item_id" and type(value) is int):
                self.problems.append(f"{where}.{column.name}: {value!r} is not a text")
        self._against_spec(section, item, where)
        self._own_rules(section, item, where)
        return item if len(self.problems) == before else None

    @staticmethod
    def _derived(section: Section, name: str, item: Mapping[str, Any]) -> bool:
        """Required columns a record may leave out because another field gives them."""
        return (section.name, name) in {("personal_api_keys", "secure_value")}

    def _against_spec(self, section: Section, item: Mapping[str, Any], where: str) -> None:
        """Each field against the same-named property of the section's spec schemas (the first
        that has one), as the API checks what it is sent."""
        for name, value in item.items():
            schema = self._property(section, name)
            if schema is None or value is None or (section.name, name) in NOT_AS_IN_THE_API:
                continue
            for error in self._validator(section, name, schema).iter_errors(value):
                inner = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
                self.problems.append(f"{where}.{name}{inner}: {error.message}")
                break
        if section.name == "events":
            for index, element in enumerate(item.get("elements_chain") or []):
                for error in self._validator(BY_NAME["elements"], "element", {"$ref": "#/components/schemas/ElementWrite"}).iter_errors(element):
                    inner = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
                    self.problems.append(f"{where}.elements_chain[{index}]{inner}: {error.message}")
                    break

    def _property(self, section: Section, name: str) -> Mapping[str, Any] | None:
        for schema_name in section.schemas:
            found = _properties(self.spec, schema_name).get(name)
            if found is not None:
                return found
        return None

    def _validator(self, section: Section, name: str, schema: Mapping[str, Any]) -> Any:
        key = (section.name, name)
        if key not in self.validators:
            self.validators[key] = self.spec.validator(schema)
        return self.validators[key]

    def _own_rules(self, section: Section, item: Mapping[str, Any], where: str) -> None:
        """What the spec's schemas do not say but the store needs."""
        if section.name == "memberships" and item.get("level") not in (*LEVELS.values(), None):
            self.problems.append(f"{where}.level: must be member, admin or owner (1, 8 or 15)")
        if section.name == "personal_api_keys":
            value, stored = item.get("value"), item.get("secure_value")
            if (value is None) == (stored is None):
                self.problems.append(f"{where}: give the key's value (phx_...), or the secure_value an export holds, not both")
            elif value is not None and (not isinstance(value, str) or not value.startswith(KEY_PREFIX) or len(value) < 12):
                self.problems.append(f"{where}.value: a personal API key starts with {KEY_PREFIX} and has at least 12 characters")
        if section.name == "insights":
            if item.get("query") is None and not item.get("filters"):
                self.problems.append(f"{where}: an insight needs a query (or, for a legacy insight, its filters)")

    def _time(self, value: Any) -> str | None:
        if isinstance(value, datetime):
            return iso(value) if value.tzinfo else None
        if not isinstance(value, str):
            return None
        if value == "now":
            return iso(self.now)
        relative = RELATIVE_TIME.match(value)
        if relative:
            return iso(self.now - timedelta(**{UNITS[relative.group(2)]: int(relative.group(1))}))
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return iso(moment) if moment.tzinfo else None

    # Resolving against the store ----------------------------------------------------------------------
    def make_room(self, store: Store, clock: Clock) -> None:
        """Inside the transaction: the whole state cleared (and the base seeded), or one project's data."""
        if self.project is None:
            store.db.clear()
            if self.base is not None:
                seed.load(store, Settings(seed="demo" if self.base == "demo" else "empty"), clock, self.spec)
            return
        if store.accounts.project(self.project) is None:
            self.problems.append(f"{self._first_source()}: project: the mock has no project {self.project}")
            return
        for record in self.records["projects"] + self.records["environments"]:
            project = record.values.get("project_id", record.values.get("id"))
            if project != self.project:
                self.problems.append(f"{record.where}: belongs to project {project}, not to the document's project {self.project}")
        for sql in PROJECT_DATA:
            store.db.execute(sql.replace("?", str(int(self.project))))

    def _first_source(self) -> str:
        for records in self.records.values():
            if records:
                return records[0].where.split(":")[0]
        return "document"

    def resolve(self, store: Store) -> None:
        """Ids given where left out, references and uniqueness checked against the store as it
        will be (what stays of it, and the documents)."""
        existing = {section.name: self._existing(store, section) for section in SECTIONS if section.key}
        self._number(store, "insights")
        self._number(store, "dashboard_tiles")
        self._number(store, "elements")
        self._number(store, "persons")
        self._number(store, "events")
        self._main_environments(existing)
        known: dict[str, set[Any]] = {}
        for section in SECTIONS:
            if not section.key:
                continue
            seen = set(existing[section.name]) if self.project is None or section.name not in ("projects", "environments") \
                else set(existing[section.name]) - {r.values.get(section.key) for r in self.records[section.name]}
            for record in self.records[section.name]:
                ident = record.values.get(section.key)
                if ident in seen:
                    self.problems.append(f"{record.where}.{section.key}: {ident!r} is used twice ({section.name} ids are unique)")
                seen.add(ident)
            known[section.name] = seen
        teams = {r.values["id"]: r.values["project_id"] for r in self.records["environments"]}
        teams.update({row[0]: row[1] for row in store.db.query("SELECT id, project_id FROM teams")
                      if row[0] not in teams})
        insights_team = {r.values["id"]: r.values["team_id"] for r in self.records["insights"]}
        for section_name, references in REFERENCES.items():
            for record in self.records[section_name]:
                for field, target in references.items():
                    name, many = field.rstrip("[]"), field.endswith("[]")
                    value = record.values.get(name)
                    values = (value or []) if many else [value]
                    for one in values:
                        if one is not None and one not in known[target]:
                            self.problems.append(f"{record.where}.{name}: no {target[:-1].replace('_', ' ')} {one!r}"
                                                 f" in the state being loaded")
        for record in self.records["dashboards"] + self.records["insights"] + self.records["activity"]:
            team = record.values.get("team_id")
            if team in teams:
                given = record.values.get("project_id")
                if given is not None and given != teams[team]:
                    self.problems.append(f"{record.where}.project_id: environment {team} belongs to project {teams[team]}, not {given}")
                record.values["project_id"] = teams[team]
        for record in self.records["views"]:
            record.values.setdefault("team_id", insights_team.get(record.values["insight_id"]))
            if record.values["team_id"] is None:
                record.values["team_id"] = store.db.scalar("SELECT team_id FROM insights WHERE id = ?", (record.values["insight_id"],))
        short_ids: set[tuple[int, str]] = set(
            (row[0], row[1]) for row in store.db.query("SELECT team_id, short_id FROM insights"))
        for record in self.records["insights"]:
            values = record.values
            values.setdefault("short_id", seed.short_id_for(values["id"]))
            pair = (values["team_id"], values["short_id"])
            if pair in short_ids:
                self.problems.append(f"{record.where}.short_id: {values['short_id']!r} is taken in environment {values['team_id']}")
            short_ids.add(pair)

    def _existing(self, store: Store, section: Section) -> set[Any]:
        return {row[0] for row in store.db.query(f'SELECT "{section.key}" FROM "{section.table}"')}

    def _number(self, store: Store, name: str) -> None:
        """Ids for records that left theirs out, after every id already taken."""
        section = BY_NAME[name]
        taken = [r.values["id"] for r in self.records[name] if r.values.get("id") is not None]
        following = max([store.db.scalar(f'SELECT max(id) FROM "{section.table}"') or 0, *taken]) + 1
        for record in self.records[name]:
            if record.values.get("id") is None:
                record.values["id"] = following
                following += 1

    def _main_environments(self, existing: Mapping[str, set[Any]]) -> None:
        """A project's main environment has the project's id; a document may leave it out."""
        given = {r.values["id"] for r in self.records["environments"]} | set(existing["environments"])
        for record in self.records["projects"]:
            project = record.values
            if project["id"] not in given:
                self.records["environments"].append(Record(BY_NAME["environments"], {
                    "id": project["id"], "project_id": project["id"], "name": project["name"]}, record.where))

    # Writing ----------------------------------------------------------------------------------------
    def write(self, store: Store) -> None:
        if self.demo_streams is not None:
            store.events.set_demo_projects(self.demo_streams)
        for section in SECTIONS:
            if section.name in ("persons", "events"):
                continue

            for record in self.records[section.name]:
                try:
                    WRITERS.get(section.name, _write_plain)(store, section, record.values, self.now)
                except sqlite3.IntegrityError as problem:
                    self.problems.append(f"{record.where}: the store refused it: {problem}")
        try:
            load_events(store, [r.values for r in self.records["persons"]], [r.values for r in self.records["events"]], self.now)
        except sqlite3.IntegrityError as problem:
            self.problems.append(f"{self._first_source()}: the store refused the persons or events: {problem}")

    def check_written(self, store: Store) -> None:
        """The store's own last word: every reference resolves (PRAGMA foreign_key_check)."""
        for table, rowid, parent, _ in store.db.query("PRAGMA foreign_key_check"):
            self.problems.append(f"{self._first_source()}: {table} row {rowid} refers to a missing {parent} row")


# One project's data, deleted before a one-project document is loaded (`?` is the project id).
PROJECT_DATA = (
    "DELETE FROM insight_views WHERE insight_id IN (SELECT id FROM insights WHERE project_id = ?)",
    "DELETE FROM insight_tags WHERE insight_id IN (SELECT id FROM insights WHERE project_id = ?)",
    "DELETE FROM dashboard_tiles WHERE insight_id IN (SELECT id FROM insights WHERE project_id = ?)"
    " OR dashboard_id IN (SELECT id FROM dashboards WHERE project_id = ?)",
    "DELETE FROM insights WHERE project_id = ?",
    "DELETE FROM dashboards WHERE project_id = ?",
    "DELETE FROM activity_log WHERE project_id = ?",
    "DELETE FROM elements WHERE team_id IN (SELECT id FROM teams WHERE project_id = ?)",
    "DELETE FROM events WHERE project_id = ?",
    "DELETE FROM persons WHERE project_id = ?",
)


def load_events(store: Store, persons: list[dict[str, Any]], events: list[dict[str, Any]], now: datetime) -> None:
    """Every person and event of the documents, in one place: what insight results and element
    statistics are computed from beside the demo streams (mockserver/analytics/)."""
    store.events.add_persons([{
        "id": p.get("id"), "project_id": p["project_id"], "distinct_id": p["distinct_id"],
        "properties": p.get("properties") or {}, "created_at": p.get("created_at") or iso(now),
    } for p in persons])
    projects = {team.id: team.project_id for team in map(store.accounts.team, {e["team_id"] for e in events}) if team}
    store.events.add([{
        "id": e.get("id"), "project_id": projects[e["team_id"]], "team_id": e["team_id"],
        "event": e["event"], "timestamp": e["timestamp"], "distinct_id": e["distinct_id"], "properties": e.get("properties"),
        "elements_chain": e.get("elements_chain"),
    } for e in events])


def _write_plain(store: Store, section: Section, values: Mapping[str, Any], now: datetime) -> None:
    store.db.insert_row(section.table, {c.name: _stored(c, values[c.name]) for c in section.columns if c.name in values})


def _write_project(store: Store, section: Section, values: dict[str, Any], now: datetime) -> None:
    created = values.get("created_at") or iso(now)
    values = {"uuid": _uuid("project", values["id"]), "api_token": _token("project", values["id"]), "created_at": created,
              "updated_at": created, "app_urls": [], "test_account_filters": [], **values}
    store.db.execute("DELETE FROM projects WHERE id = ?", (values["id"],))
    _write_plain(store, section, values, now)


def _write_environment(store: Store, section: Section, values: dict[str, Any], now: datetime) -> None:
    values = {"uuid": _uuid("environment", values["id"]), "api_token": _token("environment", values["id"]), **values}
    store.db.execute("DELETE FROM teams WHERE id = ?", (values["id"],))
    _write_plain(store, section, values, now)


def _write_organization(store: Store, section: Section, values: dict[str, Any], now: datetime) -> None:
    slug = re.sub(r"[^a-z0-9]+", "-", values["name"].lower()).strip("-") or "organization"
    _write_plain(store, section, {"slug": slug, "created_at": iso(now), **values}, now)


def _write_user(store: Store, section: Section, values: dict[str, Any], now: datetime) -> None:
    _write_plain(store, section, {"uuid": str(_uuid("user", values["id"])), "date_joined": iso(now), **values}, now)


def _write_key(store: Store, section: Section, values: dict[str, Any], now: datetime) -> None:
    value = values.get("value")
    found = {"id": str(uuid.uuid5(NAMESPACE, f"key:{values.get('secure_value') or secure_value(value)}")), "created_at": iso(now), **values}
    if value is not None:
        found.update(secure_value=secure_value(value), mask_value=mask_value(value))
    found.setdefault("mask_value", "phx_...")
    _write_plain(store, section, found, now)


def _write_dashboard(store: Store, section: Section, values: dict[str, Any], now: datetime) -> None:
    _write_plain(store, section, values, now)


def _write_insight(store: Store, section: Section, values: dict[str, Any], now: datetime) -> None:
    created = values.get("created_at") or iso(now)
    modified = values.get("last_modified_at") or values.get("updated_at") or created
    query = values.get("query")
    filters = values.get("filters") or {}
    row = {"filters": filters, "saved": True, "created_at": created, "updated_at": modified, "last_modified_at": modified,
           "last_modified_by_id": values.get("created_by_id"), **values}
    row["kind"] = insight_queries.kind_of(query, filters)
    row["events"] = insight_queries.events_of(query)
    store.insights.insert_many([row])
    store.insights.set_tags(values["id"], values.get("tags") or [])
    for dashboard_id in values.get("dashboards") or []:
        store.insights.add_tile(dashboard_id=dashboard_id, insight_id=values["id"])


def _write_view(store: Store, section: Section, values: dict[str, Any], now: datetime) -> None:
    store.insights.record_views(values["team_id"], values["user_id"], [values["insight_id"]], values["last_viewed_at"])


def _write_activity(store: Store, section: Section, values: dict[str, Any], now: datetime) -> None:
    _write_plain(store, section, {"id": str(uuid.uuid4()), "scope": "Insight", "detail": {}, **values,
                                  "item_id": str(values["item_id"])}, now)


WRITERS: dict[str, Callable[[Store, Section, dict[str, Any], datetime], None]] = {
    "organizations": _write_organization, "projects": _write_project, "environments": _write_environment,
    "users": _write_user, "personal_api_keys": _write_key, "dashboards": _write_dashboard, "insights": _write_insight,
    "views": _write_view, "activity": _write_activity,
}


def _stored(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind == "json":
        return json.dumps(value, separators=(",", ":"))
    if column.kind in ("bool", "flag"):
        return int(value)
    return value


def _properties(spec: Spec, name: str) -> dict[str, Any]:
    """A schema's properties, those of its allOf parts included."""
    def collect(schema: Mapping[str, Any]) -> dict[str, Any]:
        schema = spec.resolve(schema)
        found: dict[str, Any] = {}
        for part in schema.get("allOf", []):
            found.update(collect(part))
        found.update(schema.get("properties", {}))
        return found
    return collect(spec.components["schemas"][name])


def _uuid(kind: str, ident: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{ident}"))


def _token(kind: str, ident: Any) -> str:
    return "phc_" + hashlib.sha256(f"posthog-mock:{kind}:{ident}".encode()).hexdigest()[:43]
