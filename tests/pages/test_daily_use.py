"""Daily use: filters kept across pages, defaults on a fixed Stichtag, the data state, landing
pages, the Wiedervorlage to work through, a figure a role may not see.

The small office (tests/pages/small_office.py): tickets received 30.03.–27.05.2026. May 2026
has its last working day on Fri 29.05. (AS_OF), so on 29.05. May is complete and on
Thu 28.05. it is still running.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import users_file
from tests.pages.small_office import LOGIN, TEAMS, open_page

I1 = TEAMS[2]
RUNNING_DAY = dt.date(2026, 5, 28)


def _filters(at: AppTest) -> tuple:
    return (
        at.date_input(key="f_stichtag").value,
        at.selectbox(key="f_von").value,
        at.selectbox(key="f_bis").value,
        at.radio(key="f_monat_nach").value,
        at.selectbox(key="f_bereich").value,
        at.multiselect(key="f_teams").value,
    )


def _navigate(at: AppTest, page: str) -> AppTest:
    """Change page as the navigation does: another page script, the URL's filters gone."""
    for name in list(at.query_params):
        del at.query_params[name]
    at.switch_page(f"../pages/{page}").run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _url(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return value[0] if isinstance(value, list) else value


def test_filters_chosen_on_one_page_are_kept_on_the_next(small_office):
    at = open_page("uebersicht.py")
    at.date_input(key="f_stichtag").set_value(dt.date(2026, 5, 27)).run()
    at.selectbox(key="f_von").set_value("2026-04")
    at.selectbox(key="f_bis").set_value("2026-05")
    at.radio(key="f_monat_nach").set_value("Eingang")
    at.selectbox(key="f_bereich").set_value("Integration").run()
    at.multiselect(key="f_teams").set_value([I1]).run()
    chosen = (dt.date(2026, 5, 27), "2026-04", "2026-05", "Eingang", "Integration", [I1])
    assert _filters(at) == chosen
    for page in ("wiedervorlage.py", "teams.py", "mitarbeitende.py", "uebersicht.py"):
        _navigate(at, page)
        assert _filters(at) == chosen, page
        # ... and written to the new page's URL, so a copied link shows the same view
        assert _url(at, "stichtag") == "2026-05-27"
        assert (_url(at, "von"), _url(at, "bis")) == ("2026-04", "2026-05")
        assert (_url(at, "bereich"), _url(at, "teams")) == ("Integration", I1)
    # the Wiedervorlage caption promises "Bereich und Team wie gewählt": only I1's open tickets
    _navigate(at, "wiedervorlage.py")
    [listing] = [t.value for t in at.dataframe if "Fällig am" in t.value.columns]
    assert set(listing["Team"]) == {I1}


def test_a_link_with_filters_wins_over_the_kept_ones(small_office):
    at = open_page("uebersicht.py")
    at.selectbox(key="f_bereich").set_value("Leistung").run()
    at.query_params.update({"bereich": "Integration"})
    at.switch_page("../pages/teams.py").run()
    assert at.selectbox(key="f_bereich").value == "Integration"


def test_period_defaults_to_the_last_complete_month(small_office):
    # 29.05.2026 is May's last working day: May is complete, the default.
    at = open_page("uebersicht.py")
    assert (at.selectbox(key="f_von").value, at.selectbox(key="f_bis").value) == (
        "2026-05",
        "2026-05",
    )
    assert "läuft noch" not in " ".join(at.selectbox(key="f_bis").options)
    # Thu 28.05.: May still has a working day to come -> April, and May marked as running.
    at = _opened_with("uebersicht.py", stichtag=RUNNING_DAY.isoformat())
    assert (at.selectbox(key="f_von").value, at.selectbox(key="f_bis").value) == (
        "2026-04",
        "2026-04",
    )
    assert at.selectbox(key="f_bis").options[-1] == "Mai 2026 (läuft noch)"


def _opened_with(page: str, **params: str) -> AppTest:
    """The page opened from a link carrying these URL parameters."""
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60)
    at.user = {"is_logged_in": True, "email": LOGIN, "email_verified": True}
    at.query_params.update(params)
    at.switch_page(f"../pages/{page}").run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_a_running_month_has_no_change_and_no_ranking(small_office):
    at = _opened_with(
        "uebersicht.py", stichtag=RUNNING_DAY.isoformat(), von="2026-05", bis="2026-05"
    )
    assert at.selectbox(key="f_bis").value == "2026-05"
    # no arrow from part of a month against a whole one
    assert all(not m.proto.delta for m in at.metric)
    assert any("Mai 2026 läuft noch" in c.value for c in at.caption)
    _navigate(at, "teams.py")
    assert any("Mai 2026 läuft noch" in i.value for i in at.info)
    assert not [c for c in at.get("plotly_chart") if "Rangfolge" in str(c.proto.spec)]
    # April to May: the ranking covers April only
    at.selectbox(key="f_von").set_value("2026-04").run()
    assert any("Ohne den laufenden Monat Mai 2026: April 2026" in c.value for c in at.caption)
    # the complete month compares as before
    at.date_input(key="f_stichtag").set_value(dt.date(2026, 5, 29)).run()
    _navigate(at, "uebersicht.py")
    assert any(m.proto.delta for m in at.metric)


def test_every_page_shows_the_data_state(small_office):
    for page in ("uebersicht.py", "teams.py", "wiedervorlage.py", "stichproben.py"):
        at = open_page(page)
        assert any(
            c.value.startswith("Datenstand: neuester Eingang 27.05.2026 · geladen")
            for c in at.sidebar.caption
        ), page


