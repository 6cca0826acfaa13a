"""Conformance: schemathesis over every operation of the spec, with every built-in check that
applies, the named checks of contracts/checks.py, and the stateful phase along the spec's links.

The default profile keeps a full run against the mock within a couple of minutes on two cores:
the coverage phase (boundary cases of every field) runs on canonical operations, except the
four whose body is a whole insight query, where it alone would generate ~8,000 cases each; the
deprecated /environments/ copies are fuzzed with a fifth of the examples. `thorough` runs
everything everywhere. Examples and fuzzing always run on every operation.

Failing examples are kept per target and replayed first on the next run (contracts/replay.py);
a failure that comes back that way says so.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.config import ChecksConfig, SchemathesisConfig
from schemathesis.core.errors import NoLinksFound
from schemathesis.engine import Status, events, from_schema
from schemathesis.generation.meta import TestPhase
from schemathesis.generation.stateful import STATEFUL_TESTS_LABEL

from contracts import checks, hooks, replay
from contracts.context import RunContext
from contracts.pacing import schemathesis_rates
from contracts.report import Failure, SuiteResult
from posthog_spec import Spec

# Bodies holding a query: the coverage phase walks every kind of the query schemas (a /query/ body
# alone made 8,700 cases, three quarters of a run), so the default profile leaves them to fuzzing.
QUERY_BODY_OPERATIONS = ["insights_create", "insights_update", "insights_partial_update", "insights_generate_metadata_create",
                         "query_create"]


def run(ctx: RunContext) -> SuiteResult:
    """Every operation the run is pointed at (`Options.operations`, both prefixes of each)."""
    seed, safety = ctx.options.seed, ctx.safety
    kept = examples_kept(ctx)
    if ctx.options.forget_failures:
        replay.forget(kept)
    recorder = replay.ReplayRecorder(kept) if kept else None
    with ctx.suite("conformance") as (result, _), (replay.kept_in(recorder) if recorder else nullcontext()):
        schema = schemathesis.openapi.from_path(str(ctx.spec_path), config=SchemathesisConfig.from_dict(config(ctx)))
        if ctx.target.app is not None:
            schema.app = ctx.target.app

        # schemathesis marks each hook function, so these are plain functions, not bound methods.
        def map_case(context: Any, case: Any) -> Any:
            if recorder:
                recorder.working_on(STATEFUL_TESTS_LABEL if case.meta and case.meta.phase.name == TestPhase.STATEFUL
                                    else case.operation.label)
            return safety.aim_case(context, hooks.within_posthog_rules(context, case))

        def after_call(context: Any, case: Any, response: Any) -> None:
            safety.remember_created(context, case, response)

        schema.hook("map_case")(map_case)
        schema.hook("after_call")(after_call)
        total = len({f"{op.method} {op.path}" for op in ctx.operations() if safety.allows(op)})
        finished: set[str] = set()
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                _collect(result, event, seed)
                finished.add(event.recorder.label)
                ctx.progress.update("conformance", min(len(finished), total), total, "operations", len(result.failures))
            elif isinstance(event, events.NonFatalError) and isinstance(event.value, NoLinksFound):
                result.notes.append("stateful phase skipped: no links among the chosen operations")
            elif isinstance(event, events.NonFatalError):
                result.fail(Failure("conformance", event.label, "error", f"{event.info.title}: {event.info}", seed=seed))
            elif isinstance(event, events.FatalError):
                result.fail(Failure("conformance", "run", "fatal error", repr(event.exception), seed=seed))
            elif isinstance(event, events.RateLimitRetry):
                result.notes.append(f"429 on {event.operation}: waited {event.delay:.1f} s ({event.retries_left} retries left)")
        ctx.progress.update("conformance", min(len(finished), total), total, "operations", len(result.failures), final=True)
    if recorder and recorder.replayed:
        # Failures of an operation whose kept example failed again: found or not by this run's own
        # cases too (schemathesis reports a failure once, from the phase that met it first).
        for failure in result.failures:
            failure.replayed = failure.operation in recorder.replayed
        result.notes.append(f"failures {replay.REPLAYED} on {len(recorder.replayed)} operations: examples kept in {kept}"
                            " (--forget-failures clears them, --example-db none keeps none)")
    return result


def examples_kept(ctx: RunContext) -> Path | None:
    """Where this run keeps the failing examples conformance finds, and replays earlier ones from."""
    target = ctx.target
    return replay.location(ctx.options.example_db, target.base_url, target.project_id, in_process=target.app is not None)


def config(ctx: RunContext) -> dict[str, Any]:
    """The schemathesis configuration of a run (the same as a `schemathesis.toml` would say)."""
    options, spec, target = ctx.options, ctx.spec, ctx.target
    auth: dict[str, Any] = {"PersonalAPIKeyAuth": {"bearer": ctx.key.value}}
    if target.session_cookie:
        auth["SessionAuth"] = {"api_key": target.session_cookie}
    operations: list[dict[str, Any]] = [
        # Documented as always refused, so valid data is refused by design (stack notes, pitfall 10);
        # or PostHog refuses some valid data itself (x-refuses-valid-data: a query it cannot run).
        {"include-operation-id": [op.operation_id],
         "checks": {"positive_data_acceptance": {"expected-statuses": sorted(map(str, op.documented_statuses()))}}}
        for op in spec.operations if op.always_refused or op.refuses_valid_data
    ]
    if not options.thorough:
        # The deprecated /environments/ copies run the canonical operations under another prefix:
        # the default profile fuzzes them lightly, and leaves the coverage phase to the canonical ones.
        deprecated = sorted(op.operation_id for op in spec.operations if op.deprecated)
        operations.append({"include-operation-id": deprecated, "phases": {"coverage": {"enabled": False}},
                           "generation": {"max-examples": max(5, options.examples // 5)}})
        operations.append({"include-operation-id": QUERY_BODY_OPERATIONS, "phases": {"coverage": {"enabled": False}}})
    operations += ctx.safety.conformance_operations()
    if ctx.pacer:
        operations += schemathesis_rates(ctx.operations(), ctx.pacer.fraction, options.examples)
    if options.operations:
        operations.append({"exclude-operation-id": spec.under_both_prefixes(options.operations), "enabled": False})
    data: dict[str, Any] = {
        "seed": options.seed,
        "workers": options.workers,
        # Not derandomized, even where hypothesis's own CI profile says so (`CI` set): the seed makes a
        # run repeatable already, and a derandomized run neither reads nor keeps failing examples.
        "generation": {"max-examples": options.examples, "allow-extra-parameters": False, "no-shrink": not options.shrink,
                       "deterministic": False,
                       # With none kept, none is used: hypothesis's default is a database in the working directory.
                       **({} if examples_kept(ctx) else {"database": replay.NONE})},
        "auth": {"openapi": auth},
        "checks": {**checks.configuration(target.keys),
                   "negative_data_rejection": {"expected-statuses": rejections(spec)}},
        "phases": {"stateful": {"inference": {"algorithms": ["location-headers"]}}, **ctx.safety.conformance_phases()},
        "operations": operations,
    }
    if target.app is None:
        data["base-url"] = target.base_url
    return data



def rejections(spec: Spec) -> list[str]:
    """The statuses that refuse invalid data: schemathesis's own, and every 4xx the spec documents
    (a body over the size limit is refused with 413, another media type with 415)."""
    documented = {str(status) for op in spec.operations for status in op.documented_statuses() if 400 <= status < 500}
    return sorted(set(ChecksConfig.from_dict({}).negative_data_rejection.expected_statuses) | documented)


def _collect(result: SuiteResult, event: Any, seed: int) -> None:
    recorder = event.recorder
    result.count(recorder.label, len(recorder.cases))
    seen = set()
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            if node.status != Status.FAILURE or node.failure_info is None:
                continue
            failure = node.failure_info.failure
            signature = (recorder.label, node.name, failure.title)
            if signature in seen:
                continue
            seen.add(signature)
            message = failure.title + (f"\n{failure.message}" if failure.message else "")
            interaction = recorder.interactions.get(case_id)
            result.fail(Failure("conformance", recorder.label, node.name, message, curl=node.failure_info.code_sample,
                                seed=seed, response=_excerpt(interaction.response) if interaction else None))


def _excerpt(response: Any) -> str | None:
    if response is None:
        return None
    body = (response.content or b"")[:500].decode("utf-8", errors="replace")
    return f"{response.status_code} {body}".rstrip()
