"""Measures of the controlling pages (Übersicht, Teams, Mitarbeitende) for a reference date.

Every public query has the signature `fn(con, as_of, filters, **kwargs) -> DataFrame`, so
that `dashboard.serving.fetch` can run and cache it. The rules come from `verdicts(as_of)`
(dashboard.core.rules) and the filter scope from `Filters.verdicts`; no Streamlit here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import duckdb
import pandas as pd

from dashboard.core.months import add_months, month_count
from dashboard.core.rules import BREACHES, STATUS_LABELS, STATUSES
from dashboard.queries import metrics
from dashboard.queries.filters import NO_FILTERS, Filters, ordered_by, status_in

TREND_MONTHS = 12
# Open tickets past their deadline and not covered by a commitment still running (the
# open ones of these two statuses); `open_extended` is covered by a valid notice.
OVERDUE_OPEN = ("overdue", "extended_missed")


def _last_month(as_of: dt.date, filters: Filters) -> dt.date:
    end = filters.period[1] if filters.period is not None else as_of
    return end.replace(day=1)


def trend_window(as_of: dt.date, filters: Filters) -> tuple[dt.date, dt.date]:
    """First and last month of the 12 months ending with the period's last month."""
    end = _last_month(as_of, filters)
    return add_months(end, -(TREND_MONTHS - 1)), end


def heatmap_window(as_of: dt.date, filters: Filters) -> tuple[dt.date, dt.date]:
    """The period's months, or the 12 months ending with it when the period is one month."""
    if filters.period is not None and month_count(filters.period) > 1:
        start, end = filters.period
        return start.replace(day=1), end.replace(day=1)
    return trend_window(as_of, filters)


def comparison_date(as_of: dt.date, filters: Filters) -> dt.date:
    """The reference date one period earlier (as many months back as the period has)."""
    months = month_count(filters.period) if filters.period is not None else 1
    return add_months(as_of, -months)


