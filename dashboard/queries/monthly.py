"""The figures of one month of due date: a ticket counts in the month it falls due (RULES.md).

The ticket measures have the signature of the domain queries, `fn(con, as_of, filters, *,
month)`, so the pages show them through `dashboard.serving.fetch`; the month's records
(conversations of A10, sample draws of B3) are read with the configuration. Records and
loads dated after the Stichtag do not count, like ticket events after it. No Streamlit here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import duckdb
import pandas as pd

from dashboard.core import records
from dashboard.core.config import AREAS, Config
from dashboard.core.months import add_months, month_start, months_between
from dashboard.core.rules import ANONYMOUS_WORKER, BREACHES, STATUS_LABELS
from dashboard.queries import metrics, overview
from dashboard.queries.filters import NO_FILTERS, Filters, status_in
from dashboard.queries.quality import KIND_LABELS
from dashboard.queries.samples import METHOD_CHOICES

TOTAL = "Gesamt"
EXTENDED = ("extended_kept", "extended_missed", "open_extended")
COUNT_COLUMNS = [
    "tickets", "decided", "on_time", "compliant", "breaches", "late", "extended_kept",
    "extended_missed", "overdue", "open", "open_extended", "extensions", "undecided",
]  # fmt: skip
RATE_COLUMNS = [*COUNT_COLUMNS, "on_time_rate", "compliant_rate", "median_working_days"]
CHECK_COLUMNS = [
    "tickets", "callback_checked", "callback_true", "callback_rate",
    "walkin_checked", "walkin_true", "walkin_rate",
    "tl_informed_checked", "tl_informed_true", "tl_informed_rate",
]  # fmt: skip


def scope_filters(filters: Filters) -> Filters:
    """The Bereich/team/worker scope of page filters: the report's month replaces the period."""
    return replace(filters, period=None, month_of="due")


def month_scope(filters: Filters, month: dt.date) -> Filters:
    """The filters narrowed to the tickets due in `month`."""
    start = month_start(month)
    return replace(filters, period=(start, start), month_of="due")


def _areas(filters: Filters) -> list[str]:
    return [a for a in AREAS if not filters.areas or a in filters.areas]


def _by_area_team(frame: pd.DataFrame, *more: str) -> pd.DataFrame:
    # Leistung before Integration, as on every page (area DESC), then by name.
    keys = ["area", "team", *more]
    return frame.sort_values(keys, ascending=[False] + [True] * (len(keys) - 1), ignore_index=True)


def _rates(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters, month: dt.date, by: tuple
) -> pd.DataFrame:
    frame = metrics.rates(con, as_of, month_scope(filters, month), by=by)
    frame["undecided"] = frame["open"] + frame["open_extended"]
    return frame[[*by, *RATE_COLUMNS, "workers"]]


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(status_label=frame["status"].map(STATUS_LABELS))


def summary(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS, *, month: dt.date
) -> pd.DataFrame:
    """Per Bereich and in total: tickets due in the month, decided, rates, breaches."""
    per_area = _rates(con, as_of, filters, month, ("area",))
    total = _rates(con, as_of, filters, month, ()).assign(area=TOTAL)
    # Every Bereich of the scope gets a row, also one without tickets this month.
    frame = pd.DataFrame({"area": _areas(filters)}).merge(per_area, on="area", how="left")
    frame = pd.concat([frame, total[frame.columns]], ignore_index=True)
    frame[COUNT_COLUMNS] = frame[COUNT_COLUMNS].fillna(0).astype("int64")
    return frame


def trend(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS, *, month: dt.date
) -> pd.DataFrame:
    """On-time and compliant rate per Bereich for the 12 months ending with the month.

    Every month and Bereich of the window has a row; rates are NaN where nothing was decided.
    """
    scope = month_scope(filters, month)
    frame = overview.trend(con, as_of, scope)  # the 12 months ending with the scope's month
    frame["month"] = frame["month"].astype("datetime64[us]")
    months = pd.to_datetime(months_between(*overview.trend_window(as_of, scope)))
    grid = pd.MultiIndex.from_product(
        [months.astype("datetime64[us]"), _areas(filters)], names=["month", "area"]
    ).to_frame(index=False)
    out = grid.merge(frame, on=["month", "area"], how="left")
    counts = ["tickets", "decided", "on_time", "compliant"]
    out[counts] = out[counts].fillna(0).astype("int64")
    return out


