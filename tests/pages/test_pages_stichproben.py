"""The Stichproben page under AppTest, on the demo database (Stichtag 27.11.2026).

The page writes records, so every test points the dashboard at a configuration of its
own: the session's demo database for the tickets, a temporary file for the records.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.core.config import Config, load_config
from dashboard.core.format import number
from dashboard.core.storage import connect_readonly
from dashboard.queries import samples
from dashboard.queries.filters import Filters
from tests.conftest import DEMO_AS_OF, DEMO_WHO

# The sidebar's default period is the last complete month before the Stichtag (27.11.2026,
# November still has working days to come): completed 01.–31.10.2026.
PERIOD = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


@pytest.fixture
def page_env(app_env: Config, tmp_path, monkeypatch) -> Config:
    """The demo database with a records database of this test only."""
    path = tmp_path / "config.toml"
    path.write_text(
        f"[rules]\nreference_date = {DEMO_AS_OF.isoformat()}\n"
        f'[storage]\ndatabase = "{app_env.database}"\n'
        f'key_file = "{app_env.storage.key_file}"\n'
        f'app_database = "{tmp_path / "records.duckdb"}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TICKET_CONTROLLING_CONFIG", str(path))
    config = load_config(path, environ={})
    assert config.app_database != app_env.app_database
    return config


@pytest.fixture
def con(page_env):
    con = connect_readonly(page_env)
    yield con
    con.close()


def _page() -> AppTest:
    return AppTest.from_file("../../pages/stichproben.py", default_timeout=60).run()


def _shown_ids(at: AppTest) -> list[str]:
    [table] = [t for t in at.dataframe if "Status bei Ziehung" in t.value.columns]
    return [parse_qs(urlparse(url).query)["id"][0] for url in table.value["Ticket"]]


def _enter(at: AppTest, rows: dict[int, dict[str, str]]) -> AppTest:
    """Type into the result table's cells (row position -> column -> value) and save."""
    state = at.session_state
    run = state["sp_editor_run"] if "sp_editor_run" in state else 0  # noqa: SIM401 - no .get
    key = f"sp_editor_{at.selectbox(key='sp_ziehung').value}_{run}"
    at.session_state[key] = {
        "edited_rows": {str(i): cells for i, cells in rows.items()},
        "added_rows": [],
        "deleted_rows": [],
    }
    return at.button(key="sp_speichern").click().run()


def _draw(at: AppTest, seed: str = "4711") -> AppTest:
    at.text_input(key="sp_seed").input(seed)
    return at.button(key="sp_ziehen").click().run()


def test_page_shows_the_population_and_no_draws_yet(page_env, con):
    at = _page()
    assert not at.exception
    assert at.title[0].value == "Stichproben"
    assert at.date_input(key="sp_von").value == PERIOD[0]
    assert at.date_input(key="sp_bis").value == PERIOD[1]
    expected = samples.allocation(con, DEMO_AS_OF, Filters(), *PERIOD)
    assert len(expected) > 3
    captions = " ".join(c.value for c in at.caption)
    assert (
        f"Grundgesamtheit: {number(expected['population'].sum())} erledigte Tickets von "
        f"{number(len(expected))} Mitarbeiter/innen; die Stichprobe umfasst "
        f"{number(expected['quota'].sum())} Tickets."
    ) in captions
    assert at.multiselect(key="sp_teams").options == list(
        samples.teams(con, DEMO_AS_OF, Filters())["team"]
    )
    assert [i.value for i in at.info] == ["Noch keine Stichprobe gezogen."]


