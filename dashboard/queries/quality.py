"""Data quality: the load history, rejected rows and the checks a controller runs on the data.

Every function has the signature of the domain queries, `fn(con, as_of, filters, **kwargs)`,
and returns a pandas DataFrame computed in SQL. No Streamlit here.

How the arguments apply:

- `load_history`, `reject_files` and `rejected_rows` describe loads, not tickets: they ignore
  the Stichtag and the filters (a rejected row has no trustworthy Bereich or team, and a load
  has no date in the ticket calendar).
- The data checks look at the data as of the Stichtag (tickets received and absences begun up
  to it) and respect Bereich, team and worker filters (the viewer's restriction arrives there
  too). They ignore the period (Von/Bis Monat): a data error is one whatever month it falls
  in, and tickets open for very long are due in months long gone.
- A check decides on all data and the filters only choose which findings are listed: a
  worker of the selected team who also appears in another team is a team change, even if the
  other team is not selected.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from dashboard.queries.filters import NO_FILTERS, Filters, Query

KIND_LABELS = {"tickets": "Tickets", "absences": "Abwesenheiten"}
DEFAULT_OPEN_DAYS = 30


def _scope_workers(as_of: dt.date, filters: Filters) -> Query:
    """Workers with tickets in the filter scope up to the Stichtag (the period ignored)."""
    return filters.without_period().tickets(as_of).wrap("SELECT DISTINCT worker FROM {rows}")


def _unscoped(filters: Filters) -> bool:
    return not (filters.areas or filters.teams or filters.workers)


def load_history(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Every load of the load log, newest first, with its reconciliation (ignores filters)."""
    return con.execute(
        """
        SELECT load_id, file_name, kind, started_at, finished_at,
               rows_read, rows_loaded, rows_rejected, rows_duplicate,
               records_new, records_replaced, encoding,
               rows_read = rows_loaded + rows_rejected + rows_duplicate AS reconciled
        FROM load_log
        ORDER BY load_id DESC
        """
    ).df()


