"""Stamps: a random number per insight that changes whenever anything its representation reads
changes, one for the accounts (users, teams, projects, personal API keys, memberships: what
insights show and what every request's authentication reads) and one for the cached query
results, kept by triggers.

A page of insights is mostly rows nobody changed since the last page; with stamps a reader keeps
each row's rendered JSON under (id, stamp) and renders again only the rows whose stamp moved
(mockserver/fragments.py), and a remembered answer about one insight stays good while its stamps
hold (memo.py). Triggers run in the writing transaction, in whatever process writes,
so another worker's commit is seen by the next read, with no message between processes.

A stamp is `random()`, never a counter: a reset or a restored copy starts the counters again,
and a fragment remembered under a reused number would be another row's. A random stamp names one
state of a row; a copy restored later brings back the same rows with the same stamps, whose
fragments are exactly those rows.
"""

from __future__ import annotations

TABLES = ("insight_stamps",)  # derived: kept by triggers, never copied as they are
ACCOUNTS, RESULTS = "accounts_stamp", "results_stamp"  # their keys in `meta`

# Plain UPDATE and INSERT ... WHERE NOT EXISTS, never INSERT OR REPLACE: a trigger's own conflict clause gives way to
# that of the statement firing it (an upsert of a cached result would make the REPLACE an ABORT). Only an insight
# that exists is stamped: deleting an insight's tags after the insight (a restored copy) must leave no stamp behind.
_STAMP_INSIGHT = ("UPDATE insight_stamps SET stamp = random() WHERE insight_id = {id};\n"
                  "    INSERT INTO insight_stamps (insight_id, stamp) SELECT id, random() FROM insights"
                  " WHERE id = {id} AND NOT EXISTS (SELECT 1 FROM insight_stamps WHERE insight_id = {id});")
_STAMP_TILED = ("UPDATE insight_stamps SET stamp = random()"
                " WHERE insight_id IN (SELECT insight_id FROM dashboard_tiles WHERE dashboard_id = {id});")
_STAMP_META = ("UPDATE meta SET value = random() WHERE key = '{key}';\n"
               "    INSERT INTO meta (key, value) SELECT '{key}', random() WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = '{key}');")
_STAMP_ACCOUNTS = _STAMP_META.format(key=ACCOUNTS)
_STAMP_RESULTS = _STAMP_META.format(key=RESULTS)


def _trigger(name: str, when: str, body: str) -> str:
    return f"CREATE TRIGGER IF NOT EXISTS {name} {when} BEGIN\n    {body}\nEND;\n"


SCHEMA = (
    "CREATE TABLE insight_stamps (insight_id INTEGER PRIMARY KEY, stamp INTEGER NOT NULL);\n"
    + _trigger("insight_stamped", "AFTER INSERT ON insights", _STAMP_INSIGHT.format(id="NEW.id"))
    + _trigger("insight_restamped", "AFTER UPDATE ON insights", _STAMP_INSIGHT.format(id="NEW.id"))
    + _trigger("insight_unstamped", "AFTER DELETE ON insights", "DELETE FROM insight_stamps WHERE insight_id = OLD.id;")
    + "".join(_trigger(f"insight_tag_{verb}_stamps", f"AFTER {event} ON insight_tags", _STAMP_INSIGHT.format(id=f"{row}.insight_id"))
              for verb, event, row in (("added", "INSERT", "NEW"), ("removed", "DELETE", "OLD")))
    + "".join(_trigger(f"tile_{verb}_stamps", f"AFTER {event} ON dashboard_tiles", _STAMP_INSIGHT.format(id=f"{row}.insight_id"))
              for verb, event, row in (("added", "INSERT", "NEW"), ("changed", "UPDATE", "NEW"), ("removed", "DELETE", "OLD")))
    + _trigger("tile_moved_stamps", "AFTER UPDATE OF insight_id ON dashboard_tiles", _STAMP_INSIGHT.format(id="OLD.insight_id"))
    + _trigger("dashboard_changed_stamps", "AFTER UPDATE ON dashboards", _STAMP_TILED.format(id="NEW.id"))
    + _trigger("dashboard_removed_stamps", "BEFORE DELETE ON dashboards", _STAMP_TILED.format(id="OLD.id"))
    + "".join(_trigger(f"{table}_{verb}_stamp", f"AFTER {event} ON {table}", _STAMP_ACCOUNTS)
              for table in ("users", "teams", "projects")
              for verb, event in (("added", "INSERT"), ("changed", "UPDATE"), ("removed", "DELETE")))
    + "".join(_trigger(f"query_results_{verb}_stamp", f"AFTER {event} ON query_results", _STAMP_RESULTS)
              for verb, event in (("added", "INSERT"), ("changed", "UPDATE"), ("removed", "DELETE")))
)
# Schema 6: what authentication reads follows the accounts' stamp too (store/accounts.py). A version-4
# file gains them with the rest, then the step to 6 finds them there.
KEYS_AND_MEMBERSHIPS = "".join(
    _trigger(f"{table}_{verb}_stamp", f"AFTER {event} ON {table}", _STAMP_ACCOUNTS)
    for table in ("personal_api_keys", "memberships")
    for verb, event in (("added", "INSERT"), ("changed", "UPDATE"), ("removed", "DELETE")))
SCHEMA += KEYS_AND_MEMBERSHIPS
BACKFILL = ("INSERT INTO insight_stamps (insight_id, stamp) SELECT id, random() FROM insights;\n"
            + _STAMP_ACCOUNTS + "\n" + _STAMP_RESULTS + "\n")
