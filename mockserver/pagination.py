"""Absolute `next`/`previous` links built from the request URL, as DRF builds them."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def with_params(url: str, **changes: object | None) -> str:
    """The URL with these query parameters set (None removes one), the others kept in order."""
    parts = urlsplit(url)
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(params)))


def limit_offset_links(url: str, *, limit: int, offset: int, count: int) -> tuple[str | None, str | None]:
    """LimitOffsetPagination: `previous` drops `offset` when it would be 0."""
    following = with_params(url, limit=limit, offset=offset + limit) if offset + limit < count else None
    if offset <= 0:
        return following, None
    if offset - limit <= 0:
        return following, with_params(url, limit=limit, offset=None)
    return following, with_params(url, limit=limit, offset=offset - limit)


def page_links(url: str, *, page: int, limit: int, has_next: bool) -> tuple[str | None, str | None]:
    """The activity log's page-number links (activity_page_response)."""
    following = with_params(url, page=page + 1, limit=limit) if has_next else None
    previous = with_params(url, page=page - 1, limit=limit) if page > 1 else None
    return following, previous
