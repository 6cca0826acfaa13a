"""The account endpoints every client calls first: projects, the current user, the current key."""

from __future__ import annotations

from typing import Any

from mockserver.call import Call, Reply
from mockserver.handlers import handles
from mockserver.pagination import limit_offset_links, sql_window
from mockserver.representations.keys import personal_api_key
from mockserver.representations.projects import organization_basic, organization_detail, project_basic, project_detail
from mockserver.representations.users import user_detail


@handles("projects_list")
def projects_list(call: Call) -> Reply:
    organization_id = _current_organization(call)
    limit, offset = call.query.get("limit", 100), call.query.get("offset", 0)
    count, projects = call.store.accounts.projects_of_organization(organization_id, *sql_window(limit, offset))
    following, previous = limit_offset_links(call.url, limit=limit, offset=offset, count=count)
    return Reply({"count": count, "next": following, "previous": previous, "results": [project_basic(p) for p in projects]})


@handles("projects_retrieve")
def projects_retrieve(call: Call) -> Reply:
    """A project by its id: an environment's id reaches its insights, not the project itself."""
    if call.team.id != call.team.project_id:
        raise call.error("project_not_found")
    project = call.store.accounts.project(call.team.project_id)
    level = call.store.accounts.membership_level(call.user_id, project["organization_id"])
    return Reply(project_detail(project, membership_level=level))


@handles("users_me_retrieve")
def users_me(call: Call) -> Reply:
    user = call.principal.user
    accounts = call.store.accounts
    team = accounts.team(user.current_team_id) if user.current_team_id else None
    organizations = [_organization(call, org_id) for org_id in sorted(accounts.organization_ids_of(user.id))]
    current = next((o for o in organizations if team and o["id"] == team.organization_id), None)
    project = project_basic(accounts.project(team.project_id)) if team else None
    return Reply(user_detail(user, team=project, organization=current, organizations=organizations))


@handles("organizations_retrieve")
def organizations_retrieve(call: Call) -> Reply:
    """An organization of the caller's, by id or `@current` (their current project's)."""
    accounts = call.store.accounts
    if call.path["id"] == "@current":
        user = call.principal.user
        team = accounts.team(user.current_team_id) if user.current_team_id else None
        if team is None:
            raise call.error("current_organization_not_found")
        organization_id = team.organization_id
    else:
        organization_id = call.path["id"].lower()
    level = accounts.membership_level(call.user_id, organization_id)
    if level is None:
        raise call.error("not_found")
    count, projects = accounts.projects_of_organization(organization_id, limit=1000, offset=0)
    return Reply(organization_detail(
        accounts.organization(organization_id), membership_level=level, teams=accounts.teams_of_organization(organization_id),
        projects=projects, member_count=accounts.member_count(organization_id)))


@handles("personal_api_keys_current_retrieve")
def personal_api_keys_current(call: Call) -> Reply:
    return Reply(personal_api_key(call.principal.key))


def _organization(call: Call, organization_id: str) -> dict[str, Any]:
    level = call.store.accounts.membership_level(call.user_id, organization_id)
    return organization_basic(call.store.accounts.organization(organization_id), membership_level=level)


def _current_organization(call: Call) -> str:
    user = call.principal.user
    team = call.store.accounts.team(user.current_team_id) if user.current_team_id else None
    if team is not None:
        return team.organization_id
    return sorted(call.store.accounts.organization_ids_of(user.id))[0]
