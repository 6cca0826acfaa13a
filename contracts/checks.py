"""The must-haves as named schemathesis checks: registered on import, so they also run in a
plain `schemathesis run` with `SCHEMATHESIS_HOOKS=contracts.checks` (select them with `-c`).

Each check reads statuses and texts from the spec of the schema under test (contracts/specs.py)
and raises a typed failure carrying what it saw, as schemathesis's own checks do. What a key may
do reaches `scopes_enforced` through the run's configuration (`[checks.scopes_enforced] keys`:
the sha256 of each key and its scopes, so no key sits in the configuration), or from
POSTHOG_CONTRACTS_KEY_SCOPES ("scope,scope" of the bearer key) when schemathesis is run directly.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

import schemathesis
from schemathesis.core.failures import Failure, Severity

from contracts import results, specs
from contracts.target import Key, fingerprint
from posthog_spec import CALLER_REFUSALS, Catalogue, Operation, key_refusal, key_refusal_text

KEY_SCOPES_ENV = "POSTHOG_CONTRACTS_KEY_SCOPES"
ERROR_BODY = {"$ref": "#/components/schemas/Error"}
CUSTOM = "ST901"  # schemathesis's code for every custom check


class WrongSuccessAnswer(Failure):
    """An operation that did its job answered otherwise than PostHog: another status, or a body
    where PostHog's is empty."""

    code = CUSTOM
    checks = ("delete_is_405", "viewed_is_201")
    kind_title = "Not PostHog's answer"

    __slots__ = ("status_code", "expected_status", "body_length")

    def __init__(self, *, operation: str, status_code: int, expected_status: int, body_length: int, message: str,
                 title: str | None = None, case_id: str | None = None) -> None:
        super().__init__(operation=operation, title=title, message=message, case_id=case_id, severity=Severity.MEDIUM)
        self.status_code = status_code
        self.expected_status = expected_status
        self.body_length = body_length

    @property
    def _unique_key(self) -> str:
        return f"{self.status_code}|{bool(self.body_length)}"


class ScopeNotEnforced(Failure):
    """A key was refused when PostHog lets it pass, let pass when PostHog refuses it, or refused
    in other words than PostHog's (fact sheet §5.2)."""

    code = CUSTOM
    checks = ("scopes_enforced",)
    kind_title = "Key refused otherwise than by PostHog's scope rule"

    __slots__ = ("status_code", "detail", "expected_detail", "scopes")

    def __init__(self, *, operation: str, status_code: int, detail: str | None, expected_detail: str | None,
                 scopes: tuple[str, ...] | None, message: str, title: str | None = None, case_id: str | None = None) -> None:
        super().__init__(operation=operation, title=title, message=message, case_id=case_id, severity=Severity.HIGH)
        self.status_code = status_code
        self.detail = detail
        self.expected_detail = expected_detail
        self.scopes = scopes

    @property
    def _unique_key(self) -> str:
        return f"{self.status_code}|{self.expected_detail}"


class MalformedErrorBody(Failure):
    """A 4xx body that is not PostHog's error body (the spec's `Error`: type, code, detail, attr)."""

    code = CUSTOM
    checks = ("error_body_shape",)
    kind_title = "Not PostHog's error body"

    __slots__ = ("status_code", "problems")

    def __init__(self, *, operation: str, status_code: int, problems: list[str], message: str,
                 title: str | None = None, case_id: str | None = None) -> None:
        super().__init__(operation=operation, title=title, message=message, case_id=case_id, severity=Severity.MEDIUM)
        self.status_code = status_code
        self.problems = problems


class ResultsDoNotAddUp(Failure):
    """Insight results whose numbers contradict each other as PostHog's runners build them
    (contracts/results.py): a count that is not its series' sum, a funnel that grows."""

    code = CUSTOM
    checks = ("results_add_up",)
    kind_title = "Results that do not add up"

    __slots__ = ("problems",)

    def __init__(self, *, operation: str, problems: list[str], message: str, title: str | None = None,
                 case_id: str | None = None) -> None:
        super().__init__(operation=operation, title=title, message=message, case_id=case_id, severity=Severity.HIGH)
        self.problems = problems


