"""The Übersicht, Teams and Mitarbeitende pages under AppTest, on the demo database.

Every figure shown is compared with the domain function called directly for the filters the
sidebar builds (Stichtag 27.11.2026, its month by due date, all Bereiche and teams).
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.core.format import number, percent
from dashboard.core.labels import STATUS_COLORS
from dashboard.core.rules import STATUS_LABELS, STATUSES
from dashboard.core.storage import connect_readonly
from dashboard.queries import metrics, overview
from dashboard.serving import Selection
from dashboard.ui import sidebar
from tests.conftest import DEMO_AS_OF

MONTH = DEMO_AS_OF.replace(day=1)
DEFAULT = metrics.Filters(period=(MONTH, MONTH))
EMPTY_MONTH = "2024-11"  # the first receipts (28.11.2024) are due in December


@pytest.fixture
def con(app_env):
    con = connect_readonly(app_env)
    yield con
    con.close()


def _page(file: str) -> AppTest:
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60).run()
    return at.switch_page(f"../pages/{file}").run()


def _ok(at: AppTest) -> None:
    assert not at.exception
    assert not at.error  # widgets.guard turns failures into st.error


def _metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.proto.delta) for m in at.metric}


def _array(value) -> list:
    """A Plotly data array as a list (Plotly sends numpy arrays base64-encoded)."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def _signed(value: float, digits: int) -> str:
    return ("-" if value < 0 else "+") + number(abs(value), digits)


def _expected_metrics(con, filters: metrics.Filters) -> dict[str, str]:
    row = overview.headline(con, DEMO_AS_OF, filters).iloc[0]
    counted = "eingegangen" if filters.month_of == "receipt" else "fällig"
    return {
        f"Tickets {counted}": number(row.tickets),
        "Fristgerecht": percent(row.on_time_rate),
        "Regelkonform": percent(row.compliant_rate),
        "Fristverstöße": number(row.breaches),
        "Verstöße bei Abwesenheit": number(row.absence_breaches),
        "Offen überfällig": number(row.open_overdue),
        "Verlängerungen": number(row.extensions),
        "Median Arbeitstage": number(row.median_working_days, 1),
    }


def test_overview_headline_equals_the_domain_functions(app_env, con):
    at = _page("uebersicht.py")
    _ok(at)
    assert at.title[0].value == "Übersicht"
    shown = _metrics(at)
    expected = _expected_metrics(con, DEFAULT)
    assert {label: value for label, (value, _) in shown.items()} == expected
    # the rates are those of metrics.rates for the same filters
    rates = metrics.rates(con, DEMO_AS_OF, by=(), filters=DEFAULT).iloc[0]
    assert shown["Fristgerecht"][0] == percent(rates.on_time_rate)
    assert shown["Regelkonform"][0] == percent(rates.compliant_rate)
    assert rates.tickets > 0
    # deltas against October 2026 (and open overdue against the state on 27.10.2026)
    before = sidebar.previous_period(Selection(DEMO_AS_OF, DEFAULT)).filters
    now = overview.headline(con, DEMO_AS_OF, DEFAULT).iloc[0]
    prev = overview.headline(con, DEMO_AS_OF, before).iloc[0]
    compare = overview.comparison_date(DEMO_AS_OF, DEFAULT)
    earlier = overview.open_overdue(con, compare, DEFAULT)["open_overdue"].item()
    change = (now.on_time_rate - prev.on_time_rate) * 100
    assert shown["Fristgerecht"][1] == f"{_signed(change, 1)} Pp"
    assert shown["Fristverstöße"][1].lstrip("±+-") == number(abs(now.breaches - prev.breaches))
    overdue = now.open_overdue - earlier
    assert overdue != 0  # the comparison date has a state of its own
    assert shown["Offen überfällig"][1] == _signed(overdue, 0)
    breaches = next(m for m in at.metric if m.label == "Fristverstöße")
    assert breaches.proto.color == _delta_color("inverse", now.breaches - prev.breaches)
    assert len(at.get("plotly_chart")) == 3  # trend, backlog, status mix


def _delta_color(kind: str, change: float) -> int:
    """The MetricProto colour enum st.metric sets (RED = 0, GREEN = 1, GRAY = 2)."""
    if change == 0:
        return 2
    good = change < 0 if kind == "inverse" else change > 0
    return 1 if good else 0


def test_overview_follows_the_bereich_and_month_of(app_env, con):
    at = _page("uebersicht.py")
    everything = {label: value for label, (value, _) in _metrics(at).items()}
    at.selectbox(key="f_bereich").set_value("Integration").run()
    _ok(at)
    shown = {label: value for label, (value, _) in _metrics(at).items()}
    integration = replace(DEFAULT, areas=("Integration",))
    assert shown == _expected_metrics(con, integration)
    assert shown["Tickets fällig"] != everything["Tickets fällig"]
    at.radio(key="f_monat_nach").set_value("Eingang").run()
    _ok(at)
    shown = {label: value for label, (value, _) in _metrics(at).items()}
    assert shown == _expected_metrics(con, replace(integration, month_of="receipt"))


