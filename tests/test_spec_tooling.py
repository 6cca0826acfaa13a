"""Tools read the spec as it is: schemathesis generates for every operation, the README shows its notes."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation import GenerationMode

from posthog_spec import fidelity
from posthog_spec import default_spec, default_spec_path

SCHEMA = schemathesis.openapi.from_path(default_spec_path())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
README = Path(__file__).resolve().parent.parent / "README.md"


def test_schemathesis_sees_every_operation_of_the_spec():
    assert {op.definition.raw["operationId"] for op in OPERATIONS} == {op.operation_id for op in default_spec().operations}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_schemathesis_generates_cases_for_every_operation(operation, mode):
    generated = []

    @given(operation.as_strategy(generation_mode=mode))
    @settings(max_examples=3, deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    def generate(case):
        generated.append(case)

    generate()
    if mode is GenerationMode.POSITIVE:
        assert generated, f"no case generated for {operation.label}"


def test_readme_fidelity_section_is_rendered_from_the_spec_notes():
    rendered = fidelity.render(default_spec())
    assert fidelity.section_of(README.read_text(encoding="utf-8")) == rendered, (
        "README's fidelity section is out of date: run `posthog-mock fidelity --write README.md`"
    )


def test_fidelity_section_names_every_documented_difference():
    rendered = fidelity.render(default_spec())
    assert "cancel" in rendered and "answers 201 with an empty body" in rendered
    assert "DELETE answers 405" in rendered
    assert rendered.count("*(inferred)*") >= 5


def test_the_spec_is_plain_yaml_1_2_without_merge_keys():
    """Merge keys (`<<:`) are YAML 1.1: Prism and other YAML 1.2 readers keep them as literal keys,
    so the environments routes would lose their responses there. Anchors and aliases are fine."""
    lines = default_spec_path().read_text(encoding="utf-8").splitlines()
    merges = [n for n, line in enumerate(lines, 1) if line.lstrip().startswith(("<<:", "- <<:")) and not line.lstrip().startswith("#")]
    assert merges == [], f"merge keys on lines {merges}"
