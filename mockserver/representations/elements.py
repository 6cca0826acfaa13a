"""Elements as PostHog shows them (ElementSerializer): every field, no id; from stored rows, and
from the element chains of click events (element stats)."""

from __future__ import annotations

import fnmatch
import json
from typing import Any


def element(row: Any) -> dict[str, Any]:
    return {
        "text": row["text"],
        "tag_name": row["tag_name"],
        "attr_class": json.loads(row["attr_class"]) if row["attr_class"] is not None else None,
        "href": row["href"],
        "attr_id": row["attr_id"],
        "nth_child": row["nth_child"],
        "nth_of_type": row["nth_of_type"],
        "attributes": json.loads(row["attributes"]),
        "order": row["order"],
    }


def chain_elements(raw: str, depth: int | None, data_attributes: str | None) -> list[dict[str, Any]]:
    """An event's element chain (clicked element first), cut to `depth` elements, with only the
    attributes named by `data_attributes` (wildcards allowed) when it is given."""
    elements = json.loads(raw)[:depth] if depth else json.loads(raw)
    if data_attributes:
        patterns = [f"attr__{p.strip()}" for p in data_attributes.split(",") if p.strip()]
        for item in elements:
            item["attributes"] = {
                k: v for k, v in item.get("attributes", {}).items() if any(fnmatch.fnmatch(k, p) for p in patterns)
            }
    return [
        {
            "text": e.get("text"), "tag_name": e.get("tag_name"), "attr_class": e.get("attr_class"),
            "href": e.get("href"), "attr_id": e.get("attr_id"), "nth_child": e.get("nth_child"),
            "nth_of_type": e.get("nth_of_type"), "attributes": e.get("attributes", {}), "order": position,
        }
        for position, e in enumerate(elements)
    ]
