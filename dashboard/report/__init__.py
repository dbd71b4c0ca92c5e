"""The monthly report (Monatsbericht): its figures, the Excel workbook and the printable PDF.

A report covers the tickets due in one month (tickets count in the month of their due date,
RULES.md) as of a reference date (Stichtag). The query functions below have the signature of
the domain queries, `fn(con, as_of, filters, *, month)`, so the page can show them through
`dashboard.serving.fetch`; `build` collects all of them plus the dashboard's own records
(conversations of A10, sample draws of B3) into a `Report`, which `write_xlsx` and
`write_pdf` turn into files. No Streamlit here: the CLI (`dashboard.cli.report`) and the
tests use exactly these functions.

Reproducibility: every figure depends only on the data, the month, the Stichtag and the
filters. Records and loads dated after the Stichtag do not count (like ticket events after
it), and the file's creation date is the `generated_at` passed in, so the same month and
Stichtag always give the same workbook and PDF apart from that timestamp.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import BinaryIO

import duckdb
import pandas as pd

from dashboard.access import privacy
from dashboard.access.scope import OPERATOR, Scope
from dashboard.access.viewer import Viewer, restrict, sees_workers
from dashboard.core import format, records
from dashboard.core.config import AREAS, Config
from dashboard.core.labels import AREA_COLORS, STATUS_COLORS
from dashboard.core.months import MONTHS_DE, add_months, month_count, month_label, month_start
from dashboard.core.rules import BREACHES, STATUS_LABELS, STATUSES
from dashboard.queries import metrics, overview
from dashboard.queries.filters import Filters, status_in
from dashboard.queries.quality import KIND_LABELS

ALL = Filters()  # no restriction
TOTAL = "Gesamt"
TREND_MONTHS = 12
EXTENDED = ("extended_kept", "extended_missed", "open_extended")


class ReportError(Exception):
    """A report that cannot be made as asked; the message says why in German."""


# ---------------------------------------------------------------------------------------
# Months


def parse_month(text: str) -> dt.date:
    """'2026-03' -> date(2026, 3, 1); a German ValueError for anything else."""
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ValueError(f"kein Monat im Format JJJJ-MM: {text!r}") from None


def default_month(as_of: dt.date) -> dt.date:
    """The month a report is usually made for: the one before the Stichtag's month."""
    return add_months(month_start(as_of), -1)


def month_options(first_receipt: dt.date | None, as_of: dt.date) -> list[dt.date]:
    """The months a report can be made for, newest first: from the first receipt to the Stichtag."""
    last = month_start(as_of)
    first = min(month_start(first_receipt) if first_receipt else last, default_month(as_of))
    count = month_count((first, last))
    return [add_months(last, -i) for i in range(count)]


def scope_filters(filters: Filters) -> Filters:
    """The Bereich/team/worker scope of page filters: the report's month replaces the period."""
    return replace(filters, period=None, month_of="due")


def month_scope(filters: Filters, month: dt.date) -> Filters:
    """The filters narrowed to the tickets due in `month` (the report counts by due date)."""
    start = month_start(month)
    return replace(filters, period=(start, start), month_of="due")


def _areas(filters: Filters) -> list[str]:
    return [a for a in AREAS if not filters.areas or a in filters.areas]


def _by_area_team(frame: pd.DataFrame, *more: str) -> pd.DataFrame:
    # Leistung before Integration, as on every page (area DESC), then by name.
    keys = ["area", "team", *more]
    return frame.sort_values(keys, ascending=[False] + [True] * (len(keys) - 1), ignore_index=True)


