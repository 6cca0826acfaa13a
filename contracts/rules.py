"""What PostHog promises, as the contracts check it: the scope an operation needs comes from the
spec's security requirement, the texts from the spec's `x-posthog-texts`.

The scope rule is stated here on purpose rather than imported from the mock: the contracts are
the oracle for the mock, so a bug in the mock's authorization must not be able to hide here.
"""

from __future__ import annotations

from functools import cache
from typing import Mapping

from posthog_spec import ENVIRONMENTS_PREFIX as ENVIRONMENTS, Catalogue, Operation, Spec, default_spec
from posthog_spec import key_refusal as refusal_of, key_refusal_text


@cache
def spec() -> Spec:
    return default_spec()


def texts() -> Catalogue:
    return spec().texts


def canonical_id(operation_id: str) -> str:
    return operation_id.removeprefix(ENVIRONMENTS)


def operation(operation_id: str) -> Operation:
    return spec().operation(operation_id)


def key_refusal(op: Operation, scopes: tuple[str, ...], scoped_teams: tuple[int, ...] | None = None,
                team_id: int | None = None) -> str | None:
    """The 403 detail a key with these scopes must get on this operation, or None if it may pass."""
    said = refusal_of(op, texts(), scopes, scoped_teams, team_id)
    return said.detail if said else None


def is_scope_refusal(detail: str) -> bool:
    return key_refusal_text(texts(), detail) is not None
