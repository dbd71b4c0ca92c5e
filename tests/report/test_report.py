"""The monthly report on a small hand-made month, loaded by the real ETL.

Month March 2026 (no holiday; Sundays 01., 08., 15., 22., 29.), Stichtag S = Tue 31.03.2026.
Leistung has 5 working days, Integration 2. Every figure below is worked out by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import math
import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from dashboard import report
from dashboard.access.viewer import Viewer
from dashboard.cli import report as cli_report
from dashboard.core import records
from dashboard.core.config import CalendarConfig, Config, Deadlines, load_config
from dashboard.core.storage import connect_readonly
from dashboard.queries import metrics, monthly
from dashboard.queries.filters import Filters
from dashboard.report import figures, pdf
from dashboard.report.columns import COUNTS, columns_of
from dashboard.report.rules import rules_table
from dashboard.report.xlsx import NUM_FORMATS
from etl.load import load_files
from etl.sources import csv_text
from tests.conftest import HEADER, RECORD_BACKENDS, d, ticket_row

NOTICE = {"VerBIS-Vermerk": "ja"}
L1, I1 = {"Team": "Leistung 1"}, {"Team": "Integration 1", "Bereich": "Integration"}
ROWS = [
    # --- Leistung 1 (Anna Alt, Bert Bach) ---
    # L1 02.03.-04.03., due 09.03.: on time, W 2; notice 03.03. until 06.03. (valid, unused);
    # callback in time (A5 true), TL informed on completion (A7 true)
    ticket_row(**{"Ticket-ID": "L1", **L1, "Erledigt": "04.03.2026", "Anliegen": "Rückruf",
                  "Rückruf erfolgt": "03.03.2026", "TL informiert": "04.03.2026",
                  "Kunde informiert": "03.03.2026", "Zusage bis": "06.03.2026", **NOTICE}),
    # L2 02.03.-11.03., due 09.03.: late, W 7; no callback (A5 false), no TL note (A7 false)
    ticket_row(**{"Ticket-ID": "L2", **L1, "Erledigt": "11.03.2026", "Anliegen": "Rückruf"}),
    # L3 received 03.03., due 10.03., open: overdue; 20 working days open at S
    ticket_row(**{"Ticket-ID": "L3", **L1, "Eingang": "03.03.2026"}),
    # L4 09.03.-20.03., due 16.03., notice 12.03. until 20.03.: extended_kept, W 9;
    # walk-in noted on the day (A6 true), TL informed (A7 true)
    ticket_row(**{"Ticket-ID": "L4", **L1, "Bearbeiter": "Bert Bach", "Eingang": "09.03.2026",
                  "Erledigt": "20.03.2026", "Kunde informiert": "12.03.2026",
                  "Zusage bis": "20.03.2026", **NOTICE, "Eingangskanal": "Vorsprache",
                  "Vermerk an TL": "09.03.2026", "TL informiert": "20.03.2026"}),
    # L5 10.03.-23.03., due 17.03., notice 13.03. until 19.03.: extended_missed, W 9
    ticket_row(**{"Ticket-ID": "L5", **L1, "Bearbeiter": "Bert Bach", "Eingang": "10.03.2026",
                  "Erledigt": "23.03.2026", "Kunde informiert": "13.03.2026",
                  "Zusage bis": "19.03.2026", **NOTICE}),
    # L6 received 18.03., due 25.03., notice 20.03. until 10.04., open: open_extended
    ticket_row(**{"Ticket-ID": "L6", **L1, "Bearbeiter": "Bert Bach", "Eingang": "18.03.2026",
                  "Kunde informiert": "20.03.2026", "Zusage bis": "10.04.2026", **NOTICE}),
    # L7 received 24.03., due 31.03. = S, open: open
    ticket_row(**{"Ticket-ID": "L7", **L1, "Eingang": "24.03.2026"}),
    # L8 received Thu 26.02., due Thu 05.03., completed 05.03.: on time, W 5 (counts in March)
    ticket_row(**{"Ticket-ID": "L8", **L1, "Eingang": "26.02.2026", "Erledigt": "05.03.2026"}),
    # February: L9 09.02.-20.02., due 16.02.: late; L10 02.02.-05.02., due 09.02.: on time
    ticket_row(**{"Ticket-ID": "L9", **L1, "Bearbeiter": "Bert Bach", "Eingang": "09.02.2026",
                  "Erledigt": "20.02.2026"}),
    ticket_row(**{"Ticket-ID": "L10", **L1, "Eingang": "02.02.2026", "Erledigt": "05.02.2026"}),
    # April: L11 received 25.03., due 01.04.
    ticket_row(**{"Ticket-ID": "L11", **L1, "Eingang": "25.03.2026"}),
    # --- Integration 1 (Cora Ernst, Dirk Dorn) ---
    # I1 02.03.-04.03., due 04.03.: on time, W 2
    ticket_row(**{"Ticket-ID": "I1", **I1, "Bearbeiter": "Cora Ernst",
                  "Erledigt": "04.03.2026"}),
    # I2 23.03.-26.03., due 25.03.: late, W 3
    ticket_row(**{"Ticket-ID": "I2", **I1, "Bearbeiter": "Cora Ernst", "Eingang": "23.03.2026",
                  "Erledigt": "26.03.2026"}),
    # I3 received 16.03., due 18.03., open: overdue; 11 working days open at S
    ticket_row(**{"Ticket-ID": "I3", **I1, "Bearbeiter": "Dirk Dorn", "Eingang": "16.03.2026"}),
    # I4 05.03.-11.03., due 09.03., notice 06.03. until 12.03.: extended_kept, W 4
    ticket_row(**{"Ticket-ID": "I4", **I1, "Bearbeiter": "Dirk Dorn", "Eingang": "05.03.2026",
                  "Erledigt": "11.03.2026", "Kunde informiert": "06.03.2026",
                  "Zusage bis": "12.03.2026", **NOTICE}),
    # I5 19.03.-25.03., due 23.03.: late, W 4
    ticket_row(**{"Ticket-ID": "I5", **I1, "Bearbeiter": "Dirk Dorn", "Eingang": "19.03.2026",
                  "Erledigt": "25.03.2026"}),
    # rejected by the ETL: no date
    ticket_row(**{"Ticket-ID": "BAD", **L1, "Eingang": "kein Datum"}),
]  # fmt: skip
# Anna is absent when L2 (due 09.03.) and L3 (due 10.03.) fall due.
ABSENCES = "Bearbeiter;Von;Bis;Vertretung\nAnna Alt;09.03.2026;13.03.2026;Bert Bach\n"
S = d("31.03.2026")
MARCH = d("01.03.2026")
GENERATED = dt.datetime(2026, 4, 1, 8, 30)


@pytest.fixture(scope="module")
def month_db(tmp_path_factory) -> Config:
    """The hand-made month, loaded once per module by the real ETL (loading takes ~1 s)."""
    tmp = tmp_path_factory.mktemp("report")
    config = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(tmp / "db" / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(tmp / "secret" / "key"),
        }
    )
    export = tmp / "export.csv"
    export.write_text(csv_text([HEADER, *([r.get(h, "") for h in HEADER] for r in ROWS)]))
    absences = tmp / "abwesenheiten.csv"
    absences.write_text(ABSENCES, encoding="utf-8")
    results = load_files(config, [export], [absences])
    assert all(r.reconciled and not r.refused for r in results)
    assert results[0].rows_rejected == 1
    # A10 over both Bereiche here (`rules.repeat_areas`, default Leistung only), so the
    # report has a repeat case: Dirk's I3, I5. Anna's L2, L3 fell due in her absence and
    # do not count (shown beside a case, never one on their own).
    rules = config.rules.model_copy(update={"repeat_areas": ("Leistung", "Integration")})
    return config.model_copy(update={"rules": rules})


@pytest.fixture(scope="module")
def con(month_db):
    con = connect_readonly(month_db)
    yield con
    con.close()


@pytest.fixture
def config(month_db, tmp_path) -> Config:
    """The month's configuration with a records database of the test's own."""
    storage = month_db.storage.model_copy(update={"app_database": tmp_path / "app.duckdb"})
    return month_db.model_copy(update={"storage": storage})


def _same(actual, expected) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    return actual == pytest.approx(expected)


def _record(frame: pd.DataFrame, key: str, value: str) -> dict:
    [row] = frame[frame[key] == value].to_dict("records")
    return row


# ---------------------------------------------------------------------------------------
# Figures

SUMMARY_CASES = {
    # L1..L8: on_time L1 L8, extended_kept L4, late L2, extended_missed L5, overdue L3,
    # open_extended L6, open L7; notices L1 L4 L5 L6; W of completed 2, 7, 9, 9, 5
    "Leistung": dict(tickets=8, decided=6, on_time=2, compliant=3, on_time_rate=2 / 6,
                     compliant_rate=3 / 6, breaches=3, late=1, extended_missed=1, overdue=1,
                     extensions=4, undecided=2, median_working_days=7.0),
    # I1..I5: on_time I1, extended_kept I4, late I2 I5, overdue I3; W 2, 3, 4, 4
    "Integration": dict(tickets=5, decided=5, on_time=1, compliant=2, on_time_rate=1 / 5,
                        compliant_rate=2 / 5, breaches=3, late=2, extended_missed=0,
                        overdue=1, extensions=1, undecided=0, median_working_days=3.5),
    "Gesamt": dict(tickets=13, decided=11, on_time=3, compliant=5, on_time_rate=3 / 11,
                   compliant_rate=5 / 11, breaches=6, late=3, extended_missed=1, overdue=2,
                   extensions=5, undecided=2, median_working_days=4.0),
}  # fmt: skip


@pytest.mark.parametrize(("area", "expected"), SUMMARY_CASES.items(), ids=SUMMARY_CASES)
def test_summary_per_area(con, area, expected):
    frame = monthly.summary(con, S, month=MARCH)
    assert list(frame["area"]) == ["Leistung", "Integration", "Gesamt"]
    row = _record(frame, "area", area)
    assert {k: row[k] for k in expected} == pytest.approx(expected)
    # the same figures as the metrics module for the month
    scope = Filters(areas=() if area == "Gesamt" else (area,), period=(MARCH, MARCH))
    rates = metrics.rates(con, S, scope, by=()).iloc[0]
    assert all(_same(row[k], rates[k]) for k in ("tickets", "decided", "compliant_rate"))


def test_summary_of_an_empty_month_keeps_every_area(con):
    frame = monthly.summary(con, S, month=d("01.01.2026"))
    assert list(frame["area"]) == ["Leistung", "Integration", "Gesamt"]
    assert list(frame["tickets"]) == [0, 0, 0]
    assert frame["compliant_rate"].isna().all()
    only = monthly.summary(con, S, Filters(areas=("Integration",)), month=MARCH)
    assert list(only["area"]) == ["Integration", "Gesamt"]
    assert list(only["tickets"]) == [5, 5]


def test_trend_has_twelve_months_per_area(con):
    frame = monthly.trend(con, S, month=MARCH)
    months = sorted({m.date() for m in frame["month"]})
    assert (len(frame), months[0], months[-1], len(months)) == (
        24, d("01.04.2025"), MARCH, 12
    )  # fmt: skip
    rows = frame.set_index([frame["month"].dt.date, "area"])
    february = rows.loc[(d("01.02.2026"), "Leistung")]  # L9 late, L10 on time
    assert (february["decided"], february["on_time_rate"], february["compliant_rate"]) == (
        2, 0.5, 0.5
    )  # fmt: skip
    assert rows.loc[(d("01.02.2026"), "Integration"), "tickets"] == 0
    assert math.isnan(rows.loc[(d("01.02.2026"), "Integration"), "compliant_rate"])
    assert rows.loc[(MARCH, "Leistung"), "compliant_rate"] == pytest.approx(0.5)
    assert rows.loc[(MARCH, "Integration"), "on_time_rate"] == pytest.approx(0.2)


WORKER_CASES = {
    # L1 L2 L3 L7 L8: L7 open; on time L1 L8; breaches L2 L3
    "Anna Alt": ("Leistung 1", 5, 4, 2, 2, 2 / 4, 2 / 4),
    # L4 L5 L6: L6 open_extended; kept L4; breach L5
    "Bert Bach": ("Leistung 1", 3, 2, 0, 1, 0.0, 1 / 2),
    "Cora Ernst": ("Integration 1", 2, 2, 1, 1, 1 / 2, 1 / 2),
    # I3 I4 I5: kept I4; breaches I3 I5
    "Dirk Dorn": ("Integration 1", 3, 3, 0, 2, 0.0, 1 / 3),
}


@pytest.mark.parametrize(("worker", "expected"), WORKER_CASES.items(), ids=WORKER_CASES)
def test_workers(con, worker, expected):
    frame = monthly.workers(con, S, month=MARCH)
    assert list(frame["worker"]) == ["Anna Alt", "Bert Bach", "Cora Ernst", "Dirk Dorn"]
    row = _record(frame, "worker", worker)
    columns = ("team", "tickets", "decided", "on_time", "breaches", "on_time_rate",
               "compliant_rate")  # fmt: skip
    assert tuple(row[c] for c in columns) == pytest.approx(expected)


def test_teams_leistung_first(con):
    frame = monthly.teams(con, S, month=MARCH)
    assert list(frame["team"]) == ["Leistung 1", "Integration 1"]
    assert list(frame["compliant_rate"]) == pytest.approx([0.5, 0.4])
    assert list(frame["breaches"]) == [3, 3]


def test_breaches_list(con):
    frame = monthly.breaches(con, S, month=MARCH)
    shown = frame[["ticket_id", "worker", "status_label", "working_days", "during_absence"]]
    assert shown.values.tolist() == [
        ["L2", "Anna Alt", "verspätet", 7, True],
        ["L3", "Anna Alt", "überfällig", 20, True],  # open: working days up to S
        ["L5", "Bert Bach", "Zusage nicht eingehalten", 9, False],
        ["I3", "Dirk Dorn", "überfällig", 11, False],
        ["I5", "Dirk Dorn", "verspätet", 4, False],
        ["I2", "Cora Ernst", "verspätet", 3, False],
    ]
    due = [x.date() for x in frame["due_date"]]
    assert due == [d("09.03.2026"), d("10.03.2026"), d("17.03.2026"), d("18.03.2026"),
                   d("23.03.2026"), d("25.03.2026")]  # fmt: skip
    assert frame["commitment_date"].iloc[2].date() == d("19.03.2026")
    assert frame["completion_date"].isna().tolist() == [False, True, False, True, False, False]


def test_extensions_and_commitments(con):
    frame = monthly.extensions(con, S, month=MARCH)
    columns = ["team", "tickets", "notices", "within_deadline", "extended_kept",
               "extended_missed", "open_extended", "kept_rate"]  # fmt: skip
    assert frame[columns].values.tolist() == [
        ["Leistung 1", 8, 4, 1, 1, 1, 1, 0.5],
        ["Integration 1", 5, 1, 0, 1, 0, 0, 1.0],
    ]
    listed = monthly.extended_tickets(con, S, month=MARCH)
    assert listed[["ticket_id", "kept"]].values.tolist() == [
        ["I4", "ja"], ["L4", "ja"], ["L5", "nein"], ["L6", "läuft noch"],
    ]  # fmt: skip


def test_checks_a5_to_a7(con):
    frame = monthly.checks(con, S, month=MARCH)
    # callback L1 true, L2 false; walk-in L4 true; TL informed L1 L4 true, L2 L5 L8 false
    expected = [2, 0.5, 1, 1.0, 5, 0.4]
    columns = ["callback_checked", "callback_rate", "walkin_checked", "walkin_rate",
               "tl_informed_checked", "tl_informed_rate"]  # fmt: skip
    assert list(frame["team"]) == ["Bereich gesamt", "Leistung 1"]
    for row in frame[columns].values.tolist():
        assert row == pytest.approx(expected)
    assert monthly.checks(con, S, Filters(areas=("Integration",)), month=MARCH).empty


def test_status_mix(con):
    frame = monthly.status_mix(con, S, month=MARCH)
    assert dict(zip(frame["status"], frame["tickets"], strict=True)) == {
        "on_time": 3, "extended_kept": 2, "extended_missed": 1, "late": 3, "open": 1,
        "open_extended": 1, "overdue": 2,
    }  # fmt: skip


def _conversation(con, worker: str, month: str, held_on: str) -> None:
    con.execute(
        "INSERT INTO conversations (worker, month, held_on, recorded_by, recorded_at) "
        "VALUES (?, ?, ?, 'TL', ?)",
        [worker, d(month), d(held_on), dt.datetime(2026, 4, 1)],
    )


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_repeat_cases_with_conversations(con, config):
    # no records database yet: everything pending, and the report does not create the file
    frame = figures.repeat_conversations(con, config, S, month=MARCH)
    assert not config.app_database.exists()
    assert frame[["worker", "conversation"]].values.tolist() == [["Dirk Dorn", "ausstehend"]]
    with records.transaction(config) as rec:
        _conversation(rec, "Anna Alt", "01.03.2026", "20.03.2026")
        _conversation(rec, "Anna Alt", "01.03.2026", "30.03.2026")  # the last one counts
        _conversation(rec, "Anna Alt", "01.02.2026", "31.03.2026")  # another month
        _conversation(rec, "Dirk Dorn", "01.03.2026", "02.04.2026")  # after the Stichtag
    frame = figures.repeat_conversations(con, config, S, month=MARCH)
    # Anna's conversation is recorded, but her breaches fell in her absence: no case (A10)
    assert frame[["worker", "team", "breaches", "tickets", "conversation"]].values.tolist() == [
        ["Dirk Dorn", "Integration 1", 2, "I3, I5", "ausstehend"],
    ]
    # at a later Stichtag Dirk's conversation has happened
    later = figures.repeat_conversations(con, config, d("03.04.2026"), month=MARCH)
    assert later.set_index("worker").loc["Dirk Dorn", "conversation"] == "02.04.2026"


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_records_version_changes_with_a_record(config):
    # the page's report files are cached per records version: a new record makes new files
    before = records.version(config)
    if config.records.url is None:
        assert before == (None, None)  # no records database file yet
    with records.transaction(config) as rec:
        _conversation(rec, "Anna Alt", "01.03.2026", "20.03.2026")
    assert records.version(config) != before


def _draw(con, draw_id, drawn_at, period, teams, method, items, results=()):
    con.execute(
        "INSERT INTO sample_draws VALUES (?, 'Tina Leiter', ?, ?, ?, ?, ?, ?, 1, 7, ?, ?)",
        [draw_id, drawn_at, S, d(period[0]), d(period[1]), teams, method, len(items), draw_id],
    )
    for position, (ticket_id, worker) in enumerate(items):
        con.execute(
            "INSERT INTO sample_items VALUES (?, ?, ?, 'Integration 1', ?, DATE '2026-03-02', "
            "DATE '2026-03-04', DATE '2026-03-04', 'on_time', 'x')",
            [draw_id, position, ticket_id, worker],
        )
    for ticket_id, result, checked_at in results:
        con.execute(
            "INSERT INTO sample_results (draw_id, ticket_id, result, checked_by, checked_at) "
            "VALUES (?, ?, ?, 'Tina Leiter', ?)",
            [draw_id, ticket_id, result, checked_at],
        )


@pytest.fixture
def sampled(config):
    items = [("I1", "Cora Ernst"), ("I4", "Dirk Dorn")]
    at = dt.datetime
    with records.transaction(config) as rec:
        # drawn in March: I1 confirmed at last, I4 not confirmed (its later result is after S)
        _draw(rec, 901, at(2026, 3, 20, 10), ("01.03.2026", "15.03.2026"), ["Integration 1"],
              "per_worker", items, [
                  ("I1", "nicht bestätigt", at(2026, 3, 25, 9)),
                  ("I1", "bestätigt", at(2026, 3, 26, 9)),
                  ("I4", "nicht bestätigt", at(2026, 3, 27, 9)),
                  ("I4", "bestätigt", at(2026, 4, 2, 9)),
              ])  # fmt: skip
        # February only: left out
        _draw(rec, 902, at(2026, 2, 10), ("01.02.2026", "28.02.2026"), [], "size", items[:1])
        # drawn in February for a period reaching into March: in, nothing checked yet
        _draw(rec, 903, at(2026, 2, 27), ("15.02.2026", "05.03.2026"), [], "size", items[:1])
        # drawn after the Stichtag: not yet there
        _draw(rec, 904, at(2026, 4, 1), ("01.03.2026", "31.03.2026"), [], "size", items)
    return config


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_samples_of_the_month(sampled):
    frame = monthly.samples(sampled, S, month=MARCH)
    columns = ["draw_id", "teams", "method_label", "items", "checked", "confirmed",
               "not_confirmed", "unchecked"]  # fmt: skip
    assert frame[columns].values.tolist() == [
        [903, "alle Integration-Teams", "Gesamtzahl", 1, 0, 0, 0, 1],
        [901, "Integration 1", "je Mitarbeiter/in", 2, 2, 1, 1, 0],
    ]
    # a later Stichtag: I4's newer result counts, draw 904 exists
    later = monthly.samples(sampled, d("03.04.2026"), month=MARCH)
    assert later.set_index("draw_id").loc[901, "confirmed"] == 2
    assert list(later["draw_id"]) == [903, 901, 904]


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(workers=("Dirk Dorn",)), [[901, 1]]),  # draw 903 has no ticket of Dirk
        (Filters(workers=("Cora Ernst",)), [[903, 1], [901, 1]]),
        (Filters(teams=("Leistung 1",)), []),
        (Filters(areas=("Leistung",)), []),
    ],
    ids=["Dirk", "Cora", "team Leistung 1", "Bereich Leistung"],
)
def test_samples_respect_the_scope(sampled, filters, expected):
    frame = monthly.samples(sampled, S, filters, month=MARCH)
    assert frame[["draw_id", "items"]].values.tolist() == expected


def test_loads_of_the_month(con):
    log = con.execute("SELECT min(started_at)::DATE FROM load_log").fetchone()[0]
    frame = monthly.loads(con, log, month=log.replace(day=1))
    columns = ["kind_label", "rows_read", "rows_rejected", "reconciled", "rejects"]
    assert frame[columns].values.tolist() == [
        ["Tickets", 17, 1, True, 1],
        ["Abwesenheiten", 1, 0, True, 0],
    ]  # fmt: skip
    # nothing was loaded in March 2026, and nothing counts before its Stichtag
    assert monthly.loads(con, S, month=MARCH).empty
    assert monthly.loads(con, log - dt.timedelta(days=1), month=log.replace(day=1)).empty


def test_viewer_restriction_narrows_every_table(con, sampled):
    viewer = Viewer("tl", "TL", "teamleitung", teams=("Integration 1",))
    built = report.build(con, sampled, MARCH, S, viewer=viewer)
    assert list(built.summary["area"]) == ["Leistung", "Integration", "Gesamt"]
    assert list(built.summary["tickets"]) == [0, 5, 5]
    assert set(built.workers["worker"]) == {"Cora Ernst", "Dirk Dorn"}
    assert set(built.breaches["team"]) == {"Integration 1"}
    assert list(built.repeat_cases["worker"]) == ["Dirk Dorn"]
    assert built.checks.empty
    assert list(built.samples["draw_id"]) == [903, 901]
    # a viewer can never widen the filters
    narrowed = report.build(con, sampled, MARCH, S, Filters(teams=("Leistung 1",)), viewer)
    assert narrowed.summary["tickets"].iloc[-1] == 0


# ---------------------------------------------------------------------------------------
# Months, rules, colours


def test_months():
    assert report.parse_month("2026-03") == MARCH
    with pytest.raises(ValueError, match="JJJJ-MM"):
        report.parse_month("03/2026")
    assert report.default_month(d("15.01.2026")) == d("01.12.2025")
    assert report.month_options(d("20.10.2025"), d("15.01.2026")) == [
        d("01.01.2026"), d("01.12.2025"), d("01.11.2025"), d("01.10.2025"),
    ]  # fmt: skip
    # no data: the Stichtag's month and the one before it
    assert report.month_options(None, S) == [MARCH, d("01.02.2026")]


def test_rules_table_follows_the_configuration(config):
    changed = config.model_copy(
        update={"deadlines": Deadlines(Leistung=7),
                "calendar": CalendarConfig(holiday_state="BE", closing_days=("24.12.",))}
    )  # fmt: skip
    rules = dict(rules_table(changed, MARCH, S, Filters(teams=("Leistung 1",))).values)
    assert rules["Frist Leistung (A2)"] == "7 Arbeitstage nach Eingang"
    assert rules["Frist Integration (B1)"] == "2 Arbeitstage nach Eingang"
    assert "BE" in rules["Feiertage"]
    assert rules["Schließtage"].startswith("24.12. ")
    assert rules["Auswahl"] == "alle Bereiche, Teams Leistung 1"
    assert rules["Stichtag"] == S


def test_colours_and_month_names_match_the_pages():
    from dashboard.core import labels as style
    from dashboard.core.months import month_label

    assert pdf.STATUS_COLORS == style.STATUS_COLORS
    assert pdf.AREA_COLORS == style.AREA_COLORS  # the pages' bar and line colours
    assert [pdf.month_label(d(f"01.{m:02d}.2026")) for m in range(1, 13)] == [
        month_label(d(f"01.{m:02d}.2026")) for m in range(1, 13)
    ]


# ---------------------------------------------------------------------------------------
# Files


@pytest.fixture(scope="module")
def built(con, month_db):
    with records.transaction(month_db) as rec:
        _conversation(rec, "Anna Alt", "01.03.2026", "30.03.2026")
    return report.build(con, month_db, MARCH, S)


@pytest.fixture(scope="module")
def xlsx(built) -> bytes:
    return report.file_bytes(built, ".xlsx", GENERATED)


@pytest.fixture(scope="module")
def wb(xlsx) -> openpyxl.Workbook:
    return _workbook(xlsx)


def _workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _values(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_xlsx_summary_cell_by_cell(wb):
    assert wb.sheetnames == [
        "Übersicht", "Teams", "Mitarbeitende", "Fristverstöße", "Verlängerungen",
        "Verlängerte Tickets", "Prüfungen A5-A7", "Wiederholungsfälle", "Stichproben",
        "Datenqualität", "Regeln",
    ]  # fmt: skip
    ws = wb["Übersicht"]
    assert ws["A1"].value == "Übersicht je Bereich · März 2026"
    assert [c.value for c in ws[4]][:7] == [
        "Bereich", "Tickets fällig", "entschieden", "fristgerecht", "regelkonform",
        "Quote fristgerecht", "Quote regelkonform",
    ]  # fmt: skip
    assert ws.freeze_panes == "B5"
    assert ws.auto_filter.ref == "A4:N7"
    shown = columns_of("area", COUNTS)
    for row, area in enumerate(["Leistung", "Integration", "Gesamt"], start=5):
        expected = SUMMARY_CASES[area]
        assert ws.cell(row, 1).value == area
        for col, column in enumerate(shown[1:], start=2):
            cell = ws.cell(row, col)
            assert _same(cell.value, expected[column.key]), (area, column.key)
            assert cell.number_format == NUM_FORMATS[column.kind]
    assert ws["G5"].value == 0.5 and ws["G5"].number_format == "0.0%"
    assert ws["A7"].font.b  # the total row is bold
    scales = [(str(cf.sqref), rule.type) for cf in ws.conditional_formatting for rule in cf.rules]
    assert ("G5:G7", "colorScale") in scales


def test_xlsx_trend_table_and_native_chart(xlsx, wb):
    ws = wb["Übersicht"]
    [header] = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Monat (Fälligkeit)"]
    assert [ws.cell(header, c).value for c in range(1, 8)] == [
        "Monat (Fälligkeit)", "Leistung: entschieden", "Leistung: fristgerecht",
        "Leistung: regelkonform", "Integration: entschieden", "Integration: fristgerecht",
        "Integration: regelkonform",
    ]  # fmt: skip
    months = [ws.cell(header + i, 1).value for i in range(1, 13)]
    assert months[0] == dt.datetime(2025, 4, 1) and months[-1] == dt.datetime(2026, 3, 1)
    february = header + 11
    assert [ws.cell(february, c).value for c in range(2, 8)] == [2, 0.5, 0.5, 0, None, None]
    assert ws.cell(february, 3).number_format == "0.0%"
    assert ws.cell(february, 1).is_date
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        chart = archive.read("xl/charts/chart1.xml").decode()
    assert "<c:lineChart>" in chart and chart.count("<c:ser>") == 4


def test_xlsx_tables_dates_and_frozen_panes(wb):
    panes = {ws.title: ws.freeze_panes for ws in wb}
    assert panes["Teams"] == "C5" and panes["Mitarbeitende"] == "D5"
    assert panes["Fristverstöße"] == "B5" and panes["Regeln"] == "A5"
    ws = wb["Fristverstöße"]
    assert [c.value for c in ws[4]] == [
        "Ticket-ID", "Bereich", "Team", "Bearbeiter/in", "Eingang", "Fällig am", "Zusage bis",
        "Erledigt am", "Status", "Arbeitstage", "bei Abwesenheit fällig",
    ]  # fmt: skip
    assert [c.value for c in ws[5]] == [
        "L2", "Leistung", "Leistung 1", "Anna Alt", dt.datetime(2026, 3, 2),
        dt.datetime(2026, 3, 9), None, dt.datetime(2026, 3, 11), "verspätet", 7, "ja",
    ]  # fmt: skip
    assert ws["E5"].number_format == "dd.mm.yyyy" and ws["E5"].is_date
    assert ws["H6"].value == "offen" and ws["J6"].value == 20  # L3, still open
    assert ws.max_row == 4 + 6
    teams = _values(wb["Teams"])
    assert [row[:3] for row in teams[4:]] == [
        ["Leistung", "Leistung 1", 8], ["Integration", "Integration 1", 5]
    ]  # fmt: skip
    workers = wb["Mitarbeitende"]
    assert [workers.cell(r, 3).value for r in range(5, 9)] == list(WORKER_CASES)
    assert workers["I8"].value == pytest.approx(1 / 3)  # Dirk's compliant rate
    repeat = _values(wb["Wiederholungsfälle"])[4:]
    assert [row[0] for row in repeat] == ["Dirk Dorn"]
    assert repeat[0][4] == "ausstehend"
    checks = wb["Prüfungen A5-A7"]
    assert checks["B5"].value == "Bereich gesamt"
    assert [checks.cell(5, c).value for c in range(3, 10)] == pytest.approx(
        [8, 2, 0.5, 1, 1.0, 5, 0.4]
    )
    assert wb["Stichproben"]["A5"].value == "Keine Stichproben in diesem Monat."
    assert wb["Datenqualität"]["A5"].value == "Keine Ladevorgänge in diesem Monat."


def test_xlsx_rules_sheet(wb):
    ws = wb["Regeln"]
    assert [c.value for c in ws[4]] == ["Angabe", "Wert"]
    rules = {row[0].value: row[1] for row in ws.iter_rows(min_row=5)}
    assert rules["Berichtsmonat"].value == "März 2026"
    assert rules["Stichtag"].value == dt.datetime(2026, 3, 31)
    assert rules["Stichtag"].number_format == "dd.mm.yyyy"
    assert rules["Zuordnung zum Monat"].value.startswith("Monat nach Fälligkeit")
    assert rules["Frist Leistung (A2)"].value == "5 Arbeitstage nach Eingang"
    assert rules["Frist Integration (B1)"].value == "2 Arbeitstage nach Eingang"
    assert "Bundeslandes BB" in rules["Feiertage"].value
    assert rules["Schließtage"].value.startswith("24.12., 31.12.")
    assert rules["Auswahl"].value == "alle Bereiche, alle Teams"
    assert rules["Status „überfällig“"].value.startswith("nicht erledigt nach Fristende")
    assert rules["Wiederholungsfall (A10)"].value.startswith("ab 2 Fristverstößen")
    assert rules["Erstellt am"].value == GENERATED
    assert rules["Erstellt am"].number_format == "dd.mm.yyyy hh:mm"
    assert wb.properties.created == GENERATED
    assert wb.properties.title == "Monatsbericht März 2026"


def test_xlsx_is_reproducible(con, month_db, xlsx, wb):
    again = report.build(con, month_db, MARCH, S)
    second = report.file_bytes(again, ".xlsx", GENERATED)
    one, two = wb, _workbook(second)
    assert [_values(ws) for ws in one] == [_values(ws) for ws in two]
    assert xlsx == second  # fixed creation date: even the bytes are equal
    # another generation time changes nothing but the "Erstellt am" cell
    hour_later = GENERATED + dt.timedelta(hours=1)
    later = _workbook(report.file_bytes(again, ".xlsx", hour_later))
    differ = [
        (ws.title, a, b)
        for ws, other in zip(one, later, strict=True)
        for a, b in zip(_values(ws), _values(other), strict=True)
        if a != b
    ]
    assert differ == [("Regeln", ["Erstellt am", GENERATED], ["Erstellt am", hour_later])]


def _pages(document: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", document))


def test_pdf_pages_and_reproducibility(built):
    document = report.file_bytes(built, ".pdf", GENERATED)
    assert document.startswith(b"%PDF")
    count = len(pdf.pages(built, GENERATED))
    assert _pages(document) == count >= 4
    assert document.count(b"/MediaBox [ 0 0 841.68 595.44 ]") == count  # A4 landscape, points
    assert report.file_bytes(built, ".pdf", GENERATED) == document
    # the document information: title (UTF-16 for the "ä") and the fixed creation date
    assert "Monatsbericht März 2026".encode("utf-16-be") in document
    assert b"/CreationDate (D:20260401083000" in document


def test_pdf_of_an_empty_month(con, config):
    empty = report.build(con, config, d("01.01.2026"), S)
    document = report.file_bytes(empty, ".pdf", GENERATED)
    assert document.startswith(b"%PDF") and _pages(document) == len(pdf.pages(empty, GENERATED))
    ws = _workbook(report.file_bytes(empty, ".xlsx", GENERATED))["Fristverstöße"]
    assert ws["A5"].value == "Keine Fristverstöße in diesem Monat."


# ---------------------------------------------------------------------------------------
# CLI


def _cli(*argv: str, parents: bool = False) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config")
    parser = argparse.ArgumentParser(prog="ticket-controlling")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_report.add_parser(sub, parents=[common] if parents else ())
    return parser.parse_args(["report", *argv])


@pytest.mark.parametrize("suffix", [".xlsx", ".pdf"])
def test_cli_writes_the_report(con, config, tmp_path, capsys, suffix):
    out = tmp_path / "out" / f"bericht{suffix}"
    args = _cli("--month", "2026-03", "--as-of", "2026-03-31", "--out", str(out),
                parents=suffix == ".pdf")  # fmt: skip
    assert args.config is None
    assert cli_report.run(config, args) == 0
    assert (
        "Monatsbericht März 2026 (Stichtag 31.03.2026, alle Bereiche, alle Teams, Fassung "
        "vollständig) geschrieben"
    ) in capsys.readouterr().out
    data = out.read_bytes()
    if suffix == ".pdf":
        assert data.startswith(b"%PDF") and _pages(data) >= 4
    else:
        ws = _workbook(data)["Übersicht"]
        assert [ws.cell(r, 2).value for r in (5, 6, 7)] == [8, 5, 13]


def test_cli_refuses_other_formats_and_months_after_the_stichtag(config, tmp_path, capsys):
    out = tmp_path / "bericht.txt"
    assert cli_report.run(config, _cli("--month", "2026-03", "--out", str(out))) == 2
    assert "Unbekanntes Dateiformat „.txt“" in capsys.readouterr().err
    assert not out.exists()
    late = _cli("--month", "2026-05", "--as-of", "2026-03-31", "--out", str(tmp_path / "a.xlsx"))
    assert cli_report.run(config, late) == 2
    assert "liegt nach dem Monat des Stichtags" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _cli("--month", "März", "--out", str(tmp_path / "a.xlsx"))
    assert "JJJJ-MM" in capsys.readouterr().err
