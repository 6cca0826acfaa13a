"""Rendered answers of reads, remembered exactly until the data may change: key, policy and replay.

A frontend asks for the same list and the same insight again and again. Where an answer depends
only on the stored data and the request (never on the clock), the rendered bytes are kept and
given again for the same request by the same caller, until the database generation moves: any
write of this process or a commit of another worker (Database.generation); an answer about one
insight, until one of the stamps it follows moves (store/stamps.py), so a write elsewhere leaves
it. Authentication, authorization, throttling and the journal still run for every request; validation, handling and
rendering are skipped, since the answer was validated and rendered for this very URL, caller and
data. Only bodiless GETs are remembered. `--memo off` turns it off.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Hashable, NamedTuple

from starlette.responses import Response

from mockserver.call import Call

MAX_ANSWERS = 128
MAX_BODY = 1024 * 1024
DATE_FILTER = {"$ref": "#/components/schemas/DateFilter"}

# The reads whose answer follows the stored data and the request only. Trending and element
# stats count over a window that ends now, so they are never remembered; a list is remembered
# unless one of its date filters is relative (`-7d` moves with the clock).
REMEMBERED = frozenset({
    "insights_list", "insights_retrieve", "insights_activity_retrieve", "insights_all_activity_retrieve",
    "insights_my_last_viewed_retrieve", "elements_list", "elements_retrieve", "elements_values_list",
    "projects_list", "projects_retrieve", "users_me_retrieve", "personal_api_keys_current_retrieve", "organizations_retrieve",
})


# Reads about one insight, whose answer follows only that insight's stamp and those of the accounts
# and the cached results (store/stamps.py): its row, tags, tiles, users, team and cached result.
STAMPED = frozenset({"insights_retrieve"})


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    media_type: str | None
    raw_headers: tuple[tuple[bytes, bytes], ...]  # as sent, content-length and content-type included

    @classmethod
    def of(cls, response: Response) -> "Answer":
        return cls(response.status_code, bytes(response.body), response.media_type, tuple(response.raw_headers))


class Replayed(Response):
    """A remembered answer given again as it was first rendered: its headers are not built anew."""

    def __init__(self, answer: Answer):
        self.status_code = answer.status
        self.media_type = answer.media_type
        self.body = answer.body
        self.background = None
        self.raw_headers = list(answer.raw_headers)  # a copy: the remembered one is shared


class Remembered(NamedTuple):
    generation: int  # the database generation it was last known good at
    stamps: tuple | None  # for an answer about one insight, the stamps it follows (store/stamps.py)
    answer: Answer


@dataclass
class Lookup:
    """One call's place in the memo: its answer if remembered, else where to keep the new one."""

    memo: "ReadMemo | None"
    key: Hashable | None
    generation: int
    stamps: tuple | None = None
    answer: Response | None = None

    def keep(self, call: Call, response: Response) -> None:
        """Remember a fresh answer when it succeeded and the call's answer cannot move with the clock."""
        if self.memo is not None and self.key is not None and 200 <= response.status_code < 300 and clock_free(call):
            self.memo.put(self.key, Remembered(self.generation, self.stamps, Answer.of(response)))


class ReadMemo:
    def __init__(self, size: int = MAX_ANSWERS):
        self.size = size
        self.answers: OrderedDict[Hashable, Remembered] = OrderedDict()

    def look_up(self, call: Call) -> Lookup:
        """An answer is good while the generation has not moved; once it has, an answer about one
        insight is still good if its stamps have not (read once per generation, not per request)."""
        key = key_of(call)
        generation = call.store.db.generation
        if key is None:
            return Lookup(None, None, generation)
        found = self.answers.get(key)
        if found is not None and found.generation == generation:
            self.answers.move_to_end(key)
            return Lookup(self, key, generation, found.stamps, Replayed(found.answer))
        stamps = stamps_of(call)
        if found is not None and stamps is not None and found.stamps == stamps:
            self.answers[key] = found._replace(generation=generation)
            self.answers.move_to_end(key)
            return Lookup(self, key, generation, stamps, Replayed(found.answer))
        return Lookup(self, key, generation, stamps)

    def put(self, key: Hashable, remembered: Remembered) -> None:
        if len(remembered.answer.body) > MAX_BODY:
            return
        self.answers[key] = remembered
        self.answers.move_to_end(key)
        while len(self.answers) > self.size:
            self.answers.popitem(last=False)


def key_of(call: Call) -> tuple | None:
    """The key of a bodiless GET of an operation that may be remembered, else None.

    It holds everything the answer can depend on besides the stored data: the caller and every
    part of the URL (page links are absolute).
    """
    if call.request.method != "GET" or call.incoming.body.sent or call.operation.base_id not in REMEMBERED:
        return None
    scope = call.request.scope
    server = tuple(scope["server"]) if scope.get("server") else None
    principal = call.principal
    return (call.operation.operation_id, scope["scheme"], call.headers.get("host"), server, scope.get("root_path", ""),
            scope["path"], scope["query_string"], principal.user.id, principal.key.id if principal.key else None)


def stamps_of(call: Call) -> tuple | None:
    """The stamps an answer about one insight follows (a write to another insight leaves them, in
    this process or any other); None for the answers that follow the whole database."""
    if call.operation.base_id in STAMPED:
        return call.store.insights.answer_stamps(call.team.project_id, call.raw_path["id"])
    return None


def clock_free(call: Call) -> bool:
    """Whether this call's answer stays the same while the data does: no relative date filter, and
    no refresh mode that may compute (whether it does follows the age of what is cached)."""
    return call.operation.base_id in REMEMBERED and call.query.get("refresh", "force_cache") == "force_cache" and not any(
        param.schema == DATE_FILTER and str(call.query.get(param.name, "")).startswith("-")
        for param in call.operation.parameters
    )
