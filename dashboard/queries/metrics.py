"""Measures of the rules for a reference date: rates, open tickets, repeat cases, absences.

Every function has the signature `fn(con, as_of, filters, **options) -> DataFrame` (the
one `dashboard.serving.fetch` calls) and takes a connection prepared by `dashboard.core.storage`
(which installs the `verdicts(as_of)` macro of `dashboard.core.rules`). No Streamlit
here: the CLI, the reports and the tests use exactly these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import pandas as pd

from dashboard.core.rules import ANONYMOUS_WORKER, BREACHES, COMPLIANT, UNDECIDED
from dashboard.queries.filters import NO_FILTERS, Filters, ordered_by, status_in

GROUPINGS = ("month", "area", "team", "worker")  # what `rates` can group by


# Columns of `verdicts` for the queries here, not part of a ticket's verdict.
INTERNAL_COLUMNS = "person, due_month, receipt_month, status_code"


def dimensions(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Bereich and team of every team with tickets received up to `as_of`, with their span."""
    # Every Bereich and worker: the sidebar offers the teams before a Bereich is chosen.
    scope = Filters(teams=filters.teams)
    return (
        scope.tickets(as_of)
        .wrap(
            """
        SELECT area, team, min(received) AS first_receipt, max(received) AS last_receipt,
               count(*) AS tickets
        FROM {rows} GROUP BY area, team ORDER BY area DESC, team
        """
        )
        .df(con)
    )


