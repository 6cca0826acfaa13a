"""Failures do not stick to a directory (issue 17, item 3): conformance keeps the failing examples
it finds per target, in a documented place (none in CI, none for an in-process app), replays
them first on the next run and says so, and forgets them when asked."""

from __future__ import annotations

import subprocess
import sys

from contracts import cli, replay
from contracts.report import Redactor
from contracts.runner import Options, run
from contracts.target import Target
from tests.broken.variants import FAULTS, broken_app
from tests.contracts_support import ThreadedServer

DELETE_204 = next(f for f in FAULTS if f.name == "delete_204")


def conformance_on_delete(monkeypatch, **options):
    """Conformance on DELETE insight against the mock that answers it 204; a new seed each time,
    so what an earlier run found comes back only from the examples it kept."""
    with monkeypatch.context() as patched:
        target = Target(base_url="http://testserver", project_id="1", app=broken_app(DELETE_204, patched))
        report = run(target, Options(**{"suites": ("conformance",), "examples": 4, "operations": ["insights_destroy"],
                                        "shrink": False, **options}))
    return report, Redactor(target.secrets())


def test_a_failure_found_once_is_replayed_on_the_next_run_and_said_to_be(monkeypatch, tmp_path):
    first, redact = conformance_on_delete(monkeypatch, seed=1, example_db=str(tmp_path))
    assert not first.passed and replay.REPLAYED not in first.console(redact)
    assert any(tmp_path.iterdir()), "the failing examples are kept where the run was told"

    second, redact = conformance_on_delete(monkeypatch, seed=2, example_db=str(tmp_path))
    replayed = [f for s in second.suites for f in s.failures if f.replayed]
    assert replayed and all(f.check for f in replayed)
    console = second.console(redact)
    assert f"   {replay.REPLAYED}" in console and str(tmp_path) in console
    assert replay.REPLAYED in second.junit_xml(redact)


def test_forget_failures_clears_what_earlier_runs_kept(monkeypatch, tmp_path):
    conformance_on_delete(monkeypatch, seed=1, example_db=str(tmp_path))
    again, _ = conformance_on_delete(monkeypatch, seed=2, example_db=str(tmp_path), forget_failures=True)
    assert not again.passed
    assert not any(f.replayed for s in again.suites for f in s.failures)


def test_failing_examples_are_kept_per_target_under_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    local = replay.location("auto", "http://127.0.0.1:8010", "1", in_process=False)
    assert local.parent == tmp_path / "posthog-contracts" / "examples" and local.name.startswith("127.0.0.1-8010-")
    assert replay.location("auto", "http://127.0.0.1:8011", "1", in_process=False) != local
    assert replay.location("auto", "http://127.0.0.1:8010", "2", in_process=False) != local
    assert replay.location("auto", "http://127.0.0.1:8010", "1", in_process=False) == local
    assert replay.location(str(tmp_path / "mine"), "http://127.0.0.1:8010", "1", in_process=False) == tmp_path / "mine"


def test_none_are_kept_in_ci_for_an_in_process_app_or_when_told(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert replay.location("auto", "http://testserver", "1", in_process=True) is None
    assert replay.location("none", "https://eu.posthog.com", "1", in_process=False) is None
    monkeypatch.setenv("CI", "true")
    assert replay.location("auto", "https://eu.posthog.com", "1", in_process=False) is None


def test_a_run_from_any_directory_keeps_its_failures_in_the_users_cache_not_there(monkeypatch, tmp_path):
    """The CLI, run twice from one directory against a served mock that fails a contract: the
    directory stays empty (hypothesis's default database is `.hypothesis` there), the target's
    examples are kept under the user's cache, and the second run says what it replayed."""
    workdir, cache = tmp_path / "work", tmp_path / "cache"
    workdir.mkdir()
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))

    def contracts(base_url: str, seed: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "contracts.cli", "run", "--base-url", base_url, "--suites", "conformance",
                               "--operations", "insights_destroy", "--examples", "4", "--seed", seed, "--no-shrink",
                               "--progress", "never"], cwd=workdir, capture_output=True, text=True, timeout=300)

    with ThreadedServer(broken_app(DELETE_204, monkeypatch)) as server:
        first, second = contracts(server.base_url, "1"), contracts(server.base_url, "2")
    assert first.returncode == second.returncode == 1, first.stdout + first.stderr
    assert list(workdir.iterdir()) == []
    assert replay.REPLAYED not in first.stdout and f"   {replay.REPLAYED}" in second.stdout
    kept = replay.location("auto", server.base_url, "1", in_process=False)
    assert kept.is_relative_to(cache) and any(kept.iterdir()) and str(kept) in second.stdout


def test_the_plan_says_where_failing_examples_are_kept(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cli.main(["run", "--base-url", "http://127.0.0.1:9", "--token", "phx_abcdefghijkl=*", "--dry-run",
                     "--forget-failures"]) == 0
    kept = replay.location("auto", "http://127.0.0.1:9", "1", in_process=False)
    assert f"failing examples: kept in {kept} (cleared first)" in capsys.readouterr().out
    assert cli.main(["run", "--base-url", "http://127.0.0.1:9", "--token", "phx_abcdefghijkl=*", "--dry-run",
                     "--example-db", "none"]) == 0
    assert "failing examples: none kept" in capsys.readouterr().out

