"""Month arithmetic and German month names, shared by pages, report and domain modules."""

from __future__ import annotations

import calendar
import datetime as dt

MONTHS_DE = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)  # fmt: skip


def month_start(day: dt.date) -> dt.date:
    """The first day of the month of `day`."""
    return day.replace(day=1)


def month_label(month: dt.date) -> str:
    """date(2026, 3, 1) -> 'März 2026'."""
    return f"{MONTHS_DE[month.month - 1]} {month.year}"


def add_months(day: dt.date, months: int) -> dt.date:
    """Shift a date by whole months, clamping the day to the target month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def month_count(period: tuple[dt.date, dt.date]) -> int:
    """Number of calendar months of an inclusive month range."""
    start, end = period
    return (end.year - start.year) * 12 + end.month - start.month + 1


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of every month from `first`'s to `last`'s (inclusive), oldest first."""
    start = month_start(first)
    return [add_months(start, i) for i in range(max(month_count((start, last)), 0))]
