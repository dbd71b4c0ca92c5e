"""A role without absences in its scope is told so: the page's rule matches the data scope."""

from __future__ import annotations

import pytest

from dashboard.access import scope
from dashboard.access.viewer import ROLES, Viewer, sees_absences


@pytest.mark.parametrize("role", ROLES)
def test_sees_absences_matches_the_scope(role):
    viewer = Viewer("x", "X", role, teams=("T",), worker="W")
    assert sees_absences(viewer) == (scope._ABSENCES[role] != "false")
