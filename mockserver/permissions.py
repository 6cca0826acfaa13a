"""Authorize: may this caller run this operation on this project (fact sheet §5.2)?

The rule for keys is PostHog's, stated once in posthog_spec.scopes and read with the scopes the
spec gives each operation; then the project the path names is looked up and the caller must be
a member of its organization.
"""

from __future__ import annotations

from mockserver import errors
from mockserver.auth import Principal
from mockserver.call import Call
from mockserver.projects import resolve_team
from mockserver.store import Store
from mockserver.store.accounts import Team
from posthog_spec import Catalogue, Operation, key_refusal, project_refusal

ADMIN_LEVEL = 8  # OrganizationMembership.Level.ADMIN (owners are 15)


class Permissions:
    """The refusals of APIScopePermission and project membership, with the spec's texts."""

    def __init__(self, texts: Catalogue, site_url: str):
        self.texts = texts
        self.site_url = site_url

    def authorize(self, call: Call) -> None:
        """Refuse what the caller may not do; on project routes, find the project (`call.team`)."""
        self.authorize_operation(call.operation, call.principal)
        call.team = resolve_team(call)
        if call.team is not None:
            self.authorize_project(call.principal, call.team, call.store)
            if call.operation.requires_project_admin:
                self.authorize_administration(call.principal, call.team, call.store)

    def authorize_operation(self, operation: Operation, principal: Principal) -> None:
        """The checks that need no project: can this kind of credential, with these scopes, call it?"""
        if principal.via_key:
            refusal = key_refusal(operation, self.texts, principal.key.scopes, principal.key.scoped_teams)
            if refusal is not None:
                raise errors.APIError.of(refusal)
        elif not operation.accepts_session:
            raise errors.unauthenticated(self.texts, "not_authenticated", operation.unauthenticated_status, self.site_url)

    def authorize_project(self, principal: Principal, team: Team, store: Store) -> None:
        """Keys scoped to other projects, then membership of the project's organization."""
        if principal.via_key:
            refusal = project_refusal(self.texts, principal.key.scoped_teams, team.id)
            if refusal is not None:
                raise errors.APIError.of(refusal)
        if store.accounts.membership_level(principal.user.id, team.organization_id) is None:
            raise errors.error(self.texts, "not_a_member")

    def authorize_administration(self, principal: Principal, team: Team, store: Store) -> None:
        """Operations marked `x-requires-project-admin` (TeamMemberStrictManagementPermission)."""
        if (store.accounts.membership_level(principal.user.id, team.organization_id) or 0) < ADMIN_LEVEL:
            raise errors.error(self.texts, "not_project_admin")
