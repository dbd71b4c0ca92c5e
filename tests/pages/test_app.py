"""The entry script: navigation and every page on an empty database."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

PAGES = [
    "uebersicht", "teams", "mitarbeitende", "wiedervorlage", "wiederholungen", "stichproben",
    "monatsbericht", "ticket", "daten",
]  # fmt: skip


@pytest.fixture
def empty_env(tmp_path, monkeypatch):
    """An empty database behind OIDC sign-in, with a team leader and an administrator."""
    (tmp_path / "users.toml").write_text(
        '[[user]]\nlogin = "tl@jc.example"\nrole = "teamleitung"\nteams = ["Leistung 1"]\n'
        '[[user]]\nlogin = "admin@jc.example"\nrole = "admin"\n',
        encoding="utf-8",
    )
    (tmp_path / "config.toml").write_text(
        '[auth]\nmode = "oidc"\nusers_file = "users.toml"\n', encoding="utf-8"
    )
    monkeypatch.setenv("TICKET_CONTROLLING_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TICKET_CONTROLLING_DB", str(tmp_path / "db" / "tickets.duckdb"))
    monkeypatch.setenv("TICKET_CONTROLLING_KEY_FILE", str(tmp_path / "key"))


def _signed_in(login: str) -> AppTest:
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60)
    at.user = {"is_logged_in": True, "email": login, "email_verified": True}
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_an_empty_database(empty_env, page):
    at = _signed_in("admin@jc.example" if page == "daten" else "tl@jc.example")
    at.switch_page(f"../pages/{page}.py")
    at.run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    # an empty database is a normal state, explained in German, not an error
    assert at.info or at.markdown


def test_default_page_is_the_overview(empty_env):
    at = _signed_in("tl@jc.example").run()
    assert not at.exception
    assert at.title[0].value == "Übersicht"


def test_filters_come_from_and_go_to_the_url(app_env):
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60)
    at.query_params.update(
        {"stichtag": "2026-10-30", "von": "2026-08", "bis": "2026-09", "monat": "receipt",
         "bereich": "Integration"}
    )  # fmt: skip
    at.run()
    assert not at.exception
    assert at.date_input(key="f_stichtag").value.isoformat() == "2026-10-30"
    assert (at.selectbox(key="f_von").value, at.selectbox(key="f_bis").value) == (
        "2026-08",
        "2026-09",
    )
    assert at.radio(key="f_monat_nach").value == "Eingang"
    assert at.selectbox(key="f_bereich").value == "Integration"
    at.selectbox(key="f_bereich").set_value("Leistung").run()
    assert at.query_params["bereich"] in ("Leistung", ["Leistung"])


def test_url_cannot_smuggle_unknown_values(app_env):
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60)
    at.query_params.update({"stichtag": "kaputt", "bereich": "'; DROP TABLE tickets;--",
                            "teams": "Erfundenes Team"})  # fmt: skip
    at.run()
    assert not at.exception
    assert at.selectbox(key="f_bereich").value == "Alle"
    assert at.multiselect(key="f_teams").value == []