def test_overview_trend_and_backlog_charts(app_env, con):
    at = _page("uebersicht.py")
    trend, backlog, mix = (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
    expected = overview.trend(con, DEMO_AS_OF, DEFAULT)
    leistung = next(t for t in trend["data"] if t["name"] == "Leistung: regelkonform")
    part = expected[expected["area"] == "Leistung"]
    assert _array(leistung["y"]) == pytest.approx(list(part["compliant_rate"]))
    assert any(s.get("y0") == 1 and s["line"]["dash"] == "dash" for s in trend["layout"]["shapes"])
    weekly = overview.backlog(con, DEMO_AS_OF, DEFAULT)
    assert [t["name"] for t in backlog["data"]] == ["offen", "davon Frist überschritten"]
    assert _array(backlog["data"][0]["y"]) == list(weekly["open"])
    assert _array(backlog["data"][1]["y"]) == list(weekly["past_due"])
    statuses = overview.status_mix(con, DEMO_AS_OF, DEFAULT)
    statuses = statuses[statuses["tickets"] > 0]
    assert _array(mix["data"][0]["labels"]) == list(statuses["label"])
    assert mix["data"][0]["marker"]["colors"] == [STATUS_COLORS[s] for s in statuses["status"]]


@pytest.mark.parametrize("file", ["uebersicht.py", "teams.py", "mitarbeitende.py"])
def test_a_period_without_tickets_says_so(app_env, file):
    at = _page(file)
    at.selectbox(key="f_von").set_value(EMPTY_MONTH)
    at.selectbox(key="f_bis").set_value(EMPTY_MONTH).run()
    _ok(at)
    assert "keine Tickets" in at.info[0].value
    assert not at.metric and not at.get("plotly_chart")


def test_teams_tables_and_drill_down(app_env, con):
    at = _page("teams.py")
    _ok(at)
    table = overview.team_table(con, DEMO_AS_OF, DEFAULT)
    counts = at.dataframe[0].value
    labels = [STATUS_LABELS[s] for s in STATUSES]
    assert list(counts["team"]) == list(table["team"])
    assert counts[labels].values.tolist() == table[list(STATUSES)].values.tolist()
    heatmap, ranking = (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
    assert len(_array(heatmap["data"][0]["x"])) == 12  # one month chosen: the 12 months up to it
    assert set(_array(ranking["data"][0]["y"])) | set(_array(ranking["data"][1]["y"])) == set(
        table["team"]
    )

    at.selectbox(key="teams_drill").set_value("Leistung Nord").run()
    _ok(at)
    drill = at.dataframe[1].value
    assert set(drill["team"]) == {"Leistung Nord"}
    expected = overview.worker_table(con, DEMO_AS_OF, DEFAULT, team="Leistung Nord")
    expected = expected[expected["tickets"] > 0]
    assert list(drill["worker"]) == list(expected["worker"])
    assert list(drill["compliant_rate"]) == pytest.approx(list(expected["compliant_rate"]))
    team_workers = con.execute(
        "SELECT DISTINCT worker FROM tickets WHERE team = 'Leistung Nord'"
    ).fetchall()
    assert set(drill["worker"]) <= {w for (w,) in team_workers}


PERIOD_COLUMNS = [
    "worker", "tickets", "decided", "on_time_rate", "compliant_rate", "breaches",
    "median_working_days", "p90_working_days",
]  # fmt: skip
OPEN_COLUMNS = ["worker", "open_tickets", "oldest_receipt_date", "oldest_working_days_open"]
CHECK_COLUMNS = [
    "worker", "callback_rate", "callback_checked", "walkin_rate", "walkin_checked",
    "tl_informed_rate", "tl_informed_checked",
]  # fmt: skip


def _ids(urls: pd.Series) -> list:
    return [parse_qs(urlparse(u).query)["id"][0] for u in urls]


def _same_frame(shown: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        shown.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
    )


def test_mitarbeitende_tables_equal_the_domain_function(app_env, con, demo_db):
    at = _page("mitarbeitende.py")
    _ok(at)
    team = at.selectbox(key="worker_team").value
    assert team == overview.teams(con, DEMO_AS_OF, DEFAULT)["team"].iloc[0]
    expected = overview.worker_table(con, DEMO_AS_OF, DEFAULT, team=team)
    period, waiting, checks = (t.value for t in at.dataframe)
    _same_frame(period, expected[PERIOD_COLUMNS])
    open_rows = expected[expected["open_tickets"] > 0]
    assert len(open_rows) > 0
    _same_frame(waiting[OPEN_COLUMNS], open_rows[OPEN_COLUMNS])
    assert _ids(waiting["oldest_ticket_id"]) == list(open_rows["oldest_ticket_id"])
    _same_frame(checks, expected[CHECK_COLUMNS])
    # the histogram marks the Leistung deadline of the configuration
    [chart] = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    [line] = chart["layout"]["shapes"]
    assert line["x0"] == demo_db.deadline("Leistung") + 0.5

    at.selectbox(key="worker_team").set_value("Integration U25").run()
    _ok(at)
    expected = overview.worker_table(con, DEMO_AS_OF, DEFAULT, team="Integration U25")
    _same_frame(at.dataframe[0].value, expected[PERIOD_COLUMNS])
    assert "nur im Bereich Leistung" in at.info[-1].value  # A5–A7 are Leistung checks
    [chart] = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert chart["layout"]["shapes"][0]["x0"] == demo_db.deadline("Integration") + 0.5


def test_mitarbeitende_teams_follow_the_filters(app_env, con):
    at = _page("mitarbeitende.py")
    at.selectbox(key="f_bereich").set_value("Integration").run()
    _ok(at)
    assert at.selectbox(key="worker_team").options == ["Integration U25", "Integration Ü25"]
