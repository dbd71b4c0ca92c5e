"""Load history, rejected rows and data checks on small exports loaded by the real ETL."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.core.config import load_config
from dashboard.core.storage import connect_readonly
from dashboard.queries import quality
from dashboard.queries.filters import Filters
from etl.load import load_files
from etl.sources import csv_text
from tests.conftest import HEADER, d, ticket_row

L1 = {"Team": "Leistung 1"}
I1 = {"Bereich": "Integration", "Team": "Integration 1", "Bearbeiter": "Cora Ernst"}

# First export (load 1): March tickets of Anna and Bert (Leistung 1), Cora's February
# ticket (Integration 1), one identical duplicate and three rejected rows.
FIRST = [
    ticket_row(**{"Ticket-ID": "A1", **L1, "Erledigt": "04.03.2026"}),
    ticket_row(**{"Ticket-ID": "A2", **L1}),  # never completed
    ticket_row(**{"Ticket-ID": "A4", **L1, "Erledigt": "15.05.2026"}),
    ticket_row(**{"Ticket-ID": "B1", **L1, "Bearbeiter": "Bert Bach", "Erledigt": "03.03.2026"}),
    ticket_row(**{"Ticket-ID": "B1", **L1, "Bearbeiter": "Bert Bach", "Erledigt": "03.03.2026"}),
    ticket_row(**{"Ticket-ID": "C1", **I1, "Eingang": "03.02.2026", "Erledigt": "04.02.2026"}),
    ticket_row(**{"Ticket-ID": "X1", "Bereich": "50%"}),
    ticket_row(**{"Ticket-ID": "X2", "Eingang": "32.03.2026"}),
    ticket_row(**{"Ticket-ID": "X3", "Team": ""}),
]  # fmt: skip
# Second export (load 2): a new worker Dora in Leistung 1 (April stays empty: a gap),
# Anna now in Leistung 2 (a team change), Cora's May ticket (Integration 1 misses March
# and April), A1 again (replaced) and two rejected rows.
SECOND = [
    ticket_row(**{"Ticket-ID": "A1", **L1, "Erledigt": "04.03.2026"}),
    ticket_row(**{"Ticket-ID": "D1", **L1, "Bearbeiter": "Dora Dorn", "Eingang": "04.05.2026"}),
    ticket_row(**{"Ticket-ID": "A3", "Team": "Leistung 2", "Eingang": "04.05.2026",
                  "Erledigt": "05.05.2026"}),
    ticket_row(**{"Ticket-ID": "C2", **I1, "Eingang": "04.05.2026"}),
    ticket_row(**{"Ticket-ID": "X4", "Eingang": "04.05.2026", "Erledigt": "01.05.2026"}),
    ticket_row(**{"Ticket-ID": "X5", "Bereich": "O'Reilly"}),
]  # fmt: skip
ABSENCES = """Bearbeiter;Von;Bis;Vertretung
Anna Alt;09.03.2026;13.03.2026;Bert Bach
Bert Bach;16.03.2026;20.03.2026;
Cora Ernst;25.05.2026;05.06.2026;
Dora Dorn;01.06.2026;05.06.2026;
Ana Alt;23.03.2026;24.03.2026;Bert Bach
Zoe Zander;07.04.2026;07.04.2026;
"""
S = d("29.05.2026")  # a Friday; Whit Monday 25.05. and Ascension 14.05. are holidays
MARCH = d("31.03.2026")  # only tickets of the first load received yet
APRIL = d("30.04.2026")


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    """The three exports loaded once for the module (a load takes about a second)."""
    tmp = tmp_path_factory.mktemp("quality")
    config = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(tmp / "db" / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(tmp / "secret" / "key"),
        }
    )

    def export(rows, name):
        path = tmp / name
        lines = [HEADER] + [[row.get(h, "") for h in HEADER] for row in rows]
        path.write_text(csv_text(lines), encoding="utf-8")
        return path

    first = export(FIRST, "tickets-maerz.csv")
    second = export(SECOND, "tickets-mai.csv")
    absences = tmp / "abwesenheiten.csv"
    absences.write_text(ABSENCES, encoding="utf-8")
    results = load_files(config, [first]) + load_files(config, [second], [absences])
    assert all(r.reconciled and not r.refused for r in results)
    connection = connect_readonly(config)
    yield connection
    connection.close()


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """The frame's rows as plain tuples (dates as date) for comparison with a case table."""
    out = frame[columns].copy()
    for column in columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.date
    return [tuple(r) for r in out.itertuples(index=False)]


