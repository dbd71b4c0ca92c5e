"""The Wiedervorlage from hand-worked cases, loaded through the real ETL (lights, substitutes).

Stichtag S1 = Thu 02.04.2026: Karfreitag 03.04., the weekend and Ostermontag 06.04. follow,
so the next working day ("morgen fällig") is Tue 07.04.2026. Stichtag S2 = Wed 23.12.2026:
24.12. is a closing day, 25./26.12. holidays, 27.12. a Sunday: next working day Mon 28.12.
Leistung has 5 working days, Integration 2.
"""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from dashboard.core.config import load_config
from dashboard.core.storage import connect_readonly
from dashboard.queries import followup
from dashboard.queries.filters import Filters
from dashboard.ui import downloads
from etl.load import load_files
from etl.sources import csv_text
from tests.conftest import HEADER, d, ticket_row

S1, S2 = "02.04.2026", "23.12.2026"
INT = {"Bereich": "Integration", "Team": "Integration 1", "Bearbeiter": "Cora Ernst"}
BERT = {"Bearbeiter": "Bert Bach"}
EMIL = {"Bearbeiter": "Emil Eck"}
# received Mon 23.03.2026 (Leistung) -> due Mon 30.03.2026; 8 working days open at S1
OLD = {**BERT, "Eingang": "23.03.2026 10:00"}


def notice(told: str, until: str, verbis: str = "ja") -> dict:
    return {"Kunde informiert": told, "Zusage bis": until, "VerBIS-Vermerk": verbis}


# Anna Alt is absent 01.–10.04.2026 (substitute Bert Bach); Cora Ernst only from 06.04.;
# Emil Eck is absent at S1 without a named substitute, so his tickets stay his.
ABSENCES = (
    "Bearbeiter;Von;Bis;Vertretung\n"
    "Anna Alt;01.04.2026;10.04.2026;Bert Bach\n"
    "Cora Ernst;06.04.2026;08.04.2026;Dora Dux\n"
    "Emil Eck;30.03.2026;03.04.2026;\n"
)

