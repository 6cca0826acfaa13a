"""One run of the contracts, as every suite is given it: the target and its keys, the spec it is
held to, what the run may do (safety), how fast it may go (pacing), what it made (the record) and
the report; and the setup and teardown every suite shares.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from hypothesis import HealthCheck, Phase, settings

from contracts.http import Client
from contracts.pacing import Pacer
from contracts.progress import Progress
from contracts.report import Report, SuiteResult
from contracts.safety import RunRecord, Safety
from contracts.target import Key, Target
from posthog_spec import Operation, Spec

if TYPE_CHECKING:
    from contracts.runner import Options


@dataclass
class RunContext:
    target: Target
    options: Options
    spec: Spec
    spec_path: Path  # where schemathesis reads the same spec from
    safety: Safety
    pacer: Pacer | None
    report: Report
    progress: Progress

    @property
    def record(self) -> RunRecord:
        return self.safety.record

    @property
    def key(self) -> Key:
        """The key used where any key will do."""
        return self.target.broadest_key()

    def operations(self) -> list[Operation]:
        """The operations the run is pointed at (`Options.operations`: canonical ids, both prefixes)."""
        chosen = self.options.operations
        return [op for op in self.spec.operations if chosen is None or op.base_id in chosen]

    def client(self) -> Client:
        return Client(self.target, self.spec.texts["throttled"], pacer=self.pacer)

    @contextmanager
    def suite(self, name: str) -> Iterator[tuple[SuiteResult, Client]]:
        """A suite's result and a client for its requests; however the suite ends, the client is
        closed, its throttling noted and the suite's time taken."""
        result, client, started = SuiteResult(name), self.client(), time.monotonic()
        try:
            yield result, client
        finally:
            client.close()
            result.notes += filter(None, [client.throttling_note()])
            result.duration = time.monotonic() - started

    def hypothesis_settings(self, examples: int, **more: object) -> settings:
        """The hypothesis suites' settings: the run's example count, no deadline or example database
        (the target, not the code, is under test), and shrinking only when asked for; it makes the
        reported failure minimal but replays it many times. Never derandomized (hypothesis's CI
        profile is): the run's seed decides what is drawn, in CI as anywhere."""
        phases = [p for p in Phase if self.options.shrink or p is not Phase.shrink]
        return settings(max_examples=examples, deadline=None, database=None, derandomize=False,
                        suppress_health_check=list(HealthCheck), phases=phases, **more)

    def clean_up(self) -> str:
        """Soft-delete what the run left live; what was done, for the report."""
        client = self.client()
        try:
            deleted = self.safety.clean_up(client, self.key)
        finally:
            client.close()
        return f"soft-deleted {deleted} insights this run left live (tag {self.record.tag})"
