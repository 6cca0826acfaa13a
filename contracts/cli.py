"""`posthog-contracts`: hold a deployment (the mock, a self-hosted PostHog, PostHog Cloud) to the spec.

Exit codes: 0 every contract holds, 1 a contract failed, 2 bad usage or configuration.
Keys are read from --token, POSTHOG_CONTRACTS_TOKENS ("KEY=scope,scope;KEY2=...") or a config
file; they are never printed, and are redacted from every report.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import httpx

from contracts import replay
from contracts.preflight import TargetUnusable
from contracts.report import Redactor
from contracts.runner import SUITES, Options, plan, run
from contracts.target import Key, Target

TOKENS_ENV = "POSTHOG_CONTRACTS_TOKENS"
SPEC_HELP = "the spec to hold the target to (default: this checkout's spec/openapi.yaml)"


class UsageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    replay.keep_hypothesis_caches_out_of_the_working_directory()
    try:
        if args.command == "run":
            return _run(args)
        return _drift(args.schema, args.spec)
    except (UsageError, TargetUnusable) as problem:
        print(f"posthog-contracts: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("posthog-contracts: interrupted (what the run created was soft-deleted first)", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="posthog-contracts", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    drift_cmd = commands.add_parser("drift", help="compare our spec with PostHog's published OpenAPI document")
    drift_cmd.add_argument("--schema", required=True, help="PostHog's schema: a file (YAML or JSON) or a URL")
    drift_cmd.add_argument("--spec", type=Path, help=SPEC_HELP)
    run_cmd = commands.add_parser("run", help="run the contract suites against a target")
    run_cmd.add_argument("--target", help="cloud-us, cloud-eu, or a base URL (same as --base-url)")
    run_cmd.add_argument("--base-url", help="e.g. http://127.0.0.1:8010")
    run_cmd.add_argument("--project-id", help="the project to test in (default: 1, or the config file's)")
    run_cmd.add_argument("--token", action="append", default=[], metavar="KEY[=SCOPES]",
                         help="a personal API key, optionally with its comma-separated scopes (repeatable)")
    run_cmd.add_argument("--token-scopes", help="scopes of a single --token given without them")
    run_cmd.add_argument("--session-cookie", help="a logged-in session cookie, for session-only operations")
    run_cmd.add_argument("--spec", type=Path, help=SPEC_HELP)
    run_cmd.add_argument("--config", type=Path, help="TOML file: [target] base_url, project_id; [[keys]] value or env, scopes")
    run_cmd.add_argument("--suites", default=",".join(SUITES), help=f"comma-separated, from {', '.join(SUITES)}")
    run_cmd.add_argument("--examples", type=int, default=25, help="conformance examples per operation (default 25)")
    run_cmd.add_argument("--scope-examples", type=int, default=300, help="scope suite draws (default 300)")
    run_cmd.add_argument("--semantic-examples", type=int, default=25, help="state machine runs (default 25)")
    run_cmd.add_argument("--seed", type=int, help="seed of every suite (default random; printed)")
    run_cmd.add_argument("--workers", type=int, default=1, help="conformance workers (default 1)")
    run_cmd.add_argument("--thorough", action="store_true", help="run the coverage phase on every operation")
    run_cmd.add_argument("--no-shrink", action="store_true", help="report failures as found, without minimising them")
    run_cmd.add_argument("--operations", help="conformance only on these operation ids (comma-separated; both prefixes)")
    run_cmd.add_argument("--junit-xml", type=Path, help="write a JUnit XML report here")
    run_cmd.add_argument("--read-only", action="store_true", help="send no write request at all")
    run_cmd.add_argument("--dry-run", action="store_true", help="print the plan and send nothing")
    run_cmd.add_argument("--rate-budget", type=float, metavar="FRACTION",
                         help="pace at this fraction of PostHog's per-key throttles (default 0.8; 0 = no pacing;"
                              " the toolkit's mock is not paced unless this is given)")
    run_cmd.add_argument("--progress", choices=["auto", "always", "never"], default="auto",
                         help="a progress line on stderr (auto: on a terminal, not in CI)")
    run_cmd.add_argument("--keep-mock-state", action="store_true",
                         help="against the toolkit's mock, leave what the run made instead of restoring the mock's state")
    run_cmd.add_argument("--allow-faults", action="store_true",
                         help="run against the toolkit's mock even when it has fault rules active")
    run_cmd.add_argument("--example-db", default="auto", metavar="DIR|none",
                         help="where conformance keeps failing examples and replays them from (default: per target under"
                              " $XDG_CACHE_HOME/posthog-contracts/examples, none in CI or for an in-process app)")
    run_cmd.add_argument("--forget-failures", action="store_true",
                         help="clear the failing examples earlier runs kept for this target, so none is replayed")
    run_cmd.add_argument("--any-objects", action="store_true",
                         help="let conformance write to objects the run did not create (default only on the mock)")
    return parser


def _run(args: argparse.Namespace) -> int:
    target = build_target(args)
    suites = tuple(s.strip() for s in args.suites.split(",") if s.strip())
    unknown = set(suites) - set(SUITES)
    if unknown:
        raise UsageError(f"unknown suites {sorted(unknown)}; choose from {', '.join(SUITES)}")
    options = Options(suites=suites, examples=args.examples, scope_examples=args.scope_examples,
                      semantic_examples=args.semantic_examples, workers=args.workers, thorough=args.thorough,
                      operations=[o.strip() for o in args.operations.split(",")] if args.operations else None,
                      shrink=not args.no_shrink, read_only=args.read_only, rate_budget=args.rate_budget,
                      own_objects_only=False if args.any_objects else None, spec_path=_spec_path(args.spec),
                      progress=args.progress, keep_mock_state=args.keep_mock_state, allow_faults=args.allow_faults,
                      example_db=args.example_db, forget_failures=args.forget_failures)
    if args.seed is not None:
        options.seed = args.seed
    if args.dry_run:
        print(Redactor(target.secrets())(plan(target, options)))
        return 0
    report = run(target, options)
    redact = Redactor(target.secrets())
    print(report.console(redact))
    if args.junit_xml:
        args.junit_xml.parent.mkdir(parents=True, exist_ok=True)
        args.junit_xml.write_text(report.junit_xml(redact), encoding="utf-8")
    return report.exit_code


def _drift(schema: str, spec_path: Path | None) -> int:
    """0: no drift; 1: differences (printed); 2: the schema could not be read."""
    from contracts import drift, specs

    try:
        theirs = drift.load(schema)
    except (OSError, ValueError, httpx.HTTPError) as problem:
        raise UsageError(f"cannot read {schema}: {problem}")
    differences = drift.compare(specs.load(_spec_path(spec_path)).document, theirs)
    print(drift.render(differences))
    return 1 if differences else 0


def build_target(args: argparse.Namespace) -> Target:
    config = _config(args.config)
    target_cfg = config.get("target", {})
    base = args.base_url or args.target or target_cfg.get("base_url") or os.environ.get("POSTHOG_CONTRACTS_BASE_URL")
    if not base:
        raise UsageError("give --base-url (or --target cloud-us|cloud-eu|URL)")
    try:
        keys = [Key.parse(flag, args.token_scopes if len(args.token) == 1 else None) for flag in args.token]
        keys += [Key.parse(part) for part in os.environ.get(TOKENS_ENV, "").split(";") if part.strip()]
    except ValueError as problem:
        raise UsageError(str(problem)) from None
    keys += [_key_from_config(entry) for entry in config.get("keys", [])]
    target = Target(
        base_url=Target.resolve_base_url(base),
        project_id=str(args.project_id or target_cfg.get("project_id") or 1),
        keys=keys,
        session_cookie=args.session_cookie or target_cfg.get("session_cookie") or os.environ.get("POSTHOG_CONTRACTS_SESSION"),
    )
    return target


def _key_from_config(entry: dict[str, Any]) -> Key:
    value = entry.get("value") or os.environ.get(entry.get("env", ""), "")
    if not value:
        raise UsageError(f"a [[keys]] entry has no value (env {entry.get('env')!r} is unset)")
    teams = entry.get("scoped_teams")
    return Key(value, tuple(entry.get("scopes", ())), tuple(teams) if teams else None)


def _spec_path(path: Path | None) -> Path | None:
    if path is not None and not path.is_file():
        raise UsageError(f"no spec at {path}")
    return path


def _config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as problem:
        raise UsageError(f"cannot read {path}: {problem}")


if __name__ == "__main__":
    sys.exit(main())