# (id, fields, S, light, due, commitment, status, responsible, substitute_for, working days
# open); light None: not on the list at S.
CASES = [
    # R Tue 31.03. -> Wed 01.04. (1), Thu 02.04. (2)
    ("int-today", {**INT, "Eingang": "31.03.2026"}, S1, "today", "02.04.2026", None, "open",
     "Cora Ernst", None, 2),
    # R Thu 26.03. -> 27., 30., 31.03., 01.04., 02.04. (5); Anna absent: on Bert's list
    ("lei-today", {"Eingang": "26.03.2026"}, S1, "today", "02.04.2026", None, "open",
     "Bert Bach", "Anna Alt", 5),
    # R Wed 01.04. -> Thu 02.04. (1), [Fr Karfreitag, Sa, So, Mo Ostermontag], Tue 07.04. (2)
    ("int-next", {**INT, "Eingang": "01.04.2026"}, S1, "next_workday", "07.04.2026", None,
     "open", "Cora Ernst", None, 1),
    # R Fri 27.03. -> 30., 31.03., 01., 02., 07.04. (5); absent without substitute: stays
    ("lei-next", {**EMIL, "Eingang": "27.03.2026"}, S1, "next_workday", "07.04.2026", None,
     "open", "Emil Eck", None, 4),
    # R Mon 30.03. -> 31.03., 01., 02., 07., 08.04. (5)
    ("lei-later", {"Eingang": "30.03.2026"}, S1, "later", "08.04.2026", None, "open",
     "Bert Bach", "Anna Alt", 3),
    # received on S1: -> Tue 07.04. (1), Wed 08.04. (2)
    ("int-later-on-s", {**INT, "Eingang": "02.04.2026"}, S1, "later", "08.04.2026", None,
     "open", "Cora Ernst", None, 0),
    ("lei-overdue", OLD, S1, "overdue", "30.03.2026", None, "overdue", "Bert Bach", None, 8),
    # valid notice, commitment 01.04. broken at S1 -> extended_missed is red as well
    ("lei-ext-missed", {**OLD, **notice("27.03.2026", "01.04.2026")}, S1, "overdue",
     "30.03.2026", "01.04.2026", "extended_missed", "Bert Bach", None, 8),
    # notice on the due day itself is in time; commitment 10.04. still running
    ("lei-extended", {**OLD, **notice("30.03.2026", "10.04.2026")}, S1, "extended",
     "30.03.2026", "10.04.2026", "open_extended", "Bert Bach", None, 8),
    # the commitment ends on S1: still inside the extension
    ("lei-extended-z-on-s", {**OLD, **notice("27.03.2026", "02.04.2026")}, S1, "extended",
     "30.03.2026", "02.04.2026", "open_extended", "Bert Bach", None, 8),
    # notice after the due date, or without VerBIS note: no extension, no commitment shown
    ("lei-notice-late", {**OLD, **notice("31.03.2026", "10.04.2026")}, S1, "overdue",
     "30.03.2026", None, "overdue", "Bert Bach", None, 8),
    ("lei-no-verbis", {**OLD, **notice("27.03.2026", "10.04.2026", "nein")}, S1, "overdue",
     "30.03.2026", None, "overdue", "Bert Bach", None, 8),
    # completed after S1: open at S1
    ("lei-done-after-s", {**BERT, "Eingang": "30.03.2026", "Erledigt": "07.04.2026"}, S1,
     "later", "08.04.2026", None, "open", "Bert Bach", None, 3),
    # a valid notice before the due date: still "open", the commitment is shown
    ("lei-notice-valid-open", {**BERT, "Eingang": "30.03.2026",
                               **notice("31.03.2026", "15.04.2026")}, S1,
     "later", "08.04.2026", "15.04.2026", "open", "Bert Bach", None, 3),
    # due in January: the follow-up list ignores the period (20+20+22+2 working days open)
    ("lei-overdue-january", {**BERT, "Eingang": "02.01.2026"}, S1, "overdue", "09.01.2026",
     None, "overdue", "Bert Bach", None, 64),
    ("lei-done-before-s", {**BERT, "Eingang": "30.03.2026", "Erledigt": "01.04.2026"}, S1,
     None, None, None, None, None, None, None),
    ("lei-received-after-s", {**BERT, "Eingang": "03.04.2026"}, S1,
     None, None, None, None, None, None, None),
    # Christmas: R Wed 16.12. -> 17., 18., 21., 22., 23.12. (5)
    ("lei-today-xmas", {"Eingang": "16.12.2026"}, S2, "today", "23.12.2026", None, "open",
     "Anna Alt", None, 5),
    # R Tue 22.12. -> Wed 23.12. (1), [24. Schließtag, 25., 26., 27.], Mon 28.12. (2)
    ("int-next-xmas", {**INT, "Eingang": "22.12.2026"}, S2, "next_workday", "28.12.2026",
     None, "open", "Cora Ernst", None, 1),
    # R Mon 21.12. -> 22., 23., 28., 29., 30.12. (5)
    ("lei-later-xmas", {"Eingang": "21.12.2026"}, S2, "later", "30.12.2026", None, "open",
     "Anna Alt", None, 2),
]  # fmt: skip
IDS = [c[0] for c in CASES]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("followup")
    config = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(tmp / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(tmp / "key"),
        }
    )
    rows = [ticket_row(**{"Ticket-ID": c[0], **c[1]}) for c in CASES]
    export = tmp / "cases.csv"
    export.write_text(csv_text([HEADER] + [[r.get(h, "") for h in HEADER] for r in rows]))
    absences = tmp / "abwesenheiten.csv"
    absences.write_text(ABSENCES, encoding="utf-8")
    results = load_files(config, [export], [absences])
    assert all(r.reconciled and not r.refused for r in results)
    con = connect_readonly(config)
    yield con
    con.close()


def _value(x):
    """NULL/NaT as None and timestamps as 'TT.MM.JJJJ', so case tables stay readable."""
    if x is None or pd.isna(x):
        return None
    if isinstance(x, pd.Timestamp):
        return f"{x:%d.%m.%Y}"
    return x


@pytest.mark.parametrize(
    ("ticket", "fields", "as_of", "light", "due", "commitment", "status", "responsible",
     "substitute_for", "open_days"),
    CASES,
    ids=IDS,
)  # fmt: skip
def test_followup_row(
    con, ticket, fields, as_of, light, due, commitment, status, responsible, substitute_for,
    open_days,
):  # fmt: skip
    frame = followup.followup_list(con, d(as_of)).set_index("ticket_id")
    if light is None:
        assert ticket not in frame.index
        return
    row = frame.loc[ticket]
    got = (
        row.light, _value(row.due_date), _value(row.commitment_date), row.status,
        row.responsible, _value(row.substitute_for), row.working_days_open,
    )  # fmt: skip
    assert got == (light, due, commitment, status, responsible, substitute_for, open_days)


def test_light_labels(con):
    frame = followup.followup_list(con, d(S1)).set_index("ticket_id")
    assert frame.loc["lei-extended", "light_label"] == "verlängert bis 10.04.2026"
    assert frame.loc["lei-ext-missed", "light_label"] == "überfällig"
    assert frame.loc["int-today", "light_label"] == "heute fällig"
    assert frame.loc["int-next", "light_label"] == "morgen fällig"
    assert frame.loc["lei-later", "light_label"] == "später"


