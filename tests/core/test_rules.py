"""Verdicts from hand-worked cases, loaded through the real ETL (RULES.md statuses, checks).

Each case is one ticket: the export fields that matter, the reference date S, and what
RULES.md says the verdict is. All cases are loaded once into a temporary database.
"""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.core.config import load_config
from dashboard.core.storage import connect_readonly
from dashboard.queries.metrics import ticket_verdicts
from etl.load import load_files
from tests.conftest import HEADER, d, ticket_row

# Leistung received Mon 02.03.2026 -> due Mon 09.03.2026 (5 working days).
L = {"Bereich": "Leistung", "Eingang": "02.03.2026 08:30"}
# Integration received Wed 29.10.2025 -> due Mon 03.11.2025 (Reformationstag 31.10.).
INT = {"Bereich": "Integration", "Eingang": "29.10.2025 14:00"}
NOTICE = {
    "Kunde informiert": "06.03.2026 10:00",
    "Zusage bis": "13.03.2026",
    "VerBIS-Vermerk": "ja",
}

# (id, fields, S, status, working days (None = open), due date)
STATUS_CASES = [
    ("on-time-due-day", {**L, "Erledigt": "09.03.2026 17:59"}, "31.03.2026", "on_time", 5),
    ("on-time-same-day", {**L, "Erledigt": "02.03.2026"}, "31.03.2026", "on_time", 0),
    ("late-one-day", {**L, "Erledigt": "10.03.2026"}, "31.03.2026", "late", 6),
    ("ext-kept", {**L, **NOTICE, "Erledigt": "12.03.2026"}, "31.03.2026", "extended_kept", 8),
    ("ext-kept-on-z", {**L, **NOTICE, "Erledigt": "13.03.2026"}, "31.03.2026", "extended_kept", 9),
    (
        "ext-missed-done",
        {**L, **NOTICE, "Erledigt": "16.03.2026"},
        "31.03.2026",
        "extended_missed",
        10,
    ),
    (
        "notice-on-due-day",
        {**L, **NOTICE, "Kunde informiert": "09.03.2026", "Erledigt": "11.03.2026"},
        "31.03.2026",
        "extended_kept",
        7,
    ),
    (
        "notice-too-late",
        {**L, **NOTICE, "Kunde informiert": "10.03.2026", "Erledigt": "12.03.2026"},
        "31.03.2026",
        "late",
        8,
    ),
    (
        "notice-no-verbis",
        {**L, **NOTICE, "VerBIS-Vermerk": "nein", "Erledigt": "12.03.2026"},
        "31.03.2026",
        "late",
        8,
    ),
    (
        "notice-verbis-empty",
        {**L, **NOTICE, "VerBIS-Vermerk": "", "Erledigt": "12.03.2026"},
        "31.03.2026",
        "late",
        8,
    ),
    (
        "notice-no-zusage",
        {**L, **NOTICE, "Zusage bis": "", "Erledigt": "12.03.2026"},
        "31.03.2026",
        "late",
        8,
    ),
    ("open-until-due", {**L}, "09.03.2026", "open", None),
    ("open-on-receipt-day", {**L}, "02.03.2026", "open", None),
    ("overdue", {**L}, "10.03.2026", "overdue", None),
    ("open-with-notice", {**L, **NOTICE}, "06.03.2026", "open", None),
    ("open-extended", {**L, **NOTICE}, "12.03.2026", "open_extended", None),
    ("open-extended-on-z", {**L, **NOTICE}, "13.03.2026", "open_extended", None),
    ("ext-missed-open", {**L, **NOTICE}, "16.03.2026", "extended_missed", None),
    # Reference date: later events have not happened yet.
    ("completion-after-s", {**L, "Erledigt": "05.03.2026"}, "04.03.2026", "open", None),
    ("completion-after-s-overdue", {**L, "Erledigt": "12.03.2026"}, "11.03.2026", "overdue", None),
    (
        "notice-after-s",
        {**L, **NOTICE, "Kunde informiert": "09.03.2026"},
        "08.03.2026",
        "open",
        None,
    ),
    (
        "notice-given-by-s",
        {**L, **NOTICE, "Kunde informiert": "09.03.2026"},
        "10.03.2026",
        "open_extended",
        None,
    ),
    # Integration: 2 working days around Reformationstag.
    ("int-on-time", {**INT, "Erledigt": "03.11.2025"}, "30.11.2025", "on_time", 2),
    ("int-late", {**INT, "Erledigt": "04.11.2025"}, "30.11.2025", "late", 3),
    ("int-overdue", {**INT}, "04.11.2025", "overdue", None),
    ("int-open", {**INT}, "03.11.2025", "open", None),
    # Weekend receipt: Saturday 07.03.2026 (Leistung) is due Friday 13.03.2026.
    (
        "weekend-receipt",
        {"Bereich": "Leistung", "Eingang": "07.03.2026", "Erledigt": "13.03.2026"},
        "31.03.2026",
        "on_time",
        5,
    ),
    (
        "weekend-receipt-late",
        {"Bereich": "Leistung", "Eingang": "2026-03-08T11:00", "Erledigt": "16.03.2026"},
        "31.03.2026",
        "late",
        6,
    ),
    # Holiday week: Wed 01.04.2026 is due Fri 10.04.2026 (Karfreitag, Ostermontag).
    (
        "easter-on-time",
        {"Bereich": "Leistung", "Eingang": "01.04.2026", "Erledigt": "10.04.2026"},
        "30.04.2026",
        "on_time",
        5,
    ),
    (
        "easter-late",
        {"Bereich": "Leistung", "Eingang": "01.04.2026", "Erledigt": "13.04.2026"},
        "30.04.2026",
        "late",
        6,
    ),
    # Closing days: Mon 21.12.2026 is due Wed 30.12.2026.
    (
        "christmas-on-time",
        {"Bereich": "Leistung", "Eingang": "21.12.2026", "Erledigt": "30.12.2026"},
        "31.01.2027",
        "on_time",
        5,
    ),
    (
        "christmas-overdue",
        {"Bereich": "Leistung", "Eingang": "22.12.2026"},
        "05.01.2027",
        "overdue",
        None,
    ),
]

