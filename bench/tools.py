"""The outside tools the bench drives: wrk, Prism and py-spy, found or installed when missing.

The bench must run on a fresh machine, so each tool is installed through its ordinary client
(apt-get for wrk, npm into bench/.node for Prism, pip for py-spy). When that is impossible the
error says what to install by hand; only wrk is indispensable.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.console import say
from bench.settings import NODE_DIR

PRISM_PACKAGE = "@stoplight/prism-cli@5.14.x"


class ToolUnavailable(RuntimeError):
    """A tool is missing and could not be installed; the message says how to get it."""


@dataclass(frozen=True)
class Tool:
    path: str
    version: str


@dataclass(frozen=True)
class Toolbox:
    """The tools of one run; an optional tool that could not be had leaves the reason instead."""

    wrk: Tool
    prism: Tool | None = None
    prism_missing: str | None = None
    py_spy: Tool | None = None
    py_spy_missing: str | None = None

    def versions(self) -> dict[str, object]:
        return {
            "wrk": self.wrk.version,
            "prism": self.prism.version if self.prism else self.prism_missing or "not used",
            "py_spy": self.py_spy.version if self.py_spy else self.py_spy_missing or "not used",
            "node": node_version(),
        }


def _run(command: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


# wrk -------------------------------------------------------------------------------------------------
def ensure_wrk() -> Tool:
    """wrk from Debian's packages; `apt-get install wrk` (after an update if the lists are stale)."""
    path = shutil.which("wrk")
    if path is None:
        _install_wrk()
        path = shutil.which("wrk")
        if path is None:
            raise ToolUnavailable("wrk was installed by apt-get but is not on PATH")
    # `wrk --version` prints the banner and exits 1; the version is in the first line.
    banner = _run([path, "--version"], timeout=10)
    match = re.search(r"wrk\s+(\S+)", banner.stdout + banner.stderr)
    return Tool(path, match.group(1) if match else "unknown")


def _install_wrk() -> None:
    apt = shutil.which("apt-get")
    if apt is None:
        raise ToolUnavailable("wrk is missing and this machine has no apt-get: install wrk (https://github.com/wg/wrk) by hand")
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None or _run([sudo, "-n", "true"], timeout=10).returncode != 0:
            raise ToolUnavailable("wrk is missing and installing it needs root: run `sudo apt-get install wrk`")
        prefix = [sudo, "-n"]
    say("wrk is missing: installing it with apt-get")
    install = _run([*prefix, apt, "install", "-y", "-q", "wrk"])
    if install.returncode != 0:
        say("apt-get install failed; updating the package lists and trying again")
        _run([*prefix, apt, "update", "-q"])
        install = _run([*prefix, apt, "install", "-y", "-q", "wrk"])
    if install.returncode != 0:
        tail = (install.stderr or install.stdout).strip().splitlines()[-3:]
        raise ToolUnavailable("could not install wrk with apt-get: " + " | ".join(tail))


# Prism -----------------------------------------------------------------------------------------------
def prism_bin() -> Path:
    return NODE_DIR / "node_modules" / ".bin" / "prism"


def ensure_prism() -> Tool:
    """Prism 5.14.x in bench/.node (a local npm prefix, so nothing global is touched)."""
    binary = prism_bin()
    version = _prism_version(binary)
    if version is None or not version.startswith("5.14."):
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            raise ToolUnavailable("Prism needs Node.js and npm (Node 18 or newer): install them, e.g. `apt-get install nodejs npm`")
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        say(f"installing {PRISM_PACKAGE} into {NODE_DIR} with npm")
        done = _run([npm, "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--loglevel=error", PRISM_PACKAGE])
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise ToolUnavailable(f"npm could not install {PRISM_PACKAGE}: " + " | ".join(tail))
        version = _prism_version(binary)
        if version is None:
            raise ToolUnavailable(f"npm installed {PRISM_PACKAGE} but {binary} does not run")
    return Tool(str(binary), version)


def _prism_version(binary: Path) -> str | None:
    if not binary.exists():
        return None
    try:
        done = _run([str(binary), "--version"], timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def node_version() -> str | None:
    node = shutil.which("node")
    return _run([node, "--version"], timeout=10).stdout.strip() if node else None


# py-spy ----------------------------------------------------------------------------------------------
def ensure_py_spy() -> Tool:
    """py-spy from PyPI, into the bench's own environment (it only reads the mock's stacks)."""
    path = _py_spy_path()
    if path is None:
        say("py-spy is missing: installing it with pip")
        done = _run([sys.executable, "-m", "pip", "install", "--quiet", "py-spy"])
        path = _py_spy_path()
        if done.returncode != 0 or path is None:
            tail = (done.stderr or done.stdout).strip().splitlines()[-2:]
            raise ToolUnavailable("could not install py-spy with pip: " + " | ".join(tail))
    version = _run([path, "--version"], timeout=10).stdout.strip().removeprefix("py-spy ").strip()
    return Tool(path, version or "unknown")


def _py_spy_path() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")