@schemathesis.check
def delete_is_405(ctx: Any, response: Any, case: Any) -> None:
    """Hard delete of an insight is refused with the spec's `x-always` status and an empty body
    (ForbidDestroyModel); the other statuses it documents refuse the caller before that."""
    op = specs.called_operation(case)
    if op is None or op.base_id != "insights_destroy":
        return None
    if response.status_code != op.success_status() and response.status_code in op.documented_statuses():
        return None
    _answers_with_an_empty_success("delete_is_405", case, response, op, "DELETE on an insight", " (soft delete is PATCH deleted=true)")
    return None


@schemathesis.check
def viewed_is_201(ctx: Any, response: Any, case: Any) -> None:
    """Recording views succeeds with the spec's status and an empty body, whatever ids were dropped."""
    op = specs.called_operation(case)
    if op is None or op.base_id != "insights_viewed_create" or not _succeeded(response.status_code):
        return None
    _answers_with_an_empty_success("viewed_is_201", case, response, op, "viewed")
    return None


@schemathesis.check
def scopes_enforced(ctx: Any, response: Any, case: Any) -> None:
    """A key is refused exactly when it lacks the operation's scope (or keys may not call it)."""
    key = _bearer(response)
    op = specs.called_operation(case)
    if key is None or op is None:
        return None
    texts = specs.of_case(case).texts
    detail = _detail(response)
    if response.status_code in {texts[name].status for name in (*CALLER_REFUSALS, "throttled")}:
        return None
    if texts.recognise(detail, *CALLER_REFUSALS):
        return None  # an unknown key (answered 403 on insights): who the caller is
    scopes = _known_scopes(ctx, key)
    problem = _scope_problem(op, texts, scopes, response.status_code, detail)
    if problem is not None:
        expected, message = problem
        raise ScopeNotEnforced(operation=case.operation.label, status_code=response.status_code, detail=detail,
                               expected_detail=expected, scopes=scopes, message=message)
    return None


