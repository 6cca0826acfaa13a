"""The bench runs end to end in quick mode and leaves a table and a JSON record (issue 5).

No timing is asserted: the figures of a one-second run on a shared machine mean nothing; what
matters is that every phase ran against real servers and reported what it measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # bench/ is run from the checkout (`python -m bench`), not installed
    sys.path.insert(0, str(REPO_ROOT))

from bench import contract_suite, hotspots, inprocess, load, workloads  # noqa: E402
from bench.targets import process_tree  # noqa: E402


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    results_dir = tmp_path_factory.mktemp("bench-results")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--results-dir", str(results_dir)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )
    if done.returncode == 2 and "cannot run" in done.stderr:
        pytest.skip(f"the bench's tools cannot be installed here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr[-3000:]
    records = list(results_dir.glob("*.json"))
    assert len(records) == 1, records
    return {"stdout": done.stdout, "json": json.loads(records[0].read_text()), "dir": results_dir}


def test_quick_run_prints_the_table_with_every_section(quick_run: dict[str, object]) -> None:
    table = str(quick_run["stdout"])
    for heading in ("PostHog mock bench", "machine:", "command: python -m bench --quick", "Side by side",
                    "ratios (median req/s)", "targets (issue 15, frontend mix)", "Scale (moderate load", "Contract suite", "results:"):
        assert heading in table, heading
    for workload in workloads.WORKLOADS:
        assert workload in table, workload


def test_quick_run_records_every_workload_for_every_target(quick_run: dict[str, object]) -> None:
    record = quick_run["json"]
    assert record["settings"]["quick"] is True
    assert record["machine"]["cpu_count"] >= 1 and record["machine"]["python"]
    compare = record["compare"]
    measured = {"mock", "nomemo", "bare"} | ({"prism"} if compare["prism"].get("spec_used") else set())
    for name in workloads.WORKLOADS:
        entry = compare["workloads"][name]
        assert set(entry["targets"]) == measured
        for target in measured:
            assert entry["targets"][target]["requests"] > 0
        # The bare app answers what the mock answered, status for status.
        assert entry["statuses"]["bare"] == entry["statuses"]["mock"] == entry["statuses"]["nomemo"]
        assert entry["ratios"]["mock/bare"] is not None and entry["ratios"]["nomemo/bare"] is not None


def test_quick_run_measures_prism_and_says_what_it_made_of_the_spec(quick_run: dict[str, object]) -> None:
    prism = quick_run["json"]["compare"]["prism"]
    if "skipped" in prism:  # only when npm could not install it (the reason says why)
        pytest.skip(f"Prism could not be installed: {prism['skipped']}")
    assert prism["spec_used"] in ("yaml", "json")
    assert prism["yaml"]["loaded"] is False or len(prism["yaml"]["probes"]) == 3
    assert "Prism 5.14" in str(quick_run["stdout"])
    assert set(quick_run["json"]["compare"]["workloads"]["get_insight"]["targets"]) == {"mock", "nomemo", "bare", "prism"}


def test_quick_run_measures_each_store_size_and_the_servers(quick_run: dict[str, object]) -> None:
    scale = quick_run["json"]["scale"]
    assert [s["insights"] for s in scale["sizes"]] == [200, 1000]
    for size in scale["sizes"]:
        assert size["cold_start_s"] > 0 and size["warm_start_s"] > 0
        assert size["rss_mib_idle"] > 0
        assert set(size["reads"]) == set(workloads.SCALE_READS)
        assert all(statuses == {"200": 1} for statuses in size["statuses"].values())
    beside = scale["sizes"][-1]["beside_slow"]  # GET insight alone, and while searches run beside it
    assert beside["alone"]["requests"] > 0 and beside["beside_slow"]["requests"] > 0 and beside["slow"]["requests"] > 0
    assert "while searches run beside it" in str(quick_run["stdout"])


def test_quick_run_reports_the_contract_suite_without_inventing_figures(quick_run: dict[str, object]) -> None:
    contracts = quick_run["json"]["contracts"]
    if contracts["status"] == "skipped":
        assert contracts["reason"].startswith("not available yet")
        assert "Contract suite full run: not available yet" in str(quick_run["stdout"])
    elif contracts["status"] == "timeout":  # a busy machine (the rest of the suite beside it): said as such
        assert contracts["wall_s"] > 0 and "cases" not in contracts
        assert f"Contract suite run: timed out after {contracts['wall_s']} s" in str(quick_run["stdout"])
    else:  # the suite ran (quick mode: reduced examples); whatever its verdict, the run is timed
        assert contracts["wall_s"] > 0
        assert "Contract suite run (quick (reduced examples))" in str(quick_run["stdout"])


def test_quick_run_leaves_no_server_running(quick_run: dict[str, object]) -> None:
    for target in quick_run["json"]["compare"]["targets"].values():
        assert process_tree(target["pid"]) == []


def test_the_in_process_bench_times_each_target_on_the_answers_the_mock_gave(capsys: pytest.CaptureFixture[str]) -> None:
    assert inprocess.main(["--calls", "20", "--rounds", "1", "--workloads", "get_insight,patch_insight"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert [row[0] for row in rows] == ["get_insight", "patch_insight"]
    assert all(float(figure) > 0 for row in rows for figure in row[1:])


def test_the_in_process_bench_refuses_a_workload_it_does_not_know() -> None:
    with pytest.raises(SystemExit):
        inprocess.main(["--workloads", "get_insight,nonsense"])


def test_lua_script_carries_the_workload_and_the_key() -> None:
    script = load.lua_script(workloads.WORKLOADS["patch_insight"], {"Authorization": "Bearer phx_x"}, pace_ms=0)
    assert 'method = "PATCH"' in script and '"Bearer phx_x"' in script
    assert '\\"name\\": \\"Bench edit %d of insight 2\\"' in script
    assert "function done(" in script


def test_paced_load_spreads_the_rate_over_connections() -> None:
    assert load.Load.paced(connections=4, total_rate=100, duration_s=10).pace_ms == 40


def test_hotspots_rank_self_and_inclusive_time() -> None:
    collapsed = "\n".join([
        "main (app.py:1);handler (mockserver/app.py:10);dumps (json/__init__.py:3) 6",
        "main (app.py:1);handler (mockserver/app.py:10) 2",
        "main (app.py:1);query (mockserver/store/database.py:5) 2",
    ])
    ranked = hotspots.rank(collapsed)
    assert ranked["samples"] == 10
    assert ranked["self"][0] == {"function": "dumps (json/__init__.py)", "percent": 60.0}
    inclusive = {x["function"]: x["percent"] for x in ranked["inclusive"]}
    assert inclusive["handler (mockserver/app.py)"] == 80.0


def test_contract_case_counts_come_from_the_suites_own_summary() -> None:
    output = "conformance  PASSED                   2414 cases    31.7 s\n    ✓ GET /x  1 cases  0 failed\n" \
             "scopes       FAILED (2 failures)        20 cases     1.2 s\n"
    suites = contract_suite.parse_suites(output)
    assert suites == {
        "conformance": {"verdict": "PASSED", "cases": 2414, "seconds": 31.7},
        "scopes": {"verdict": "FAILED (2 failures)", "cases": 20, "seconds": 1.2},
    }


def test_soak_loses_no_acknowledged_write_when_a_worker_is_killed(tmp_path: Path) -> None:
    """The soak script, briefly: two workers, one killed half way; every acknowledged write stays."""
    done = subprocess.run([sys.executable, "-m", "bench.soak", "--seconds", "6", "--clients", "4", "--results-dir", str(tmp_path)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads(next(tmp_path.glob("soak-*.json")).read_text())
    assert record["killed_worker"] and record["writes"]["insights"] > 0 and record["writes"]["acknowledged_renames"] > 0
    assert record["writes"]["lost"] == [] and record["server_errors"] == 0
    assert "lost: 0" in done.stdout


def test_ab_measures_this_checkout_and_another_commit_alternately(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.ab", "--against", "HEAD", "--pairs", "2", "--duration", "1", "--warmup", "0",
         "--connections", "4", "--scale", "0", "--workloads", "get_insight", "--results-dir", str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("get_insight ")]
    assert runs[:4] == ["this", "other", "other", "this"]  # the order alternates from pair to pair
    record = json.loads(next(tmp_path.glob("ab-*.json")).read_text())
    measured = record["workloads"]["get_insight"]
    assert len(measured["this"]["rps"]) == len(measured["other"]["rps"]) == 2
    assert measured["this"]["errors"] == measured["other"]["errors"] == 0 and measured["rps_ratio"] > 0
