"""One edit of the spec changes both sides: a PostHog text or a success status is written only there.

A copy of the spec with one text changed (and one success status) is served by a mock built from
it; the mock answers the new words, and the contracts, given the same copy, expect them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mock_support import KEYS, P, bearer
from mockserver import Settings, create_app
from mockserver.clock import FrozenClock
from posthog_spec import Spec, default_spec_path

NEW_MISSING_SCOPE = "This key lacks the scope '{scope}' (changed in a copy of the spec)"
NEW_NOT_FOUND = "Nothing here (changed in a copy of the spec)."


@pytest.fixture(scope="module")
def changed_spec(tmp_path_factory) -> Path:
    """The spec with two catalogue texts and one success status changed, nothing else."""
    text = default_spec_path().read_text(encoding="utf-8")
    replacements = [
        ("detail: \"API key missing required scope '{scope}'\"", f'detail: "{NEW_MISSING_SCOPE}"'),
        ("&text_not_found {status: 404, type: invalid_request, code: not_found, detail: Not found.,",
         f"&text_not_found {{status: 404, type: invalid_request, code: not_found, detail: {NEW_NOT_FOUND},"),
    ]
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    # insights_viewed_create answers 201: the copy says 202
    viewed = text.index("      operationId: insights_viewed_create")
    created = text.index("        '201':", viewed)
    text = text[:created] + "        '202':" + text[created + len("        '201':"):]
    path = tmp_path_factory.mktemp("spec") / "openapi.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def mock_of_the_copy(changed_spec):
    app = create_app(Settings(db=":memory:", strict=True), spec=Spec.load(changed_spec), clock=FrozenClock())
    with TestClient(app) as client:
        yield client


def test_the_mock_answers_the_words_of_the_spec_it_was_built_from(mock_of_the_copy):
    refused = mock_of_the_copy.patch(f"{P}/insights/1/", json={"name": "x"}, headers=bearer(KEYS["insights-read"]))
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This key lacks the scope 'insight:write' (changed in a copy of the spec)"
    missing = mock_of_the_copy.get(f"{P}/insights/999999/", headers=bearer())
    assert (missing.status_code, missing.json()["detail"]) == (404, NEW_NOT_FOUND)


def test_the_mock_answers_the_success_status_of_the_spec_it_was_built_from(mock_of_the_copy):
    viewed = mock_of_the_copy.post(f"{P}/insights/viewed/", json={"insight_ids": [1]}, headers=bearer())
    assert viewed.status_code == 202 and viewed.content == b""