# (id, fields, S, callback_ok, walkin_note_ok, tl_informed_ok); None = empty
CHECK_CASES = [
    (
        "cb-on-due",
        {**L, "Anliegen": "Rückruf", "Rückruf erfolgt": "09.03.2026"},
        "31.03.2026",
        True,
        None,
        None,
    ),
    (
        "cb-termin-late",
        {**L, "Anliegen": "Termin", "Rückruf erfolgt": "10.03.2026 08:00"},
        "31.03.2026",
        False,
        None,
        None,
    ),
    ("cb-missing-past-due", {**L, "Anliegen": "Rückruf"}, "10.03.2026", False, None, None),
    ("cb-missing-before-due", {**L, "Anliegen": "rückruf"}, "09.03.2026", None, None, None),
    (
        "cb-after-s",
        {**L, "Anliegen": "Rückruf", "Rückruf erfolgt": "05.03.2026"},
        "04.03.2026",
        None,
        None,
        None,
    ),
    (
        "cb-allgemein",
        {**L, "Anliegen": "Allgemein", "Rückruf erfolgt": "05.03.2026"},
        "31.03.2026",
        None,
        None,
        None,
    ),
    ("cb-integration", {**INT, "Anliegen": "Rückruf"}, "30.11.2025", None, None, None),
    (
        "walkin-same-day",
        {**L, "Eingangskanal": "Vorsprache", "Vermerk an TL": "02.03.2026 16:00"},
        "31.03.2026",
        None,
        True,
        None,
    ),
    (
        "walkin-next-day",
        {**L, "Eingangskanal": "Vorsprache", "Vermerk an TL": "03.03.2026"},
        "31.03.2026",
        None,
        False,
        None,
    ),
    ("walkin-missing", {**L, "Eingangskanal": "Vorsprache"}, "03.03.2026", None, False, None),
    (
        "walkin-missing-same-day",
        {**L, "Eingangskanal": "Vorsprache"},
        "02.03.2026",
        None,
        None,
        None,
    ),
    ("walkin-service-center", {**L, "Vermerk an TL": "05.03.2026"}, "31.03.2026", None, None, None),
    ("walkin-integration", {**INT, "Eingangskanal": "Vorsprache"}, "30.11.2025", None, None, None),
    (
        "tl-same-day",
        {**L, "Erledigt": "05.03.2026", "TL informiert": "05.03.2026"},
        "31.03.2026",
        None,
        None,
        True,
    ),
    (
        "tl-later",
        {**L, "Erledigt": "05.03.2026", "TL informiert": "06.03.2026"},
        "31.03.2026",
        None,
        None,
        True,
    ),
    (
        "tl-before",
        {**L, "Erledigt": "05.03.2026", "TL informiert": "04.03.2026"},
        "31.03.2026",
        None,
        None,
        False,
    ),
    ("tl-missing", {**L, "Erledigt": "05.03.2026"}, "31.03.2026", None, None, False),
    (
        "tl-after-s",
        {**L, "Erledigt": "05.03.2026", "TL informiert": "07.03.2026"},
        "06.03.2026",
        None,
        None,
        False,
    ),
    ("tl-open", {**L, "TL informiert": "05.03.2026"}, "06.03.2026", None, None, None),
    ("tl-integration", {**INT, "Erledigt": "30.10.2025"}, "30.11.2025", None, None, None),
]


