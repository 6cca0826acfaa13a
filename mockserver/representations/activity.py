"""Activity log entries as PostHog shows them (ActivityLogSerializer)."""

from __future__ import annotations

import json
from typing import Any

from mockserver.store.accounts import User


def activity_entry(row: Any, user: User | None) -> dict[str, Any]:
    """An entry; a change without a user (or of a deleted one) is the system's."""
    return {
        "id": row["id"],
        "user": {"first_name": user.first_name, "email": user.email} if user else
                {"first_name": "System", "email": None, "is_system": True},
        "activity": row["activity"],
        "scope": row["scope"],
        "item_id": row["item_id"],
        "detail": json.loads(row["detail"]),
        "created_at": row["created_at"],
        "is_system": bool(row["is_system"]),
        "was_impersonated": bool(row["was_impersonated"]),
        "client": row["client"],
    }
