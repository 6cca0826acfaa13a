"""What the pipeline reads of a request: its headers in one pass, its body once, the rest on demand.

Starlette's `Headers` scans the raw header list on every lookup; a request asks for six or more
headers (length, encoding, type, key, cookie, host) before it is answered, so they are read into
a dict once. The query string and cookies are parsed only if a step asks for them: a request
authenticated by its `Authorization` header and answered from the memo needs neither.
"""

from __future__ import annotations

from typing import Any, Mapping

from starlette.requests import Request

from mockserver import errors
from mockserver.json_values import load_json
from posthog_spec import Catalogue

JSON_MEDIA_TYPES = ("application/json",)


class Incoming:
    def __init__(self, request: Request, body: "RequestBody", headers: dict[str, str]):
        self.request = request
        self.body = body
        self.headers = headers

    @classmethod
    async def read(cls, request: Request, body_limit: int, texts: Catalogue) -> "Incoming":
        headers = header_map(request.scope["headers"])
        return cls(request, await RequestBody.read(request, headers, body_limit, texts), headers)

    @property
    def query(self) -> Mapping[str, str]:
        return self.request.query_params

    @property
    def cookies(self) -> Mapping[str, str]:
        return self.request.cookies

    def json(self) -> Any:
        return self.body.json()


def header_map(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Names as ASGI gives them (lower case); where a name repeats, the first value, as `Headers.get`."""
    found: dict[str, str] = {}
    for name, value in raw:
        found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


class RequestBody:
    """The request's body, read once (up to the size limit) and parsed as JSON on first use."""

    def __init__(self, raw: bytes, content_type: str, texts: Catalogue):
        self.raw = raw
        self.content_type = content_type
        self.texts = texts
        self._parsed: Any = None
        self._done = False

    @classmethod
    async def read(cls, request: Request, headers: Mapping[str, str], limit: int, texts: Catalogue) -> "RequestBody":
        content_type = headers.get("content-type", "")
        declared = headers.get("content-length")
        if declared is None and "transfer-encoding" not in headers:
            return cls(b"", content_type, texts)  # HTTP/1.1: no length and no chunks is no body
        if declared and declared.isdigit() and int(declared) > limit:
            raise errors.error(texts, "payload_too_large", limit=limit)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise errors.error(texts, "payload_too_large", limit=limit)
            chunks.append(chunk)
        return cls(b"".join(chunks), content_type, texts)

    @property
    def sent(self) -> bool:
        """Whether there is a body at all (a JSON `null` is one, and so is whitespace, which DRF fails to parse)."""
        return bool(self.raw)

    def json(self) -> Any:
        """None for an empty body (or JSON null); 415 for a non-JSON media type, 400 for JSON that does not parse.

        Only a zero-length body is no body: DRF parses any other, so one of whitespace gets
        "JSON parse error - Expecting value: ..." and is not taken for an empty PATCH.
        """
        if not self._done:
            self._parsed = self._parse()
            self._done = True
        return self._parsed

    def _parse(self) -> Any:
        if not self.sent:
            return None
        media_type = self.content_type.split(";")[0].strip().lower()
        if media_type not in JSON_MEDIA_TYPES and not media_type.endswith("+json"):
            # DRF names the header as sent
            raise errors.error(self.texts, "unsupported_media_type", media_type=self.content_type)
        try:
            return load_json(self.raw)
        except (ValueError, RecursionError) as problem:
            raise errors.error(self.texts, "parse_error", problem=problem)
