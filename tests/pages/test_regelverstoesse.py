"""Regelverstöße and the drill-downs to it, on the small office (tests/pages/small_office.py).

Findings of the tickets due in May 2026 as of Fri 29.05.2026, worked by hand from the
statuses and checks written beside each ticket there:
T02 late, Termin without callback, no TL informiert -> late_without_notice,
    callback_missing, tl_not_informed
T03 overdue -> late_without_notice
T05 extended_kept, callback 11.05. > D -> callback_missing
T07 late, K 19.05. > D 18.05., walk-in note on 11.05., TL informed before C ->
    late_without_notice, notice_too_late, walkin_note_missing, tl_not_informed
T08 on time, no TL informiert -> tl_not_informed
T09 extended_missed, no TL informiert -> commitment_missed, tl_not_informed
T17 overdue (Integration) -> late_without_notice
13 findings on 7 tickets; T01, T04, T10, T11, T12 have none.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests.pages.small_office import AS_OF, open_page

FINDINGS = {
    ("T02", "late_without_notice"), ("T02", "callback_missing"), ("T02", "tl_not_informed"),
    ("T03", "late_without_notice"), ("T05", "callback_missing"),
    ("T07", "late_without_notice"), ("T07", "notice_too_late"),
    ("T07", "walkin_note_missing"), ("T07", "tl_not_informed"),
    ("T08", "tl_not_informed"), ("T09", "commitment_missed"), ("T09", "tl_not_informed"),
    ("T17", "late_without_notice"),
}  # fmt: skip


def _list(at):
    [table] = [t for t in at.dataframe if "Regelverstoß" in t.value.columns and
               "Ticket" in t.value.columns]  # fmt: skip
    return table.value


def _with_params(file: str, **params: str):
    from streamlit.testing.v1 import AppTest

    from tests.pages.small_office import LOGIN

    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60)
    at.user = {"is_logged_in": True, "email": LOGIN, "email_verified": True}
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(f"../pages/{file}")
    at.run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_the_findings_of_the_period(small_office):
    at = open_page("regelverstoesse.py")
    assert at.title[0].value == "Regelverstöße"
    shown = _list(at)
    from dashboard.queries.findings import FINDING_LABELS

    codes = {label: code for code, label in FINDING_LABELS.items()}
    assert {(t, codes[f]) for t, f in zip(shown["Ticket"], shown["Regelverstoß"],
                                          strict=True)} == FINDINGS  # fmt: skip
    assert len(shown) == 13
    assert any("13 Regelverstöße an 7 Tickets" in c.value for c in at.caption)
    rules = dict(zip(shown["Ticket"] + shown["Regelverstoß"], shown["Regel"], strict=True))
    assert rules["T17" + FINDING_LABELS["late_without_notice"]] == "B1/B2"
    assert rules["T02" + FINDING_LABELS["callback_missing"]] == "A5"
    # per rule: tl_not_informed 4 findings on 4 tickets
    per_rule = next(t.value for t in at.dataframe if "Regelverstöße" in t.value.columns
                    and "Regel" in t.value.columns and "Team" not in t.value.columns)  # fmt: skip
    row = per_rule[per_rule["Regelverstoß"] == FINDING_LABELS["tl_not_informed"]].iloc[0]
    assert (row["Regelverstöße"], row["Tickets"]) == (4, 4)


@pytest.mark.parametrize(
    ("regel", "expected"),
    [
        ("tl_not_informed", {"T02", "T07", "T08", "T09"}),
        ("late_without_notice,commitment_missed", {"T02", "T03", "T07", "T09", "T17"}),
        ("walkin_note_missing", {"T07"}),
    ],
)
def test_filtered_by_rule_from_the_url(small_office, regel, expected):
    at = _with_params("regelverstoesse.py", regel=regel)
    assert set(_list(at)["Ticket"]) == expected
    assert at.multiselect(key="rv_regel").value == regel.split(",")


def test_choosing_a_rule_filters_the_list(small_office):
    at = open_page("regelverstoesse.py")
    at.multiselect(key="rv_regel").set_value(["callback_missing"]).run()
    assert set(_list(at)["Ticket"]) == {"T02", "T05"}
    assert at.query_params["regel"] == ["callback_missing"] or at.query_params["regel"] == (
        "callback_missing"
    )


def test_a_selected_row_opens_the_ticket_in_the_same_session(small_office):
    at = _with_params("regelverstoesse.py", regel="commitment_missed")
    assert list(_list(at)["Ticket"]) == ["T09"]
    at.session_state["rv_list"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception
    assert at.title[0].value == "Ticket"
    assert at.text_input(key="ticket_id").value == "T09"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # Übersicht "Fristverstöße": late T02 T07, extended_missed T09, overdue T03 T17
        ({"status": "late,extended_missed,overdue"}, {"T02", "T03", "T07", "T09", "T17"}),
        # "Verstöße bei Abwesenheit": T07 was due 18.05. in Bernd's absence 18.-22.05.
        ({"abwesenheit": "1"}, {"T07"}),
        # "Verlängerungen": valid notices T04, T05, T09
        ({"verlaengert": "1"}, {"T04", "T05", "T09"}),
        # "Offen überfällig", whatever month: T03, T17
        ({"status": "overdue", "alle_monate": "1"}, {"T03", "T17"}),
        # a heatmap cell: team Leistung 2, May, breaches -> T09
        ({"status": "late,extended_missed,overdue", "teams": "Leistung 2"}, {"T09"}),
        # the previous month's breaches: T14, T15, T16 (due in April)
        ({"status": "late,extended_missed,overdue", "von": "2026-04", "bis": "2026-04"},
         {"T14", "T15", "T16"}),
    ],
)  # fmt: skip
def test_the_tickets_behind_a_figure(small_office, params, expected):
    at = _with_params("regelverstoesse.py", **params)
    [table] = [t.value for t in at.dataframe if "Eingang" in t.value.columns]
    assert set(table["Ticket"]) == expected


def test_uebersicht_cards_link_to_their_tickets(small_office):
    at = open_page("uebersicht.py")
    links = list(at.get("page_link"))
    targets = [parse_qs(link.proto.query_string) for link in links]
    statuses = [t.get("status", [""])[0] for t in targets]
    assert "late,extended_missed,overdue" in statuses  # Fristverstöße / Regelkonform
    assert any(t.get("abwesenheit") == ["1"] for t in targets)
    assert any(t.get("verlaengert") == ["1"] for t in targets)
    assert any(t.get("alle_monate") == ["1"] and t["status"] == ["overdue"] for t in targets)
    # the sidebar's selection travels with the link
    assert all(t["stichtag"] == [AS_OF.isoformat()] for t in targets)
    assert all(t["von"] == ["2026-05"] and t["bis"] == ["2026-05"] for t in targets)


def test_a_status_row_on_uebersicht_leads_to_its_tickets(small_office):
    at = open_page("uebersicht.py")
    mix = next(t.value for t in at.dataframe if "label" in t.value.columns)
    row = list(mix["label"]).index("überfällig")
    at.session_state["ue_status"] = {"selection": {"rows": [row], "columns": []}}
    at.run()
    assert not at.exception
    assert at.title[0].value == "Regelverstöße"
    [table] = [t.value for t in at.dataframe if "Eingang" in t.value.columns]
    assert set(table["Ticket"]) == {"T03", "T17"}


def test_teams_links_and_a_chart_click(small_office):
    at = open_page("teams.py")
    targets = [parse_qs(link.proto.query_string) for link in at.get("page_link")]
    assert any(t.get("status") == ["late,extended_missed,overdue"] for t in targets)
    # a click on the ranking bar of Leistung 2 opens its breaches
    at.session_state["teams_ranking"] = {
        "selection": {"points": [{"y": "Leistung 2", "x": 0.5}], "point_indices": [0],
                      "box": [], "lasso": []}
    }  # fmt: skip
    at.run()
    assert not at.exception
    assert at.title[0].value == "Regelverstöße"
    [table] = [t.value for t in at.dataframe if "Eingang" in t.value.columns]
    assert set(table["Ticket"]) == {"T09"}


def test_a_heatmap_cell_leads_to_the_team_and_months_breaches(small_office):
    at = open_page("teams.py")
    # the invisible marker of the cell Leistung 1 × 05.2026 (charts.team_heatmap)
    at.session_state["teams_heatmap"] = {
        "selection": {"points": [{"x": "05.2026", "y": "Leistung 1"}], "point_indices": [0],
                      "box": [], "lasso": []}
    }  # fmt: skip
    at.run()
    assert not at.exception
    assert at.title[0].value == "Regelverstöße"
    [table] = [t.value for t in at.dataframe if "Eingang" in t.value.columns]
    # Leistung 1, due in May: T02 late, T03 overdue, T07 late
    assert set(table["Ticket"]) == {"T02", "T03", "T07"}


def _as_worker(tmp_path, file: str, **params: str):
    """The page as Anna Alt (mitarbeitende), who covers Bernd Berg 18.–22.05.2026."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import users_file
    from tests.pages.small_office import LOGIN, TEAMS

    users_file(tmp_path, {"login": LOGIN, "name": "Tina Leitner", "role": "teamleitung",
                          "teams": list(TEAMS)},
               {"login": "anna@jc.example", "name": "Anna Alt", "role": "mitarbeitende",
                "worker": "Anna Alt"})  # fmt: skip
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60)
    at.user = {"is_logged_in": True, "email": "anna@jc.example", "email_verified": True}
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(f"../pages/{file}")
    at.run()
    assert not at.exception
    # (the Ticket page shows a breach as an error box: only the guard's message counts)
    assert not any("nicht berechnet" in e.value for e in at.error)
    return at


