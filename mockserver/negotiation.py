"""Content negotiation, as DRF does it before anything else: a `format` no renderer of the view
has is "Not found." (DefaultContentNegotiation.filter_renderers raises Http404), whoever calls,
with whatever method, and before the action can write anything. Insights render `json` and
`csv`; every other view `json` only (the formats come from the spec)."""

from __future__ import annotations

from starlette.requests import Request

from mockserver import errors
from posthog_spec import Catalogue, Operation


FORMAT = "format"
_FORMAT_BYTES = FORMAT.encode()


def refuse_unknown_format(request: Request, operation: Operation, texts: Catalogue) -> None:
    if _FORMAT_BYTES not in request.scope["query_string"]:
        return  # most requests: no query string to parse
    asked = request.query_params.get(FORMAT)
    if asked and asked not in operation.formats:
        raise errors.error(texts, "not_found")
