"""`--rate-limit posthog` (fact sheet §7.3): personal API keys are throttled per key with the rates
of the operation's `x-rate-limits` (240/minute on insights); sessions never are. Off by default."""

from __future__ import annotations

import pytest

from mock_support import KEYS, P, assert_error, bearer, client, make_client, session_headers  # noqa: F401
from posthog_spec import default_spec

INSIGHTS_PER_MINUTE = next(limit.rate for limit in default_spec().operation("insights_retrieve").rate_limits if limit.per == "minute")


@pytest.fixture
def throttled():
    with make_client(rate_limit="posthog") as c:
        yield c


def use_up_the_minute(client, headers=None) -> None:
    for _ in range(INSIGHTS_PER_MINUTE):
        assert client.get(f"{P}/insights/1/", headers=headers).status_code == 200


def test_a_key_beyond_the_burst_rate_is_throttled_until_the_window_passes(throttled):
    assert INSIGHTS_PER_MINUTE == 240
    use_up_the_minute(throttled)
    response = throttled.get(f"{P}/insights/1/")
    assert_error(response, 429, "Request was throttled. Expected available in 60 seconds.", code="throttled",
                 type="throttled_error", attr=None)
    assert response.headers["retry-after"] == "60"
    throttled.clock.advance(seconds=30)
    assert_error(throttled.get(f"{P}/insights/1/"), 429, "Request was throttled. Expected available in 30 seconds.")
    throttled.clock.advance(seconds=30)
    assert throttled.get(f"{P}/insights/1/").status_code == 200


def test_throttling_is_per_key_and_never_for_sessions(throttled):
    use_up_the_minute(throttled)
    assert throttled.get(f"{P}/insights/1/").status_code == 429
    assert throttled.get(f"{P}/insights/1/", headers=bearer(KEYS["insights-read"])).status_code == 200
    assert throttled.get(f"{P}/insights/1/", headers=session_headers(throttled)).status_code == 200
    assert throttled.get(f"{P}/elements/").status_code == 200  # elements have their own, higher rates


def test_there_is_no_throttling_by_default(client):
    use_up_the_minute(client)
    assert client.get(f"{P}/insights/1/").status_code == 200
