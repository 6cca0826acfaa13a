"""Starting and stopping the servers under test, and reading their memory.

Each server runs in its own process group (started here, stopped here by that group's id), so
uvicorn workers and Node children go with it. `running()` stops the server on every way out,
errors and Ctrl-C included: the bench never leaves a server behind.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from bench.settings import REPO_ROOT
from bench.workloads import Request

READY_TIMEOUT_S = 180.0  # seeding 100k insights takes a while on 2 cores


class TargetFailed(RuntimeError):
    """A server exited or never answered; the message ends with the tail of its output."""


@dataclass(frozen=True)
class Launch:
    """How to start one server and how to tell it is ready."""

    name: str
    command: list[str]
    port: int
    probe: Request  # ready once this answers with a status below 500
    headers: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = REPO_ROOT


@dataclass
class Server:
    launch: Launch
    process: subprocess.Popen[bytes]
    log_path: Path
    startup_s: float = 0.0

    @property
    def name(self) -> str:
        return self.launch.name

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.launch.port}"

    def rss_kib(self) -> int:
        """Resident memory of the server and its children (uvicorn workers), in KiB."""
        return sum(_status_kib(pid, "VmRSS") for pid in process_tree(self.pid))

    def peak_rss_kib(self) -> int:
        return sum(_status_kib(pid, "VmHWM") for pid in process_tree(self.pid))

    def python_pids(self) -> list[int]:
        """The processes that serve requests: the workers when there are several, else the server."""
        tree = process_tree(self.pid)
        return tree[1:] if len(tree) > 1 else tree

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(launch: Launch, log_dir: Path) -> Server:
    """Start the server and wait until it answers its probe; on failure it is stopped again."""
    log_path = log_dir / f"{launch.name}-{launch.port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTHOG_MOCK_")}  # flags only, no leaks
    env.update(launch.env)
    began = time.perf_counter()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(launch.command, cwd=launch.cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(launch, process, log_path)
    try:
        _wait_ready(server)
    except BaseException:
        stop(server)
        raise
    server.startup_s = time.perf_counter() - began
    return server


@contextlib.contextmanager
def running(launch: Launch, log_dir: Path) -> Iterator[Server]:
    server = start(launch, log_dir)
    try:
        yield server
    finally:
        stop(server)


def stop(server: Server, grace_s: float = 10.0) -> None:
    """SIGTERM to the server's own process group, SIGKILL if it lingers."""
    if server.process.poll() is None:
        _signal_group(server.pid, signal.SIGTERM)
        try:
            server.process.wait(grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(server.pid, signal.SIGKILL)
            server.process.wait(5)
    # Workers may outlive a parent that died first; they are still in its group.
    _signal_group(server.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _wait_ready(server: Server) -> None:
    deadline = time.perf_counter() + READY_TIMEOUT_S
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise TargetFailed(f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
        status = request_once(server.host, server.launch.port, server.launch.probe, server.launch.headers, timeout=2)
        if status is not None and status[0] < 500:
            return
        time.sleep(0.05)
    raise TargetFailed(f"{server.name} did not answer within {READY_TIMEOUT_S:.0f} s:\n{server.log_tail()}")


def request_once(host: str, port: int, request: Request, headers: dict[str, str], *, timeout: float = 10,
                 counter: int = 0) -> tuple[int, dict[str, str], bytes] | None:
    """One request with the standard library: (status, headers, body), or None if nothing answered."""
    body = request.body_bytes(counter)
    sent = dict(headers)
    if body is not None:
        sent["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(request.method, request.path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


# Launches ------------------------------------------------------------------------------------------
def mock_launch(db: Path, *, scale: int, workers: int, probe: Request, headers: dict[str, str], port: int | None = None,
                memo: bool = True, loop: str | None = "asyncio", cwd: Path = REPO_ROOT) -> Launch:
    """`posthog-mock serve`: strict mode off, a file database, demo seed padded to `scale` insights.
    Without `memo` every read is handled and rendered afresh (`--memo off`), named "nomemo".
    `loop` None leaves the event loop to the mock (a checkout from before `--loop`, in `cwd`)."""
    port = port or free_port()
    command = [sys.executable, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--db", str(db), "--seed", "demo", "--workers", str(workers), "--rate-limit", "off",
               "--memo", "on" if memo else "off", *(["--loop", loop] if loop else [])]
    if scale:
        command += ["--scale", str(scale)]
    return Launch("mock" if memo else "nomemo", command, port, probe, headers, cwd=cwd)


def bare_launch(answers: Path, *, workers: int, probe: Request, headers: dict[str, str], loop: str = "asyncio") -> Launch:
    """The bare Starlette app under the same uvicorn settings the mock uses."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.bare_app:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--loop", loop, "--log-level", "warning", "--no-access-log"]
    env = {"BENCH_BARE_ANSWERS": str(answers), "PYTHONPATH": str(REPO_ROOT)}
    return Launch("bare", command, port, probe, headers, env=env)


def prism_launch(prism: str, spec: Path, *, probe: Request, headers: dict[str, str]) -> Launch:
    """`prism mock` in its default static mode; logging at warn, as the others log no access lines."""
    port = free_port()
    command = [prism, "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(spec)]
    return Launch("prism", command, port, probe, headers)


# /proc ---------------------------------------------------------------------------------------------
def process_tree(pid: int) -> list[int]:
    """The process and all its descendants, parent first (Linux /proc)."""
    tree, queue = [], [pid]
    while queue:
        current = queue.pop(0)
        if not Path(f"/proc/{current}").exists():
            continue
        tree.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                queue += [int(child) for child in task.read_text().split()]
    return tree


def _status_kib(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
