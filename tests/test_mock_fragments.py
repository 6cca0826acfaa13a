"""A page of insights renders again only the rows that changed since it was last read (fragments.py);
the consistency of every such page with a fresh render is property-tested in test_mock_memo_consistency.py."""

from __future__ import annotations

import pytest

from mock_support import P, make_client

PAGE = {"limit": 20}


def reading_rows(client) -> list[list[int]]:
    """Every call's ids of insights read again (rendered anew) for a page, from now on."""
    insights = client.app.state.server.store.insights
    read, calls = insights.by_ids_in_project, []
    insights.by_ids_in_project = lambda project_id, ids: calls.append(sorted(ids)) or read(project_id, ids)
    return calls


def page_ids(client) -> list[int]:
    return [insight["id"] for insight in client.get(f"{P}/insights/", params=PAGE).json()["results"]]


def test_a_page_after_one_insight_changed_reads_only_that_insight_again():
    client = make_client()
    shown = page_ids(client)
    calls = reading_rows(client)
    assert client.patch(f"{P}/insights/{shown[3]}/", json={"name": "Renamed"}).status_code == 200
    page = client.get(f"{P}/insights/", params=PAGE).json()["results"]
    assert calls[-1] == [shown[3]]
    assert next(insight for insight in page if insight["id"] == shown[3])["name"] == "Renamed"


@pytest.mark.parametrize("change", [
    {"tags": ["brand-new"]}, {"favorited": True}, {"description": "Now described"},
])
def test_whatever_changes_an_insight_its_row_is_read_again(change):
    client = make_client()
    shown = page_ids(client)
    calls = reading_rows(client)
    assert client.patch(f"{P}/insights/{shown[0]}/", json=change).status_code == 200
    row = client.get(f"{P}/insights/", params=PAGE).json()["results"][0]
    assert calls[-1] == [shown[0]]
    assert {key: row[key] for key in change} == change


def test_a_row_whose_result_is_cached_is_rendered_on_every_page():
    client = make_client()
    computed = next(insight["id"] for insight in client.get(f"{P}/insights/", params=PAGE).json()["results"]
                    if client.get(f"{P}/insights/{insight['id']}/", params={"refresh": "blocking"}).json()["result"] is not None)
    calls = reading_rows(client)
    for viewed in (1, 2):
        client.post(f"{P}/insights/viewed/", json={"insight_ids": [viewed]})  # a write: the memo of whole pages is forgotten
        rows = client.get(f"{P}/insights/", params=PAGE).json()["results"]
        assert computed in calls[-1]
        assert next(row for row in rows if row["id"] == computed)["result"] is not None


def test_with_the_memo_off_every_page_is_read_whole():
    client = make_client(memo="off")
    page_ids(client)
    insights = client.app.state.server.store.insights
    pages = []
    page = insights.page
    insights.page = lambda listing: pages.append(listing) or page(listing)
    assert len(page_ids(client)) > 1
    assert len(pages) == 1


def assembling(client) -> list[int]:
    """How many times a page was put together from its rows (not given whole), from now on."""
    fragments = client.app.state.server.fragments
    look_up, calls = fragments.get_many, []
    fragments.get_many = lambda keys: calls.append(len(keys)) or look_up(keys)
    return calls


def test_a_page_none_of_whose_rows_changed_is_given_whole_after_a_write_elsewhere():
    client = make_client()
    first = client.get(f"{P}/insights/", params={"limit": 3})
    shown = [insight["id"] for insight in first.json()["results"]]
    elsewhere = next(i for i in range(1, 30) if i not in shown)
    calls = assembling(client)
    assert client.patch(f"{P}/insights/{elsewhere}/", json={"name": "Elsewhere"}).status_code == 200
    again = client.get(f"{P}/insights/", params={"limit": 3})
    assert calls == [] and again.content == first.content
    assert client.patch(f"{P}/insights/{shown[1]}/", json={"name": "Shown"}).status_code == 200
    assert client.get(f"{P}/insights/", params={"limit": 3}).json()["results"][1]["name"] == "Shown" and calls == [3]


def test_a_page_is_put_together_again_when_a_result_it_shows_is_cached():
    client = make_client()
    rows = client.get(f"{P}/insights/", params=PAGE).json()["results"]
    runnable = next(row["id"] for row in rows if row["result"] is None and row["query"] is not None
                    and client.get(f"{P}/insights/{row['id']}/", params={"refresh": "force_cache"}).status_code == 200)
    assert client.get(f"{P}/insights/{runnable}/", params={"refresh": "blocking"}).json()["result"] is not None
    after = client.get(f"{P}/insights/", params=PAGE).json()["results"]
    assert next(row for row in after if row["id"] == runnable)["result"] is not None
