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

A new insight is indexed at once. A renamed one (name, derived name or description) is only
marked stale, in `insight_search_stale`: re-indexing a name cost a PATCH 0.25-0.55 ms of SQLite
time (its FTS5 rows rewritten, then flushed at commit), and a frontend renames far more than it
searches.
A search reads the stale insights from their rows and judges them in Python, in place of what
the index still holds of them; once STALE_LIMIT insights are stale, the rename that makes them so
re-indexes them all in one go, so neither a search nor a rename ever has more than that to do.
"""

from __future__ import annotations

import functools
import json
import math
import sqlite3

SIMILARITY_THRESHOLD = 0.3
FIELDS = ("name", "derived_name", "description")  # in insight_words, rowid = insight id * 4 + position
SEPARATOR = "\x01"
STALE = "insight_search_stale"  # renamed insights whose index rows are not yet rewritten
INDEX_TABLES = ("insight_text", "insight_words", STALE)  # kept by triggers from the insights themselves
STALE_LIMIT = 64


def _index_rows(row: str) -> str:
    """The statements that index one insight (`row` is NEW in a trigger, `i` in a backfill)."""
    text = " || char(1) || ".join(f"coalesce({row}.{field}, '')" for field in FIELDS)
    statements = [f"INSERT INTO insight_text (rowid, text) SELECT {row}.id, lower_text({text})"]
    statements += [
        f"INSERT INTO insight_words (rowid, text, size) SELECT {row}.id * 4 + {n}, search_text({row}.{field}),"
        f" trigram_count({row}.{field})" for n, field in enumerate(FIELDS)
    ]
    return statements


def _index_of(rows: str) -> list[str]:
    """The statements that index the insights `i` in `rows` (a FROM clause's tail)."""
    return [f"{statement} FROM insights i{rows}{f' AND i.{field} IS NOT NULL' if field else ''}"
            for statement, field in zip(_index_rows("i"), (None, *FIELDS))]


_UNINDEX = ("    DELETE FROM insight_text WHERE rowid = OLD.id;\n"
            "    DELETE FROM insight_words WHERE rowid IN (OLD.id * 4, OLD.id * 4 + 1, OLD.id * 4 + 2);\n")
_INDEX_NEW = "".join(f"    {statement} WHERE NEW.{field} IS NOT NULL;\n" if field else f"    {statement};\n"
                     for statement, field in zip(_index_rows("NEW"), (None, *FIELDS)))
# Written so that it also brings a version-5 database (which re-indexed every rename) up to date.
LAZY_RENAMES = (
    "DROP TRIGGER IF EXISTS insight_search_changed;\n"
    f"CREATE TABLE IF NOT EXISTS {STALE} (insight_id INTEGER PRIMARY KEY);\n"
    "CREATE TRIGGER IF NOT EXISTS insight_search_renamed AFTER UPDATE OF name, derived_name, description ON insights BEGIN\n"
    f"    INSERT INTO {STALE} (insight_id) SELECT NEW.id WHERE NOT EXISTS (SELECT 1 FROM {STALE} WHERE insight_id = NEW.id);\n"
    "END;\n"
    "DROP TRIGGER IF EXISTS insight_search_removed;\n"
    f"CREATE TRIGGER insight_search_removed AFTER DELETE ON insights BEGIN\n{_UNINDEX}"
    f"    DELETE FROM {STALE} WHERE insight_id = OLD.id;\nEND;\n"
)
SCHEMA = (
    "CREATE VIRTUAL TABLE insight_text USING fts5(text, tokenize='trigram', detail='none');\n"
    "CREATE VIRTUAL TABLE insight_words USING fts5(text, size UNINDEXED, tokenize='trigram', detail='none');\n"
    f"CREATE TRIGGER insight_search_added AFTER INSERT ON insights BEGIN\n{_INDEX_NEW}END;\n"
    f"{LAZY_RENAMES}"
)
BACKFILL = "".join(f"{statement};\n" for statement in _index_of(" WHERE 1"))
_REINDEX_STALE = (
    f"DELETE FROM insight_text WHERE rowid IN (SELECT insight_id FROM {STALE})",
    f"DELETE FROM insight_words WHERE rowid IN (SELECT s.insight_id * 4 + n.value FROM {STALE} s, json_each('[0, 1, 2]') n)",
    *_index_of(f" WHERE i.id IN (SELECT insight_id FROM {STALE})"),
    f"DELETE FROM {STALE}",
)


def keep_stale_few(connection: sqlite3.Connection) -> None:
    """After a rename: at STALE_LIMIT stale insights, re-index them all (in the rename's transaction)."""
    if connection.execute(f"SELECT count(*) FROM {STALE}").fetchone()[0] >= STALE_LIMIT:
        for statement in _REINDEX_STALE:
            connection.execute(statement)


def _stale_fields(connection: sqlite3.Connection) -> dict[int, tuple[str | None, ...]]:
    """The stale insights' fields as they are now (at most STALE_LIMIT of them)."""
    return {row[0]: tuple(row[1:]) for row in connection.execute(
        f"SELECT i.id, {', '.join(f'i.{field}' for field in FIELDS)} FROM {STALE} s JOIN insights i ON i.id = s.insight_id")}


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


def containing(connection: sqlite3.Connection, term: str) -> set[int]:
    """Every insight (of any project) one of whose fields contains `term`, case-insensitively."""
    stale = _stale_fields(connection)
    found = {row[0] for row in connection.execute("SELECT rowid FROM insight_text WHERE text GLOB ?",
                                                  (containing_pattern(term),))}
    wanted = term.lower()
    return (found - stale.keys()) | {
        insight_id for insight_id, fields in stale.items() if wanted in SEPARATOR.join(f or "" for f in fields).lower()}


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
    stale = _stale_fields(connection)
    best: dict[int, float] = {}
    for document, n, size in sizes:
        score = n / (len(wanted) + size - n)
        insight_id = document // 4
        if score >= SIMILARITY_THRESHOLD and insight_id not in stale:
            best[insight_id] = max(best.get(insight_id, 0.0), score)
    for insight_id, fields in stale.items():
        score = max(similarity(term, field) for field in fields)
        if score >= SIMILARITY_THRESHOLD:
            best[insight_id] = score
    return best
