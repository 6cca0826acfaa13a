"""Rows rendered once: each insight a list page shows, kept as its JSON under its stamp.

Any write moves the database generation and so empties the memo of whole answers (memo.py); in a
frontend's mix of reads and writes nearly every page of insights was read, shaped and encoded
again, all hundred rows of it, for the one or two rows a write changed. A row's stamp changes with
everything its JSON shows (store/stamps.py), so its JSON kept under (id, stamp, variant) is that
row's JSON for as long as the stamp is read; a page reads the stamps of its rows and renders again
only the rows whose stamp it has not seen. A page asked again with all its stamps as they were is
kept whole as well (in the mix most pages show rows nobody wrote since, and putting a hundred rows
together again was a third of such a page's time). `--memo off` turns this off too.
"""

from __future__ import annotations

from typing import Any, Hashable, NamedTuple

MAX_ROWS = 4096  # about 6 MiB of JSON at ~1.5 KiB a row
MAX_PAGES = 32  # about 5 MiB at ~160 KiB for a page of 100


class Kept(NamedTuple):
    body: bytes  # the row's JSON
    cache_key: str | None  # its query's results key: a row with a cached result is rendered again, never kept


class Fragments:
    """Kept rows, the oldest kept first out (a row read often is kept again soon after; a lookup
    that also moved each row to the end cost a third of a page read from fragments)."""

    def __init__(self, size: int = MAX_ROWS, pages: int = MAX_PAGES):
        self.size = size
        self.kept: dict[Hashable, Kept] = {}
        self.pages = pages
        self.kept_pages: dict[Hashable, bytes] = {}

    def get_many(self, keys: list[Hashable]) -> list[Kept | None]:
        found = self.kept.get
        return [found(key) for key in keys]

    def put(self, key: Hashable, kept: Kept) -> None:
        _keep(self.kept, key, kept, self.size)

    def page(self, key: Hashable) -> bytes | None:
        """A whole page kept under its URL, its caller's variant, the results' stamp, its count and
        its rows' (id, stamp): those make every byte of it."""
        return self.kept_pages.get(key)

    def put_page(self, key: Hashable, body: bytes) -> None:
        _keep(self.kept_pages, key, body, self.pages)


def _keep(kept: dict[Hashable, Any], key: Hashable, value: Any, size: int) -> None:
    """Keep `value`, the oldest kept first out beyond `size`."""
    kept[key] = value
    while len(kept) > size:
        del kept[next(iter(kept))]
