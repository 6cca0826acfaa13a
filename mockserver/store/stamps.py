"""Stamps: a random number per insight that changes whenever anything its representation reads
changes, and one for the accounts (users, teams, projects), kept by triggers.

A page of insights is mostly rows nobody changed since the last page; with stamps a reader keeps
each row's rendered JSON under (id, stamp) and renders again only the rows whose stamp moved
(mockserver/fragments.py). Triggers run in the writing transaction, in whatever process writes,
so another worker's commit is seen by the next read, with no message between processes.

A stamp is `random()`, never a counter: a reset or a restored copy starts the counters again,
and a fragment remembered under a reused number would be another row's. A random stamp names one
state of a row; a copy restored later brings back the same rows with the same stamps, whose
fragments are exactly those rows.
"""

from __future__ import annotations

TABLES = ("insight_stamps",)  # derived: kept by triggers, never copied as they are

# Only an insight that exists is stamped: deleting an insight's tags after the insight (a reset, a restored copy)
# must not leave a stamp behind.
_STAMP_INSIGHT = "INSERT OR REPLACE INTO insight_stamps (insight_id, stamp) SELECT id, random() FROM insights WHERE id = {id};"
_STAMP_TILED = ("INSERT OR REPLACE INTO insight_stamps (insight_id, stamp)"
                " SELECT insight_id, random() FROM dashboard_tiles WHERE dashboard_id = {id};")
_STAMP_ACCOUNTS = "INSERT OR REPLACE INTO meta (key, value) VALUES ('accounts_stamp', random());"


def _trigger(name: str, when: str, body: str) -> str:
    return f"CREATE TRIGGER {name} {when} BEGIN\n    {body}\nEND;\n"


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
)
BACKFILL = ("INSERT INTO insight_stamps (insight_id, stamp) SELECT id, random() FROM insights;\n"
            + _STAMP_ACCOUNTS + "\n")
