"""What a run found: per suite and per operation, every failure with its seed and a curl line.

Secrets never leave through here: every text is passed through a Redactor before it is printed
or written (console, JUnit XML).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from contracts.machine import RunTime
from contracts.replay import REPLAYED


@dataclass
class Failure:
    """One way the target differed from the spec: the request (curl), the response, the expectation."""

    suite: str
    operation: str
    check: str
    message: str
    curl: str | None = None
    seed: int | None = None
    response: str | None = None
    replayed: bool = False  # an example an earlier run found and kept, replayed first (contracts/replay.py)


CURL_MARK = "\n@@curl "  # separates a failure's text from the curl line of its request


def failure_from(suite: str, check: str, message: str, seed: int) -> Failure:
    """A failure raised as "<operation or step>: <text>" + CURL_MARK + "<curl line>"."""
    text, _, curl = message.partition(CURL_MARK)
    return Failure(suite, text.split(":", 1)[0], check, text, curl=curl or None, seed=seed)


@dataclass
class SuiteResult:
    name: str
    cases: Counter = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duration: float = 0.0
    skipped: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures

    def count(self, operation: str, cases: int = 1) -> None:
        self.cases[operation] += cases

    def fail(self, failure: Failure) -> None:
        self.failures.append(failure)


@dataclass
class Report:
    target: str
    seed: int
    suites: list[SuiteResult] = field(default_factory=list)
    cleanup: str | None = None
    timing: RunTime | None = None  # the whole run's time, with the machine's load

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.suites)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def console(self, redactor: "Redactor") -> str:
        lines = [f"posthog-contracts against {self.target} (seed {self.seed})", ""]
        for suite in self.suites:
            if suite.skipped:
                lines.append(f"{suite.name:<12} SKIPPED  {suite.skipped}")
                continue
            verdict = "PASSED" if suite.passed else f"FAILED ({len(suite.failures)} failures)"
            lines.append(f"{suite.name:<12} {verdict:<22} {sum(suite.cases.values()):>6} cases  {suite.duration:6.1f} s")
            failed_by_operation = Counter(f.operation for f in suite.failures)
            for operation in sorted(set(suite.cases) | set(failed_by_operation)):
                mark = "✗" if failed_by_operation[operation] else "✓"
                lines.append(f"    {mark} {operation:<64} {suite.cases[operation]:>5} cases  {failed_by_operation[operation]:>3} failed")
            for note in suite.notes:
                lines.append(f"    note: {note}")
        failures = [f for s in self.suites for f in s.failures]
        if failures:
            lines += ["", "Failures (differences from the spec), by operation", "--------"]
            n = 0
            for operation in sorted({f.operation for f in failures}):
                lines += ["", f"## {operation}"]
                for f in (f for f in failures if f.operation == operation):
                    n += 1
                    lines += [f"{n}. [{f.suite}] {f.check}", _indent(f.message)]
                    if f.replayed:
                        lines.append(f"   {REPLAYED}")
                    if f.response:
                        lines += ["   response:", _indent(f.response, "     ")]
                    lines.append(f"   seed: {f.seed if f.seed is not None else self.seed}")
                    if f.curl:
                        lines += ["   reproduce:", _indent(f.curl, "     ")]
        if self.cleanup:
            lines += ["", f"cleanup: {self.cleanup}"]
        if self.timing:
            lines.append(f"time: {self.timing.summary()}")
        lines.append("RESULT: " + ("all contracts hold" if self.passed else f"{len(failures)} contract failures"))
        return redactor("\n".join(lines))

    def junit_xml(self, redactor: "Redactor") -> str:
        root = ET.Element("testsuites", name="posthog-contracts")
        if self.timing:
            root.set("time", f"{self.timing.wall_s:.3f}")
        for suite in self.suites:
            failed = Counter(f.operation for f in suite.failures)
            node = ET.SubElement(root, "testsuite", name=suite.name, tests=str(len(set(suite.cases) | set(failed)) or 1),
                                 failures=str(len(failed)), skipped="1" if suite.skipped else "0", time=f"{suite.duration:.3f}")
            if self.timing:  # the run's time and the machine's load, on every suite (JUnit has no run-level properties)
                properties = ET.SubElement(node, "properties")
                for name, value in self.timing.properties().items():
                    ET.SubElement(properties, "property", name=f"run_{name}", value=value)
            if suite.skipped:
                case = ET.SubElement(node, "testcase", classname=suite.name, name=suite.name)
                ET.SubElement(case, "skipped", message=suite.skipped)
                continue
            for operation in sorted(set(suite.cases) | set(failed)) or [suite.name]:
                case = ET.SubElement(node, "testcase", classname=suite.name, name=operation)
                for f in (f for f in suite.failures if f.operation == operation):
                    text = f"{f.message}\nseed: {f.seed if f.seed is not None else self.seed}"
                    if f.replayed:
                        text += f"\n{REPLAYED}"
                    if f.response:
                        text += f"\nresponse:\n{f.response}"
                    if f.curl:
                        text += f"\nreproduce:\n{f.curl}"
                    failure = ET.SubElement(case, "failure", message=redactor(f.check), type=f.check)
                    failure.text = redactor(text)
        ET.indent(root)
        return ET.tostring(root, encoding="unicode", xml_declaration=True)


class Redactor:
    """Replaces every known secret, and anything that looks like a key or a bearer token."""

    KEY_LIKE = re.compile(r"\b(ph[xa]_)[A-Za-z0-9_\-]{8,}")
    BEARER = re.compile(r"(?i)(authorization:\s*bearer\s+)[^\s'\"]+")
    COOKIE = re.compile(r"(?i)(sessionid=)[^\s;'\"]+")

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        text = self.BEARER.sub(r"\1[redacted]", text)
        text = self.COOKIE.sub(r"\1[redacted]", text)
        return self.KEY_LIKE.sub(r"\1[redacted]", text)


def _indent(text: str, prefix: str = "   ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
