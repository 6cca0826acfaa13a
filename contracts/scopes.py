"""Scope enforcement: hypothesis draws an operation and a key's scopes; the target must refuse
exactly the keys PostHog refuses, with PostHog's exact texts (fact sheet §5.2).

What each operation needs comes from the spec's security requirements, never a hand-written
table. Against the mock, keys with any scopes (and scoped to another project) are minted; against
PostHog, the drawn keys are the ones given with their scopes.

The requests cannot change anything: permissions are checked before anything is looked up or
validated, so detail routes get an id that cannot exist and bodies carry a deliberately mistyped
field. An allowed key then gets a 400 or 404; a refused one the 403 under test.
"""

from __future__ import annotations

import time
from typing import Any

from hypothesis import HealthCheck, given, seed as hypothesis_seed, settings, strategies as st

from contracts import rules
from contracts.http import Client
from contracts.pacing import Pacer
from contracts.report import CURL_MARK, SuiteResult, failure_from
from contracts.semantics import hypothesis_phases
from contracts.target import Key, Target
from posthog_spec import Operation

DECOY_SCOPES = ("dashboard:read", "feature_flag:write")
NO_SUCH_INSIGHT = "999999999999"
NO_SUCH_ELEMENT = 2**62
INVALID = "deliberately invalid (posthog-contracts)"


def run(target: Target, *, seed: int, examples: int, other_project: int | None = None,
        operations: list[str] | None = None, shrink: bool = True, pacer: Pacer | None = None,
        read_only: bool = False) -> SuiteResult:
    """`operations`: canonical operation ids to draw from (both prefixes of each); default all.
    `read_only`: only operations that read (the harmless writes are still writes)."""
    result = SuiteResult("scopes")
    started = time.monotonic()
    chosen = [op for op in rules.spec().operations if (operations is None or op.base_id in operations)
              and not (read_only and op.is_write)]
    client = Client(target, pacer=pacer)
    minted: dict[tuple, Key] = {}

    def key_for(scopes: tuple[str, ...], scoped_teams: tuple[int, ...] | None) -> Key:
        if not target.is_mock:
            raise AssertionError("only the mock mints keys")
        wanted = (scopes, scoped_teams)
        if wanted not in minted:
            minted[wanted] = target.mint_key(list(scopes), list(scoped_teams) if scoped_teams else None)
        return minted[wanted]

    if target.is_mock:
        every = list(rules.spec().operations)
        pool = sorted({s for op in every for s in (op.key_scopes or ())} | _write_variants(every) | set(DECOY_SCOPES)) + ["*"]
        elsewhere = other_project or int(target.project_id) + 1
        keys = st.builds(
            key_for,
            st.sets(st.sampled_from(pool), min_size=1, max_size=3).map(lambda s: tuple(sorted(s))),
            st.sampled_from([None, None, (elsewhere,)]),
        )
    else:
        keys = st.sampled_from(target.keys)

    @hypothesis_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=hypothesis_phases(shrink))
    @given(op=st.sampled_from(chosen), key=keys)
    def property(op: Operation, key: Key) -> None:
        method, path, params, body = harmless_request(op, target.project_id)
        exchange = client.request(method, path, key=key, params=params, body=body)
        result.count(f"{op.method} {op.path}")
        response = exchange.response
        detail = _detail(response)
        team = int(target.project_id) if op.project_param else None
        expected = rules.key_refusal(op, key.scopes, key.scoped_teams, team)
        problem = None
        if expected is not None and (response.status_code != 403 or detail != expected):
            problem = f"a key with {list(key.scopes)}{_scoped(key)} must get 403 {expected!r}; got {response.status_code} {detail!r}"
        elif expected is None and _refused_for_the_key(response, detail):
            problem = f"a key with {list(key.scopes)}{_scoped(key)} may call this operation; got {response.status_code} {detail!r}"
        if problem:
            raise AssertionError(f"{op.method} {op.path}: {problem}{CURL_MARK}{exchange.curl()}")

    try:
        property()
    except Exception as error:  # hypothesis re-raises the shrunk failures (several as a group)
        for message in _messages(error):
            result.fail(failure_from("scopes", "scope enforcement", message, seed))
    finally:
        client.close()
    result.notes += filter(None, [client.throttling_note()])
    result.duration = time.monotonic() - started
    return result


def harmless_request(op: Operation, project_id: str) -> tuple[str, str, dict[str, Any], Any]:
    """A request that permissions judge like any other but that cannot change a thing."""
    path = op.path
    for param in op.parameters:
        if param.location != "path":
            continue
        if param.name == op.project_param:
            value = project_id
        elif param.schema.get("type") == "integer":
            value = str(NO_SUCH_ELEMENT)
        else:
            value = NO_SUCH_INSIGHT
        path = path.replace("{" + param.name + "}", value)
    params = {p.name: p.example for p in op.parameters if p.location == "query" and p.required}
    body = invalid_body(op) if op.body_schema is not None else None
    return op.method, path, params, body


def invalid_body(op: Operation) -> dict[str, Any]:
    """The spec's body with one field of the wrong type (and required fields left out)."""
    properties = rules.spec().resolve(op.body_schema).get("properties", {})
    for name, schema in properties.items():
        types = rules.spec().resolve(schema).get("type")
        types = types if isinstance(types, list) else [types]
        if types and "string" not in types and None not in types:
            return {name: INVALID}
    return {}


def _write_variants(operations: list[Operation]) -> set[str]:
    return {s.replace(":read", ":write") for op in operations for s in (op.key_scopes or ()) if s.endswith(":read")}


def _refused_for_the_key(response: Any, detail: str | None) -> bool:
    """401, or a 403 about the key itself (not e.g. an organization setting)."""
    if response.status_code == 401:
        return True
    return response.status_code == 403 and detail is not None and (
        rules.is_scope_refusal(detail)
        or rules.texts().recognise(detail, "not_authenticated", "invalid_key") is not None
    )


def _scoped(key: Key) -> str:
    return f" scoped to projects {list(key.scoped_teams)}" if key.scoped_teams else ""


def _detail(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None


def _messages(error: BaseException) -> list[str]:
    if isinstance(error, BaseExceptionGroup):
        return [m for inner in error.exceptions for m in _messages(inner)]
    return [str(error)]
