"""PostHog's error body, raised from one place.

PostHog renders every error through drf-exceptions-hog as `{type, code, detail, attr}`: only the
first problem, DRF's code (`invalid` renamed `invalid_input`), the field name in `attr` (nested
keys joined with `__`) or null. Fact sheet §6. The words, statuses, types and codes are the
spec's (`x-posthog-texts`); this module only turns them into an exception the pipeline renders.
"""

from __future__ import annotations

from typing import Any, Mapping

from posthog_spec import Catalogue, Said

UNSET: Any = object()  # "the text decides": an attr the caller does not name


class APIError(Exception):
    """An answer in PostHog's error shape; raised anywhere in the pipeline, rendered by the app."""

    def __init__(
        self,
        status: int,
        type: str,
        code: str,
        detail: str,
        attr: str | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.type = type
        self.code = "invalid_input" if code == "invalid" else code
        self.detail = detail
        self.attr = attr
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"type": self.type, "code": self.code, "detail": self.detail, "attr": self.attr}

    @classmethod
    def of(cls, said: Said, *, attr: Any = UNSET, status: int | None = None,
           headers: Mapping[str, str] | None = None) -> "APIError":
        """A text of the catalogue as an error. Where the text fixes `attr`, it stands."""
        text = said.text
        if text.status is None or text.type is None or text.code is None:
            raise ValueError(f"text {text.name!r} is not an error (it has no status, type and code)")
        chosen = text.attr if text.fixes_attr or attr is UNSET else attr
        return cls(status or text.status, text.type, text.code, said.detail, chosen, headers)

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], *, attr: str | None, detail: str) -> "APIError":
        """An `x-posthog-errors` entry of a field or parameter (a catalogue entry or the field's
        own): what it does not say is a 400 validation error about that field."""
        return cls(
            status=int(entry.get("status", 400)),
            type=entry.get("type", "validation_error"),
            code=entry.get("code", "invalid_input"),
            detail=entry.get("detail", detail),
            attr=entry["attr"] if "attr" in entry else attr,
        )


def error(texts: Catalogue, name: str, *, attr: Any = UNSET, **values: Any) -> APIError:
    """The catalogue's text `name`, filled in with `values`, as an error."""
    return APIError.of(texts[name](**values), attr=attr)


def method_not_allowed(texts: Catalogue, method: str, allowed: list[str]) -> APIError:
    return APIError.of(texts["method_not_allowed"](method=method), headers={"Allow": ", ".join(allowed)})


def throttled(texts: Catalogue, wait_seconds: int) -> APIError:
    return APIError.of(texts["throttled"](wait=wait_seconds), headers={"Retry-After": str(wait_seconds)})


def unauthenticated(texts: Catalogue, name: str, status: int, site_url: str, **values: Any) -> APIError:
    """Missing or refused credentials, with the operation's status for them (401, or 403 on
    insights). A 401 carries WWW-Authenticate (posthog/exceptions.py); a 403 for the same cause does not."""
    headers = {"WWW-Authenticate": f'Bearer resource_metadata="{site_url}/.well-known/oauth-protected-resource"'}
    return APIError.of(texts[name](**values), status=status, headers=headers if status == 401 else None)
