"""Failures conformance found before: where they are kept, and telling a replayed one from a new one.

Hypothesis keeps every failing example in an example database and replays it first on the next
run. Kept in the working directory (hypothesis's default), a failure found once, flaky or
fixed, failed every later run from that directory while runs elsewhere passed. So the database
is kept per target, in a documented place, or not at all:

- by default under the user's cache directory, one per base URL and project:
  `$XDG_CACHE_HOME/posthog-contracts/examples/<host>-<port>-<hash>` (`~/.cache` when unset);
- none in CI (`CI` set), and none for an in-process app: every in-process target answers to the
  same URL, so one app's failures would be replayed on another;
- `--example-db PATH` or `--example-db none` to choose; `--forget-failures` clears the target's
  database before the run.

A failure whose example was stored by an earlier run is reported as "replayed from an earlier
run": hypothesis saves a failing example as it finds it, and an example it had just read back
from the database is one of those.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

AUTO, NONE = "auto", "none"
REPLAYED = "replayed from an earlier run"
_PROFILE = "posthog-contracts"


def location(choice: str, base_url: str, project_id: str, *, in_process: bool) -> Path | None:
    """Where a run keeps its failing examples: `choice` is `auto`, `none` or a directory."""
    if choice == NONE:
        return None
    if choice != AUTO:
        return Path(choice)
    if in_process or os.environ.get("CI"):
        return None
    parts = urlsplit(base_url)
    readable = re.sub(r"[^A-Za-z0-9.]+", "-", f"{parts.hostname or 'target'}-{parts.port or parts.scheme}").strip("-")
    digest = hashlib.sha256(f"{base_url.rstrip('/')} project {project_id}".encode()).hexdigest()[:12]
    return cache_root() / "examples" / f"{readable}-{digest}"


def cache_root() -> Path:
    """The contracts' place under the user's cache directory."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "posthog-contracts"


def keep_hypothesis_caches_out_of_the_working_directory() -> None:
    """Hypothesis keeps its own caches (constants, unicode data) in `./.hypothesis` unless told
    otherwise; the CLI tells it the contracts' cache directory (a given HYPOTHESIS_STORAGE_DIRECTORY wins)."""
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(cache_root() / "hypothesis"))


def forget(path: Path | None) -> None:
    """Clear what earlier runs kept there."""
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


class ReplayRecorder(ExampleDatabase):
    """A directory database that notes which failures were replayed from it.

    `working_on` names what the calling thread is testing (an operation's label); a failing
    example saved while it tests that, and read back from the database earlier in the run, makes
    it a replayed failure.
    """

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self._directory = DirectoryBasedExampleDatabase(str(path))
        self._read: set[tuple[bytes, bytes]] = set()
        self._lock = threading.Lock()
        self._current = threading.local()
        self.replayed: set[str] = set()

    def working_on(self, label: str) -> None:
        self._current.label = label

    def fetch(self, key: bytes) -> Iterable[bytes]:
        values = list(self._directory.fetch(key))
        with self._lock:
            self._read.update((key, value) for value in values)
        return values

    def save(self, key: bytes, value: bytes) -> None:
        with self._lock:
            if (key, value) in self._read and getattr(self._current, "label", None):
                self.replayed.add(self._current.label)
        self._directory.save(key, value)

    def delete(self, key: bytes, value: bytes) -> None:
        self._directory.delete(key, value)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        self._directory.move(src, dest, value)


@contextmanager
def kept_in(database: ExampleDatabase) -> Iterator[None]:
    """Hypothesis keeps examples in `database` meanwhile (schemathesis takes the current profile's
    database when its configuration names none); the profile in use before is restored after."""
    before = settings.get_current_profile_name()
    settings.register_profile(_PROFILE, parent=settings.get_profile(before), database=database)
    settings.load_profile(_PROFILE)
    try:
        yield
    finally:
        settings.load_profile(before)
