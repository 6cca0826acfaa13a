"""A run's time comes with the machine's load (issue 17, item 4): on a shared box the same run
takes 21 s or 87 s, and the report says which kind of minute it was, in the console and in JUnit."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from contracts.machine import RunTime, Stopwatch
from contracts.report import Redactor, Report, SuiteResult
from contracts.runner import Options, run
from contracts.target import Target
from mockserver import Settings, create_app

BUSY_MINUTE = RunTime(wall_s=94.2, cpu_s=47.7, others_cpu_s=120.3, cores=2, load_at_start=6.69, load_at_end=5.79)


def readings(*values: float):
    """A reading that gives these values in turn."""
    it = iter(values)
    return lambda: next(it)


def report_with(timing: RunTime) -> Report:
    return Report(target="http://testserver", seed=1, suites=[SuiteResult("scopes", duration=3.0)], timing=timing)


def test_the_console_gives_the_runs_time_with_the_cpu_it_used_and_the_machines_load():
    console = report_with(BUSY_MINUTE).console(Redactor())
    assert ("time: 94.2 s on 2 cores; this process used 47.7 CPU-s; other processes 120.3 CPU-s of the 188 there were;"
            " load average 6.69 at the start, 5.79 at the end") in console.splitlines()


def test_junit_carries_the_runs_time_and_the_machines_load():
    root = ET.fromstring(report_with(BUSY_MINUTE).junit_xml(Redactor()))
    assert root.get("time") == "94.200"
    properties = {p.get("name"): p.get("value") for p in root.find("testsuite").find("properties")}
    assert properties == {"run_wall_s": "94.20", "run_cpu_s": "47.70", "run_others_cpu_s": "120.30", "run_cores": "2",
                          "run_load_at_start": "6.69", "run_load_at_end": "5.79"}


def test_other_processes_are_charged_what_the_machine_was_busy_beyond_this_process():
    watch = Stopwatch(clock=readings(100.0, 160.0), cpu=readings(2.0, 32.0), busy=readings(1000.0, 1090.0),
                      load=readings(3.5, 4.0), cores=2)
    assert watch.stop() == RunTime(wall_s=60.0, cpu_s=30.0, others_cpu_s=60.0, cores=2, load_at_start=3.5, load_at_end=4.0)


def test_where_the_machine_does_not_say_the_report_leaves_out_what_it_cannot_know():
    watch = Stopwatch(clock=readings(0.0, 10.0), cpu=readings(0.0, 4.0), busy=lambda: None, load=lambda: None, cores=2)
    timing = watch.stop()
    assert timing.others_cpu_s is None and timing.summary() == "10.0 s on 2 cores; this process used 4.0 CPU-s"
    assert set(timing.properties()) == {"wall_s", "cpu_s", "cores"}


def test_every_run_reports_its_time_in_the_console_and_junit():
    target = Target(base_url="http://testserver", project_id="1", app=create_app(Settings(db=":memory:", strict=True)))
    report = run(target, Options(suites=("scopes",), seed=3, scope_examples=10, shrink=False))
    assert report.timing is not None and report.timing.cores == (os.cpu_count() or 1)
    assert report.timing.wall_s >= 0 and report.timing.cpu_s >= 0
    assert any(line.startswith("time: ") for line in report.console(Redactor()).splitlines())
    assert ET.fromstring(report.junit_xml(Redactor())).get("time") is not None



def test_the_bench_records_the_runs_own_account_of_its_time_and_load():
    from bench import contract_suite

    output = report_with(BUSY_MINUTE).console(Redactor())
    assert contract_suite.run_time(output) == BUSY_MINUTE.summary()
    assert contract_suite.run_time("RESULT: all contracts hold") is None
