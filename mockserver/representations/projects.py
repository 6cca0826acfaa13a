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


def organization_detail(organization: dict[str, Any], *, membership_level: int | None, teams: list[dict[str, Any]],
                        projects: list[dict[str, Any]], member_count: int) -> dict[str, Any]:
    """OrganizationSerializer. What the mock does not model carries a fresh self-hosted
    organization's values (the spec's x-fidelity note)."""
    return {
        "id": organization["id"],
        "name": organization["name"],
        "slug": organization["slug"],
        "logo_media_id": None,
        "created_at": organization["created_at"],
        "updated_at": organization["created_at"],
        "membership_level": membership_level,
        "plugins_access_level": 9,
        "teams": [{"id": t["id"], "project_id": t["project_id"], "uuid": t["uuid"], "name": t["name"]} for t in teams],
        "projects": [{"id": p["id"], "name": p["name"]} for p in projects],
        "available_product_features": [],
        "is_member_join_email_enabled": True,
        "metadata": {"instance_tag": "none"},
        "customer_id": None,
        "enforce_2fa": None,
        "members_can_invite": True,
        "members_can_use_personal_api_keys": True,
        "allow_publicly_shared_resources": True,
        "member_count": member_count,
        "is_ai_data_processing_approved": bool(organization["ai_data_processing_approved"]),
        "default_experiment_stats_method": "bayesian",
        "default_anonymize_ips": False,
        "default_role_id": None,
        "is_active": True,
        "is_not_active_reason": None,
        "is_pending_deletion": False,
    }
