"""Which personal API keys PostHog refuses, and with which words (fact sheet §5.2).

APIScopePermission, in the order PostHog checks: an operation no key may call refuses every key
(`*` included); a key lacking the operation's scope is refused naming it (`X:write` grants
`X:read`, `*` grants all); a key scoped to projects is refused outside project routes, and on a
project it is not scoped to. The scope an operation needs is its PersonalAPIKeyAuth requirement
in the spec. The mock refuses by this rule and the contracts expect by it; tests/test_scope_rules.py
holds the rule itself to PostHog's documented cases.
"""

from __future__ import annotations

from posthog_spec.document import Operation
from posthog_spec.texts import Catalogue, PostHogText, Said

# The refusals that are about what a key may do, and those about who is calling.
KEY_REFUSALS = ("no_key_access", "missing_scope", "scoped_key_off_project", "other_project")
CALLER_REFUSALS = ("not_authenticated", "invalid_key")


def key_grants(scopes: tuple[str, ...], required: str) -> bool:
    """`*` grants everything; `X:write` also grants `X:read`; nothing else grants anything."""
    if "*" in scopes or required in scopes:
        return True
    resource, _, action = required.partition(":")
    return action == "read" and f"{resource}:write" in scopes


def key_refusal(operation: Operation, texts: Catalogue, scopes: tuple[str, ...],
                scoped_teams: tuple[int, ...] | None = None, team_id: int | None = None) -> Said | None:
    """The 403 a key with these scopes gets on this operation, or None when it may pass.

    `team_id` is the project the request names, once known: without it, only the checks that
    need no project are made (the mock makes those before it looks the project up, and
    `project_refusal` after).
    """
    if not operation.accepts_keys:
        return texts["no_key_access"]()
    required = operation.required_scope
    if required and not key_grants(scopes, required):
        return texts["missing_scope"](scope=required)
    if scoped_teams and operation.project_param is None:
        return texts["scoped_key_off_project"]()
    if team_id is not None:
        return project_refusal(texts, scoped_teams, team_id)
    return None


def project_refusal(texts: Catalogue, scoped_teams: tuple[int, ...] | None, team_id: int) -> Said | None:
    """A key scoped to projects is refused on any other (empty or no scoping: every project)."""
    if scoped_teams and team_id not in scoped_teams:
        return texts["other_project"](id=team_id)
    return None


def key_refusal_text(texts: Catalogue, detail: str | None) -> PostHogText | None:
    """Which refusal of a key `detail` is, if it is one."""
    return texts.recognise(detail, *KEY_REFUSALS)
