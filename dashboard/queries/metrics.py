"""Measures of the rules for a reference date: rates, open tickets, repeat cases, absences.

Every function has the signature `fn(con, as_of, filters, **options) -> DataFrame` (the
one `dashboard.serving.fetch` calls) and takes a connection prepared by `dashboard.core.storage`
(which installs the `verdicts(as_of)` macro of `dashboard.core.rules`). No Streamlit
here: the CLI, the reports and the tests use exactly these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from dashboard.core.months import add_months, month_start
from dashboard.core.rules import ANONYMOUS_WORKER, BREACHES, COMPLIANT, UNDECIDED, status_codes

GROUPINGS = ("month", "area", "team", "worker")  # what `rates` can group by


@dataclass(frozen=True)
class Filters:
    """Which tickets a measure looks at; empty means all."""

    areas: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    workers: tuple[str, ...] = ()
    # Inclusive range of the month date (due or receipt month, see `month_of`).
    period: tuple[dt.date, dt.date] | None = None
    month_of: str = "due"  # 'due' (default, RULES.md) or 'receipt'

    def date_column(self) -> str:
        """The verdict column whose month counts: due date or receipt date."""
        return "receipt_date" if self.month_of == "receipt" else "due_date"

    def month_expr(self) -> str:
        """SQL for the month a ticket is counted in (a precomputed column of the verdicts)."""
        return "receipt_month" if self.month_of == "receipt" else "due_month"


def _in_filters(filters: Filters) -> list[str]:
    """SQL conditions of the filter scope: Bereich, teams, workers and the counting month."""
    where = [
        "(len($areas) = 0 OR list_contains($areas, area))",
        "(len($teams) = 0 OR list_contains($teams, team))",
        "(len($workers) = 0 OR list_contains($workers, worker))",
    ]
    if filters.period is not None:
        where.append(f"{filters.month_expr()} BETWEEN $p_from AND $p_to")
    return where


def _scoped(filters: Filters) -> str:
    """The verdicts of the filter scope as a SQL subquery with its parameters."""
    where = _in_filters(filters)
    if filters.period is not None:
        # The same tickets as a range of the date itself (a superset of the month test):
        # without a snapshot the receipt date's range reaches the scan of the stored
        # tickets, which are stored roughly in date order, so whole row groups are skipped.
        column = filters.date_column()
        where.append(f"{column} >= $p_lo AND {column} < $p_hi")
    return (
        f"SELECT *, {filters.month_expr()} AS month FROM verdicts($as_of::DATE) "
        f"WHERE {' AND '.join(where)}"
    )


def _params(as_of: dt.date, filters: Filters) -> dict:
    params = {
        "as_of": as_of,
        "areas": list(filters.areas),
        "teams": list(filters.teams),
        "workers": list(filters.workers),
    }
    if filters.period is not None:
        params["p_from"], params["p_to"] = filters.period
        params["p_lo"] = month_start(filters.period[0])
        params["p_hi"] = add_months(month_start(filters.period[1]), 1)
    return params


def _in(values: Sequence[str]) -> str:
    # Status names are constants of dashboard.core.rules, not user input.
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _is(statuses: Sequence[str]) -> str:
    """SQL test that a verdict's status is one of `statuses`, on its integer code (fast)."""
    return f"status_code IN {status_codes(statuses)}"


# Columns of `verdicts` for the queries here, not part of a ticket's verdict.
INTERNAL_COLUMNS = "due_month, receipt_month, status_code"


def dimensions(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = Filters()
) -> pd.DataFrame:
    """Bereich and team of every team with tickets received up to `as_of`, with their span."""
    return con.execute(
        """
        SELECT area, team, min(received) AS first_receipt, max(received) AS last_receipt,
               count(*) AS tickets
        FROM tickets
        WHERE received <= $as_of::DATE
          AND (len($teams) = 0 OR list_contains($teams, team))
        GROUP BY area, team ORDER BY area DESC, team
        """,
        {"as_of": as_of, "teams": list(filters.teams)},
    ).df()


def ticket_verdicts(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = Filters()
) -> pd.DataFrame:
    """One row per ticket received up to `as_of`: due date, working days, status, checks."""
    sql = _scoped(filters)
    return con.execute(
        f"SELECT * EXCLUDE ({INTERNAL_COLUMNS}) FROM ({sql}) ORDER BY ticket_id",
        _params(as_of, filters),
    ).df()


# What `rates` counts: (column, condition on a verdict; None counts every ticket).
COUNTS = (
    ("tickets", None),
    ("decided", f"NOT {_is(UNDECIDED)}"),
    ("on_time", _is(["on_time"])),
    ("compliant", _is(COMPLIANT)),
    ("breaches", _is(BREACHES)),
    ("late", _is(["late"])),
    ("extended_kept", _is(["extended_kept"])),
    ("extended_missed", _is(["extended_missed"])),
    ("overdue", _is(["overdue"])),
    ("open", _is(["open"])),
    ("open_extended", _is(["open_extended"])),
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
       "quantile_cont(working_days, 0.9) AS p90_working_days"]
    + [f"count(*) FILTER ({cond or 'true'}) AS {name}" for name, cond in COUNTS[_EXTENSIONS:]]
)  # fmt: skip
# The same counts over `verdict_counts` (dashboard.core.rules), which has a row per group of
# alike tickets and their number.
SUMMED_COLUMNS = ",\n".join(
    f"coalesce(sum(tickets) FILTER ({cond or 'true'}), 0)::BIGINT AS {name}"
    for name, cond in COUNTS
)


