"""The working-day calendar, from hand-worked cases (RULES.md "Working days", "Deadline")."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.core.calendar import calendar_frame
from dashboard.core.config import CalendarConfig, Config
from dashboard.core.rules import install
from dashboard.core.storage import init_schema
from tests.conftest import d

# Every statutory holiday of Brandenburg in 2026, written down from the calendar.
BB_2026 = [
    ("01.01.2026", "Neujahr"),
    ("03.04.2026", "Karfreitag"),
    ("05.04.2026", "Ostersonntag"),
    ("06.04.2026", "Ostermontag"),
    ("01.05.2026", "Erster Mai"),
    ("14.05.2026", "Christi Himmelfahrt"),
    ("24.05.2026", "Pfingstsonntag"),
    ("25.05.2026", "Pfingstmontag"),
    ("03.10.2026", "Tag der Deutschen Einheit"),
    ("31.10.2026", "Reformationstag"),
    ("25.12.2026", "Erster Weihnachtstag"),
    ("26.12.2026", "Zweiter Weihnachtstag"),
]


@pytest.fixture(scope="module")
def calendar():
    frame = calendar_frame(CalendarConfig())
    return frame.set_index(frame["day"].dt.date)


@pytest.mark.parametrize(("day", "name"), BB_2026)
def test_every_brandenburg_holiday_is_no_working_day(calendar, day, name):
    row = calendar.loc[d(day)]
    assert not row.is_workday
    assert row.off_reason == name


def test_no_other_weekday_of_2026_is_off(calendar):
    year = calendar[(calendar["day"].dt.year == 2026) & (calendar["day"].dt.day_of_week < 5)]
    off = {day.strftime("%d.%m.%Y") for day in year.index[~year["is_workday"]]}
    weekday_holidays = {day for day, _ in BB_2026 if d(day).weekday() < 5}
    assert off == weekday_holidays | {"24.12.2026", "31.12.2026"}


@pytest.mark.parametrize(
    ("day", "workday", "reason"),
    [
        ("24.12.2026", False, "Heiligabend (Schließtag)"),
        ("31.12.2026", False, "Silvester (Schließtag)"),
        ("23.12.2026", True, None),
        ("07.03.2026", False, "Samstag"),
        ("08.03.2026", False, "Sonntag"),
        ("08.03.2027", True, None),  # Frauentag is a holiday in Berlin, not in Brandenburg
        ("31.10.2025", False, "Reformationstag"),
        ("01.01.2000", False, "Neujahr"),
        ("03.01.2000", True, None),
        ("31.12.2100", False, "Silvester (Schließtag)"),
        ("30.12.2100", True, None),
    ],
)
def test_day_kinds(calendar, day, workday, reason):
    row = calendar.loc[d(day)]
    assert row.is_workday == workday
    assert (row.off_reason if isinstance(row.off_reason, str) else None) == reason


def test_working_day_index_counts_working_days(calendar):
    march = calendar.loc[d("01.03.2026") : d("31.03.2026")]
    # March 2026 has 22 weekdays and no holiday in Brandenburg.
    assert march["wd_index"].iloc[-1] - calendar.loc[d("28.02.2026")].wd_index == 22
    assert (calendar["wd_index"].diff().dropna() >= 0).all()


def test_configured_closing_days_replace_the_defaults():
    config = CalendarConfig(closing_days=("02.01.", "15.06.2026"))
    frame = calendar_frame(config).set_index("day")
    assert not frame.loc["2026-01-02", "is_workday"]
    assert not frame.loc["2026-06-15", "is_workday"]
    assert frame.loc["2027-06-15", "is_workday"]
    assert frame.loc["2026-12-24", "is_workday"]  # no longer closed


def test_other_holiday_state():
    # Fronleichnam (04.06.2026) is a holiday in Bavaria, not in Brandenburg.
    bavaria = calendar_frame(CalendarConfig(holiday_state="BY")).set_index("day")
    brandenburg = calendar_frame(CalendarConfig()).set_index("day")
    assert not bavaria.loc["2026-06-04", "is_workday"]
    assert brandenburg.loc["2026-06-04", "is_workday"]


# Hand-worked deadlines: (Bereich, receipt, due date), counting from the day after receipt.
DEADLINES = [
    # RULES.md's own examples
    ("Leistung", "02.03.2026", "09.03.2026"),
    ("Leistung", "07.03.2026", "13.03.2026"),  # Saturday receipt: the Saturday never counts
    ("Integration", "29.10.2025", "03.11.2025"),  # Reformationstag Friday 31.10.
    # weekend receipts
    ("Leistung", "08.03.2026", "13.03.2026"),
    ("Integration", "07.03.2026", "10.03.2026"),
    # Easter 2026: Karfreitag 03.04., Ostermontag 06.04.
    ("Leistung", "01.04.2026", "10.04.2026"),
    ("Leistung", "03.04.2026", "13.04.2026"),  # receipt on a holiday
    ("Integration", "02.04.2026", "08.04.2026"),
    # Easter 2024: Karfreitag 29.03., Ostermontag 01.04.
    ("Integration", "28.03.2024", "03.04.2024"),
    # Erster Mai (Friday), Himmelfahrt (Thursday), Pfingstmontag
    ("Leistung", "28.04.2026", "06.05.2026"),
    ("Leistung", "11.05.2026", "19.05.2026"),
    ("Leistung", "20.05.2026", "28.05.2026"),
    # Tag der Deutschen Einheit on a Friday (2025)
    ("Integration", "02.10.2025", "07.10.2025"),
    # Christmas and New Year with the closing days 24.12. and 31.12.
    ("Leistung", "21.12.2026", "30.12.2026"),
    ("Leistung", "22.12.2026", "04.01.2027"),
    ("Integration", "30.12.2025", "05.01.2026"),
    ("Integration", "23.12.2025", "30.12.2025"),  # 24.-26.12. closed
    # leap day and the ends of the supported range
    ("Integration", "28.02.2020", "03.03.2020"),
    ("Leistung", "01.01.2000", "07.01.2000"),
    ("Integration", "30.12.2100", "04.01.2101"),
]


@pytest.fixture(scope="module")
def rules_con():
    import duckdb

    con = duckdb.connect()
    init_schema(con)
    # the rules read `person` from the tickets view (dashboard.core.storage adds it there)
    con.execute("ALTER TABLE tickets ADD COLUMN person UBIGINT")
    install(con, Config())
    yield con
    con.close()


def _due(con, area: str, receipt: dt.date) -> dt.date:
    return con.execute(
        "SELECT w.day FROM calendar c JOIN deadlines dl ON dl.area = ? "
        "JOIN workdays w ON w.wd_index = c.wd_index + dl.days WHERE c.day = ?",
        [area, receipt],
    ).fetchone()[0]


@pytest.mark.parametrize(("area", "receipt", "due"), DEADLINES)
def test_due_date(rules_con, area, receipt, due):
    assert _due(rules_con, area, d(receipt)) == d(due)


# (receipt, completion, working days taken): days d with R < d <= C
WORKING_DAYS = [
    ("02.03.2026", "02.03.2026", 0),
    ("02.03.2026", "03.03.2026", 1),
    ("02.03.2026", "09.03.2026", 5),
    ("02.03.2026", "10.03.2026", 6),
    ("07.03.2026", "09.03.2026", 1),
    ("07.03.2026", "08.03.2026", 0),
    ("01.04.2026", "07.04.2026", 2),
    ("21.12.2026", "04.01.2027", 6),
]


@pytest.mark.parametrize(("receipt", "completion", "days"), WORKING_DAYS)
def test_working_days_taken(rules_con, receipt, completion, days):
    taken = rules_con.execute(
        "SELECT c.wd_index - r.wd_index FROM calendar r, calendar c WHERE r.day = ? AND c.day = ?",
        [d(receipt), d(completion)],
    ).fetchone()[0]
    assert taken == days
