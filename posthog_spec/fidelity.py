"""The README's "Fidelity" section, rendered from the spec's `x-fidelity` notes.

The notes live next to the operations they describe; the README shows them in one place. A test
keeps the two equal, and `posthog-mock fidelity --write README.md` updates the README.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from posthog_spec.document import Spec

START, END = "<!-- fidelity:start -->", "<!-- fidelity:end -->"

INTRO = """\
Where PostHog's public docs (or its generated schema) and its real behaviour differ, the spec and
the mock follow real behaviour; where the mock deliberately differs from PostHog, the note says so.
Behaviour worked out from PostHog's code rather than seen in a test is marked *inferred*. This
section is rendered from the spec's `x-fidelity` notes (`posthog-mock fidelity --write README.md`)."""


def sections(spec: Spec) -> list[dict[str, Any]]:
    """The notes by where they belong: cross-cutting ones first, then per operation and per schema
    (the README renders them as Markdown, the mock's workbench page as HTML)."""
    found = [{"title": "All operations", "code": None, "notes": list(spec.document.get("x-fidelity", []))}]
    for op in spec.operations:
        if op.operation_id != op.base_id or not op.fidelity:
            continue
        found.append({"title": f"({op.method} `{op.path}`)", "code": op.operation_id, "notes": list(op.fidelity)})
    for name, schema in spec.components.get("schemas", {}).items():
        if schema.get("x-fidelity"):
            found.append({"title": "Schema", "code": name, "notes": list(schema["x-fidelity"])})
    return found


def render(spec: Spec) -> str:
    """Markdown for every note: cross-cutting ones first, then per operation and per schema."""
    parts = [INTRO]
    for section in sections(spec):
        heading = section["title"] if section["code"] is None else (
            f"Schema `{section['code']}`" if section["title"] == "Schema" else f"`{section['code']}` {section['title']}")
        parts += ["", f"#### {heading}", ""]
        parts += [_note(n) for n in section["notes"]]
    return "\n".join(parts)


def _note(note: Mapping[str, Any]) -> str:
    lines = [f"- **{note['topic']}**" + (" *(inferred)*" if note.get("inferred") else "")]
    for key, label in (("docs", "Docs"), ("real", "PostHog"), ("mock", "Mock")):
        if key in note:
            lines.append(f"  - {label}: {_one_line(note[key])}")
    if "source" in note:
        lines.append(f"  - Source: {_one_line(note['source'])}")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()


def section_of(readme: str) -> str:
    """The text between the fidelity markers of a README."""
    start, end = readme.index(START) + len(START), readme.index(END)
    return readme[start:end].strip("\n")


def write_into(readme_path: Path, spec: Spec) -> bool:
    """Replace the README's section with the rendered notes; True when the file changed."""
    readme = readme_path.read_text(encoding="utf-8")
    start, end = readme.index(START) + len(START), readme.index(END)
    updated = readme[:start] + "\n" + render(spec) + "\n" + readme[end:]
    if updated == readme:
        return False
    readme_path.write_text(updated, encoding="utf-8")
    return True