def test_draw_record_a_result_and_see_the_progress(page_env, con):
    at = _draw(_page())
    assert not at.exception
    expected = samples.draw(con, DEMO_AS_OF, Filters(), *PERIOD, (), "per_worker", 2, 4711)
    n = len(expected)
    [success] = at.success
    assert "Seed 4711" in success.value and f"{number(n)} von" in success.value
    history = samples.draws(page_env)
    assert len(history) == 1 and history["seed"][0] == 4711
    assert history["drawn_by"][0] == DEMO_WHO  # the signed-in person, not a free text
    assert at.selectbox(key="sp_ziehung").value == history["draw_id"][0]
    assert _shown_ids(at) == list(expected["ticket_id"])
    assert at.progress[0].text.startswith(f"geprüft 0 von {number(n)}")
    assert "Seed 4711" in " ".join(c.value for c in at.caption)
    keys = {b.key for b in at.get("download_button")}
    assert {"sp_download_csv", "sp_download_xlsx"} <= keys

    # the results are entered in the table, nothing chosen beforehand
    [editor] = [t for t in at.dataframe if "Status bei Ziehung" in t.value.columns]
    assert editor.value["Ergebnis"].isna().all()
    # a result for the second ticket, typed into its row, saved with the button
    ticket = expected["ticket_id"][1]
    _enter(at, {1: {"Ergebnis": "nicht bestätigt", "Kommentar": "Vermerk fehlt"}})
    assert not at.exception
    assert at.progress[0].text.startswith(f"geprüft 1 von {number(n)}")
    assert at.progress[0].value == int(100 / n)
    assert any(f"1 Ergebnis(se) gespeichert: {ticket}." in s.value for s in at.success)
    items = samples.draw_items(page_env, history["draw_id"][0]).set_index("ticket_id")
    assert items.loc[ticket, ["result", "comment", "checked_by"]].tolist() == [
        "nicht bestätigt", "Vermerk fehlt", DEMO_WHO,
    ]  # fmt: skip
    # the view shows what was saved, the table its stored state
    [table] = [t for t in at.dataframe if "Status bei Ziehung" in t.value.columns]
    assert table.value["Ergebnis"].tolist()[1] == "nicht bestätigt"
    # saving again without a change records nothing new
    _enter(at, {})
    assert any("Keine neuen oder geänderten Ergebnisse" in i.value for i in at.info)
    assert len(samples.draw_items(page_env, history["draw_id"][0]).dropna(subset=["result"])) == 1

    # the same data, parameters and seed again: a second draw with the same tickets
    at = _draw(at)
    assert _shown_ids(at) == list(expected["ticket_id"])
    assert len(samples.draws(page_env)) == 2
    assert at.progress[0].text.startswith(f"geprüft 0 von {number(n)}")


def test_total_size_smaller_than_workers_names_those_without(page_env, con):
    at = _page()
    at.radio(key="sp_methode").set_value("Gesamtzahl").run()
    at.number_input(key="sp_n").set_value(3).run()
    at = _draw(at, seed="1")
    assert not at.exception
    per_worker = samples.allocation(con, DEMO_AS_OF, Filters(), *PERIOD, (), "size", 3)
    skipped = per_worker.loc[per_worker["quota"] == 0, "worker"].tolist()
    assert skipped
    [warning] = [w for w in at.warning if "Stichprobe" in w.value or skipped[0] in w.value]
    assert all(w in warning.value for w in skipped)
    expected = samples.draw(con, DEMO_AS_OF, Filters(), *PERIOD, (), "size", 3, 1)
    assert _shown_ids(at) == list(expected["ticket_id"]) and len(expected) == 3
    assert samples.draws(page_env)["method"].tolist() == ["size"]


def test_percent_and_team_choice(page_env, con):
    at = _page()
    team = at.multiselect(key="sp_teams").options[0]
    at.multiselect(key="sp_teams").set_value([team])
    at.radio(key="sp_methode").set_value("Prozent").run()
    at.number_input(key="sp_p").set_value(50.0).run()
    at = _draw(at, seed="99")
    assert not at.exception
    expected = samples.draw(con, DEMO_AS_OF, Filters(), *PERIOD, (team,), "percent", 50.0, 99)
    assert _shown_ids(at) == list(expected["ticket_id"])
    assert samples.draws(page_env)["teams"].map(list).tolist() == [[team]]


def test_empty_period_and_a_bad_seed(page_env):
    at = _page()
    at.date_input(key="sp_von").set_value(dt.date(2020, 1, 1))
    at.date_input(key="sp_bis").set_value(dt.date(2020, 1, 31)).run()
    assert not at.exception
    assert any("Keine erledigten Integration-Tickets" in i.value for i in at.info)
    assert "sp_ziehen" not in {b.key for b in at.button}  # nothing to draw
    # back to a period with tickets, with a seed that is no number
    at.date_input(key="sp_von").set_value(PERIOD[0])
    at.date_input(key="sp_bis").set_value(PERIOD[1]).run()
    at = _draw(at, seed="abc")
    assert any("Seed" in e.value for e in at.error)
    assert samples.draws(page_env).empty


def test_changed_ticket_is_marked(page_env, con):
    frame = samples.draw(con, DEMO_AS_OF, Filters(), *PERIOD, (), "per_worker", 1, 5)
    # as if the ticket's events had been different when drawn
    frame.loc[0, "content_hash"] = "0" * 32
    params = samples.DrawParams(DEMO_AS_OF, *PERIOD, (), "per_worker", 1.0, 5, 99)
    samples.store_draw(page_env, frame, params, "TL")
    at = _page()
    assert not at.exception
    [table] = [t for t in at.dataframe if "Status bei Ziehung" in t.value.columns]
    hints = table.value["Hinweis"].tolist()
    assert hints[0] == "geändert seit Ziehung" and set(hints[1:]) == {""}
    assert any("1 Ticket(s) geändert seit Ziehung" in w.value for w in at.warning)