def teams(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS, *, month: dt.date
) -> pd.DataFrame:
    """Per team with tickets due in the month: counts per status and rates."""
    return _by_area_team(_rates(con, as_of, filters, month, ("area", "team")))


def workers(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS, *, month: dt.date
) -> pd.DataFrame:
    """Per worker (and team) with tickets due in the month: counts and rates.

    The filters decide whom it lists: restricted to a viewer, only what the viewer may see.
    """
    return _by_area_team(_rates(con, as_of, filters, month, ("area", "team", "worker")), "worker")


def breaches(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS, *, month: dt.date
) -> pd.DataFrame:
    """The breaches due in the month, by due date: late, commitment missed, overdue.

    `working_days` is W for completed tickets and, for open ones, the working days from
    receipt up to the Stichtag; `during_absence` marks a due date in an absence of the
    assignee (the handover failed, A4/A8).
    """
    query = month_scope(filters, month).verdicts(as_of)
    sql = f"""
        SELECT v.ticket_id, v.area, v.team, v.worker, v.receipt_date, v.due_date,
               CASE WHEN v.notice_valid THEN v.commitment_date END AS commitment_date,
               v.completion_date, v.status,
               coalesce(v.working_days, c.wd_index - v.r_index)::INTEGER AS working_days,
               EXISTS (SELECT 1 FROM absences a WHERE a.worker = v.worker
                       AND v.due_date BETWEEN a.date_from AND a.date_to) AS during_absence
        FROM {{rows}} v
        JOIN calendar c ON c.day = $as_of::DATE
        WHERE v.{status_in(BREACHES)}
        ORDER BY v.due_date, v.ticket_id
        """
    return _labelled(query.wrap(sql).df(con))


def extensions(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS, *, month: dt.date
) -> pd.DataFrame:
    """Per team: valid notices and whether the commitments were kept.

    `notices` = tickets with a valid notice (the rates' `extensions`) = `within_deadline`
    (done or still open within the deadline) + `extended_kept` + `extended_missed` +
    `open_extended`; `kept_rate` = kept / (kept + missed).
    """
    query = month_scope(filters, month).verdicts(as_of)
    frame = query.wrap(
        f"""
        SELECT area, team, count(*) AS tickets, count(*) FILTER (notice_valid) AS notices,
               count(*) FILTER (notice_valid AND {status_in(["on_time", "open"])})
                   AS within_deadline,
               count(*) FILTER ({status_in(["extended_kept"])}) AS extended_kept,
               count(*) FILTER ({status_in(["extended_missed"])}) AS extended_missed,
               count(*) FILTER ({status_in(["open_extended"])}) AS open_extended,
               count(DISTINCT person) AS workers
        FROM {{rows}}
        GROUP BY area, team
        """
    ).df(con)
    judged = frame["extended_kept"] + frame["extended_missed"]
    frame["kept_rate"] = frame["extended_kept"] / judged.where(judged > 0)
    return _by_area_team(frame)


def extended_tickets(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS, *, month: dt.date
) -> pd.DataFrame:
    """Tickets due in the month that ran past the deadline on a commitment, by due date."""
    query = month_scope(filters, month).verdicts(as_of)
    sql = f"""
        SELECT ticket_id, area, team, worker, receipt_date, due_date, notified_date,
               commitment_date, completion_date, status,
               CASE status WHEN 'extended_kept' THEN 'ja' WHEN 'extended_missed' THEN 'nein'
                    ELSE 'läuft noch' END AS kept
        FROM {{rows}}
        WHERE {status_in(EXTENDED)}
        ORDER BY due_date, ticket_id
        """
    return _labelled(query.wrap(sql).df(con))


def checks(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS, *, month: dt.date
) -> pd.DataFrame:
    """A5–A7 for Leistung (the checks are empty for Integration): per Bereich and team."""
    # A filter without Leistung leaves no ticket: a Bereich no ticket has.
    leistung = not filters.areas or "Leistung" in filters.areas
    scope = replace(month_scope(filters, month), areas=("Leistung" if leistung else "\x00none",))
    per_team = metrics.rates(con, as_of, scope, by=("area", "team"))
    if per_team.empty:
        return per_team[["area", "team", *CHECK_COLUMNS, "workers"]]
    total = metrics.rates(con, as_of, scope, by=("area",)).assign(team="Bereich gesamt")
    frame = pd.concat([total, _by_area_team(per_team)], ignore_index=True)
    return frame[["area", "team", *CHECK_COLUMNS, "workers"]]


