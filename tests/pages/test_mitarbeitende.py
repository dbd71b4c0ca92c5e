"""Mitarbeitende: the tables and chart shown for the small office (tests/pages/small_office.py).

Period May 2026 by due date, Stichtag Fri 29.05.2026. Statuses, working days W and checks
per ticket are worked out in small_office.TICKETS.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

from tests.pages.small_office import choose_period, open_page, plotly_array


def _ids(urls) -> list[str]:
    return [parse_qs(urlparse(u).query)["id"][0] for u in urls]


def _records(frame) -> list[dict]:
    # timestamps as dates, as the table shows them (TT.MM.JJJJ)
    return [
        {k: v.date() if isinstance(v, pd.Timestamp) else v for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def test_figures_of_the_workers_of_a_leistung_team(small_office):
    at = open_page("mitarbeitende.py")
    # Teams by Bereich (Leistung first), then name.
    assert at.selectbox(key="worker_team").options == ["Leistung 1", "Leistung 2", "Integration 1"]
    assert at.selectbox(key="worker_team").value == "Leistung 1"
    period, waiting, checks = (t.value for t in at.dataframe)

    assert period.to_dict("records") == [
        # Anna Alt: T01 on_time (W 4), T02 late (W 6), T03 overdue, T04 open_extended:
        # 3 decided, 1 on time and compliant, 2 breaches; median W of 4 and 6 = 5,
        # 90 % value 4 + 0,9 * (6 - 4) = 5,8.
        {"worker": "Anna Alt", "tickets": 4, "decided": 3,
         "on_time_rate": pytest.approx(1 / 3), "compliant_rate": pytest.approx(1 / 3),
         "breaches": 2, "median_working_days": 5.0, "p90_working_days": pytest.approx(5.8)},
        # Bernd Berg: T05 extended_kept (W 6), T07 late (W 7): 2 decided, 0 on time,
        # 1 compliant, 1 breach; median 6,5, 90 % value 6 + 0,9 * 1 = 6,9.
        {"worker": "Bernd Berg", "tickets": 2, "decided": 2, "on_time_rate": 0.0,
         "compliant_rate": 0.5, "breaches": 1, "median_working_days": 6.5,
         "p90_working_days": pytest.approx(6.9)},
    ]  # fmt: skip

    # Oldest open ticket at S, whatever its month: Anna has T03 (R 19.05., 7 WD) and T04;
    # Bernd has T06 (R 25.05., due in June: outside the period, still listed; 4 WD).
    assert _ids(waiting["oldest_ticket_id"]) == ["T03", "T06"]
    assert _records(waiting.drop(columns="oldest_ticket_id")) == [
        {"worker": "Anna Alt", "open_tickets": 2, "oldest_receipt_date": dt.date(2026, 5, 19),
         "oldest_working_days_open": 7},
        {"worker": "Bernd Berg", "open_tickets": 1, "oldest_receipt_date": dt.date(2026, 5, 25),
         "oldest_working_days_open": 4},
    ]  # fmt: skip

    assert checks.to_dict("records") == [
        # Anna: A5 T01 true, T02 false (1 of 2); A6 T03 true (1 of 1);
        # A7 T01 true, T02 false (completed, not informed) (1 of 2).
        {"worker": "Anna Alt", "callback_rate": 0.5, "callback_checked": 2,
         "walkin_rate": 1.0, "walkin_checked": 1, "tl_informed_rate": 0.5,
         "tl_informed_checked": 2},
        # Bernd: A5 T05 false (called back after D); A6 T07 false (note not on R);
        # A7 T05 true, T07 false (informed before completion).
        {"worker": "Bernd Berg", "callback_rate": 0.0, "callback_checked": 1,
         "walkin_rate": 0.0, "walkin_checked": 1, "tl_informed_rate": 0.5,
         "tl_informed_checked": 2},
    ]  # fmt: skip

    # Histogram of W of the completed: T01 4, T02 6, T05 6, T07 7; Leistung deadline 5.
    [chart] = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    [bars] = chart["data"]
    assert (plotly_array(bars["x"]), plotly_array(bars["y"])) == ([4, 6, 7], [1, 2, 1])
    [line] = chart["layout"]["shapes"]
    assert line["x0"] == 5.5


def test_figures_of_an_integration_team(small_office):
    at = open_page("mitarbeitende.py")
    at.selectbox(key="worker_team").set_value("Integration 1").run()
    assert not at.exception and not at.error
    period, waiting = (t.value for t in at.dataframe)
    # Carla Cordes: T10 on_time (W 1), T11 on_time (W 2), T12 open, T17 overdue:
    # 3 decided, 2 on time; median 1,5, 90 % value 1 + 0,9 = 1,9.
    assert period.to_dict("records") == [
        {"worker": "Carla Cordes", "tickets": 4, "decided": 3,
         "on_time_rate": pytest.approx(2 / 3), "compliant_rate": pytest.approx(2 / 3),
         "breaches": 1, "median_working_days": 1.5, "p90_working_days": pytest.approx(1.9)},
    ]  # fmt: skip
    # Open at S: T17 (R 21.05., 5 WD) and T12 (R 27.05.).
    assert _ids(waiting["oldest_ticket_id"]) == ["T17"]
    assert list(waiting["open_tickets"]) == [2]
    assert list(waiting["oldest_working_days_open"]) == [5]
    # A5–A7 are checks of Leistung only.
    assert "nur im Bereich Leistung" in at.info[-1].value
    # W of T10 1 and T11 2; Integration deadline 2.
    [chart] = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    [bars] = chart["data"]
    assert (plotly_array(bars["x"]), plotly_array(bars["y"])) == ([1, 2], [1, 1])
    assert chart["layout"]["shapes"][0]["x0"] == 2.5


def test_teams_follow_the_bereich(small_office):
    at = open_page("mitarbeitende.py")
    at.selectbox(key="f_bereich").set_value("Integration").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="worker_team").options == ["Integration 1"]


def test_a_period_without_tickets_says_so(small_office):
    at = open_page("mitarbeitende.py")
    choose_period(at, "2026-03", "2026-03")  # nothing is due in March 2026
    assert "keine Tickets" in at.info[0].value
    assert not at.dataframe and not at.get("plotly_chart")
