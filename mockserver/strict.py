"""Strict mode: every answer is checked against the spec; a mismatch is a bug in the mock.

On in tests. A mismatch raises StrictModeViolation, which the server does not catch: the test
client re-raises it, and over a socket it is a 500 that names the problem in the log.
"""

from __future__ import annotations

import json
from typing import Any

from posthog_spec import Operation, Spec


class StrictModeViolation(AssertionError):
    """The mock answered something its own spec does not allow."""


class ResponseChecker:
    def __init__(self, spec: Spec):
        self.spec = spec

    def problems(self, operation: Operation, status: int, content_type: str, body: bytes, headers: Any) -> list[str]:
        documented = operation.responses.get(str(status))
        if documented is None:
            return [f"{operation.operation_id} answered {status}, which the spec does not document"]
        content = documented.get("content")
        if not content:
            return [f"{operation.operation_id} {status} must have an empty body"] if body else []
        media = content_type.split(";")[0].strip()
        documented_media = next((m for m in content if m.split(";")[0] == media), None)
        if documented_media is None:
            return [f"{operation.operation_id} {status} answered {media}, the spec documents {sorted(content)}"]
        problems = [
            f"{operation.operation_id} {status} lacks the required header {name}"
            for name, header in documented.get("headers", {}).items()
            if self.spec.resolve(header).get("required") and name.lower() not in headers
        ]
        if media == "application/json":
            validator = self.spec.validator(content[documented_media]["schema"])
            problems += [
                f"{operation.operation_id} {status} body at /{'/'.join(map(str, e.instance_path))}: {e.message}"
                for e in validator.iter_errors(json.loads(body))
            ][:5]
        return problems
