"""Nothing is served stale: writes and reads interleaved at random, every read compared with a
fresh render of the same request from the store (a mock with `--memo off` over the same data).

In process, two apps share one store: the remembering one takes the writes, and each read goes to
both. Across processes (as a mock's workers are), three served mocks share one database file: the
writes go through one, the reads through it and a second, and a third with the memo off answers
the same reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mock_support import KEYS, P, ServedMock, bearer, make_client
from mockserver import Settings, create_app

INSIGHTS = range(1, 7)
CALLERS = (KEYS["all-access"], KEYS["insights-write"])
READS = (
    *(f"{P}/insights/{n}/" for n in INSIGHTS),
    f"{P}/insights/?limit=100",
    f"{P}/insights/?limit=3&offset=2",
    f"{P}/insights/?basic=true&limit=100",
    f"{P}/insights/?favorited=true",
    f"{P}/insights/?order=-last_viewed_at&limit=5",
    f"{P}/insights/?search=sign",
    f"{P}/insights/trending/?days=7",
    f"{P}/insights/trending/?days=30&limit=3",
    f"{P}/insights/1/activity/",
    f"{P}/insights/activity/",
    "/api/environments/1/insights/?limit=100",
)
WORDS = st.sampled_from(["Signups", "Churn", "Weekly signups", "Revenue by plan", "sign-ups ✓"])
WRITES = st.one_of(
    st.fixed_dictionaries({"patch": st.sampled_from(INSIGHTS), "body": st.one_of(
        st.fixed_dictionaries({"name": WORDS}),
        st.fixed_dictionaries({"favorited": st.booleans()}),
        st.fixed_dictionaries({"tags": st.lists(st.sampled_from(["growth", "kpi", "q4"]), max_size=2)}),
        st.fixed_dictionaries({"description": WORDS}),
        st.fixed_dictionaries({"deleted": st.booleans()}),
    )}),
    st.fixed_dictionaries({"viewed": st.lists(st.sampled_from(INSIGHTS), min_size=1, max_size=3)}),
    st.fixed_dictionaries({"create": WORDS}),
)
STEPS = st.lists(st.tuples(WRITES, st.lists(st.sampled_from(READS), min_size=1, max_size=4),
                           st.sampled_from(CALLERS)), min_size=1, max_size=8)
QUERY = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}]}


def write(client: Any, step: dict[str, Any], key: str) -> int:
    headers = bearer(key)
    if "patch" in step:
        return client.patch(f"{P}/insights/{step['patch']}/", json=step["body"], headers=headers).status_code
    if "viewed" in step:
        return client.post(f"{P}/insights/viewed/", json={"insight_ids": step["viewed"]}, headers=headers).status_code
    return client.post(f"{P}/insights/", json={"name": step["create"], "query": QUERY}, headers=headers).status_code


def same_answer(remembering: Any, fresh: Any, url: str, key: str) -> None:
    for _ in range(2):  # the second one is the remembered answer, if any
        answer, expected = remembering.get(url, headers=bearer(key)), fresh.get(url, headers=bearer(key))
        # Page links are absolute: the fresh mock's are written with the remembering one's address.
        expected_text = expected.text.replace(str(fresh.base_url).rstrip("/"), str(remembering.base_url).rstrip("/"))
        assert (answer.status_code, answer.json()) == (expected.status_code, json.loads(expected_text)), url


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_every_remembered_read_equals_a_fresh_render_in_process(steps):
    remembering = make_client()
    server = remembering.app.state.server
    fresh = TestClient(create_app(Settings(db=":memory:", strict=True, memo="off"), store=server.store,
                                  clock=remembering.clock))
    for step, reads, key in steps:
        for url in reads:  # remembered before the write, so a stale answer would be there to give
            same_answer(remembering, fresh, url, key)
        assert write(remembering, step, key) < 500  # a PATCH of a deleted insight is a 404, as in PostHog
        remembering.clock.advance(seconds=1)
        for url in reads:
            same_answer(remembering, fresh, url, key)
    assert server.memo.answers or server.fragments.kept  # the memo was in play (trending keeps only fragments)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_every_remembered_read_equals_a_fresh_render_across_processes(steps, served_trio):
    writer, reader, fresh = served_trio
    with writer.client() as written, reader.client() as read, fresh.client() as plain:
        for step, reads, key in steps:
            for url in reads:  # both remember the answer before the write
                same_answer(written, plain, url, key)
                same_answer(read, plain, url, key)
            assert write(written, step, key) < 500
            for url in reads:  # the reader learns of the write from the database alone
                same_answer(read, plain, url, key)
                same_answer(written, plain, url, key)


@pytest.fixture(scope="module")
def served_trio(tmp_path_factory: pytest.TempPathFactory):
    """Three mock processes on one database file (as workers are): one written through, one only
    read, one with the memo off. Each starts after the one before has seeded the file."""
    db: Path = tmp_path_factory.mktemp("consistency") / "mock.sqlite3"
    with ServedMock(db) as writer, ServedMock(db) as reader, ServedMock(db, "--memo", "off") as fresh:
        yield writer, reader, fresh
