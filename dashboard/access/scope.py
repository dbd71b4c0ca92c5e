"""A viewer's data scope: the loaded data as the viewer's role may see it.

`install(con, viewer, key)` replaces the views `tickets`, `absences` and `rejects` of a
read-only connection (`dashboard.core.storage.connect_readonly`) by views that hold only the
viewer's rows and, for management, no worker names and small teams merged. Every rule,
metric, report and download reads these views, so no query of the domain can see more
rows than the role allows.

The returned `Scope` limits the rows of the dashboard's own records (conversations,
samples), which live in another database (`rows`), and turns names a page passes back into
stored ones (`real`). Names are masked on the way out, by `dashboard.access.privacy`, not
in the views, so that computations that group by worker (a sample's strata) are the same
for every role and records always hold real identities.
Nothing here imports Streamlit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from dashboard.access.viewer import (
    HIDDEN_WORKER,
    WORKER_NAMES,
    Viewer,
    merged_groups,
    pseudonym,
)
from dashboard.core.rules import ANONYMOUS_WORKER, PERSON_SQL

# Columns that hold a worker's name, in any frame the dashboard shows or exports.
WORKER_COLUMNS = ("worker", "substitute", "responsible", "substitute_for")

# Per role: (row filter, team expression, worker expression) of the tickets view. Only
# SQL text chosen here; every value (teams, names, pseudonyms) sits in a scope_* table.
_TICKETS = {
    "teamleitung": ("t.team IN (SELECT team FROM scope_teams)", "t.team", "t.worker"),
    "mitarbeitende": ("t.worker IN (SELECT worker FROM scope_workers)", "t.team", "t.worker"),
    "controlling": ("true", "t.team", "t.worker"),
    "management": ("true", "coalesce(g.shown, t.team)", "$hidden"),
    "admin": ("true", "t.team", "t.worker"),
    "kontrolle": ("false", "t.team", "$hidden"),
}
_ABSENCES = {
    "teamleitung": "x.worker IN (SELECT DISTINCT worker FROM store.tickets "
    "WHERE team IN (SELECT team FROM scope_teams))",
    "mitarbeitende": "x.worker IN (SELECT worker FROM scope_workers)",
    "controlling": "true",
    "management": "false",
    "admin": "true",
    "kontrolle": "false",
}


@dataclass(frozen=True)
class Scope:
    """The viewer's restriction, for frames that do not come from the scoped views."""

    role: str
    teams: frozenset[str] | None = None  # None: every team
    workers: frozenset[str] | None = None  # real names; None: every worker
    key: bytes = field(default=b"", repr=False, compare=False)
    # controlling: pseudonym -> stored name, for the names a page passes back
    reverse: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def real(self, shown: str) -> str:
        """The name behind a name as shown (a pseudonym back to the worker it stands for)."""
        if WORKER_NAMES[self.role] != "pseudonyms":
            return shown
        return self.reverse.get(shown, shown)

    def real_kwargs(self, kwargs: dict) -> dict:
        """Query options with worker names as shown turned back into the stored names."""
        return {k: self.real(v) if k in WORKER_COLUMNS and isinstance(v, str) else v
                for k, v in kwargs.items()}  # fmt: skip

    def rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Only the scope's rows of a records frame (names still as stored)."""
        if self.teams is not None and "team" in frame:
            frame = frame[frame["team"].isin(self.teams)]
        if self.teams is not None and "teams" in frame:
            # A sample draw lists its teams; an empty list means every Integration team.
            frame = frame[frame["teams"].map(lambda ts: _touches(ts, self.teams))]
        if self.workers is not None and "worker" in frame:
            frame = frame[frame["worker"].isin(self.workers)]
        return frame.reset_index(drop=True)


# Whoever runs the command line can read the database files anyway: every row, real names.
OPERATOR = Scope(role="admin")


def _touches(teams, allowed: frozenset[str]) -> bool:
    teams = list(teams) if teams is not None else []
    return not teams or bool(set(teams) & allowed)


def install(con: duckdb.DuckDBPyConnection, viewer: Viewer, key: bytes) -> Scope:
    """Restrict the connection's views to the viewer; returns the same scope for records."""
    role = viewer.role
    _values(con, "scope_teams", "team", viewer.teams if role == "teamleitung" else ())
    own = [viewer.worker or ""] if role == "mitarbeitende" else []
    _values(con, "scope_workers", "worker", own)
    groups = _groups(con) if role == "management" else {}
    con.execute("CREATE OR REPLACE TABLE scope_groups (area VARCHAR, team VARCHAR, shown VARCHAR)")
    if groups:
        con.executemany(
            "INSERT INTO scope_groups VALUES (?, ?, ?)", [[a, t, s] for (a, t), s in groups.items()]
        )
    con.execute(
        "CREATE OR REPLACE TABLE scope_hidden AS SELECT ?::VARCHAR AS name", [HIDDEN_WORKER]
    )

    where, team, worker = _TICKETS[role]
    worker = worker.replace("$hidden", "(SELECT name FROM scope_hidden)")
    person = PERSON_SQL.format(worker="t.worker")
    con.execute(
        f"""
        CREATE OR REPLACE VIEW tickets AS
        SELECT t.* REPLACE ({team} AS team, {worker} AS worker), {person} AS person
        FROM store.tickets t
        LEFT JOIN scope_groups g ON g.area = t.area AND g.team = t.team
        WHERE {where}
        """
    )
    con.execute(
        f"CREATE OR REPLACE VIEW absences AS SELECT * FROM store.absences x WHERE {_ABSENCES[role]}"
    )
    # Rejected rows keep the raw text of a record (names): only for whoever fixes exports.
    visible = "true" if role == "admin" else "false"
    con.execute(f"CREATE OR REPLACE VIEW rejects AS SELECT * FROM store.rejects WHERE {visible}")
    return Scope(
        role=role,
        teams=frozenset(viewer.teams) if role == "teamleitung" else None,
        workers=_visible_workers(con, role),
        key=key,
        # one HMAC per distinct name (a few thousand at most), once per database version
        reverse={
            pseudonym(w, key): w
            for (w,) in con.execute("SELECT DISTINCT worker FROM tickets").fetchall()
        }
        if role == "controlling"
        else {},
    )


def _values(con: duckdb.DuckDBPyConnection, table: str, column: str, values: Iterable) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {table} ({column} VARCHAR)")
    rows = [[v] for v in values]
    if rows:
        con.executemany(f"INSERT INTO {table} VALUES (?)", rows)


def _groups(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    # The placeholder of anonymised tickets is nobody: it does not make a team larger.
    rows = con.execute(
        "SELECT area, team, coalesce(list(DISTINCT worker) FILTER (worker <> ?), []) "
        "FROM store.tickets GROUP BY area, team",
        [ANONYMOUS_WORKER],
    ).fetchall()
    return merged_groups({(area, team): set(workers) for area, team, workers in rows})


def _visible_workers(con: duckdb.DuckDBPyConnection, role: str) -> frozenset[str] | None:
    if role not in ("teamleitung", "mitarbeitende"):
        return None
    return frozenset(
        w for (w,) in con.execute("SELECT DISTINCT worker FROM tickets").fetchall()
    ) | frozenset(w for (w,) in con.execute("SELECT worker FROM scope_workers").fetchall())