def test_load_history_lists_every_load_with_its_reconciliation(con):
    frame = quality.load_history(con, S)
    assert _rows(
        frame,
        ["load_id", "file_name", "kind", "rows_read", "rows_loaded", "rows_rejected",
         "rows_duplicate", "records_new", "records_replaced", "encoding", "reconciled"],
    ) == [
        (3, "abwesenheiten.csv", "absences", 6, 6, 0, 0, 6, 0, "utf-8", True),
        (2, "tickets-mai.csv", "tickets", 6, 4, 2, 0, 3, 1, "utf-8", True),
        (1, "tickets-maerz.csv", "tickets", 9, 5, 3, 1, 5, 0, "utf-8", True),
    ]  # fmt: skip
    assert (frame["finished_at"] >= frame["started_at"]).all()


def test_reject_files_counts_rows_per_file(con):
    frame = quality.reject_files(con, S)
    assert _rows(frame, ["file_name", "rejects", "last_load_id"]) == [
        ("tickets-mai.csv", 2, 2),
        ("tickets-maerz.csv", 3, 1),
    ]


@pytest.mark.parametrize(
    ("file_name", "search", "expected"),
    [
        (None, "", ["X4", "X5", "X1", "X2", "X3"]),
        # '%' and '_' are literal characters, not LIKE wildcards that would match everything
        (None, "%", ["X1"]),
        (None, "'50%'", ["X1"]),
        (None, "_", []),
        # a quote is part of the value, never of the statement
        (None, "'", ["X5", "X1", "X2"]),
        (None, "o'reilly", ["X5"]),
        (None, "' OR '1'='1", []),
        (None, "KEIN DATUM", ["X2"]),
        (None, "  fehlt ", ["X3"]),
        ("tickets-maerz.csv", "", ["X1", "X2", "X3"]),
        ("tickets-maerz.csv", "erledigt", []),
        ("tickets-mai.csv", "erledigt", ["X4"]),
        ("nicht-geladen.csv", "", []),
    ],
)
def test_rejected_rows_filter_by_file_and_reason(con, file_name, search, expected):
    frame = quality.rejected_rows(con, S, Filters(), file_name=file_name, search=search)
    assert frame["ticket_id"].tolist() == expected


def test_rejected_rows_keep_record_reason_and_raw_text(con):
    frame = quality.rejected_rows(con, S, Filters(), search="50%")
    row = frame.iloc[0]
    # X1 is the 7th data record of the first export (the duplicate B1 counts as a record)
    assert (row.load_id, row.kind, row.file_name, row.record) == (
        1,
        "tickets",
        "tickets-maerz.csv",
        7,
    )
    assert row.reason == "Unbekannter Wert für Bereich: '50%' (erlaubt: Leistung, Integration)"
    assert row.raw.startswith("Ticket-ID: X1 | Bereich: 50% | Team: Leistung 1")
    assert "Kundennummer" not in row.raw


