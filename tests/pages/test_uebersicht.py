"""Übersicht: the figures shown for the small office (tests/pages/small_office.py), by hand.

Period May 2026 by due date, Stichtag Fri 29.05.2026; previous period April 2026.
"""

from __future__ import annotations

import json

import pytest

from dashboard.core.labels import STATUS_COLORS
from dashboard.core.rules import STATUS_LABELS, STATUSES
from tests.pages.small_office import (
    choose_period,
    metric_deltas,
    metric_values,
    open_page,
    plotly_array,
)

RED, GREEN, GRAY = 0, 1, 2  # st.metric's delta colours (MetricProto.MetricColor)

# Status per ticket due in May (small_office.TICKETS): on_time T01 T08 T10 T11,
# extended_kept T05, late T02 T07, extended_missed T09, overdue T03 T17, open T12,
# open_extended T04. T06 is due 01.06. and not counted.
MAY = {"on_time": 4, "extended_kept": 1, "late": 2, "extended_missed": 1, "overdue": 2,
       "open": 1, "open_extended": 1}  # fmt: skip


def test_headline_figures_of_the_period(small_office):
    at = open_page("uebersicht.py")
    assert at.title[0].value == "Übersicht"
    assert metric_values(at) == {
        # T01–T05, T07–T12, T17: 12 tickets due in May.
        "Tickets fällig": "12",
        # decided = 12 - open T12 - open_extended T04 = 10; on time 4 of 10.
        "Fristgerecht": "40,0 %",
        # on time 4 + extended_kept T05 = 5 of 10.
        "Regelkonform": "50,0 %",
        # late T02 T07 + extended_missed T09 + overdue T03 T17.
        "Fristverstöße": "5",
        # T07 (late) was due 18.05., inside Bernd Berg's absence 18.–22.05.
        "Verstöße bei Abwesenheit": "1",
        # open at S past D without a running extension: T03 (D 27.05.), T17 (D 26.05.);
        # T04 is extended to 05.06., T12 is due on S, T06 on 01.06.
        "Offen überfällig": "2",
        # valid notices (K <= D, Z, VerBIS ja): T04, T05, T09; T07's notice came after D.
        "Verlängerungen": "3",
        # W of the completed: T10 1, T11 2, T01 4, T08 5, T02 6, T05 6, T07 7, T09 8 -> (5+6)/2.
        "Median Arbeitstage": "5,5",
    }


def test_changes_against_the_previous_period(small_office):
    at = open_page("uebersicht.py")
    # April (due): T13 on_time (W 4), T14 late (W 7), T15 late (W 3), T16 late (W 11),
    # T18 on_time (W 3): 5 tickets, 5 decided, 2 on time and compliant (40 %), 3 breaches,
    # no absence, no extension, median W of 3 3 4 7 11 = 4. Open overdue at 29.04.: T16 only
    # (D 23.04., completed 04.05.); T14 was completed on 29.04.
    assert metric_deltas(at) == {
        "Tickets fällig": "+7",  # 12 - 5
        "Fristgerecht": "±0,0 Pp",  # 40 % - 40 %
        "Regelkonform": "+10,0 Pp",  # 50 % - 40 %
        "Fristverstöße": "+2",  # 5 - 3
        "Verstöße bei Abwesenheit": "+1",  # 1 - 0
        "Offen überfällig": "+1",  # 2 at 29.05. - 1 at 29.04.
        "Verlängerungen": "+3",  # 3 - 0
        "Median Arbeitstage": "+1,5",  # 5,5 - 4
    }
    colors = {m.label: m.proto.color for m in at.metric}
    # more breaches and longer times are bad (red), a better rate good (green), no change and
    # plain counts neutral (grey)
    assert colors["Fristverstöße"] == colors["Median Arbeitstage"] == RED
    assert colors["Regelkonform"] == GREEN
    assert colors["Fristgerecht"] == colors["Tickets fällig"] == GRAY
    assert "April 2026" in at.caption[1].value and "29.04.2026" in at.caption[1].value


