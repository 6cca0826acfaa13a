"""The real `schemathesis run` CLI against the served mock: all checks, every phase, 0 failures.

Slow (about two minutes on two cores), so it lives in a file of its own. The mock is served by
`python -m mockserver serve --strict` on a file database in a tmp dir, and the config is written
there too (a schemathesis.toml in the repository would apply to every run in it).

How the run is aimed, and why:
- Auth: schemathesis satisfies the first security requirement it can (OR semantics, in spec
  order), so operations open to keys get the all-access demo key as bearer and session-only
  operations the demo user's session cookie.
- `project_id`/`environment_id` are fixed to the demo project (environment 3, its staging
  environment, for insights, which are project-wide; 1 for elements, which belong to one
  environment): random ids would only ever meet "Project not found", which the mock's own tests
  pin down. Insight and element ids come from the demo data half the time, so updates, activity
  and deletes reach real objects.
- The coverage phase skips the insight writes and generate_metadata, whose query `oneOf` of a
  dozen node kinds makes it enumerate ~8000 cases each; fuzzing gives them more examples instead.
  The environments copies of operations skip it too: they merge the canonical definitions.
- The stateful phase runs 100 scenarios over the spec's links and the ones schemathesis infers.
- insights_destroy is documented as always 405, so 405 counts as accepting valid data there
  (stack notes, pitfall 10). PostHog ignores undeclared query parameters, so none are generated.
- tests/schemathesis_hooks.py keeps positive bodies within two rules JSON Schema cannot state, and
  drops "accepted negative" cases that were valid as sent (see its docstring).
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mock_support import ALL_ACCESS, ServedMock

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
HOOKS = Path(__file__).resolve().parent / "schemathesis_hooks.py"
SEED = 20261123
MAX_EXAMPLES = 25
STATEFUL_SCENARIOS = 100
MIN_CASES = 3000  # what this configuration generates, with a margin: a run that silently shrank fails
QUERY_HEAVY = "^(insights_(create|update|partial_update|generate_metadata_create)|(environments_)?query_create)$"
INSIGHT_IDS = ["1", "2", "3", "9", "14", "17", "18", "QZb2cxTK"]
ELEMENT_IDS = [1, 2, 3]

CONFIG = """\
hooks = "{hooks}"
seed = {seed}

[generation]
max-examples = {max_examples}
allow-extra-parameters = false

[phases.stateful]
generation.max-examples = {stateful_examples}

[parameters]
"path.project_id" = "1"
"path.environment_id" = "3"

[dictionaries.insight_ids]
values = {insight_ids}

[dictionaries.element_ids]
values = {element_ids}

[auth.openapi.PersonalAPIKeyAuth]
bearer = "{key}"

[auth.openapi.SessionAuth]
api_key = "{session}"

[[operations]]
include-operation-id-regex = "insights_destroy$"
checks.positive_data_acceptance.expected-statuses = ["405", "401", "403", "404", "429"]

[[operations]]
# PostHog's runners refuse some schema-valid queries (x-refuses-valid-data), as the mock does.
include-operation-id-regex = "^(environments_)?query_create$"
checks.positive_data_acceptance.expected-statuses = ["200", "202", "400", "401", "403", "404", "429"]

[[operations]]
include-operation-id-regex = "^(environments_)?insights_.*(retrieve|update|destroy)$"
exclude-operation-id-regex = "all_activity|my_last_viewed|trending"
parameters = {{ "path.id" = {{ dictionary = "insight_ids", probability = 0.5 }} }}

[[operations]]
include-operation-id-regex = "^(environments_)?elements_(retrieve|update|partial_update|destroy)$"
parameters = {{ "path.id" = {{ dictionary = "element_ids", probability = 0.5 }} }}

[[operations]]
include-operation-id-regex = "^environments_elements_"
parameters = {{ "path.environment_id" = "1" }}

[[operations]]
include-operation-id-regex = "{query_heavy}"
phases.coverage.enabled = false
generation.max-examples = {heavy_examples}

[[operations]]
include-operation-id-regex = "^environments_"
phases.coverage.enabled = false
"""


@pytest.fixture
def served(tmp_path):
    with ServedMock(tmp_path / "mock.sqlite3", "--strict") as mock:
        yield mock


def test_schemathesis_cli_finds_no_failure_with_all_checks_and_the_stateful_phase(served, tmp_path):
    with served.client() as http:
        session = http.post("/_mock/session", json={}).json()["sessionid"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(
        hooks=HOOKS, seed=SEED, max_examples=MAX_EXAMPLES, heavy_examples=2 * MAX_EXAMPLES, stateful_examples=STATEFUL_SCENARIOS, key=ALL_ACCESS,
        session=session, query_heavy=QUERY_HEAVY, insight_ids=_toml_list(INSIGHT_IDS), element_ids=ELEMENT_IDS,
    ))
    junit = tmp_path / "junit.xml"
    result = subprocess.run(
        [
            str(SCHEMATHESIS), "--config-file", str(config), "run", f"{served.base_url}/_mock/openapi.json",
            "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
            "--report", "junit", "--report-junit-path", str(junit),
        ],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
    )
    output = result.stdout + result.stderr
    server_log = served.stop()
    generated = re.search(r"(\d+) generated", output)
    print("\n".join(line for line in output.splitlines() if re.search(r"generated|passed|failed|Scenarios|API Links|\(in ", line)))
    assert generated and int(generated.group(1)) >= MIN_CASES, f"too few cases:\n{output[-3000:]}"
    assert "Stateful" in output and "Coverage" in output and "Fuzzing" in output, output[-3000:]
    assert result.returncode == 0, f"schemathesis reported failures:\n{output[-15000:]}\n--- server log ---\n{server_log[-5000:]}"
    failures = ET.parse(junit).getroot()
    assert sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in failures.iter("testsuite")) == 0
    assert "Traceback" not in server_log, server_log[-5000:]


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"
