"""Personal API keys as PostHog shows them: never the value, only its mask."""

from __future__ import annotations

from typing import Any

from mockserver.store.accounts import PersonalAPIKey


def personal_api_key(key: PersonalAPIKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "label": key.label,
        "value": None,
        "mask_value": key.mask_value,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "user_id": key.user_id,
        "scopes": list(key.scopes) or ["*"],
        "scoped_teams": list(key.scoped_teams) if key.scoped_teams is not None else None,
        "scoped_organizations": list(key.scoped_organizations) if key.scoped_organizations is not None else None,
    }
