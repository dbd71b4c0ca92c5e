"""Measures of the controlling pages on small hand-made data, loaded by the real ETL."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from dashboard.queries import overview
from dashboard.queries.filters import Filters
from dashboard.serving import Selection
from dashboard.ui import sidebar
from tests.conftest import d, ticket_row

# Leistung (5 working days) unless stated; March 2026 has no holiday. Sundays: 01.03.,
# 08.03., 15.03., 22.03., 29.03. Stichtag S = Tue 31.03.2026 unless stated.
NOTICE = {"VerBIS-Vermerk": "ja"}
ROWS = [
    # Anna Alt, team Leistung 1
    # T1 02.03.-04.03., due 09.03.: on time, W 2; callback in time, TL informed
    ticket_row(**{"Ticket-ID": "T1", "Erledigt": "04.03.2026", "Anliegen": "Rückruf",
                  "Rückruf erfolgt": "03.03.2026", "TL informiert": "04.03.2026"}),
    # T2 02.03.-11.03., due 09.03.: late, W 7; no callback, TL not informed
    ticket_row(**{"Ticket-ID": "T2", "Erledigt": "11.03.2026", "Anliegen": "Rückruf"}),
    # T3 received 03.03., due 10.03., never completed: overdue
    ticket_row(**{"Ticket-ID": "T3", "Eingang": "03.03.2026"}),
    # T5 received 18.03., due 25.03., completed 02.04. (after S): overdue at S
    ticket_row(**{"Ticket-ID": "T5", "Eingang": "18.03.2026", "Erledigt": "02.04.2026"}),
    # T7 received after S: not there yet
    ticket_row(**{"Ticket-ID": "T7", "Eingang": "02.04.2026"}),
    # T8 received 02.03., due 09.03., valid notice until 13.03., still open: extended_missed
    ticket_row(**{"Ticket-ID": "T8", "Kunde informiert": "05.03.2026",
                  "Zusage bis": "13.03.2026", **NOTICE}),
    # T11 received Thu 26.02., due Thu 05.03., completed 05.03.: on time, W 5
    ticket_row(**{"Ticket-ID": "T11", "Eingang": "26.02.2026", "Erledigt": "05.03.2026"}),
    # Bert Bach, team Leistung 1
    # T4 09.03.-20.03., due 16.03., notice 12.03. until 20.03.: extended_kept, W 9; walk-in
    # noted on the day; TL not informed
    ticket_row(**{"Ticket-ID": "T4", "Bearbeiter": "Bert Bach", "Eingang": "09.03.2026",
                  "Erledigt": "20.03.2026", "Kunde informiert": "12.03.2026",
                  "Zusage bis": "20.03.2026", **NOTICE, "Eingangskanal": "Vorsprache",
                  "Vermerk an TL": "09.03.2026"}),
    # T9 received 23.03., due 30.03., notice until 10.04., open: open_extended at S
    ticket_row(**{"Ticket-ID": "T9", "Bearbeiter": "Bert Bach", "Eingang": "23.03.2026",
                  "Kunde informiert": "25.03.2026", "Zusage bis": "10.04.2026", **NOTICE}),
    # Carl Cramer, team Leistung 1: T10 received Tue 10.02., due 17.02., open: overdue
    ticket_row(**{"Ticket-ID": "T10", "Bearbeiter": "Carl Cramer", "Eingang": "10.02.2026"}),
    # Cora Ernst, team Integration 1 (2 working days): T6 23.03.-26.03., due 25.03.: late, W 3
    ticket_row(**{"Ticket-ID": "T6", "Bearbeiter": "Cora Ernst", "Team": "Integration 1",
                  "Bereich": "Integration", "Eingang": "23.03.2026", "Erledigt": "26.03.2026"}),
]  # fmt: skip
ABSENCES = "Bearbeiter;Von;Bis;Vertretung\nAnna Alt;09.03.2026;13.03.2026;Bert Bach\n"
S = d("31.03.2026")
MARCH = (d("01.03.2026"), d("01.03.2026"))
FEBRUARY = (d("01.02.2026"), d("01.02.2026"))


@pytest.fixture
def con(write_export, load, db, tmp_path):
    absences = tmp_path / "abwesenheiten.csv"
    absences.write_text(ABSENCES, encoding="utf-8")
    results = load(write_export(ROWS), absences=[absences])
    assert all(r.reconciled and not r.refused for r in results)
    return db()


def _same(actual, expected) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return math.isnan(actual)
    return actual == pytest.approx(expected)


BACKLOG_CASES = {
    "all tickets": (
        S,
        Filters(),
        {
            # only T10 (received 10.02., due 17.02.) exists; past due from 18.02. on
            "15.02.2026": (1, 0),
            "22.02.2026": (1, 1),
            # + T11 (26.02.-05.03., due 05.03.)
            "01.03.2026": (2, 1),
            # T10, T2, T3, T8 open (T1 and T11 done); none of March past due yet
            "08.03.2026": (4, 1),
            # T2 done 11.03.; T4 received; T3 (due 10.03.) and T8 (09.03.) past due
            "15.03.2026": (4, 3),
            # T4 done 20.03., T5 received (due 25.03.)
            "22.03.2026": (4, 3),
            # T6 came and went, T9 received (due 30.03.); T5 past due now
            "29.03.2026": (5, 4),
            # the Stichtag as last point: T9 past due, T5 still open (completed after S)
            "31.03.2026": (5, 5),
        },
    ),
    # S = Thu 19.03.: T4's completion (20.03.) has not happened; T4 is past due although
    # it has a running commitment (past due ignores extensions)
    "Stichtag 19.03.": (d("19.03.2026"), Filters(), {"19.03.2026": (5, 4)}),
    "Stichtag 20.03.": (
        d("20.03.2026"), Filters(), {"15.03.2026": (4, 3), "20.03.2026": (4, 3)}
    ),
    # Integration 1 has only T6 (23.03.-26.03., due 25.03.)
    "team Integration 1": (
        d("24.03.2026"),
        Filters(teams=("Integration 1",)),
        {"22.03.2026": (0, 0), "24.03.2026": (1, 0)},
    ),
    "Bereich Integration": (S, Filters(areas=("Integration",)), {"29.03.2026": (0, 0)}),
    "Bereich Leistung": (S, Filters(areas=("Leistung",)), {"29.03.2026": (5, 4)}),
    "worker Bert Bach": (S, Filters(workers=("Bert Bach",)), {"29.03.2026": (1, 0)}),
    # the period only chooses the window; the backlog counts tickets of any month
    "period by receipt": (
        S, Filters(period=MARCH, month_of="receipt"), {"01.03.2026": (2, 1)}
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("as_of", "filters", "expected"), BACKLOG_CASES.values(), ids=BACKLOG_CASES
)
def test_backlog_at_week_ends(con, as_of, filters, expected):
    frame = overview.backlog(con, as_of, filters)
    frame["week_end"] = [x.date() for x in frame["week_end"]]
    actual = frame.set_index("week_end")[["open", "past_due"]]
    assert {k: tuple(actual.loc[d(k)]) for k in expected} == expected


def test_backlog_week_ends_stop_at_the_stichtag(con):
    frame = overview.backlog(con, S, Filters(period=MARCH))
    ends = [x.date() for x in frame["week_end"]]
    # April 2025 - March 2026: Sundays 06.04.2025 ... 29.03.2026 (52), then the Stichtag
    assert (ends[0], ends[-2], ends[-1], len(ends)) == (
        d("06.04.2025"), d("29.03.2026"), d("31.03.2026"), 53
    )  # fmt: skip
    assert all(e.weekday() == 6 for e in ends[:-1])
    # S = Sun 29.03.: no extra point; S = 20.03.: nothing after it
    assert overview.backlog(con, d("29.03.2026"))["week_end"].iloc[-1].date() == d("29.03.2026")
    assert overview.backlog(con, d("20.03.2026"))["week_end"].iloc[-1].date() == d("20.03.2026")
    # a past period: the window ends with the period's month, the Stichtag is not in it
    january = overview.backlog(con, S, Filters(period=(d("01.01.2026"), d("01.01.2026"))))
    assert january["week_end"].iloc[-1].date() == d("25.01.2026")
    assert january["open"].sum() == 0


HEADLINE_CASES = {
    # due in March: T1 T2 T3 T4 T5 T6 T8 T9 T11 (T10 due in February, T7 after S)
    "march, all": (
        Filters(period=MARCH),
        dict(tickets=9, decided=8, on_time=2, compliant=3, on_time_rate=2 / 8,
             compliant_rate=3 / 8, breaches=5, absence_breaches=3, open_overdue=4,
             extensions=3, median_working_days=5.0),
    ),
    # Integration: T6 late, nothing open
    "march, Integration": (
        Filters(areas=("Integration",), period=MARCH),
        dict(tickets=1, decided=1, on_time=0, compliant=0, on_time_rate=0.0,
             compliant_rate=0.0, breaches=1, absence_breaches=0, open_overdue=0,
             extensions=0, median_working_days=3.0),
    ),
    # received in March: T11 (received 26.02.) drops out; open overdue ignores the period
    "march by receipt": (
        Filters(period=MARCH, month_of="receipt"),
        dict(tickets=8, decided=7, on_time=1, compliant=2, on_time_rate=1 / 7,
             compliant_rate=2 / 7, breaches=5, absence_breaches=3, open_overdue=4,
             extensions=3, median_working_days=5.0),
    ),
    # February: T10 only, overdue; open overdue at S is the same as for March
    "february": (
        Filters(period=FEBRUARY),
        dict(tickets=1, decided=1, on_time=0, compliant=0, on_time_rate=0.0,
             compliant_rate=0.0, breaches=1, absence_breaches=0, open_overdue=4,
             extensions=0, median_working_days=math.nan),
    ),
    # nothing due in January: no rate, no median
    "january": (
        Filters(period=(d("01.01.2026"), d("01.01.2026"))),
        dict(tickets=0, decided=0, on_time_rate=math.nan, compliant_rate=math.nan,
             breaches=0, open_overdue=4),
    ),
}  # fmt: skip


@pytest.mark.parametrize(("filters", "expected"), HEADLINE_CASES.values(), ids=HEADLINE_CASES)
def test_headline(con, filters, expected):
    row = overview.headline(con, S, filters).iloc[0]
    actual = {key: row[key] for key in expected}
    assert all(_same(actual[k], v) for k, v in expected.items()), actual


@pytest.mark.parametrize(
    ("as_of", "period", "expected"),
    [
        ("31.03.2026", ("01.03.2026", "01.03.2026"), "28.02.2026"),  # clamped to February
        ("27.11.2026", ("01.11.2026", "01.11.2026"), "27.10.2026"),
        ("31.03.2026", ("01.01.2026", "01.03.2026"), "31.12.2025"),  # three months back
        ("15.01.2026", ("01.01.2026", "01.01.2026"), "15.12.2025"),
    ],
)
def test_comparison_date(as_of, period, expected):
    filters = Filters(period=(d(period[0]), d(period[1])))
    assert overview.comparison_date(d(as_of), filters) == d(expected)


def test_previous_period_comparison(con):
    selection = Selection(S, Filters(period=MARCH))
    before = sidebar.previous_period(selection)
    assert before.filters.period == FEBRUARY
    compare = overview.comparison_date(S, selection.filters)
    previous = overview.headline(con, S, before.filters).iloc[0]
    earlier = overview.open_overdue(con, compare, before.filters)["open_overdue"].item()
    current = overview.headline(con, S, selection.filters).iloc[0]
    # February: T10 only; on 28.02. T10 is overdue, T11 (due 05.03.) still in its deadline
    assert (previous.tickets, previous.breaches, earlier) == (1, 1, 1)
    assert (current.tickets - previous.tickets, current.breaches - previous.breaches) == (8, 4)
    assert current.compliant_rate - previous.compliant_rate == pytest.approx(3 / 8)
    assert current.open_overdue - earlier == 3


def test_status_mix(con):
    frame = overview.status_mix(con, S, Filters(period=MARCH)).set_index("status")
    assert frame["tickets"].to_dict() == {
        "on_time": 2,  # T1, T11
        "extended_kept": 1,  # T4
        "extended_missed": 1,  # T8
        "late": 2,  # T2, T6
        "open": 0,
        "open_extended": 1,  # T9
        "overdue": 2,  # T3, T5
    }
    assert frame.loc["overdue", "label"] == "überfällig"


@pytest.mark.parametrize(
    ("as_of", "period", "trend", "heatmap"),
    [
        ("31.03.2026", ("01.03.2026", "01.03.2026"), ("01.04.2025", "01.03.2026"),
         ("01.04.2025", "01.03.2026")),
        ("31.03.2026", ("01.01.2026", "01.03.2026"), ("01.04.2025", "01.03.2026"),
         ("01.01.2026", "01.03.2026")),
        ("31.03.2026", None, ("01.04.2025", "01.03.2026"), ("01.04.2025", "01.03.2026")),
        ("27.11.2026", ("01.11.2026", "01.11.2026"), ("01.12.2025", "01.11.2026"),
         ("01.12.2025", "01.11.2026")),
    ],
)  # fmt: skip
def test_windows(as_of, period, trend, heatmap):
    filters = Filters(period=(d(period[0]), d(period[1])) if period else None)
    assert overview.trend_window(d(as_of), filters) == (d(trend[0]), d(trend[1]))
    assert overview.heatmap_window(d(as_of), filters) == (d(heatmap[0]), d(heatmap[1]))


def test_trend_per_month_and_area(con):
    frame = overview.trend(con, S, Filters(period=MARCH)).set_index(["month", "area"])
    assert sorted((m.date(), a) for m, a in frame.index) == [
        (d("01.02.2026"), "Leistung"),
        (d("01.03.2026"), "Integration"),
        (d("01.03.2026"), "Leistung"),
    ]
    # Leistung due in March: T1 T11 on time, T4 kept, T2 late, T3 T5 overdue, T8 missed
    march = frame.loc[(dt.datetime(2026, 3, 1), "Leistung")]
    assert (march.decided, march.on_time_rate, march.compliant_rate) == (7, 2 / 7, 3 / 7)


def test_team_table_and_months(con):
    table = overview.team_table(con, S, Filters(period=MARCH))
    assert list(table["team"]) == ["Leistung 1", "Integration 1"]  # best compliant rate first
    first = table.iloc[0]
    assert (first.tickets, first.decided, first.compliant_rate) == (8, 7, 3 / 7)
    months = overview.team_months(con, S, Filters(period=MARCH))
    feb = months[(months["team"] == "Leistung 1") & (months["month"] == "2026-02-01")]
    assert (feb["decided"].item(), feb["compliant_rate"].item()) == (1, 0.0)  # T10


def test_teams_of_the_scope(con):
    assert overview.teams(con, S)["team"].tolist() == ["Leistung 1", "Integration 1"]
    assert overview.teams(con, S, Filters(areas=("Integration",)))["team"].tolist() == [
        "Integration 1"
    ]


def test_worker_table(con):
    frame = overview.worker_table(con, S, Filters(period=MARCH), team="Leistung 1")
    frame = frame.set_index("worker")
    assert list(frame.index) == ["Anna Alt", "Bert Bach", "Carl Cramer"]
    anna = frame.loc["Anna Alt"]
    # T1 T2 T3 T5 T8 T11: on time T1 T11; W 2, 7, 5 (T5's completion is after S)
    assert (anna.tickets, anna.decided, anna.breaches) == (6, 6, 4)
    assert (anna.on_time_rate, anna.compliant_rate) == (pytest.approx(1 / 3), pytest.approx(1 / 3))
    assert (anna.median_working_days, anna.p90_working_days) == (5, pytest.approx(6.6))
    # open at S: T3 T5 T8; oldest T8 (02.03.), 21 working days until Tue 31.03.
    assert (anna.open_tickets, anna.oldest_ticket_id) == (3, "T8")
    assert (anna.oldest_receipt_date.date(), anna.oldest_working_days_open) == (d("02.03.2026"), 21)
    # checks: callback T1 yes, T2 no; TL informed T1 yes, T2 and T11 no; no walk-in
    assert (anna.callback_checked, anna.callback_rate) == (2, 0.5)
    assert (anna.tl_informed_checked, anna.tl_informed_rate) == (3, pytest.approx(1 / 3))
    assert (anna.walkin_checked, math.isnan(anna.walkin_rate)) == (0, True)
    bert = frame.loc["Bert Bach"]
    # T4 kept, T9 open_extended (not decided); W 9
    assert (bert.tickets, bert.decided, bert.compliant_rate, bert.on_time_rate) == (2, 1, 1, 0)
    assert (bert.median_working_days, bert.open_tickets, bert.oldest_ticket_id) == (9, 1, "T9")
    assert bert.oldest_working_days_open == 6  # 23.03. -> 31.03.
    assert (bert.walkin_rate, bert.tl_informed_rate) == (1.0, 0.0)
    # Carl has nothing due in March, but his February ticket is still open
    carl = frame.loc["Carl Cramer"]
    assert (carl.tickets, carl.open_tickets, carl.oldest_ticket_id) == (0, 1, "T10")
    assert math.isnan(carl.compliant_rate)


def test_worker_table_of_another_team_and_empty_period(con):
    frame = overview.worker_table(con, S, Filters(period=MARCH), team="Integration 1")
    assert frame["worker"].tolist() == ["Cora Ernst"]
    assert math.isnan(frame.loc[0, "callback_rate"])  # checks are Leistung only
    january = overview.worker_table(
        con, S, Filters(period=(d("01.01.2026"), d("01.01.2026"))), team="Leistung 1"
    )
    # a team outside the filters stays out (the filters may be a viewer's restriction)
    outside = Filters(teams=("Integration 1",), period=MARCH)
    assert overview.worker_table(con, S, outside, team="Leistung 1").empty
    assert overview.working_days_distribution(con, S, outside, team="Leistung 1").empty
    # nothing due in January; the open tickets still show
    assert january["tickets"].sum() == 0
    assert january["open_tickets"].sum() == 5


def test_working_days_distribution(con):
    frame = overview.working_days_distribution(con, S, Filters(period=MARCH), team="Leistung 1")
    # completed: T1 2, T11 5, T2 7 (late), T4 9 (kept)
    assert frame[["area", "working_days", "tickets", "breaches"]].values.tolist() == [
        ["Leistung", 2, 1, 0],
        ["Leistung", 5, 1, 0],
        ["Leistung", 7, 1, 1],
        ["Leistung", 9, 1, 0],
    ]
    assert overview.working_days_distribution(
        con, S, Filters(period=MARCH, areas=("Integration",))
    )[["working_days", "tickets"]].values.tolist() == [[3, 1]]
