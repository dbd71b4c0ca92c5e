"""The dashboard pages under Streamlit's AppTest, on a database built by the real ETL."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import metrics
from dashboard.config import load_config
from dashboard.format import percent
from dashboard.storage import connect_readonly
from etl.load import load_files
from tests.conftest import ticket_row


@pytest.fixture
def app_env(tmp_path, monkeypatch, write_export):
    monkeypatch.setenv("TICKET_CONTROLLING_DB", str(tmp_path / "db" / "tickets.duckdb"))
    monkeypatch.setenv("TICKET_CONTROLLING_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.delenv("TICKET_CONTROLLING_CONFIG", raising=False)
    return load_config()


def _run() -> AppTest:
    at = AppTest.from_file("../dashboard/app.py", default_timeout=30)
    return at.run()


def test_overview_on_empty_database(app_env):
    at = _run()
    assert not at.exception
    assert "Noch keine Tickets" in at.info[0].value


def test_overview_figures_equal_the_metrics(app_env, write_export):
    export = write_export(
        [
            ticket_row(**{"Ticket-ID": "A", "Erledigt": "03.03.2026"}),
            ticket_row(**{"Ticket-ID": "B", "Erledigt": "20.03.2026"}),
            ticket_row(**{"Ticket-ID": "C", "Bereich": "Integration"}),
        ]
    )
    load_files(app_env, [export])
    at = _run()
    assert not at.exception
    con = connect_readonly(app_env)
    expected = metrics.rates(con, dt.date.today(), by=("area",)).set_index("area")
    shown = {m.label: m.value for m in at.metric}
    assert shown["Leistung: fristgerecht"] == percent(expected.loc["Leistung", "on_time_rate"])
    assert shown["Leistung: fristgerecht"] == "50,0 %"
    assert shown["Integration: regelkonform"] == "0,0 %"