def test_sorted_by_due_date_then_id(con):
    frame = followup.followup_list(con, d(S1))
    expected = sorted((d(c[4]), c[0]) for c in CASES if c[2] == S1 and c[3] is not None)
    assert list(frame["ticket_id"]) == [t for _, t in expected]


def test_period_filter_does_not_apply(con):
    everything = followup.followup_list(con, d(S1))
    march = Filters(period=(d("01.03.2026"), d("01.03.2026")))
    assert list(followup.followup_list(con, d(S1), march)["ticket_id"]) == list(
        everything["ticket_id"]
    )
    by_receipt = Filters(period=(d("01.04.2026"), d("01.04.2026")), month_of="receipt")
    assert len(followup.followup_list(con, d(S1), by_receipt)) == len(everything)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(areas=("Integration",)), ["int-today", "int-next", "int-later-on-s"]),
        (Filters(teams=("Integration 1",)), ["int-today", "int-next", "int-later-on-s"]),
        (Filters(workers=("Emil Eck",)), ["lei-next"]),
        (Filters(teams=("Niemand",)), []),
    ],
    ids=["area", "team", "worker", "empty"],
)
def test_filters_apply(con, filters, expected):
    assert list(followup.followup_list(con, d(S1), filters)["ticket_id"]) == expected


def test_summary_counts_per_light(con):
    row = followup.summary(con, d(S1)).iloc[0]
    assert _value(row.next_workday) == "07.04.2026"
    counts = (row.tickets, row.overdue, row.today, row.next_workday_due, row.extended, row.later)
    # overdue: lei-overdue, -ext-missed, -notice-late, -no-verbis, -overdue-january
    assert counts == (15, 5, 2, 2, 2, 4)
    assert row.as_substitute == 2


@pytest.mark.parametrize(
    ("as_of", "next_workday"),
    [
        ("02.04.2026", "07.04.2026"),  # Thu before Karfreitag and Ostermontag
        ("04.04.2026", "07.04.2026"),  # a Saturday: the next working day is still Tuesday
        ("22.05.2026", "26.05.2026"),  # Fri before Pfingstmontag 25.05.
        ("23.12.2026", "28.12.2026"),  # Heiligabend (Schließtag), Weihnachten, Sunday
        ("30.12.2026", "04.01.2027"),  # Silvester (Schließtag), Neujahr, weekend
        ("01.04.2026", "02.04.2026"),
    ],
)
def test_next_workday(con, as_of, next_workday):
    assert _value(followup.summary(con, d(as_of)).iloc[0].next_workday) == next_workday


def test_by_responsible(con):
    people = followup.by_responsible(con, d(S1)).set_index("responsible")
    assert list(people.index) == ["Bert Bach", "Cora Ernst", "Emil Eck"]
    bert = people.loc["Bert Bach"]
    assert (bert.tickets, bert.overdue, bert.today, bert.extended, bert.later) == (11, 5, 1, 2, 3)
    assert bert.as_substitute == 2  # Anna's lei-today and lei-later
    assert (bert.oldest_ticket, _value(bert.oldest_receipt)) == (
        "lei-overdue-january",
        "02.01.2026",
    )
    assert bert.oldest_working_days == 64
    cora = people.loc["Cora Ernst"]
    assert (cora.tickets, cora.today, cora.next_workday, cora.later) == (3, 1, 1, 1)
    assert cora.oldest_ticket == "int-today"


def test_empty_selection(con):
    nobody = Filters(teams=("Niemand",))
    assert followup.by_responsible(con, d(S1), nobody).empty
    assert followup.summary(con, d(S1), nobody).iloc[0].tickets == 0
    assert followup.followup_list(con, d("01.01.2020")).empty


def test_export_has_german_headers_and_dates(con):
    export = followup.export_frame(followup.followup_list(con, d(S1)))
    assert list(export.columns) == list(followup.EXPORT_COLUMNS.values())
    first = export.iloc[0]
    assert (first["Ticket-ID"], first["Status"], first["Ampel"]) == (
        "lei-overdue-january", "überfällig", "überfällig",
    )  # fmt: skip
    csv = downloads.csv_bytes(export).decode("utf-8-sig")
    assert csv.splitlines()[0].split(";")[:3] == ["Ampel", "Ticket-ID", "Fällig am"]
    assert "lei-overdue-january;09.01.2026;" in csv
    assert "Vertretung für" in csv.splitlines()[0]
    sheet = openpyxl.load_workbook(io.BytesIO(downloads.xlsx_bytes(export))).active
    assert [c.value for c in sheet[1]] == list(followup.EXPORT_COLUMNS.values())
    due = sheet.cell(row=2, column=3)
    assert (f"{due.value:%d.%m.%Y}", due.number_format) == ("09.01.2026", "dd.mm.yyyy")
    assert sheet.max_row == len(export) + 1
