"""The search index after renames (store/search.py): a renamed insight is only marked stale, a
search judges stale insights from their rows, and at STALE_LIMIT a rename re-indexes them all."""

from __future__ import annotations

import sqlite3
from unittest import mock

from hypothesis import given, settings, strategies as st

from mock_support import one_project_store
from mockserver.store import Store, search
from mockserver.store.database import SCHEMA_VERSION

TEXT = st.one_of(st.none(), st.text(st.sampled_from("abcxyz 1%é"), max_size=14))


def new_store(names: list[str]) -> Store:
    store = one_project_store()
    with store.transaction(write=True):
        for n, name in enumerate(names, start=1):
            store.insights.insert({"team_id": 1, "project_id": 1, "short_id": f"s{n:07d}", "name": name,
                                   "updated_at": "x", "last_modified_at": "x"})
    return store


def rename(store: Store, insight_id: int, **fields: str | None) -> None:
    with store.transaction(write=True):
        store.insights.update(insight_id, fields, current=store.db.one("SELECT * FROM insights WHERE id = ?", (insight_id,)))


def stale(store: Store) -> set[int]:
    return {row[0] for row in store.db.query(f"SELECT insight_id FROM {search.STALE}")}


def indexed_text(store: Store, insight_id: int) -> str:
    return store.db.scalar("SELECT text FROM insight_text WHERE rowid = ?", (insight_id,))


@settings(max_examples=80, deadline=None)
@given(names=st.lists(st.text(st.sampled_from("abcxyz 1%é"), max_size=14), min_size=1, max_size=8),
       renames=st.lists(st.tuples(st.integers(1, 8), st.sampled_from(search.FIELDS), TEXT), max_size=12),
       removed=st.sets(st.integers(1, 8), max_size=2),
       term=st.text(st.sampled_from("abcxyz 1%é"), min_size=1, max_size=6))
def test_search_after_renames_finds_what_scoring_every_row_would(names, renames, removed, term):
    """With a limit of 3, some renames stay stale and some re-index: either way both searches see
    the fields as they are now, and nothing of what they were."""
    with mock.patch.object(search, "STALE_LIMIT", 3):
        store = new_store(names)
        for insight_id, field, value in renames:
            if insight_id <= len(names):
                rename(store, insight_id, **{field: value})
        with store.transaction(write=True):
            for insight_id in removed:
                store.db.execute("DELETE FROM insights WHERE id = ?", (insight_id,))
        assert len(stale(store)) < 3
        rows = store.db.query(f"SELECT id, {', '.join(search.FIELDS)} FROM insights")
        fields = {row["id"]: [row[field] for field in search.FIELDS] for row in rows}
        contains = {i for i, values in fields.items() if term.lower() in search.SEPARATOR.join(v or "" for v in values).lower()}
        scores = {i: max(search.similarity(term, v) for v in values) for i, values in fields.items()}
        assert search.containing(store.db.connection, term) == contains
        similar = search.similar_insights(store.db.connection, term)
        assert similar.keys() == {i for i, score in scores.items() if score >= search.SIMILARITY_THRESHOLD}
        assert all(abs(similar[i] - scores[i]) < 1e-9 for i in similar)


def test_a_rename_marks_the_insight_stale_and_leaves_its_index_rows_alone():
    store = new_store(["Weekly signups", "Revenue"])
    rename(store, 1, name="Daily churn")
    assert stale(store) == {1}
    assert "weekly signups" in indexed_text(store, 1)  # the index still holds the old name,
    assert search.containing(store.db.connection, "daily churn") == {1}  # yet a search sees the new one
    assert search.containing(store.db.connection, "weekly") == set()
    assert search.similar_insights(store.db.connection, "dayly churn").keys() == {1}


def test_a_change_to_other_columns_marks_nothing_stale():
    store = new_store(["Weekly signups"])
    rename(store, 1, favorited=True, saved=True)
    assert stale(store) == set()


def test_at_the_stale_limit_a_rename_reindexes_every_stale_insight():
    store = new_store([f"Insight {n}" for n in range(1, search.STALE_LIMIT + 1)])
    for insight_id in range(1, search.STALE_LIMIT):
        rename(store, insight_id, description=f"renamed {insight_id}")
    assert len(stale(store)) == search.STALE_LIMIT - 1
    rename(store, search.STALE_LIMIT, description="the last straw")
    assert stale(store) == set()
    assert "renamed 1" in indexed_text(store, 1) and "the last straw" in indexed_text(store, search.STALE_LIMIT)
    words = store.db.scalar("SELECT count(*) FROM insight_words WHERE rowid = ?", (search.STALE_LIMIT * 4 + 2,))
    assert words == 1


def test_a_deleted_insight_leaves_nothing_stale():
    store = new_store(["Weekly signups"])
    rename(store, 1, name="Daily churn")
    with store.transaction(write=True):
        store.db.execute("DELETE FROM insights WHERE id = 1")
    assert stale(store) == set() and search.containing(store.db.connection, "churn") == set()


def test_a_version_5_database_file_marks_renames_stale_from_then_on(tmp_path):
    store = new_store(["Weekly signups"])
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as copy:
        store.db.connection.backup(copy)
        copy.execute("DROP TRIGGER insight_search_renamed")
        copy.execute(f"DROP TABLE {search.STALE}")
        copy.execute("DROP TRIGGER insight_search_removed")
        copy.execute("CREATE TRIGGER insight_search_removed AFTER DELETE ON insights BEGIN"
                     " DELETE FROM insight_text WHERE rowid = OLD.id; END")
        copy.execute("CREATE TRIGGER insight_search_changed AFTER UPDATE OF name ON insights BEGIN"
                     " DELETE FROM insight_text WHERE rowid = OLD.id; END")
        copy.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    copy.close()
    reopened = Store.open(str(path))
    assert reopened.db.scalar("SELECT value FROM meta WHERE key = 'schema_version'") == SCHEMA_VERSION
    triggers = {row[0] for row in reopened.db.query("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert "insight_search_changed" not in triggers and "insight_search_renamed" in triggers
    rename(reopened, 1, name="Daily churn")
    assert stale(reopened) == {1} and search.containing(reopened.db.connection, "churn") == {1}