@pytest.fixture(scope="module")
def verdict_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rules")
    config = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(tmp / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(tmp / "key"),
        }
    )
    rows = [ticket_row(**{"Ticket-ID": case[0], **case[1]}) for case in STATUS_CASES + CHECK_CASES]
    rows.append(ticket_row(**{"Ticket-ID": "received-after-s", "Eingang": "01.04.2026"}))
    from etl.sources import csv_text

    export = tmp / "cases.csv"
    export.write_text(csv_text([HEADER] + [[r.get(h, "") for h in HEADER] for r in rows]))
    [result] = load_files(config, [export])
    assert result.rows_loaded == len(rows), result.summary()
    con = connect_readonly(config)
    yield con
    con.close()


def _verdict(con, ticket_id: str, as_of: str):
    frame = ticket_verdicts(con, d(as_of)).set_index("ticket_id")
    return frame.loc[ticket_id] if ticket_id in frame.index else None


def _value(x):
    """Empty (NULL) as None, so case tables can say None."""
    return None if pd.isna(x) else x


@pytest.mark.parametrize(
    ("ticket", "fields", "as_of", "status", "days"), STATUS_CASES, ids=[c[0] for c in STATUS_CASES]
)
def test_status(verdict_db, ticket, fields, as_of, status, days):
    row = _verdict(verdict_db, ticket, as_of)
    assert row.status == status
    assert _value(row.working_days) == days


@pytest.mark.parametrize(
    ("ticket", "fields", "as_of", "callback", "walkin", "tl"),
    CHECK_CASES,
    ids=[c[0] for c in CHECK_CASES],
)
def test_checks(verdict_db, ticket, fields, as_of, callback, walkin, tl):
    row = _verdict(verdict_db, ticket, as_of)
    assert (_value(row.callback_ok), _value(row.walkin_note_ok), _value(row.tl_informed_ok)) == (
        callback,
        walkin,
        tl,
    )


def test_ticket_received_after_reference_date_is_left_out(verdict_db):
    assert _verdict(verdict_db, "received-after-s", "31.03.2026") is None
    assert _verdict(verdict_db, "received-after-s", "01.04.2026").status == "open"


@pytest.mark.parametrize(
    ("ticket", "as_of", "due"),
    [
        ("on-time-due-day", "31.03.2026", "09.03.2026"),
        ("int-on-time", "30.11.2025", "03.11.2025"),
        ("weekend-receipt", "31.03.2026", "13.03.2026"),
        ("christmas-overdue", "05.01.2027", "04.01.2027"),
    ],
)
def test_due_dates_in_verdicts(verdict_db, ticket, as_of, due):
    assert _verdict(verdict_db, ticket, as_of).due_date.date() == d(due)


def test_every_status_occurs_exactly_once_per_ticket(verdict_db):
    from dashboard.core.rules import STATUSES

    frame = ticket_verdicts(verdict_db, d("31.03.2026"))
    assert frame["ticket_id"].is_unique
    assert set(frame["status"]) <= set(STATUSES)
