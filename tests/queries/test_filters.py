"""The query value: filters as SQL text and parameters, case by case against a real DuckDB."""

from __future__ import annotations

import pytest

from dashboard.queries.filters import Filters, Query, status_in
from tests.conftest import d, ticket_row

# Five tickets, due dates worked out by hand (Leistung 5, Integration 2 working days after R):
#   L1  Leistung 1, Anna,  R Mon 02.03.2026 -> D Mon 09.03.2026, done 05.03. (on time)
#   L2  Leistung 1, Bernd, R Mon 23.03.2026 -> D Mon 30.03.2026, done 06.04. (late)
#   L3  Leistung 2, Carla, R Wed 25.02.2026 -> D Wed 04.03.2026, open       (overdue at S)
#   I1  Integr. 1,  Dora,  R Fri 27.03.2026 -> D Tue 31.03.2026, done 31.03. (on time)
#   I2  Integr. 1,  Dora,  R Tue 31.03.2026 -> D Thu 02.04.2026, open       (overdue at S)
TICKETS = [
    ticket_row(**{"Ticket-ID": "L1", "Bearbeiter": "Anna", "Eingang": "02.03.2026",
                  "Erledigt": "05.03.2026"}),
    ticket_row(**{"Ticket-ID": "L2", "Bearbeiter": "Bernd", "Eingang": "23.03.2026",
                  "Erledigt": "06.04.2026"}),
    ticket_row(**{"Ticket-ID": "L3", "Team": "Leistung 2", "Bearbeiter": "Carla",
                  "Eingang": "25.02.2026"}),
    ticket_row(**{"Ticket-ID": "I1", "Bereich": "Integration", "Team": "Integration 1",
                  "Bearbeiter": "Dora", "Eingang": "27.03.2026", "Erledigt": "31.03.2026"}),
    ticket_row(**{"Ticket-ID": "I2", "Bereich": "Integration", "Team": "Integration 1",
                  "Bearbeiter": "Dora", "Eingang": "31.03.2026"}),
]  # fmt: skip
AS_OF = d("15.04.2026")
MARCH = (d("01.03.2026"), d("01.03.2026"))
FEB_MAR = (d("01.02.2026"), d("01.03.2026"))


@pytest.fixture
def con(write_export, load, db):
    load(write_export(TICKETS))
    return db()


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(), {"L1", "L2", "L3", "I1", "I2"}),
        (Filters(areas=("Leistung",)), {"L1", "L2", "L3"}),
        (Filters(teams=("Leistung 1", "Integration 1")), {"L1", "L2", "I1", "I2"}),
        (Filters(workers=("Dora",)), {"I1", "I2"}),
        (Filters(areas=("Integration",), workers=("Anna",)), set()),
        # due month March: L1 (09.03.), L2 (30.03.), L3 (04.03.), I1 (31.03.); I2 is due in April
        (Filters(period=MARCH), {"L1", "L2", "L3", "I1"}),
        # receipt month March: L1, L2, I1, I2; L3 came in February
        (Filters(period=MARCH, month_of="receipt"), {"L1", "L2", "I1", "I2"}),
        (Filters(period=FEB_MAR, month_of="receipt"), {"L1", "L2", "L3", "I1", "I2"}),
        (Filters(period=(d("01.04.2026"), d("01.04.2026"))), {"I2"}),
        # values are parameters: SQL in a value matches nothing and breaks nothing
        (Filters(teams=("x') OR true OR ('",)), set()),
        (Filters(workers=("Anna'; DROP TABLE tickets; --",)), set()),
    ],
)
def test_verdicts_hold_exactly_the_filtered_tickets(con, filters, expected):
    rows = filters.verdicts(AS_OF).wrap("SELECT ticket_id FROM {rows}").fetchall(con)
    assert {ticket for (ticket,) in rows} == expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("on_time",), {"L1", "I1"}),
        (("late", "overdue"), {"L2", "L3", "I2"}),
        (("extended_kept", "extended_missed"), set()),
    ],
)
def test_status_in_tests_the_status(con, statuses, expected):
    query = (
        Filters()
        .verdicts(AS_OF)
        .wrap(f"SELECT ticket_id FROM {{rows}} WHERE {status_in(statuses)}")
    )
    assert {ticket for (ticket,) in query.fetchall(con)} == expected


@pytest.mark.parametrize(
    ("as_of", "filters", "expected"),
    [
        (AS_OF, Filters(), {"L1", "L2", "L3", "I1", "I2"}),
        (d("27.03.2026"), Filters(), {"L1", "L2", "L3", "I1"}),  # I2 not yet received
        (None, Filters(workers=("Dora",)), {"I1", "I2"}),  # any receipt date
        (AS_OF, Filters(period=MARCH, areas=("Integration",)), {"I1", "I2"}),  # no month test
    ],
)
def test_tickets_are_the_stored_rows_of_the_filters(con, as_of, filters, expected):
    rows = filters.tickets(as_of).wrap("SELECT ticket_id FROM {rows}").fetchall(con)
    assert {ticket for (ticket,) in rows} == expected


def test_counts_and_verdicts_count_the_same_tickets(con):
    filters = Filters(areas=("Leistung",), period=MARCH)
    counted = filters.counts(AS_OF).wrap("SELECT sum(tickets)::INT FROM {rows}").fetchall(con)
    listed = filters.verdicts(AS_OF).wrap("SELECT count(*)::INT FROM {rows}").fetchall(con)
    assert counted == listed == [(3,)]


def test_wrap_keeps_parameters_and_refuses_a_clash():
    query = Query("SELECT $a AS a", {"a": 1})
    assert query.wrap("SELECT * FROM {rows} WHERE $b", b=True).params == {"a": 1, "b": True}
    assert query.wrap("SELECT * FROM {rows}", a=1).params == {"a": 1}  # same value: one param
    with pytest.raises(ValueError, match="given twice"):
        query.wrap("SELECT * FROM {rows}", a=2)


def test_unknown_status_or_month_is_refused():
    with pytest.raises(ValueError):
        status_in(["on_time", "lost"])
    with pytest.raises(ValueError):
        Filters(month_of="completion")
