"""Month arithmetic shared by pages, report and domain modules."""

from __future__ import annotations

import pytest

from dashboard.core.months import add_months, month_count, month_label, months_between
from tests.conftest import d


@pytest.mark.parametrize(
    ("day", "shift", "expected"),
    [
        ("31.01.2026", 1, "28.02.2026"),
        ("31.01.2024", 1, "29.02.2024"),
        ("15.12.2026", 1, "15.01.2027"),
        ("01.01.2026", -1, "01.12.2025"),
        ("31.03.2026", -13, "28.02.2025"),
    ],
)
def test_add_months(day, shift, expected):
    assert add_months(d(day), shift) == d(expected)


@pytest.mark.parametrize(
    ("first", "last", "count", "labels"),
    [
        ("15.11.2026", "27.11.2026", 1, ["November 2026"]),
        ("01.12.2025", "10.02.2026", 3, ["Dezember 2025", "Januar 2026", "Februar 2026"]),
        ("01.03.2026", "01.02.2026", 0, []),
    ],
)
def test_months_between_and_count(first, last, count, labels):
    months = months_between(d(first), d(last))
    assert [month_label(m) for m in months] == labels
    assert max(month_count((d(first), d(last))), 0) == count
