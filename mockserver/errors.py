"""PostHog's error body, raised from one place.

PostHog renders every error through drf-exceptions-hog as `{type, code, detail, attr}`: only the
first problem, DRF's code (`invalid` renamed `invalid_input`), the field name in `attr` (nested
keys joined with `__`) or null. Fact sheet §6.
"""

from __future__ import annotations

from typing import Any, Mapping


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
    def from_spec(cls, entry: Mapping[str, Any], *, attr: str | None, detail: str | None = None) -> "APIError":
        """An error described by an `x-posthog-errors` entry of the spec (defaults: a 400 validation error)."""
        return cls(
            status=int(entry.get("status", 400)),
            type=entry.get("type", "validation_error"),
            code=entry.get("code", "invalid_input"),
            detail=entry.get("detail", detail or "Invalid input."),
            attr=entry["attr"] if "attr" in entry else attr,
        )


def validation_error(detail: str, attr: str | None = None, code: str = "invalid_input") -> APIError:
    return APIError(400, "validation_error", code, detail, attr)


def parse_error(detail: str) -> APIError:
    return APIError(400, "invalid_request", "parse_error", detail)


def not_found(detail: str = "Not found.") -> APIError:
    return APIError(404, "invalid_request", "not_found", detail)


def project_not_found() -> APIError:
    return not_found("Project not found.")


def endpoint_not_found() -> APIError:
    return not_found("Endpoint not found.")


def permission_denied(detail: str) -> APIError:
    return APIError(403, "authentication_error", "permission_denied", detail)


def method_not_allowed(method: str, allowed: list[str]) -> APIError:
    return APIError(
        405, "invalid_request", "method_not_allowed", f'Method "{method}" not allowed.',
        headers={"Allow": ", ".join(allowed)},
    )


def unsupported_media_type(media_type: str) -> APIError:
    return APIError(415, "invalid_request", "unsupported_media_type", f'Unsupported media type "{media_type}" in request.')


def payload_too_large(limit: int) -> APIError:
    return APIError(413, "invalid_request", "payload_too_large", f"Request body exceeds {limit} bytes.")


def throttled(wait_seconds: int) -> APIError:
    return APIError(
        429, "throttled_error", "throttled", f"Request was throttled. Expected available in {wait_seconds} seconds.",
        headers={"Retry-After": str(wait_seconds)},
    )


def server_error(detail: str = "A server error occurred.") -> APIError:
    return APIError(500, "server_error", "error", detail)


def not_authenticated(status: int, site_url: str, detail: str) -> APIError:
    return _authentication(status, site_url, "not_authenticated", detail)


def authentication_failed(status: int, site_url: str, detail: str) -> APIError:
    return _authentication(status, site_url, "authentication_failed", detail)


def _authentication(status: int, site_url: str, code: str, detail: str) -> APIError:
    """401 carries WWW-Authenticate (posthog/exceptions.py); a 403 for the same cause does not."""
    headers = {"WWW-Authenticate": f'Bearer resource_metadata="{site_url}/.well-known/oauth-protected-resource"'}
    return APIError(status, "authentication_error", code, detail, headers=headers if status == 401 else None)
