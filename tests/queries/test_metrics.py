"""Aggregations of the metrics module on small hand-made data, loaded by the real ETL."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard.queries import metrics
from dashboard.queries.filters import Filters
from tests.conftest import d, ticket_row

# Leistung received Mon 02.03.2026 -> due Mon 09.03.2026; S = 31.03.2026 unless stated.
ROWS = [
    # Anna, team L1: on time, late, late, open and overdue at S (a repeat case in March)
    ticket_row(**{"Ticket-ID": "A1", "Erledigt": "04.03.2026"}),
    ticket_row(**{"Ticket-ID": "A2", "Erledigt": "11.03.2026"}),
    ticket_row(**{"Ticket-ID": "A3", "Erledigt": "12.03.2026"}),
    ticket_row(**{"Ticket-ID": "A4", "Eingang": "20.03.2026"}),  # due 27.03. -> overdue at S
    # Bert, team L1: extension kept, one late (one breach: no repeat case)
    ticket_row(**{"Ticket-ID": "B1", "Bearbeiter": "Bert Bach", "Erledigt": "12.03.2026",
                  "Kunde informiert": "05.03.2026", "Zusage bis": "13.03.2026",
                  "VerBIS-Vermerk": "ja"}),
    ticket_row(**{"Ticket-ID": "B2", "Bearbeiter": "Bert Bach", "Erledigt": "10.03.2026"}),
    # Cora, team I1 (Integration): on time, open within deadline at S
    ticket_row(**{"Ticket-ID": "C1", "Bearbeiter": "Cora Ernst", "Team": "Integration 1",
                  "Bereich": "Integration", "Erledigt": "03.03.2026"}),
    ticket_row(**{"Ticket-ID": "C2", "Bearbeiter": "Cora Ernst", "Team": "Integration 1",
                  "Bereich": "Integration", "Eingang": "30.03.2026"}),
]  # fmt: skip
ABSENCES = "Bearbeiter;Von;Bis;Vertretung\nAnna Alt;09.03.2026;13.03.2026;Bert Bach\n" + (
    "Anna Alt;30.03.2026;03.04.2026;Bert Bach\n"
)
S = d("31.03.2026")


@pytest.fixture
def con(write_export, load, db, tmp_path):
    absences = tmp_path / "abwesenheiten.csv"
    absences.write_text(ABSENCES, encoding="utf-8")
    results = load(write_export(ROWS), absences=[absences])
    assert all(r.reconciled and not r.refused for r in results)
    return db()


def test_rates_by_area_count_only_decided_tickets(con):
    rates = metrics.rates(con, S, by=("area",)).set_index("area")
    leistung = rates.loc["Leistung"]
    # decided: A1 on time, A2 late, A3 late, A4 overdue, B1 kept, B2 late -> 6
    assert (leistung.tickets, leistung.decided) == (6, 6)
    assert leistung.on_time_rate == pytest.approx(1 / 6)
    assert leistung.compliant_rate == pytest.approx(2 / 6)
    assert leistung.breaches == 4
    integration = rates.loc["Integration"]
    # C2 is open within its deadline (due 01.04.) and not decided yet
    assert (integration.tickets, integration.decided, integration.open) == (2, 1, 1)
    assert integration.on_time_rate == 1.0


def test_rates_by_month_and_worker(con):
    by_worker = metrics.rates(con, S, by=("month", "worker")).set_index(["month", "worker"])
    anna_march = by_worker.loc[(pd.Timestamp("2026-03-01"), "Anna Alt")]
    # A1, A2, A3 due 09.03.; A4 due 27.03. overdue; working days taken 2, 7, 8
    assert (anna_march.decided, anna_march.on_time, anna_march.breaches) == (4, 1, 3)
    assert anna_march.median_working_days == 7


def test_rates_filtered_by_team_and_receipt_month(con):
    frame = metrics.rates(con, S, by=(), filters=Filters(teams=("Integration 1",)))
    assert frame.loc[0, "tickets"] == 2
    april = metrics.rates(
        con, S, by=("month",), filters=Filters(month_of="receipt",
                                               period=(d("01.03.2026"), d("31.03.2026")))
    )  # fmt: skip
    assert april["tickets"].sum() == 8


def test_no_decided_ticket_gives_no_rate(con):
    frame = metrics.rates(con, d("02.03.2026"), by=("area",))
    assert all(math.isnan(x) for x in frame["on_time_rate"])


def test_repeat_cases_leave_out_breaches_during_absence(con):
    # March: Anna A2, A3 late and A4 overdue (due 27.03.); Bert B2 late. A2 and A3 were due
    # 09.03., in Anna's absence 09.-13.03.: shown beside the case, not counted (A10).
    assert metrics.repeat_cases(con, S, threshold=2).empty
    one = metrics.repeat_cases(con, S, threshold=1).set_index("worker")
    assert one.loc["Anna Alt", "breaches"] == 1
    assert list(one.loc["Anna Alt", "ticket_ids"]) == ["A4"]
    assert one.loc["Anna Alt", "absence_breaches"] == 2
    assert list(one.loc["Anna Alt", "absence_ticket_ids"]) == ["A2", "A3"]
    assert one.loc["Bert Bach", "breaches"] == 1
    assert one.loc["Bert Bach", "absence_breaches"] == 0
    # seen on 20.03., A4 is still open within its deadline: Anna has no counted breach
    assert metrics.repeat_cases(con, d("20.03.2026"), threshold=1)["worker"].tolist() == [
        "Bert Bach"
    ]


def test_breaches_during_absence(con):
    frame = metrics.absence_breaches(con, S)
    # Anna was absent 09.-13.03.: A2 and A3 were due 09.03. and ended late
    assert frame["ticket_id"].tolist() == ["A2", "A3"]
    assert set(frame["substitute"]) == {"Bert Bach"}


def test_open_tickets_go_to_the_substitute_while_absent(con):
    frame = metrics.open_tickets(con, S).set_index("ticket_id")
    assert list(frame.index) == ["A4", "C2"]  # by due date
    assert frame.loc["A4", "responsible"] == "Bert Bach"  # Anna absent 30.03.-03.04.
    assert frame.loc["C2", "responsible"] == "Cora Ernst"
    assert frame.loc["A4", "due_date"].date() == d("27.03.2026")


def test_oldest_open_ticket_per_team(con):
    frame = metrics.oldest_open(con, S, by="team").set_index("team")
    assert frame.loc["Leistung 1", "ticket_id"] == "A4"
    # received Fri 20.03., S Tue 31.03.: 7 working days and 11 calendar days open
    assert frame.loc["Leistung 1", "working_days_open"] == 7
    assert frame.loc["Leistung 1", "calendar_days_open"] == 11
    assert frame.loc["Integration 1", "open_tickets"] == 1