def status_mix(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS, *, month: dt.date
) -> pd.DataFrame:
    """Tickets due in the month per status (all seven, in rule order) with the German label."""
    return overview.status_mix(con, as_of, month_scope(filters, month))


def repeat_cases(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    *,
    month: dt.date,
    threshold: int = 2,
) -> pd.DataFrame:
    """Workers whose breaches due in the month reach the threshold (A10), with the tickets."""
    frame = metrics.repeat_cases(con, as_of, month_scope(filters, month), threshold)
    return frame.assign(
        tickets=frame["ticket_ids"].map(", ".join),
        absence_tickets=frame["absence_ticket_ids"].map(", ".join),
    ).drop(columns=["ticket_ids", "absence_ticket_ids"])


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return column in {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}


def repeat_counts(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    *,
    month: dt.date,
    threshold: int = 2,
    cases: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per Bereich and in total: how many people are repeat cases (A10) in the month.

    A person counts in the Bereich where most of their breaches of the month lie; `workers`
    are the people with tickets due in the Bereich (for the small-cell rule). Counted
    over the scope's `person` column where the view has one (names hidden, e.g. for
    management), else over the names; where neither tells people apart the count is NaN.
    `cases` (the repeat cases with their conversations, for viewers who see people) adds
    how many conversations are still pending.
    """
    who = "person" if _has_column(con, "tickets", "person") else "worker"
    names_hidden = who == "worker" and cases is None
    frame = (
        month_scope(filters, month)
        .verdicts(as_of)
        .wrap(
            f"""
        WITH month AS (SELECT * FROM {{rows}} WHERE worker <> $anonymous AND {who} IS NOT NULL),
        people AS (
            SELECT {who} AS who, mode(area) AS area FROM month
            WHERE {status_in(BREACHES)}
            GROUP BY ALL HAVING count(*) >= $threshold
        ),
        staff AS (SELECT area, count(DISTINCT {who}) AS workers FROM month GROUP BY area)
        SELECT s.area, coalesce(p.cases, 0) AS cases, s.workers
        FROM staff s LEFT JOIN (SELECT area, count(*) AS cases FROM people GROUP BY area) p
            USING (area)
        """,
            threshold=threshold,
            anonymous=ANONYMOUS_WORKER,
        )
        .df(con)
    )
    out = pd.DataFrame({"area": _areas(filters)}).merge(frame, on="area", how="left")
    out[["cases", "workers"]] = out[["cases", "workers"]].fillna(0).astype("int64")
    # `workers`: the people of the Bereich in the month, the cell the small-cell rule judges
    total = {"area": [TOTAL], "cases": [int(out["cases"].sum())],
             "workers": [int(out["workers"].sum())]}  # fmt: skip
    out = pd.concat([out, pd.DataFrame(total)], ignore_index=True)
    if names_hidden:
        out["cases"] = float("nan")
    out["pending"] = (
        int((cases["conversation"] == "ausstehend").sum()) if cases is not None else float("nan")
    )
    out.loc[out["area"] != TOTAL, "pending"] = float("nan")
    return out.assign(threshold=threshold)


def loads(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS, *, month: dt.date
) -> pd.DataFrame:
    """Loads started in the month (up to the Stichtag) with reconciliation and rejects.

    Loads are not tickets: the Bereich, team and worker filters do not apply.
    """
    start = month_start(month)
    frame = con.execute(
        """
        SELECT l.load_id, l.file_name, l.kind, l.started_at, l.finished_at, l.encoding,
               l.rows_read, l.rows_loaded, l.rows_rejected, l.rows_duplicate,
               l.records_new, l.records_replaced,
               l.rows_read = l.rows_loaded + l.rows_rejected + l.rows_duplicate AS reconciled,
               coalesce(r.rejects, 0) AS rejects
        FROM load_log l
        LEFT JOIN (SELECT load_id, count(*) AS rejects FROM rejects GROUP BY load_id) r
            USING (load_id)
        WHERE l.started_at >= $start::TIMESTAMP AND l.started_at < $next::TIMESTAMP
          AND l.started_at::DATE <= $as_of::DATE
        ORDER BY l.load_id
        """,
        {"start": start, "next": add_months(start, 1), "as_of": as_of},
    ).df()
    return frame.assign(kind_label=frame["kind"].map(KIND_LABELS))


def _records(config: Config, sql: str, params: dict, columns: list[str]) -> pd.DataFrame:
    # No records database yet means nothing recorded; a report must not create the file.
    if not records.exists(config):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return records.query(config, sql, params)


def conversations(config: Config, as_of: dt.date, *, month: dt.date) -> pd.DataFrame:
    """Per worker: the last conversation held (A10) for the month, up to the Stichtag."""
    sql = """
        SELECT worker, max(held_on) AS held_on FROM conversations
        WHERE date_trunc('month', month)::DATE = $month::DATE AND held_on <= $as_of::DATE
        GROUP BY worker ORDER BY worker
        """
    return _records(
        config, sql, {"month": month_start(month), "as_of": as_of}, ["worker", "held_on"]
    )


# Plain SQL that DuckDB and PostgreSQL both run: the records may be in either.
SAMPLES_SQL = """
WITH draws AS (
    SELECT * FROM sample_draws
    WHERE $in_scope AND drawn_at::DATE <= $as_of::DATE
      AND (drawn_at::DATE BETWEEN $m_from::DATE AND $m_to::DATE
           OR (period_from <= $m_to::DATE AND period_to >= $m_from::DATE))
),
items AS (
    SELECT i.draw_id, i.ticket_id FROM sample_items i
    WHERE i.draw_id IN (SELECT draw_id FROM draws)
      AND ($all_teams OR i.team IN (SELECT unnest($teams::VARCHAR[])))
      AND ($all_workers OR i.worker IN (SELECT unnest($workers::VARCHAR[])))
),
latest AS (
    SELECT draw_id, ticket_id, result FROM (
        SELECT draw_id, ticket_id, result,
               row_number() OVER (PARTITION BY draw_id, ticket_id
                                  ORDER BY checked_at DESC, id DESC) AS newest
        FROM sample_results WHERE checked_at::DATE <= $as_of::DATE
    ) ranked
    WHERE newest = 1
)
SELECT d.draw_id, d.sample_no, d.drawn_at, d.drawn_by, d.period_from, d.period_to,
       coalesce(nullif(array_to_string(d.teams, ', '), ''), 'alle Integration-Teams') AS teams,
       d.method, d.amount, d.seed, d.population,
       count(i.ticket_id) AS items,
       count(l.result) AS checked,
       count(*) FILTER (WHERE l.result = 'bestätigt') AS confirmed,
       count(*) FILTER (WHERE l.result = 'nicht bestätigt') AS not_confirmed,
       count(i.ticket_id) - count(l.result) AS unchecked
