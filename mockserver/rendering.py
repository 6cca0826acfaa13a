"""Render: the handler's reply as JSON or CSV bytes, and errors in PostHog's shape."""

from __future__ import annotations

import csv
import io
import json
from http import HTTPStatus
from typing import Any, Mapping

import orjson
from starlette.responses import Response

from mockserver.call import Call, Reply
from mockserver.errors import APIError

JSON = "application/json"
CSV = "text/csv; charset=utf-8"


def encode_json(data: Any) -> bytes:
    """Compact UTF-8 JSON, as PostHog's orjson renderer writes it. Stored JSON (an insight's query)
    is passed in as orjson.Fragment and copied as it is. Integers beyond 64 bits (echoed back from
    a request, e.g. in filters_override) are beyond orjson: those rare bodies are encoded again
    with each such integer as a fragment of its own digits. Moments (in computed results) are
    written in UTC with a Z, as PostHog's renderer writes them (OPT_UTC_Z)."""
    try:
        return orjson.dumps(data, option=orjson.OPT_UTC_Z)
    except TypeError:
        return orjson.dumps(_big_integers_as_fragments(data), option=orjson.OPT_UTC_Z)


def plain(data: Any) -> Any:
    """The data with every orjson.Fragment parsed (for code that reads values, like CSV)."""
    return json.loads(encode_json(data))


def _big_integers_as_fragments(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        return orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {key: _big_integers_as_fragments(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_big_integers_as_fragments(item) for item in value]
    return value


def csv_text(data: Any) -> str:
    """rest_framework_csv's CSVRenderer: a list is one row per item, anything else one row;
    nested keys and list indexes joined with dots, columns sorted by name, None as an empty cell,
    booleans as True/False, and empty objects or lists leaving no column at all."""
    data = plain(data)
    rows = [_flatten(item) for item in (data if isinstance(data, list) else [data])]
    header = sorted({key for row in rows for key in row})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key in header])
    return buffer.getvalue()


def render(call: Call, reply: Reply) -> Response:
    """A handler's reply, with the operation's success status (202 when its work goes on after the
    answer); CSV when `format=csv` was asked."""
    status = HTTPStatus.ACCEPTED if reply.pending else call.operation.success_status()
    if status not in call.operation.documented_statuses():
        raise RuntimeError(f"{call.operation.operation_id} does not document {status}")
    return response(status, reply.body, as_csv=call.query.get("format") == "csv",
                    empty=reply.empty, headers=reply.headers, head=call.head)


def response(status: int, body: Any, *, as_csv: bool = False, empty: bool = False, headers: Mapping[str, str] | None = None, head: bool = False) -> Response:
    if empty:
        return Response(status_code=status, headers=dict(headers or {}))
    content = csv_text(body).encode("utf-8") if as_csv else encode_json(body)
    out = Response(b"" if head else content, status_code=status, media_type=CSV if as_csv else JSON, headers=dict(headers or {}))
    if head:
        out.headers["content-length"] = str(len(content))
    return out


def error_response(error: APIError, *, head: bool = False) -> Response:
    return response(error.status, error.body(), headers=error.headers, head=head)


def _flatten(item: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(item, dict):
        pairs = item.items()
    elif isinstance(item, list):
        pairs = ((str(i), v) for i, v in enumerate(item))
    else:
        return {prefix: item}
    flat: dict[str, Any] = {}
    for key, value in pairs:
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, (dict, list)):
            flat.update(_flatten(value, name))
        else:
            flat[name] = value
    return flat


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return str(value)
