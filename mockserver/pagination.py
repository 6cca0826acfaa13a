"""Absolute `next`/`previous` links built from the request URL, the two ways PostHog builds them.

The list endpoints use DRF's LimitOffsetPagination, whose replace_query_param and
remove_query_param re-encode the whole query sorted by name. The activity log and element stats
use PostHog's own format_query_params_absolute_url, which replaces a value where it stands in the
URL and appends it when absent (fact sheet §7.1: `?paginate_response=true&limit=1&offset=1`).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MAX_SQL_LIMIT, MAX_SQL_OFFSET = 2**31, 2**62


def sql_window(limit: int, offset: int) -> tuple[int, int]:
    """The page as SQLite can be asked for it (its integers end at 2**63-1); links are built from
    the values the caller sent, as DRF builds them."""
    return min(limit, MAX_SQL_LIMIT), min(offset, MAX_SQL_OFFSET)


def sorted_with(url: str, **changes: object | None) -> str:
    """DRF's replace_query_param/remove_query_param: these parameters set (None removes one),
    then the query re-encoded sorted by name (repeated names keep their order)."""
    return _sorted_with(url, tuple(changes.items()))


@functools.lru_cache(maxsize=1024)
def _sorted_with(url: str, changed: tuple[tuple[str, object | None], ...]) -> str:
    """Remembered: a frontend asks for the same few pages over and over (~20 us a link to build)."""
    changes = dict(changed)
    parts = urlsplit(url)
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(sorted(params, key=lambda pair: pair[0]))))


def replaced_in_place(url: str, **values: int) -> str:
    """PostHog's format_query_params_absolute_url: each `name=<digits>` rewritten where it
    stands, or `name=value` appended; the rest of the URL is left exactly as sent."""
    for name, value in values.items():
        pattern = re.compile(rf"([&?]{re.escape(name)}=)(\d+)")
        if pattern.search(url):
            url = pattern.sub(rf"\g<1>{value}", url)
        else:
            url += ("&" if "?" in url else "?") + f"{name}={value}"
    return url


def limit_offset_links(url: str, *, limit: int, offset: int, count: int) -> tuple[str | None, str | None]:
    """LimitOffsetPagination: `previous` drops `offset` when it would be 0."""
    following = sorted_with(url, limit=limit, offset=offset + limit) if offset + limit < count else None
    if offset <= 0:
        return following, None
    if offset - limit <= 0:
        return following, sorted_with(url, limit=limit, offset=None)
    return following, sorted_with(url, limit=limit, offset=offset - limit)


def page_links(url: str, *, page: int, limit: int, has_next: bool) -> tuple[str | None, str | None]:
    """The activity log's page-number links (activity_page_response)."""
    following = replaced_in_place(url, page=page + 1, limit=limit) if has_next else None
    previous = replaced_in_place(url, page=page - 1, limit=limit) if page > 1 else None
    return following, previous
