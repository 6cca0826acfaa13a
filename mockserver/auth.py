"""Authenticate: who is calling, with a personal API key or a session (fact sheet §5.1).

A key is taken from `Authorization: Bearer`, else a `personal_api_key` body field, else a
`personal_api_key` query parameter; only the first one found is tried, and an unknown one is
refused with a text naming where it was found. Without a key, a `sessionid` cookie; in
`--auth open` mode a request without credentials is the demo user's session (for browsers).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Mapping, Protocol

from mockserver import errors
from mockserver.call import Call
from mockserver.clock import Clock, iso
from mockserver.seed import DEMO_USER_ID
from mockserver.store import Store
from mockserver.store.accounts import PersonalAPIKey, User
from posthog_spec import Catalogue

SESSION_COOKIE = "sessionid"
KEY_USE_RESOLUTION = timedelta(hours=1)


@dataclass(frozen=True)
class Principal:
    user: User
    key: PersonalAPIKey | None = None

    @property
    def via_key(self) -> bool:
        return self.key is not None


class Credentials(Protocol):
    """Where credentials may be (mockserver.incoming.Incoming); each is read only if it is reached."""

    headers: Mapping[str, str]

    @property
    def query(self) -> Mapping[str, str]: ...

    @property
    def cookies(self) -> Mapping[str, str]: ...

    def json(self) -> Any: ...


class Authenticator:
    def __init__(self, store: Store, clock: Clock, *, open_mode: bool, site_url: str, texts: Catalogue):
        self.store = store
        self.clock = clock
        self.open_mode = open_mode
        self.site_url = site_url
        self.texts = texts
        self._use_noted: dict[str, tuple[str | None, datetime]] = {}

    def authenticate(self, call: Call) -> None:
        """Find the caller (`call.principal`), or refuse with the operation's status for it."""
        status, sent = call.operation.unauthenticated_status, call.incoming
        found = self._key_candidate(sent)
        if found is not None:
            source, secret = found
            key = self.store.accounts.key_by_value(secret)
            user = self.store.accounts.user(key.user_id) if key else None
            if key is None or user is None or not user.is_active:
                raise errors.unauthenticated(self.texts, "invalid_key", status, self.site_url, source=source)
            call.principal = Principal(user, self._note_use(key))
            return
        cookies = sent.cookies
        if SESSION_COOKIE in cookies:
            user = self.store.accounts.user_by_session(cookies[SESSION_COOKIE])
            if user is not None and user.is_active:
                call.principal = Principal(user)
                return
        if self.open_mode:
            call.principal = Principal(self.store.accounts.user(DEMO_USER_ID))
            return
        raise errors.unauthenticated(self.texts, "not_authenticated", status, self.site_url)

    @staticmethod
    def _key_candidate(sent: Credentials) -> tuple[str, str] | None:
        authorization = sent.headers.get("authorization", "")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token and not token.startswith("pha_"):  # pha_: OAuth tokens
            return "Authorization header", token
        body = sent.json()
        if isinstance(body, dict) and isinstance(body.get("personal_api_key"), str):
            return "body", body["personal_api_key"]
        query = sent.query
        if query.get("personal_api_key"):
            return "query string", query["personal_api_key"]
        return None

    def _note_use(self, key: PersonalAPIKey) -> PersonalAPIKey:
        """PostHog refreshes last_used_at at most hourly; so does the mock (one small write), and
        the request goes on with the key as refreshed (`@current` shows the new time).

        Until the hour is up, a key whose last_used_at is still the one seen is passed at once:
        the same test, without formatting a time on every request.
        """
        now = self.clock.now()
        seen = self._use_noted.get(key.id)
        if seen is not None and seen[0] == key.last_used_at and now < seen[1]:
            return key
        if key.last_used_at is None or key.last_used_at < iso(now - KEY_USE_RESOLUTION):
            with self.store.transaction(write=True):
                self.store.accounts.mark_key_used(key, iso(now))
            return replace(key, last_used_at=iso(now))
        self._use_noted[key.id] = (key.last_used_at, datetime.fromisoformat(key.last_used_at) + KEY_USE_RESOLUTION)
        return key
