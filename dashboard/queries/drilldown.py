"""The tickets behind a figure: the list a card or chart of the dashboard counts.

A figure counts tickets by status, by a valid extension or by a breach during absence,
within the selection; `ticket_list` returns exactly those tickets (the findings of a ticket
are in `dashboard.queries.findings`). No Streamlit here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import pandas as pd

from dashboard.core.rules import BREACHES, STATUS_LABELS, STATUSES
from dashboard.queries import metrics
from dashboard.queries.filters import NO_FILTERS, Filters, ordered_by, status_in

# German headers of the download, in this order.
EXPORT_COLUMNS = {
    "ticket_id": "Ticket-ID",
    "area": "Bereich",
    "team": "Team",
    "worker": "Bearbeiter",
    "receipt_date": "Eingang",
    "due_date": "Fällig am",
    "completion_date": "Erledigt am",
    "commitment_date": "Zusage bis",
    "status_label": "Status",
}


@ordered_by("team", "worker", "due_date", "ticket_id")
def ticket_list(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    statuses: Sequence[str] = (),
    in_absence: bool = False,
    extended: bool = False,
    any_month: bool = False,
    worker: str | None = None,
) -> pd.DataFrame:
    """The filtered tickets with one of `statuses` (none: any), as of `as_of`.

    `in_absence`: only breaches due in an absence of the assignee (the Übersicht's
    "Verstöße bei Abwesenheit"); `extended`: only tickets with a valid notice; `any_month`:
    whatever month (a state at the Stichtag such as open overdue); `worker`: one person.
    """
    unknown = set(statuses) - set(STATUSES)
    if unknown:
        raise ValueError(f"unknown status: {sorted(unknown)}")
    conditions = [status_in(statuses) if statuses else "true"]
    if in_absence:
        conditions.append(f"v.{status_in(BREACHES)} AND {metrics.IN_ABSENCE}")
    if extended:
        conditions.append("notice_valid")
    scope = filters.without_period() if any_month else filters
    return (
        scope.verdicts(as_of)
        .wrap(
            f"""
        SELECT ticket_id, area, team, worker, receipt_date, due_date, completion_date,
               CASE WHEN notice_valid THEN commitment_date END AS commitment_date,
               working_days, status
        FROM {{rows}} v
        WHERE {" AND ".join(conditions)} AND ($worker IS NULL OR worker = $worker)
        ORDER BY due_date, ticket_id
        """,
            worker=worker,
        )
        .df(con)
    )


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The ticket list with German headers and labels, for CSV and Excel downloads."""
    out = frame.assign(status_label=frame["status"].map(STATUS_LABELS))
    return out[list(EXPORT_COLUMNS)].rename(columns=EXPORT_COLUMNS)
