"""The columns of the report's tables, said once for the workbook and the PDF."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.core import format
from dashboard.core.rules import STATUS_LABELS


@dataclass(frozen=True)
class Column:
    """One column of a table: frame column, German header, kind of value, width."""

    key: str
    header: str
    kind: str = "text"  # text, int, percent, days, number, date, datetime, month, bool, any
    width: int = 12
    missing: str = ""  # shown for an empty value

    def text(self, value: object) -> str:
        """A value of the column as German text: '1.066', '87,5 %', '3,0'; missing '–'."""
        if pd.isna(value):
            return self.missing or "–"
        if self.kind == "percent":
            return format.percent(value)
        if self.kind in ("int", "days"):
            return format.number(value, 1 if self.kind == "days" else 0)
        return str(value)


COLUMNS = {
    column.key: column
    for column in [
        Column("area", "Bereich", width=13),
        Column("team", "Team", width=20),
        Column("worker", "Bearbeiter/in", width=20),
        Column("ticket_id", "Ticket-ID", width=14),
        Column("tickets", "Tickets fällig", "int", 9),
        Column("decided", "entschieden", "int", 11),
        Column("on_time", STATUS_LABELS["on_time"], "int", 11),
        Column("compliant", "regelkonform", "int", 12),
        Column("on_time_rate", "Quote fristgerecht", "percent", 11),
        Column("compliant_rate", "Quote regelkonform", "percent", 11),
        Column("breaches", "Fristverstöße", "int", 11),
        # the three kinds of breach, as parts of the breaches
        Column("late", f"davon {STATUS_LABELS['late']}", "int", 10),
        Column("extended_missed", f"davon {STATUS_LABELS['extended_missed']}", "int", 14),
        Column("overdue", f"davon {STATUS_LABELS['overdue']}", "int", 10),
        Column("extensions", "gültige Zusagen", "int", 10),
        Column("undecided", "noch nicht entschieden", "int", 12),
        Column("median_working_days", "Median Arbeitstage", "days", 11),
        Column("receipt_date", "Eingang", "date", 11),
        Column("due_date", "Fällig am", "date", 11),
        Column("commitment_date", "Zusage bis", "date", 11),
        Column("completion_date", "Erledigt am", "date", 11, missing="offen"),
        Column("status_label", "Status", width=28),
    ]
}
# The counts and rates of a Bereich, team or worker.
COUNTS = (
    "tickets decided on_time compliant on_time_rate compliant_rate breaches late "
    "extended_missed overdue extensions undecided median_working_days"
)
# The key figures of the PDF's title page.
KEY_FIGURES = (
    "area tickets decided on_time_rate compliant_rate breaches extensions undecided "
    "median_working_days"
)


def columns_of(*specs: str | Column) -> list[Column]:
    """Columns by their keys (several in one space-separated string) or given as they are."""
    out: list[Column] = []
    for spec in specs:
        out += [COLUMNS[k] for k in spec.split()] if isinstance(spec, str) else [spec]
    return out
