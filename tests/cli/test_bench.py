"""The benchmark's floor (bench/common.py): it must do the load's work it stands for."""

from __future__ import annotations

import datetime as dt

import duckdb

from bench.common import floor_load, floor_statements
from dashboard.core.keys import load_or_create_key, pseudonym
from tests.conftest import ticket_row

D = dt.date
ROWS = [
    ticket_row(**{"Ticket-ID": "T1", "Eingang": "02.03.2026 09:15", "Erledigt": "2026-03-04",
                  "Kundennummer": "123A456789"}),
    ticket_row(**{"Ticket-ID": "T2", "Eingang": "03.03.2026", "Kundennummer": "123A456789",
                  "TL informiert": "05.03.2026"}),
    ticket_row(**{"Ticket-ID": "T3", "Eingang": "2026-03-02T08:00",
                  "Kundennummer": "999B000001"}),
    ticket_row(**{"Ticket-ID": "T4", "Eingang": " 04.03.2026 10:00 "}),
]  # fmt: skip


def _floor(path, tmp_path, key) -> list[tuple]:
    db = tmp_path / "floor.duckdb"
    floor_load(db, floor_statements(path, key))
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            'SELECT "Ticket-ID", "Eingang", "Erledigt", "TL informiert", pseudonym '
            "FROM floor ORDER BY 1"
        ).fetchall()


def test_floor_reads_dates_and_pseudonymises_as_worked_by_hand(write_export, tmp_path):
    key = bytes(range(32))
    first, second = pseudonym(key, "123A456789"), pseudonym(key, "999B000001")
    assert _floor(write_export(ROWS), tmp_path, key) == [
        ("T1", D(2026, 3, 2), D(2026, 3, 4), None, first),
        ("T2", D(2026, 3, 3), None, D(2026, 3, 5), first),
        ("T3", D(2026, 3, 2), None, None, second),
        ("T4", D(2026, 3, 4), None, None, None),
    ]


def test_floor_gives_what_the_load_stores(write_export, tmp_path, config, load, db):
    path = write_export(ROWS)
    [result] = load(path)
    assert result.rows_loaded == len(ROWS)
    stored = db().execute(
        "SELECT ticket_id, received, completed, tl_informed, customer FROM tickets ORDER BY 1"
    )
    assert _floor(path, tmp_path, load_or_create_key(config.storage.key_file)) == stored.fetchall()
