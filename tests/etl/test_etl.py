"""The ETL against EXPORT_FORMAT.md: rejections, refusals, encodings, XLSX, replacement,
atomicity, pseudonyms, absences and the load log.

Database contents are read with short-lived read-only connections (`_tables`), never kept
open across a load: DuckDB caches one instance per path, and a connection left open would
keep showing the database file that a load has since replaced.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import random
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

import etl.load
from dashboard.core.config import load_config
from dashboard.core.keys import pseudonym
from etl.load import LoadResult
from etl.sources import csv_text
from tests.conftest import HEADER, ticket_line, ticket_row

TABLES = ("tickets", "absences", "rejects", "load_log", "meta")
ABSENCE_HEADER = ["Bearbeiter", "Von", "Bis", "Vertretung"]
CUSTOMER = "123D456789"  # a Kundennummer in the BA format


# --------------------------------------------------------------------------- helpers


def _query(config, sql: str, params=()) -> list[dict]:
    con = duckdb.connect(str(config.database), read_only=True)
    try:
        cur = con.execute(sql, list(params))
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def _tables(config) -> dict[str, list[tuple]]:
    """Every table's full contents in a fixed order."""
    con = duckdb.connect(str(config.database), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}
    finally:
        con.close()


def _snapshot(config) -> tuple[bytes, dict[str, list[tuple]], list[str]]:
    """Database bytes, table contents and the directory listing (to spot temp files)."""
    path = config.database
    return path.read_bytes(), _tables(config), sorted(os.listdir(path.parent))


def _tickets(config) -> dict[str, dict]:
    return {r["ticket_id"]: r for r in _query(config, "SELECT * FROM tickets")}


def _rejects(config) -> list[tuple]:
    return [
        (r["record"], r["ticket_id"], r["reason"])
        for r in _query(config, "SELECT * FROM rejects ORDER BY load_id, record")
    ]


def _check(result: LoadResult, read: int, loaded: int, rejected: int = 0, duplicate: int = 0):
    assert result.refused is None, result.refused
    assert result.already_loaded_as is None
    assert (result.rows_read, result.rows_loaded, result.rows_rejected, result.rows_duplicate) == (
        read,
        loaded,
        rejected,
        duplicate,
    )
    assert result.reconciled
    assert result.rows_read == result.rows_loaded + result.rows_rejected + result.rows_duplicate


def _xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --------------------------------------------------------------------- 1. bad rows

REJECTIONS = [
    # (id, overrides of the bad row, words its reason must contain)
    ("empty-id", {"Ticket-ID": ""}, ["Ticket-ID fehlt"]),
    ("blank-id", {"Ticket-ID": "   "}, ["Ticket-ID fehlt"]),
    ("unknown-area", {"Bereich": "Leistungen"}, ["Unbekannter Wert für Bereich", "Leistungen"]),
    ("empty-area", {"Bereich": ""}, ["Bereich fehlt"]),
    ("empty-team", {"Team": " "}, ["Team fehlt"]),
    ("empty-worker", {"Bearbeiter": ""}, ["Bearbeiter fehlt"]),
    ("unknown-channel", {"Eingangskanal": "Telefon"}, ["Unbekannter Wert für Eingangskanal"]),
    ("unknown-concern", {"Anliegen": "Beschwerde"}, ["Unbekannter Wert für Anliegen"]),
    ("unknown-verbis", {"VerBIS-Vermerk": "vielleicht"}, ["Unbekannter Wert für VerBIS-Vermerk"]),
    ("empty-received", {"Eingang": ""}, ["Eingang fehlt"]),
    ("received-text", {"Eingang": "gestern"}, ["Eingang ist kein Datum", "gestern"]),
    ("received-31-feb", {"Eingang": "31.02.2026"}, ["Eingang ist kein Datum"]),
    ("received-slashes", {"Eingang": "02/03/2026"}, ["Eingang ist kein Datum"]),
    ("received-month-13", {"Eingang": "2026-13-01"}, ["Eingang ist kein Datum"]),
    ("received-1999", {"Eingang": "02.03.1999"}, ["Eingang liegt außerhalb"]),
    ("completed-text", {"Erledigt": "offen"}, ["Erledigt ist kein Datum", "offen"]),
    ("notified-text", {"Kunde informiert": "ja"}, ["Kunde informiert ist kein Datum"]),
    ("commitment-text", {"Zusage bis": "bald"}, ["Zusage bis ist kein Datum"]),
    ("callback-text", {"Rückruf erfolgt": "x"}, ["Rückruf erfolgt ist kein Datum"]),
    ("tl-informed-text", {"TL informiert": "32.01.2026"}, ["TL informiert ist kein Datum"]),
    ("walkin-note-text", {"Vermerk an TL": "morgen"}, ["Vermerk an TL ist kein Datum"]),
    (
        "completed-before-received",
        {"Eingang": "02.03.2026 09:15", "Erledigt": "01.03.2026 17:00"},
        ["Erledigt (01.03.2026) liegt vor Eingang (02.03.2026)"],
    ),
    (
        "notified-before-received",
        {"Eingang": "2026-03-02", "Kunde informiert": "28.02.2026"},
        ["Kunde informiert (28.02.2026) liegt vor Eingang (02.03.2026)"],
    ),
    (
        "two-reasons",
        {"Bereich": "Rente", "Eingang": "heute"},
        ["Unbekannter Wert für Bereich", "Eingang ist kein Datum"],
    ),
]


FIELD_COUNTS = [
    # (id, the bad record for a Ticket-ID, its field count)
    ("too-few", lambda tid: [tid, "Leistung", "Team 1"], 3),
    ("one-too-few", lambda tid: ticket_line(ticket_row(**{"Ticket-ID": tid}))[:-1], 14),
    ("one-too-many", lambda tid: [*ticket_line(ticket_row(**{"Ticket-ID": tid})), ""], 16),
    ("too-many", lambda tid: [*ticket_line(ticket_row(**{"Ticket-ID": tid})), "x", "y"], 17),
]


def _module_config(tmp_path_factory, name: str):
    base = tmp_path_factory.mktemp(name)
    return load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(base / "db" / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(base / "secret" / "key"),
        }
    )


@pytest.fixture(scope="module")
def bad_rows_loaded(tmp_path_factory):
    """One file: a valid row, every bad row of both case tables, a valid row; loaded once.

    Returns the result, the rejects by record, the loaded ids and case id -> (record, id).
    """
    config = _module_config(tmp_path_factory, "bad-rows")
    lines: list[list[str]] = [ticket_line(ticket_row(**{"Ticket-ID": "OK1"}))]
    cases: dict[str, tuple[int, str | None]] = {}
    for case, overrides, _ in REJECTIONS:
        row = ticket_row(**{"Ticket-ID": f"R-{case}", **overrides})
        lines.append(ticket_line(row))
        cases[case] = (len(lines), row["Ticket-ID"].strip() or None)
    for case, make, _ in FIELD_COUNTS:
        lines.append(make(f"F-{case}"))
        cases[case] = (len(lines), f"F-{case}")
    lines.append(ticket_line(ticket_row(**{"Ticket-ID": "OK2"})))
    path = config.database.parent.parent / "bad-rows.csv"
    path.write_text(csv_text([HEADER, *lines]), encoding="utf-8")
    [result] = etl.load.load_files(config, [path])
    rejects = _rejects(config)
    by_record = {record: (ticket_id, reason) for record, ticket_id, reason in rejects}
    assert len(by_record) == len(rejects), "one reject row per bad record"
    return result, by_record, set(_tickets(config)), cases


