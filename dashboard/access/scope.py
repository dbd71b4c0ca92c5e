"""A viewer's data scope: the loaded data as the viewer's role may see it.

`install(con, viewer, key)` creates, in a schema of the scope's own, the views `tickets`,
`absences` and `rejects` and the table macros of the verdicts and their summaries over a
read-only connection (`dashboard.core.storage.connect_readonly`), holding only the viewer's
rows and, for management, no worker names and small teams merged; the connection's search
path then leads there. Every rule, metric, report and download reads these names, so no
query of the domain can see more rows than the role allows. The verdicts themselves are
computed for everyone (once per Stichtag and database version) and only narrowed here.

The returned `Scope` limits the rows of the dashboard's own records (conversations,
samples), which live in another database (`rows`), and turns names a page passes back into
stored ones (`real`). Names are masked on the way out, by `dashboard.access.privacy`, not
in the views, so that computations that group by worker (a sample's strata) are the same
for every role and records always hold real identities.
Nothing here imports Streamlit.
"""

from __future__ import annotations

import hashlib
import re
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
from dashboard.core.rules import ANONYMOUS_WORKER, PERSON_SQL, PREPARED_PREFIX, SUMMARIES

# Columns that hold a worker's name, in any frame the dashboard shows or exports.
WORKER_COLUMNS = ("worker", "substitute", "responsible", "substitute_for")

# Per role: (row filter, team expression, worker expression) over rows `t` with the
# columns area, team and worker (stored tickets, verdicts, their summaries), and whether
# the expressions need the merged groups `g`. Only SQL text chosen here; every value (teams,
# names, pseudonyms) sits in a table of the scope's schema `{s}`.
_ROWS = {
    "teamleitung": ("t.team IN (SELECT team FROM {s}.scope_teams)", "t.team", "t.worker"),
    # their own tickets, and those they cover in a colleague's absence (A4): the ones open on
    # some day of an absence that names them as substitute. Which of them are covered at the
    # Stichtag, `queries.filters.Filters.covered` decides, with the same absences.
    "mitarbeitende": (
        "t.worker IN (SELECT worker FROM {s}.scope_workers) OR EXISTS (SELECT 1 FROM "
        "store.absences x WHERE x.worker = t.worker AND x.substitute IN (SELECT worker FROM "
        "{s}.scope_workers) AND t.received <= x.date_to AND (t.completed IS NULL OR "
        "t.completed > x.date_from))",
        "t.team",
        "t.worker",
    ),
    "controlling": ("true", "t.team", "t.worker"),
    "management": ("true", "coalesce(g.shown, t.team)", "(SELECT name FROM {s}.scope_hidden)"),
    "admin": ("true", "t.team", "t.worker"),
    "kontrolle": ("false", "t.team", "(SELECT name FROM {s}.scope_hidden)"),
}
_ABSENCES = {
    "teamleitung": "x.worker IN (SELECT DISTINCT worker FROM store.tickets "
    "WHERE team IN (SELECT team FROM {s}.scope_teams))",
    # their own absences, and those they stand in for (whose tickets they cover)
    "mitarbeitende": "x.worker IN (SELECT worker FROM {s}.scope_workers) "
    "OR x.substitute IN (SELECT worker FROM {s}.scope_workers)",
    "controlling": "true",
    "management": "false",
    "admin": "true",
    "kontrolle": "false",
}
# The table macros of `dashboard.core.rules` whose rows carry area, team and worker: the
# verdicts of a Stichtag and their summaries, computed once for everyone and narrowed here.
NARROWED_MACROS = ("verdicts", *SUMMARIES)


@dataclass(frozen=True)
class Scope:
    """The viewer's restriction, for frames that do not come from the scoped views."""

    role: str
    teams: frozenset[str] | None = None  # None: every team
    workers: frozenset[str] | None = None  # real names; None: every worker
    key: bytes = field(default=b"", repr=False, compare=False)
    # controlling: pseudonym -> stored name, for the names a page passes back
    reverse: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    schema: str = "main"  # where its views live (`install`)

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


def schema_name(viewer: Viewer) -> str:
    """The schema that holds the views of the viewer's data scope (one per scope key)."""
    # A digest, never the names themselves: the only text of a viewer that reaches SQL.
    digest = hashlib.sha256(repr(viewer.scope_key()).encode()).hexdigest()[:16]
    return f"scope_{digest}"


def use(
    con: duckdb.DuckDBPyConnection, schema: str, *, prepared: bool = False
) -> duckdb.DuckDBPyConnection:
    """Let the connection (a cursor) see the data through the scope's schema; returns it.

    `prepared`: the verdicts are read from the snapshot alone, for a cursor whose queries
    ask only for a Stichtag filled before (`dashboard.core.rules.fill_snapshot`); they are
    then much cheaper to plan, and any other date is an error.
    """
    if not _SCHEMA.fullmatch(schema):
        raise ValueError(f"not a scope schema: {schema!r}")
    path = f"{schema}{PREPARED},{schema},main" if prepared else f"{schema},main"
    con.execute(f"SET search_path = '{path}'")
    return con


