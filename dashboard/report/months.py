"""Which months a report can be made for."""

from __future__ import annotations

import datetime as dt

from dashboard.core.months import add_months, month_start, months_between


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
    first = min(first_receipt or as_of, default_month(as_of))
    return months_between(first, as_of)[::-1]
