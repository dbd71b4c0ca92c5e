"""Tests of the synthetic demo export (etl/demo.py)."""

from __future__ import annotations

import csv
import datetime
from collections import defaultdict
from pathlib import Path

import pytest

from etl.demo import DemoFiles, write_demo_export

UNTIL = datetime.date(2025, 6, 30)
N = 2_000
HEADER = (
    "Ticket-ID;Bereich;Team;Bearbeiter;Eingang;Erledigt;Eingangskanal;Anliegen;Kundennummer;"
    "Kunde informiert;Zusage bis;VerBIS-Vermerk;Rückruf erfolgt;TL informiert;Vermerk an TL"
)
DATE_FORMATS = ("%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def read_records(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    """All records of a `;` separated file, header first."""
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.reader(f, delimiter=";"))


def parse_date(text: str) -> datetime.date | None:
    """The date of a field in one of the export's formats, None if it is not a date."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    return None


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return write_demo_export(tmp_path_factory.mktemp("demo"), tickets=N, seed=42, until=UNTIL)


@pytest.fixture(scope="module")
def records(demo: DemoFiles) -> list[list[str]]:
    return read_records(demo.tickets)


@pytest.fixture(scope="module")
def tickets(records: list[list[str]]) -> list[dict[str, str]]:
    """The well-formed rows: right field count, a Ticket-ID and a known Bereich."""
    header, *rows = records
    return [
        dict(zip(header, row, strict=True))
        for row in rows
        if len(row) == len(header) and row[0] and row[1] in ("Leistung", "Integration")
    ]


def test_same_arguments_give_identical_bytes(demo: DemoFiles, tmp_path: Path) -> None:
    again = write_demo_export(tmp_path, tickets=N, seed=42, until=UNTIL)
    assert again == DemoFiles(tmp_path / "tickets.csv", tmp_path / "absences.csv")
    assert again.tickets.read_bytes() == demo.tickets.read_bytes()
    assert again.absences.read_bytes() == demo.absences.read_bytes()


def test_other_seed_gives_other_data(demo: DemoFiles, tmp_path: Path) -> None:
    other = write_demo_export(tmp_path, tickets=N, seed=43, until=UNTIL)
    assert other.tickets.read_bytes() != demo.tickets.read_bytes()
    assert other.absences.read_bytes() != demo.absences.read_bytes()


def test_headers_are_exact_and_unquoted(demo: DemoFiles) -> None:
    assert demo.tickets.read_bytes().splitlines()[0] == HEADER.encode()
    assert demo.absences.read_bytes().splitlines()[0] == b"Bearbeiter;Von;Bis;Vertretung"


def test_cp1252_is_the_same_text_in_windows_encoding(demo: DemoFiles, tmp_path: Path) -> None:
    files = write_demo_export(tmp_path, tickets=N, seed=42, until=UNTIL, encoding="cp1252")
    for cp1252, utf8 in ((files.tickets, demo.tickets), (files.absences, demo.absences)):
        raw = cp1252.read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        assert raw.decode("cp1252") == utf8.read_bytes().decode("utf-8")
    assert "Jürgen Weiß" in files.tickets.read_bytes().decode("cp1252")


def test_receipts_lie_in_the_two_years_before_until(tickets: list[dict[str, str]]) -> None:
    received = [parse_date(t["Eingang"]) for t in tickets]
    dates = [d for d in received if d is not None]
    assert len(dates) >= 0.99 * len(received)
    assert all(UNTIL - datetime.timedelta(days=730) < d <= UNTIL for d in dates)
    assert min(dates) <= UNTIL - datetime.timedelta(days=700)
    assert max(dates) >= UNTIL - datetime.timedelta(days=3)
    assert any("-" in t["Eingang"] for t in tickets), "some rows use ISO dates"


def test_areas_teams_and_workers(tickets: list[dict[str, str]]) -> None:
    teams_of = defaultdict(set)
    for t in tickets:
        teams_of[t["Bearbeiter"]].add(t["Team"])
    teams = {t["Team"] for t in tickets}
    assert {t["Bereich"] for t in tickets} == {"Leistung", "Integration"}
    assert len(teams) == 5
    assert all(t["Team"].startswith(t["Bereich"]) for t in tickets)
    assert 35 <= len(teams_of) <= 45
    assert all(len(team) == 1 for team in teams_of.values()), "each worker in one team"


def test_open_tickets_and_notices_occur(tickets: list[dict[str, str]]) -> None:
    assert any(not t["Erledigt"] for t in tickets)
    notices = [t for t in tickets if t["Kunde informiert"] and t["Zusage bis"]]
    assert sum(t["VerBIS-Vermerk"] == "ja" for t in notices) >= 0.02 * len(tickets)
    assert any(t["VerBIS-Vermerk"] != "ja" for t in notices)


def test_dirty_rows_are_present_and_spread(records: list[list[str]]) -> None:
    header, *rows = records
    wrong_count = [i for i, row in enumerate(rows) if len(row) != len(header)]
    full = [
        (i, dict(zip(header, row, strict=True)))
        for i, row in enumerate(rows)
        if len(row) == len(header)
    ]
    kinds = {
        "empty Ticket-ID": [i for i, t in full if not t["Ticket-ID"]],
        "unknown Bereich": [i for i, t in full if t["Bereich"] not in ("Leistung", "Integration")],
        "Eingang not a date": [i for i, t in full if parse_date(t["Eingang"]) is None],
        "unknown VerBIS-Vermerk": [
            i for i, t in full if t["VerBIS-Vermerk"] not in ("", "ja", "nein")
        ],
        "unknown Anliegen": [
            i for i, t in full if t["Anliegen"] not in ("", "Allgemein", "Rückruf", "Termin")
        ],
    }
    assert wrong_count, "a record with the wrong number of fields"
    for kind, positions in kinds.items():
        assert positions, kind
    versions = defaultdict(list)
    for _, t in full:
        if t["Ticket-ID"]:
            versions[t["Ticket-ID"]].append(tuple(t.values()))
    repeated = [v for v in versions.values() if len(v) > 1]
    assert any(len(set(v)) == 1 for v in repeated), "an identical duplicate"
    assert any(len(set(v)) > 1 for v in repeated), "a conflicting duplicate"
    dirty = sorted(wrong_count + [i for positions in kinds.values() for i in positions])
    assert dirty[0] < len(rows) / 2 < dirty[-1], "spread through the file"


def test_empty_fields_are_empty(demo: DemoFiles, records: list[list[str]]) -> None:
    assert b';"";' not in demo.tickets.read_bytes()
    values = {value for row in records for value in row}
    assert not values & {"nan", "NaN", "None", "null", "NaT"}


def test_absences_name_workers_and_substitutes_of_the_same_team(
    demo: DemoFiles, tickets: list[dict[str, str]]
) -> None:
    team_of = {t["Bearbeiter"]: t["Team"] for t in tickets}
    header, *rows = read_records(demo.absences)
    assert header == ["Bearbeiter", "Von", "Bis", "Vertretung"]
    for worker, first, last, substitute in rows:
        assert worker != substitute
        assert team_of[worker] == team_of[substitute]
        start = datetime.datetime.strptime(first, "%d.%m.%Y").date()
        end = datetime.datetime.strptime(last, "%d.%m.%Y").date()
        assert 1 <= (end - start).days + 1 <= 15
    assert len({row[0] for row in rows}) >= 30