def ticket_verdicts(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """One row per ticket received up to `as_of`: due date, working days, status, checks."""
    sql = f"SELECT * EXCLUDE ({INTERNAL_COLUMNS}) FROM {{rows}} ORDER BY ticket_id"
    return filters.verdicts(as_of).wrap(sql).df(con)


# What `rates` counts: (column, condition on a verdict; None counts every ticket).
COUNTS = (
    ("tickets", None),
    ("decided", f"NOT {status_in(UNDECIDED)}"),
    ("on_time", status_in(["on_time"])),
    ("compliant", status_in(COMPLIANT)),
    ("breaches", status_in(BREACHES)),
    ("late", status_in(["late"])),
    ("extended_kept", status_in(["extended_kept"])),
    ("extended_missed", status_in(["extended_missed"])),
    ("overdue", status_in(["overdue"])),
    ("open", status_in(["open"])),
    ("open_extended", status_in(["open_extended"])),
    ("extensions", "notice_valid"),
    ("callback_checked", "callback_ok IS NOT NULL"),
    ("callback_true", "callback_ok"),
    ("walkin_checked", "walkin_note_ok IS NOT NULL"),
    ("walkin_true", "walkin_note_ok"),
    ("tl_informed_checked", "tl_informed_ok IS NOT NULL"),
    ("tl_informed_true", "tl_informed_ok"),
)
_EXTENSIONS = [name for name, _ in COUNTS].index("extensions") + 1
# Over verdicts, one per ticket; the median and 90th percentile keep every value of a
# group: the costly part of `rates`.
RATE_COLUMNS = ",\n".join(
    [f"count(*) FILTER ({cond or 'true'}) AS {name}" for name, cond in COUNTS[:_EXTENSIONS]]
    + ["median(working_days) AS median_working_days",
       "quantile_cont(working_days, 0.9) AS p90_working_days",
       "count(DISTINCT person) AS workers"]
    + [f"count(*) FILTER ({cond or 'true'}) AS {name}" for name, cond in COUNTS[_EXTENSIONS:]]
)  # fmt: skip
# The same counts over `verdict_counts` (dashboard.core.rules), which has a row per group of
# alike tickets and their number.
SUMMED_COLUMNS = ",\n".join(
    [f"coalesce(sum(tickets) FILTER ({cond or 'true'}), 0)::BIGINT AS {name}"
     for name, cond in COUNTS]
    + ["count(DISTINCT person) AS workers"]
)  # fmt: skip


def rates(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    by: Sequence[str] = ("month", "area"),
    working_days: bool = True,
) -> pd.DataFrame:
    """Counts per status and the on-time and compliant rates, grouped by `by`.

    `workers` counts the distinct people behind each group (the anonymised placeholder is
    nobody): what the small-cell rule for management needs (dashboard.access.cells).

    Rates count only decided tickets (RULES.md): completed ones and open ones past their
    deadline (and past the commitment when extended). A rate is NaN where nothing was decided.
    `working_days=False` leaves out the median and 90th percentile of the working days.
    """
    unknown = set(by) - set(GROUPINGS)
    if unknown:
        raise ValueError(f"unknown grouping: {sorted(unknown)}")
    keys = ", ".join(by)
    # Without the working days, the counts come from the Stichtag's summary: the same
    # figures from a few ten thousand rows instead of every ticket.
    query, columns = (
        (filters.verdicts(as_of), RATE_COLUMNS)
        if working_days
        else (filters.counts(as_of), SUMMED_COLUMNS)
    )
    select_keys = f"{keys}, " if keys else ""
    group = f"GROUP BY {keys} ORDER BY {keys}" if keys else ""
    frame = query.wrap(f"SELECT {select_keys}{columns} FROM {{rows}} {group}").df(con)
    decided = frame["decided"].where(frame["decided"] > 0)
    frame["on_time_rate"] = frame["on_time"] / decided
    frame["compliant_rate"] = frame["compliant"] / decided
    for check in ("callback", "walkin", "tl_informed"):
        checked = frame[f"{check}_checked"].where(frame[f"{check}_checked"] > 0)
        frame[f"{check}_rate"] = frame[f"{check}_true"] / checked
    return frame


def open_tickets(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Tickets not completed at `as_of`, with due date and who has them on the list.

    While the assignee is absent at `as_of`, the ticket belongs on the substitute's
    follow-up list (A4, A8): `responsible` is the substitute then.
    """
    return (
        filters.verdicts(as_of)
        .wrap(
            """
        SELECT v.ticket_id, v.area, v.team, v.worker, v.receipt_date, v.due_date, v.status,
               v.notice_valid, v.commitment_date,
               v.notified_date, v.verbis_note, v.callback_date, v.concern,
               a.substitute AS substitute,
               coalesce(a.substitute, v.worker) AS responsible,
               c.wd_index - v.r_index AS working_days_open,
               ($as_of::DATE - v.receipt_date) AS calendar_days_open
        FROM {rows} v
        JOIN calendar c ON c.day = $as_of::DATE
        LEFT JOIN cover($as_of::DATE) a ON a.worker = v.worker
        WHERE v.completion_date IS NULL
        ORDER BY v.due_date, v.ticket_id
        """
        )
        .df(con)
    )


@ordered_by("team", "worker")
def oldest_open(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    by: str = "worker",
) -> pd.DataFrame:
    """The oldest open ticket per worker or team, with its age (A1: tickets come first)."""
    if by not in ("worker", "team"):
        raise ValueError("by must be 'worker' or 'team'")
    keys = "team, worker" if by == "worker" else "team"
    frame = open_tickets(con, as_of, filters)
    if frame.empty:
        return frame.assign(open_tickets=pd.Series(dtype="int64"))
    ordered = frame.sort_values(["receipt_date", "ticket_id"])
    keys_list = keys.split(", ")
    oldest = ordered.groupby(keys_list, as_index=False).first()
    counts = frame.groupby(keys_list).size().rename("open_tickets").reset_index()
    return oldest.merge(counts, on=keys_list).sort_values(keys_list, ignore_index=True)


# A breach whose due date lies in an absence of its assignee (the handover failed, A4/A8).
IN_ABSENCE = (
    "EXISTS (SELECT 1 FROM absences a WHERE a.worker = v.worker "
    "AND v.due_date BETWEEN a.date_from AND a.date_to)"
)


@ordered_by("month", "team", "worker")
def repeat_cases(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    threshold: int = 2,
) -> pd.DataFrame:
    """Workers whose counted breaches in one month of due date reach the threshold (A10).

    Only the Bereiche of `rules.repeat_areas` count (default Leistung). A breach during the
    worker's own absence is listed beside the case (`absence_breaches`, `absence_ticket_ids`)
    but not counted: the handover failed, not the worker.
    """
    return (
        filters.verdicts(as_of)
        .wrap(
            f"""
        WITH b AS (
            SELECT v.due_month, v.due_date, v.worker, v.team, v.ticket_id,
                   {IN_ABSENCE} AS in_absence
            FROM {{rows}} v
            -- anonymised tickets (A9) belong to nobody: no conversation to hold
            WHERE v.{status_in(BREACHES)} AND v.worker <> $anonymous
              AND v.area IN (SELECT area FROM repeat_areas)
        )
        SELECT due_month AS month, worker,
               -- A10 counts a worker's breaches whatever team they were in that month.
               string_agg(DISTINCT team, ', ' ORDER BY team) FILTER (NOT in_absence) AS team,
               count(*) FILTER (NOT in_absence) AS breaches,
               list(ticket_id ORDER BY due_date, ticket_id) FILTER (NOT in_absence)
                   AS ticket_ids,
               count(*) FILTER (in_absence) AS absence_breaches,
               coalesce(list(ticket_id ORDER BY due_date, ticket_id) FILTER (in_absence),
                        []::VARCHAR[]) AS absence_ticket_ids
        FROM b
        GROUP BY due_month, worker
        HAVING count(*) FILTER (NOT in_absence) >= $threshold
        ORDER BY month, team, worker
        """,
            threshold=threshold,
            anonymous=ANONYMOUS_WORKER,
        )
        .df(con)
    )


def absence_breaches(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Breaches whose due date fell in an absence of the assignee (the handover failed)."""
    return (
        filters.verdicts(as_of)
        .wrap(
            f"""
        SELECT v.ticket_id, v.area, v.team, v.worker, v.due_date, v.status,
               any_value(a.date_from) AS absent_from, any_value(a.date_to) AS absent_to,
               any_value(a.substitute) AS substitute
        FROM {{rows}} v
        JOIN absences a ON a.worker = v.worker AND v.due_date BETWEEN a.date_from AND a.date_to
        WHERE v.{status_in(BREACHES)}
        GROUP BY v.ticket_id, v.area, v.team, v.worker, v.due_date, v.status
        ORDER BY v.due_date, v.ticket_id
        """
        )
        .df(con)
    )


def data_state(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """How current the loaded data is, whatever the Stichtag: one row with the first and
    newest receipt the viewer may see and when tickets were last loaded (`as_of` unused,
    so a page can cache it once per database version)."""
    del as_of, filters  # the state of the whole load, not of a selection
    return con.execute(
        """
        SELECT (SELECT min(received) FROM tickets) AS first_receipt,
               (SELECT max(received) FROM tickets) AS newest_receipt,
               (SELECT max(finished_at) FROM load_log WHERE kind = 'tickets') AS last_load
        """
    ).df()