def _with_undecided(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(undecided=frame["open"] + frame["open_extended"])


# ---------------------------------------------------------------------------------------
# Figures of the tickets database (fetch signature)

COUNT_COLUMNS = [
    "tickets", "decided", "on_time", "compliant", "breaches", "late", "extended_kept",
    "extended_missed", "overdue", "open", "open_extended", "extensions",
]  # fmt: skip
RATE_COLUMNS = [
    *COUNT_COLUMNS, "on_time_rate", "compliant_rate", "median_working_days", "undecided",
]  # fmt: skip


def summary(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = ALL, *, month: dt.date
) -> pd.DataFrame:
    """Per Bereich and in total: tickets due in the month, decided, rates, breaches."""
    scope = month_scope(filters, month)
    per_area = metrics.rates(con, as_of, scope, by=("area",))
    # Every Bereich of the scope gets a row, also one without tickets this month.
    frame = pd.DataFrame({"area": _areas(filters)}).merge(per_area, on="area", how="left")
    total = metrics.rates(con, as_of, scope, by=()).assign(area=TOTAL)
    frame = pd.concat([frame, total], ignore_index=True)
    frame[COUNT_COLUMNS] = frame[COUNT_COLUMNS].fillna(0).astype("int64")
    return _with_undecided(frame)[["area", *RATE_COLUMNS]]


def trend(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = ALL, *, month: dt.date
) -> pd.DataFrame:
    """On-time and compliant rate per Bereich for the 12 months ending with the month.

    Every month and Bereich of the window has a row; rates are NaN where nothing was decided.
    """
    last = month_start(month)
    first = add_months(last, -(TREND_MONTHS - 1))
    scope = replace(filters, period=(first, last), month_of="due")
    frame = metrics.rates(con, as_of, scope, by=("month", "area"))
    months = [add_months(first, i) for i in range(TREND_MONTHS)]
    grid = pd.MultiIndex.from_product(
        [pd.to_datetime(months), _areas(filters)], names=["month", "area"]
    ).to_frame(index=False)
    grid["month"] = grid["month"].astype("datetime64[us]")
    frame["month"] = frame["month"].astype("datetime64[us]")
    columns = ["tickets", "decided", "on_time", "compliant", "on_time_rate", "compliant_rate"]
    out = grid.merge(frame[["month", "area", *columns]], on=["month", "area"], how="left")
    out[columns[:4]] = out[columns[:4]].fillna(0).astype("int64")
    return out


def teams(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = ALL, *, month: dt.date
) -> pd.DataFrame:
    """Per team with tickets due in the month: counts per status and rates."""
    frame = metrics.rates(con, as_of, month_scope(filters, month), by=("area", "team"))
    return _by_area_team(_with_undecided(frame)[["area", "team", *RATE_COLUMNS]])


def workers(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = ALL, *, month: dt.date
) -> pd.DataFrame:
    """Per worker (and team) with tickets due in the month: counts and rates.

    The filters decide whom it lists: restricted to a viewer, only what the viewer may see.
    """
    frame = metrics.rates(con, as_of, month_scope(filters, month), by=("area", "team", "worker"))
    return _by_area_team(
        _with_undecided(frame)[["area", "team", "worker", *RATE_COLUMNS]], "worker"
    )


def breaches(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = ALL, *, month: dt.date
) -> pd.DataFrame:
    """The breaches due in the month, by due date: late, commitment missed, overdue.

    `working_days` is W for completed tickets and, for open ones, the working days from
    receipt up to the Stichtag; `during_absence` marks a due date in an absence of the
    assignee (the handover failed, A4/A8).
    """
    frame = (
        month_scope(filters, month)
        .verdicts(as_of)
        .wrap(
            f"""
        SELECT v.ticket_id, v.area, v.team, v.worker, v.receipt_date, v.due_date,
               CASE WHEN v.notice_valid THEN v.commitment_date END AS commitment_date,
               v.completion_date, v.status,
               coalesce(v.working_days, c.wd_index - v.r_index)::INTEGER AS working_days,
               v.completion_date IS NULL AS still_open,
               EXISTS (SELECT 1 FROM absences a WHERE a.worker = v.worker
                       AND v.due_date BETWEEN a.date_from AND a.date_to) AS during_absence
        FROM {{rows}} v
        JOIN calendar c ON c.day = $as_of::DATE
        WHERE v.{status_in(BREACHES)}
        ORDER BY v.due_date, v.ticket_id
        """
        )
        .df(con)
    )
    return frame.assign(status_label=frame["status"].map(STATUS_LABELS))


def extensions(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = ALL, *, month: dt.date
) -> pd.DataFrame:
    """Per team: valid notices and whether the commitments were kept.

    `notices` = tickets with a valid notice (the rates' `extensions`) = `within_deadline`
    (done or still open within the deadline) + `extended_kept` + `extended_missed` +
    `open_extended`; `kept_rate` = kept / (kept + missed).
    """
    query = month_scope(filters, month).verdicts(as_of)
    frame = query.wrap(
        """
        SELECT area, team,
               count(*) AS tickets,
               count(*) FILTER (notice_valid) AS notices,
               count(*) FILTER (notice_valid AND status IN ('on_time', 'open'))
                   AS within_deadline,
               count(*) FILTER (status = 'extended_kept') AS extended_kept,
               count(*) FILTER (status = 'extended_missed') AS extended_missed,
               count(*) FILTER (status = 'open_extended') AS open_extended
        FROM {rows}
        GROUP BY area, team
        """
    ).df(con)
    judged = frame["extended_kept"] + frame["extended_missed"]
    frame["kept_rate"] = frame["extended_kept"] / judged.where(judged > 0)
    return _by_area_team(frame)


def extended_tickets(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = ALL, *, month: dt.date
) -> pd.DataFrame:
    """Tickets due in the month that ran past the deadline on a commitment, by due date."""
    query = month_scope(filters, month).verdicts(as_of)
    frame = query.wrap(
        f"""
        SELECT ticket_id, area, team, worker, receipt_date, due_date, notified_date,
               commitment_date, completion_date, status,
               CASE status WHEN 'extended_kept' THEN 'ja' WHEN 'extended_missed' THEN 'nein'
                    ELSE 'läuft noch' END AS kept
        FROM {{rows}}
        WHERE {status_in(EXTENDED)}
        ORDER BY due_date, ticket_id
        """
    ).df(con)
    return frame.assign(status_label=frame["status"].map(STATUS_LABELS))


def checks(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = ALL, *, month: dt.date
) -> pd.DataFrame:
    """A5–A7 for Leistung (the checks are empty for Integration): per Bereich and team."""
    if filters.areas and "Leistung" not in filters.areas:
        scope = replace(month_scope(filters, month), areas=("\x00none",))
    else:
        scope = replace(month_scope(filters, month), areas=("Leistung",))
    columns = [
        "tickets", "callback_checked", "callback_true", "callback_rate",
        "walkin_checked", "walkin_true", "walkin_rate",
        "tl_informed_checked", "tl_informed_true", "tl_informed_rate",
    ]  # fmt: skip
    per_team = metrics.rates(con, as_of, scope, by=("area", "team"))
    if per_team.empty:
        return per_team[["area", "team", *columns]]
    total = metrics.rates(con, as_of, scope, by=("area",)).assign(team="Bereich gesamt")
    frame = pd.concat([total, _by_area_team(per_team)], ignore_index=True)
    return frame[["area", "team", *columns]]


def status_mix(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = ALL, *, month: dt.date
) -> pd.DataFrame:
    """Tickets due in the month per status (all seven, in rule order) with the German label."""
    return overview.status_mix(con, as_of, month_scope(filters, month))


def repeat_cases(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = ALL,
    *,
    month: dt.date,
    threshold: int = 2,
) -> pd.DataFrame:
    """Workers whose breaches due in the month reach the threshold (A10), with the tickets."""
    frame = metrics.repeat_cases(con, as_of, month_scope(filters, month), threshold)
    return frame.assign(tickets=frame["ticket_ids"].map(", ".join)).drop(columns="ticket_ids")


def loads(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters = ALL, *, month: dt.date
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


# ---------------------------------------------------------------------------------------
# Figures of the records database (conversations, samples)

CONVERSATION_COLUMNS = ["worker", "held_on"]
SAMPLE_COLUMNS = [
    "draw_id", "drawn_at", "drawn_by", "period_from", "period_to", "teams", "method",
    "method_label", "amount", "seed", "population", "items", "checked", "confirmed",
    "not_confirmed", "unchecked",
]  # fmt: skip


def _records(config: Config, sql: str, params: dict, columns: list[str]) -> pd.DataFrame:
    # No records database yet means nothing recorded; a report must not create the file.
    if not config.app_database.exists():
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return records.query(config, sql, params)


def conversations(config: Config, as_of: dt.date, *, month: dt.date) -> pd.DataFrame:
    """Per worker: the last conversation held (A10) for the month, up to the Stichtag."""
    return _records(
        config,
        """
        SELECT worker, max(held_on) AS held_on FROM conversations
        WHERE date_trunc('month', month)::DATE = $month::DATE AND held_on <= $as_of::DATE
        GROUP BY worker ORDER BY worker
        """,
        {"month": month_start(month), "as_of": as_of},
        CONVERSATION_COLUMNS,
    )


def repeat_conversations(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    as_of: dt.date,
    filters: Filters = ALL,
    *,
    month: dt.date,
    limits: Scope | None = None,
) -> pd.DataFrame:
    """Repeat cases of the month with the date of the conversation held, or 'ausstehend'.

    `limits` narrows the recorded conversations to a viewer's scope (names as stored, like
    the cases; `build` turns all names into what the viewer sees at the end).
    """
    cases = repeat_cases(con, as_of, filters, month=month, threshold=config.rules.repeat_threshold)
    held = conversations(config, as_of, month=month)
    if limits is not None:
        held = limits.rows(held)
    held["held_on"] = pd.to_datetime(held["held_on"]).astype("datetime64[us]")
    frame = cases.merge(held, on="worker", how="left")
    frame["conversation"] = frame["held_on"].dt.strftime("%d.%m.%Y").fillna("ausstehend")
    return frame


def samples(
    config: Config, as_of: dt.date, filters: Filters = ALL, *, month: dt.date
) -> pd.DataFrame:
    """Sample draws of the month (drawn in it, or a period overlapping it) and their results.

    Only draws and results recorded up to the Stichtag count; the latest result of a ticket
    counts. With a team or worker filter, only the sampled tickets of the scope are counted
    and draws without any of them are left out.
    """
    start = month_start(month)
    end = add_months(start, 1) - dt.timedelta(days=1)
    in_scope = not filters.areas or "Integration" in filters.areas
    return _records(
        config,
        """
        WITH draws AS (
            SELECT * FROM sample_draws
            WHERE $in_scope AND drawn_at::DATE <= $as_of::DATE
              AND (drawn_at::DATE BETWEEN $m_from::DATE AND $m_to::DATE
                   OR (period_from <= $m_to::DATE AND period_to >= $m_from::DATE))
        ),
        items AS (
            SELECT i.draw_id, i.ticket_id FROM sample_items i SEMI JOIN draws USING (draw_id)
            WHERE (len($teams) = 0 OR list_contains($teams, i.team))
              AND (len($workers) = 0 OR list_contains($workers, i.worker))
        ),
        latest AS (
            SELECT draw_id, ticket_id, arg_max(result, (checked_at, id)) AS result
            FROM sample_results WHERE checked_at::DATE <= $as_of::DATE
            GROUP BY draw_id, ticket_id
        )
        SELECT d.draw_id, d.drawn_at, d.drawn_by, d.period_from, d.period_to,
               CASE WHEN len(d.teams) = 0 THEN 'alle Integration-Teams'
                    ELSE array_to_string(d.teams, ', ') END AS teams,
               d.method,
               CASE d.method WHEN 'per_worker' THEN 'je Mitarbeiter/in'
                    WHEN 'size' THEN 'Gesamtzahl' WHEN 'percent' THEN 'Prozent'
                    ELSE d.method END AS method_label,
               d.amount, d.seed, d.population,
               count(i.ticket_id) AS items,
               count(l.result) AS checked,
               count(*) FILTER (l.result = 'bestätigt') AS confirmed,
               count(*) FILTER (l.result = 'nicht bestätigt') AS not_confirmed,
               count(i.ticket_id) - count(l.result) AS unchecked
        FROM draws d
        LEFT JOIN items i USING (draw_id)
        LEFT JOIN latest l ON l.draw_id = i.draw_id AND l.ticket_id = i.ticket_id
        GROUP BY ALL
        HAVING $unscoped OR count(i.ticket_id) > 0
        ORDER BY d.drawn_at, d.draw_id
        """,
        {
            "in_scope": in_scope,
            "as_of": as_of,
            "m_from": start,
            "m_to": end,
            "teams": list(filters.teams),
            "workers": list(filters.workers),
            "unscoped": not (filters.teams or filters.workers),
        },
        SAMPLE_COLUMNS,
    )


def records_version(config: Config) -> tuple:
    """Identity of the records database files: changes when something was recorded."""
    out = []
    for path in (config.app_database, Path(f"{config.app_database}.wal")):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            out.append(None)
        else:
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(out)


# ---------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True, eq=False)
class Report:
    """All figures of one monthly report."""

    month: dt.date
    as_of: dt.date
    filters: Filters
    rules: pd.DataFrame  # label, value: the rules the figures were computed with
    summary: pd.DataFrame
    trend: pd.DataFrame
    teams: pd.DataFrame
    workers: pd.DataFrame | None  # None: not for this viewer (no worker-level figures)
    breaches: pd.DataFrame | None
    extensions: pd.DataFrame
    extended_tickets: pd.DataFrame | None
    checks: pd.DataFrame
    repeat_cases: pd.DataFrame | None
    samples: pd.DataFrame
    loads: pd.DataFrame
    status_mix: pd.DataFrame

    @property
    def title(self) -> str:
        """'Monatsbericht März 2026'."""
        return f"Monatsbericht {month_label(self.month)}"

    @property
    def subtitle(self) -> str:
        """Month, Stichtag and selection in one line."""
        return (
            f"Tickets fällig im {month_label(self.month)} · Stichtag "
            f"{format.date(self.as_of)} · {scope_label(self.filters)}"
        )


def scope_label(filters: Filters) -> str:
    """The selection in words: 'alle Bereiche, alle Teams'."""
    # viewer.restrict narrows to a team name no ticket has ("\x00none") when nothing is left
    teams = [t for t in filters.teams if not t.startswith("\x00")]
    parts = [
        f"Bereich {', '.join(filters.areas)}" if filters.areas else "alle Bereiche",
        f"Teams {', '.join(teams) or 'keine'}" if filters.teams else "alle Teams",
    ]
    if filters.workers:
        parts.append(f"Bearbeiter/in {', '.join(filters.workers)}")
    return ", ".join(parts)


def rules_table(config: Config, month: dt.date, as_of: dt.date, filters: Filters) -> pd.DataFrame:
    """The rules and settings the report was computed with, as label/value rows."""
    closing = ", ".join(config.calendar.closing_days) or "keine"
    threshold = config.rules.repeat_threshold
    rows: list[tuple[str, object]] = [
        ("Berichtsmonat", month_label(month)),
        ("Stichtag", as_of),
        ("Zuordnung zum Monat", "Monat nach Fälligkeit: ein Ticket zählt im Monat seines "
                                "Fälligkeitsdatums"),
        ("Auswahl", scope_label(filters)),
        *[(f"Frist {area} ({'A2' if area == 'Leistung' else 'B1'})",
           f"{config.deadline(area)} Arbeitstage nach Eingang") for area in AREAS],
        ("Arbeitstage", "Montag bis Freitag ohne Feiertage und Schließtage; der Eingangstag "
                        "zählt nicht mit"),
        ("Feiertage", f"gesetzliche Feiertage des Bundeslandes {config.calendar.holiday_state}"),
        ("Schließtage", f"{closing} (TT.MM. = jedes Jahr)"),
        ("Fristende", "Ende des Fälligkeitstages: am Fälligkeitstag erledigt ist fristgerecht"),
        ("Gültige Zusage (A3, B2)", "Kunde bis zum Fälligkeitstag informiert, Zusage-Datum "
                                    "vorhanden und VerBIS-Vermerk ja"),
        *[(f"Status „{STATUS_LABELS[s]}“", STATUS_TEXT[s]) for s in STATUSES],
        ("Regelkonform", "fristgerecht oder verlängert mit eingehaltener Zusage"),
        ("Fristverstoß", "verspätet, Zusage nicht eingehalten oder überfällig"),
        ("Quoten", "zählen nur entschiedene Tickets: erledigte sowie offene nach Fristende "
                   "(bei gültiger Zusage nach dem Zusage-Datum)"),
        ("Prüfungen A5–A7", "nur Leistung; leere Prüfungen zählen nicht mit"),
        ("Wiederholungsfall (A10)", f"ab {threshold} Fristverstößen einer Person im Monat "
                                    "(Monat nach Fälligkeit)"),
        ("Stand am Stichtag", "Ereignisse, Gespräche, Stichproben-Ergebnisse und Ladevorgänge "
                              "nach dem Stichtag zählen nicht"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["label", "value"])


STATUS_TEXT = {
    "on_time": "erledigt bis zum Fälligkeitstag",
    "extended_kept": "erledigt nach Fristende, gültige Zusage, bis zum Zusage-Datum",
    "extended_missed": "gültige Zusage, aber nach dem Zusage-Datum erledigt oder noch offen",
    "late": "erledigt nach Fristende ohne gültige Zusage",
    "open": "nicht erledigt, Frist läuft noch",
    "open_extended": "nicht erledigt nach Fristende, gültige Zusage läuft noch",
    "overdue": "nicht erledigt nach Fristende ohne gültige Zusage",
}


def build(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    month: dt.date,
    as_of: dt.date,
    filters: Filters = ALL,
    viewer: Viewer | None = None,
    limits: Scope | None = None,
) -> Report:
    """Compute every figure of the report of `month` as of `as_of` for the viewer.

    Without a viewer (the CLI: whoever runs it can read the database file anyway) the
    report covers everything. A viewer who sees no worker-level figures (management)
    gets the report without the sheets per person and per ticket.
    """
    month = month_start(month)
    # Only the Bereich/team/worker scope applies: the month decides the period.
    scope = restrict(scope_filters(filters), viewer)
    personal = viewer is None or sees_workers(viewer)
    args = (con, as_of, scope)
    report = Report(
        month=month,
        as_of=as_of,
        filters=scope,
        rules=rules_table(config, month, as_of, scope),
        summary=summary(*args, month=month),
        trend=trend(*args, month=month),
        teams=teams(*args, month=month),
        workers=workers(*args, month=month) if personal else None,
        breaches=breaches(*args, month=month) if personal else None,
        extensions=extensions(*args, month=month),
        extended_tickets=extended_tickets(*args, month=month) if personal else None,
        checks=checks(*args, month=month),
        repeat_cases=repeat_conversations(con, config, as_of, scope, month=month, limits=limits)
        if personal
        else None,
        samples=samples(config, as_of, scope, month=month),
        loads=loads(*args, month=month),
        status_mix=status_mix(*args, month=month),
    )
    # Every table leaves through the privacy exit (names, pseudonyms, escaping for files).
    limits = limits or OPERATOR
    return replace(
        report,
        **{
            f.name: privacy.release(getattr(report, f.name), limits, target="file")
            for f in fields(report)
            if isinstance(getattr(report, f.name), pd.DataFrame)
        },
    )


# ---------------------------------------------------------------------------------------
# Excel


@dataclass(frozen=True)
class Column:
    """One column of a sheet: frame column, German header, kind of value, width."""

    key: str
    header: str
    kind: str = "text"  # text, int, percent, days, number, date, datetime, month, bool
    width: int = 12
    missing: str = ""  # shown for an empty value


COUNTS = [
    Column("tickets", "Tickets fällig", "int", 9),
    Column("decided", "entschieden", "int", 11),
    Column("on_time", "fristgerecht", "int", 11),
    Column("compliant", "regelkonform", "int", 12),
    Column("on_time_rate", "Quote fristgerecht", "percent", 11),
    Column("compliant_rate", "Quote regelkonform", "percent", 11),
    Column("breaches", "Fristverstöße", "int", 11),
    Column("late", "davon verspätet", "int", 10),
    Column("extended_missed", "davon Zusage nicht eingehalten", "int", 14),
    Column("overdue", "davon überfällig", "int", 10),
    Column("extensions", "gültige Zusagen", "int", 10),
    Column("undecided", "noch nicht entschieden", "int", 12),
    Column("median_working_days", "Median Arbeitstage", "days", 11),
]
AREA = Column("area", "Bereich", width=13)
TEAM = Column("team", "Team", width=18)
WORKER = Column("worker", "Bearbeiter/in", width=20)
TICKET = Column("ticket_id", "Ticket-ID", width=14)


@dataclass(frozen=True)
class Sheet:
    """A worksheet: one table with a title, frozen header and autofilter."""

    name: str
    title: str
    frame: pd.DataFrame
    columns: list[Column]
    freeze_columns: int = 1
    note: str = ""
    scale: tuple[str, ...] = ()  # rate columns with a 3-colour scale
    empty: str = "Keine Einträge für diesen Monat."


HEADER_ROW = 3  # title, subtitle/note, blank line, then the header


def _sheets(report: Report) -> list[Sheet]:
    # Sheets whose frame is None are not for this viewer and are left out entirely.
    return [sheet for sheet in _all_sheets(report) if sheet.frame is not None]


def _all_sheets(report: Report) -> list[Sheet]:
    month = month_label(report.month)
    return [
        Sheet("Übersicht", f"Übersicht je Bereich · {month}", report.summary, [AREA, *COUNTS],
              scale=("compliant_rate",)),
        Sheet("Teams", f"Teams · {month}", report.teams, [AREA, TEAM, *COUNTS],
              freeze_columns=2, scale=("compliant_rate",)),
        Sheet("Mitarbeitende", f"Mitarbeitende · {month}", report.workers,
              [AREA, TEAM, WORKER, *COUNTS], freeze_columns=3, scale=("compliant_rate",)),
        Sheet("Fristverstöße", f"Fristverstöße (fällig im {month})", report.breaches, [
            TICKET, AREA, TEAM, WORKER,
            Column("receipt_date", "Eingang", "date", 11),
            Column("due_date", "Fällig am", "date", 11),
            Column("commitment_date", "Zusage bis", "date", 11),
            Column("completion_date", "Erledigt am", "date", 11, missing="offen"),
            Column("status_label", "Status", width=24),
            Column("working_days", "Arbeitstage", "int", 11),
            Column("during_absence", "bei Abwesenheit fällig", "bool", 12),
        ], note="Arbeitstage: bis zur Erledigung; bei offenen Tickets bis zum Stichtag.",
            empty="Keine Fristverstöße in diesem Monat."),
        Sheet("Verlängerungen", f"Verlängerungen und Zusagen je Team · {month}",
              report.extensions, [
            AREA, TEAM,
            Column("tickets", "Tickets fällig", "int", 9),
            Column("notices", "gültige Zusagen", "int", 10),
            Column("within_deadline", "davon in der Frist erledigt/offen", "int", 14),
            Column("extended_kept", "Zusage eingehalten", "int", 11),
            Column("extended_missed", "Zusage nicht eingehalten", "int", 12),
            Column("open_extended", "offen, Zusage läuft", "int", 11),
            Column("kept_rate", "Quote Zusage eingehalten", "percent", 12),
        ], freeze_columns=2, scale=("kept_rate",),
            note="Quote: eingehalten / (eingehalten + nicht eingehalten)."),
        Sheet("Verlängerte Tickets", f"Tickets mit verlängerter Frist · {month}",
              report.extended_tickets, [
            TICKET, AREA, TEAM, WORKER,
            Column("receipt_date", "Eingang", "date", 11),
            Column("due_date", "Fällig am", "date", 11),
            Column("notified_date", "Kunde informiert", "date", 11),
            Column("commitment_date", "Zusage bis", "date", 11),
            Column("completion_date", "Erledigt am", "date", 11, missing="offen"),
            Column("status_label", "Status", width=28),
            Column("kept", "Zusage eingehalten", width=12),
        ], empty="Keine verlängerten Tickets in diesem Monat."),
        Sheet("Prüfungen A5-A7", f"Prüfungen A5–A7 (Leistung) · {month}", report.checks, [
            AREA, TEAM,
            Column("tickets", "Tickets fällig", "int", 9),
            Column("callback_checked", "Rückruf (A5) geprüft", "int", 11),
            Column("callback_rate", "Rückruf (A5) Quote", "percent", 11),
            Column("walkin_checked", "Vorsprache-Vermerk (A6) geprüft", "int", 13),
            Column("walkin_rate", "Vorsprache-Vermerk (A6) Quote", "percent", 13),
            Column("tl_informed_checked", "TL informiert (A7) geprüft", "int", 12),
            Column("tl_informed_rate", "TL informiert (A7) Quote", "percent", 12),
        ], freeze_columns=2, scale=("callback_rate", "walkin_rate", "tl_informed_rate"),
            note="Die Prüfungen gelten nur für Leistung; leere Prüfungen zählen nicht mit.",
            empty="Keine Leistung-Tickets in diesem Monat."),
        Sheet("Wiederholungsfälle", f"Wiederholte Fristverstöße (A10) · {month}",
              report.repeat_cases, [
            WORKER, Column("team", "Team", width=22),
            Column("breaches", "Fristverstöße", "int", 11),
            Column("tickets", "Tickets", width=40),
            Column("held_on", "Gespräch geführt am", "date", 13, missing="ausstehend"),
        ], note="Gespräch: zuletzt erfasstes Gespräch für diesen Monat bis zum Stichtag.",
            empty="Keine Wiederholungsfälle in diesem Monat."),
        Sheet("Stichproben", f"Stichproben (B3) · {month}", report.samples, [
            Column("draw_id", "Ziehung", "int", 9),
            Column("drawn_at", "gezogen am", "datetime", 16),
            Column("drawn_by", "gezogen von", width=16),
            Column("period_from", "Zeitraum von", "date", 11),
            Column("period_to", "Zeitraum bis", "date", 11),
            Column("teams", "Teams", width=22),
            Column("method_label", "Verfahren", width=16),
            Column("amount", "Umfang", "number", 9),
            Column("seed", "Startwert", "int", 10),
            Column("population", "Grundgesamtheit", "int", 12),
            Column("items", "gezogen", "int", 9),
            Column("checked", "geprüft", "int", 9),
            Column("confirmed", "bestätigt", "int", 10),
            Column("not_confirmed", "nicht bestätigt", "int", 10),
            Column("unchecked", "noch nicht geprüft", "int", 11),
        ], note="Ziehungen im Monat oder mit Zeitraum im Monat; je Ticket zählt das letzte "
                "Ergebnis bis zum Stichtag.", empty="Keine Stichproben in diesem Monat."),
        Sheet("Datenqualität", f"Ladevorgänge im {month}", report.loads, [
            Column("load_id", "Ladevorgang", "int", 11),
            Column("file_name", "Datei", width=30),
            Column("kind_label", "Art", width=13),
            Column("started_at", "begonnen", "datetime", 16),
            Column("finished_at", "beendet", "datetime", 16),
            Column("encoding", "Kodierung", width=10),
            Column("rows_read", "gelesen", "int", 9),
            Column("rows_loaded", "geladen", "int", 9),
            Column("rows_rejected", "abgewiesen", "int", 10),
            Column("rows_duplicate", "Duplikate", "int", 10),
            Column("records_new", "neu", "int", 8),
            Column("records_replaced", "ersetzt", "int", 8),
            Column("reconciled", "Abgleich stimmt", "bool", 10),
            Column("rejects", "abgewiesene Zeilen gespeichert", "int", 13),
        ], note="Abgleich: gelesen = geladen + abgewiesen + Duplikate.",
            empty="Keine Ladevorgänge in diesem Monat."),
    ]  # fmt: skip


NUM_FORMATS = {
    "int": "#,##0",
    "percent": "0.0%",
    "days": "0.0",
    "number": "#,##0.##",
    "date": "dd.mm.yyyy",
    "datetime": "dd.mm.yyyy hh:mm",
    "month": "[$-407]mmmm yyyy",
}


class _Formats:
    """The cell formats of one workbook."""

    def __init__(self, workbook) -> None:
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.note = workbook.add_format({"italic": True, "font_color": "#555555"})
        self.header = workbook.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDE3EA",
             "bottom": 1}
        )  # fmt: skip
        self.cell = {kind: workbook.add_format({"num_format": f}) for kind, f in
                     NUM_FORMATS.items()}  # fmt: skip
        self.cell["text"] = workbook.add_format({"text_wrap": False})
        self.cell["bool"] = self.cell["text"]
        self.bold = {
            kind: workbook.add_format({"num_format": NUM_FORMATS.get(kind, "General"),
                                       "bold": True, "top": 1})
            for kind in (*NUM_FORMATS, "text", "bool")
        }  # fmt: skip
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})


