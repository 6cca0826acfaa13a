"""schemathesis hooks for the CLI run against the mock (loaded by path from the generated config).

`map_case` keeps valid generated bodies inside the two PostHog rules JSON Schema cannot state,
as the contracts do (contracts/hooks.py): dashboards must exist, ids × tags ≤ 10000.

`filter_failure` drops "accepted negative cases" that were refused with a 4xx the spec documents
(a body over 1 MiB gets 413, which schemathesis's own list of refusals leaves out; the
contracts count the same, contracts/conformance.py `rejections`), and two kinds that were
valid as sent:
- the run fixes `project_id` and `environment_id` to the demo project (see the test's
  docstring), so a case whose only violation was one of them is sent with the fixed value;
- in the stateful phase a path parameter taken from a response can be "negative" only by its
  JSON type (the integer 129 for a string id), which a URL cannot carry: on the wire it is
  "129". Such a case is dropped only when every path parameter, as sent, is valid by the spec.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import negated_parameters

from contracts.hooks import within_posthog_rules
from contracts.specs import of_case

PINNED = {("project_id", ParameterLocation.PATH), ("environment_id", ParameterLocation.PATH)}


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    return within_posthog_rules(context, case)


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    if not isinstance(failure, AcceptedNegativeData):
        return True
    if _documented_refusal(of_case(case), response.status_code):
        return False
    negated = set(negated_parameters(case.meta))
    if negated and negated <= PINNED:
        return False
    negative = {location for location, info in case.meta.components.items() if info.mode is GenerationMode.NEGATIVE}
    return not (negative == {ParameterLocation.PATH} and _path_valid_as_sent(case))


def _documented_refusal(spec: Any, status: int) -> bool:
    """A 4xx the spec documents refuses the request. (Not contracts.conformance's list: importing
    it registers the contracts' named checks, which `--checks all` would then run too.)"""
    return 400 <= status < 500 and any(status in op.documented_statuses() for op in spec.operations)


def _path_valid_as_sent(case: Any) -> bool:
    spec = of_case(case)
    operation = spec.operation(case.operation.definition.raw["operationId"])
    for param in operation.parameters:
        if param.location != "path":
            continue
        sent = str(case.path_parameters.get(param.name, ""))
        value: Any = int(sent) if param.schema.get("type") == "integer" and sent.isdigit() else sent
        if not spec.validator(param.schema).is_valid(value):
            return False
    return True