def open_overdue(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Tickets open at `as_of` past their deadline without a commitment still running.

    The period does not apply: this is the state at the reference date. One row, one
    column `open_overdue`.
    """
    return (
        filters.without_period()
        .verdicts(as_of)
        .wrap(
            "SELECT count(*) AS open_overdue FROM {rows} "
            f"WHERE completion_date IS NULL AND {status_in(OVERDUE_OPEN)}"
        )
        .df(con)
    )


def headline(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """One row of headline figures for the period: counts, rates, breaches, extensions.

    `tickets` are those whose month (of due date or receipt) lies in the period; rates count
    decided tickets only (metrics.rates). `absence_breaches` are breaches of the period whose
    due date fell in an absence of the assignee. `open_overdue` ignores the period (see
    `open_overdue`). `median_working_days` is over the period's tickets completed by `as_of`.
    To compare `open_overdue` with an earlier state, query `open_overdue` for that reference
    date (`comparison_date`) as a Selection of its own: the dashboard's connection only holds
    the verdicts of the reference dates it was asked for.
    """
    frame = metrics.rates(con, as_of, by=(), filters=filters)
    frame["absence_breaches"] = len(metrics.absence_breaches(con, as_of, filters))
    frame["open_overdue"] = open_overdue(con, as_of, filters)["open_overdue"].iloc[0]
    columns = [
        "tickets", "decided", "on_time", "compliant", "on_time_rate", "compliant_rate",
        "breaches", "absence_breaches", "open_overdue", "extensions", "median_working_days",
        "workers",
    ]  # fmt: skip
    return frame[columns]


def trend(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """On-time and compliant rate per month and Bereich over the 12-month trend window."""
    window = replace(filters, period=trend_window(as_of, filters))
    frame = metrics.rates(con, as_of, by=("month", "area"), filters=window, working_days=False)
    return frame[
        ["month", "area", "tickets", "decided", "on_time", "compliant", "on_time_rate",
         "compliant_rate", "workers"]
    ]  # fmt: skip


def backlog(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Open tickets and, of them, those past due at each week end of the trend window.

    A week end E is a Sunday of the 12-month trend window up to the Stichtag; the Stichtag
    itself is added as the last point when it lies in the window and is no Sunday. At E a
    ticket is open when received <= E and not completed by E; it is past due when, in
    addition, its due date < E (the deadline ends at the end of the due date). Past due
    deliberately ignores notices and commitments: an extended ticket counts as past due.
    Events after the Stichtag do not count (`verdicts(as_of)` cuts them). Bereich, team and
    worker filters apply; the period and "Monat nach" do not (a backlog is a state at a
    date, not a set of tickets of a month).

    Both counts are running sums over days: open(E) = #(receipt <= E) - #(completion <= E)
    (completion >= receipt is guaranteed by the ETL) and past_due(E) = #(due + 1 <= E) -
    #(max(due + 1, completion) <= E), so only the short daily table of these changes
    (`verdict_days`, kept with the Stichtag's snapshot) is joined against the week ends.
    """
    first, last = trend_window(as_of, filters)
    window_from = first
    window_to = add_months(last, 1) - dt.timedelta(days=1)
    first_sunday = window_from + dt.timedelta(days=(6 - window_from.weekday()) % 7)
    # The people behind the whole series (tickets of the window, any status): a backlog of
    # fewer than 5 workers is one small group's, hidden from management as a whole.
    people = (
        replace(filters, period=(window_from, window_to))
        .counts(as_of)
        .wrap("SELECT count(DISTINCT person) FROM {rows}")
        .fetchall(con)[0][0]
    )
    # The daily changes come from the Stichtag's summary `verdict_days` (dashboard.core.rules).
    series = (
        filters.days(as_of)
        .wrap(
            """
        WITH daily AS (
            SELECT day, sum(d_open) AS d_open, sum(d_past) AS d_past FROM {rows} GROUP BY day
        ),
        ends AS (
            SELECT e::DATE AS week_end
            FROM generate_series($first_sunday::DATE, $last_end::DATE, INTERVAL 7 DAY) g(e)
            UNION
            SELECT $as_of::DATE WHERE $as_of::DATE BETWEEN $w_from::DATE AND $w_to::DATE
        )
        SELECT ends.week_end,
               coalesce(sum(daily.d_open), 0)::BIGINT AS open,
               coalesce(sum(daily.d_past), 0)::BIGINT AS past_due
        FROM ends LEFT JOIN daily ON daily.day <= ends.week_end
        GROUP BY ends.week_end
        ORDER BY ends.week_end
        """,
            first_sunday=first_sunday,
            last_end=min(window_to, as_of),
            w_from=window_from,
            w_to=window_to,
        )
        .df(con)
    )
    series["workers"] = people
    return series


def status_mix(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Tickets of the period per status (all seven, in rule order) with the German label.

    `workers`: the distinct people behind each status (for the small-cell rule).
    """
    query = filters.counts(as_of).wrap(
        "SELECT status_code, sum(tickets), count(DISTINCT person) FROM {rows} GROUP BY status_code"
    )
    counts = {code: (int(n), int(w)) for code, n, w in query.fetchall(con)}
    found = [counts.get(code, (0, 0)) for code in range(len(STATUSES))]
    return pd.DataFrame(
        {
            "status": list(STATUSES),
            "label": [STATUS_LABELS[s] for s in STATUSES],
            "tickets": [n for n, _ in found],
            "workers": [w for _, w in found],
        }
    )


def team_table(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Counts per status and rates per team for the period, best compliant rate first."""
    frame = metrics.rates(con, as_of, by=("area", "team"), filters=filters)
    return frame.sort_values(
        ["compliant_rate", "decided", "team"], ascending=[False, False, True],
        na_position="last", ignore_index=True,
    )  # fmt: skip


def team_months(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Compliant rate per team and month over `heatmap_window`."""
    window = replace(filters, period=heatmap_window(as_of, filters))
    frame = metrics.rates(
        con, as_of, by=("month", "area", "team"), filters=window, working_days=False
    )
    return frame[
        ["month", "area", "team", "tickets", "decided", "compliant", "compliant_rate", "workers"]
    ]


def teams(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Bereich and name of the teams in the filter scope (any period), by Bereich and name."""
    scope = Filters(areas=filters.areas, teams=filters.teams)  # every worker's teams
    return (
        scope.tickets(as_of)
        .wrap("SELECT DISTINCT area, team FROM {rows} ORDER BY area DESC, team")
        .df(con)
    )


def _one_team(filters: Filters, team: str | None) -> Filters:
    # Narrow, never widen: filters that exclude the team (e.g. a viewer's) keep it out.
    if team is None:
        return filters
    allowed = not filters.teams or team in filters.teams
    return replace(filters, teams=(team,) if allowed else ("\x00none",))


WORKER_COLUMNS = [
    "team", "worker", "tickets", "decided", "on_time_rate", "compliant_rate", "breaches",
    "median_working_days", "p90_working_days", "open_tickets", "oldest_ticket_id",
    "oldest_receipt_date", "oldest_working_days_open",
    "callback_checked", "callback_rate", "walkin_checked", "walkin_rate",
    "tl_informed_checked", "tl_informed_rate",
]  # fmt: skip


@ordered_by("team", "worker")
def worker_table(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    team: str | None = None,
) -> pd.DataFrame:
    """Per worker (of `team`, if given): period rates, working days, oldest open, checks.

    Rates, working days and the A5–A7 check rates (empty checks not counted) are over the
    period's tickets. The oldest open ticket is the state at `as_of` whatever its month, so
    that a ticket forgotten for months is not hidden by the period (A1); a worker with open
    tickets but none in the period is listed with zero tickets.
    """
    scope = _one_team(filters, team)
    frame = metrics.rates(con, as_of, by=("team", "worker"), filters=scope)
    oldest = metrics.oldest_open(con, as_of, by="worker", filters=scope.without_period())
    oldest = oldest.rename(
        columns={
            "ticket_id": "oldest_ticket_id",
            "receipt_date": "oldest_receipt_date",
            "working_days_open": "oldest_working_days_open",
        }
    )
    keep = ["team", "worker", "open_tickets", "oldest_ticket_id", "oldest_receipt_date",
            "oldest_working_days_open"]  # fmt: skip
    merged = frame.merge(oldest[keep], on=["team", "worker"], how="outer")
    for column in ("tickets", "decided", "breaches", "open_tickets", "callback_checked",
                   "walkin_checked", "tl_informed_checked"):  # fmt: skip
        merged[column] = merged[column].fillna(0).astype("int64")
    return merged[WORKER_COLUMNS].sort_values(["team", "worker"], ignore_index=True)


def working_days_distribution(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    team: str | None = None,
) -> pd.DataFrame:
    """Completed tickets of the period per Bereich and number of working days taken."""
    return (
        _one_team(filters, team)
        .verdicts(as_of)
        .wrap(
            f"""
            SELECT area, working_days, count(*) AS tickets,
                   count(*) FILTER ({status_in(BREACHES)}) AS breaches
            FROM {{rows}}
            WHERE completion_date IS NOT NULL
            GROUP BY area, working_days
            ORDER BY area DESC, working_days
            """
        )
        .df(con)
    )
