"""A role without absences in its scope is told so: the page's rule matches the data scope."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access import scope
from dashboard.access.viewer import ROLES, Viewer, sees_absences


@pytest.mark.parametrize("role", ROLES)
def test_sees_absences_matches_the_scope(role):
    viewer = Viewer("x", "X", role, teams=("T",), worker="W")
    assert sees_absences(viewer) == (scope._ABSENCES[role] != "false")


@pytest.fixture
def access_pages(access_db, monkeypatch):
    """The dashboard (AppTest) on the four-team access database, behind OIDC sign-in."""
    monkeypatch.setenv("TICKET_CONTROLLING_CONFIG", str(access_db))
    for name in (
        "TICKET_CONTROLLING_DB",
        "TICKET_CONTROLLING_KEY_FILE",
        "TICKET_CONTROLLING_USERS",
    ):
        monkeypatch.delenv(name, raising=False)


def _absence_figure(login: str):
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=90)
    at.user = {"is_logged_in": True, "email": login, "email_verified": True}
    at.run()
    assert not at.exception
    assert at.title[0].value == "Übersicht"
    [figure] = [m for m in at.metric if m.label == "Verstöße bei Abwesenheit"]
    return figure


def test_a_figure_the_role_may_not_see_says_why_instead_of_0(access_pages):
    figure = _absence_figure("management@jc.example")
    assert figure.value == "–" and not figure.proto.delta
    assert "Für Ihre Rolle nicht verfügbar" in figure.help
    # controlling has the absences in scope: a count, with its change
    figure = _absence_figure("controlling@jc.example")
    assert figure.value.isdigit()
