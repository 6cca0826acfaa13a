"""Running the contracts against a real deployment is safe: throttles are honoured, --read-only
writes nothing, a default run leaves nothing it created live (even after a failure mid-run), and
keys never show. The mock stands in for PostHog: throttling like it, counted by a proxy."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from contracts import cli, hooks, runner
from contracts.http import Client
from contracts.pacing import schemathesis_rates
from contracts.runner import Options, run
from contracts.safety import Safety
from contracts.target import Target
from mockserver import Settings, create_app
from mockserver.clock import Clock, FrozenClock
from posthog_spec import default_spec, default_spec_path
from tests.contracts_support import ThreadedServer
from tests.mock_support import ALL_ACCESS

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
SPEC_SCHEMA = schemathesis.openapi.from_path(default_spec_path())


class CountingProxy:
    """An ASGI wrapper counting the API's request methods and answer statuses."""

    def __init__(self, app):
        self.app, self.state = app, app.state
        self.methods: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            return await self.app(scope, receive, send)
        self.methods[scope["method"]] += 1

        async def counting(message):
            if message["type"] == "http.response.start":
                self.statuses[message["status"]] += 1
            await send(message)
        return await self.app(scope, receive, counting)


def live_insights_created_since(app, moment: str) -> int:
    db = app.state.server.store.db
    return db.scalar("SELECT COUNT(*) FROM insights WHERE created_at >= ? AND deleted = 0", (moment,))


def small(**overrides) -> Options:
    """Against the mock, but keeping what the run made: the run's own clean-up is under test,
    not the snapshot the mock is restored from."""
    return Options(**{"seed": 3, "examples": 4, "scope_examples": 80, "semantic_examples": 10, "shrink": False,
                      "keep_mock_state": True, **overrides})


def test_read_only_sends_no_write_request(capsys):
    proxy = CountingProxy(create_app(Settings(db=":memory:")))
    with ThreadedServer(proxy) as server:
        code = cli.main(["run", "--base-url", server.base_url, "--read-only", "--examples", "4", "--scope-examples", "80",
                         "--seed", "3", "--no-shrink"])
    output = capsys.readouterr().out
    assert code == 0, output
    assert sum(proxy.methods.values()) > 500  # it did run
    assert not set(proxy.methods) & WRITES, proxy.methods
    assert "semantics    SKIPPED  read-only" in output


def generated_case(operation_id: str, method: str, project: str, mode: GenerationMode = GenerationMode.POSITIVE):
    return SimpleNamespace(operation=SimpleNamespace(definition=SimpleNamespace(raw={"operationId": operation_id})),
                           method=method, path_parameters={"project_id": project, "id": "7"}, body={"name": "x"},
                           meta=SimpleNamespace(generation=SimpleNamespace(mode=mode)))


@pytest.mark.parametrize("project", ["2", "@current", "1"])
def test_writes_go_to_the_target_project_whatever_project_was_generated(project):
    case = Safety(project_id="1").aim_case(None, generated_case("insights_partial_update", "PATCH", project))
    assert case.path_parameters["project_id"] == "1"


def test_reads_and_an_invalid_project_of_a_negative_case_stay_as_generated():
    safety = Safety(project_id="1")
    assert safety.aim_case(None, generated_case("insights_retrieve", "GET", "2")).path_parameters["project_id"] == "2"
    negative = generated_case("insights_partial_update", "PATCH", "x!", GenerationMode.NEGATIVE)
    assert safety.aim_case(None, negative).path_parameters["project_id"] == "x!"


@given(data=st.data())
@settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_pinning_the_project_keeps_a_valid_linked_case_positive(data):
    """A stateful step fills `id` from a response (a number); once the hook has touched the path,
    schemathesis re-checks it, and a valid PATCH must stay positive, or the server that accepts it
    is reported for accepting invalid data."""
    operation = SPEC_SCHEMA["/api/projects/{project_id}/insights/{id}/"]["PATCH"]
    case = data.draw(operation.as_strategy(generation_mode=GenerationMode.POSITIVE,
                                           path_parameters={"project_id": "2", "id": 57}))
    assert case.meta.generation.mode.is_positive
    aimed = Safety(project_id="1").aim_case(None, case)
    assert aimed.path_parameters == {"project_id": "1", "id": "57"}
    assert aimed.meta.generation.mode.is_positive



@given(data=st.data())
@settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_at_current_is_pinned_to_the_target_project_and_an_aimed_case_stays_positive(data):
    """schemathesis keeps path values percent-encoded (`%40current`): the write still goes to the
    target's project, and aiming `id` at the run's own insight leaves a valid case positive, or the
    server that accepts it is reported for accepting invalid data (seed 3 on a real deployment)."""
    operation = SPEC_SCHEMA["/api/projects/{project_id}/insights/{id}/"]["PUT"]
    case = data.draw(operation.as_strategy(generation_mode=GenerationMode.POSITIVE,
                                           path_parameters={"project_id": "@current", "id": "AbCdEfGh"}))
    assert case.path_parameters["project_id"] == "%40current" and case.meta.generation.mode.is_positive
    safety = Safety(project_id="1", own_objects_only=True)
    safety.record.insights.add(23)
    aimed = safety.aim_case(None, case)
    assert aimed.path_parameters == {"project_id": "1", "id": "23"}
    assert aimed.meta.generation.mode.is_positive

