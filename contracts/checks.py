"""The must-haves as named schemathesis checks: registered on import, so they also run in a
plain `schemathesis run` with `SCHEMATHESIS_HOOKS=contracts.checks` (select them with `-c`).

Checks look at one response; what a key may do is known for the keys the runner registers
(`know_key`), or from POSTHOG_CONTRACTS_KEY_SCOPES ("scope,scope" of the bearer key) when
schemathesis is run directly.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis

from contracts import rules

ERROR_KEYS = {"type", "code", "detail", "attr"}
ERROR_TYPES = {"validation_error", "authentication_error", "invalid_request", "throttled_error", "server_error"}
KNOWN_KEYS: dict[str, tuple[str, ...]] = {}


def know_key(value: str, scopes: tuple[str, ...]) -> None:
    """Tell scopes_enforced what a key may do."""
    KNOWN_KEYS[value] = scopes


@schemathesis.check
def delete_is_405(ctx: Any, response: Any, case: Any) -> None:
    """Hard delete of an insight is refused with 405 and an empty body (ForbidDestroyModel)."""
    if _operation_id(case) != "insights_destroy" or response.status_code in (401, 403, 404, 429):
        return None
    if response.status_code != 405:
        raise AssertionError(f"DELETE on an insight answered {response.status_code}; PostHog answers 405 (soft delete is PATCH deleted=true)")
    if response.content:
        raise AssertionError("DELETE on an insight answered 405 with a body; PostHog's 405 is empty")
    return None


@schemathesis.check
def viewed_is_201(ctx: Any, response: Any, case: Any) -> None:
    """Recording views answers 201 with an empty body, whatever ids were dropped."""
    if _operation_id(case) != "insights_viewed_create" or not 200 <= response.status_code < 300:
        return None
    if response.status_code != 201:
        raise AssertionError(f"viewed answered {response.status_code}; PostHog answers 201 with an empty body")
    if response.content:
        raise AssertionError("viewed answered 201 with a body; PostHog's is empty")
    return None


@schemathesis.check
def scopes_enforced(ctx: Any, response: Any, case: Any) -> None:
    """A key is refused exactly when it lacks the operation's scope (or keys may not call it)."""
    key = _bearer(response)
    if key is None or response.status_code in (401, 429):
        return None
    body = _json(response)
    body = body if isinstance(body, dict) else {}
    detail = body.get("detail")
    if response.status_code == 403 and body.get("code") in ("authentication_failed", "not_authenticated"):
        return None  # an unknown key: who the caller is, not what the key may do
    if not _operation_id(case):
        return None
    op = rules.operation(case.operation.definition.raw["operationId"])
    scopes = KNOWN_KEYS.get(key) or _scopes_from_env()
    if scopes is None:
        if response.status_code == 403 and rules.texts()["missing_scope"].match(detail) is not None:
            expected = rules.texts()["missing_scope"].fill(scope=op.required_scope)
            if detail != expected:
                raise AssertionError(f"refused for the wrong scope: {detail!r}; this operation needs {op.required_scope!r}")
        return None
    expected = rules.key_refusal(op, scopes)
    if expected is not None:
        if response.status_code != 403 or detail != expected:
            raise AssertionError(
                f"a key with scopes {sorted(scopes)} must get 403 {expected!r} here; got {response.status_code} {detail!r}"
            )
    elif response.status_code == 403 and detail and rules.is_scope_refusal(detail) and rules.texts()["other_project"].match(detail) is None:
        raise AssertionError(f"a key with scopes {sorted(scopes)} may call this operation; it was refused: {detail!r}")
    return None


@schemathesis.check
def error_body_shape(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx with a body is PostHog's {type, code, detail, attr}."""
    if not 400 <= response.status_code < 500 or not response.content or case.method.upper() == "HEAD":
        return None
    body = _json(response)
    if not isinstance(body, dict):
        raise AssertionError(f"{response.status_code} body is not a JSON object: {response.content[:200]!r}")
    missing = ERROR_KEYS - body.keys()
    if missing:
        raise AssertionError(f"{response.status_code} body lacks {sorted(missing)}: {body}")
    extra = body.keys() - ERROR_KEYS - {"extra"}
    if extra:
        raise AssertionError(f"{response.status_code} body has unexpected keys {sorted(extra)}: {body}")
    if body["type"] not in ERROR_TYPES or not isinstance(body["code"], str) or not isinstance(body["detail"], str):
        raise AssertionError(f"{response.status_code} body has wrong types or an unknown type: {body}")
    if body["attr"] is not None and not isinstance(body["attr"], str):
        raise AssertionError(f"{response.status_code} body's attr must be a string or null: {body}")
    return None


NAMES = ["delete_is_405", "viewed_is_201", "scopes_enforced", "error_body_shape"]


def _operation_id(case: Any) -> str:
    """The canonical id of the operation the request really called ("" for another method)."""
    if case.method.upper() != case.operation.method.upper():
        return ""  # e.g. an undeclared method sent to the operation's path
    return rules.canonical_id(case.operation.definition.raw.get("operationId", ""))


def _bearer(response: Any) -> str | None:
    """The key the request really carried (auth is applied when the request is sent)."""
    headers = {k.lower(): v for k, v in response.request.headers.items()}
    scheme, _, token = str(headers.get("authorization", "")).partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _scopes_from_env() -> tuple[str, ...] | None:
    raw = os.environ.get("POSTHOG_CONTRACTS_KEY_SCOPES")
    return tuple(s.strip() for s in raw.split(",") if s.strip()) if raw else None


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, TypeError):
        return None