FROM draws d
LEFT JOIN items i ON i.draw_id = d.draw_id
LEFT JOIN latest l ON l.draw_id = i.draw_id AND l.ticket_id = i.ticket_id
GROUP BY d.draw_id, d.sample_no, d.drawn_at, d.drawn_by, d.period_from, d.period_to, d.teams,
         d.method, d.amount, d.seed, d.population
HAVING $unscoped OR count(i.ticket_id) > 0
ORDER BY d.drawn_at, d.draw_id
"""
SAMPLE_COLUMNS = [
    "draw_id", "sample_no", "drawn_at", "drawn_by", "period_from", "period_to", "teams", "method",
    "amount", "seed", "population", "items", "checked", "confirmed", "not_confirmed", "unchecked",
]  # fmt: skip
METHOD_LABELS = {method: label for label, method in METHOD_CHOICES.items()}


def samples(
    config: Config, as_of: dt.date, filters: Filters = NO_FILTERS, *, month: dt.date
) -> pd.DataFrame:
    """Sample draws of the month (drawn in it, or a period overlapping it) and their results.

    Only draws and results recorded up to the Stichtag count; the latest result of a ticket
    counts. With a team or worker filter, only the sampled tickets of the scope are counted
    and draws without any of them are left out.
    """
    start = month_start(month)
    params = {
        "in_scope": not filters.areas or "Integration" in filters.areas,
        "as_of": as_of,
        "m_from": start,
        "m_to": add_months(start, 1) - dt.timedelta(days=1),
        "teams": list(filters.teams),
        "all_teams": not filters.teams,
        "workers": list(filters.workers),
        "all_workers": not filters.workers,
        "unscoped": not (filters.teams or filters.workers),
    }
    frame = _records(config, SAMPLES_SQL, params, SAMPLE_COLUMNS)
    return frame.assign(method_label=frame["method"].map(METHOD_LABELS))