def test_a_default_run_leaves_no_live_insight_it_created():
    app = create_app(Settings(db=":memory:"), clock=Clock())
    started = app.state.server.clock.now().strftime("%Y-%m-%dT%H:%M:%S")
    report = run(Target(base_url="http://testserver", project_id="1", app=app), small())
    assert report.passed
    created = app.state.server.store.db.scalar("SELECT COUNT(*) FROM insights WHERE created_at >= ?", (started,))
    assert created > 10, "the run should have created insights (conformance and semantics)"
    assert live_insights_created_since(app, started) == 0
    assert "soft-deleted" in report.cleanup


def test_a_failure_mid_run_still_leaves_nothing_live(monkeypatch):
    app = create_app(Settings(db=":memory:"), clock=Clock())
    started = app.state.server.clock.now().strftime("%Y-%m-%dT%H:%M:%S")

    def crash(*args, **kwargs):
        raise RuntimeError("injected failure after conformance created insights")
    monkeypatch.setitem(runner.SUITES, "scopes", crash)
    with pytest.raises(RuntimeError, match="injected"):
        run(Target(base_url="http://testserver", project_id="1", app=app), small(suites=("conformance", "scopes")))
    assert live_insights_created_since(app, started) == 0


def test_an_interrupt_inside_the_semantic_run_leaves_nothing_live(monkeypatch):
    app = create_app(Settings(db=":memory:"), clock=Clock())
    started = app.state.server.clock.now().strftime("%Y-%m-%dT%H:%M:%S")
    calls = Counter()
    original = Client.request

    def interrupted(self, method, path, **kwargs):
        calls["n"] += 1
        if calls["n"] == 60:
            raise KeyboardInterrupt
        return original(self, method, path, **kwargs)
    monkeypatch.setattr(Client, "request", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(Target(base_url="http://testserver", project_id="1", app=app), small(suites=("semantics",), semantic_examples=50))
    assert calls["n"] > 60
    assert live_insights_created_since(app, started) == 0


def throttling_mock():
    clock = FrozenClock()
    proxy = CountingProxy(create_app(Settings(db=":memory:", rate_limit="posthog"), clock=clock))
    target = Target(base_url="http://testserver", project_id="1", app=proxy,
                    monotonic=lambda: clock.now().timestamp(), sleep=lambda seconds: clock.advance(seconds=seconds))
    return proxy, target


def test_against_a_throttling_target_the_run_waits_out_429s_reports_them_and_passes():
    proxy, target = throttling_mock()
    report = run(target, small(suites=("scopes", "semantics"), semantic_examples=30, rate_budget=0))
    assert proxy.statuses[429] > 0, "the run should have been throttled without pacing"
    assert report.passed, [f.message for s in report.suites for f in s.failures]
    assert any("throttled answers (429)" in note for s in report.suites for note in s.notes)


def test_paced_runs_stay_under_posthogs_throttles():
    proxy, target = throttling_mock()
    report = run(target, small(suites=("scopes", "semantics"), semantic_examples=30, rate_budget=0.8))
    assert report.passed
    assert sum(proxy.statuses.values()) > 240  # more than a minute's budget of one key
    assert proxy.statuses[429] == 0


def test_conformance_paces_each_throttle_class_on_its_own():
    operations = list(default_spec().operations)
    rates = {tuple(entry["include-operation-id"])[0]: entry["rate-limit"] for entry in schemathesis_rates(operations, 0.8, examples=5)}
    assert rates["insights_list"] == "192/m"  # 240 a minute × 0.8; the run fits in 1200 an hour
    assert rates["elements_list"] == "384/m"  # 480 a minute × 0.8
    assert rates["insights_generate_metadata_create"] == "40/m"  # the AI throttle: 50 a minute
    long_run = {tuple(e["include-operation-id"])[0]: e["rate-limit"] for e in schemathesis_rates(operations, 0.8, examples=100)}
    assert long_run["insights_list"] == "16/m"  # more than an hour's budget: 1200 an hour × 0.8


def test_a_dry_run_prints_the_plan_sends_nothing_and_never_shows_keys(monkeypatch, tmp_path, capsys):
    secret = "phx_" + "s3cr3t" * 7
    config = tmp_path / "contracts.toml"
    config.write_text('[target]\nproject_id = 42\n[[keys]]\nenv = "MY_POSTHOG_KEY"\nscopes = ["insight:read"]\n')
    monkeypatch.setenv("MY_POSTHOG_KEY", secret)
    monkeypatch.setenv("POSTHOG_CONTRACTS_TOKENS", f"{ALL_ACCESS}=*")
    monkeypatch.setattr(Target, "client", lambda self: pytest.fail("a dry run must not send requests"))
    assert cli.main(["run", "--target", "cloud-eu", "--config", str(config), "--dry-run", "--read-only"]) == 0
    output = capsys.readouterr().out
    assert "https://eu.posthog.com, project 42" in output
    assert "read-only: no request with a write method" in output
    assert secret not in output and ALL_ACCESS not in output
    assert "phx_…" in output  # keys are shown redacted, with their scopes


def test_a_negative_case_that_is_valid_as_sent_still_names_no_dashboard_that_does_not_exist():
    """schemathesis meant `581.0` as the wrong type for a dashboard id, but it is an integer in JSON
    Schema: the case is judged positive when sent, and a valid body naming unknown dashboards is
    refused with 400 by design (Dashboard not found), so the body is kept within PostHog's rules
    whatever mode it was generated in."""
    spec = default_spec()
    body = {"query": {"kind": "TrendsQuery", "series": []}, "dashboards": [581.0, 12956]}
    assert spec.validator(spec.operation("insights_create").body_schema).is_valid(body)
    case = generated_case("insights_create", "POST", "1", GenerationMode.NEGATIVE)
    case.body = body
    case.operation.schema = SimpleNamespace(raw_schema=spec.document)
    assert hooks.within_posthog_rules(None, case).body["dashboards"] == []