@pytest.mark.parametrize(("case", "words"), [pytest.param(c, w, id=c) for c, _, w in REJECTIONS])
def test_bad_row_is_rejected_with_reason_and_record_number(bad_rows_loaded, case, words):
    result, rejects, _, cases = bad_rows_loaded
    assert result.reconciled
    record, ticket_id = cases[case]
    assert record in rejects, f"record {record} ({case}) was not rejected"
    rejected_id, reason = rejects[record]
    assert rejected_id == ticket_id
    for word in words:
        assert word in reason


# Values that are there but blank count as missing, values that are there but unreadable
# as unreadable, and a readable date far out of range as out of range: the whole reason.
EXACT_REASONS = [
    ("completed-unreadable", {"Erledigt": "offen"}, "Erledigt ist kein Datum: 'offen'"),
    ("received-blank", {"Eingang": " \t "}, "Eingang fehlt"),
    ("received-year-1", {"Eingang": "01.01.0001"}, "Eingang liegt außerhalb 2000–2100: 01.01.0001"),
    ("area-blank", {"Bereich": "  "}, "Bereich fehlt"),
    ("area-unknown", {"Bereich": " Rente "}, None),  # reason checked below: allowed values
    ("optional-date-blank", {"Zusage bis": "   "}, ""),
    ("defaulted-code-blank", {"Eingangskanal": "  ", "Anliegen": " "}, ""),
    ("code-spelled-otherwise", {"Bereich": " LEISTUNG ", "VerBIS-Vermerk": "Ja"}, ""),
]


@pytest.mark.parametrize(
    ("fields", "reason"), [pytest.param(f, r, id=c) for c, f, r in EXACT_REASONS]
)
def test_reason_is_exactly_the_rule_that_fails(write_export, load, config, fields, reason):
    (result,) = load(write_export([ticket_row(**{"Ticket-ID": "T9", **fields})]))
    rejects = _rejects(config)
    if reason == "":  # loads
        assert (result.rows_loaded, rejects) == (1, [])
    elif reason is None:
        assert rejects[0][2].startswith("Unbekannter Wert für Bereich: 'Rente' (erlaubt: ")
        assert ";" not in rejects[0][2]
    else:
        assert rejects == [(1, "T9", reason)]


@pytest.mark.parametrize(("case", "count"), [pytest.param(c, n, id=c) for c, _, n in FIELD_COUNTS])
def test_wrong_number_of_fields_is_rejected(bad_rows_loaded, case, count):
    result, rejects, _, cases = bad_rows_loaded
    assert result.reconciled
    record, _ = cases[case]
    # Too many fields (Ticket-ID first): a stray separator shifts only later fields, so the
    # Ticket-ID is named. Too few: the record may be the second half of a broken one, its
    # first field any other (a customer number, never stored in clear): none is kept.
    expected_id = f"F-{case}" if count > len(HEADER) else None
    assert rejects[record] == (expected_id, f"Falsche Anzahl Felder: {count} statt {len(HEADER)}")


def test_valid_rows_beside_bad_ones_still_load(bad_rows_loaded):
    result, rejects, loaded, _ = bad_rows_loaded
    bad = len(REJECTIONS) + len(FIELD_COUNTS)
    _check(result, read=bad + 2, loaded=2, rejected=bad)
    assert loaded == {"OK1", "OK2"}
    assert sorted(rejects) == list(range(2, bad + 2))


def test_rejects_keep_source_kind_and_raw_text(write_export, load, config):
    path = write_export([ticket_row(), ticket_row(**{"Ticket-ID": "T2", "Bereich": "Sonst"})])
    [result] = load(path)
    [row] = _query(config, "SELECT * FROM rejects")
    assert row["load_id"] == result.load_id
    assert row["kind"] == "tickets"
    assert row["source"] == path.name
    assert "Bereich: Sonst" in row["raw"]
    assert "Ticket-ID: T2" in row["raw"]


@pytest.mark.parametrize("extra", [40, 300])
def test_far_too_many_fields_reports_the_real_count(write_export, load, config, extra):
    bad = [*ticket_line(ticket_row(**{"Ticket-ID": "T9"})), *["x"] * extra]
    [result] = load(write_export([ticket_row(), bad]))
    _check(result, read=2, loaded=1, rejected=1)
    [(_, _, reason)] = _rejects(config)
    # The count is exact (DuckDB would drop fields beyond its overflow columns; the loader
    # then reads the file again with room for them).
    assert reason == f"Falsche Anzahl Felder: {len(bad)} statt {len(HEADER)}"


def test_conflicting_duplicates_are_all_rejected(write_export, load, config):
    first = ticket_row(**{"Ticket-ID": "T1"})
    other = ticket_row(**{"Ticket-ID": "T1", "Bearbeiter": "Bernd Bär"})
    path = write_export([first, ticket_row(**{"Ticket-ID": "T2"}), other, first])
    [result] = load(path)
    _check(result, read=4, loaded=1, rejected=3)
    rejects = _rejects(config)
    assert [(r, t) for r, t, _ in rejects] == [(1, "T1"), (3, "T1"), (4, "T1")]
    for _, _, reason in rejects:
        assert "Ticket-ID mehrfach mit unterschiedlichem Inhalt" in reason
        assert "1, 3, 4" in reason
    assert set(_tickets(config)) == {"T2"}


def test_conflicting_duplicate_keeps_its_own_reason_too(write_export, load, config):
    path = write_export(
        [ticket_row(), ticket_row(**{"Bereich": "Sonst"}), ticket_row(**{"Ticket-ID": "T2"})]
    )
    [result] = load(path)
    _check(result, read=3, loaded=1, rejected=2)
    reasons = dict((r, reason) for r, _, reason in _rejects(config))
    assert "mehrfach mit unterschiedlichem Inhalt" in reasons[1]
    assert "mehrfach mit unterschiedlichem Inhalt" in reasons[2]
    assert "Unbekannter Wert für Bereich" in reasons[2]


def test_identical_duplicates_count_once(write_export, load, config):
    row = ticket_row(**{"Ticket-ID": "T1", "Erledigt": "03.03.2026"})
    path = write_export([row, ticket_row(**{"Ticket-ID": "T2"}), row, row])
    [result] = load(path)
    _check(result, read=4, loaded=2, duplicate=2)
    assert result.records_new == 2
    assert _rejects(config) == []
    tickets = _tickets(config)
    assert set(tickets) == {"T1", "T2"}
    assert tickets["T1"]["source_record"] == 1