@pytest.mark.parametrize(
    ("as_of", "filters", "expected"),
    [
        # Bert's tickets all come from load 1, Dora's from load 2; Anna and Cora have
        # tickets of both (A1 was replaced by load 2, A2 and A4 stayed from load 1).
        (S, Filters(), [("Dora Dorn", "Leistung 1", 2, "tickets-mai.csv", 1),
                        ("Bert Bach", "Leistung 1", 1, "tickets-maerz.csv", 1)]),
        (S, Filters(teams=("Leistung 1",)),
         [("Dora Dorn", "Leistung 1", 2, "tickets-mai.csv", 1),
          ("Bert Bach", "Leistung 1", 1, "tickets-maerz.csv", 1)]),
        (S, Filters(workers=("Bert Bach",)),
         [("Bert Bach", "Leistung 1", 1, "tickets-maerz.csv", 1)]),
        (S, Filters(teams=("Integration 1",)), []),
        # up to 31.03.: A1 (replaced by load 2) keeps Anna off the list; Bert and Cora not
        (MARCH, Filters(), [("Bert Bach", "Leistung 1", 1, "tickets-maerz.csv", 1),
                            ("Cora Ernst", "Integration 1", 1, "tickets-maerz.csv", 1)]),
        # up to 28.02. only C1 is received: tickets of a single load tell nothing yet
        (d("28.02.2026"), Filters(), []),
    ],
)  # fmt: skip
def test_single_load_workers(con, as_of, filters, expected):
    frame = quality.single_load_workers(con, as_of, filters)
    assert _rows(frame, ["worker", "team", "load_id", "file_name", "tickets"]) == expected


@pytest.mark.parametrize(
    ("as_of", "filters", "expected"),
    [
        # Leistung 1: March, May -> April; Integration 1: February, May -> March, April;
        # Leistung 2 has only May. Leistung is listed first (as in metrics.dimensions).
        (S, Filters(), [("Leistung", "Leistung 1", d("01.04.2026")),
                        ("Integration", "Integration 1", d("01.03.2026")),
                        ("Integration", "Integration 1", d("01.04.2026"))]),
        (S, Filters(areas=("Integration",)), [("Integration", "Integration 1", d("01.03.2026")),
                                              ("Integration", "Integration 1", d("01.04.2026"))]),
        (S, Filters(workers=("Dora Dorn",)), [("Leistung", "Leistung 1", d("01.04.2026"))]),
        (S, Filters(teams=("Leistung 2",)), []),
        # up to 30.04. no team has a receipt after its gap yet
        (APRIL, Filters(), []),
    ],
)  # fmt: skip
def test_team_gaps(con, as_of, filters, expected):
    frame = quality.team_gaps(con, as_of, filters)
    assert _rows(frame, ["area", "team", "month"]) == expected


@pytest.mark.parametrize(
    ("as_of", "days", "filters", "expected"),
    [
        # Working days after 02.03. up to 29.05.: 21 in March, 20 in April (Good Friday,
        # Easter Monday), 18 in May (1 May, Ascension, Whit Monday) = 59; after 04.05.: 17.
        (S, 30, Filters(), [("A2", 59)]),
        (S, 17, Filters(), [("A2", 59)]),  # more than 17: C2 and D1 have exactly 17
        (S, 16, Filters(), [("A2", 59), ("C2", 17), ("D1", 17)]),
        (S, 58, Filters(), [("A2", 59)]),
        (S, 59, Filters(), []),
        (S, 16, Filters(areas=("Integration",)), [("C2", 17)]),
        # the period filter does not hide tickets due long ago
        (S, 16, Filters(period=(d("01.05.2026"), d("01.05.2026"))),
         [("A2", 59), ("C2", 17), ("D1", 17)]),
        # at 30.04. A4 (completed 15.05.) is still open: 21 + 20 = 41 working days
        (APRIL, 30, Filters(), [("A2", 41), ("A4", 41)]),
        (MARCH, 20, Filters(), [("A2", 21), ("A4", 21)]),
        (MARCH, 21, Filters(), []),
    ],
)  # fmt: skip
def test_long_open(con, as_of, days, filters, expected):
    frame = quality.long_open(con, as_of, filters, days=days)
    assert _rows(frame, ["ticket_id", "working_days_open"]) == expected
    assert set(frame["status"]) <= {"overdue", "open_extended", "extended_missed"}


