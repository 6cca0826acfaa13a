"""`posthog-mock`: serve the mock, or print the spec's fidelity notes."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from mockserver.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="posthog-mock", description="A stateful mock of PostHog's insights and elements API.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the mock with demo data (flags also read POSTHOG_MOCK_<FLAG>)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8010)")
    serve.add_argument("--db", help="SQLite file, or :memory: (default posthog-mock.sqlite3)")
    serve.add_argument("--seed", choices=["demo", "empty"], help="data for a new database (default demo)")
    serve.add_argument("--scale", type=int, help="pad the first project to this many insights")
    serve.add_argument("--workers", type=int, help="uvicorn worker processes (default 1)")
    serve.add_argument("--loop", choices=["asyncio", "uvloop"],
                       help="event loop (default asyncio: it answers connections in turn when requests queue up)")
    serve.add_argument("--auth", choices=["keys", "open"], help="open: a request without credentials is the demo user's session")
    serve.add_argument("--reset", action="store_const", const=True, help="delete the database and start from the seed")
    serve.add_argument("--strict", action="store_const", const=True, help="check every answer against the spec")
    serve.add_argument("--rate-limit", choices=["off", "posthog"], help="throttle personal API keys like PostHog")
    serve.add_argument("--memo", choices=["on", "off"], help="remember rendered reads until the data changes (default on)")
    serve.add_argument("--cors-origin", action="append", dest="cors_origins", help="allowed browser origin (repeatable; default: localhost)")
    serve.add_argument("--admin", choices=["loopback", "any"], help="who may call /_mock/ (default loopback)")
    serve.add_argument("--allowed-host", action="append", dest="allowed_hosts",
                       help="a host name /_mock/ answers to besides loopback names (repeatable)")
    serve.add_argument("--seed-file", action="append", dest="seed_files", metavar="FILE",
                       help="start from this seed file, YAML or JSON, in place of the state (repeatable; see README)")
    serve.add_argument("--reload", action="store_const", const=True, help="restart when the spec or a seed file changes")
    serve.add_argument("--latency", metavar="MS|MIN-MAX", help="delay every API answer (e.g. 300, or 100-800 drawn uniformly)")
    serve.add_argument("--fail-rate", type=float, metavar="P", help="answer PostHog's 500 to this fraction of API calls")
    serve.add_argument("--fault-seed", type=int, metavar="N", help="seed of the random draws of latency and faults")
    serve.add_argument("--prefer", choices=["loopback", "any", "off"],
                       help="who may ask for a fault with a Prefer: code=503 / delay=1500 header (default loopback)")
    serve.add_argument("--keep-alive", type=int, metavar="SECONDS", help="how long an idle connection stays open (default 75)")
    serve.add_argument("--journal-size", type=int, metavar="N", help="requests the journal keeps (default 1000)")
    fidelity = commands.add_parser("fidelity", help="print the spec's fidelity notes as Markdown")
    fidelity.add_argument("--write", metavar="README", help="update the fidelity section of this README instead")
    args = parser.parse_args(argv)
    if args.command == "fidelity":
        return _fidelity(args.write)
    overrides = {k: v for k, v in vars(args).items() if k != "command"}
    if overrides.get("cors_origins"):
        overrides["cors_origins"] = tuple(overrides["cors_origins"])
    for name in ("allowed_hosts", "seed_files"):
        if overrides.get(name):
            overrides[name] = tuple(overrides[name])
    try:
        settings = Settings.from_env(**overrides)
    except ValueError as problem:
        print(f"posthog-mock: {problem}", file=sys.stderr, flush=True)
        return 2
    return _serve(settings)


def _serve(settings: Settings) -> int:
    """Open (or seed) the database, check the address is free, then serve; a problem with either
    is one line on stderr and exit code 1, before anything is announced."""
    import uvicorn

    from mockserver import seed

    try:
        if settings.seed_files:
            _check_seed_files(settings)
        if not settings.in_memory:
            _prepare_database(settings)
            settings = settings.with_changes(reset=False, seed_files_loaded=bool(settings.seed_files) and not settings.reload)
        _check_address(settings.host, settings.port)
    except StartupProblem as problem:
        print(f"posthog-mock: {problem}", file=sys.stderr, flush=True)
        return 1
    os.environ.update(settings.to_env())
    _print_banner(settings, seed.demo_keys_summary())
    watched = _watched_files(settings) if settings.reload else []
    uvicorn.run(
        "mockserver.app:create_app_from_env", factory=True, host=settings.host, port=settings.port,
        workers=settings.workers, loop=settings.loop, log_level="warning", access_log=False, timeout_keep_alive=settings.keep_alive,
        reload=settings.reload, reload_dirs=sorted({str(path.parent) for path in watched}) or None,
        reload_includes=sorted({path.name for path in watched}) or None,
    )
    return 0


def _watched_files(settings: Settings) -> list[Path]:
    """What `--reload` watches: the spec and the seed files."""
    from posthog_spec import default_spec_path

    return [default_spec_path().resolve(), *(Path(f).resolve() for f in settings.seed_files)]


def _check_seed_files(settings: Settings) -> None:
    """Load the seed files into a scratch store first: a bad file stops the start, with the file,
    the place in it and what is wrong, before the real store is touched."""
    from mockserver import seedfile
    from mockserver.clock import Clock
    from mockserver.store import Store
    from posthog_spec import default_spec

    scratch = Store.open(":memory:")
    try:
        seedfile.load_files(scratch, settings.seed_files, default_spec(), Clock())
    except seedfile.SeedFileError as problem:
        raise StartupProblem(f"seed file problem:\n{problem}") from None
    finally:
        scratch.db.close()


class StartupProblem(Exception):
    """Why the mock cannot start, in one line."""


def _prepare_database(settings: Settings) -> None:
    """Seed once here, so workers started later find the data and never race to write it."""
    import sqlite3

    from mockserver import seed, seedfile, sidecar
    from mockserver.clock import Clock
    from mockserver.store import Store
    from mockserver.store.database import SchemaMismatch
    from posthog_spec import default_spec

    try:
        if settings.reset:
            sidecar.remove(settings.db)
        store = Store.open(settings.db, reset=settings.reset)
        if settings.seed_files:
            seedfile.load_files(store, settings.seed_files, default_spec(), Clock())
        elif store.db.is_empty():
            seed.load(store, settings, Clock(), default_spec())
        store.db.close()
    except SchemaMismatch as problem:
        raise StartupProblem(str(problem)) from None
    except sqlite3.Error as problem:
        raise StartupProblem(f"cannot use {settings.db} as the mock's database: {problem}"
                             " (give --db a writable file path, or --reset to start it over)") from None


def _check_address(host: str, port: int) -> None:
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as problem:
        raise StartupProblem(f"cannot listen on {host}:{port}: {problem.strerror or problem}") from None


def _print_banner(settings: Settings, keys: list[dict]) -> None:
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        f"PostHog mock serving {base}  (database: {settings.db}, auth: {settings.auth}, workers: {settings.workers})",
        f"  try: curl -H 'Authorization: Bearer {keys[0]['value']}' {base}/api/projects/1/insights/",
        "  personal API keys:",
    ]
    for key in keys:
        scope = ", ".join(key["scopes"]) + (f"; projects {key['scoped_teams']}" if key["scoped_teams"] else "")
        lines.append(f"    {key['value']}  {key['name']:<15} ({scope})")
    if settings.seed_files:
        lines.append(f"  state from seed files: {', '.join(settings.seed_files)}")
    faults = [f"latency {settings.latency} ms" if settings.latency else "", f"fail rate {settings.fail_rate}" if settings.fail_rate else ""]
    if any(faults):
        lines.append(f"  faults: {', '.join(f for f in faults if f)} (clear them on the workbench page or DELETE /_mock/faults)")
    lines.append(f"  workbench: {base}/_mock/  (keys, API explorer, request journal, faults, state)")
    print("\n".join(lines), flush=True)


def _fidelity(readme: str | None) -> int:
    from posthog_spec import default_spec, fidelity

    if readme:
        changed = fidelity.write_into(Path(readme), default_spec())
        print(f"{readme}: {'updated' if changed else 'already up to date'}")
    else:
        print(fidelity.render(default_spec()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
