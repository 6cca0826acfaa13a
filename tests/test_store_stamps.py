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
                                   "UPDATE projects SET name = 'Q' WHERE id = 1",
                                   "INSERT INTO memberships (user_id, organization_id, level) VALUES (1, 'o', 8)",
                                   "INSERT INTO personal_api_keys (id, user_id, label, secure_value, mask_value, scopes,"
                                   " created_at) VALUES ('k', 1, 'K', 'v', 'm', '[]', 'x')"])
def test_a_change_to_the_accounts_gives_them_a_new_stamp(store, write):
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


# The account lookups every request makes follow the accounts' stamp ------------------------------------------
def counting_user_loads(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    loads: list[int] = []
    load = store.accounts._load_user
    monkeypatch.setattr(store.accounts, "_load_user", lambda user_id: loads.append(user_id) or load(user_id))
    return loads


def test_account_lookups_outlive_a_write_to_an_insight(store, monkeypatch):
    loads = counting_user_loads(store, monkeypatch)
    store.accounts.user(1)
    with store.transaction(write=True):
        store.db.execute("UPDATE insights SET name = 'renamed' WHERE id = 1")
    assert store.accounts.user(1).email == "ann@example.com" and loads == [1]


def test_a_change_to_a_user_is_read_at_once(store, monkeypatch):
    loads = counting_user_loads(store, monkeypatch)
    store.accounts.user(1)
    with store.transaction(write=True):
        store.db.execute("UPDATE users SET first_name = 'Ann' WHERE id = 1")
    assert store.accounts.user(1).first_name == "Ann" and loads == [1, 1]


def test_what_was_read_in_a_transaction_rolled_back_is_forgotten(store):
    store.accounts.team(1)  # the stamp is read now, not again inside the transaction
    with pytest.raises(RuntimeError), store.transaction(write=True):
        store.db.execute("UPDATE users SET first_name = 'Never' WHERE id = 1")
        assert store.accounts.user(1).first_name == "Never"
        raise RuntimeError("rolled back")
    assert store.accounts.user(1).first_name == ""


def test_a_membership_written_by_another_process_is_seen_by_the_next_request(tmp_path):
    path = str(tmp_path / "shared.sqlite3")
    writer = Store.open(path)
    with writer.transaction(write=True):
        writer.db.execute("INSERT INTO organizations (id, name, slug, created_at) VALUES ('o', 'O', 'o', 'x')")
        writer.db.execute("INSERT INTO users (id, uuid, email, date_joined) VALUES (1, 'u1', 'ann@example.com', 'x')")
    reader = Store.open(path)
    assert reader.accounts.membership_level(1, "o") is None
    with writer.transaction(write=True):
        writer.db.execute("INSERT INTO memberships (user_id, organization_id, level) VALUES (1, 'o', 8)")
        writer.db.execute("INSERT INTO insights (team_id, project_id, short_id, updated_at, last_modified_at)"
                          " SELECT 1, 1, 's', 'x', 'x' WHERE 0")  # nothing: the membership is the only change
    reader.db.notice_other_writers()  # what the pipeline does first on every request
    assert reader.accounts.membership_level(1, "o") == 8
    with writer.transaction(write=True):
        writer.db.execute("UPDATE memberships SET level = 1")
    reader.db.notice_other_writers()
    assert reader.accounts.membership_level(1, "o") == 1
