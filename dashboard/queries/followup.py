"""The Wiedervorlage: open tickets with a traffic light per due date, per responsible person.

A follow-up list shows everything still open at the Stichtag, whatever month it is due in,
so the period filter is dropped here; Bereich, team and worker filters stay. The open
tickets and who has them on the list (the substitute while the assignee is absent, A4/A8)
come from `metrics.open_tickets`; this module adds the traffic light, computed in SQL
against the working-day calendar.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import duckdb
import pandas as pd

from dashboard.core.rules import STATUS_LABELS
from dashboard.core.storage import registered_frame
from dashboard.queries import metrics
from dashboard.queries.filters import NO_FILTERS, Filters, ordered_by

# Light codes in the order of urgency; the page colours and the legend follow this order.
LIGHT_LABELS = {
    "overdue": "überfällig",
    "today": "heute fällig",
    "next_workday": "morgen fällig",
    "extended": "verlängert",
    "later": "später",
}

# German headers of the download, in this order (dates stay dates: TT.MM.JJJJ on export).
EXPORT_COLUMNS = {
    "light_label": "Ampel",
    "ticket_id": "Ticket-ID",
    "due_date": "Fällig am",
    "commitment_date": "Zusage bis",
    "status_label": "Status",
    "responsible": "Zuständig",
    "substitute_for": "Vertretung für",
    "worker": "Bearbeiter",
    "area": "Bereich",
    "team": "Team",
    "receipt_date": "Eingang",
    "working_days_open": "Arbeitstage offen",
    "missing_notice": "Hinweis fehlt",
    "missing_verbis": "VerBIS-Vermerk fehlt",
    "missing_callback": "Rückruf fehlt",
}


MISSING_COLUMNS = ("missing_notice", "missing_verbis", "missing_callback")


def _open_scope(filters: Filters) -> Filters:
    # Everything open belongs on the list, whichever month it is due in; a person's list
    # also holds the tickets they cover for an absent colleague (A4).
    return replace(filters, period=None, covered=True)


def followup_list(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """One row per ticket open at `as_of` with its responsible person and traffic light."""
    open_frame = metrics.open_tickets(con, as_of, _open_scope(filters))
    with registered_frame(con, open_frame) as name:
        return con.execute(
            f"""
            WITH s AS (
                -- the next working day strictly after S, whether or not S is one
                SELECT c.day AS as_of, n.day AS next_workday
                FROM calendar c JOIN workdays n ON n.wd_index = c.wd_index + 1
                WHERE c.day = $as_of::DATE
            ),
            lit AS (
                SELECT o.*,
                       CASE
                           WHEN o.status IN ('overdue', 'extended_missed') THEN 'overdue'
                           WHEN o.status = 'open_extended' THEN 'extended'
                           WHEN o.due_date::DATE = s.as_of THEN 'today'
                           WHEN o.due_date::DATE = s.next_workday THEN 'next_workday'
                           ELSE 'later'
                       END AS light
                FROM {name} o CROSS JOIN s
            )
            SELECT ticket_id, area, team, worker, responsible,
                   CASE WHEN substitute IS NOT NULL THEN worker END AS substitute_for,
                   receipt_date::DATE AS receipt_date,
                   due_date::DATE AS due_date,
                   -- only a valid notice's commitment moves the deadline (RULES.md A3)
                   CASE WHEN notice_valid THEN commitment_date::DATE END AS commitment_date,
                   status,
                   light,
                   CASE light
                       WHEN 'overdue' THEN 'überfällig'
                       WHEN 'today' THEN 'heute fällig'
                       WHEN 'next_workday' THEN 'morgen fällig'
                       WHEN 'extended' THEN
                           'verlängert bis ' || strftime(commitment_date::DATE, '%d.%m.%Y')
                       ELSE 'später'
                   END AS light_label,
                   working_days_open::INTEGER AS working_days_open,
                   calendar_days_open::INTEGER AS calendar_days_open,
                   -- what the worker still has to do (RULES.md A3, A5): a customer notice
                   -- once the deadline is at hand, the VerBIS note of a notice given, the
                   -- callback an Anliegen of Rückruf or Termin asks for
                   notified_date IS NULL AND light IN ('overdue', 'today', 'next_workday')
                       AS missing_notice,
                   notified_date IS NOT NULL AND NOT verbis_note AS missing_verbis,
                   area = 'Leistung' AND concern IN ('Rückruf', 'Termin')
                       AND callback_date IS NULL AS missing_callback
            FROM lit
            ORDER BY due_date, ticket_id
            """,
            {"as_of": as_of},
        ).df()


def by_responsible(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Per responsible person: open tickets per light and the oldest open ticket (A1)."""
    frame = followup_list(con, as_of, filters)
    with registered_frame(con, frame) as name:
        return con.execute(
            f"""
            SELECT responsible,
                   count(*) AS tickets,
                   count(*) FILTER (light = 'overdue') AS overdue,
                   count(*) FILTER (light = 'today') AS today,
                   count(*) FILTER (light = 'next_workday') AS next_workday,
                   count(*) FILTER (light = 'extended') AS extended,
                   count(*) FILTER (light = 'later') AS later,
                   count(substitute_for) AS as_substitute,
                   -- oldest = earliest receipt; the ID breaks ties so the answer is stable
                   arg_min(ticket_id, (receipt_date, ticket_id)) AS oldest_ticket,
                   min(receipt_date)::DATE AS oldest_receipt,
                   max(working_days_open)::INTEGER AS oldest_working_days,
                   min(due_date)::DATE AS first_due
            FROM {name}
            GROUP BY responsible
            ORDER BY responsible
            """
        ).df()


