"""Run the chosen suites against a target and gather one report."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from contracts import conformance, scopes, semantics
from contracts.report import Report, SuiteResult
from contracts.target import Target

SUITES = ("conformance", "scopes", "semantics")


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


def run(target: Target, options: Options) -> Report:
    target.prepare()
    report = Report(target=target.base_url if target.app is None else f"{target.base_url} (in-process)", seed=options.seed)
    for name in options.suites:
        report.suites.append(_suite(name, target, options))
    return report


def _suite(name: str, target: Target, options: Options) -> SuiteResult:
    if name == "conformance":
        return conformance.run(target, seed=options.seed, examples=options.examples, workers=options.workers,
                               thorough=options.thorough, operations=options.operations, shrink=options.shrink)
    if name == "scopes":
        if not target.is_mock and len(target.keys) < 2:
            return SuiteResult("scopes", skipped="needs keys of different scopes (give several --token KEY=SCOPES)")
        return scopes.run(target, seed=options.seed, examples=options.scope_examples, operations=options.operations,
                          shrink=options.shrink)
    if name == "semantics":
        return semantics.run(target, seed=options.seed, examples=options.semantic_examples, shrink=options.shrink)
    raise ValueError(f"unknown suite {name!r}; choose from {', '.join(SUITES)}")
