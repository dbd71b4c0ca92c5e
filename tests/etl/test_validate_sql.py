"""The validation's building blocks (SQL macros, the repeated-key search) from hand-worked cases."""

from __future__ import annotations

import duckdb
import pytest

from etl.validate import DATE_MACRO, repeated_hashes

NB = "\u00a0"  # no-break space, one of the spaces an export's values may carry


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    con.execute(DATE_MACRO)
    yield con
    con.close()


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("", None),
        (" ", None),
        ("\t\r\n", None),
        (NB, None),
        ("a", "a"),
        (" a", "a"),
        ("a ", "a"),
        ("\ta\n", "a"),
        ("\r\na\r\n", "a"),
        (f"{NB}a", "a"),
        (f"a{NB}", "a"),
        (f" {NB}a b{NB} ", "a b"),
        ("ä", "ä"),
        ("ä ", "ä"),
        (" €", "€"),
        (f"x{NB}y", f"x{NB}y"),  # inside a value a space stays
        ("\u2003a", "\u2003a"),  # an em space is not one of the export's spaces
        ("a\u2003", "a\u2003"),
        ("\u0120", "\u0120"),  # a character whose second byte is 0xA0, like NB's
    ],
)
def test_clean_trims_the_export_spaces_and_empties_to_null(con, value, expected):
    assert con.execute("SELECT clean(?::VARCHAR)", [value]).fetchone()[0] == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("02.03.2026", "2026-03-02"),
        ("2026-03-02", "2026-03-02"),
        ("02.03.2026 08:15", "2026-03-02"),
        ("02.03.2026 08:15:59", "2026-03-02"),
        ("2026-03-02 08:15", "2026-03-02"),
        ("2026-03-02T08:15", "2026-03-02"),
        ("2026-03-02 08:15:59", "2026-03-02"),
        ("2026-03-02T08:15:59", "2026-03-02"),
        (" 02.03.2026", "2026-03-02"),
        (f"02.03.2026{NB}", "2026-03-02"),
        ("\t2026-03-02 08:15\r", "2026-03-02"),
        ("31.02.2026", "-infinity"),  # there is no 31 February: unreadable, not missing
        ("2.3.2026", "-infinity"),  # strptime alone would read it: not the export's format
        (" 2.3.2026", "-infinity"),  # the same after trimming
        ("02.03.2026 8:15", "-infinity"),
        (" 2026-03-02T08:15:59 ", "2026-03-02"),
        ("02/03/2026", "-infinity"),
        ("heute", "-infinity"),
        ("02.03.2026 25:00", "-infinity"),
    ],
)
def test_parse_day_reads_the_export_formats(con, value, expected):
    assert con.execute("SELECT parse_day(?::VARCHAR)::VARCHAR", [value]).fetchone()[0] == expected


@pytest.mark.parametrize(
    "hashes, expected",
    [
        ([], []),
        ([None], []),
        ([7], []),
        ([7, 7], [7]),
        ([1, 2, 3], []),
        ([3, 1, 2, 1, 3, 3, None, None], [1, 3]),
        ([2**64 - 1, 0, 2**64 - 1, 0], [0, 2**64 - 1]),
    ],
)
def test_repeated_hashes_are_those_that_occur_more_than_once(hashes, expected):
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE typed_rows (key_hash UBIGINT)")
    con.execute("INSERT INTO typed_rows SELECT unnest(?::UBIGINT[])", [hashes])
    found = repeated_hashes(con).column("key_hash").to_pylist()
    assert found == expected
    con.close()
