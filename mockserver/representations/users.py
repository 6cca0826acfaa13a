"""Users as PostHog shows them inside other resources (UserBasicSerializer)."""

from __future__ import annotations

from typing import Any

from mockserver.store.accounts import User


def user_basic(user: User) -> dict[str, Any]:
    return {**_identity(user), "hedgehog_config": None, "role_at_organization": user.role_at_organization}


def user_detail(user: User, *, team: dict[str, Any] | None, organization: dict[str, Any] | None,
                organizations: list[dict[str, Any]]) -> dict[str, Any]:
    """`users/@me`: the user, their current project and organization, and all their organizations."""
    return {
        **_identity(user),
        "date_joined": user.date_joined,
        "is_staff": False,
        "team": team,
        "organization": organization,
        "organizations": organizations,
        "role_at_organization": user.role_at_organization,
    }


def _identity(user: User) -> dict[str, Any]:
    """The fields every shape of a user starts with, in PostHog's order."""
    return {
        "id": user.id,
        "uuid": user.uuid,
        "distinct_id": user.distinct_id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_email_verified": user.is_email_verified,
    }