def reject_files(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """The files that had rejected rows, with their count, newest load first (ignores filters)."""
    return con.execute(
        """
        SELECT source AS file_name, count(*) AS rejects, max(load_id) AS last_load_id
        FROM rejects
        GROUP BY source
        ORDER BY last_load_id DESC, file_name
        """
    ).df()


def rejected_rows(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    file_name: str | None = None,
    search: str = "",
) -> pd.DataFrame:
    """Rejected rows of one file (None: all) whose reason contains `search` (ignores filters).

    The search is a plain substring, case-insensitive; `%` and `_` are ordinary characters.
    """
    return con.execute(
        """
        SELECT r.load_id, r.kind, r.source AS file_name, l.finished_at AS loaded_at,
               r.record, r.ticket_id, r.reason, r.raw
        FROM rejects r
        LEFT JOIN load_log l USING (load_id)
        WHERE ($file_name::VARCHAR IS NULL OR r.source = $file_name)
          AND contains(lower(r.reason), lower($search))
        ORDER BY r.load_id DESC, r.record
        """,
        {"file_name": file_name, "search": search.strip()},
    ).df()


def single_load_workers(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Workers all of whose tickets come from one load: new names, or names that vanished.

    Only meaningful once tickets of two or more loads are stored; before that, it is empty.
    `load_id` is the load that last wrote the tickets (a later load replaces a ticket).
    """
    return (
        _scope_workers(as_of, filters)
        .wrap(
            """
        WITH t AS (SELECT * FROM tickets WHERE received <= $as_of::DATE),
        per_worker AS (
            SELECT worker,
                   count(DISTINCT load_id) AS loads,
                   any_value(load_id) AS load_id,
                   string_agg(DISTINCT team, ', ' ORDER BY team) AS team,
                   count(*) AS tickets,
                   min(received) AS first_receipt,
                   max(received) AS last_receipt
            FROM t GROUP BY worker
        )
        SELECT p.worker, p.team, p.load_id, l.file_name, p.tickets,
               p.first_receipt, p.last_receipt
        FROM per_worker p
        JOIN load_log l USING (load_id)
        WHERE p.loads = 1
          AND (SELECT count(DISTINCT load_id) FROM t) > 1
          AND p.worker IN {rows}
        ORDER BY p.load_id DESC, p.worker
        """
        )
        .df(con)
    )


def team_gaps(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Months without a single receipt between a team's first and last receipt month.

    The span of a team ends with its last receipt up to the Stichtag, so a team that was
    dissolved is not reported for every month since.
    """
    # Every month of a team counts, not only its months with a filtered worker.
    return (
        filters.without_period()
        .tickets(as_of)
        .wrap(
            """
        WITH scope AS (SELECT DISTINCT area, team FROM {rows}),
        t AS (
            SELECT area, team, date_trunc('month', received)::DATE AS month
            FROM tickets JOIN scope USING (area, team)
            WHERE received <= $as_of::DATE
        ),
        spans AS (
            SELECT area, team, min(month) AS first_month, max(month) AS last_month
            FROM t GROUP BY area, team
        ),
        months AS (
            SELECT area, team, first_month, last_month,
                   unnest(generate_series(first_month, last_month, INTERVAL 1 MONTH))::DATE
                       AS month
            FROM spans
        )
        SELECT m.area, m.team, m.month, m.first_month, m.last_month
        FROM months m
        ANTI JOIN (SELECT DISTINCT area, team, month FROM t) r USING (area, team, month)
        ORDER BY m.area DESC, m.team, m.month
        """
        )
        .df(con)
    )


def long_open(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    days: int = DEFAULT_OPEN_DAYS,
) -> pd.DataFrame:
    """Tickets not completed at the Stichtag and received more than `days` working days ago."""
    return (
        filters.without_period()
        .verdicts(as_of)
        .wrap(
            """
        SELECT v.ticket_id, v.area, v.team, v.worker, v.receipt_date, v.due_date, v.status,
               c.wd_index - v.r_index AS working_days_open
        FROM {rows} v
        JOIN calendar c ON c.day = $as_of::DATE
        WHERE v.completion_date IS NULL
          AND c.wd_index - v.r_index > $days
        ORDER BY working_days_open DESC, v.ticket_id
        """,
            days=int(days),
        )
        .df(con)
    )


def team_changes(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Workers with tickets in more than one team, their teams in order of first receipt."""
    return (
        _scope_workers(as_of, filters)
        .wrap(
            """
        WITH t AS (SELECT * FROM tickets WHERE received <= $as_of::DATE),
        per_team AS (
            SELECT worker, team, count(*) AS tickets,
                   min(received) AS first_receipt, max(received) AS last_receipt
            FROM t GROUP BY worker, team
        )
        SELECT worker,
               count(*) AS team_count,
               string_agg(team, ' → ' ORDER BY first_receipt, team) AS teams,
               string_agg(team || ': ' || tickets, ' | ' ORDER BY first_receipt, team)
                   AS tickets_per_team,
               sum(tickets)::BIGINT AS tickets,
               min(first_receipt) AS first_receipt,
               max(last_receipt) AS last_receipt
        FROM per_team
        WHERE worker IN {rows}
        GROUP BY worker
        HAVING count(*) > 1
        ORDER BY worker
        """
        )
        .df(con)
    )


def absences_without_substitute(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Absences begun by the Stichtag that name no substitute (A4, A8: nobody follows up).

    With a Bereich, team or worker filter, only absences of workers with tickets in it.
    """
    return (
        _scope_workers(as_of, filters)
        .wrap(
            """
        SELECT a.worker, a.date_from, a.date_to,
               cto.wd_index - cfrom.wd_index + cfrom.is_workday::INT AS working_days,
               $as_of::DATE BETWEEN a.date_from AND a.date_to AS current,
               l.file_name
        FROM absences a
        JOIN calendar cfrom ON cfrom.day = a.date_from
        JOIN calendar cto ON cto.day = a.date_to
        LEFT JOIN load_log l USING (load_id)
        WHERE a.substitute IS NULL
          AND a.date_from <= $as_of::DATE
          AND ($unscoped OR a.worker IN {rows})
        ORDER BY a.date_from DESC, a.worker
        """,
            unscoped=_unscoped(filters),
        )
        .df(con)
    )


def unknown_absence_workers(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Workers of absences begun by the Stichtag who have no ticket: likely misspelt names.

    `similar_worker` is the ticket worker whose name is closest (Jaro-Winkler similarity);
    with a Bereich, team or worker filter, only names whose closest worker is in it.
    """
    return (
        _scope_workers(as_of, filters)
        .wrap(
            """
        WITH known AS (
            SELECT DISTINCT worker FROM tickets WHERE received <= $as_of::DATE
        ),
        unknown AS (
            SELECT a.worker, count(*) AS absences,
                   min(a.date_from) AS first_from, max(a.date_to) AS last_to,
                   string_agg(DISTINCT l.file_name, ', ' ORDER BY l.file_name) AS file_name
            FROM absences a
            LEFT JOIN load_log l USING (load_id)
            WHERE a.date_from <= $as_of::DATE
              AND a.worker NOT IN (SELECT worker FROM known)
            GROUP BY a.worker
        ),
        nearest AS (
            SELECT u.worker, k.worker AS similar_worker,
                   jaro_winkler_similarity(u.worker, k.worker) AS similarity
            FROM unknown u CROSS JOIN known k
            -- the closest name; on a tie the first in alphabetical order, for stable output
            QUALIFY row_number() OVER (
                PARTITION BY u.worker ORDER BY similarity DESC, k.worker) = 1
        )
        SELECT u.worker, u.absences, u.first_from, u.last_to, u.file_name,
               n.similar_worker, n.similarity
        FROM unknown u
        LEFT JOIN nearest n USING (worker)
        WHERE $unscoped OR n.similar_worker IN {rows}
        ORDER BY u.worker
        """,
            unscoped=_unscoped(filters),
        )
        .df(con)
    )