@schemathesis.check
def error_body_shape(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx with a body is PostHog's error body, as the spec's `Error` schema states it;
    except a refusal of a request line or header too long for the proxy in front of PostHog,
    which PostHog never sees (the spec's `x-front-refusal` note)."""
    if not 400 <= response.status_code < 500 or not response.content or case.method.upper() == "HEAD":
        return None
    spec = specs.of_case(case)
    if spec.front_refusal and spec.front_refusal.refused(response.status_code, _request_lines(response.request)):
        return None
    body = _json(response)
    problems = [error.message for error in spec.validator(ERROR_BODY).iter_errors(body)]
    if problems:
        shown = body if isinstance(body, dict) else response.content[:200]
        raise MalformedErrorBody(operation=case.operation.label, status_code=response.status_code, problems=problems,
                                 message=f"{response.status_code} body is not PostHog's error body: {'; '.join(problems)}\n{shown!r}")
    return None


@schemathesis.check
def results_add_up(ctx: Any, response: Any, case: Any) -> None:
    """Computed results hold together: an insight's `result` under its query, a query's `results`
    under the query sent."""
    op = specs.called_operation(case)
    if op is None or not _succeeded(response.status_code):
        return None
    body = _json(response)
    found = [problem for source, answer in _computed(op.base_id, body, _json_body(response.request))
             for problem in results.problems(source, answer)]
    if found:
        raise ResultsDoNotAddUp(operation=case.operation.label, problems=found,
                                message="results do not add up: " + "; ".join(found))
    return None


NAMES = ["delete_is_405", "viewed_is_201", "scopes_enforced", "error_body_shape", "results_add_up"]


def configuration(keys: list[Key]) -> dict[str, Any]:
    """The `checks` section of a schemathesis configuration enabling these checks, telling
    `scopes_enforced` what each key may do (by fingerprint)."""
    section: dict[str, Any] = {name: {"enabled": True} for name in NAMES}
    section["scopes_enforced"]["keys"] = {key.fingerprint: list(key.scopes) for key in keys}
    return section


def _answers_with_an_empty_success(check: str, case: Any, response: Any, op: Operation, doing: str, hint: str = "") -> None:
    expected = op.success_status()
    if response.status_code != expected:
        message = f"{doing} answered {response.status_code}; PostHog answers {expected} with an empty body{hint}"
    elif response.content:
        message = f"{doing} answered {expected} with a body; PostHog's {expected} is empty"
    else:
        return
    raise WrongSuccessAnswer(operation=case.operation.label, status_code=response.status_code, expected_status=expected,
                             body_length=len(response.content or b""), message=message,
                             title=f"{WrongSuccessAnswer.kind_title} (`{check}`)")


def _scope_problem(op: Operation, texts: Catalogue, scopes: tuple[str, ...] | None, status: int,
                   detail: str | None) -> tuple[str | None, str] | None:
    """What was wrong with this answer to a key with these scopes (the detail PostHog would have
    sent, and a message), or None. With the scopes unknown, only a missing-scope refusal can be
    judged: it must name the scope this operation needs."""
    missing_scope = texts["missing_scope"]
    if scopes is None:
        expected = missing_scope.fill(scope=op.required_scope)
        if status == missing_scope.status and missing_scope.match(detail) is not None and detail != expected:
            return expected, f"refused for the wrong scope: {detail!r}; this operation needs {op.required_scope!r}"
        return None
    said = key_refusal(op, texts, scopes)
    if said is not None:
        if status != said.status or detail != said.detail:
            return said.detail, f"a key with scopes {sorted(scopes)} must get {said.status} {said.detail!r} here; got {status} {detail!r}"
        return None
    refusal = key_refusal_text(texts, detail)
    if refusal is not None and status == refusal.status and refusal.name != "other_project":
        return None, f"a key with scopes {sorted(scopes)} may call this operation; it was refused: {detail!r}"
    return None


def _known_scopes(ctx: Any, key: str) -> tuple[str, ...] | None:
    """The key's scopes as the run configured them, else as the environment says."""
    known = ctx.config.custom_kwargs.get("scopes_enforced", {}).get("keys", {})
    scopes = known.get(fingerprint(key))
    if scopes is not None:
        return tuple(scopes)
    raw = os.environ.get(KEY_SCOPES_ENV)
    return tuple(s.strip() for s in raw.split(",") if s.strip()) if raw else None


def _computed(operation_id: str, body: Any, sent: Any) -> list[tuple[dict[str, Any], Any]]:
    """(query, results) pairs an answer carries: a query's results, each insight's result."""
    if operation_id == "query_create":
        source = results.source_of(sent.get("query")) if isinstance(sent, dict) else None
        return [(source, body.get("results"))] if source and isinstance(body, dict) else []
    items = body.get("results") if isinstance(body, dict) and operation_id == "insights_list" else [body]
    return [(source, item.get("result")) for item in items or [] if isinstance(item, dict)
            for source in [results.source_of(item.get("query"))] if source]


def _json_body(request: Any) -> Any:
    """The JSON body a request carried (a `requests.PreparedRequest`: bytes or text)."""
    try:
        return json.loads(request.body or b"null")
    except (ValueError, TypeError):
        return None


def _succeeded(status: int) -> bool:
    return status // 100 == 2


def _bearer(response: Any) -> str | None:
    """The key the request really carried (auth is applied when the request is sent)."""
    headers = {k.lower(): v for k, v in response.request.headers.items()}
    scheme, _, token = str(headers.get("authorization", "")).partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _request_lines(request: Any) -> list[str]:
    """The request line and header lines of a request, as they went over the wire."""
    parts = urlsplit(str(request.url))
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return [f"{request.method} {target} HTTP/1.1", *(f"{name}: {value}" for name, value in request.headers.items())]


def _detail(response: Any) -> str | None:
    body = _json(response)
    return body.get("detail") if isinstance(body, dict) else None


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, TypeError):
        return None
