"""Run the chosen suites against a target and gather one report, safely.

Against anything but the toolkit's mock the run is safe by default: requests are paced under
PostHog's throttles, writes only reach objects the run created, and everything it created is
soft-deleted at the end, also when a suite fails or the run is interrupted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from contracts import conformance, preflight, scopes, semantics, specs
from contracts.context import RunContext
from contracts.machine import Stopwatch
from contracts.pacing import Pacer
from contracts.progress import Progress
from contracts.report import Report, SuiteResult
from contracts.safety import Safety
from contracts.target import Target
from posthog_spec import Router

# Every suite is a function of the run; each decides for itself whether it can run against this target.
SUITES: dict[str, Callable[[RunContext], SuiteResult]] = {
    "conformance": conformance.run,
    "scopes": scopes.run,
    "semantics": semantics.run,
}
DEFAULT_RATE_BUDGET = 0.8


@dataclass
class Options:
    suites: tuple[str, ...] = tuple(SUITES)
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
    spec_path: str | Path | None = None  # the spec to hold the target to; None: the checkout's spec/openapi.yaml
    progress: str = "auto"  # auto: on a terminal outside CI; always; never
    keep_mock_state: bool = False  # against the toolkit's mock: leave what the run made (no restore)
    allow_faults: bool = False  # against the toolkit's mock: run even with fault rules active
    example_db: str = "auto"  # where conformance keeps failing examples: auto (per target), none, or a directory
    forget_failures: bool = False  # clear the failing examples earlier runs kept for this target first


def run(target: Target, options: Options) -> Report:
    """Raises preflight.TargetUnusable when the target cannot be reached or refuses the key."""
    stopwatch = Stopwatch()
    target.prepare()
    ctx = run_context(target, options)
    checked = False
    try:
        preflight.check(ctx)
        checked = True
        for name in options.suites:
            ctx.report.suites.append(_suite(name)(ctx))
    finally:
        if checked and not options.read_only:
            ctx.report.cleanup = ctx.clean_up()
        if target.snapshot is not None and not options.keep_mock_state:
            restored = target.restore()
            ctx.report.cleanup = "; ".join(filter(None, [ctx.report.cleanup, (
                "the mock's state restored as the run found it" if restored else "the mock's state could NOT be restored")]))
        ctx.report.timing = stopwatch.stop()
    return ctx.report


def run_context(target: Target, options: Options) -> RunContext:
    """The run's context; sends nothing (a dry run builds one too)."""
    spec = specs.load(options.spec_path)
    budget = _budget(options, target)
    return RunContext(
        target=target,
        options=options,
        spec=spec,
        spec_path=specs.path_of(options.spec_path),
        safety=Safety(
            read_only=options.read_only,
            own_objects_only=(not target.is_mock) if options.own_objects_only is None else options.own_objects_only,
            project_id=target.project_id,
            spec=spec,
        ),
        pacer=Pacer(Router(spec.operations), budget, clock=target.monotonic, sleep=target.sleep) if budget else None,
        report=Report(target=target.base_url if target.app is None else f"{target.base_url} (in-process)", seed=options.seed),
        progress=Progress.choose(options.progress),
    )


def plan(target: Target, options: Options) -> str:
    """What a run would do, without sending a single request (`--dry-run`)."""
    ctx = run_context(target, options)
    operations = ctx.operations()
    writes = [op for op in operations if op.is_write]
    lines = [
        f"posthog-contracts plan for {target.base_url}, project {target.project_id} (seed {options.seed})",
        f"spec: {ctx.spec_path}",
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
        lines.append("cleanup: every insight the run created is soft-deleted at the end, also after a failure or Ctrl-C;"
                     " against the toolkit's mock, its state is snapshotted first and restored at the end")
    kept = conformance.examples_kept(ctx)
    lines.append(f"failing examples: {'kept in ' + str(kept) if kept else 'none kept'}"
                 f"{' (cleared first)' if options.forget_failures and kept else ''}")
    budget = options.rate_budget if options.rate_budget is not None else DEFAULT_RATE_BUDGET
    lines.append(f"pacing: {budget:.0%} of PostHog's per-key throttles (none against the toolkit's mock unless --rate-budget)"
                 if budget else "pacing: off")
    return "\n".join(lines)


def _suite(name: str) -> Callable[[RunContext], SuiteResult]:
    try:
        return SUITES[name]
    except KeyError:
        raise ValueError(f"unknown suite {name!r}; choose from {', '.join(SUITES)}") from None


def _budget(options: Options, target: Target) -> float | None:
    if options.rate_budget is not None:
        return options.rate_budget or None
    return None if target.is_mock else DEFAULT_RATE_BUDGET
