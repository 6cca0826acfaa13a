"""The account endpoints every client calls first: projects, the current user, the current key."""

from __future__ import annotations

import json
from typing import Any

from mockserver import errors
from mockserver.handlers import Call, Reply, always, handles
from mockserver.pagination import limit_offset_links, sql_window


@handles("projects_list", clock_free=always)
def projects_list(call: Call) -> Reply:
    organization_id = _current_organization(call)
    limit, offset = call.query.get("limit", 100), call.query.get("offset", 0)
    count, projects = call.store.accounts.projects_of_organization(organization_id, *sql_window(limit, offset))
    following, previous = limit_offset_links(call.url, limit=limit, offset=offset, count=count)
    return Reply(200, {"count": count, "next": following, "previous": previous, "results": [project_basic(p) for p in projects]})


@handles("projects_retrieve", clock_free=always)
def projects_retrieve(call: Call) -> Reply:
    """A project by its id: an environment's id reaches its insights, not the project itself."""
    if call.team.id != call.team.project_id:
        raise errors.project_not_found()
    project = call.store.accounts.project(call.team.project_id)
    level = call.store.accounts.membership_level(call.user_id, project["organization_id"])
    return Reply(200, {
        **project_basic(project),
        "created_at": project["created_at"],
        "updated_at": project["updated_at"],
        "app_urls": json.loads(project["app_urls"]),
        "test_account_filters": json.loads(project["test_account_filters"]),
        "primary_dashboard": project["primary_dashboard"],
        "week_start_day": project["week_start_day"],
        "effective_membership_level": level,
    })


@handles("users_me_retrieve", clock_free=always)
def users_me(call: Call) -> Reply:
    user = call.principal.user
    accounts = call.store.accounts
    team = accounts.team(user.current_team_id) if user.current_team_id else None
    organizations = [organization_basic(call, org_id) for org_id in sorted(accounts.organization_ids_of(user.id))]
    current = next((o for o in organizations if team and o["id"] == team.organization_id), None)
    return Reply(200, {
        "id": user.id,
        "uuid": user.uuid,
        "distinct_id": user.distinct_id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_email_verified": user.is_email_verified,
        "date_joined": user.date_joined,
        "is_staff": False,
        "team": project_basic(accounts.project(team.project_id)) if team else None,
        "organization": current,
        "organizations": organizations,
        "role_at_organization": user.role_at_organization,
    })


@handles("personal_api_keys_current_retrieve", clock_free=always)
def personal_api_keys_current(call: Call) -> Reply:
    return Reply(200, call.principal.key.representation())


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


def organization_basic(call: Call, organization_id: str) -> dict[str, Any]:
    organization = call.store.accounts.organization(organization_id)
    return {
        "id": organization["id"],
        "name": organization["name"],
        "slug": organization["slug"],
        "membership_level": call.store.accounts.membership_level(call.user_id, organization_id),
    }


def _current_organization(call: Call) -> str:
    user = call.principal.user
    team = call.store.accounts.team(user.current_team_id) if user.current_team_id else None
    if team is not None:
        return team.organization_id
    return sorted(call.store.accounts.organization_ids_of(user.id))[0]
