"""A10 as amended: Leistung only, breaches during the own absence shown but not counted, the
threshold at its edges. Hand-worked cases through the real ETL.

Leistung tickets received Mon 02.03.2026 are due Mon 09.03.2026, received Tue 03.03.2026
due Tue 10.03.2026; completed Wed 11.03.2026 they are `late` (a breach). Integration
tickets received 02.03. are due Wed 04.03.; completed 11.03. they are late too.
"""

from __future__ import annotations

import pytest

from dashboard.core.storage import connect_readonly
from dashboard.queries import metrics
from dashboard.queries.filters import Filters
from tests.conftest import d, ticket_row

S = d("31.03.2026")


def late(tid: str, worker: str, received: str = "02.03.2026", team: str = "Leistung 1"):
    area = "Integration" if team.startswith("Integration") else "Leistung"
    return ticket_row(**{"Ticket-ID": tid, "Bearbeiter": worker, "Team": team, "Bereich": area,
                         "Eingang": f"{received} 09:00", "Erledigt": "11.03.2026"})  # fmt: skip


ROWS = [
    late("o1", "One"),
    late("t1", "Two"), late("t2", "Two"),
    late("h1", "Three"), late("h2", "Three"), late("h3", "Three"),
    # absent 05.-09.03.: a1 (due 09.03. = Bis) falls in it, a2 (due 10.03.) does not
    late("a1", "AbsTwo"), late("a2", "AbsTwo", "03.03.2026"),
    # absent 09.03. only: b1 (due 09.03. = Von) in it; b2, b3 (due 10.03.) counted
    late("b1", "AbsThree"), late("b2", "AbsThree", "03.03.2026"),
    late("b3", "AbsThree", "03.03.2026"),
    late("i1", "Int", team="Integration 1"), late("i2", "Int", team="Integration 1"),
    late("i3", "Int", team="Integration 1"),
    late("m1", "Mixed"), late("m2", "Mixed", team="Integration 1"),
    late("m3", "Mixed", team="Integration 1"),
    late("w1", "Teams"), late("w2", "Teams", team="Leistung 2"),
]  # fmt: skip
ABSENCES = (
    "Bearbeiter;Von;Bis;Vertretung\n"
    "AbsTwo;05.03.2026;09.03.2026;Two\n"
    "AbsThree;09.03.2026;09.03.2026;\n"
)


@pytest.fixture
def load_office(write_export, load, tmp_path):
    absences = tmp_path / "abw.csv"
    absences.write_text(ABSENCES, encoding="utf-8")
    results = load(write_export(ROWS), absences=[absences])
    assert all(r.reconciled and not r.refused for r in results)


@pytest.mark.parametrize(
    ("threshold", "areas", "expected"),
    [
        # worker -> (counted breaches, breaches during absence, teams)
        (2, ("Leistung",), {"Two": (2, 0, "Leistung 1"), "Three": (3, 0, "Leistung 1"),
                            "AbsThree": (2, 1, "Leistung 1"),
                            "Teams": (2, 0, "Leistung 1, Leistung 2")}),
        # threshold 1: one counted breach is enough; a2 alone counts for AbsTwo (a1 in absence)
        (1, ("Leistung",), {"One": (1, 0, "Leistung 1"), "Two": (2, 0, "Leistung 1"),
                            "Three": (3, 0, "Leistung 1"), "AbsTwo": (1, 1, "Leistung 1"),
                            "AbsThree": (2, 1, "Leistung 1"), "Mixed": (1, 0, "Leistung 1"),
                            "Teams": (2, 0, "Leistung 1, Leistung 2")}),
        (3, ("Leistung",), {"Three": (3, 0, "Leistung 1")}),
        (4, ("Leistung",), {}),
        # configured to count Integration too
        (3, ("Leistung", "Integration"), {"Three": (3, 0, "Leistung 1"),
                                          "Int": (3, 0, "Integration 1"),
                                          "Mixed": (3, 0, "Integration 1, Leistung 1")}),
    ],
)  # fmt: skip
def test_repeat_cases(config, load_office, threshold, areas, expected):
    rules = config.rules.model_copy(update={"repeat_areas": areas})
    con = connect_readonly(config.model_copy(update={"rules": rules}))
    try:
        frame = metrics.repeat_cases(con, S, Filters(), threshold=threshold)
    finally:
        con.close()
    got = {
        w: (int(b), int(a), t)
        for w, b, a, t in zip(frame["worker"], frame["breaches"], frame["absence_breaches"],
                              frame["team"], strict=True)
    }  # fmt: skip
    assert got == expected
    assert set(frame["month"].dt.date) <= {d("01.03.2026")}


def test_the_breaches_during_absence_are_named(config, load_office, db):
    frame = metrics.repeat_cases(db(), S, Filters(), threshold=2).set_index("worker")
    assert list(frame.loc["AbsThree", "ticket_ids"]) == ["b2", "b3"]
    assert list(frame.loc["AbsThree", "absence_ticket_ids"]) == ["b1"]
