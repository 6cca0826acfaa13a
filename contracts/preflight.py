"""Before any suite: can the target be reached, and does it take the run's key?

A run against an address nobody answers used to print nothing for ten minutes while each
operation timed out in turn. One request first says what is wrong, in one line: connection
refused, a name that does not resolve, a TLS problem, no answer, an unknown project, or a key
the target refuses. Against the toolkit's mock, it first asks whether faults are injected
(`GET /_mock/faults`): a run would chase failures the developer put there on purpose, so it
refuses unless told to (`--allow-faults`).
"""

from __future__ import annotations

import httpx

from contracts.context import RunContext
from posthog_spec import CALLER_REFUSALS, Operation, key_refusal

TIMEOUT_S = 10.0
MOCK_FAULTS = "/_mock/faults"


class TargetUnusable(Exception):
    """Why the run cannot start, in one line."""


def check(ctx: RunContext) -> None:
    """Raises TargetUnusable when the target cannot be used; sends one request."""
    target, texts = ctx.target, ctx.spec.texts
    if target.is_mock and not ctx.options.allow_faults:
        _refuse_active_faults(target)
    key = target.broadest_key() if target.keys else None
    probe = _probe(ctx, key)
    path = probe.path_for(**{probe.project_param: target.project_id}) if probe.project_param else probe.path
    headers = {"Authorization": f"Bearer {key.value}"} if key else {}
    params = {"limit": 1} if probe.parameter("limit") else {}
    with target.client() as client:
        client.timeout = httpx.Timeout(TIMEOUT_S)
        try:
            response = client.get(path, headers=headers, params=params)
        except httpx.ConnectError as problem:
            raise TargetUnusable(f"cannot connect to {target.base_url}: {_reason(problem)}") from None
        except httpx.TimeoutException:
            raise TargetUnusable(f"no answer from {target.base_url} within {TIMEOUT_S:.0f} s") from None
        except httpx.HTTPError as problem:
            raise TargetUnusable(f"cannot talk to {target.base_url}: {_reason(problem)}") from None
    detail = _detail(response)
    refused = texts.recognise(detail, *CALLER_REFUSALS)
    if key is not None and (refused is not None or response.status_code == texts["invalid_key"].status):
        raise TargetUnusable(f"{target.base_url} refused the key {key.redacted}: {response.status_code} {detail or response.text[:200]!r}")
    if texts["project_not_found"].match(detail) is not None:
        raise TargetUnusable(f"{target.base_url} has no project {target.project_id} (give --project-id)")


def _refuse_active_faults(target: object) -> None:
    with target.client() as client:
        try:
            response = client.get(MOCK_FAULTS)
        except httpx.HTTPError:
            return  # the probe below says what is wrong with the target
    rules = response.json().get("rules", []) if response.is_success else []
    if rules:
        raise TargetUnusable(f"the mock at {target.base_url} has {len(rules)} fault rule(s) active, so some answers are"
                             " injected failures or delays; clear them (DELETE /_mock/faults, or on its page at /_mock/)"
                             " or pass --allow-faults")


def _probe(ctx: RunContext, key: object) -> Operation:
    """A read the key may make and that needs no other path value: the first of the spec's."""
    reads = [op for op in ctx.spec.operations if op.method == "GET" and not op.deprecated
             and all(p.name == op.project_param for p in op.parameters if p.location == "path")]
    if key is not None:
        allowed = [op for op in reads if key_refusal(op, ctx.spec.texts, key.scopes, key.scoped_teams) is None]
        reads = allowed or reads
    return reads[0]


def _reason(problem: Exception) -> str:
    text = str(problem) or type(problem).__name__
    for hint, plain in (("Name or service not known", "the name does not resolve"), ("nodename nor servname", "the name does not resolve"),
                        ("Connection refused", "connection refused"), ("CERTIFICATE_VERIFY_FAILED", "its TLS certificate is not trusted")):
        if hint in text:
            return f"{plain} ({text})"
    return text


def _detail(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None
