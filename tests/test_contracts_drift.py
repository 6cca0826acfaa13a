"""`posthog-contracts drift` finds what differs from PostHog's published schema, and nothing more."""

from __future__ import annotations

import json
from pathlib import Path

from contracts import cli, drift
from posthog_spec import default_spec, default_spec_path

FIXTURE = Path(__file__).parent / "fixtures" / "posthog-schema-fixture.yaml"
LIST = "GET /api/projects/{}/insights/"


def differences_with_fixture() -> dict[tuple[str, str], drift.Difference]:
    return {(d.operation, d.aspect): d for d in drift.compare(default_spec().document, drift.load(str(FIXTURE)))}


def test_no_drift_against_an_identical_schema(tmp_path, capsys):
    copy = tmp_path / "openapi.json"
    copy.write_text(json.dumps(default_spec().document))
    assert cli.main(["drift", "--schema", str(copy)]) == 0
    assert "No drift" in capsys.readouterr().out
    assert drift.compare(default_spec().document, drift.load(str(default_spec_path()))) == []


def test_drift_finds_every_planted_difference():
    found = differences_with_fixture()
    assert found[(LIST, "query parameter order")].theirs == "absent"
    assert found[(LIST, "query parameter hide_sample")].ours == "absent"
    assert found[(LIST, "response field results[].favorited")].ours == "boolean"
    assert found[(LIST, "response field results[].favorited")].theirs == "string"
    assert found[(LIST, "response field results[].name")].ours == "null|string"
    assert found[(LIST, "response field results[].name")].theirs == "string"
    assert found[(LIST, "response field results[].deprecated_field")].ours == "absent"
    scopes = found[("GET /api/projects/{}/elements/stats/", "key scopes")]
    assert (scopes.ours, scopes.theirs) == (["element:read"], ["element:write"])
    frobnicate = found[("POST /api/projects/{}/insights/frobnicate/", "operation")]
    assert (frobnicate.ours, frobnicate.theirs) == ("absent", "present")


def test_drift_agrees_where_the_fixture_agrees():
    found = differences_with_fixture()
    for field in ("count", "next", "previous", "results[].id", "results[].short_id"):
        assert (LIST, f"response field {field}") not in found, field
    assert (LIST, "query parameter limit") not in found
    assert (LIST, "key scopes") not in found


def test_drift_on_the_command_line_prints_differences_by_operation_and_exits_1(capsys):
    assert cli.main(["drift", "--schema", str(FIXTURE)]) == 1
    output = capsys.readouterr().out
    assert output.index(LIST) < output.index("query parameter hide_sample")
    assert "PATCH /api/projects/{}/insights/{}/" in output  # ours, absent from the fixture


def test_an_unreadable_schema_exits_2(tmp_path, capsys):
    assert cli.main(["drift", "--schema", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err