_SCHEMA = re.compile(r"scope_[0-9a-f]{16}")
PREPARED = "_prepared"  # suffix of the schema of a scope's macros over the snapshot alone


def install(
    con: duckdb.DuckDBPyConnection,
    viewer: Viewer,
    key: bytes,
    groups: dict[tuple[str, str], str] | None = None,
) -> Scope:
    """Restrict what the connection sees to the viewer; returns the same scope for records.

    The scope's views and tables live in a schema of their own (`schema_name`), and the
    connection's search path is set to it: `tickets`, `absences`, `rejects`, the verdicts
    and their summaries then hold only the viewer's rows. Other cursors of the same
    database keep their own search path, so one database can hold every scope beside one
    copy of the verdicts (`dashboard.serving`). `groups` are management's merged teams
    (`merged_groups`), when already known for this database version.
    """
    role = viewer.role
    schema = schema_name(viewer)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    _values(con, f"{schema}.scope_teams", "team", viewer.teams if role == "teamleitung" else ())
    own = [viewer.worker or ""] if role == "mitarbeitende" else []
    _values(con, f"{schema}.scope_workers", "worker", own)
    if role != "management":
        groups = {}
    elif groups is None:
        groups = merged_groups_of(con)
    con.execute(
        f"CREATE OR REPLACE TABLE {schema}.scope_groups (area VARCHAR, team VARCHAR, shown VARCHAR)"
    )
    if groups:
        con.executemany(
            f"INSERT INTO {schema}.scope_groups VALUES (?, ?, ?)",
            [[a, t, s] for (a, t), s in groups.items()],
        )
    con.execute(
        f"CREATE OR REPLACE TABLE {schema}.scope_hidden AS SELECT ?::VARCHAR AS name",
        [HIDDEN_WORKER],
    )

    where, team, worker = (part.format(s=schema) for part in _ROWS[role])
    join = (
        f"LEFT JOIN {schema}.scope_groups g ON g.area = t.area AND g.team = t.team"
        if role == "management"
        else ""
    )
    narrowed = (
        f"SELECT t.* REPLACE ({team} AS team, {worker} AS worker){{person}} FROM {{rows}} t "
        f"{join} WHERE {{where}}"
    )
    # The verdicts carry no stored dates: a filter that reads them (mitarbeitende's covered
    # tickets) narrows the verdicts to the tickets of the scope's own view instead.
    verdict_where = (
        f"t.ticket_id IN (SELECT ticket_id FROM {schema}.tickets)"
        if role == "mitarbeitende"
        else where
    )
    # `person` is added before the names are hidden (the verdicts carry it already).
    person = f", {PERSON_SQL.format(worker='t.worker')} AS person"
    con.execute(
        f"CREATE OR REPLACE VIEW {schema}.tickets AS "
        + narrowed.format(person=person, rows="store.tickets", where=where)
    )
    # The verdicts and summaries of everyone (computed once per Stichtag), narrowed to the
    # scope: a verdict depends on its own ticket only, so narrowing after computing gives
    # the verdicts of the narrowed tickets.
    # The same over the snapshot alone, for cursors whose Stichtag was filled before (`use`).
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}{PREPARED}")
    for macro in NARROWED_MACROS:
        pairs = (
            (schema, f"main.{macro}"),
            (f"{schema}{PREPARED}", f"main.{PREPARED_PREFIX}{macro}"),
        )
        for target, source in pairs:
            if role == "mitarbeitende" and macro != "verdicts":
                # summaries have no ticket: summed up from the scope's own verdicts
                body = SUMMARIES[macro].format(source=f"{target}.verdicts(as_of)")
            else:
                body = narrowed.format(person="", rows=f"{source}(as_of)", where=verdict_where)
            con.execute(f"CREATE OR REPLACE MACRO {target}.{macro}(as_of) AS TABLE {body}")
    con.execute(
        f"CREATE OR REPLACE VIEW {schema}.absences AS SELECT * FROM store.absences x "
        f"WHERE {_ABSENCES[role].format(s=schema)}"
    )
    # Rejected rows keep the raw text of a record (names): only for whoever fixes exports.
    visible = "true" if role == "admin" else "false"
    con.execute(
        f"CREATE OR REPLACE VIEW {schema}.rejects AS SELECT * FROM store.rejects WHERE {visible}"
    )
    use(con, schema)
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
        schema=schema,
    )


def _values(con: duckdb.DuckDBPyConnection, table: str, column: str, values: Iterable) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {table} ({column} VARCHAR)")
    rows = [[v] for v in values]
    if rows:
        con.executemany(f"INSERT INTO {table} VALUES (?)", rows)


def merged_groups_of(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """Management's merged small teams of the loaded data: (Bereich, team) -> group shown."""
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
    if role == "mitarbeitende":
        # only their own records: covering a colleague's tickets shows no records about them
        return frozenset(w for (w,) in con.execute("SELECT worker FROM scope_workers").fetchall())
    return frozenset(
        w for (w,) in con.execute("SELECT DISTINCT worker FROM tickets").fetchall()
    ) | frozenset(w for (w,) in con.execute("SELECT worker FROM scope_workers").fetchall())
