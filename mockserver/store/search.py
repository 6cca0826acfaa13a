"""Insight search as PostHog does it, backed by indexes, so its cost follows the matches.

PostHog matches `search` exactly (case-insensitive substring of the name, derived name,
description or a tag) and, only when nothing matches, falls back to "similar" insights: pg_trgm
similarity of a field at least 0.3. Scanning every row (and scoring it in Python) took seconds
at 20k insights and held the event loop all that time. Two FTS5 tables with the trigram
tokenizer serve both instead:

- `insight_text` holds an insight's three fields as they are (lower case, joined by a separator
  no search contains); FTS5 answers `GLOB '*term*'` from its trigram index (LIKE with an ESCAPE
  clause, which a term with `%` or `_` needs, is not served by the index).
- `insight_words` holds each field as one document of pg_trgm words (two spaces before each
  word, one after, words joined by the separator), with the number of its distinct trigrams. A
  search looks each of its trigrams up and counts, per field, how many it shares: similarity =
  shared / (|search| + |field| - shared), exactly pg_trgm's, from the counts alone. Fields
  sharing no trigram are never read.
"""

from __future__ import annotations

import functools
import json
import math
import sqlite3

SIMILARITY_THRESHOLD = 0.3
FIELDS = ("name", "derived_name", "description")  # in insight_words, rowid = insight id * 4 + position
SEPARATOR = "\x01"
INDEX_TABLES = ("insight_text", "insight_words")  # kept by triggers from the insights themselves


def _index_rows(row: str) -> str:
    """The statements that index one insight (`row` is NEW in a trigger, `i` in a backfill)."""
    text = " || char(1) || ".join(f"coalesce({row}.{field}, '')" for field in FIELDS)
    statements = [f"INSERT INTO insight_text (rowid, text) SELECT {row}.id, lower_text({text})"]
    statements += [
        f"INSERT INTO insight_words (rowid, text, size) SELECT {row}.id * 4 + {n}, search_text({row}.{field}),"
        f" trigram_count({row}.{field})" for n, field in enumerate(FIELDS)
    ]
    return statements


_UNINDEX = ("    DELETE FROM insight_text WHERE rowid = OLD.id;\n"
            "    DELETE FROM insight_words WHERE rowid IN (OLD.id * 4, OLD.id * 4 + 1, OLD.id * 4 + 2);\n")
_INDEX_NEW = "".join(f"    {statement} WHERE NEW.{field} IS NOT NULL;\n" if field else f"    {statement};\n"
                     for statement, field in zip(_index_rows("NEW"), (None, *FIELDS)))
SCHEMA = (
    "CREATE VIRTUAL TABLE insight_text USING fts5(text, tokenize='trigram', detail='none');\n"
    "CREATE VIRTUAL TABLE insight_words USING fts5(text, size UNINDEXED, tokenize='trigram', detail='none');\n"
    f"CREATE TRIGGER insight_search_added AFTER INSERT ON insights BEGIN\n{_INDEX_NEW}END;\n"
    "CREATE TRIGGER insight_search_changed AFTER UPDATE OF name, derived_name, description ON insights BEGIN\n"
    f"{_UNINDEX}{_INDEX_NEW}END;\n"
    f"CREATE TRIGGER insight_search_removed AFTER DELETE ON insights BEGIN\n{_UNINDEX}END;\n"
)
BACKFILL = "".join(
    f"{statement} FROM insights i{f' WHERE i.{field} IS NOT NULL' if field else ''};\n"
    for statement, field in zip(_index_rows("i"), (None, *FIELDS))
)


def words(text: str | None) -> list[str]:
    """pg_trgm's words: runs of letters and digits, lower case."""
    return "".join(c if c.isalnum() else " " for c in (text or "").lower()).split()


@functools.lru_cache(maxsize=65536)
def _word_trigrams(word: str) -> frozenset[str]:
    padded = f"  {word} "
    return frozenset(padded[i:i + 3] for i in range(len(padded) - 2))


def trigrams(text: str | None) -> set[str]:
    """pg_trgm's trigrams of a text: those of each word padded with two spaces before, one after."""
    grams: set[str] = set()
    for word in words(text):
        grams |= _word_trigrams(word)
    return grams


def similarity(a: str | None, b: str | None) -> float:
    """pg_trgm's similarity(): shared trigrams over all trigrams of the two texts."""
    left, right = trigrams(a), trigrams(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def search_text(text: str | None) -> str:
    """What insight_words holds of a field: its padded words, so its trigrams include pg_trgm's."""
    return SEPARATOR.join(f"  {word} " for word in words(text))


def register(connection: sqlite3.Connection) -> None:
    """The functions the index's triggers call; every connection that writes insights needs them.
    Lower case is Python's (Unicode), as Postgres' icontains folds, not SQLite's ASCII-only lower()."""
    connection.create_function("lower_text", 1, str.lower, deterministic=True)
    connection.create_function("search_text", 1, search_text, deterministic=True)
    connection.create_function("trigram_count", 1, lambda text: len(trigrams(text)), deterministic=True)


# The insights one of whose fields contains a term: its parameter is `containing_pattern(term)`.
CONTAINING = "SELECT rowid FROM insight_text WHERE text GLOB ?"


def containing_pattern(term: str) -> str:
    """`*term*` for GLOB, the term in lower case with GLOB's own characters taken literally."""
    literal = "".join(f"[{c}]" if c in "*?[" else c for c in term.lower())
    return f"*{literal}*"


def similar_insights(connection: sqlite3.Connection, term: str) -> dict[int, float]:
    """Every insight (of any project) with a field at least SIMILARITY_THRESHOLD similar to `term`,
    with its best similarity. A field sharing fewer than threshold × |term| trigrams cannot reach
    the threshold (similarity ≤ shared / |term|), so only fields sharing that many are weighed."""
    wanted = trigrams(term)
    if not wanted:
        return {}
    enough = math.ceil(SIMILARITY_THRESHOLD * len(wanted) - 1e-9)
    sizes = connection.execute(  # shared trigrams counted in SQLite: a common trigram's postings never reach Python
        "SELECT shared.rowid, shared.n, insight_words.size FROM (SELECT w.rowid, count(*) AS n FROM json_each(?) AS g"
        " JOIN insight_words AS w ON w.insight_words MATCH g.value GROUP BY w.rowid HAVING count(*) >= ?) AS shared"
        " JOIN insight_words ON insight_words.rowid = shared.rowid",
        (json.dumps([f'"{gram}"' for gram in wanted]), enough),
    )
    best: dict[int, float] = {}
    for document, n, size in sizes:
        score = n / (len(wanted) + size - n)
        if score >= SIMILARITY_THRESHOLD:
            insight_id = document // 4
            best[insight_id] = max(best.get(insight_id, 0.0), score)
    return best