@pytest.mark.parametrize(
    ("as_of", "filters", "expected"),
    [
        (S, Filters(), [("Anna Alt", 2, "Leistung 1 → Leistung 2",
                         "Leistung 1: 3 | Leistung 2: 1", 4)]),
        # the other team need not be selected: the check decides on all tickets
        (S, Filters(teams=("Leistung 2",)), [("Anna Alt", 2, "Leistung 1 → Leistung 2",
                                              "Leistung 1: 3 | Leistung 2: 1", 4)]),
        (S, Filters(teams=("Integration 1",)), []),
        (APRIL, Filters(), []),
    ],
)  # fmt: skip
def test_team_changes(con, as_of, filters, expected):
    frame = quality.team_changes(con, as_of, filters)
    assert (
        _rows(frame, ["worker", "team_count", "teams", "tickets_per_team", "tickets"]) == expected
    )


@pytest.mark.parametrize(
    ("as_of", "filters", "expected"),
    [
        # Dora's absence begins after the Stichtag; Anna's and Ana's name a substitute.
        # Cora 25.05.-05.06.: Whit Monday is off -> 4 + 5 working days, absent at S.
        (S, Filters(), [("Cora Ernst", d("25.05.2026"), d("05.06.2026"), 9, True),
                        ("Zoe Zander", d("07.04.2026"), d("07.04.2026"), 1, False),
                        ("Bert Bach", d("16.03.2026"), d("20.03.2026"), 5, False)]),
        (S, Filters(teams=("Integration 1",)),
         [("Cora Ernst", d("25.05.2026"), d("05.06.2026"), 9, True)]),
        # with a team filter, names without tickets (Zoe) cannot belong to it
        (S, Filters(teams=("Leistung 1",)),
         [("Bert Bach", d("16.03.2026"), d("20.03.2026"), 5, False)]),
        (MARCH, Filters(), [("Bert Bach", d("16.03.2026"), d("20.03.2026"), 5, False)]),
        (d("18.03.2026"), Filters(), [("Bert Bach", d("16.03.2026"), d("20.03.2026"), 5, True)]),
    ],
)  # fmt: skip
def test_absences_without_substitute(con, as_of, filters, expected):
    frame = quality.absences_without_substitute(con, as_of, filters)
    assert _rows(frame, ["worker", "date_from", "date_to", "working_days", "current"]) == expected
    assert set(frame["file_name"]) <= {"abwesenheiten.csv"}


@pytest.mark.parametrize(
    ("as_of", "filters", "expected"),
    [
        # Dora is known from D1 (04.05.); her absence begins after S anyway. The closest
        # name is listed even when it is no real match (Zoe's).
        (S, Filters(), [("Ana Alt", 1, "Anna Alt"), ("Zoe Zander", 1, "Dora Dorn")]),
        (S, Filters(teams=("Leistung 1",)), [("Ana Alt", 1, "Anna Alt"),
                                             ("Zoe Zander", 1, "Dora Dorn")]),
        (S, Filters(teams=("Integration 1",)), []),
        (S, Filters(workers=("Anna Alt",)), [("Ana Alt", 1, "Anna Alt")]),
        # Zoe's absence (07.04.) has not begun at 31.03.
        (MARCH, Filters(), [("Ana Alt", 1, "Anna Alt")]),
    ],
)  # fmt: skip
def test_unknown_absence_workers(con, as_of, filters, expected):
    frame = quality.unknown_absence_workers(con, as_of, filters)
    assert _rows(frame, ["worker", "absences", "similar_worker"]) == expected
    if not frame.empty:
        assert frame.set_index("worker").loc["Ana Alt", "similarity"] > 0.9


def test_checks_on_an_empty_database(load, db):
    """(Uses the function fixtures: a load of no file creates the empty database.)"""
    load()
    con = db()
    for fn in (
        quality.load_history,
        quality.reject_files,
        quality.rejected_rows,
        quality.single_load_workers,
        quality.team_gaps,
        quality.long_open,
        quality.team_changes,
        quality.absences_without_substitute,
        quality.unknown_absence_workers,
    ):
        assert fn(con, S, Filters()).empty, fn.__name__
