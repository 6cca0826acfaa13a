"""The contracts inside a project's own pytest run.

Two ways in:
- `pytest --posthog-base-url URL [--posthog-token KEY=SCOPES ...]` adds one test per suite
  (`posthog-contracts::conformance`, `::scopes`, `::semantics`) to the run;
- the `posthog_contracts` fixture runs the suites against a URL or an ASGI app from a test:
  `posthog_contracts.check(app=my_app)` fails the test with the report when a contract breaks.
"""

from __future__ import annotations

from typing import Any

import pytest

from contracts.preflight import TargetUnusable
from contracts.report import Redactor, Report
from contracts.runner import SUITES, Options, run
from contracts.target import Key, Target


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("posthog-contracts", "PostHog API contracts")
    group.addoption("--posthog-base-url", help="run the contract suites against this deployment")
    group.addoption("--posthog-project-id", default="1", help="project to test in (default 1)")
    group.addoption("--posthog-token", action="append", default=[], metavar="KEY=SCOPES", help="a key and its scopes")
    group.addoption("--posthog-suites", default=",".join(SUITES), help="comma-separated suites")
    group.addoption("--posthog-examples", type=int, default=25, help="conformance examples per operation")
    group.addoption("--posthog-seed", type=int, help="seed of every suite")
    group.addoption("--posthog-spec", help="the spec to hold the target to (default: the checkout's spec/openapi.yaml)")


class ContractsFailed(Exception):
    """A suite found contract failures; the message is its report."""


class ContractsRunner:
    """What the `posthog_contracts` fixture gives a test."""

    def __init__(self, config: pytest.Config):
        self.config = config

    def run(self, *, app: Any = None, base_url: str | None = None, project_id: str | None = None,
            keys: list[Key] | None = None, **options: Any) -> tuple[Report, Redactor]:
        target = Target(
            base_url=base_url or self.config.getoption("posthog_base_url") or "http://testserver",
            project_id=str(project_id or self.config.getoption("posthog_project_id")),
            keys=list(keys) if keys is not None else _keys(self.config),
            app=app,
        )
        seed = self.config.getoption("posthog_seed")
        options.setdefault("spec_path", self.config.getoption("posthog_spec"))
        settings = Options(examples=self.config.getoption("posthog_examples"), **options)
        if seed is not None:
            settings.seed = seed
        return run(target, settings), Redactor(target.secrets())

    def check(self, **kwargs: Any) -> Report:
        try:
            report, redact = self.run(**kwargs)
        except TargetUnusable as problem:
            pytest.fail(f"posthog-contracts: {problem}", pytrace=False)
        if not report.passed:
            pytest.fail(report.console(redact), pytrace=False)
        return report


@pytest.fixture
def posthog_contracts(pytestconfig: pytest.Config) -> ContractsRunner:
    return ContractsRunner(pytestconfig)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("posthog_base_url"):
        return
    collector = _ContractsCollector.from_parent(session, name="posthog-contracts")
    suites = [s.strip() for s in config.getoption("posthog_suites").split(",") if s.strip()]
    items.extend(SuiteItem.from_parent(collector, name=suite) for suite in suites)


class _ContractsCollector(pytest.Collector):
    def collect(self) -> list[pytest.Item]:
        return []


class SuiteItem(pytest.Item):
    """One contract suite as one test."""

    def runtest(self) -> None:
        try:
            report, redact = ContractsRunner(self.config).run(suites=(self.name,))
        except TargetUnusable as problem:
            raise ContractsFailed(f"posthog-contracts: {problem}") from None
        if not report.passed:
            raise ContractsFailed(report.console(redact))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ContractsFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"posthog-contracts: {self.name}"


def _keys(config: pytest.Config) -> list[Key]:
    try:
        return [Key.parse(flag) for flag in config.getoption("posthog_token")]
    except ValueError as problem:
        raise pytest.UsageError(str(problem))
