"""Run the chosen suites against a target and gather one report, safely.

Against anything but the toolkit's mock the run is safe by default: requests are paced under
PostHog's throttles, writes only reach objects the run created, and everything it created is
soft-deleted at the end, also when a suite fails or the run is interrupted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from contracts import conformance, rules, scopes, semantics
from contracts.http import Client
from contracts.pacing import Pacer, schemathesis_rates
from contracts.report import Report, SuiteResult
from contracts.safety import RunRecord, Safety, clean_up
from contracts.target import Target

SUITES = ("conformance", "scopes", "semantics")
DEFAULT_RATE_BUDGET = 0.8


@dataclass
class Options:
    suites: tuple[str, ...] = SUITES
    seed: int = field(default_factory=lambda: random.randrange(2**31))
    examples: int = 25
    scope_examples: int = 300
    semantic_examples: int = 25
    workers: int = 1
    thorough: bool = False
    operations: list[str] | None = None  # canonical operation ids for conformance and scopes; None: all
    shrink: bool = True
    read_only: bool = False
    own_objects_only: bool | None = None  # None: yes, unless the target is the toolkit's mock
    rate_budget: float | None = None  # fraction of PostHog's rates; None: 0.8, unpaced against the mock; 0: unpaced


def run(target: Target, options: Options) -> Report:
    target.prepare()
    record = RunRecord()
    safety = Safety(
        read_only=options.read_only,
        own_objects_only=(not target.is_mock) if options.own_objects_only is None else options.own_objects_only,
        record=record,
        project_id=target.project_id,
    )
    budget = _budget(options, target)
    pacer = Pacer(budget, clock=target.monotonic, sleep=target.sleep) if budget else None
    report = Report(target=target.base_url if target.app is None else f"{target.base_url} (in-process)", seed=options.seed)
    try:
        for name in options.suites:
            report.suites.append(_suite(name, target, options, safety, pacer))
    finally:
        if not options.read_only:
            report.cleanup = _clean_up(target, record, pacer)
    return report


def plan(target: Target, options: Options) -> str:
    """What a run would do, without sending a single request (`--dry-run`)."""
    operations = [op for op in rules.spec().operations if options.operations is None or op.base_id in options.operations]
    writes = [op for op in operations if op.is_write]
    lines = [
        f"posthog-contracts plan for {target.base_url}, project {target.project_id} (seed {options.seed})",
        f"keys: {', '.join(str(k) for k in target.keys) or 'minted by the mock (only the toolkit mock can mint keys)'}",
        f"session: {'given' if target.session_cookie else 'none (session-only operations checked only for refusing keys)'}",
        f"suites: {', '.join(options.suites)}",
        f"conformance: {len(operations)} operations, {options.examples} examples each"
        f"{' (coverage phase everywhere)' if options.thorough else ''}",
        f"scopes: {options.scope_examples} drawn (operation, key) pairs; requests cannot change anything",
        f"semantics: {options.semantic_examples} runs of a state machine over the run's own insights",
    ]
    if options.read_only:
        lines.append(f"read-only: no request with a write method; {len(writes)} write operations left out; semantics skipped")
    else:
        lines.append("writes: on a real deployment only to insights this run creates (named [posthog-contracts <run>],"
                     " tagged posthog-contracts-<run>); element writes left out there")
        lines.append("cleanup: every insight the run created is soft-deleted at the end, also after a failure or Ctrl-C")
    budget = options.rate_budget if options.rate_budget is not None else DEFAULT_RATE_BUDGET
    lines.append(f"pacing: {budget:.0%} of PostHog's per-key throttles (none against the toolkit's mock unless --rate-budget)"
                 if budget else "pacing: off")
    return "\n".join(lines)


def _suite(name: str, target: Target, options: Options, safety: Safety, pacer: Pacer | None) -> SuiteResult:
    if name == "conformance":
        operations = [op for op in rules.spec().operations if options.operations is None or op.base_id in options.operations]
        paced = schemathesis_rates(operations, pacer.fraction, options.examples) if pacer else []
        return conformance.run(target, seed=options.seed, examples=options.examples, workers=options.workers,
                               thorough=options.thorough, operations=options.operations, shrink=options.shrink,
                               safety=safety, pacing=paced)
    if name == "scopes":
        if not target.is_mock and len(target.keys) < 2:
            return SuiteResult("scopes", skipped="needs keys of different scopes (give several --token KEY=SCOPES)")
        return scopes.run(target, seed=options.seed, examples=options.scope_examples, operations=options.operations,
                          shrink=options.shrink, pacer=pacer, read_only=options.read_only)
    if name == "semantics":
        if options.read_only:
            return SuiteResult("semantics", skipped="read-only: the semantic model needs to create and change insights")
        return semantics.run(target, seed=options.seed, examples=options.semantic_examples, shrink=options.shrink,
                             pacer=pacer, record=safety.record)
    raise ValueError(f"unknown suite {name!r}; choose from {', '.join(SUITES)}")


def _budget(options: Options, target: Target) -> float | None:
    if options.rate_budget is not None:
        return options.rate_budget or None
    return None if target.is_mock else DEFAULT_RATE_BUDGET


def _clean_up(target: Target, record: RunRecord, pacer: Pacer | None) -> str:
    client = Client(target, pacer=pacer)
    try:
        deleted = clean_up(target, target.broadest_key(), record, client)
    finally:
        client.close()
    return f"soft-deleted {deleted} insights this run left live (tag {record.tag})"
