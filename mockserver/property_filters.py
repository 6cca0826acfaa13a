"""Event and person property filters, as element stats and test-account filters apply them."""

from __future__ import annotations

import re
from typing import Any, Mapping


def matches(filters: list[Mapping[str, Any]], event_properties: Mapping[str, Any], person: Mapping[str, Any]) -> bool:
    """True when the event passes every filter (they combine with AND)."""
    for f in filters:
        properties = person if f.get("type") == "person" else event_properties
        if not _passes(f.get("operator") or "exact", properties.get(f["key"]), f.get("value")):
            return False
    return True


def _passes(operator: str, actual: Any, expected: Any) -> bool:
    if operator == "is_set":
        return actual is not None
    if operator == "is_not_set":
        return actual is None
    if actual is None:
        return operator in ("is_not", "not_icontains", "not_regex")
    wanted = expected if isinstance(expected, list) else [expected]
    text = str(actual)
    if operator == "exact":
        return any(text == str(w) for w in wanted)
    if operator == "is_not":
        return all(text != str(w) for w in wanted)
    if operator == "icontains":
        return any(str(w).lower() in text.lower() for w in wanted)
    if operator == "not_icontains":
        return all(str(w).lower() not in text.lower() for w in wanted)
    if operator in ("regex", "not_regex"):
        try:
            found = any(re.search(str(w), text) for w in wanted)
        except re.error:
            return False
        return found if operator == "regex" else not found
    if operator in ("gt", "gte", "lt", "lte"):
        try:
            left, right = float(actual), float(wanted[0])
        except (TypeError, ValueError):
            return False
        return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[operator]
    return True
