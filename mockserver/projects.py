"""Which project (environment) a path names: `{project_id}`, `{environment_id}`, or `@current`.

A lookup, not a permission: an id that is not a number, or names no environment, answers 404
"Project not found." (posthog/api/routing.py), before membership is checked.
"""

from __future__ import annotations

from mockserver.call import Call
from mockserver.store.accounts import Team

MAX_TEAM_ID = 2**63 - 1


def resolve_team(call: Call) -> Team | None:
    """The environment the call's path names (None for routes outside a project)."""
    name = call.operation.project_param
    if name is None:
        return None
    raw_id = call.raw_path[name]
    if raw_id == "@current":
        team_id = call.principal.user.current_team_id
    elif raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 19 and int(raw_id) <= MAX_TEAM_ID:
        team_id = int(raw_id)
    else:
        raise call.error("project_not_found")
    team = call.store.accounts.team(team_id) if team_id is not None else None
    if team is None:
        raise call.error("project_not_found")
    return team
