"""Rendered answers of reads, remembered exactly until the data may change.

A frontend asks for the same list and the same insight again and again. Where an answer depends
only on the stored data and the request (never on the clock), the rendered bytes are kept and
given again for the same request by the same caller, until the database generation moves: any
write of this process or a commit of another worker (Database.generation). Authentication,
authorization, throttling and the journal still run for every request; validation, handling and
rendering are skipped, since the answer was validated and rendered for this very URL, caller and
data. Only bodiless GETs are remembered. `--memo off` turns it off.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Hashable

MAX_ANSWERS = 128
MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    media_type: str | None
    raw_headers: tuple[tuple[bytes, bytes], ...]  # as sent, content-length and content-type included


class ReadMemo:
    def __init__(self, size: int = MAX_ANSWERS):
        self.size = size
        self.answers: OrderedDict[Hashable, tuple[int, Answer]] = OrderedDict()

    def get(self, key: Hashable, generation: int) -> Answer | None:
        found = self.answers.get(key)
        if found is None or found[0] != generation:
            return None
        self.answers.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, generation: int, answer: Answer) -> None:
        if len(answer.body) > MAX_BODY:
            return
        self.answers[key] = (generation, answer)
        self.answers.move_to_end(key)
        while len(self.answers) > self.size:
            self.answers.popitem(last=False)