def test_trend_and_backlog(small_office):
    at = open_page("uebersicht.py")
    trend, backlog, _ = (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
    lines = {t["name"]: t for t in trend["data"]}
    # Leistung due in April: T13 T18 on time of T13 T14 T16 T18 = 2/4, none extended;
    # in May: decided 7 (all but T04), on time T01 T08 = 2/7, compliant with T05 = 3/7.
    assert plotly_array(lines["Leistung: fristgerecht"]["y"]) == pytest.approx([1 / 2, 2 / 7])
    assert plotly_array(lines["Leistung: regelkonform"]["y"]) == pytest.approx([1 / 2, 3 / 7])
    # Integration: April T15 late (0 of 1); May T10 T11 on time of 3 decided.
    assert plotly_array(lines["Integration: fristgerecht"]["y"]) == pytest.approx([0, 2 / 3])

    # Open at a Sunday E: received <= E and not completed by E; past due: also D < E
    # (extensions ignored). Before April nothing is open (T18: 30.03.–02.04.).
    offen, past_due = backlog["data"]
    ends = [x[:10] for x in plotly_array(offen["x"])]
    shown = dict(zip(ends, zip(plotly_array(offen["y"]), plotly_array(past_due["y"]),
                               strict=True), strict=True))  # fmt: skip
    tail = {
        "2026-04-05": (2, 0),  # T13 (D 10.04.), T15 (D 08.04.)
        "2026-04-12": (0, 0),  # both completed 09.04.
        "2026-04-19": (1, 0),  # T16 (D 23.04.)
        "2026-04-26": (2, 1),  # T16 past due, T14 (D 27.04.)
        "2026-05-03": (2, 1),  # T16 past due, T05 (D 08.05.)
        "2026-05-10": (2, 1),  # T05 past due (extended, still counted), T07 (D 18.05.)
        "2026-05-17": (4, 0),  # T02 T07 T08 T09, none past due
        "2026-05-24": (5, 1),  # T03 T04 T09 T11 T17; T09 past due (D 20.05.)
        "2026-05-29": (5, 3),  # the Stichtag: T03 T04 T06 T12 T17; T03 T04 T17 past due
    }
    assert {e: shown[e] for e in list(shown)[-len(tail) :]} == tail
    assert set(list(shown.values())[: -len(tail)]) == {(0, 0)}
    assert ends[0] == "2025-06-01"  # the first Sunday of the 12 months June 2025 – May 2026


def test_status_mix(small_office):
    at = open_page("uebersicht.py")
    table = at.dataframe[0].value
    assert dict(zip(table["label"], table["tickets"], strict=True)) == {
        STATUS_LABELS[s]: MAY[s] for s in STATUSES
    }
    mix = json.loads(at.get("plotly_chart")[-1].proto.spec)["data"][0]
    # all seven statuses occur in May, each in its own colour
    assert list(mix["labels"]) == [STATUS_LABELS[s] for s in STATUSES]
    assert mix["marker"]["colors"] == [STATUS_COLORS[s] for s in STATUSES]


def test_integration_only(small_office):
    at = open_page("uebersicht.py")
    at.selectbox(key="f_bereich").set_value("Integration").run()
    assert not at.exception and not at.error
    shown = metric_values(at)
    # Integration due in May: T10 on_time, T11 on_time, T12 open, T17 overdue.
    assert shown["Tickets fällig"] == "4"
    assert shown["Fristgerecht"] == "66,7 %"  # 2 of 3 decided (T12 undecided)
    assert shown["Regelkonform"] == "66,7 %"
    assert shown["Fristverstöße"] == "1"  # T17
    assert shown["Offen überfällig"] == "1"  # T17
    assert shown["Verlängerungen"] == "0"
    assert shown["Median Arbeitstage"] == "1,5"  # W of T10 1 and T11 2


def test_month_of_receipt(small_office):
    at = open_page("uebersicht.py")
    at.radio(key="f_monat_nach").set_value("Eingang").run()
    assert not at.exception and not at.error
    shown = metric_values(at)
    # Received in May: T01–T04, T06–T12, T17 = 12 (T05 came on 30.04., T06 counts now).
    assert shown["Tickets eingegangen"] == "12"
    # decided: 12 - open T06 T12 - open_extended T04 = 9; on time T01 T08 T10 T11.
    assert shown["Fristgerecht"] == "44,4 %"
    assert shown["Regelkonform"] == "44,4 %"  # no extended_kept among them (T05 is April's)
    assert shown["Verlängerungen"] == "2"  # T04, T09


def test_a_period_without_tickets_says_so(small_office):
    at = open_page("uebersicht.py")
    # Nothing is due in March 2026 (T18, received 30.03., is due 08.04.).
    choose_period(at, "2026-03", "2026-03")
    assert "keine Tickets" in at.info[0].value
    assert not at.metric and not at.get("plotly_chart")
    # ... but T18 was received in March.
    at.radio(key="f_monat_nach").set_value("Eingang").run()
    assert metric_values(at)["Tickets eingegangen"] == "1"
