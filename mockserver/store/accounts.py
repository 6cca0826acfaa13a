"""Organizations, projects, environments (teams), users, personal API keys and sessions."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from mockserver.store import stamps
from mockserver.store.database import Database

KEY_PREFIX = "phx_"


def secure_value(secret: str) -> str:
    """How keys and session cookies are kept: only a hash (PostHog: hash_key_value)."""
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def mask_value(secret: str) -> str:
    return f"{secret[:4]}...{secret[-4:]}"


@dataclass(frozen=True)
class Team:
    id: int
    project_id: int
    name: str
    organization_id: str
    timezone: str


@dataclass(frozen=True)
class User:
    id: int
    uuid: str
    distinct_id: str | None
    first_name: str
    last_name: str
    email: str
    is_email_verified: bool | None
    role_at_organization: str | None
    is_active: bool
    current_team_id: int | None
    date_joined: str


@dataclass(frozen=True)
class PersonalAPIKey:
    id: str
    user_id: int
    label: str
    mask_value: str
    scopes: tuple[str, ...]
    scoped_teams: tuple[int, ...] | None
    scoped_organizations: tuple[str, ...] | None
    created_at: str
    last_used_at: str | None


class Accounts:
    """Every request reads its key, user, team and membership: those lookups are remembered while
    the accounts' stamp holds (store/stamps.py: triggers give it a new value on any change to those
    tables, in whatever process writes). The stamp is read again only once the database's
    generation moved, so a write to an insight costs one read of it, not four lookups again (a
    third of a POST viewed in process). A transaction rolled back forgets everything: what was
    read inside it may never have been.

    A miss (None) is not remembered: keys come from what requests name (a bearer token, a
    project id), and a fuzzer naming a new one each time would grow the cache without bound."""

    def __init__(self, db: Database):
        self.db = db
        self._cache: dict[tuple, Any] = {}
        self._checked: tuple[int, int] | None = None  # (generation, rollbacks) when the stamp was last read
        self._stamp: str | None = None

    def _cached(self, key: tuple, load: Callable[[], Any]) -> Any:
        if self._checked != (self.db.generation, self.db.rollbacks):
            stamp = self.db.scalar("SELECT value FROM meta WHERE key = ?", (stamps.ACCOUNTS,))
            if stamp != self._stamp or self._checked is None or self._checked[1] != self.db.rollbacks:
                self._cache.clear()
                self._stamp = stamp
            self._checked = (self.db.generation, self.db.rollbacks)
        if key in self._cache:
            return self._cache[key]
        value = load()
        if value is not None:
            self._cache[key] = value
        return value

    # Writing the accounts themselves (the seed) -------------------------------------------------
    def add_organization(self, **values: Any) -> None:
        self.db.insert_row("organizations", values)

    def add_project(self, **values: Any) -> None:
        self.db.insert_row("projects", values)

    def add_team(self, **values: Any) -> None:
        """An environment of a project (PostHog's Team)."""
        self.db.insert_row("teams", values)

    def add_user(self, **values: Any) -> None:
        self.db.insert_row("users", values)

    def add_membership(self, user_id: int, organization_id: str, level: int) -> None:
        self.db.insert_row("memberships", {"user_id": user_id, "organization_id": organization_id, "level": level})

    # Users -----------------------------------------------------------------------------------
    def user(self, user_id: int) -> User | None:
        return self._cached(("user", user_id), lambda: self._load_user(user_id))

    def _load_user(self, user_id: int) -> User | None:
        row = self.db.one("SELECT * FROM users WHERE id = ?", (user_id,))
        return _user(row) if row else None

    def users(self, ids: Iterable[int | None]) -> dict[int, User]:
        found = {i: self.user(i) for i in {i for i in ids if i is not None}}
        return {i: user for i, user in found.items() if user is not None}

    def organization_ids_of(self, user_id: int) -> set[str]:
        return {r[0] for r in self.db.query("SELECT organization_id FROM memberships WHERE user_id = ?", (user_id,))}

    def membership_level(self, user_id: int, organization_id: str) -> int | None:
        return self._cached(("membership", user_id, organization_id), lambda: self.db.scalar(
            "SELECT level FROM memberships WHERE user_id = ? AND organization_id = ?", (user_id, organization_id)
        ))

    # Teams and projects ------------------------------------------------------------------------
    def team(self, team_id: int) -> Team | None:
        return self._cached(("team", team_id), lambda: self._load_team(team_id))

    def _load_team(self, team_id: int) -> Team | None:
        row = self.db.one(
            "SELECT t.id, t.project_id, t.name, p.organization_id, p.timezone FROM teams t"
            " JOIN projects p ON p.id = t.project_id WHERE t.id = ?",
            (team_id,),
        )
        return Team(*row) if row else None

    def main_teams(self) -> list[Team]:
        """Each project's main environment (the one with the project's id)."""
        rows = self.db.query("SELECT t.id FROM teams t WHERE t.id = t.project_id ORDER BY t.id")
        return [self.team(row[0]) for row in rows]

    def project(self, project_id: int) -> dict[str, Any] | None:
        row = self.db.one("SELECT * FROM projects WHERE id = ?", (project_id,))
        return dict(row) if row else None

    def projects_of_organization(self, organization_id: str, limit: int, offset: int) -> tuple[int, list[dict]]:
        total = self.db.scalar("SELECT COUNT(*) FROM projects WHERE organization_id = ?", (organization_id,))
        rows = self.db.query(
            "SELECT * FROM projects WHERE organization_id = ? ORDER BY id LIMIT ? OFFSET ?",
            (organization_id, limit, offset),
        )
        return total, [dict(r) for r in rows]

    def member_count(self, organization_id: str) -> int:
        return self.db.scalar("SELECT COUNT(*) FROM memberships WHERE organization_id = ?", (organization_id,))

    def teams_of_organization(self, organization_id: str) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT t.* FROM teams t JOIN projects p ON p.id = t.project_id WHERE p.organization_id = ? ORDER BY t.project_id, t.id",
            (organization_id,),
        )
        return [dict(r) for r in rows]

    def organization(self, organization_id: str) -> dict[str, Any] | None:
        row = self.db.one("SELECT * FROM organizations WHERE id = ?", (organization_id,))
        return dict(row) if row else None

    # Keys and sessions -------------------------------------------------------------------------
    def key_by_value(self, secret: str) -> PersonalAPIKey | None:
        return self._cached(("key", secret), lambda: self._load_key(secret))

    def _load_key(self, secret: str) -> PersonalAPIKey | None:
        row = self.db.one("SELECT * FROM personal_api_keys WHERE secure_value = ?", (secure_value(secret),))
        return _key(row) if row else None

    def mark_key_used(self, key: PersonalAPIKey, now: str) -> None:
        self.db.execute("UPDATE personal_api_keys SET last_used_at = ? WHERE id = ?", (now, key.id))

    def create_key(
        self,
        *,
        user_id: int,
        label: str,
        scopes: list[str],
        now: str,
        scoped_teams: list[int] | None = None,
        scoped_organizations: list[str] | None = None,
        value: str | None = None,
        key_id: str | None = None,
    ) -> tuple[PersonalAPIKey, str]:
        """A new key and its value (the only time the value is known)."""
        value = value or KEY_PREFIX + secrets.token_urlsafe(32)
        key_id = key_id or str(uuid.uuid4())
        self.db.execute(
            "INSERT INTO personal_api_keys (id, user_id, label, secure_value, mask_value, scopes, scoped_teams,"
            " scoped_organizations, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key_id, user_id, label, secure_value(value), mask_value(value), json.dumps(scopes),
                json.dumps(scoped_teams) if scoped_teams else None,
                json.dumps(scoped_organizations) if scoped_organizations else None,
                now,
            ),
        )
        row = self.db.one("SELECT * FROM personal_api_keys WHERE id = ?", (key_id,))
        return _key(row), value

    def user_by_session(self, cookie: str) -> User | None:
        row = self.db.one(
            "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.secure_value = ?",
            (secure_value(cookie),),
        )
        return _user(row) if row else None

    def create_session(self, user_id: int, now: str) -> str:
        cookie = secrets.token_urlsafe(32)
        self.db.execute(
            "INSERT INTO sessions (secure_value, user_id, created_at) VALUES (?, ?, ?)",
            (secure_value(cookie), user_id, now),
        )
        return cookie


def _user(row: Any) -> User:
    return User(
        id=row["id"],
        uuid=row["uuid"],
        distinct_id=row["distinct_id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row["email"],
        is_email_verified=None if row["is_email_verified"] is None else bool(row["is_email_verified"]),
        role_at_organization=row["role_at_organization"],
        is_active=bool(row["is_active"]),
        current_team_id=row["current_team_id"],
        date_joined=row["date_joined"],
    )


def _key(row: Any) -> PersonalAPIKey:
    def tuple_or_none(raw: str | None) -> tuple | None:
        return tuple(json.loads(raw)) if raw else None

    return PersonalAPIKey(
        id=row["id"],
        user_id=row["user_id"],
        label=row["label"],
        mask_value=row["mask_value"],
        scopes=tuple(json.loads(row["scopes"])),
        scoped_teams=tuple_or_none(row["scoped_teams"]),
        scoped_organizations=tuple_or_none(row["scoped_organizations"]),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
    )
