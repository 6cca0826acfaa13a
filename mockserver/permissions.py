"""Authorize: may this caller run this operation on this project (fact sheet §5.2)?

Everything comes from the spec: the scope a key needs is the operation's PersonalAPIKeyAuth
requirement, an operation without one refuses every key (`*` included), and a body field marked
`x-legacy-write` is refused as PostHog refuses legacy filter writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from mockserver import errors
from mockserver.auth import Principal
from mockserver.spec import Operation, Spec
from mockserver.store import Store
from mockserver.store.accounts import Team

MAX_TEAM_ID = 2**63 - 1


def key_grants(scopes: tuple[str, ...], required: str) -> bool:
    """`*` grants everything; `X:write` also grants `X:read`."""
    if "*" in scopes or required in scopes:
        return True
    obj, _, action = required.partition(":")
    return action == "read" and f"{obj}:write" in scopes


class Permissions:
    """The refusals of APIScopePermission and project membership, with the spec's texts."""

    def __init__(self, spec: Spec, site_url: str):
        self.texts = spec.texts
        self.site_url = site_url

    def authorize_operation(self, operation: Operation, principal: Principal) -> None:
        """The checks that need no project: can this kind of credential, with these scopes, call it?"""
        if principal.via_key:
            if not operation.accepts_keys:
                raise errors.permission_denied(self.texts["no_key_access"])
            required = operation.required_scope
            if required and not key_grants(principal.key.scopes, required):
                raise errors.permission_denied(self.texts["missing_scope"].format(scope=required))
            if principal.key.scoped_teams and operation.project_param is None:
                raise errors.permission_denied(self.texts["scoped_key_off_project"])
        elif not operation.accepts_session:
            raise errors.not_authenticated(operation.unauthenticated_status, self.site_url, self.texts["not_authenticated"])

    def authorize_project(self, principal: Principal, team: Team, store: Store) -> None:
        """Keys scoped to other projects, then membership of the project's organization."""
        if principal.via_key and principal.key.scoped_teams and team.id not in principal.key.scoped_teams:
            raise errors.permission_denied(self.texts["other_project"].format(id=team.id))
        if store.accounts.membership_level(principal.user.id, team.organization_id) is None:
            raise errors.permission_denied(self.texts["not_a_member"])


def resolve_team(store: Store, principal: Principal, raw_id: str) -> Team:
    """The environment a `{project_id}` or `{environment_id}` names; `@current` is the caller's."""
    if raw_id == "@current":
        team_id = principal.user.current_team_id
    elif raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 19 and int(raw_id) <= MAX_TEAM_ID:
        team_id = int(raw_id)
    else:
        raise errors.project_not_found()
    team = store.accounts.team(team_id) if team_id is not None else None
    if team is None:
        raise errors.project_not_found()
    return team


@dataclass(frozen=True)
class LegacyWriteRule:
    field: str
    unless: str
    error: Mapping[str, Any]


class LegacyWrites:
    """Body fields the spec marks `x-legacy-write`: sending them without `unless` is refused."""

    def __init__(self, spec: Spec):
        self.rules: dict[str, list[LegacyWriteRule]] = {}
        for op in spec.operations:
            if op.body_schema is None:
                continue
            for name, schema in spec.resolve(op.body_schema).get("properties", {}).items():
                marker = schema.get("x-legacy-write")
                if marker:
                    self.rules.setdefault(op.operation_id, []).append(LegacyWriteRule(name, marker["unless"], marker["error"]))

    def refuse(self, operation: Operation, body: Any) -> None:
        if not isinstance(body, dict):
            return
        for rule in self.rules.get(operation.operation_id, ()):
            if body.get(rule.field) is not None and body.get(rule.unless) in (None, {}):
                raise errors.APIError.from_spec(rule.error, attr=None)
