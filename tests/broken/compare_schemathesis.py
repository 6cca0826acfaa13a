"""Which broken variants does plain `schemathesis run --checks all` catch, with and without our
named checks (SCHEMATHESIS_HOOKS=contracts.checks)? Prints a table; not part of the test suite.

    .venv/bin/python -m tests.broken.compare_schemathesis [--examples N]

Each run is pointed at the operations the fault is in (so the stateful phase, which needs links
across operations, is left out), and compared with the same run against the correct mock: a
fault counts as caught only by failures the correct mock does not also get.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from contracts.checks import KEY_SCOPES_ENV
from mockserver import Settings, create_app
from mockserver.seed import DEMO_KEYS
from posthog_spec import default_spec, default_spec_path
from tests.broken.variants import FAULTS, broken_app
from tests.contracts_support import ThreadedServer

# Operations the plain run is pointed at for faults that only a semantic model would see.
SEMANTIC_OPERATIONS = {
    "pagination_off_by_one": ("insights_list",),
    "soft_delete_ignored_by_list": ("insights_list", "insights_partial_update"),
    "trending_ascending": ("insights_trending_retrieve",),
    "bulk_remove_is_set": ("insights_bulk_update_tags_create",),
}
CODE = re.compile(r"^\s*- (ST\d+ [^\n]+|Custom check failed: `\w+`)", re.MULTILINE)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=20)
    args = parser.parse_args()
    rows = []
    for fault in FAULTS:
        operations = fault.operations or SEMANTIC_OPERATIONS[fault.name]
        runs = []
        for hooks in (False, True):
            with ThreadedServer(create_app(Settings(db=":memory:"))) as server:
                baseline = _schemathesis(server.base_url, _session(server), operations, args.examples, hooks=hooks)
            with pytest.MonkeyPatch.context() as mp, ThreadedServer(broken_app(fault, mp)) as server:
                broken = _schemathesis(server.base_url, _session(server), operations, args.examples, hooks=hooks)
            runs.append(sorted(set(broken[1]) - set(baseline[1])))
        rows.append((fault.name, operations, *runs))
        print(f"{fault.name:<30} plain: {_verdict(runs[0])} | with contracts.checks: {_verdict(runs[1])}", flush=True)
    print("\n| fault | operations | plain `schemathesis run --checks all` | with `contracts.checks` loaded |")
    print("|---|---|---|---|")
    for name, operations, plain, ours in rows:
        print(f"| {name} | {', '.join(operations)} | {_verdict(plain)} | {_verdict(ours)} |")
    return 0


def _schemathesis(base_url: str, cookie: str, operations: tuple[str, ...], examples: int, *, hooks: bool) -> tuple[int, list[str]]:
    spec, key = default_spec(), DEMO_KEYS[0]
    destroy = spec.operation("insights_destroy")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "schemathesis.toml"
        config.write_text(
            f'[auth.openapi.PersonalAPIKeyAuth]\nbearer = "{key.value}"\n'
            f'[auth.openapi.SessionAuth]\napi_key = "{cookie}"\n'
            "[generation]\nallow-extra-parameters = false\n"
            f"[[operations]]\ninclude-operation-id = {spec.under_both_prefixes([destroy.operation_id])}\n"
            f"checks.positive_data_acceptance.expected-statuses = {sorted(map(str, destroy.documented_statuses()))}\n"
        )
        command = [str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(config), "run",
                   str(default_spec_path()), "--url", base_url, "--checks", "all", "-n", str(examples), "--seed", "1",
                   "--phases", "examples,coverage,fuzzing",
                   *[arg for i in spec.under_both_prefixes(list(operations)) for arg in ("--include-operation-id", i)]]
        # What the bearer key may do reaches scopes_enforced through the environment in a plain run.
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "contracts.checks", KEY_SCOPES_ENV: ",".join(key.scopes)} if hooks else {
            k: v for k, v in os.environ.items() if k != "SCHEMATHESIS_HOOKS"}
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800, env=env, cwd=tmp)
        return done.returncode, sorted(set(m.strip() for m in CODE.findall(done.stdout)))


def _session(server: ThreadedServer) -> str:
    return httpx.post(f"{server.base_url}/_mock/session", json={}).json()["sessionid"]


def _verdict(new_failures: list[str]) -> str:
    return "caught: " + "; ".join(new_failures) if new_failures else "not caught"


if __name__ == "__main__":
    sys.exit(main())
