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

import itertools
from typing import Any

from hypothesis import given, seed as hypothesis_seed, strategies as st

from contracts.context import RunContext
from contracts.report import CURL_MARK, SuiteResult, failure_from
from contracts.safety import NO_SUCH_INSIGHT
from contracts.target import Key
from posthog_spec import CALLER_REFUSALS, Catalogue, Operation, Spec, key_refusal, key_refusal_text

DECOY_SCOPES = ("dashboard:read", "feature_flag:write")
NO_SUCH_ELEMENT = 2**62
INVALID = "deliberately invalid (posthog-contracts)"


def run(ctx: RunContext) -> SuiteResult:
    """Draws from the operations the run is pointed at (both prefixes of each); read-only, only
    from those that read (the harmless writes are still writes)."""
    target, spec = ctx.target, ctx.spec
    if not target.is_mock and len(target.keys) < 2:
        return SuiteResult("scopes", skipped="needs keys of different scopes (give several --token KEY=SCOPES)")
    chosen = [op for op in ctx.operations() if not (ctx.options.read_only and op.is_write)]
    keys = _minted_keys(ctx) if target.is_mock else st.sampled_from(target.keys)
    with ctx.suite("scopes") as (result, client):
        drawn = itertools.count(1)

        @hypothesis_seed(ctx.options.seed)
        @ctx.hypothesis_settings(ctx.options.scope_examples)
        @given(op=st.sampled_from(chosen), key=keys)
        def property(op: Operation, key: Key) -> None:
            method, path, params, body = harmless_request(op, target.project_id, spec)
            exchange = client.request(method, path, key=key, params=params, body=body)
            result.count(f"{op.method} {op.path}")
            ctx.progress.update("scopes", next(drawn), ctx.options.scope_examples, "drawn keys", len(result.failures))
            response = exchange.response
            detail = _detail(response)
            team = int(target.project_id) if op.project_param else None
            expected = key_refusal(op, spec.texts, key.scopes, key.scoped_teams, team)
            problem = None
            if expected is not None and (response.status_code != expected.status or detail != expected.detail):
                problem = (f"a key with {list(key.scopes)}{_scoped(key)} must get {expected.status} {expected.detail!r};"
                           f" got {response.status_code} {detail!r}")
            elif expected is None and _refused_for_the_key(response, detail, spec.texts):
                problem = f"a key with {list(key.scopes)}{_scoped(key)} may call this operation; got {response.status_code} {detail!r}"
            if problem:
                raise AssertionError(f"{op.method} {op.path}: {problem}{CURL_MARK}{exchange.curl()}")

        try:
            property()
        except Exception as error:  # hypothesis re-raises the shrunk failures (several as a group)
            for message in _messages(error):
                result.fail(failure_from("scopes", "scope enforcement", message, ctx.options.seed))
        ctx.progress.update("scopes", ctx.options.scope_examples, ctx.options.scope_examples, "drawn keys",
                            len(result.failures), final=True)
    return result


def harmless_request(op: Operation, project_id: str, spec: Spec) -> tuple[str, str, dict[str, Any], Any]:
    """A request that permissions judge like any other but that cannot change a thing."""
    values: dict[str, Any] = {}
    for param in op.parameters:
        if param.location != "path":
            continue
        if param.name == op.project_param:
            values[param.name] = project_id
        elif param.schema.get("type") == "integer":
            values[param.name] = NO_SUCH_ELEMENT
        else:
            values[param.name] = NO_SUCH_INSIGHT
    params = {p.name: p.example for p in op.parameters if p.location == "query" and p.required}
    body = invalid_body(op, spec) if op.body_schema is not None else None
    return op.method, op.path_for(**values), params, body


def invalid_body(op: Operation, spec: Spec) -> dict[str, Any]:
    """The spec's body with one field of the wrong type (and required fields left out)."""
    properties = spec.resolve(op.body_schema).get("properties", {})
    for name, schema in properties.items():
        types = spec.resolve(schema).get("type")
        types = types if isinstance(types, list) else [types]
        if types and "string" not in types and None not in types:
            return {name: INVALID}
    return {}


def _minted_keys(ctx: RunContext) -> st.SearchStrategy[Key]:
    """Keys with any scopes the spec names (and decoys), some scoped to another project: only the
    mock mints keys. Each set of scopes is minted once."""
    target = ctx.target
    minted: dict[tuple[tuple[str, ...], tuple[int, ...] | None], Key] = {}

    def key_for(scopes: tuple[str, ...], scoped_teams: tuple[int, ...] | None) -> Key:
        if (scopes, scoped_teams) not in minted:
            minted[(scopes, scoped_teams)] = target.mint_key(list(scopes), list(scoped_teams) if scoped_teams else None)
        return minted[(scopes, scoped_teams)]

    every = list(ctx.spec.operations)
    pool = sorted({s for op in every for s in (op.key_scopes or ())} | _write_variants(every) | set(DECOY_SCOPES)) + ["*"]
    elsewhere = int(target.project_id) + 1
    return st.builds(
        key_for,
        st.sets(st.sampled_from(pool), min_size=1, max_size=3).map(lambda s: tuple(sorted(s))),
        st.sampled_from([None, None, (elsewhere,)]),
    )


def _write_variants(operations: list[Operation]) -> set[str]:
    return {s.replace(":read", ":write") for op in operations for s in (op.key_scopes or ()) if s.endswith(":read")}


def _refused_for_the_key(response: Any, detail: str | None, texts: Catalogue) -> bool:
    """401, or a 403 about the key itself (not e.g. an organization setting)."""
    if response.status_code == 401:
        return True
    return response.status_code == 403 and (
        key_refusal_text(texts, detail) is not None or texts.recognise(detail, *CALLER_REFUSALS) is not None
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