def _missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


def _write_cell(ws, row: int, col: int, value, column: Column, fmt) -> None:
    if _missing(value) or value is pd.NA:
        if column.missing:
            ws.write_string(row, col, column.missing, fmt)
        else:
            ws.write_blank(row, col, None, fmt)
    elif column.kind in ("int", "percent", "days", "number"):
        ws.write_number(row, col, float(value), fmt)
    elif column.kind in ("date", "datetime", "month"):
        stamp = pd.Timestamp(value).to_pydatetime()
        ws.write_datetime(row, col, stamp if column.kind == "datetime" else stamp.date(), fmt)
    elif column.kind == "bool":
        ws.write_string(row, col, "ja" if bool(value) else "nein", fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _write_table(ws, formats: _Formats, frame: pd.DataFrame, columns: list[Column], top: int,
                 empty: str, total_key: str | None = None) -> tuple[int, int]:  # fmt: skip
    """Header at `top`, rows below; returns the first and last data row (last < first: none)."""
    for col, column in enumerate(columns):
        ws.write_string(top, col, column.header, formats.header)
    if frame.empty:
        ws.write_string(top + 1, 0, empty, formats.note)
        return top + 1, top
    values = frame[[c.key for c in columns]].astype(object).to_numpy()
    for i, row in enumerate(values):
        total = total_key is not None and row[0] == total_key
        for col, column in enumerate(columns):
            fmt = (formats.bold if total else formats.cell)[column.kind]
            _write_cell(ws, top + 1 + i, col, row[col], column, fmt)
    return top + 1, top + len(frame)


def _page_setup(ws) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(HEADER_ROW)
    ws.set_footer("&L&A&RSeite &P von &N")


def _scale(ws, first: int, last: int, col: int) -> None:
    # red below 50 %, yellow at 80 %, green at 100 %: the same meaning in every month
    ws.conditional_format(first, col, last, col, {
        "type": "3_color_scale",
        "min_type": "num", "min_value": 0.5, "min_color": "#F8696B",
        "mid_type": "num", "mid_value": 0.8, "mid_color": "#FFEB84",
        "max_type": "num", "max_value": 1, "max_color": "#63BE7B",
    })  # fmt: skip


def _write_sheet(workbook, formats: _Formats, report: Report, sheet: Sheet):
    ws = workbook.add_worksheet(sheet.name)
    ws.write_string(0, 0, sheet.title, formats.title)
    ws.write_string(1, 0, f"{report.subtitle}. {sheet.note}".strip(), formats.note)
    total = TOTAL if sheet.name == "Übersicht" else None
    first, last = _write_table(ws, formats, sheet.frame, sheet.columns, HEADER_ROW,
                               sheet.empty, total)  # fmt: skip
    for col, column in enumerate(sheet.columns):
        ws.set_column(col, col, column.width)
    ws.set_row(HEADER_ROW, 45)
    ws.freeze_panes(HEADER_ROW + 1, sheet.freeze_columns)
    ws.autofilter(HEADER_ROW, 0, max(last, HEADER_ROW), len(sheet.columns) - 1)
    if last >= first:
        for key in sheet.scale:
            col = [c.key for c in sheet.columns].index(key)
            _scale(ws, first, last, col)
    _page_setup(ws)
    return ws, last


def _trend_wide(report: Report) -> tuple[pd.DataFrame, list[Column]]:
    frame = report.trend
    areas = list(dict.fromkeys(frame["area"]))
    wide = frame.pivot(index="month", columns="area",
                       values=["decided", "on_time_rate", "compliant_rate"])  # fmt: skip
    wide.columns = [f"{value}|{area}" for value, area in wide.columns]
    wide = wide.reset_index()
    columns = [Column("month", "Monat (Fälligkeit)", "month", 13)]
    for area in areas:
        columns += [
            Column(f"decided|{area}", f"{area}: entschieden", "int", 11),
            Column(f"on_time_rate|{area}", f"{area}: fristgerecht", "percent", 11),
            Column(f"compliant_rate|{area}", f"{area}: regelkonform", "percent", 11),
        ]
    return wide, columns


def _write_trend(workbook, ws, formats: _Formats, report: Report, below: int) -> None:
    top = below + 3
    ws.write_string(top - 1, 0, "Entwicklung der letzten 12 Monate (Quoten je Bereich)",
                    formats.title)  # fmt: skip
    wide, columns = _trend_wide(report)
    first, last = _write_table(ws, formats, wide, columns, top, "Keine Daten.")
    for col, column in enumerate(columns[1:], start=1):
        if column.kind == "percent":
            _scale(ws, first, last, col)
    chart = workbook.add_chart({"type": "line"})
    for col, column in enumerate(columns):
        if column.kind != "percent":
            continue
        area = column.key.split("|")[1]
        chart.add_series({
            "name": ["Übersicht", top, col],
            "categories": ["Übersicht", first, 0, last, 0],
            "values": ["Übersicht", first, col, last, col],
            "line": {"color": AREA_COLORS.get(area, "#555555"), "width": 2.25,
                     "dash_type": "solid" if column.key.startswith("on_time") else "dash"},
            "marker": {"type": "circle", "size": 5,
                       "fill": {"color": AREA_COLORS.get(area, "#555555")},
                       "border": {"color": AREA_COLORS.get(area, "#555555")}},
        })  # fmt: skip
    chart.set_title({"name": "Fristgerecht und regelkonform je Bereich"})
    chart.set_x_axis({"name": "Monat (Fälligkeit)", "num_format": "[$-407]mmm yy"})
    chart.set_y_axis(
        {
            "name": "Quote",
            "num_format": "0%",
            "min": 0,
            "max": 1,
            "major_gridlines": {"visible": True, "line": {"color": "#DDDDDD"}},
        }
    )
    chart.set_legend({"position": "bottom"})
    chart.show_blanks_as("gap")
    chart.set_size({"width": 900, "height": 380})
    ws.insert_chart(last + 3, 0, chart)
    # the summary table above shares the columns: the wider of the two decides
    above = [AREA, *COUNTS]
    for col, column in enumerate(columns):
        width = max(column.width, above[col].width if col < len(above) else 0)
        ws.set_column(col, col, width)


def _write_rules(workbook, formats: _Formats, report: Report, generated_at: dt.datetime):
    ws = workbook.add_worksheet("Regeln")
    ws.write_string(0, 0, f"Regeln und Einstellungen · {month_label(report.month)}",
                    formats.title)  # fmt: skip
    ws.write_string(1, 0, report.subtitle, formats.note)
    ws.write_string(HEADER_ROW, 0, "Angabe", formats.header)
    ws.write_string(HEADER_ROW, 1, "Wert", formats.header)
    rows = [*report.rules.itertuples(index=False), ("Erstellt am", generated_at)]
    for i, (label, value) in enumerate(rows, start=HEADER_ROW + 1):
        ws.write_string(i, 0, label)
        if isinstance(value, dt.datetime):
            ws.write_datetime(i, 1, value, formats.cell["datetime"])
        elif isinstance(value, dt.date):
            ws.write_datetime(i, 1, value, formats.cell["date"])
        else:
            ws.write_string(i, 1, str(value), formats.wrap)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 90)
    ws.freeze_panes(HEADER_ROW + 1, 0)
    ws.autofilter(HEADER_ROW, 0, HEADER_ROW + len(rows), 1)
    _page_setup(ws)


