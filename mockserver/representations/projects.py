"""Projects and organizations as PostHog shows them to a member."""

from __future__ import annotations

import json
from typing import Any


def project_basic(project: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": project["id"],
        "uuid": project["uuid"],
        "organization": project["organization_id"],
        "api_token": project["api_token"],
        "name": project["name"],
        "completed_snippet_onboarding": True,
        "has_completed_onboarding_for": {"product_analytics": True},
        "ingested_event": True,
        "is_demo": False,
        "timezone": project["timezone"],
        "access_control": False,
    }


def project_detail(project: dict[str, Any], *, membership_level: int | None) -> dict[str, Any]:
    return {
        **project_basic(project),
        "created_at": project["created_at"],
        "updated_at": project["updated_at"],
        "app_urls": json.loads(project["app_urls"]),
        "test_account_filters": json.loads(project["test_account_filters"]),
        "primary_dashboard": project["primary_dashboard"],
        "week_start_day": project["week_start_day"],
        "effective_membership_level": membership_level,
    }


def organization_basic(organization: dict[str, Any], *, membership_level: int | None) -> dict[str, Any]:
    return {
        "id": organization["id"],
        "name": organization["name"],
        "slug": organization["slug"],
        "membership_level": membership_level,
    }
