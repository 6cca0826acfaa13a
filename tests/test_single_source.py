"""Nothing about the API is written twice: PostHog's words and success statuses live in the spec.

The spec's catalogue (`x-posthog-texts`) and the fields' `x-posthog-errors` hold every text
PostHog answers; the operations' responses hold their success statuses. These tests read them
from the spec and look for them in the code of both sides: a text (any fixed part of it) in a
string literal, or a success status used as a status, means it was written a second time. And
the two sides never import each other: both read the spec through posthog_spec.

The mock's own admin surface (mockserver/admin.py) speaks for the mock, not for PostHog, so its
statuses are its own; its texts are still checked.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, Iterator

import pytest

from posthog_spec import default_spec

REPO = Path(__file__).resolve().parent.parent
SIDES = ("posthog_spec", "mockserver", "contracts")
OWN_STATUSES = {"mockserver/admin.py"}  # the mock's own surface, not PostHog's
STATUS_CALLS = {"Reply", "response", "Response", "JSONResponse"}
MIN_FRAGMENT = 10  # shorter fixed parts ("Method \""), or single words, say nothing on their own


def python_files(side: str) -> list[Path]:
    return sorted((REPO / side).rglob("*.py"))


def spec_texts() -> dict[str, str]:
    """Every detail template of the spec: the catalogue's and the fields' own."""
    spec = default_spec()
    found = {f"x-posthog-texts.{name}": text.template for name, text in spec.texts.items()}

    def visit(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "x-posthog-errors" and isinstance(value, dict):
                    for condition, entry in value.items():
                        if isinstance(entry, dict) and "detail" in entry:
                            found[f"{where}.{condition}"] = entry["detail"]
                visit(value, f"{where}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, f"{where}[{index}]")

    visit(spec.document.get("paths", {}), "paths")
    visit(spec.document.get("components", {}), "components")
    return found


def fragments(template: str) -> list[str]:
    parts = [part.strip() for part in template.replace("{", "\0{").replace("}", "}\0").split("\0") if not part.startswith("{")]
    return [part for part in parts if len(part) >= MIN_FRAGMENT and " " in part]


def string_literals(path: Path) -> Iterator[tuple[int, str]]:
    """Every string constant of a module but its docstrings (prose about PostHog may quote it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def status_literals(path: Path, statuses: set[int]) -> Iterator[tuple[int, int]]:
    """Integer literals among `statuses` used as a status: compared with something named like a
    status, passed as `status=`/`status_code=`, or as the first argument of a reply or response.
    A 2xx class test (`200 <= status < 300`) names the class, not an operation's status."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            constants = [c for o in operands for c in _int_constants(o)]
            if 300 in {c.value for c in constants}:
                continue
            if any(_names_a_status(o) for o in operands):
                yield from ((c.lineno, c.value) for c in constants if c.value in statuses)
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in ("status", "status_code"):
                    yield from ((c.lineno, c.value) for c in _int_constants(keyword.value) if c.value in statuses)
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in STATUS_CALLS and node.args:
                yield from ((c.lineno, c.value) for c in _int_constants(node.args[0]) if c.value in statuses)


def _int_constants(node: ast.AST) -> list[ast.Constant]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Constant) and type(n.value) is int]


def _names_a_status(node: ast.AST) -> bool:
    return any(
        "status" in (n.attr if isinstance(n, ast.Attribute) else n.id).lower()
        for n in ast.walk(node) if isinstance(n, (ast.Attribute, ast.Name))
    )


TEXTS = spec_texts()
SUCCESS_STATUSES = {op.success_status() for op in default_spec().operations}


def test_the_catalogue_holds_the_texts_both_sides_use():
    """A guard for the tests below: they look for something real."""
    assert len(default_spec().texts) >= 80
    assert "API key missing required scope '{scope}'" in TEXTS.values()
    assert SUCCESS_STATUSES == {200, 201, 204, 405}
    assert any(fragments(template) for template in TEXTS.values())


@pytest.mark.parametrize("side", SIDES)
def test_no_posthog_text_is_written_outside_the_spec(side):
    found = []
    for path in python_files(side):
        for line, literal in string_literals(path):
            for where, template in TEXTS.items():
                found += [f"{path.relative_to(REPO)}:{line} writes {fragment!r} ({where})"
                          for fragment in fragments(template) if fragment in literal]
    assert not found, "PostHog's words belong in the spec's catalogue:\n" + "\n".join(found)


@pytest.mark.parametrize("side", SIDES)
def test_no_success_status_is_written_outside_the_spec(side):
    found = []
    for path in python_files(side):
        relative = str(path.relative_to(REPO))
        if relative in OWN_STATUSES:
            continue
        found += [f"{relative}:{line} uses status {status}" for line, status in status_literals(path, SUCCESS_STATUSES)]
    assert not found, "success statuses come from the spec (Operation.success_status):\n" + "\n".join(found)


@pytest.mark.parametrize("side, never", [("mockserver", "contracts"), ("contracts", "mockserver"),
                                         ("posthog_spec", "mockserver"), ("posthog_spec", "contracts")])
def test_one_side_never_imports_the_other(side, never):
    found = []
    for path in python_files(side):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.relative_to(REPO)}:{node.lineno} imports {n}" for n in names if n.split(".")[0] == never]
    assert not found, "\n".join(found)


def test_the_checks_would_see_a_text_or_a_status_written_twice(tmp_path):
    """The detectors themselves: a module that writes a text and a status is caught."""
    module = tmp_path / "module.py"
    module.write_text(
        '"""Docstrings may quote: This action does not support personal API key access."""\n'
        'def handler(call):\n'
        '    if call.status_code == 201:\n'
        '        raise ValueError("This action does not support personal API key access")\n'
        '    return Reply(405, empty=True)\n'
    )
    literals = [literal for _, literal in string_literals(module)]
    assert literals == ["This action does not support personal API key access"]
    assert sorted(status for _, status in status_literals(module, SUCCESS_STATUSES)) == [201, 405]
    module.write_text("def ok(response):\n    return 200 <= response.status_code < 300 and text[:200]\n")
    assert list(status_literals(module, SUCCESS_STATUSES)) == []