def write_xlsx(report: Report, target: str | Path | BinaryIO, generated_at: dt.datetime) -> None:
    """Write the report as a formatted Excel workbook (one sheet per topic, rules last)."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "remove_timezone": True})
    # A fixed creation date makes the file reproducible: the same input, the same bytes.
    workbook.set_properties({
        "title": report.title,
        "subject": report.subtitle,
        "author": "Ticket-Controlling",
        "comments": f"Stichtag {format.date(report.as_of)}",
        "created": generated_at,
    })  # fmt: skip
    formats = _Formats(workbook)
    for sheet in _sheets(report):
        ws, last = _write_sheet(workbook, formats, report, sheet)
        if sheet.name == "Übersicht":
            _write_trend(workbook, ws, formats, report, max(last, HEADER_ROW + 1))
    _write_rules(workbook, formats, report, generated_at)
    workbook.close()
    _emit(buffer.getvalue(), target)


def _emit(data: bytes, target: str | Path | BinaryIO) -> None:
    if isinstance(target, str | Path):
        Path(target).write_bytes(data)
    else:
        target.write(data)


# ---------------------------------------------------------------------------------------
# PDF

A4_LANDSCAPE = (11.69, 8.27)
BREACH_LABELS = {s: STATUS_LABELS[s] for s in BREACHES}


def _percent_axis(axis) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: format.percent(v, 0)))


def _empty(ax, text: str) -> None:
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=14, color="#555555",
            transform=ax.transAxes)  # fmt: skip


def _page_title(fig, title: str, subtitle: str) -> None:
    fig.text(0.05, 0.94, title, fontsize=18, fontweight="bold", va="top")
    fig.text(0.05, 0.895, subtitle, fontsize=10, color="#444444", va="top")


def _title_page(fig, report: Report, generated_at: dt.datetime) -> None:
    fig.text(0.05, 0.90, report.title, fontsize=26, fontweight="bold")
    lines = [
        f"Ticket-Controlling · Tickets fällig im {month_label(report.month)} "
        "(Monat nach Fälligkeit)",
        f"Stichtag {format.date(report.as_of)} · {scope_label(report.filters)}",
        f"Erstellt am {generated_at:%d.%m.%Y %H:%M}",
    ]
    for i, line in enumerate(lines):
        fig.text(0.05, 0.85 - i * 0.035, line, fontsize=12, color="#333333")
    ax = fig.add_axes((0.05, 0.30, 0.90, 0.38))
    ax.axis("off")
    s = report.summary
    header = ["Bereich", "Tickets\nfällig", "entschieden", "fristgerecht", "regelkonform",
              "Frist-\nverstöße", "gültige\nZusagen", "noch nicht\nentschieden",
              "Median\nArbeitstage"]  # fmt: skip
    cells = [
        [row.area, format.number(row.tickets), format.number(row.decided),
         format.percent(row.on_time_rate), format.percent(row.compliant_rate),
         format.number(row.breaches), format.number(row.extensions),
         format.number(row.undecided),
         "–" if _missing(row.median_working_days) else format.number(row.median_working_days, 1)]
        for row in s.itertuples(index=False)
    ]  # fmt: skip
    table = ax.table(cellText=cells, colLabels=header, loc="upper center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(11)
    table.scale(1, 2.2)
    for (r, _c), cell in table.get_celld().items():
        if r == 0:
            cell.set_height(cell.get_height() * 1.6)
            cell.set_facecolor("#DDE3EA")
            cell.set_text_props(fontweight="bold")
        elif cells[r - 1][0] == TOTAL:
            cell.set_text_props(fontweight="bold")
    cases = report.repeat_cases
    smp = report.samples
    facts = []
    if cases is not None:
        pending = int((cases["conversation"] == "ausstehend").sum()) if len(cases) else 0
        facts.append(
            f"Wiederholungsfälle (A10): {format.number(len(cases))}, davon Gespräch "
            f"ausstehend: {format.number(pending)}"
        )
    facts += [
        f"Stichproben (B3): {format.number(len(smp))} Ziehungen, "
        f"{format.number(smp['checked'].sum() if len(smp) else 0)} geprüft, "
        f"{format.number(smp['confirmed'].sum() if len(smp) else 0)} bestätigt, "
        f"{format.number(smp['not_confirmed'].sum() if len(smp) else 0)} nicht bestätigt",
        f"Ladevorgänge im Monat: {format.number(len(report.loads))}",
        "Quoten zählen nur entschiedene Tickets; regelkonform = fristgerecht oder mit "
        "eingehaltener Zusage verlängert.",
    ]
    for i, line in enumerate(facts):
        fig.text(0.05, 0.24 - i * 0.04, line, fontsize=11)


def _trend_page(fig, report: Report, _generated_at) -> None:
    first = report.trend["month"].min()
    last = report.trend["month"].max()
    _page_title(fig, "Entwicklung der letzten 12 Monate",
                f"Fristgerecht (durchgezogen) und regelkonform (gestrichelt) je Bereich · "
                f"{month_label(first.date())} – {month_label(last.date())}")  # fmt: skip
    ax = fig.add_axes((0.08, 0.16, 0.88, 0.68))
    frame = report.trend
    months = sorted(frame["month"].unique())
    labels = [f"{MONTHS_DE[m.month - 1][:3]} {m.year % 100:02d}" for m in pd.to_datetime(months)]
    x = list(range(len(months)))
    for area in dict.fromkeys(frame["area"]):
        part = frame[frame["area"] == area].sort_values("month")
        color = AREA_COLORS.get(area, "#555555")
        ax.plot(x, part["on_time_rate"], color=color, marker="o", label=f"{area}: fristgerecht")
        ax.plot(x, part["compliant_rate"], color=color, marker="s", linestyle="--",
                label=f"{area}: regelkonform")  # fmt: skip
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 1.05)
    _percent_axis(ax.yaxis)
    ax.set_ylabel("Quote")
    ax.set_xlabel("Monat (Fälligkeit)")
    ax.grid(axis="y", color="#DDDDDD")
    ax.set_axisbelow(True)
    ax.legend(loc="lower left", ncols=2, fontsize=9)


def _team_rate_page(fig, report: Report, _generated_at) -> None:
    _page_title(fig, "Regelkonforme Quote je Team",
                f"Tickets fällig im {month_label(report.month)} · Stichtag "
                f"{format.date(report.as_of)}")  # fmt: skip
    ax = fig.add_axes((0.25, 0.10, 0.68, 0.74))
    frame = report.teams.iloc[::-1]
    if frame.empty:
        _empty(ax, "Keine Tickets in diesem Monat.")
        return
    rates = frame["compliant_rate"].fillna(0)
    colors = [AREA_COLORS.get(a, "#555555") for a in frame["area"]]
    y = list(range(len(frame)))
    ax.barh(y, rates, color=colors)
    ax.set_yticks(y, [f"{t} ({a})" for t, a in zip(frame["team"], frame["area"], strict=True)])
    for yi, rate, decided in zip(y, frame["compliant_rate"], frame["decided"], strict=True):
        ax.text((0 if _missing(rate) else rate) + 0.01, yi,
                f"{format.percent(rate)} von {format.number(decided)}", va="center",
                fontsize=9)  # fmt: skip
    ax.set_xlim(0, 1.2)
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    _percent_axis(ax.xaxis)
    ax.set_xlabel("regelkonform (Anteil der entschiedenen Tickets)")
    ax.grid(axis="x", color="#DDDDDD")
    ax.set_axisbelow(True)


def _status_page(fig, report: Report, _generated_at) -> None:
    _page_title(fig, "Status der Tickets",
                f"Tickets fällig im {month_label(report.month)} · Stand am Stichtag "
                f"{format.date(report.as_of)}")  # fmt: skip
    ax = fig.add_axes((0.25, 0.10, 0.68, 0.74))
    mix = report.status_mix.iloc[::-1]
    total = int(mix["tickets"].sum())
    if total == 0:
        _empty(ax, "Keine Tickets in diesem Monat.")
        return
    y = list(range(len(mix)))
    ax.barh(y, mix["tickets"], color=[STATUS_COLORS[s] for s in mix["status"]])
    ax.set_yticks(y, list(mix["label"]))
    for yi, n in zip(y, mix["tickets"], strict=True):
        ax.text(n, yi, f"  {format.number(n)} ({format.percent(n / total)})", va="center",
                fontsize=9)  # fmt: skip
    ax.set_xlim(0, max(mix["tickets"]) * 1.25)
    ax.set_xlabel("Tickets")
    ax.xaxis.set_major_formatter(_number_formatter())
    ax.grid(axis="x", color="#DDDDDD")
    ax.set_axisbelow(True)


def _number_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: format.number(v) if float(v).is_integer() else "")


def _breaches_page(fig, report: Report, _generated_at) -> None:
    _page_title(fig, "Fristverstöße je Team",
                f"Tickets fällig im {month_label(report.month)} · Stand am Stichtag "
                f"{format.date(report.as_of)}")  # fmt: skip
    ax = fig.add_axes((0.25, 0.16, 0.68, 0.68))
    frame = report.teams.iloc[::-1]
    if frame.empty or frame["breaches"].sum() == 0:
        _empty(ax, "Keine Fristverstöße in diesem Monat.")
        return
    y = list(range(len(frame)))
    left = [0] * len(frame)
    for status, label in BREACH_LABELS.items():
        values = list(frame[status])
        ax.barh(y, values, left=left, color=STATUS_COLORS[status], label=label)
        left = [a + b for a, b in zip(left, values, strict=True)]
    for yi, n in zip(y, left, strict=True):
        ax.text(n, yi, f"  {format.number(n)}", va="center", fontsize=9)
    ax.set_yticks(y, [f"{t} ({a})" for t, a in zip(frame["team"], frame["area"], strict=True)])
    ax.set_xlim(0, max(left) * 1.15 + 1)
    ax.set_xlabel("Fristverstöße")
    ax.xaxis.set_major_formatter(_number_formatter())
    ax.grid(axis="x", color="#DDDDDD")
    ax.set_axisbelow(True)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=3, fontsize=9)


PDF_PAGES: tuple[Callable, ...] = (
    _title_page, _trend_page, _team_rate_page, _status_page, _breaches_page,
)  # fmt: skip


def write_pdf(report: Report, target: str | Path | BinaryIO, generated_at: dt.datetime) -> None:
    """Write the printable report: A4 landscape pages of key figures and charts (no browser)."""
    # Figure objects without pyplot: no GUI backend and no global state shared by threads.
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    buffer = io.BytesIO()
    metadata = {
        "Title": report.title,
        "Subject": report.subtitle,
        "Author": "Ticket-Controlling",
        "Creator": "Ticket-Controlling",
        "CreationDate": generated_at,
        "ModDate": generated_at,
    }
    with PdfPages(buffer, metadata=metadata) as pdf:
        for number, page in enumerate(PDF_PAGES, start=1):
            fig = Figure(figsize=A4_LANDSCAPE)
            page(fig, report, generated_at)
            fig.text(0.05, 0.03, f"{report.title} · Stichtag {format.date(report.as_of)}",
                     fontsize=8, color="#666666")  # fmt: skip
            fig.text(0.95, 0.03, f"Seite {number} von {len(PDF_PAGES)}", fontsize=8,
                     color="#666666", ha="right")  # fmt: skip
            pdf.savefig(fig)
    _emit(buffer.getvalue(), target)


# ---------------------------------------------------------------------------------------
# Files

FORMATS: dict[str, Callable[[Report, str | Path | BinaryIO, dt.datetime], None]] = {
    ".xlsx": write_xlsx,
    ".pdf": write_pdf,
}
MIME_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
}


def writer_for(path: str | Path) -> Callable[[Report, str | Path | BinaryIO, dt.datetime], None]:
    """The writer for a file name's suffix (.xlsx or .pdf); ReportError for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        shown = Path(path).suffix or "ohne Endung"
        raise ReportError(
            f"Unbekanntes Dateiformat „{shown}“: der Monatsbericht wird als .xlsx (Excel) "
            "oder .pdf geschrieben."
        )
    return FORMATS[suffix]


def file_bytes(report: Report, suffix: str, generated_at: dt.datetime) -> bytes:
    """The report as the bytes of an .xlsx or .pdf file."""
    buffer = io.BytesIO()
    writer_for(f"bericht{suffix}")(report, buffer, generated_at)
    return buffer.getvalue()


def file_name(month: dt.date, suffix: str) -> str:
    """'monatsbericht-2026-03.xlsx'."""
    return f"monatsbericht-{month:%Y-%m}{suffix}"
