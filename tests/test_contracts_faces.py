"""The contracts' faces: the command line (exit codes, console, JUnit) and the pytest plugin,
against the correct mock and a broken one, in-process and over a real socket."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from contracts import cli
from contracts.report import Redactor
from contracts.runner import Options, run
from contracts.target import Target
from mockserver import Settings, create_app
from tests.broken.variants import FAULTS, broken_app
from tests.contracts_support import ThreadedServer
from tests.mock_support import ALL_ACCESS, REPO, ServedMock

DELETE_204 = next(f for f in FAULTS if f.name == "delete_204")


@pytest.fixture(scope="module")
def served_mock(tmp_path_factory):
    mock = ServedMock(tmp_path_factory.mktemp("served") / "mock.sqlite3").start()
    yield mock
    mock.stop()


def test_every_suite_holds_against_the_mock_over_a_socket(served_mock, tmp_path, capsys):
    """Fewer examples than the default: the default counts run in-process below (and in the bench)."""
    junit = tmp_path / "contracts.xml"
    code = cli.main(["run", "--base-url", served_mock.base_url, "--seed", "11", "--examples", "8", "--scope-examples", "100",
                     "--semantic-examples", "10", "--junit-xml", str(junit)])
    output = capsys.readouterr().out
    assert code == 0, output
    assert "RESULT: all contracts hold" in output
    root = ET.parse(junit).getroot()
    assert [s.get("name") for s in root.iter("testsuite")] == ["conformance", "scopes", "semantics"]
    assert all(s.get("failures") == "0" for s in root.iter("testsuite"))
    assert int(next(root.iter("testsuite")).get("tests")) >= 52  # every operation of the spec has a testcase


# A correct server passes every run (issue 17): the full default run, once per seed, each on a fresh
# mock; the seeds run side by side under xdist.
DEFAULT_RUN_SEEDS = [12, 17, 2026]


@pytest.mark.parametrize("seed", DEFAULT_RUN_SEEDS)
def test_every_suite_holds_against_the_mock_in_process_at_default_counts(seed):
    target = Target(base_url="http://testserver", project_id="1", app=create_app(Settings(db=":memory:", strict=True)))
    report = run(target, Options(seed=seed))
    assert report.passed, f"seed {seed}:\n" + report.console(Redactor(target.secrets()))
    assert {s.name for s in report.suites} == {"conformance", "scopes", "semantics"}


def test_a_broken_mock_exits_1_and_every_failure_shows_seed_and_curl(monkeypatch, tmp_path, capsys):
    junit = tmp_path / "contracts.xml"
    with ThreadedServer(broken_app(DELETE_204, monkeypatch)) as server:
        code = cli.main(["run", "--base-url", server.base_url, "--suites", "conformance,semantics", "--operations",
                         "insights_destroy", "--seed", "5", "--no-shrink", "--examples", "5",
                         "--semantic-examples", "10", "--junit-xml", str(junit)])
    output = capsys.readouterr().out
    assert code == 1, output
    failures = output.split("by operation\n--------")[1]
    assert failures.count("seed: 5") == failures.count("reproduce:") >= 2
    assert "curl -X DELETE" in failures
    assert "delete_is_405" in failures and "DELETE answers 405" in failures
    root = ET.parse(junit).getroot()
    failed = [f for f in root.iter("failure")]
    assert failed and all("seed: 5" in f.text and "curl" in f.text for f in failed)


def test_keys_never_appear_in_output_or_reports(monkeypatch, tmp_path, capsys):
    junit = tmp_path / "contracts.xml"
    with ThreadedServer(broken_app(DELETE_204, monkeypatch)) as server:
        code = cli.main(["run", "--base-url", server.base_url, "--token", f"{ALL_ACCESS}=*", "--suites", "conformance,semantics",
                         "--operations", "insights_destroy", "--seed", "6", "--no-shrink", "--examples", "5",
                         "--semantic-examples", "10", "--junit-xml", str(junit)])
    captured = capsys.readouterr()
    assert code == 1
    for text in (captured.out, captured.err, junit.read_text()):
        assert ALL_ACCESS not in text
        assert ALL_ACCESS[4:20] not in text


@pytest.mark.parametrize("argv,problem", [
    (["run"], "give --base-url"),
    (["run", "--base-url", "http://127.0.0.1:9", "--token", "phx_abc"], "every key needs its scopes"),
    (["run", "--base-url", "http://127.0.0.1:9", "--suites", "nope"], "unknown suites"),
])
def test_bad_usage_exits_2_with_a_clear_message(argv, problem, capsys):
    assert cli.main(argv) == 2
    assert problem in capsys.readouterr().err


def test_the_pytest_plugin_adds_one_test_per_suite(served_mock, tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path),
         "--posthog-base-url", served_mock.base_url, "--posthog-suites", "scopes,semantics", "-v"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "posthog-contracts::scopes PASSED" in completed.stdout
    assert "posthog-contracts::semantics PASSED" in completed.stdout


def test_the_pytest_fixture_fails_a_test_with_the_report_for_a_broken_app(tmp_path):
    (tmp_path / "test_app.py").write_text(
        "import pytest\n"
        "from tests.broken.variants import FAULTS, broken_app\n"
        "def test_contracts(posthog_contracts, monkeypatch):\n"
        "    fault = next(f for f in FAULTS if f.name == 'viewed_200')\n"
        "    posthog_contracts.check(app=broken_app(fault, monkeypatch), suites=('semantics',), semantic_examples=10, shrink=False)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path / "test_app.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env={**__import__("os").environ, "PYTHONPATH": str(REPO)},
    )
    assert completed.returncode == 1, completed.stdout
    assert "viewed answers 201" in completed.stdout and "reproduce:" in completed.stdout
