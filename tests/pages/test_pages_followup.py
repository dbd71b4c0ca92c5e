"""The Wiedervorlage and Ticket pages under AppTest, on the demo database (Stichtag 27.11.2026).

Every figure shown is compared with the domain function called directly for the same filters.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.core.format import date, number, plain
from dashboard.core.rules import STATUS_LABELS
from dashboard.core.storage import connect_readonly
from dashboard.queries import explain, followup
from dashboard.queries.filters import Filters
from dashboard.queries.metrics import ticket_verdicts
from dashboard.ui import downloads
from tests.conftest import DEMO_AS_OF

# The sidebar's defaults: the month of the Stichtag, by due date, all Bereiche and teams.
MONTH = DEMO_AS_OF.replace(day=1)
DEFAULT = Filters(period=(MONTH, MONTH))


@pytest.fixture
def con(app_env):
    con = connect_readonly(app_env)
    yield con
    con.close()


def _page(file: str, ticket_id: str | None = None) -> AppTest:
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60)
    if ticket_id is not None:
        at.query_params["id"] = ticket_id
    at.run()
    return at.switch_page(f"../pages/{file}").run()


def _shown_ids(at: AppTest) -> list[str]:
    """The ticket IDs of the follow-up table, in the order shown."""
    [table] = [t for t in at.dataframe if "Fällig am" in t.value.columns]
    return list(table.value["Ticket"])


def test_a_row_of_the_followup_list_opens_its_ticket_in_the_same_session(app_env):
    at = _page("wiedervorlage.py")
    first = _shown_ids(at)[0]
    at.session_state["wv_list"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception
    assert at.title[0].value == "Ticket"
    assert at.text_input(key="ticket_id").value == first


def test_wiedervorlage_shows_the_followup_list(app_env, con):
    at = _page("wiedervorlage.py")
    assert not at.exception
    assert at.title[0].value == "Wiedervorlage"
    expected = followup.followup_list(con, DEMO_AS_OF, DEFAULT)
    assert len(expected) > 0
    assert _shown_ids(at) == list(expected["ticket_id"])
    summary = followup.summary(con, DEMO_AS_OF, DEFAULT).iloc[0]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Offen"] == number(summary["tickets"]) == number(len(expected))
    assert shown["überfällig"] == number(summary["overdue"])
    assert shown["verlängert"] == number(summary["extended"])
    # the period filter does not narrow a follow-up list
    assert len(followup.followup_list(con, DEMO_AS_OF, Filters())) == len(expected)
    keys = {b.key for b in at.get("download_button")}
    assert {"wv_download_csv", "wv_download_xlsx"} <= keys


def test_wiedervorlage_area_filter_and_person(app_env, con):
    at = _page("wiedervorlage.py")
    everything = _shown_ids(at)
    at.selectbox(key="f_bereich").set_value("Integration").run()
    assert not at.exception
    expected = followup.followup_list(con, DEMO_AS_OF, Filters(areas=("Integration",)))
    assert _shown_ids(at) == list(expected["ticket_id"])
    assert 0 < len(expected) < len(everything)
    # one responsible person: their tickets only, substitutes marked
    frame = followup.followup_list(con, DEMO_AS_OF, DEFAULT)
    at.selectbox(key="f_bereich").set_value("Alle").run()
    substituted = frame[frame["substitute_for"].notna()]
    person = substituted["responsible"].iloc[0] if len(substituted) else frame["responsible"][0]
    at.selectbox(key="wv_person").set_value(person).run()
    assert not at.exception
    mine = frame[frame["responsible"] == person]
    assert _shown_ids(at) == list(mine["ticket_id"])
    [table] = [t for t in at.dataframe if "Fällig am" in t.value.columns]
    for worker in mine["substitute_for"].dropna():
        assert f"{person} (Vertretung für {worker})" in set(table.value["Zuständig"])
    people = followup.by_responsible(con, DEMO_AS_OF, DEFAULT).set_index("responsible")
    assert any(people.loc[person, "oldest_ticket"] in c.value for c in at.caption)


def test_wiedervorlage_empty_state(app_env):
    at = _page("wiedervorlage.py")
    at.date_input(key="f_stichtag").set_value(dt.date(2020, 1, 2)).run()
    assert not at.exception
    assert any("Keine offenen Tickets" in i.value for i in at.info)
    assert not at.get("download_button")


def test_wiedervorlage_download_opens_in_excel(con):
    frame = followup.followup_list(con, DEMO_AS_OF, DEFAULT)
    export = followup.export_frame(frame)
    sheet = openpyxl.load_workbook(io.BytesIO(downloads.xlsx_bytes(export))).active
    assert [c.value for c in sheet[1]] == [
        "Ampel", "Ticket-ID", "Fällig am", "Zusage bis", "Status", "Zuständig",
        "Vertretung für", "Bearbeiter", "Bereich", "Team", "Eingang", "Arbeitstage offen",
        "Hinweis fehlt", "VerBIS-Vermerk fehlt", "Rückruf fehlt",
    ]  # fmt: skip
    assert sheet.max_row == len(frame) + 1
    assert [sheet.cell(row=i + 2, column=2).value for i in range(len(frame))] == list(
        frame["ticket_id"]
    )
    assert sheet.cell(row=2, column=3).number_format == "dd.mm.yyyy"
    csv = downloads.csv_bytes(export).decode("utf-8-sig")
    assert f"{frame['due_date'][0]:%d.%m.%Y}" in csv.splitlines()[1]


@pytest.mark.parametrize("status", ["late", "overdue", "open_extended"])
def test_ticket_page_from_url(app_env, con, status):
    verdicts = ticket_verdicts(con, DEMO_AS_OF)
    ticket_id = verdicts.loc[verdicts["status"] == status, "ticket_id"].iloc[0]
    at = _page("ticket.py", ticket_id=ticket_id)
    assert not at.exception
    assert at.text_input(key="ticket_id").value == ticket_id
    facts = explain.facts_record(explain.ticket_facts(con, DEMO_AS_OF, ticket_id=ticket_id))
    due = date(facts["due_date"])
    label = STATUS_LABELS[status]
    texts = [e.value for kind in ("error", "success", "info") for e in at.get(kind)]
    assert explain.status_reason(facts, DEMO_AS_OF) in texts
    assert any(due in t and label in t for t in texts)
    assert {m.label: m.value for m in at.metric}["Fristende"] == due
    timeline = "\n".join(m.value for m in at.markdown)
    for line in explain.timeline_reasons(facts, facts["deadline_days"], DEMO_AS_OF):
        assert plain(line) in timeline  # names in it: shown as text (Markdown escaped)
    source = " ".join(c.value for c in at.caption)
    assert f"Datensatz {facts['source_record']}" in source
    assert plain(facts["file_name"]) in source


def test_ticket_page_unknown_and_empty(app_env):
    at = _page("ticket.py")
    assert not at.exception
    assert any("Ticket-ID eingeben" in i.value for i in at.info)
    at.text_input(key="ticket_id").set_value("T-0000-0000000").run()
    assert not at.exception
    # the ID from the input is shown as text (Markdown escaped)
    shown = f"Kein Ticket mit der ID „{plain('T-0000-0000000')}“"
    assert any(shown in w.value for w in at.warning)
