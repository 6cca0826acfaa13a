"""The contracts against a real mock and against nothing at all (issue 12): a run leaves a
developer's mock as it found it, fails fast and clearly when the target cannot be used, and shows
its progress on a terminal (quietly in CI)."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.progress import Progress
from mock_support import REPO, ServedMock, free_port

SMALL_RUN = ["--examples", "2", "--scope-examples", "20", "--semantic-examples", "3", "--seed", "5", "--no-shrink"]


def contracts(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "contracts.cli", "run", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=600, env={**os.environ, **(env or {})})


def state_of(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table of the mock's state (the search index follows the insights, and
    their stamps are drawn anew when a copy is restored: store/stamps.py)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        tables = [r[0] for r in connection.execute(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE 'insight_text%' AND name NOT LIKE 'insight_words%' AND name != 'insight_stamps'")]
        return {table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr) for table in tables}


@pytest.fixture
def served(tmp_path):
    with ServedMock(tmp_path / "dev.sqlite3") as mock:
        yield mock


def test_a_run_against_a_developers_mock_leaves_its_state_as_it_found_it(served):
    before = state_of(served.db)
    done = contracts("--base-url", served.base_url, *SMALL_RUN, "--progress", "never")
    assert "RESULT:" in done.stdout, done.stdout + done.stderr
    assert "the mock's state restored as the run found it" in done.stdout
    after = state_of(served.db)
    assert after == before, {t: (len(before[t]), len(after[t])) for t in before if before[t] != after[t]}


@pytest.mark.parametrize("url, reason", [
    (lambda: f"http://127.0.0.1:{free_port()}", "connection refused"),
    (lambda: "http://no-such-host.invalid", "the name does not resolve"),
])
def test_a_target_nobody_answers_fails_at_once_with_one_line(url, reason):
    done = contracts("--base-url", url(), "--token", "phx_abcdefghijkl=*")
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("posthog-contracts: cannot connect to") and reason in lines[0]


def test_a_key_the_target_refuses_fails_at_once(served):
    done = contracts("--base-url", served.base_url, "--token", "phx_notakeyofthismock00000=*")
    assert done.returncode == 2
    assert done.stderr.strip().startswith(f"posthog-contracts: {served.base_url} refused the key phx_")
    assert "notakeyofthismock" not in done.stderr  # keys are never printed


def test_a_project_the_target_does_not_have_fails_at_once(served):
    done = contracts("--base-url", served.base_url, "--project-id", "987654")
    assert done.returncode == 2 and "has no project 987654" in done.stderr


def test_progress_shows_each_suite_when_asked_and_stays_quiet_in_ci(served):
    shown = contracts("--base-url", served.base_url, *SMALL_RUN, "--suites", "scopes,semantics", "--progress", "always")
    assert "scopes: 20/20 drawn keys, 0 failures so far" in shown.stderr
    assert "semantics: 3/3 runs, 0 failures so far" in shown.stderr
    quiet = contracts("--base-url", served.base_url, *SMALL_RUN, "--suites", "scopes", env={"CI": "true"})
    assert quiet.stderr == "" and quiet.returncode == 0


def test_progress_rewrites_one_line_and_ends_it():
    stream, now = io.StringIO(), iter([0.0, 0.1, 1.0, 1.1])
    progress = Progress(True, stream, clock=lambda: next(now))
    progress.update("conformance", 1, 10, "operations", 0)
    progress.update("conformance", 2, 10, "operations", 0)  # too soon: not shown
    progress.update("conformance", 3, 10, "operations", 1)
    progress.update("conformance", 10, 10, "operations", 1, final=True)
    assert stream.getvalue() == ("\rconformance: 1/10 operations, 0 failures so far"
                                 "\rconformance: 3/10 operations, 1 failure so far "
                                 "\rconformance: 10/10 operations, 1 failure so far\n")
    assert Progress.choose("auto", io.StringIO()).enabled is False  # not a terminal