def test_a_stichtag_after_the_data_is_warned_about(small_office):
    at = open_page("wiedervorlage.py")
    at.date_input(key="f_stichtag").set_value(dt.date(2027, 6, 30)).run()
    assert any(
        "Der Stichtag 30.06.2027 liegt nach dem Stand der Daten (27.05.2026)" in w.value
        for w in at.warning
    )
    # data months behind today's date are not current (the office's newest receipt: May 2026)
    assert any("Die Daten sind nicht aktuell" in w.value for w in at.warning)


def test_a_stichtag_before_the_first_data_says_so(small_office):
    at = open_page("uebersicht.py")
    at.date_input(key="f_stichtag").set_value(dt.date(2026, 3, 2)).run()
    shown = [i.value for i in at.info]
    assert (
        "Der Stichtag 02.03.2026 liegt vor den ersten Daten: der erste Eingang ist am 30.03.2026."
        in shown
    )
    assert not any("Noch keine Tickets geladen" in text for text in shown)


@pytest.mark.parametrize(
    ("user", "title"),
    [
        ({"login": "anna@jc.example", "name": "Anna Alt", "role": "mitarbeitende",
          "worker": "Anna Alt"}, "Wiedervorlage"),
        ({"login": "admin@jc.example", "name": "Adam Admin", "role": "admin"}, "Daten"),
        ({"login": LOGIN, "name": "Tina Leitner", "role": "teamleitung", "teams": list(TEAMS)},
         "Übersicht"),
    ],
)  # fmt: skip
def test_each_role_lands_on_its_first_page(small_office, tmp_path, user, title):
    users_file(tmp_path, user)
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60)
    at.user = {"is_logged_in": True, "email": user["login"], "email_verified": True}
    at.run()
    assert not at.exception
    assert at.title[0].value == title


def _listed(at: AppTest) -> pd.DataFrame:
    [table] = [t.value for t in at.dataframe if "Fällig am" in t.value.columns]
    return table


def test_wiedervorlage_filters_by_light_and_names_what_is_missing(small_office):
    # Open at S = 29.05.2026 (small_office.py): T17 (due 26.05.) and T03 (due 27.05.) overdue
    # without notice, T12 due today without notice, T04 extended by a valid notice, T06 due on
    # Mon 01.06., the next working day, without notice.
    at = open_page("wiedervorlage.py")
    shown = _listed(at)
    assert list(shown["Ticket"]) == ["T17", "T03", "T04", "T12", "T06"]
    assert list(shown["Ampel"].map(tuple)) == [
        ("overdue",), ("overdue",), ("extended",), ("today",), ("next_workday",),
    ]  # fmt: skip
    # a notice is missing where the deadline is at hand; T04's notice has its VerBIS note
    assert list(shown["Hinweis"]) == ["fehlt", "fehlt", "", "fehlt", "fehlt"]
    assert set(shown["VerBIS"]) == {""} and set(shown["Rückruf"]) == {""}
    at.button_group(key="wv_lights").set_value(["overdue", "today"]).run()
    assert list(_listed(at)["Ticket"]) == ["T17", "T03", "T12"]
    # the print view: a plain table of the same tickets, no grid
    at.toggle(key="wv_print").set_value(True).run()
    assert not at.exception
    [printed] = at.table
    assert list(printed.value["Ticket"]) == ["T17", "T03", "T12"]


def _display(table) -> pd.DataFrame:
    """What a styled table shows in its cells (the Styler's display values)."""
    import pyarrow as pa

    return pa.ipc.open_stream(table.proto.arrow_data.styler.display_values).read_pandas()


def test_rates_in_tables_read_like_everywhere_else(small_office):
    at = open_page("mitarbeitende.py")
    period = at.dataframe[0]
    # Leistung 1 in May: Anna Alt 1 of 3 decided on time and compliant, Bernd Berg 0 of 2
    # on time, 1 compliant (T05 extended_kept); the 90th percentile of Anna's 4 and 6 days
    assert list(period.value["on_time_rate"]) == pytest.approx([1 / 3, 0.0])
    shown = _display(period)
    assert list(shown["on_time_rate"]) == ["33,3 %", "0,0 %"]
    assert list(shown["compliant_rate"]) == ["33,3 %", "50,0 %"]
    assert list(shown["p90_working_days"]) == ["5,8", "6,9"]
    assert not any("." in str(v) for v in shown["p90_working_days"])


def test_long_team_names_wrap_and_rates_read_german_in_charts():
    from dashboard.ui import charts

    long = "Integration Ü25 Arbeitsvermittlung Nord"
    frame = pd.DataFrame(
        {"team": [long, "Leistung 1"], "area": ["Integration", "Leistung"],
         "compliant_rate": [0.875, 0.5], "decided": [8, 2], "breaches": [1, 1]}
    )  # fmt: skip
    fig = charts.team_ranking(frame)
    labels = dict(zip(fig.layout.yaxis.tickvals, fig.layout.yaxis.ticktext, strict=True))
    assert labels == {"Leistung 1": "Leistung 1",
                      long: "Integration Ü25<br>Arbeitsvermittlung<br>Nord"}  # fmt: skip
    assert sorted(t for trace in fig.data for t in trace.text) == ["50,0 %", "87,5 %"]
    assert list(fig.layout.xaxis.ticktext) == ["0 %", "20 %", "40 %", "60 %", "80 %", "100 %"]
