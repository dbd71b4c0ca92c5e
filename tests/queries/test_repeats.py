"""Repeat cases (A10) with their run of months, the breaches behind them and conversations."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard.core import records
from dashboard.queries import repeats
from dashboard.queries.filters import Filters
from tests.conftest import RECORD_BACKENDS, d, ticket_row


def L(tid: str, received: str, completed: str = "", worker: str = "Anna Alt", **more) -> dict:
    """A Leistung ticket (5 working days); received on a Monday, due the Monday after."""
    team = "Leistung 2" if worker == "Bert Bach" else "Leistung 1"
    fields = {"Ticket-ID": tid, "Bearbeiter": worker, "Team": team,
              "Eingang": f"{received} 09:00", "Erledigt": completed}  # fmt: skip
    return ticket_row(**fields, **more)


ROWS = [
    # Anna, Jan: received Mon 12.01., due Mon 19.01., done 21.01. -> 2 x late
    L("AJ1", "12.01.2026", "21.01.2026"),
    L("AJ2", "12.01.2026", "21.01.2026"),
    # Anna, Feb: due Mon 16.02.; two late, one extension missed (Zusage 17.02., done 18.02.)
    L("AF1", "09.02.2026", "18.02.2026"),
    L("AF2", "09.02.2026", "18.02.2026"),
    L("AF3", "09.02.2026", "18.02.2026", **{"Kunde informiert": "10.02.2026",
                                            "Zusage bis": "17.02.2026", "VerBIS-Vermerk": "ja"}),
    # Anna, Mar: due Mon 16.03., done 18.03. -> 3 x late
    L("AM1", "09.03.2026", "18.03.2026"),
    L("AM2", "09.03.2026", "18.03.2026"),
    L("AM3", "09.03.2026", "18.03.2026"),
    # Anna, Apr: received 13.04. (after Easter), due 20.04.: one late, one on time
    L("AA1", "13.04.2026", "22.04.2026"),
    L("AA2", "13.04.2026", "14.04.2026"),
    # Anna, May: received 04.05., due 11.05.: one late, one still open -> overdue at S
    L("AY1", "04.05.2026", "13.05.2026"),
    L("AY2", "04.05.2026"),
    # Bert (team Leistung 2), Mar: BM2 received Wed 25.02., due Wed 04.03., done 06.03.
    L("BM1", "09.03.2026", "18.03.2026", worker="Bert Bach"),
    L("BM2", "25.02.2026", "06.03.2026", worker="Bert Bach"),
    L("BM3", "09.03.2026", "10.03.2026", worker="Bert Bach"),
    # Cora, Integration (2 working days): received Mon 09.02., due Wed 11.02., done 13.02.
    ticket_row(**{"Ticket-ID": "CF1", "Bereich": "Integration", "Team": "Integration 1",
                  "Bearbeiter": "Cora Ernst", "Eingang": "09.02.2026 09:00",
                  "Erledigt": "13.02.2026"}),
]  # fmt: skip
S = d("30.06.2026")
JAN, FEB, MAR, APR, MAY, JUN = (dt.date(2026, m, 1) for m in range(1, 7))
ANNA, BERT, CORA = "Anna Alt", "Bert Bach", "Cora Ernst"


@pytest.fixture
def con(write_export, load, db):
    results = load(write_export(ROWS))
    assert all(r.reconciled and not r.refused for r in results)
    return db()


def _rows(frame: pd.DataFrame) -> list[tuple]:
    return [
        (m.date(), w, b, s)
        for m, w, b, s in zip(
            frame["month"], frame["worker"], frame["breaches"], frame["streak"], strict=True
        )
    ]


@pytest.mark.parametrize(
    ("as_of", "filters", "threshold", "expected"),
    [
        # newest month first; streak = months in a row up to this one
        (S, Filters(), 2, [(MAY, ANNA, 2, 1), (MAR, ANNA, 3, 3), (MAR, BERT, 2, 1),
                           (FEB, ANNA, 3, 2), (JAN, ANNA, 2, 1)]),
        (S, Filters(), 3, [(MAR, ANNA, 3, 2), (FEB, ANNA, 3, 1)]),
        (S, Filters(), 4, []),
        # threshold 1: Anna is a case Jan-May without a gap (April has one breach)
        (S, Filters(), 1, [(MAY, ANNA, 2, 5), (APR, ANNA, 1, 4), (MAR, ANNA, 3, 3),
                           (MAR, BERT, 2, 1), (FEB, ANNA, 3, 2),
                           (JAN, ANNA, 2, 1)]),
        # the period picks months, but the run looks back before it (Mar: since Jan)
        (S, Filters(period=(MAR, MAY)), 2, [(MAY, ANNA, 2, 1), (MAR, ANNA, 3, 3),
                                            (MAR, BERT, 2, 1)]),
        (S, Filters(period=(MAR, MAR)), 3, [(MAR, ANNA, 3, 2)]),
        # A10 always counts by month of due date: BM2 (received Feb, due Mar) stays in March
        (S, Filters(period=(MAR, MAR), month_of="receipt"), 2, [(MAR, ANNA, 3, 3),
                                                                (MAR, BERT, 2, 1)]),
        (S, Filters(teams=("Leistung 2",)), 2, [(MAR, BERT, 2, 1)]),
        # A10 counts Leistung only (rules.repeat_areas): Cora's Integration breach is none
        (S, Filters(areas=("Integration",)), 1, []),
        (S, Filters(workers=(BERT,), period=(JAN, FEB)), 2, []),
        # on 16.03. March's tickets of Anna are open until their due date: no March case
        (d("16.03.2026"), Filters(), 2, [(FEB, ANNA, 3, 2), (JAN, ANNA, 2, 1)]),
    ],
)  # fmt: skip
def test_repeat_cases_with_streak(con, as_of, filters, threshold, expected):
    frame = repeats.repeat_cases_with_streak(con, as_of, filters, threshold=threshold)
    assert _rows(frame) == expected


def test_streak_since_and_ticket_ids(con):
    frame = repeats.repeat_cases_with_streak(con, S, Filters(), threshold=2)
    march = frame[(frame["worker"] == ANNA) & (frame["month"] == pd.Timestamp(MAR))].iloc[0]
    assert march["streak_since"].date() == JAN
    assert list(march["ticket_ids"]) == ["AM1", "AM2", "AM3"]
    assert march["team"] == "Leistung 1"
    bert = frame[frame["worker"] == BERT].iloc[0]
    assert list(bert["ticket_ids"]) == ["BM2", "BM1"]  # by due date


@pytest.mark.parametrize(
    ("worker", "month", "filters", "expected"),
    [
        (ANNA, FEB, Filters(), [("AF1", "16.02.2026", "late", 7),
                                ("AF2", "16.02.2026", "late", 7),
                                ("AF3", "16.02.2026", "extended_missed", 7)]),
        # any day of the month names the month; the on-time BM3 is no breach
        (BERT, d("15.03.2026"), Filters(), [("BM2", "04.03.2026", "late", 7),
                                            ("BM1", "16.03.2026", "late", 7)]),
        # AY2 is overdue: no working days taken yet
        (ANNA, MAY, Filters(), [("AY1", "11.05.2026", "late", 7),
                                ("AY2", "11.05.2026", "overdue", None)]),
        (ANNA, APR, Filters(), [("AA1", "20.04.2026", "late", 7)]),
        # the period of the page does not hide a case's tickets; scope filters do
        (BERT, MAR, Filters(period=(JAN, JAN), month_of="receipt"),
         [("BM2", "04.03.2026", "late", 7), ("BM1", "16.03.2026", "late", 7)]),
        (ANNA, MAR, Filters(teams=("Leistung 2",)), []),
        (ANNA, JUN, Filters(), []),
    ],
)  # fmt: skip
def test_breaches_of(con, worker, month, filters, expected):
    frame = repeats.breaches_of(con, S, filters, worker=worker, month=month)
    rows = [
        (t, f"{due:%d.%m.%Y}", s, None if pd.isna(w) else int(w))
        for t, due, s, w in zip(
            frame["ticket_id"], frame["due_date"], frame["status"], frame["working_days"],
            strict=True,
        )
    ]  # fmt: skip
    assert rows == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (d("27.11.2026"), (dt.date(2025, 12, 1), dt.date(2026, 11, 1))),
        (d("15.01.2026"), (dt.date(2025, 2, 1), dt.date(2026, 1, 1))),
        (d("31.12.2026"), (dt.date(2026, 1, 1), dt.date(2026, 12, 1))),
    ],
)
def test_last_months(as_of, expected):
    assert repeats.last_months(as_of) == expected
    scoped = repeats.scope(Filters(period=(MAR, MAR), month_of="receipt"), as_of, last12=True)
    assert (scoped.period, scoped.month_of) == (expected, "due")


def _conversation(cid, worker, month, held_on, by, at) -> dict:
    return {"id": cid, "worker": worker, "month": pd.Timestamp(month),
            "held_on": pd.Timestamp(d(held_on)), "recorded_by": by,
            "recorded_at": pd.Timestamp(at)}  # fmt: skip


CASES = pd.DataFrame(
    {
        "month": pd.to_datetime([MAR, MAR, JAN]),
        "worker": [ANNA, BERT, ANNA],
        "breaches": [3, 2, 2],
        "streak": [3, 1, 1],
    }
)


@pytest.mark.parametrize(
    ("records_", "expected"),
    [
        # nothing recorded: every case awaits its conversation
        ([], [(None, None, 0), (None, None, 0), (None, None, 0)]),
        # two records for Anna/March: the later conversation is shown, both are counted;
        # a record of a month that is no case (Bert/May) changes nothing
        ([_conversation(1, ANNA, MAR, "25.03.2026", "TL Nord", "2026-03-25 10:00"),
          _conversation(2, ANNA, MAR, "20.03.2026", "TL Süd", "2026-03-26 09:00"),
          _conversation(3, ANNA, JAN, "02.02.2026", "TL Nord", "2026-02-02 12:00"),
          _conversation(4, BERT, MAY, "02.06.2026", "TL Nord", "2026-06-02 12:00")],
         [("25.03.2026", "TL Nord", 2), (None, None, 0), ("02.02.2026", "TL Nord", 1)]),
        # same date twice: the later record wins
        ([_conversation(1, BERT, MAR, "01.04.2026", "A", "2026-04-01 10:00"),
          _conversation(2, BERT, MAR, "01.04.2026", "B", "2026-04-02 10:00")],
         [(None, None, 0), ("01.04.2026", "B", 2), (None, None, 0)]),
    ],
)  # fmt: skip
def test_merge_status(records_, expected):
    conversations = pd.DataFrame(records_, columns=list(repeats.CONVERSATION_COLUMNS))
    merged = repeats.merge_status(CASES, conversations)
    assert list(merged["worker"]) == list(CASES["worker"])  # order kept, one row per case
    got = [
        (None if pd.isna(h) else f"{h:%d.%m.%Y}", None if pd.isna(r) else r, n)
        for h, r, n in zip(
            merged["held_on"], merged["recorded_by"], merged["conversations"], strict=True
        )
    ]
    assert got == expected
    assert list(merged["pending"]) == [h is None for h, _, _ in expected]
    labels = [repeats.PENDING_LABEL if h is None else repeats.HELD_LABEL for h, _, _ in expected]
    assert list(merged["conversation"]) == labels


@pytest.mark.parametrize(
    ("streak", "marker"),
    [(1, ""), (2, "seit 2 Monaten in Folge"), (12, "seit 12 Monaten in Folge")],
)
def test_streak_marker(streak, marker):
    assert repeats.streak_marker(streak) == marker


TODAY = d("30.06.2026")


@pytest.mark.parametrize(
    ("month", "held_on", "who", "message"),
    [
        (MAR, "01.07.2026", "TL Nord", "liegt in der Zukunft"),
        (MAR, "28.02.2026", "TL Nord", "frühestens 01.03.2026"),
        (d("15.03.2026"), "28.02.2026", "TL Nord", "frühestens 01.03.2026"),
        (MAR, "20.03.2026", "   ", "Erfasst von"),
        (MAR, "20.03.2026", "", "Erfasst von"),
    ],
)
def test_record_conversation_refuses(config, month, held_on, who, message):
    with pytest.raises(repeats.InvalidConversation, match=message):
        repeats.record_conversation(config, ANNA, month, d(held_on), who, today=TODAY)
    assert repeats.conversations(config).empty
    assert records.query(config, "SELECT count(*) AS n FROM audit_log")["n"][0] == 0


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
@pytest.mark.parametrize(
    ("month", "held_on"),
    [(MAR, "01.03.2026"), (MAR, "30.06.2026"), (d("31.03.2026"), "16.03.2026")],
)
def test_record_conversation_stores_date_and_recorder(config, month, held_on):
    record_id = repeats.record_conversation(
        config, ANNA, month, d(held_on), " TL Nord ", today=TODAY
    )
    [row] = repeats.conversations(config).to_dict("records")
    assert row["id"] == record_id
    assert (row["worker"], row["month"].date(), row["held_on"].date(), row["recorded_by"]) == (
        ANNA, MAR, d(held_on), "TL Nord",
    )  # fmt: skip
    log = records.query(config, "SELECT who, action, detail FROM audit_log")
    assert log.values.tolist() == [
        ["TL Nord", repeats.AUDIT_ACTION,
         f"Anna Alt, Monat 03.2026, Gespräch am {held_on} (Nr. {record_id})"],
    ]  # fmt: skip


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_several_records_are_all_kept(config, con):
    repeats.record_conversation(config, ANNA, MAR, d("20.03.2026"), "TL Süd", today=TODAY)
    repeats.record_conversation(config, ANNA, MAR, d("25.03.2026"), "TL Nord", today=TODAY)
    history = repeats.conversations(config)
    assert list(history["held_on"].dt.date) == [d("25.03.2026"), d("20.03.2026")]  # newest first
    cases = repeats.repeat_cases_with_streak(con, S, Filters(period=(MAR, MAR)), threshold=2)
    merged = repeats.merge_status(cases, history).set_index("worker")
    assert merged.loc[ANNA, "held_on"].date() == d("25.03.2026")
    assert merged.loc[ANNA, "conversations"] == 2
    assert merged.loc[BERT, "pending"]
    # the history of one case keeps every record; any day names the month
    mine = repeats.case_history(history, ANNA, d("31.03.2026"))
    assert list(mine["recorded_by"]) == ["TL Nord", "TL Süd"]
    assert repeats.case_history(history, BERT, MAR).empty
    assert repeats.case_history(history.iloc[0:0], ANNA, MAR).empty


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_records_survive_a_reload(config, con, write_export, load, db):
    repeats.record_conversation(config, ANNA, MAR, d("20.03.2026"), "TL Nord", today=TODAY)
    before = repeats.repeat_cases_with_streak(con, S, Filters(period=(MAR, MAR)), threshold=2)
    assert before.set_index("worker").loc[ANNA, "breaches"] == 3
    # a new export: AM3 now on time, a new late AM4; the tickets database is swapped
    changed = [L("AM3", "09.03.2026", "11.03.2026"), L("AM4", "09.03.2026", "19.03.2026")]
    results = load(write_export(changed))
    assert results[0].records_replaced == 1 and results[0].records_new == 1
    after = repeats.repeat_cases_with_streak(db(), S, Filters(period=(MAR, MAR)), threshold=2)
    anna = after.set_index("worker").loc[ANNA]
    assert list(anna["ticket_ids"]) == ["AM1", "AM2", "AM4"]
    history = repeats.conversations(config)
    assert len(history) == 1
    merged = repeats.merge_status(after, history).set_index("worker")
    assert not merged.loc[ANNA, "pending"]
    assert merged.loc[ANNA, "held_on"].date() == d("20.03.2026")
    assert merged.loc[BERT, "pending"]


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_per_month_and_export(config, con):
    repeats.record_conversation(config, ANNA, MAR, d("20.03.2026"), "TL Nord", today=TODAY)
    cases = repeats.repeat_cases_with_streak(con, S, Filters(), threshold=2)
    status = repeats.merge_status(cases, repeats.conversations(config))
    months = repeats.per_month(status)
    assert [(m.date(), c, p, h) for m, c, p, h in months[["month", "cases", "pending", "held"]]
            .itertuples(index=False)] == [(JAN, 1, 1, 0), (FEB, 1, 1, 0), (MAR, 2, 1, 1),
                                          (MAY, 1, 1, 0)]  # fmt: skip
    export = repeats.export_frame(status)
    assert list(export.columns) == list(repeats.EXPORT_COLUMNS.values())
    assert len(export) == len(status)
    held = export[export["Gespräch"] == "Gespräch geführt"]
    assert held[["Mitarbeiter/in", "Erfasst von"]].values.tolist() == [[ANNA, "TL Nord"]]
    assert held["Gespräch am"].iloc[0].date() == d("20.03.2026")
