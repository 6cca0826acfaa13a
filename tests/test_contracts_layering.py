"""The contracts and the mock share only posthog_spec: the contracts are the mock's oracle, so a bug
in the mock must not be able to hide in them, and neither reaches into the other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def imported_packages(source: Path) -> set[str]:
    """The top-level packages a module imports (relative imports stay inside its own package)."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), filename=str(source))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package,forbidden", [("contracts", "mockserver"), ("mockserver", "contracts")])
def test_contracts_and_the_mock_never_import_each_other(package, forbidden):
    modules = sorted((REPO / package).rglob("*.py"))
    assert modules, f"no modules found under {package}/"
    offenders = [str(m.relative_to(REPO)) for m in modules if forbidden in imported_packages(m)]
    assert not offenders, f"{forbidden} imported by {offenders}"
