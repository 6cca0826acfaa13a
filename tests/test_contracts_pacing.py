"""Throttle classes, worked by hand: the rate each class of operations is paced at (fact sheet
§7.3), and the pacer's wait before a request that would leave a window's budget."""

from __future__ import annotations

from dataclasses import replace

from contracts.pacing import Pacer, class_rate, schemathesis_rates
from contracts.target import Key
from posthog_spec import RateLimit, Router, default_spec

INSIGHTS = (RateLimit("burst", 240, "minute"), RateLimit("sustained", 1200, "hour"))
ELEMENTS = (RateLimit("burst", 480, "minute"), RateLimit("sustained", 4800, "hour"))
AI = (RateLimit("burst", 50, "minute"), RateLimit("sustained", 200, "hour"), RateLimit("daily", 500, "day"))
KEY, OTHER_KEY = Key("phx_" + "a" * 40, ("*",)), Key("phx_" + "b" * 40, ("*",))


def test_a_class_runs_at_its_burst_budget_while_the_run_fits_its_longer_windows():
    assert class_rate(INSIGHTS, 0.8, planned_requests=960) == "192/m"  # 240 × 0.8; 960 = 1200 × 0.8 fits the hour
    assert class_rate(AI, 0.8, planned_requests=160) == "40/m"  # 50 × 0.8; 160 fits 200 × 0.8 and 500 × 0.8


def test_a_run_beyond_a_longer_window_goes_at_the_strictest_windows_rate():
    assert class_rate(INSIGHTS, 0.8, planned_requests=961) == "16/m"  # 1200 × 0.8 an hour = 16 a minute
    assert class_rate(AI, 0.8, planned_requests=161) == "16/h"  # 500 × 0.8 a day = 16.7 an hour, below 1 a minute


def test_a_class_is_never_paced_to_nothing():
    assert class_rate((RateLimit("daily", 10, "day"),), 0.5, planned_requests=1) == "1/h"  # 5 a day rounds down to 0


def test_schemathesis_gets_one_entry_per_throttle_class_sized_by_the_classs_share_of_the_run():
    template = default_spec().operation("insights_list")
    operations = [replace(template, operation_id="a", rate_limits=INSIGHTS), replace(template, operation_id="b", rate_limits=INSIGHTS),
                  replace(template, operation_id="c", rate_limits=ELEMENTS), replace(template, operation_id="d", rate_limits=())]
    # 160 examples × 2 operations × 3 requests = 960 insight requests: within the hour's 960
    assert schemathesis_rates(operations, 0.8, examples=160) == [
        {"include-operation-id": ["a", "b"], "rate-limit": "192/m"},
        {"include-operation-id": ["c"], "rate-limit": "384/m"},  # 480 × 0.8; 480 requests fit 4800 × 0.8
    ]
    # 161 × 2 × 3 = 966: beyond the hour, so the insights class slows to the hour's rate; elements do not
    assert [entry["rate-limit"] for entry in schemathesis_rates(operations, 0.8, examples=161)] == ["16/m", "384/m"]


class FakeTime:
    def __init__(self) -> None:
        self.now, self.slept = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_pacer_waits_until_a_request_fits_every_window_of_its_class_per_key():
    time = FakeTime()
    pacer = Pacer(Router(default_spec().operations), fraction=0.0125, clock=lambda: time.now, sleep=time.sleep)
    for _ in range(3):  # 240 a minute × 0.0125 = 3 a minute
        pacer.before("GET", "/api/projects/1/insights/", KEY)
    assert time.slept == []
    pacer.before("GET", "/api/projects/1/insights/7/", KEY)  # retrieve is in list's class: it waits for the minute
    assert time.slept == [60.0]
    pacer.before("GET", "/api/projects/1/insights/", OTHER_KEY)  # another key has its own budget
    pacer.before("GET", "/api/projects/1/insights/", None)  # sessions are never throttled
    pacer.before("POST", "/api/projects/1/insights/bulk_update_tags/", KEY)  # no throttle class
    assert time.slept == [60.0] and pacer.waited == 60.0
