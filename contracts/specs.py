"""The spec the contracts hold a target to, always read through posthog_spec.

A run reads it once: the checkout's, or a copy named with `--spec PATH`. The named checks and the
hooks run inside schemathesis, also in a plain `schemathesis run`, where the one spec they can see
is the schema under test: they read that one, so a run against a changed copy of the spec expects
the copy's texts and statuses.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Mapping

from posthog_spec import Operation, Spec, default_spec, default_spec_path

_read: dict[int, tuple[Mapping[str, Any], Spec]] = {}
_reading = threading.Lock()


def load(path: str | Path | None = None) -> Spec:
    """The spec at `path`; without one, the checkout's (read once per process)."""
    return Spec.load(path) if path is not None else default_spec()


def path_of(path: str | Path | None = None) -> Path:
    """Where schemathesis loads the spec from: `path`, or the checkout's spec."""
    return Path(path) if path is not None else default_spec_path()


def of_case(case: Any) -> Spec:
    """The spec of the schema a schemathesis case was generated from, read once per schema.

    Keyed by the identity of schemathesis's raw document; the document is kept with its reading,
    so the identity cannot be reused while it is remembered.
    """
    raw = case.operation.schema.raw_schema
    with _reading:
        found = _read.get(id(raw))
        if found is None or found[0] is not raw:
            found = _read[id(raw)] = (raw, Spec(raw))
    return found[1]


def called_operation(case: Any) -> Operation | None:
    """The operation a case's request really called; None for an undeclared method sent to its path."""
    if case.method.upper() != case.operation.method.upper():
        return None
    return of_case(case).operation(case.operation.definition.raw["operationId"])