def _counted(filters: Filters) -> str:
    """The summary rows of the filter scope (`verdict_counts`), with their month."""
    where = _in_filters(filters)
    return (
        f"SELECT *, {filters.month_expr()} AS month FROM verdict_counts($as_of::DATE) "
        f"WHERE {' AND '.join(where)}"
    )


def rates(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = Filters(),
    by: Sequence[str] = ("month", "area"),
    working_days: bool = True,
) -> pd.DataFrame:
    """Counts per status and the on-time and compliant rates, grouped by `by`.

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
    sql, columns = (
        (_scoped(filters), RATE_COLUMNS) if working_days else (_counted(filters), SUMMED_COLUMNS)
    )
    params = _params(as_of, filters)
    if not working_days:  # the summary has months, not dates: no date range to test
        params = {k: v for k, v in params.items() if k not in ("p_lo", "p_hi")}
    select_keys = f"{keys}, " if keys else ""
    group = f"GROUP BY {keys} ORDER BY {keys}" if keys else ""
    frame = con.execute(f"SELECT {select_keys}{columns} FROM ({sql}) {group}", params).df()
    decided = frame["decided"].where(frame["decided"] > 0)
    frame["on_time_rate"] = frame["on_time"] / decided
    frame["compliant_rate"] = frame["compliant"] / decided
    for check in ("callback", "walkin", "tl_informed"):
        checked = frame[f"{check}_checked"].where(frame[f"{check}_checked"] > 0)
        frame[f"{check}_rate"] = frame[f"{check}_true"] / checked
    return frame


def open_tickets(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = Filters()
) -> pd.DataFrame:
    """Tickets not completed at `as_of`, with due date and who has them on the list.

    While the assignee is absent at `as_of`, the ticket belongs on the substitute's
    follow-up list (A4, A8): `responsible` is the substitute then.
    """
    sql = _scoped(filters)
    return con.execute(
        f"""
        SELECT v.ticket_id, v.area, v.team, v.worker, v.receipt_date, v.due_date, v.status,
               v.notice_valid, v.commitment_date,
               a.substitute AS substitute,
               coalesce(a.substitute, v.worker) AS responsible,
               c.wd_index - v.r_index AS working_days_open,
               ($as_of::DATE - v.receipt_date) AS calendar_days_open
        FROM ({sql}) v
        JOIN calendar c ON c.day = $as_of::DATE
        LEFT JOIN (
            SELECT worker, arg_max(substitute, date_from) AS substitute FROM absences
            WHERE $as_of::DATE BETWEEN date_from AND date_to AND substitute IS NOT NULL
            GROUP BY worker
        ) a ON a.worker = v.worker
        WHERE v.completion_date IS NULL
        ORDER BY v.due_date, v.ticket_id
        """,
        _params(as_of, filters),
    ).df()


def oldest_open(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = Filters(),
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


def repeat_cases(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = Filters(),
    threshold: int = 2,
) -> pd.DataFrame:
    """Workers whose breaches in one month of due date reach the threshold (A10)."""
    sql = _scoped(filters)
    params = _params(as_of, filters) | {"threshold": threshold, "anonymous": ANONYMOUS_WORKER}
    return con.execute(
        f"""
        SELECT due_month AS month, worker,
               -- A10 counts a worker's breaches whatever team they were in that month.
               string_agg(DISTINCT team, ', ' ORDER BY team) AS team,
               count(*) AS breaches,
               list(ticket_id ORDER BY due_date, ticket_id) AS ticket_ids
        FROM ({sql})
        -- anonymised tickets (A9) belong to nobody: no conversation to hold
        WHERE {_is(BREACHES)} AND worker <> $anonymous
        GROUP BY ALL
        HAVING count(*) >= $threshold
        ORDER BY month, team, worker
        """,
        params,
    ).df()


def absence_breaches(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = Filters()
) -> pd.DataFrame:
    """Breaches whose due date fell in an absence of the assignee (the handover failed)."""
    sql = _scoped(filters)
    return con.execute(
        f"""
        SELECT v.ticket_id, v.area, v.team, v.worker, v.due_date, v.status,
               any_value(a.date_from) AS absent_from, any_value(a.date_to) AS absent_to,
               any_value(a.substitute) AS substitute
        FROM ({sql}) v
        JOIN absences a ON a.worker = v.worker AND v.due_date BETWEEN a.date_from AND a.date_to
        WHERE v.{_is(BREACHES)}
        GROUP BY v.ticket_id, v.area, v.team, v.worker, v.due_date, v.status
        ORDER BY v.due_date, v.ticket_id
        """,
        _params(as_of, filters),
    ).df()
