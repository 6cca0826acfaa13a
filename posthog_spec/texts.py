"""PostHog's words: every text PostHog answers with, each written once in the spec.

The spec's `x-posthog-texts` is the catalogue: a name for each text, its template (`{scope}`,
`{id}` ... are filled in), and the status, type and code PostHog sends it with (a text that is
not an error, like a skip reason of a bulk action, has none). `x-posthog-errors` on a parameter
or field points at catalogue entries with YAML aliases, or adds a text only that field has.

The mock fills a text in to answer with it; the contracts fill it in to expect it, or match an
answer against its template to recognise it. Neither writes PostHog's words itself.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class PostHogText:
    name: str
    template: str
    status: int | None = None
    type: str | None = None
    code: str | None = None
    # An entry may fix `attr` (often to null); where it does not, the caller names the field.
    attr: str | None = None
    fixes_attr: bool = False
    # The spec's own words on where the text comes from (kept for reading, not used).
    source: str | None = field(default=None, compare=False)

    @classmethod
    def from_entry(cls, name: str, entry: Mapping[str, Any]) -> "PostHogText":
        return cls(
            name=name,
            template=entry["detail"],
            status=int(entry["status"]) if "status" in entry else None,
            type=entry.get("type"),
            code=entry.get("code"),
            attr=entry.get("attr"),
            fixes_attr="attr" in entry,
            source=entry.get("source"),
        )

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(PLACEHOLDER.findall(self.template))

    def __call__(self, **values: Any) -> "Said":
        """This text as said on one occasion."""
        missing = set(self.placeholders) - values.keys()
        if missing:
            raise KeyError(f"text {self.name!r} needs {sorted(missing)}")
        return Said(self, {k: values[k] for k in self.placeholders})

    def fill(self, **values: Any) -> str:
        return self(**values).detail

    def match(self, detail: str | None) -> dict[str, str] | None:
        """The values that make this text say `detail`, or None when it cannot."""
        if detail is None:
            return None
        found = self._pattern.fullmatch(detail)
        return found.groupdict() if found else None

    def fixed_parts(self) -> list[str]:
        """The text between its placeholders (what a reader would find written somewhere)."""
        return [part for part in PLACEHOLDER.split(self.template)[::2] if part]

    @property
    def _pattern(self) -> re.Pattern[str]:
        pieces, position = [], 0
        for placeholder in PLACEHOLDER.finditer(self.template):
            pieces.append(re.escape(self.template[position:placeholder.start()]))
            pieces.append(f"(?P<{placeholder.group(1)}>.*?)")
            position = placeholder.end()
        pieces.append(re.escape(self.template[position:]))
        return re.compile("".join(pieces), re.DOTALL)


@dataclass(frozen=True)
class Said:
    """A text filled in: what PostHog answers (or an answer is expected to be)."""

    text: PostHogText
    values: Mapping[str, Any]

    @property
    def detail(self) -> str:
        return string.Formatter().vformat(self.text.template, (), dict(self.values))

    @property
    def status(self) -> int | None:
        return self.text.status

    def __str__(self) -> str:
        return self.detail


class Catalogue(Mapping[str, PostHogText]):
    """`x-posthog-texts`, by name."""

    def __init__(self, entries: Mapping[str, Mapping[str, Any]]):
        self._texts = {name: PostHogText.from_entry(name, entry) for name, entry in entries.items()}

    def __getitem__(self, name: str) -> PostHogText:
        try:
            return self._texts[name]
        except KeyError:
            raise KeyError(f"no text {name!r} in the spec's x-posthog-texts") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def recognise(self, detail: str | None, *names: str) -> PostHogText | None:
        """The first of these texts that says `detail`."""
        return next((self[name] for name in names if self[name].match(detail) is not None), None)
