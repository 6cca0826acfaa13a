"""What PostHog promises, as the contracts check it: the scope an operation needs comes from the
spec's security requirement, the texts from the spec's `x-posthog-texts`.

The scope rule is stated here on purpose rather than imported from the mock: the contracts are
the oracle for the mock, so a bug in the mock's authorization must not be able to hide here.
"""

from __future__ import annotations

from functools import cache
from typing import Mapping

from mockserver.spec import Operation, Spec, default_spec

ENVIRONMENTS = "environments_"


@cache
def spec() -> Spec:
    return default_spec()


def texts() -> Mapping[str, str]:
    return spec().texts


def canonical_id(operation_id: str) -> str:
    return operation_id.removeprefix(ENVIRONMENTS)


def operation(operation_id: str) -> Operation:
    return spec().operation(operation_id)


def key_has_scope(scopes: tuple[str, ...], required: str) -> bool:
    """PostHog's APIScopePermission: `*` grants all; `X:write` satisfies `X:read`; nothing else."""
    if "*" in scopes or required in scopes:
        return True
    resource, _, action = required.partition(":")
    return action == "read" and f"{resource}:write" in scopes


def key_refusal(op: Operation, scopes: tuple[str, ...], scoped_teams: tuple[int, ...] | None = None,
                team_id: int | None = None) -> str | None:
    """The 403 detail a key with these scopes must get on this operation, or None if it may pass."""
    if not op.accepts_keys:
        return texts()["no_key_access"]
    if op.required_scope and not key_has_scope(scopes, op.required_scope):
        return texts()["missing_scope"].format(scope=op.required_scope)
    if scoped_teams and op.project_param is None:
        return texts()["scoped_key_off_project"]
    if scoped_teams and team_id is not None and team_id not in scoped_teams:
        return texts()["other_project"].format(id=team_id)
    return None


def scope_refusal_texts() -> set[str]:
    """Details that mean "refused because of what the key may do" (not who the caller is)."""
    t = texts()
    return {t["no_key_access"], t["scoped_key_off_project"]}


def is_scope_refusal(detail: str) -> bool:
    t = texts()
    prefix = t["missing_scope"].split("{")[0]
    other = t["other_project"].split("{")[0]
    return detail.startswith(prefix) or detail.startswith(other) or detail in scope_refusal_texts()
