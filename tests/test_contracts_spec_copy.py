"""The contracts expect what the spec they are given says: a copy of the spec with one PostHog text
changed is expected by the contracts with no other edit, from the API, the CLI and the pytest
plugin alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from contracts import cli
from contracts.runner import Options, run
from contracts.target import Target
from mockserver import Settings, create_app
from posthog_spec import Spec, default_spec_path
from tests.contracts_support import ThreadedServer
from tests.mock_support import REPO

REWORDED = "This key lacks the scope"
CHANGED = REWORDED + " '{scope}'"  # missing_scope, as the copy words it


@pytest.fixture(scope="module")
def spec_copy(tmp_path_factory) -> Path:
    """The spec with the text of a missing scope reworded."""
    document = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    document["x-posthog-texts"]["missing_scope"]["detail"] = CHANGED
    path = tmp_path_factory.mktemp("spec") / "openapi.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def contracts_with(spec_path: Path, app) -> list[str]:
    """Failures of the scopes suite and of conformance on two operations, in-process."""
    report = run(Target(base_url="http://testserver", project_id="1", app=app),
                 Options(spec_path=spec_path, suites=("scopes", "conformance"), seed=7, examples=5, scope_examples=60,
                         operations=["insights_list", "insights_partial_update"], shrink=False))
    return [f.message for suite in report.suites for f in suite.failures]


def test_the_contracts_expect_the_changed_text_of_a_spec_copy(spec_copy):
    """A mock built from the original spec answers PostHog's words, which the copy no longer has."""
    failures = contracts_with(spec_copy, create_app(Settings(db=":memory:")))
    assert failures, "the contracts should expect the copy's text"
    assert any(REWORDED in f for f in failures), failures


def test_a_mock_built_from_the_same_copy_passes(spec_copy):
    assert contracts_with(spec_copy, create_app(Settings(db=":memory:"), spec=Spec.load(spec_copy))) == []


def test_the_cli_holds_a_target_to_the_spec_named_with_spec(spec_copy, capsys):
    with ThreadedServer(create_app(Settings(db=":memory:"))) as server:
        code = cli.main(["run", "--base-url", server.base_url, "--spec", str(spec_copy), "--suites", "scopes",
                         "--scope-examples", "60", "--seed", "7", "--no-shrink"])
    output = capsys.readouterr().out
    assert code == 1, output
    assert REWORDED in output


def test_a_dry_run_names_the_spec_and_a_missing_one_is_bad_usage(spec_copy, tmp_path, capsys):
    assert cli.main(["run", "--base-url", "http://127.0.0.1:9", "--spec", str(spec_copy), "--dry-run"]) == 0
    assert f"spec: {spec_copy}" in capsys.readouterr().out
    assert cli.main(["run", "--base-url", "http://127.0.0.1:9", "--spec", str(tmp_path / "nope.yaml")]) == 2
    assert "no spec at" in capsys.readouterr().err


def test_the_pytest_fixture_takes_the_spec_from_posthog_spec(spec_copy, tmp_path):
    (tmp_path / "test_app.py").write_text(
        "from mockserver import Settings, create_app\n"
        "def test_contracts(posthog_contracts):\n"
        "    posthog_contracts.check(app=create_app(Settings(db=':memory:')), suites=('scopes',), scope_examples=60,"
        " shrink=False)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path / "test_app.py"),
         "--posthog-spec", str(spec_copy), "--posthog-seed", "7"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert REWORDED in completed.stdout