def test_coded_values_match_case_insensitively_and_trimmed(write_export, load, config):
    path = write_export(
        [
            ticket_row(
                **{
                    "Bereich": " integration ",
                    "Eingangskanal": "VORSPRACHE",
                    "Anliegen": " RÜCKRUF ",
                    "VerBIS-Vermerk": "JA",
                }
            ),
            ticket_row(
                **{
                    "Ticket-ID": "T2",
                    "Bereich": "LEISTUNG",
                    "Eingangskanal": " service-center",
                    "Anliegen": "termin ",
                    "VerBIS-Vermerk": " Nein ",
                }
            ),
        ]
    )
    [result] = load(path)
    _check(result, read=2, loaded=2)
    t = _tickets(config)
    assert (t["T1"]["area"], t["T1"]["channel"], t["T1"]["concern"], t["T1"]["verbis_note"]) == (
        "Integration",
        "Vorsprache",
        "Rückruf",
        True,
    )
    assert (t["T2"]["area"], t["T2"]["channel"], t["T2"]["concern"], t["T2"]["verbis_note"]) == (
        "Leistung",
        "Service-Center",
        "Termin",
        False,
    )


def test_no_break_spaces_count_as_surrounding_spaces(write_export, load, config):
    nb = "\u00a0"
    path = write_export(
        [
            ticket_row(**{"Ticket-ID": "T1", "Bereich": f"Leistung{nb}"}),
            ticket_row(**{"Ticket-ID": "T2", "Eingang": f"02.03.2026{nb}"}),
            ticket_row(**{"Ticket-ID": "T3", "Eingangskanal": f"{nb}Vorsprache {nb}"}),
            ticket_row(**{"Ticket-ID": "T4", "Team": nb}),
        ]
    )
    [result] = load(path)
    reasons = {t: reason for _, t, reason in _rejects(config)}
    assert set(reasons) == {"T4"}, reasons
    assert "Team fehlt" in reasons["T4"]
    _check(result, read=4, loaded=3, rejected=1)
    t = _tickets(config)
    assert (t["T1"]["area"], t["T2"]["received"], t["T3"]["channel"]) == (
        "Leistung",
        dt.date(2026, 3, 2),
        "Vorsprache",
    )


def test_empty_optional_coded_fields_take_their_defaults(write_export, load, config):
    path = write_export(
        [ticket_row(**{"Eingangskanal": "", "Anliegen": "  ", "VerBIS-Vermerk": ""})]
    )
    [result] = load(path)
    _check(result, read=1, loaded=1)
    t = _tickets(config)["T1"]
    assert (t["channel"], t["concern"], t["verbis_note"]) == ("Service-Center", "Allgemein", False)


def test_header_case_spaces_order_and_unknown_columns(write_export, load, config):
    header = [
        "  vermerk an tl",
        "Bemerkung",
        "EINGANG ",
        " bearbeiter",
        "TEAM",
        "Priorität",
        "bereich",
        " Ticket-id ",
        "ERLEDIGT",
        "Kundennummer",
    ]
    canonical = {h.strip().lower(): h for h in HEADER}

    def row(**fields):
        full = {"Bemerkung": "egal; wirklich", "Priorität": "hoch", **ticket_row(**fields)}
        return [full.get(canonical.get(h.strip().lower(), h), "") for h in header]

    path = write_export(
        [
            row(),
            row(**{"Ticket-ID": "T2", "Erledigt": "05.03.2026", "Vermerk an TL": "02.03.2026"}),
        ],
        header=header,
    )
    [result] = load(path)
    _check(result, read=2, loaded=2)
    t = _tickets(config)
    assert t["T2"]["team"] == "Leistung 1"
    assert t["T2"]["worker"] == "Anna Alt"
    assert t["T2"]["received"] == dt.date(2026, 3, 2)
    assert t["T2"]["completed"] == dt.date(2026, 3, 5)
    assert t["T2"]["walkin_note"] == dt.date(2026, 3, 2)
    assert t["T1"]["completed"] is None


def test_optional_columns_absent_entirely(write_export, load, config):
    header = ["Ticket-ID", "Bereich", "Team", "Bearbeiter", "Eingang"]
    path = write_export([ticket_row()], header=header)
    [result] = load(path)
    _check(result, read=1, loaded=1)
    t = _tickets(config)["T1"]
    assert (t["channel"], t["concern"], t["verbis_note"]) == ("Service-Center", "Allgemein", False)
    for field in ("completed", "customer", "notified", "commitment", "called_back"):
        assert t[field] is None
    assert t["tl_informed"] is None and t["walkin_note"] is None


DATE_FORMATS = [
    "02.03.2026",
    "02.03.2026 09:15",
    "02.03.2026 09:15:30",
    "2026-03-02",
    "2026-03-02 09:15",
    "2026-03-02 09:15:30",
    "2026-03-02T09:15",
    "2026-03-02T09:15:30",
    " 02.03.2026 23:59 ",
]
DATE_FIELDS = {
    "Eingang": "received",
    "Erledigt": "completed",
    "Kunde informiert": "notified",
    "Zusage bis": "commitment",
    "Rückruf erfolgt": "called_back",
    "TL informiert": "tl_informed",
    "Vermerk an TL": "walkin_note",
}


@pytest.fixture(scope="module")
def dates_loaded(tmp_path_factory):
    """One row per date format, the format in every date field; loaded once."""
    config = _module_config(tmp_path_factory, "dates")
    rows = [
        ticket_line(ticket_row(**{"Ticket-ID": f"D{i}", **dict.fromkeys(DATE_FIELDS, text)}))
        for i, text in enumerate(DATE_FORMATS)
    ]
    path = config.database.parent.parent / "dates.csv"
    path.write_text(csv_text([HEADER, *rows]), encoding="utf-8")
    [result] = etl.load.load_files(config, [path])
    return result, _tickets(config)


@pytest.mark.parametrize(("i", "text"), list(enumerate(DATE_FORMATS)), ids=DATE_FORMATS)
def test_all_date_formats_are_accepted(dates_loaded, i, text):
    result, tickets = dates_loaded
    _check(result, read=len(DATE_FORMATS), loaded=len(DATE_FORMATS))
    row = tickets[f"D{i}"]
    assert {f: row[f] for f in DATE_FIELDS.values()} == dict.fromkeys(
        DATE_FIELDS.values(), dt.date(2026, 3, 2)
    )


# -------------------------------------------------------------- 2. refused files


def _header_without(name: str) -> bytes:
    return csv_text([[h for h in HEADER if h != name], ["x"] * (len(HEADER) - 1)]).encode()


