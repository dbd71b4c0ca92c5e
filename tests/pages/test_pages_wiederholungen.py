"""The page Wiederholte Fristüberschreitungen (A10) under AppTest, on the demo database.

The records database is redirected to a temporary file, so the shared demo records stay
untouched. Every figure shown is compared with the domain functions for the same filters.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.core import records
from dashboard.core.config import load_config
from dashboard.core.format import number
from dashboard.core.months import month_label
from dashboard.core.rules import STATUS_LABELS
from dashboard.core.storage import connect_readonly
from dashboard.queries import repeats
from dashboard.queries.filters import Filters
from tests.conftest import DEMO_AS_OF, DEMO_WHO

# A10 counts Leistung only, breaches during absence not: the small demo office has three
# cases in September 2026 (none in the running month of the Stichtag, November).
MONTH = dt.date(2026, 9, 1)
DEFAULT = Filters(period=(MONTH, MONTH))
TITLE = "Wiederholte Fristüberschreitungen"


@pytest.fixture
def env(app_env, tmp_path, monkeypatch):
    """The demo configuration with the records database in tmp_path."""
    path = tmp_path / "config.toml"
    path.write_text(
        f"[rules]\nreference_date = {DEMO_AS_OF.isoformat()}\n"
        f"[storage]\ndatabase = {json.dumps(str(app_env.database))}\n"
        f"key_file = {json.dumps(str(app_env.storage.key_file))}\n"
        f"app_database = {json.dumps(str(tmp_path / 'app.duckdb'))}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("TICKET_CONTROLLING_CONFIG", str(path))
    config = load_config(path, environ={})
    assert config.database == app_env.database and config.app_database.parent == tmp_path
    return config


@pytest.fixture
def con(env):
    con = connect_readonly(env)
    yield con
    con.close()


def _page() -> AppTest:
    at = AppTest.from_file("../../pages/wiederholungen.py", default_timeout=60)
    at.query_params["von"] = at.query_params["bis"] = f"{MONTH:%Y-%m}"
    return at.run()


def _expected(
    con, env, filters: Filters = DEFAULT, last12: bool = False, pending: bool = True
) -> pd.DataFrame:
    """The page's list: the period's cases and (by default) every pending case of any month."""
    scoped = repeats.scope(filters, DEMO_AS_OF, last12=last12)
    history = repeats.conversations(env)
    threshold = env.rules.repeat_threshold

    def status(f: Filters) -> pd.DataFrame:
        cases = repeats.repeat_cases_with_streak(con, DEMO_AS_OF, f, threshold=threshold)
        return repeats.merge_status(cases, history)

    period = status(scoped)
    everything = status(replace(scoped, period=None)) if pending else period.iloc[0:0]
    return repeats.worklist(period, everything)


def _table(at: AppTest, column: str) -> pd.DataFrame:
    [table] = [t for t in at.dataframe if column in t.value.columns]
    return table.value


def _assert_overview(at: AppTest, expected: pd.DataFrame) -> None:
    shown = _table(at, "Mitarbeiter/in")
    assert list(shown["Mitarbeiter/in"]) == list(expected["worker"])
    assert list(shown["Monat"]) == [month_label(m.date()) for m in expected["month"]]
    assert list(shown["Anzahl"]) == list(expected["breaches"])
    assert list(shown["Gespräch"]) == list(expected["conversation"])
    markers = [repeats.streak_marker(s) for s in expected["streak"]]
    assert list(shown["In Folge"]) == markers
    assert list(shown["Erfasst von"].fillna("")) == list(expected["recorded_by"].fillna(""))
    assert list(shown["Erfasst"]) == list(expected["conversations"])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Wiederholungsfälle"] == number(len(expected))
    assert metrics["Gespräch ausstehend"] == number(expected["pending"].sum())
    assert metrics["Gespräch geführt"] == number((~expected["pending"]).sum())
    assert metrics["In Folge"] == number((expected["streak"] >= 2).sum())


def _shown_ids(at: AppTest) -> list[str]:
    return list(_table(at, "Fällig am")["Ticket"])


def test_page_shows_the_repeat_cases_of_the_month(env, con):
    at = _page()
    assert not at.exception
    assert at.title[0].value == TITLE
    expected = _expected(con, env)
    assert len(expected) > 0 and expected["pending"].all()
    _assert_overview(at, expected)
    # the selected case (first pending) lists its breaches
    case = expected.iloc[0]
    tickets = repeats.breaches_of(
        con, DEMO_AS_OF, DEFAULT, worker=case["worker"], month=case["month"].date()
    )
    assert len(tickets) == case["breaches"]
    assert _shown_ids(at) == list(tickets["ticket_id"]) == list(case["ticket_ids"])
    shown = _table(at, "Fällig am")
    assert list(shown["Status"]) == list(tickets["status"].map(STATUS_LABELS))
    keys = {b.key for b in at.get("download_button")}
    assert {"rep_download_csv", "rep_download_xlsx"} <= keys
    # A10 counts by month of due date: "Monat nach: Eingang" changes nothing here
    at.radio(key="f_monat_nach").set_value("Eingang").run()
    assert not at.exception
    _assert_overview(at, expected)


def test_last_12_months_and_runs_of_months(env, con):
    at = _page()
    at.checkbox(key="rep_last12").check().run()
    assert not at.exception
    expected = _expected(con, env, last12=True)
    assert expected["month"].nunique() > 1
    _assert_overview(at, expected)
    assert (expected["streak"] >= 2).any()
    assert at.get("plotly_chart")
    # a case in a run of months says since when
    key = next(
        f"{m.date().isoformat()}|{w}"
        for m, w, s in zip(expected["month"], expected["worker"], expected["streak"], strict=True)
        if s >= 2
    )
    at.selectbox(key="rep_case").set_value(key).run()
    assert not at.exception
    case = expected[
        (expected["worker"] == key.split("|")[1])
        & (expected["month"] == pd.Timestamp(key.split("|")[0]))
    ].iloc[0]  # fmt: skip
    marker = repeats.streak_marker(case["streak"])
    assert any(marker in w.value for w in at.warning)
    tickets = repeats.breaches_of(
        con, DEMO_AS_OF, Filters(), worker=case["worker"], month=case["month"].date()
    )
    assert _shown_ids(at) == list(tickets["ticket_id"])


def test_recording_a_conversation_ends_pending(env, con):
    at = _page()
    expected = _expected(con, env)
    case = expected[expected["month"] == pd.Timestamp(MONTH)].iloc[0]
    at.selectbox(key="rep_case").set_value(f"{MONTH.isoformat()}|{case['worker']}").run()
    # recorded under the signed-in person: the case has its conversation, the others wait
    at.date_input(key="rep_held_on").set_value(MONTH)
    at.button(key="rep_save").click().run()
    assert not at.exception
    assert any("gespeichert" in s.value for s in at.success)
    [row] = repeats.conversations(env).to_dict("records")
    assert (row["worker"], row["month"].date(), row["held_on"].date(), row["recorded_by"]) == (
        case["worker"], MONTH, MONTH, DEMO_WHO,
    )  # fmt: skip
    expected = _expected(con, env)
    mine = expected[(expected["worker"] == case["worker"]) & (expected["month"] == case["month"])]
    assert not mine["pending"].iloc[0]
    _assert_overview(at, expected)
    shown = _table(at, "Mitarbeiter/in")
    shown = shown[
        (shown["Mitarbeiter/in"] == case["worker"]) & (shown["Monat"] == month_label(MONTH))
    ].iloc[0]
    assert (shown["Gespräch"], shown["Gespräch am"].date(), shown["Erfasst von"]) == (
        repeats.HELD_LABEL, MONTH, DEMO_WHO,
    )  # fmt: skip
    history = _table(at, "Erfasst am")
    assert list(history["Erfasst von"]) == [DEMO_WHO]
    log = records.query(env, "SELECT who, action FROM audit_log WHERE action <> 'Ansicht'")
    assert log.values.tolist() == [[DEMO_WHO, repeats.AUDIT_ACTION]]
    # the demo database was only read: the records are in the temporary file
    assert env.app_database.exists()


def test_the_list_holds_every_pending_case_grouped_by_person(env, con):
    at = _page()
    expected = _expected(con, env)
    period_only = _expected(con, env, pending=False)
    # more than the month: pending cases of earlier months join it
    assert set(expected["month"]) > set(period_only["month"])
    assert expected["pending"].all()
    # grouped by person, the longest run first
    runs = expected.groupby("worker", sort=False)["streak"].max()
    assert list(runs) == sorted(runs, reverse=True)
    positions = {w: [i for i, x in enumerate(expected["worker"]) if x == w] for w in runs.index}
    assert all(p == list(range(p[0], p[0] + len(p))) for p in positions.values())
    _assert_overview(at, expected)
    # a click on a row opens that case (the grid reports the row clicked as its selection)
    row = len(expected) - 1
    at.session_state["rep_overview"] = {"selection": {"rows": [row], "columns": []}}
    at.run()
    case = expected.iloc[row]
    assert at.selectbox(key="rep_case").value == (
        f"{case['month'].date().isoformat()}|{case['worker']}"
    )
    assert any(
        h.value == f"{case['worker']} – {month_label(case['month'].date())}" for h in at.subheader
    )
    # without the pending cases: the period only
    at.checkbox(key="rep_pending").uncheck().run()
    _assert_overview(at, period_only)


def test_future_date_is_refused(env):
    at = _page()
    at.date_input(key="rep_held_on").set_value(dt.date.today() + dt.timedelta(days=1))
    at.button(key="rep_save").click().run()
    assert not at.exception
    assert any("Zukunft" in e.value for e in at.error)
    assert repeats.conversations(env).empty


def test_empty_state(env, con):
    at = _page()
    at.checkbox(key="rep_pending").uncheck().run()
    expected = _expected(con, env, pending=False)
    # a team without repeat cases in the month of the Stichtag
    teams = [t for t in at.multiselect(key="f_teams").options if t not in set(expected["team"])]
    at.multiselect(key="f_teams").set_value([teams[0]]).run()
    assert not at.exception
    assert _expected(
        con, env, Filters(teams=(teams[0],), period=(MONTH, MONTH)), pending=False
    ).empty
    assert any("Keine wiederholten Fristüberschreitungen" in i.value for i in at.info)
    assert not at.get("download_button") and not at.metric
    # and a Stichtag before any ticket
    at.multiselect(key="f_teams").set_value([]).run()
    at.date_input(key="f_stichtag").set_value(dt.date(2020, 1, 2)).run()
    assert not at.exception
    assert any("Keine wiederholten Fristüberschreitungen" in i.value for i in at.info)