def test_the_substitutes_own_wiedervorlage_and_ticket(small_office, tmp_path):
    # Tue 19.05.2026: Bernd is absent (18.-22.05.), his T07 (completed only 20.05.) is open
    # and on Anna's own list, marked as covered for him; of her own, T02 (completed 22.05.)
    # and T03 (received 19.05.) are open; T04 is received only on 20.05.
    at = _as_worker(tmp_path, "wiedervorlage.py", stichtag="2026-05-19")
    [table] = [t.value for t in at.dataframe if "Fällig am" in t.value.columns]
    assert sorted(table["Ticket"]) == ["T02", "T03", "T07"]
    row = table[table["Ticket"] == "T07"].iloc[0]
    assert row["Zuständig"] == "Anna Alt (Vertretung für Bernd Berg)"
    # she may open T07 while covering it, and not once Bernd is back
    at = _as_worker(tmp_path, "ticket.py", stichtag="2026-05-19", id="T07")
    assert not any("Kein Ticket" in w.value for w in at.warning)
    assert any("überfällig" in e.value for e in at.error)  # its verdict as of 19.05.
    at = _as_worker(tmp_path, "ticket.py", stichtag="2026-05-29", id="T07")
    assert any("Kein Ticket" in w.value for w in at.warning)
    # nor a colleague's ticket she does not cover
    at = _as_worker(tmp_path, "ticket.py", stichtag="2026-05-19", id="T08")
    assert any("Kein Ticket" in w.value for w in at.warning)


def test_a_trend_point_leads_to_the_bereich_and_months_breaches(small_office):
    at = open_page("uebersicht.py")
    # the compliant rate of Leistung in May 2026 (charts.trend: customdata = decided, Bereich)
    at.session_state["ue_trend"] = {
        "selection": {"points": [{"x": "2026-05-01", "y": 0.7, "customdata": [10, "Leistung"]}],
                      "point_indices": [0], "box": [], "lasso": []}
    }  # fmt: skip
    at.run()
    assert not at.exception
    assert at.title[0].value == "Regelverstöße"
    assert at.query_params["bereich"] in ("Leistung", ["Leistung"])
    [table] = [t.value for t in at.dataframe if "Eingang" in t.value.columns]
    # Leistung, due in May: T02 late, T03 overdue, T07 late, T09 commitment missed
    assert set(table["Ticket"]) >= {"T02", "T03", "T07"}
