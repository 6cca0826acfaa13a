"""Stamps (store/stamps.py): every change an insight's JSON shows gives it a new stamp, nothing
else does, and an older database file gains them when the mock opens it."""

from __future__ import annotations

import sqlite3

import pytest

from mock_support import one_project_store
from mockserver.store import Store
from mockserver.store.database import SCHEMA_VERSION


@pytest.fixture
def store() -> Store:
    store = one_project_store()
    db = store.db
    with store.transaction(write=True):
        db.execute("INSERT INTO users (id, uuid, email, date_joined) VALUES (1, 'u1', 'ann@example.com', 'x')")
        db.execute("INSERT INTO dashboards (id, team_id, project_id, name) VALUES (1, 1, 1, 'D')")
        for insight_id in (1, 2):
            store.insights.insert({"team_id": 1, "project_id": 1, "short_id": f"short{insight_id}", "name": f"n{insight_id}",
                                   "updated_at": "x", "last_modified_at": "x"})
        db.execute("INSERT INTO dashboard_tiles (id, dashboard_id, insight_id) VALUES (1, 1, 1)")
        db.execute("INSERT INTO insight_tags (insight_id, tag) VALUES (1, 'old')")
    return store


def stamps(store: Store) -> dict[int, int]:
    return dict(store.db.query("SELECT insight_id, stamp FROM insight_stamps"))


WRITES_TO_INSIGHT_1 = {
    "renamed": "UPDATE insights SET name = 'renamed' WHERE id = 1",
    "viewed": "UPDATE insights SET last_viewed_at = '2026-12-03' WHERE id = 1",
    "tagged": "INSERT INTO insight_tags (insight_id, tag) VALUES (1, 'new')",
    "untagged": "DELETE FROM insight_tags WHERE insight_id = 1",
    "put on a dashboard": "INSERT INTO dashboard_tiles (id, dashboard_id, insight_id) VALUES (2, 2, 1)",
    "tile hidden": "UPDATE dashboard_tiles SET deleted = 1 WHERE id = 1",
    "tile removed": "DELETE FROM dashboard_tiles WHERE id = 1",
    "its dashboard deleted": "UPDATE dashboards SET deleted = 1 WHERE id = 1",
}


@pytest.mark.parametrize("write", sorted(WRITES_TO_INSIGHT_1))
def test_every_change_an_insights_json_shows_gives_it_a_new_stamp_and_no_other(store, write):
    with store.transaction(write=True):
        store.db.execute("INSERT INTO dashboards (id, team_id, project_id, name) VALUES (2, 1, 1, 'E')")
    before = stamps(store)
    with store.transaction(write=True):
        store.db.execute(WRITES_TO_INSIGHT_1[write])
    after = stamps(store)
    assert after[1] != before[1]
    assert after[2] == before[2]


def test_reading_changes_no_stamp(store):
    before = stamps(store), store.insights.accounts_stamp()
    with store.transaction():
        store.insights.by_ids_in_project(1, [1, 2])
    assert (stamps(store), store.insights.accounts_stamp()) == before


@pytest.mark.parametrize("write", ["UPDATE users SET first_name = 'Ann' WHERE id = 1",
                                   "UPDATE teams SET name = 'Q' WHERE id = 1",
                                   "UPDATE projects SET name = 'Q' WHERE id = 1"])
def test_a_change_to_users_teams_or_projects_gives_the_accounts_a_new_stamp(store, write):
    before = store.insights.accounts_stamp()
    with store.transaction(write=True):
        store.db.execute(write)
    assert store.insights.accounts_stamp() not in (None, before)


def test_a_cached_result_written_or_dropped_gives_the_results_a_new_stamp(store):
    seen = {store.insights.answer_stamps(1, "1")[3]}
    upsert = ("INSERT INTO query_results (team_id, cache_key, response) VALUES (1, 'k', '{}')"
              " ON CONFLICT (team_id, cache_key) DO UPDATE SET response = excluded.response")  # as store/results.py writes
    for write in (upsert, upsert.replace("'{}'", "'[]'"), "DELETE FROM query_results"):
        with store.transaction(write=True):
            store.db.execute(write)
        seen.add(store.insights.answer_stamps(1, "1")[3])
    assert len(seen) == 4 and None not in seen


def test_an_answer_about_an_insight_follows_its_stamp_by_id_or_short_id(store):
    by_id, by_short_id = store.insights.answer_stamps(1, "2"), store.insights.answer_stamps(1, "short2")
    assert by_id[0] == int(by_short_id[1]) == stamps(store)[2]
    with store.transaction(write=True):
        store.db.execute("UPDATE insights SET favorited = 1 WHERE id = 1")
    assert store.insights.answer_stamps(1, "2") == by_id
    with store.transaction(write=True):
        store.db.execute("UPDATE insights SET favorited = 1 WHERE id = 2")
    assert store.insights.answer_stamps(1, "short2") != by_short_id


def test_a_deleted_insight_takes_its_stamp_with_it_even_when_its_tags_go_after_it(store):
    with store.transaction(write=True):
        store.db.execute("PRAGMA defer_foreign_keys = ON")  # as a restored copy deletes: table by table
        store.db.execute("DELETE FROM insights WHERE id = 1")
        store.db.execute("DELETE FROM insight_tags WHERE insight_id = 1")
        store.db.execute("DELETE FROM dashboard_tiles WHERE insight_id = 1")
    assert set(stamps(store)) == {2}


def test_a_version_4_database_file_gains_a_stamp_for_every_insight(store, tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as copy:
        store.db.connection.backup(copy)
        for (trigger,) in copy.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%stamp%'").fetchall():
            copy.execute(f"DROP TRIGGER {trigger}")
        copy.execute("DROP TABLE insight_stamps")
        copy.execute("DELETE FROM meta WHERE key = 'accounts_stamp'")
        copy.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    copy.close()
    reopened = Store.open(str(path))
    assert reopened.db.scalar("SELECT value FROM meta WHERE key = 'schema_version'") == SCHEMA_VERSION
    assert set(stamps(reopened)) == {1, 2}
    assert reopened.insights.accounts_stamp() is not None
    before = stamps(reopened)
    with reopened.transaction(write=True):
        reopened.db.execute("UPDATE insights SET name = 'x' WHERE id = 2")
    assert stamps(reopened)[2] != before[2]
