"""JSON as the mock keeps it: for request bodies, JSON-encoded query parameters and admin bodies.

Whatever is accepted here can be stored and sent back exactly; anything else is refused as a
syntax error would be, so a caller gets PostHog's parse error and never a 500 later on.
"""

from __future__ import annotations

import json
import math
from typing import Any


def load_json(raw: str | bytes) -> Any:
    """JSON as the mock keeps it; ValueError for anything it could not store or send back.

    `NaN`/`Infinity`, numbers that overflow a float (`1e400`) and lone UTF-16 surrogates
    (`"\\ud800"`, valid JSON but no UTF-8 text) are refused like a syntax error. `1.0` is the
    integer 1 to JSON Schema, so integral floats become ints, to be stored and sent back as ints.
    """
    return _normalized(json.loads(raw, parse_constant=_refuse_constant))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {name}")


def _normalized(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("Out of range float values are not JSON compliant")
        return int(value) if value.is_integer() and math.fabs(value) < 2**63 else value
    if isinstance(value, str):
        return _utf8(value)
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    if isinstance(value, dict):
        return {_utf8(k): _normalized(v) for k, v in value.items()}
    return value


def _utf8(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate (\\ud800-\\udfff), which is not text") from None
    return text
