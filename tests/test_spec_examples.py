"""Every response has a realistic example, and every example validates against its own schema."""

from __future__ import annotations

import pytest

from posthog_spec import default_spec

SPEC = default_spec()


def media_types():
    """(where, media type object) for every request body and response body in the spec."""
    for path, item in SPEC.document["paths"].items():
        for method, raw in item.items():
            if method == "parameters":
                continue
            body = SPEC.resolve(raw.get("requestBody"))
            for media_type, media in (body or {}).get("content", {}).items():
                yield f"{method.upper()} {path} request {media_type}", media
            for code, response in raw["responses"].items():
                for media_type, media in SPEC.resolve(response).get("content", {}).items():
                    yield f"{method.upper()} {path} {code} {media_type}", media


def examples_of(media) -> list:
    found = []
    if "example" in media:
        found.append(media["example"])
    for example in media.get("examples", {}).values():
        found.append(SPEC.resolve(example)["value"])
    return found


MEDIA_TYPES = list(media_types())


@pytest.mark.parametrize("where,media", MEDIA_TYPES, ids=[where for where, _ in MEDIA_TYPES])
def test_every_body_has_an_example_that_validates_against_its_schema(where, media):
    examples = examples_of(media)
    assert examples, f"{where} has no example"
    validator = SPEC.validator(media["schema"])
    for example in examples:
        errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(example)]
        assert not errors, f"{where}: {errors}"


def test_every_parameter_example_validates_against_its_schema():
    checked = 0
    for op in SPEC.operations:
        for param in op.parameters:
            if param.example is None:
                continue
            value = param.example
            if param.location == "path" and param.schema.get("type") == "string":
                value = str(value)
            assert SPEC.validator(param.schema).is_valid(value), (op.operation_id, param.name, value)
            checked += 1
    assert checked > 30


def test_example_keyword_never_holds_a_reference():
    """`example: {$ref: ...}` is a literal, not a reference; examples by reference use `examples`."""
    for where, media in MEDIA_TYPES:
        assert "$ref" not in str(media.get("example", "")), where


CSV_EXAMPLES = {
    "InsightCsv": "Insight",
    "InsightBasicCsv": "InsightBasicList",
    "InsightPageCsv": "InsightPage",
    "TrendingPageCsv": "TrendingPage",
    "ActivityPageCsv": "ActivityPage",
    "GeneratedMetadataCsv": "GeneratedMetadata",
    "BulkUpdateTagsCsv": "BulkUpdateTags",
    "InsightBulkDeleteCsv": "InsightBulkDelete",
    "InsightBulkRestoreCsv": "InsightBulkRestore",
    "InsightBulkSetTestAccountFilterCsv": "InsightBulkSetTestAccountFilter",
}


@pytest.mark.parametrize("csv_name,json_name", CSV_EXAMPLES.items())
def test_csv_examples_are_the_csv_rendering_of_their_json_examples(csv_name, json_name):
    """rest_framework_csv's rendering, as the mock produces it: checked, not hand-approximated."""
    from mockserver.rendering import csv_text

    examples = SPEC.components["examples"]
    rendered = csv_text(examples[json_name]["value"]).replace("\r\n", "\n")
    assert examples[csv_name]["value"] == rendered
