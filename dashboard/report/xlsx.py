"""The report as a formatted Excel workbook: one sheet per topic, the rules last."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import pandas as pd

from dashboard.core import format
from dashboard.core.labels import AREA_COLORS
from dashboard.core.months import month_label
from dashboard.core.rules import STATUS_LABELS
from dashboard.queries.monthly import TOTAL
from dashboard.report.columns import COUNTS, Column, columns_of
from dashboard.report.figures import Report

HEADER_ROW = 3  # title, subtitle/note, blank line, then the header
NUM_FORMATS = {
    "int": "#,##0",
    "percent": "0.0%",
    "days": "0.0",
    "number": "#,##0.##",
    "date": "dd.mm.yyyy",
    "datetime": "dd.mm.yyyy hh:mm",
    "month": "[$-407]mmmm yyyy",
}
CHECKS = (("callback", "Rückruf (A5)", 11), ("walkin", "Vorsprache-Vermerk (A6)", 13),
          ("tl_informed", "TL informiert (A7)", 12))  # fmt: skip


@dataclass(frozen=True)
class Sheet:
    """A worksheet: one table with a title, frozen header and autofilter."""

    name: str
    title: str
    frame: pd.DataFrame | None  # None: not for this viewer, the sheet is left out
    columns: list[Column]
    freeze_columns: int = 1
    note: str = ""
    scale: tuple[str, ...] = ("compliant_rate",)  # rate columns (where present) with a colour scale
    empty: str = "Keine Einträge für diesen Monat."


def _sheets(report: Report, generated_at: dt.datetime) -> list[Sheet]:
    month = month_label(report.month)
    created = pd.DataFrame({"label": ["Erstellt am"], "value": [generated_at]}, dtype=object)
    sheets = [
        Sheet("Übersicht", f"Übersicht je Bereich · {month}", report.summary,
              columns_of("area", COUNTS)),
        Sheet("Teams", f"Teams · {month}", report.teams, columns_of("area team", COUNTS), 2),
        Sheet("Mitarbeitende", f"Mitarbeitende · {month}", report.workers,
              columns_of("area team worker", COUNTS), 3),
        Sheet("Fristverstöße", f"Fristverstöße (fällig im {month})", report.breaches, columns_of(
            "ticket_id area team worker receipt_date due_date commitment_date completion_date "
            "status_label", Column("working_days", "Arbeitstage", "int", 11),
            Column("during_absence", "bei Abwesenheit fällig", "bool", 12),
        ), note="Arbeitstage: bis zur Erledigung; bei offenen Tickets bis zum Stichtag.",
            empty="Keine Fristverstöße in diesem Monat."),
        Sheet("Verlängerungen", f"Verlängerungen und Zusagen je Team · {month}",
              report.extensions, columns_of(
            "area team tickets", Column("notices", "gültige Zusagen", "int", 10),
            Column("within_deadline", "davon in der Frist erledigt/offen", "int", 14),
            Column("extended_kept", "Zusage eingehalten", "int", 11),
            Column("extended_missed", STATUS_LABELS["extended_missed"], "int", 12),
            Column("open_extended", "offen, Zusage läuft", "int", 11),
            Column("kept_rate", "Quote Zusage eingehalten", "percent", 12),
        ), 2, note="Quote: eingehalten / (eingehalten + nicht eingehalten).",
            scale=("kept_rate",)),
        Sheet("Verlängerte Tickets", f"Tickets mit verlängerter Frist · {month}",
              report.extended_tickets, columns_of(
            "ticket_id area team worker receipt_date due_date",
            Column("notified_date", "Kunde informiert", "date", 11),
            "commitment_date completion_date status_label",
            Column("kept", "Zusage eingehalten", width=12),
        ), empty="Keine verlängerten Tickets in diesem Monat."),
        Sheet("Prüfungen A5-A7", f"Prüfungen A5–A7 (Leistung) · {month}", report.checks,
              columns_of("area team tickets", *[
            column for key, label, width in CHECKS for column in (
                Column(f"{key}_checked", f"{label} geprüft", "int", width),
                Column(f"{key}_rate", f"{label} Quote", "percent", width))
        ]), 2, note="Die Prüfungen gelten nur für Leistung; leere Prüfungen zählen nicht mit.",
            scale=tuple(f"{key}_rate" for key, _, _ in CHECKS),
            empty="Keine Leistung-Tickets in diesem Monat."),
        Sheet("Wiederholungsfälle", f"Wiederholte Fristverstöße (A10) · {month}",
              report.repeat_cases, columns_of(
            "worker team breaches", Column("tickets", "Tickets", width=40),
            Column("held_on", "Gespräch geführt am", "date", 13, missing="ausstehend"),
        ), note="Gespräch: zuletzt erfasstes Gespräch für diesen Monat bis zum Stichtag.",
            empty="Keine Wiederholungsfälle in diesem Monat."),
        Sheet("Stichproben", f"Stichproben (B3) · {month}", report.samples, [
            Column("sample_no", "Stichprobe Nr.", "int", 12),
            Column("drawn_at", "gezogen am", "datetime", 16),
            Column("drawn_by", "gezogen von", width=16),
            Column("period_from", "Zeitraum von", "date", 11),
            Column("period_to", "Zeitraum bis", "date", 11), Column("teams", "Teams", width=22),
            Column("method_label", "Verfahren", width=16), Column("amount", "Umfang", "number", 9),
            Column("seed", "Startwert", "int", 10),
            Column("population", "Grundgesamtheit", "int", 12),
            Column("items", "gezogen", "int", 9), Column("checked", "geprüft", "int", 9),
            Column("confirmed", "bestätigt", "int", 10),
            Column("not_confirmed", "nicht bestätigt", "int", 10),
            Column("unchecked", "noch nicht geprüft", "int", 11),
        ], note="Ziehungen im Monat oder mit Zeitraum im Monat; je Ticket zählt das letzte "
                "Ergebnis bis zum Stichtag.", empty="Keine Stichproben in diesem Monat."),
        Sheet("Datenqualität", f"Ladevorgänge im {month}", report.loads, [
            Column("load_id", "Ladevorgang", "int", 11), Column("file_name", "Datei", width=30),
            Column("kind_label", "Art", width=13),
            Column("started_at", "begonnen", "datetime", 16),
            Column("finished_at", "beendet", "datetime", 16),
            Column("encoding", "Kodierung", width=10), Column("rows_read", "gelesen", "int", 9),
            Column("rows_loaded", "geladen", "int", 9),
            Column("rows_rejected", "abgewiesen", "int", 10),
            Column("rows_duplicate", "Duplikate", "int", 10),
            Column("records_new", "neu", "int", 8), Column("records_replaced", "ersetzt", "int", 8),
            Column("reconciled", "Abgleich stimmt", "bool", 10),
            Column("rejects", "abgewiesene Zeilen gespeichert", "int", 13),
        ], note="Abgleich: gelesen = geladen + abgewiesen + Duplikate.",
            empty="Keine Ladevorgänge in diesem Monat."),
        Sheet("Regeln", f"Regeln und Einstellungen · {month}", pd.concat([report.rules, created]),
              [Column("label", "Angabe", width=34), Column("value", "Wert", "any", 90)], 0),
    ]  # fmt: skip
    return [sheet for sheet in sheets if sheet.frame is not None]


class _Formats:
    """The cell formats of one workbook."""

    def __init__(self, workbook) -> None:
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.note = workbook.add_format({"italic": True, "font_color": "#555555"})
        self.header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                           "bg_color": "#DDE3EA", "bottom": 1})  # fmt: skip
        cells = {kind: {"num_format": f} for kind, f in NUM_FORMATS.items()}
        cells |= {"text": {}, "bool": {}, "wrap": {"text_wrap": True, "valign": "top"}}
        self.cell = {k: workbook.add_format(p) for k, p in cells.items()}
        self.bold = {k: workbook.add_format(p | {"bold": True, "top": 1}) for k, p in cells.items()}


def _kind(column: Column, value) -> str:
    if column.kind != "any":
        return column.kind
    # a rule's value: a date, a point in time or a text to wrap
    if isinstance(value, dt.date):
        return "datetime" if isinstance(value, dt.datetime) else "date"
    return "wrap"


def _write_cell(ws, row: int, col: int, value, kind: str, missing: str, fmt) -> None:
    if pd.isna(value):
        if missing:
            ws.write_string(row, col, missing, fmt)
        else:
            ws.write_blank(row, col, None, fmt)
    elif kind in ("int", "percent", "days", "number"):
        ws.write_number(row, col, float(value), fmt)
    elif kind in ("date", "datetime", "month"):
        stamp = pd.Timestamp(value).to_pydatetime()
        ws.write_datetime(row, col, stamp if kind == "datetime" else stamp.date(), fmt)
    elif kind == "bool":
        ws.write_string(row, col, "ja" if bool(value) else "nein", fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _write_table(ws, formats: _Formats, frame: pd.DataFrame, columns: list[Column], top: int,
                 empty: str) -> tuple[int, int]:  # fmt: skip
    """Header at `top`, rows below; returns the first and last data row (last < first: none)."""
    for col, column in enumerate(columns):
        ws.write_string(top, col, column.header, formats.header)
    if frame.empty:
        ws.write_string(top + 1, 0, empty, formats.note)
        return top + 1, top
    for i, row in enumerate(frame[[c.key for c in columns]].astype(object).to_numpy()):
        total = columns[0].key == "area" and row[0] == TOTAL  # the summary's last row
        formats_of = formats.bold if total else formats.cell
        for col, column in enumerate(columns):
            kind = _kind(column, row[col])
            _write_cell(ws, top + 1 + i, col, row[col], kind, column.missing, formats_of[kind])
    return top + 1, top + len(frame)


def _scale(ws, first: int, last: int, col: int) -> None:
    # red below 50 %, yellow at 80 %, green at 100 %: the same meaning in every month
    ws.conditional_format(first, col, last, col, {
        "type": "3_color_scale",
        "min_type": "num", "min_value": 0.5, "min_color": "#F8696B",
        "mid_type": "num", "mid_value": 0.8, "mid_color": "#FFEB84",
        "max_type": "num", "max_value": 1, "max_color": "#63BE7B",
    })  # fmt: skip


def _page_setup(ws) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(HEADER_ROW)
    ws.set_footer("&L&A&RSeite &P von &N")


def _write_sheet(workbook, formats: _Formats, report: Report, sheet: Sheet):
    ws = workbook.add_worksheet(sheet.name)
    ws.write_string(0, 0, sheet.title, formats.title)
    ws.write_string(1, 0, f"{report.subtitle}. {sheet.note}" if sheet.note else report.subtitle,
                    formats.note)  # fmt: skip
    first, last = _write_table(ws, formats, sheet.frame, sheet.columns, HEADER_ROW, sheet.empty)
    for col, column in enumerate(sheet.columns):
        ws.set_column(col, col, column.width)
        if column.key in sheet.scale and last >= first:
            _scale(ws, first, last, col)
    ws.set_row(HEADER_ROW, 45)
    ws.freeze_panes(HEADER_ROW + 1, sheet.freeze_columns)
    ws.autofilter(HEADER_ROW, 0, max(last, HEADER_ROW), len(sheet.columns) - 1)
    _page_setup(ws)
    return ws, last


def _write_trend(workbook, ws, formats: _Formats, report: Report, below: int) -> None:
    """The 12 months' rates per Bereich below the summary, with a native line chart."""
    top = below + 3
    ws.write_string(top - 1, 0, "Entwicklung der letzten 12 Monate (Quoten je Bereich)",
                    formats.title)  # fmt: skip
    values = {"decided": ("entschieden", "int"), "on_time_rate": ("fristgerecht", "percent"),
              "compliant_rate": ("regelkonform", "percent")}  # fmt: skip
    wide = report.trend.pivot(index="month", columns="area", values=list(values))
    areas = list(dict.fromkeys(report.trend["area"]))
    trend = [Column("month", "Monat (Fälligkeit)", "month", 13)] + [
        Column(f"{key}|{area}", f"{area}: {label}", kind, 11)
        for area in areas for key, (label, kind) in values.items()
    ]  # fmt: skip
    wide.columns = [f"{key}|{area}" for key, area in wide.columns]
    first, last = _write_table(ws, formats, wide.reset_index(), trend, top, "Keine Daten.")
    chart = workbook.add_chart({"type": "line"})
    for col, column in enumerate(trend):
        if column.kind != "percent":
            continue
        _scale(ws, first, last, col)
        color = AREA_COLORS.get(column.key.split("|")[1], "#555555")
        chart.add_series({
            "name": ["Übersicht", top, col],
            "categories": ["Übersicht", first, 0, last, 0],
            "values": ["Übersicht", first, col, last, col],
            "line": {"color": color, "width": 2.25,
                     "dash_type": "solid" if column.key.startswith("on_time") else "dash"},
            "marker": {"type": "circle", "size": 5, "fill": {"color": color},
                       "border": {"color": color}},
        })  # fmt: skip
    chart.set_title({"name": "Fristgerecht und regelkonform je Bereich"})
    chart.set_x_axis({"name": "Monat (Fälligkeit)", "num_format": "[$-407]mmm yy"})
    grid = {"visible": True, "line": {"color": "#DDDDDD"}}
    chart.set_y_axis(
        {"name": "Quote", "num_format": "0%", "min": 0, "max": 1, "major_gridlines": grid}
    )
    chart.set_legend({"position": "bottom"})
    chart.show_blanks_as("gap")
    chart.set_size({"width": 900, "height": 380})
    ws.insert_chart(last + 3, 0, chart)
    # the summary table above shares the columns: the wider of the two decides
    above = columns_of("area", COUNTS)
    for col, column in enumerate(trend):
        ws.set_column(col, col, max(column.width, above[col].width if col < len(above) else 0))


def render(report: Report, generated_at: dt.datetime) -> bytes:
    """The report as the bytes of an Excel workbook created at `generated_at`."""
    import xlsxwriter  # only when a workbook is made: the CLI starts faster without it

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
    for sheet in _sheets(report, generated_at):
        ws, last = _write_sheet(workbook, formats, report, sheet)
        if sheet.name == "Übersicht":
            _write_trend(workbook, ws, formats, report, max(last, HEADER_ROW + 1))
    workbook.close()
    return buffer.getvalue()
