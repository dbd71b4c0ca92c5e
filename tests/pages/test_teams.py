"""Teams: the tables and charts shown for the small office (tests/pages/small_office.py).

Period May 2026 by due date, Stichtag Fri 29.05.2026. Statuses per ticket are worked out in
small_office.TICKETS.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from dashboard.core.rules import STATUS_LABELS
from tests.pages.small_office import choose_period, open_page, plotly_array


def test_tickets_per_status_and_team(small_office):
    at = open_page("teams.py")
    assert at.title[0].value == "Teams"
    counts = at.dataframe[0].value
    shown = {row["team"]: row.to_dict() for _, row in counts.iterrows()}
    zero = dict.fromkeys(STATUS_LABELS.values(), 0)

    def row(team: str, area: str, tickets: int, **statuses: int) -> dict:
        counts = zero | {STATUS_LABELS[s]: n for s, n in statuses.items()}
        return {"team": team, "tickets": tickets, **counts, "area": area}

    expected = {
        # Leistung 1, due in May: T01 on_time, T02 late, T03 overdue, T04 open_extended (Anna),
        # T05 extended_kept, T07 late (Bernd).
        "Leistung 1": row("Leistung 1", "Leistung", 6, on_time=1, late=2, overdue=1,
                          open_extended=1, extended_kept=1),
        # Leistung 2: T08 on_time, T09 extended_missed.
        "Leistung 2": row("Leistung 2", "Leistung", 2, on_time=1, extended_missed=1),
        # Integration 1: T10 T11 on_time, T12 open, T17 overdue.
        "Integration 1": row("Integration 1", "Integration", 4, on_time=2, open=1, overdue=1),
    }  # fmt: skip
    assert shown == expected
    # Best compliant rate first: Integration 1 2/3, Leistung 2 1/2, Leistung 1 2/5
    # (decided: 6 - T04 = 5; compliant T01 and T05).
    assert list(counts["team"]) == ["Integration 1", "Leistung 2", "Leistung 1"]


def test_heatmap_and_ranking(small_office):
    at = open_page("teams.py")
    heatmap, ranking = (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
    cells = heatmap["data"][0]
    # Only months with tickets due: April and May 2026; teams from Z to A (bottom to top).
    assert list(cells["x"]) == ["04.2026", "05.2026"]
    assert list(cells["y"]) == ["Leistung 2", "Leistung 1", "Integration 1"]
    expected = [
        [0.5, 0.5],  # Leistung 2: April T18 of T16, T18; May T08 of T08, T09
        [0.5, 0.4],  # Leistung 1: April T13 on time, T14 late; May 2 of 5
        [0.0, 2 / 3],  # Integration 1: April T15 late; May T10, T11 of 3 decided
    ]
    np.testing.assert_allclose(np.array(plotly_array(cells["z"]), dtype=float), expected)
    assert cells["text"] == [["50,0 %", "50,0 %"], ["50,0 %", "40,0 %"], ["0,0 %", "66,7 %"]]
    # Ranking of May, lowest first within each Bereich's bars.
    bars = {trace["name"]: trace for trace in ranking["data"]}
    assert list(bars["Leistung"]["y"]) == ["Leistung 1", "Leistung 2"]
    assert plotly_array(bars["Leistung"]["x"]) == pytest.approx([0.4, 0.5])
    assert list(bars["Leistung"]["text"]) == ["40,0 %", "50,0 %"]
    assert list(bars["Integration"]["y"]) == ["Integration 1"]
    assert list(bars["Integration"]["text"]) == ["66,7 %"]


def test_drill_down_to_the_workers_of_a_team(small_office):
    at = open_page("teams.py")
    at.selectbox(key="teams_drill").set_value("Leistung 1").run()
    assert not at.exception and not at.error
    drill = at.dataframe[1].value
    assert list(drill.columns) == [
        "team", "worker", "tickets", "decided", "on_time_rate", "compliant_rate", "breaches",
    ]  # fmt: skip
    assert drill.to_dict("records") == [
        # Anna Alt: T01 on_time, T02 late, T03 overdue, T04 open_extended (undecided):
        # 4 tickets, 3 decided, 1 on time and compliant, 2 breaches.
        {"team": "Leistung 1", "worker": "Anna Alt", "tickets": 4, "decided": 3,
         "on_time_rate": pytest.approx(1 / 3), "compliant_rate": pytest.approx(1 / 3),
         "breaches": 2},
        # Bernd Berg: T05 extended_kept, T07 late (T06 is due in June): 2 decided,
        # none on time, 1 compliant, 1 breach.
        {"team": "Leistung 1", "worker": "Bernd Berg", "tickets": 2, "decided": 2,
         "on_time_rate": 0.0, "compliant_rate": 0.5, "breaches": 1},
    ]  # fmt: skip

    at.selectbox(key="teams_drill").set_value("Integration 1").run()
    drill = at.dataframe[1].value
    # Carla Cordes: T10 T11 on_time, T12 open, T17 overdue.
    assert drill[["worker", "tickets", "decided", "breaches"]].to_dict("records") == [
        {"worker": "Carla Cordes", "tickets": 4, "decided": 3, "breaches": 1}
    ]


def test_a_period_without_tickets_says_so(small_office):
    at = open_page("teams.py")
    choose_period(at, "2026-03", "2026-03")  # nothing is due in March 2026
    assert "keine Tickets" in at.info[0].value
    assert not at.dataframe and not at.get("plotly_chart")
