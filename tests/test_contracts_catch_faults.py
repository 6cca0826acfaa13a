"""The contracts catch what they claim to: every broken variant of the mock fails them, with a
message naming the fault. And the correct mock passes the same runs (no false alarms)."""

from __future__ import annotations

import pytest

from contracts.report import Redactor
from contracts.runner import Options, run
from contracts.target import Target
from mockserver import Settings, create_app
from tests.broken.variants import FAULTS, broken_app

SEED = 20261123


# The runs the faults are caught with: the same run for faults that share suites and operations.
RUNS = sorted({(fault.suites, fault.operations) for fault in FAULTS})


def contracts_against(app, suites: tuple[str, ...], operations: tuple[str, ...]):
    target = Target(base_url="http://testserver", project_id="1", app=app)
    options = Options(suites=suites, seed=SEED, examples=8, scope_examples=60, semantic_examples=30,
                      operations=list(operations) or None, shrink=False)
    report = run(target, options)
    return report, Redactor(target.secrets())


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_contracts_catch_the_fault(fault, monkeypatch):
    report, redact = contracts_against(broken_app(fault, monkeypatch), fault.suites, fault.operations)
    failures = [f"{f.check}: {f.message}" for s in report.suites for f in s.failures]
    assert not report.passed, f"{fault.description}: the contracts did not notice\n{report.console(redact)}"
    assert any(any(word in text for word in fault.caught_by) for text in failures), (
        f"{fault.description}: failures do not name it ({fault.caught_by}):\n" + "\n".join(failures)
    )


@pytest.mark.parametrize("suites, operations", RUNS, ids=["+".join(suites) + ":" + (",".join(ops) or "all") for suites, ops in RUNS])
def test_the_correct_mock_passes_the_same_run(suites, operations):
    app = create_app(Settings(db=":memory:", strict=True))
    report, redact = contracts_against(app, suites, operations)
    assert report.passed, report.console(redact)