def summary(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """One row: open tickets per light, and the next working day after `as_of`."""
    people = by_responsible(con, as_of, filters)
    counts = ["tickets", "overdue", "today", "next_workday", "extended", "later", "as_substitute"]
    totals = {c: int(people[c].sum()) for c in counts}
    next_workday = con.execute(
        "SELECT n.day FROM calendar c JOIN workdays n ON n.wd_index = c.wd_index + 1 "
        "WHERE c.day = $as_of::DATE",
        {"as_of": as_of},
    ).fetchall()[0][0]
    # next_workday is the date; the count of tickets due then is next_workday_due
    totals["next_workday_due"] = totals.pop("next_workday")
    # same column types as a DuckDB result: dates as datetime64
    return pd.DataFrame(
        [{"as_of": pd.Timestamp(as_of), "next_workday": pd.Timestamp(next_workday), **totals}]
    )


# Working days ahead within which a starting absence is warned about (RULES.md Absences).
WARNING_WORKDAYS = 5
WARNING_KINDS = ("no_substitute", "due_in_absence")


@ordered_by("date_from", "worker", "kind")
def absence_warnings(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Absences the TL must act on now, with the assignee's open tickets concerned.

    `no_substitute`: an absence running at S, or starting within the next 5 working days,
    names no substitute while the worker has open tickets. `due_in_absence`: an absence
    starts within the next 5 working days (after S) and open tickets of the worker fall due
    in it. One row per absence and kind.
    """
    open_rows = replace(filters, period=None).verdicts(as_of)
    return open_rows.wrap(
        f"""
        WITH horizon AS (
            SELECT w.day AS last_day FROM calendar c
            JOIN workdays w ON w.wd_index = c.wd_index + {WARNING_WORKDAYS}
            WHERE c.day = $as_of::DATE
        ),
        open AS (SELECT ticket_id, team, worker, due_date FROM {{rows}}
                 WHERE completion_date IS NULL),
        ab AS (
            SELECT DISTINCT a.worker, a.date_from, a.date_to, a.substitute
            FROM absences a CROSS JOIN horizon h
            WHERE a.date_to >= $as_of::DATE AND a.date_from <= h.last_day
        ),
        hits AS (
            SELECT 'no_substitute' AS kind, a.*, o.ticket_id, o.team, o.due_date
            FROM ab a JOIN open o ON o.worker = a.worker
            WHERE a.substitute IS NULL
            UNION ALL
            SELECT 'due_in_absence', a.*, o.ticket_id, o.team, o.due_date
            FROM ab a JOIN open o ON o.worker = a.worker
                AND o.due_date BETWEEN a.date_from AND a.date_to
            WHERE a.date_from > $as_of::DATE
        )
        SELECT kind, worker, string_agg(DISTINCT team, ', ' ORDER BY team) AS team,
               date_from::DATE AS date_from, date_to::DATE AS date_to, substitute,
               count(*) AS open_tickets,
               list(ticket_id ORDER BY due_date, ticket_id) AS ticket_ids
        FROM hits
        GROUP BY kind, worker, date_from, date_to, substitute
        ORDER BY date_from, worker, kind
        """
    ).df(con)


def warning_text(row: pd.Series) -> str:
    """The German sentence of one absence warning."""
    span = f"{pd.Timestamp(row['date_from']):%d.%m.%Y}–{pd.Timestamp(row['date_to']):%d.%m.%Y}"
    n = int(row["open_tickets"])
    tickets = "1 offenes Ticket" if n == 1 else f"{n} offene Tickets"
    if row["kind"] == "no_substitute":
        return (
            f"{row['worker']} ist {span} abwesend, ohne benannte Vertretung, und hat "
            f"{tickets}: bitte eine Vertretung bestimmen (A4)."
        )
    due = "wird" if n == 1 else "werden"
    return (
        f"{row['worker']} ist ab {pd.Timestamp(row['date_from']):%d.%m.%Y} abwesend ({span}); "
        f"{tickets} {due} in der Abwesenheit fällig: bitte Übergabe klären (A4)."
    )


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The follow-up list with German headers and labels, for CSV and Excel downloads."""
    out = frame.assign(
        status_label=frame["status"].map(STATUS_LABELS),
        **{c: frame[c].map({True: "fehlt", False: ""}) for c in MISSING_COLUMNS},
    )
    return out[list(EXPORT_COLUMNS)].rename(columns=EXPORT_COLUMNS)