def _broken_zip_member(member: str) -> bytes:
    """A real XLSX whose `member` part is cut in half (valid zip, broken XML)."""
    good = _xlsx([HEADER, ticket_line(ticket_row())])
    src = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data[: len(data) // 2] if name.endswith(member) else data)
    return out.getvalue()


REFUSALS = [
    # (id, file name, content, words of the message; compared case-insensitively)
    ("missing-bereich", "a.csv", _header_without("Bereich"), ["Pflichtspalte fehlt", "Bereich"]),
    ("missing-eingang", "a.csv", _header_without("Eingang"), ["Pflichtspalte fehlt", "Eingang"]),
    ("missing-ticket-id", "a.csv", _header_without("Ticket-ID"), ["Pflichtspalte", "Ticket-ID"]),
    ("missing-team", "a.csv", _header_without("Team"), ["Pflichtspalte fehlt", "Team"]),
    ("missing-bearbeiter", "a.csv", _header_without("Bearbeiter"), ["Pflichtspalte", "Bearbeiter"]),
    ("empty", "a.csv", b"", ["leer"]),
    ("blank-lines", "a.csv", b"\r\n \n\n", ["leer"]),
    ("bom-only", "a.csv", b"\xef\xbb\xbf", ["leer"]),
    ("nul-bytes", "a.csv", b"Ticket-ID;Bereich\x00;Team\n\x00\x01\x02", ["Binärdaten"]),
    ("random-bytes", "a.csv", random.Random(7).randbytes(4096), [""]),
    ("legacy-xls", "a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), [".xls"]),
    ("comma-csv", "a.csv", ",".join(HEADER).encode() + b"\nT1,Leistung,L1,A,02.03.2026\n", [";"]),
    ("tab-csv", "a.csv", "\t".join(HEADER).encode() + b"\n", [";"]),
    ("undefined-cp1252", "a.csv", b"Ticket-ID;Bereich\n\x81\x8d;x\n", ["Windows-1252"]),
    ("zip-magic-garbage", "a.xlsx", b"PK\x03\x04" + b"garbage" * 50, ["XLSX"]),
    ("zip-not-xlsx", "a.xlsx", None, ["XLSX"]),
    ("xlsx-truncated", "a.xlsx", None, ["XLSX"]),
    ("xlsx-missing-column", "a.xlsx", None, ["Pflichtspalte fehlt", "Bereich"]),
    ("xlsx-empty-sheet", "a.xlsx", None, ["leer"]),
    ("duplicate-header", "a.csv", csv_text([[*HEADER, " team "]]).encode(), ["dasselbe Feld"]),
    (
        "quote-left-open",  # the rest of the file in one field, beyond DuckDB's line limit
        "a.csv",
        csv_text([HEADER]).encode() + b'T1;"Leistung;' + b"L1;A;02.03.2026\n" * 200_000,
        ["keine lesbare CSV-Datei", "Maximum line size"],
    ),
]


def _refusal_content(case: str, content: bytes | None) -> bytes:
    if content is not None:
        return content
    if case == "zip-not-xlsx":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            z.writestr("hello.txt", "kein Excel")
        return out.getvalue()
    if case == "xlsx-truncated":
        data = _xlsx([HEADER, ticket_line(ticket_row())])
        return data[: len(data) // 2]
    if case == "xlsx-missing-column":
        return _xlsx([[h for h in HEADER if h != "Bereich"], ["T1", "L1", "A", "02.03.2026"]])
    if case == "xlsx-empty-sheet":
        return _xlsx([])
    raise AssertionError(case)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """A database directory holding one earlier load (built once per module)."""
    config = _module_config(tmp_path_factory, "baseline")
    path = config.database.parent.parent / "earlier.csv"
    rows = [ticket_row(), ticket_row(**{"Ticket-ID": "T2", "Team": ""})]
    path.write_text(csv_text([HEADER, *[ticket_line(r) for r in rows]]), encoding="utf-8")
    [result] = etl.load.load_files(config, [path])
    assert (result.load_id, result.rows_loaded, result.rows_rejected) == (1, 1, 1)
    return config


@pytest.fixture
def loaded_once(config, baseline):
    """The baseline copied into this test's database; returns its snapshot."""
    shutil.copytree(baseline.database.parent, config.database.parent)
    config.storage.key_file.parent.mkdir(parents=True)
    shutil.copy2(baseline.storage.key_file, config.storage.key_file)
    return _snapshot(config)


@pytest.mark.parametrize(
    ("case", "name", "content", "words"),
    [pytest.param(*c, id=c[0]) for c in REFUSALS],
)
def test_unreadable_file_is_refused_and_changes_nothing(
    tmp_path, load, config, loaded_once, case, name, content, words
):
    path = tmp_path / name
    path.write_bytes(_refusal_content(case, content))
    [result] = load(path)
    assert result.refused, "the file must be refused with a message"
    for word in words:
        assert word.lower() in result.refused.lower()
    assert result.load_id is None
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (0, 0, 0)
    assert name in result.summary() and "abgewiesen" in result.summary()
    assert _snapshot(config) == loaded_once


def test_refused_file_on_empty_database_creates_no_data(tmp_path, load, config):
    path = tmp_path / "leer.csv"
    path.write_bytes(b"")
    [result] = load(path)
    assert result.refused
    assert not config.database.exists()


@pytest.mark.parametrize(
    "member", ["xl/worksheets/sheet1.xml", "[Content_Types].xml", "xl/workbook.xml"]
)
def test_xlsx_with_broken_xml_is_refused(tmp_path, load, config, loaded_once, member):
    path = tmp_path / "kaputt.xlsx"
    path.write_bytes(_broken_zip_member(member))
    [result] = load(path)
    assert result.refused and "XLSX" in result.refused
    assert _snapshot(config) == loaded_once


@pytest.mark.parametrize("name", ["export.csv", "export"])
def test_zip_garbage_under_another_name_is_refused(tmp_path, load, config, loaded_once, name):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04" + b"garbage" * 50)
    [result] = load(path)
    assert result.refused and "XLSX" in result.refused
    assert _snapshot(config) == loaded_once


def test_xlsx_content_under_another_name_is_read(tmp_path, load, config):
    """The format is told by the bytes, not the name: an XLSX saved as .csv still loads."""
    path = tmp_path / "export.csv"
    path.write_bytes(_xlsx([HEADER, ticket_line(ticket_row())]))
    [result] = load(path)
    _check(result, read=1, loaded=1)
    assert result.encoding == "xlsx"
    assert set(_tickets(config)) == {"T1"}


def test_refused_file_does_not_stop_other_files_of_the_call(tmp_path, write_export, load, config):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01")
    good = write_export([ticket_row()])
    results = load(bad, good)
    assert results[0].refused and results[1].rows_loaded == 1
    assert set(_tickets(config)) == {"T1"}


def test_header_only_file_loads_zero_rows(write_export, load, config):
    [result] = load(write_export([]))
    _check(result, read=0, loaded=0)
    assert result.load_id == 1
    [log] = _query(config, "SELECT * FROM load_log")
    assert (log["rows_read"], log["rows_loaded"]) == (0, 0)
    assert _tickets(config) == {}


def test_blank_lines_are_no_records(tmp_path, load, config):
    text = (
        csv_text([HEADER, ticket_line(ticket_row())])
        + "\n\n"
        + csv_text([ticket_line(ticket_row(**{"Ticket-ID": "T2", "Eingang": "kaputt"}))])
        + "\n\n"
    )
    path = tmp_path / "luecken.csv"
    path.write_text(text, encoding="utf-8")
    [result] = load(path)
    _check(result, read=2, loaded=1, rejected=1)
    assert _rejects(config)[0][:2] == (2, "T2")


# ------------------------------------------------------------------ 3. encodings


def test_cp1252_file_keeps_umlauts_and_euro(write_export, load, config):
    row = ticket_row(**{"Bearbeiter": "Jürgen Weiß €", "Team": "Süd-Ost Ä", "Anliegen": "Rückruf"})
    path = write_export([row], encoding="cp1252")
    assert "Jürgen".encode("cp1252") in path.read_bytes()
    [result] = load(path)
    _check(result, read=1, loaded=1)
    assert result.encoding == "cp1252"
    t = _tickets(config)["T1"]
    assert (t["worker"], t["team"], t["concern"]) == ("Jürgen Weiß €", "Süd-Ost Ä", "Rückruf")


def test_utf8_with_bom_recognises_first_header(write_export, load, config):
    path = write_export([ticket_row(**{"Bearbeiter": "Jürgen Weiß €"})], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfTicket-ID;")
    [result] = load(path)
    _check(result, read=1, loaded=1)
    assert result.encoding == "utf-8"
    assert _tickets(config)["T1"]["worker"] == "Jürgen Weiß €"


def test_utf8_without_bom(write_export, load, config):
    [result] = load(write_export([ticket_row(**{"Team": "Größe ü"})]))
    assert result.encoding == "utf-8"
    assert _tickets(config)["T1"]["team"] == "Größe ü"


@pytest.mark.parametrize(
    ("encoding", "newline"),
    [("utf-8", "\n"), ("utf-8-sig", "\r\n"), ("cp1252", "\r\n")],
)
def test_quoted_separators_and_line_breaks(tmp_path, load, config, encoding, newline):
    rows = [
        ticket_row(**{"Bearbeiter": "Weiß; Jürgen", "Team": 'Team "Nord"\nEtage 2'}),
        ticket_row(**{"Ticket-ID": "T2", "Eingang": "kein Datum"}),
        ticket_row(**{"Ticket-ID": "T3", "Team": "a\nb\nc"}),
        ticket_row(**{"Ticket-ID": "T4", "Bereich": "Unsinn", "Bearbeiter": "x;\ny"}),
        ticket_row(**{"Ticket-ID": "T5"}),
    ]
    # Records end with `newline`; line breaks inside quoted fields stay "\n".
    records = [csv_text([r]).removesuffix("\n") for r in [HEADER, *[ticket_line(r) for r in rows]]]
    text = newline.join(records) + newline
    path = tmp_path / "quoted.csv"
    path.write_bytes(text.encode(encoding))
    [result] = load(path)
    _check(result, read=5, loaded=3, rejected=2)
    assert [(r, t) for r, t, _ in _rejects(config)] == [(2, "T2"), (4, "T4")]
    t = _tickets(config)
    assert t["T1"]["worker"] == "Weiß; Jürgen"
    assert t["T1"]["team"] == 'Team "Nord"\nEtage 2'
    assert t["T3"]["team"] == "a\nb\nc"
    assert {k: v["source_record"] for k, v in t.items()} == {"T1": 1, "T3": 3, "T5": 5}


def test_rejected_row_after_quoted_newline_has_right_record(write_export, load, config):
    path = write_export(
        [
            ticket_row(**{"Team": "eins\nzwei\ndrei"}),
            ticket_row(**{"Ticket-ID": "T2", "Bearbeiter": "Zeile\nUmbruch"}),
            ticket_row(**{"Ticket-ID": "T3", "Erledigt": "nie"}),
        ]
    )
    [result] = load(path)
    _check(result, read=3, loaded=2, rejected=1)
    [(record, ticket_id, reason)] = _rejects(config)
    assert (record, ticket_id) == (3, "T3")
    assert "Erledigt ist kein Datum" in reason


def _mixed_export(newline: str, bom: bool, final_break: bool) -> bytes:
    """Fourteen records: quoted line breaks, bad values, repeats and wrong field counts."""
    good = [ticket_line(ticket_row(**{"Ticket-ID": f"T{i}"})) for i in range(1, 7)]
    lines = [
        good[0],
        ticket_line(ticket_row(**{"Ticket-ID": "T20", "Eingang": "31.02.2026"})),
        ticket_line(ticket_row(**{"Ticket-ID": " T21 ", "Bereich": " leistung "})),
        good[1],
        ticket_line(ticket_row(**{"Ticket-ID": "T22", "Team": "Leistung\n1"})),
        ticket_line(ticket_row(**{"Ticket-ID": "T23", "Bereich": "Sozial", "Team": "A\r\nB"})),
        good[1],  # identical repeat
        good[2],
        ticket_line(ticket_row(**{"Ticket-ID": "T3", "Team": "Leistung 2"})),  # conflicting
        ["T24", "Leistung"],  # too few fields
        [*good[3], "extra"],  # too many
        good[4],
        ticket_line(ticket_row(**{"Ticket-ID": "T25", "Erledigt": "01.01.2020"})),
        good[5],
    ]
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator=newline).writerows([HEADER, *lines])
    text = out.getvalue() if final_break else out.getvalue().removesuffix(newline)
    return (("\ufeff" if bom else "") + text).encode("utf-8")


@pytest.mark.parametrize(
    ("newline", "bom", "final_break"),
    [("\n", False, True), ("\r\n", True, True), ("\n", False, False)],
    ids=["lf", "crlf-bom", "no-final-break"],
)
def test_record_numbers_and_outcomes_of_a_mixed_export(
    tmp_path, load, config, newline, bom, final_break
):
    path = tmp_path / "gemischt.csv"
    path.write_bytes(_mixed_export(newline, bom, final_break))
    [result] = load(path)
    _check(result, read=14, loaded=6, rejected=7, duplicate=1)
    rejects = _query(config, "SELECT record, ticket_id, reason, raw FROM rejects ORDER BY record")
    assert [(r["record"], r["ticket_id"]) for r in rejects] == [
        (2, "T20"),
        (6, "T23"),
        (8, "T3"),
        (9, "T3"),
        (10, None),  # too few fields: its first field may be any field, not named
        (11, "T4"),  # too many: the Ticket-ID (first column) is still in place
        (13, "T25"),
    ]
    reasons = {r["record"]: r["reason"] for r in rejects}
    assert reasons[10] == f"Falsche Anzahl Felder: 2 statt {len(HEADER)}"
    assert reasons[11] == f"Falsche Anzahl Felder: {len(HEADER) + 1} statt {len(HEADER)}"
    assert "Team: A\r\nB" in next(r["raw"] for r in rejects if r["record"] == 6)
    # A record with the wrong number of fields shows no text; every other reject does.
    assert [r["record"] for r in rejects if r["raw"] is None] == [10, 11]
    tickets = _tickets(config)
    assert {t: r["source_record"] for t, r in tickets.items()} == {
        "T1": 1,
        "T21": 3,
        "T2": 4,
        "T22": 5,
        "T5": 12,
        "T6": 14,
    }
    assert tickets["T22"]["team"] == "Leistung\n1"


# ----------------------------------------------------------------------- 4. XLSX

XLSX_ROWS = [
    # (CSV text row, XLSX row with real Excel dates and numbers where a workbook has them)
    (
        ticket_row(**{"Erledigt": "04.03.2026 16:47:13", "Kundennummer": "12345678"}),
        {
            "Eingang": dt.datetime(2026, 3, 2, 9, 15),
            "Erledigt": dt.datetime(2026, 3, 4, 16, 47, 13),
            "Kundennummer": 12345678,
        },
    ),
    (
        ticket_row(
            **{
                "Ticket-ID": "T2",
                "Bereich": "Integration",
                "Eingang": "03.03.2026",
                "Eingangskanal": "Vorsprache",
                "Vermerk an TL": "2026-03-03",
            }
        ),
        {"Eingang": "03.03.2026", "Vermerk an TL": dt.date(2026, 3, 3)},
    ),
    (
        ticket_row(
            **{
                "Ticket-ID": "3",
                "Eingang": "2026-03-02 23:59",
                "Zusage bis": "10.03.2026",
                "Kunde informiert": "05.03.2026",
                "VerBIS-Vermerk": "ja",
            }
        ),
        {
            "Ticket-ID": 3,
            "Eingang": dt.datetime(2026, 3, 2, 23, 59),
            "Zusage bis": dt.datetime(2026, 3, 10),
            "Kunde informiert": "05.03.2026",
        },
    ),
    (
        ticket_row(**{"Ticket-ID": "T4", "Eingang": "nicht lesbar"}),
        {},
    ),
]


def _xlsx_and_csv(tmp_path) -> tuple[Path, Path]:
    csv_path = tmp_path / "export.csv"
    csv_path.write_text(
        csv_text([HEADER, *[ticket_line(r) for r, _ in XLSX_ROWS]]), encoding="utf-8"
    )
    xlsx_rows = [[{**r, **x}.get(h) or None for h in HEADER] for r, x in XLSX_ROWS]
    xlsx_path = tmp_path / "export.xlsx"
    xlsx_path.write_bytes(_xlsx([HEADER, *xlsx_rows]))
    return xlsx_path, csv_path


def test_xlsx_loads_the_same_tickets_as_the_equivalent_csv(tmp_path, config):
    xlsx_path, csv_path = _xlsx_and_csv(tmp_path)
    [from_csv] = etl.load.load_files(config, [csv_path])
    by_csv = _tables(config)
    config.database.unlink()
    [from_xlsx] = etl.load.load_files(config, [xlsx_path])
    for result in (from_csv, from_xlsx):
        _check(result, read=4, loaded=3, rejected=1)
    assert _tables(config)["tickets"] == by_csv["tickets"]
    assert [r[:5] for r in _tables(config)["rejects"]] == [(1, "tickets", "export.xlsx", 4, "T4")]


def test_xlsx_excel_datetime_with_fraction_of_a_second(tmp_path, load, config):
    """Excel date-times from =JETZT() or timestamp columns carry fractions of a second."""
    row = {
        **ticket_row(),
        "Eingang": dt.datetime(2026, 3, 2, 9, 15, 0, 500000),
        "Erledigt": dt.datetime(2026, 3, 3, 23, 59, 59, 999000),
    }
    path = tmp_path / "now.xlsx"
    path.write_bytes(_xlsx([HEADER, [row.get(h) or None for h in HEADER]]))
    [result] = load(path)
    _check(result, read=1, loaded=1)
    t = _tickets(config)["T1"]
    assert (t["received"], t["completed"]) == (dt.date(2026, 3, 2), dt.date(2026, 3, 3))


def test_xlsx_header_only_and_blank_rows(tmp_path, load, config):
    empty = tmp_path / "leer.xlsx"
    empty.write_bytes(_xlsx([HEADER]))
    gaps = tmp_path / "luecken.xlsx"
    gaps.write_bytes(
        _xlsx(
            [
                HEADER,
                ticket_line(ticket_row()),
                [],
                [None] * 5,
                ticket_line(ticket_row(**{"Ticket-ID": "T2"})),
            ]
        )
    )
    [r_empty, r_gaps] = load(empty, gaps)
    _check(r_empty, read=0, loaded=0)
    _check(r_gaps, read=2, loaded=2)
    assert {t: r["source_record"] for t, r in _tickets(config).items()} == {"T1": 1, "T2": 2}


# ------------------------------------------------- 5. replacement and idempotency


def test_later_export_replaces_known_ticket(write_export, load, config):
    [first] = load(write_export([ticket_row(), ticket_row(**{"Ticket-ID": "T2"})]))
    assert (first.records_new, first.records_replaced) == (2, 0)
    changed = ticket_row(**{"Erledigt": "05.03.2026", "Bearbeiter": "Bernd Bär"})
    [second] = load(write_export([changed, ticket_row(**{"Ticket-ID": "T3"})]))
    _check(second, read=2, loaded=2)
    assert (second.records_new, second.records_replaced) == (1, 1)
    t = _tickets(config)
    assert set(t) == {"T1", "T2", "T3"}
    assert (t["T1"]["worker"], t["T1"]["completed"]) == ("Bernd Bär", dt.date(2026, 3, 5))
    assert t["T1"]["load_id"] == second.load_id
    assert t["T2"]["load_id"] == first.load_id
    assert "1 ersetzt" in second.summary()


def test_rejected_row_does_not_replace_known_ticket(write_export, load, config):
    load(write_export([ticket_row()]))
    [second] = load(write_export([ticket_row(**{"Eingang": "kaputt", "Bearbeiter": "Neu"})]))
    _check(second, read=1, loaded=0, rejected=1)
    assert second.records_replaced == 0
    assert _tickets(config)["T1"]["worker"] == "Anna Alt"


def test_loading_the_same_file_twice_changes_nothing(write_export, load, config):
    path = write_export(
        [ticket_row(), ticket_row(**{"Ticket-ID": "T2", "Bereich": "?"}), ticket_row()]
    )
    absences = write_export([["Anna Alt", "02.03.2026", "06.03.2026", ""]], header=ABSENCE_HEADER)
    [first, first_abs] = load(path, absences=[absences])
    before = _snapshot(config)
    [again, again_abs] = load(path, absences=[absences])
    assert again.already_loaded_as == first.load_id
    assert again_abs.already_loaded_as == first_abs.load_id
    assert again.load_id is None and again.refused is None
    assert "bereits geladen" in again.summary()
    assert _snapshot(config) == before


def test_same_content_under_another_name_is_already_loaded(tmp_path, write_export, load, config):
    path = write_export([ticket_row()])
    [first] = load(path)
    copy = tmp_path / "kopie.csv"
    copy.write_bytes(path.read_bytes())
    before = _tables(config)
    [again] = load(copy)
    assert again.already_loaded_as == first.load_id
    assert _tables(config) == before


def test_reloading_an_old_export_does_not_undo_a_newer_one(write_export, load, config):
    old = write_export([ticket_row()])
    load(old)
    load(write_export([ticket_row(**{"Erledigt": "04.03.2026"})]))
    [again] = load(old)
    assert again.already_loaded_as == 1
    assert _tickets(config)["T1"]["completed"] == dt.date(2026, 3, 4)


# -------------------------------------------------------------------- 6. atomicity


class _FailingLoadLog:
    """A connection proxy whose load_log insert fails, after tickets and rejects are written."""

    def __init__(self, con):
        self._con = con

    def execute(self, sql, *args):
        if sql.lstrip().startswith("INSERT INTO load_log"):
            raise duckdb.IOException("disk full (simulated)")
        return self._con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def _fail_after_write(monkeypatch):
    real = etl.load._write

    def write_then_fail(con, *args, **kwargs):
        real(con, *args, **kwargs)
        assert con.execute("SELECT count(*) FROM tickets").fetchone()[0] > 0
        raise RuntimeError("simulated crash after writing")

    monkeypatch.setattr(etl.load, "_write", write_then_fail)


def _fail_load_log(monkeypatch):
    real = etl.load._write
    monkeypatch.setattr(
        etl.load, "_write", lambda con, *a, **k: real(_FailingLoadLog(con), *a, **k)
    )


@pytest.mark.parametrize("sabotage", [_fail_after_write, _fail_load_log])
def test_failing_load_leaves_database_untouched(
    monkeypatch, write_export, load, config, loaded_once, sabotage
):
    replacing = write_export(
        [
            ticket_row(**{"Bearbeiter": "Neu"}),
            ticket_row(**{"Ticket-ID": "T7"}),
            ticket_row(**{"Ticket-ID": "T8", "Bereich": "x"}),
        ]
    )
    original = etl.load._write
    sabotage(monkeypatch)
    with pytest.raises(Exception, match="simulated"):
        load(replacing)
    assert _snapshot(config) == loaded_once  # bytes, tables and no temp files
    monkeypatch.setattr(etl.load, "_write", original)
    [result] = load(replacing)  # the lock is released and the next load works
    _check(result, read=3, loaded=2, rejected=1)
    assert _tickets(config)["T1"]["worker"] == "Neu"


def test_failure_in_a_later_file_discards_the_whole_call(
    monkeypatch, write_export, load, config, loaded_once
):
    real = etl.load._write
    calls = []

    def second_fails(con, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("simulated failure in file 2")
        return real(con, *args, **kwargs)

    monkeypatch.setattr(etl.load, "_write", second_fails)
    a = write_export([ticket_row(**{"Ticket-ID": "A1"})])
    b = write_export([ticket_row(**{"Ticket-ID": "B1"})])
    with pytest.raises(RuntimeError, match="simulated"):
        load(a, b)
    assert _snapshot(config) == loaded_once


def test_successful_load_leaves_no_temp_files(write_export, load, config):
    load(write_export([ticket_row()]))
    load(write_export([ticket_row(**{"Ticket-ID": "T2"})]))
    names = os.listdir(config.database.parent)
    assert not [n for n in names if n.endswith((".tmp", ".wal")) or ".tmp" in n], names


# ------------------------------------------------------------- 7. customer number


def _every_value(config) -> list[str]:
    return [str(v) for rows in _tables(config).values() for row in rows for v in row]


def test_customer_number_is_stored_only_as_keyed_hash(write_export, load, config):
    path = write_export(
        [
            ticket_row(**{"Kundennummer": CUSTOMER}),
            ticket_row(**{"Ticket-ID": "T2", "Kundennummer": CUSTOMER, "Eingang": "kaputt"}),
            ticket_row(**{"Ticket-ID": "T3", "Kundennummer": CUSTOMER, "Bereich": "Rente"}),
            ticket_row(**{"Ticket-ID": "T4", "Kundennummer": "987X654321"}),
            ticket_row(**{"Ticket-ID": "T4", "Kundennummer": "987X654322"}),
        ]
    )
    [result] = load(path)
    _check(result, read=5, loaded=1, rejected=4)
    key_file = config.storage.key_file
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert os.listdir(key_file.parent) == [key_file.name]  # no temp file beside it
    key = bytes.fromhex(key_file.read_text(encoding="ascii").strip())
    assert len(key) >= 32
    assert _tickets(config)["T1"]["customer"] == pseudonym(key, CUSTOMER)
    for value in _every_value(config):
        for clear in (CUSTOMER, "987X654321", "987X654322"):
            assert clear not in value
    raws = [r["raw"] + r["reason"] for r in _query(config, "SELECT raw, reason FROM rejects")]
    assert len(raws) == 4 and all("Kundennummer" not in r for r in raws)
    assert CUSTOMER.encode() not in config.database.read_bytes()


def test_same_customer_gets_same_pseudonym_across_loads(write_export, load, config):
    load(write_export([ticket_row(**{"Kundennummer": CUSTOMER})]))
    key_before = config.storage.key_file.read_bytes()
    load(write_export([ticket_row(**{"Ticket-ID": "T2", "Kundennummer": CUSTOMER})]))
    load(write_export([ticket_row(**{"Ticket-ID": "T3", "Kundennummer": "111A222333"})]))
    assert config.storage.key_file.read_bytes() == key_before
    t = _tickets(config)
    assert t["T1"]["customer"] == t["T2"]["customer"] != t["T3"]["customer"]
    assert 0 <= t["T1"]["customer"] < 2**64
    assert t["T3"]["customer"] == pseudonym(bytes.fromhex(key_before.decode()), "111A222333")


def test_empty_customer_number_stays_empty(write_export, load, config):
    load(write_export([ticket_row(**{"Kundennummer": "  "})]))
    assert _tickets(config)["T1"]["customer"] is None


def test_customer_number_not_in_rejects_of_misaligned_record(write_export, load, config):
    row = ticket_line(ticket_row(**{"Kundennummer": CUSTOMER}))
    del row[HEADER.index("Team")]  # one field missing: everything after it shifts left
    [result] = load(write_export([row]))
    _check(result, read=1, loaded=0, rejected=1)
    for value in _every_value(config):
        assert CUSTOMER not in value


@pytest.mark.parametrize(
    "content", ["", "\n", "ab", "zz" * 32], ids=["empty", "newline", "short", "no-hex"]
)
def test_damaged_key_file_stops_the_load(write_export, config, content):
    """An empty or short key would make the pseudonyms an unkeyed hash anyone can reverse;
    a new key would break the link to earlier pseudonyms. Neither may happen silently."""
    key_file = config.storage.key_file
    key_file.parent.mkdir(parents=True)
    key_file.write_text(content, encoding="ascii")
    key_file.chmod(0o600)
    path = write_export([ticket_row(**{"Kundennummer": CUSTOMER})])
    with pytest.raises(Exception, match="Schlüssel"):
        etl.load.load_files(config, [path])
    assert key_file.read_text(encoding="ascii") == content  # not replaced behind our back
    assert not config.database.exists()


# ------------------------------------------------------------------- 8. absences


def test_absences_load_validate_and_reconcile(write_export, load, config):
    path = write_export(
        [
            ["Anna Alt", "02.03.2026", "06.03.2026", "Bernd Bär"],
            ["Bernd Bär", "06.03.2026", "02.03.2026", ""],
            ["", "02.03.2026", "03.03.2026", "Anna Alt"],
            ["Carl", "erster März", "03.03.2026", ""],
            ["Dora", "2026-03-09", "2026-03-09", ""],
            ["Emil", "09.03.2026", "", ""],
            ["Dora", "2026-03-09", "2026-03-09", ""],
            ["Fritz", "09.03.2026"],
            ["Gustav", "10.03.2026", "11.03.2026", ""],
            ["Gustav", "2026-03-10", "12.03.2026", ""],
        ],
        header=ABSENCE_HEADER,
    )
    [result] = load(absences=[path])
    assert result.kind == "absences"
    _check(result, read=10, loaded=2, rejected=7, duplicate=1)
    rejects = _rejects(config)
    assert [(r, t) for r, t, _ in rejects] == [
        (2, None),
        (3, None),
        (4, None),
        (6, None),
        (8, None),
        (9, None),
        (10, None),
    ]
    reasons = [reason for _, _, reason in rejects]
    assert "Bis (02.03.2026) liegt vor Von (06.03.2026)" in reasons[0]
    assert "Bearbeiter fehlt" in reasons[1]
    assert "Von ist kein Datum" in reasons[2]
    assert "Bis fehlt" in reasons[3]
    assert "Falsche Anzahl Felder" in reasons[4]
    for reason in reasons[5:]:  # same Bearbeiter and Von, different Bis
        assert "Bearbeiter / Von mehrfach mit unterschiedlichem Inhalt (Datensätze 9, 10)" in reason
    rows = _query(config, "SELECT * FROM absences ORDER BY worker")
    assert [(r["worker"], r["date_from"], r["date_to"], r["substitute"]) for r in rows] == [
        ("Anna Alt", dt.date(2026, 3, 2), dt.date(2026, 3, 6), "Bernd Bär"),
        ("Dora", dt.date(2026, 3, 9), dt.date(2026, 3, 9), None),
    ]
    assert _tickets(config) == {}


def test_absences_header_in_any_order_and_case(write_export, load, config):
    header = [" vertretung", "BIS", "von ", "Bearbeiter", "Notiz"]
    [result] = load(
        absences=[write_export([["Bob", "06.03.2026", "02.03.2026", "Anna", "x"]], header=header)]
    )
    _check(result, read=1, loaded=1)
    [row] = _query(config, "SELECT * FROM absences")
    assert (row["worker"], row["date_from"], row["date_to"], row["substitute"]) == (
        "Anna",
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 6),
        "Bob",
    )


def test_later_absence_with_same_worker_and_start_replaces(write_export, load, config):
    load(
        absences=[
            write_export(
                [
                    ["Anna", "02.03.2026", "06.03.2026", "Bob"],
                    ["Anna", "16.03.2026", "20.03.2026", ""],
                ],
                header=ABSENCE_HEADER,
            )
        ]
    )
    [second] = load(
        absences=[
            write_export([["Anna", "2026-03-02", "2026-03-10", "Carl"]], header=ABSENCE_HEADER)
        ]
    )
    _check(second, read=1, loaded=1)
    assert (second.records_new, second.records_replaced) == (0, 1)
    rows = _query(config, "SELECT worker, date_from, date_to, substitute FROM absences ORDER BY 2")
    assert [tuple(r.values()) for r in rows] == [
        ("Anna", dt.date(2026, 3, 2), dt.date(2026, 3, 10), "Carl"),
        ("Anna", dt.date(2026, 3, 16), dt.date(2026, 3, 20), None),
    ]


def test_absences_missing_required_column_is_refused(write_export, load, config):
    [result] = load(absences=[write_export([["Anna", "02.03.2026"]], header=["Bearbeiter", "Von"])])
    assert result.refused and "Bis" in result.refused


# -------------------------------------------------------------------- 9. load log


def test_load_log_records_every_loaded_file(write_export, load, config):
    tickets = write_export(
        [ticket_row(), ticket_row(**{"Ticket-ID": "T2", "Team": ""}), ticket_row()],
        name="tickets-maerz.csv",
        encoding="cp1252",
    )
    absences = write_export(
        [["Anna", "02.03.2026", "06.03.2026", ""]], header=ABSENCE_HEADER, name="abw.csv"
    )
    refused = write_export([], header=["nur", "zwei"], name="falsch.csv")
    before = dt.datetime.now()
    results = load(tickets, refused, absences=[absences])
    after = dt.datetime.now()
    assert results[1].refused
    log = _query(config, "SELECT * FROM load_log ORDER BY load_id")
    assert len(log) == 2  # no row for the refused file
    for row, result, path in zip(log, [results[0], results[2]], [tickets, absences], strict=True):
        assert row["load_id"] == result.load_id
        assert row["kind"] == result.kind
        assert row["file_name"] == path.name
        assert row["content_hash"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert row["encoding"] == result.encoding
        assert before <= row["started_at"] <= row["finished_at"] <= after
        counts = (
            "rows_read",
            "rows_loaded",
            "rows_rejected",
            "rows_duplicate",
            "records_new",
            "records_replaced",
        )
        assert tuple(row[c] for c in counts) == tuple(getattr(result, c) for c in counts)
    assert (log[0]["kind"], log[0]["encoding"], log[0]["rows_read"]) == ("tickets", "cp1252", 3)
    assert (log[0]["rows_loaded"], log[0]["rows_rejected"], log[0]["rows_duplicate"]) == (1, 1, 1)
    assert log[1]["kind"] == "absences"


def test_progress_reports_reach_the_end(write_export, config):
    seen: list[tuple[str, float]] = []
    etl.load.load_files(
        config, [write_export([ticket_row()])], progress=lambda s, f: seen.append((s, f))
    )
    assert seen and seen[-1][1] == pytest.approx(1.0)
    assert all(0.0 <= f <= 1.0 for _, f in seen)


def _bomb(path, megabytes: int) -> None:
    """A valid export workbook with one cell that unpacks to `megabytes` MiB."""
    import zipfile

    from openpyxl import Workbook

    plain = path.with_suffix(".plain.xlsx")
    book = Workbook()
    book.active.append(HEADER)
    book.active.append(ticket_line(ticket_row()))
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for part in source.infolist():
            data = source.read(part)
            if part.filename != "xl/worksheets/sheet1.xml":
                out.writestr(part, data)
                continue
            head, _, tail = data.decode().rpartition("</sheetData>")
            with out.open(part.filename, "w") as target:
                target.write(head.encode() + b'<row r="3"><c r="A3" t="inlineStr"><is><t>')
                for _ in range(megabytes):  # written a MiB at a time
                    target.write(b"a" * (1 << 20))
                target.write(b"</t></is></c></row></sheetData>" + tail.encode())


def test_a_workbook_that_unpacks_to_far_more_is_refused_unopened(tmp_path, load, config):
    import resource

    path = tmp_path / "bombe.xlsx"
    _bomb(path, 200)
    assert path.stat().st_size < 1 << 20  # under a MiB on disk
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    [result] = load(path)
    assert result.refused and "so viel enthält kein Export" in result.refused
    # refused from the zip directory alone: the process did not grow by the unpacked size
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KiB
    assert not config.database.exists() or _tickets(config) == {}
