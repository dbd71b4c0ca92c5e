"""Fixtures of the page tests: the small hand-made office of tests/pages/small_office.py."""

from __future__ import annotations

import pytest

from tests.conftest import users_file
from tests.pages.small_office import ABSENCES, AS_OF, LOGIN, TEAMS, TICKETS


@pytest.fixture
def small_office(tmp_path, monkeypatch, config, write_export, load):
    """The dashboard (AppTest runs in this process) on the small office, Stichtag 29.05.2026.

    Signed in by OIDC as a team leader of its three teams, who sees workers by name.
    """
    results = load(write_export(TICKETS), absences=[write_export(ABSENCES[1:], header=ABSENCES[0])])
    assert all(r.reconciled and not r.refused for r in results)
    users_file(tmp_path, {"login": LOGIN, "name": "Tina Leitner", "role": "teamleitung",
                          "teams": list(TEAMS)})  # fmt: skip
    (tmp_path / "config.toml").write_text(
        f"[rules]\nreference_date = {AS_OF.isoformat()}\n"
        f'[storage]\napp_database = "{tmp_path / "app.duckdb"}"\n'
        '[auth]\nmode = "oidc"\nusers_file = "users.toml"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TICKET_CONTROLLING_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TICKET_CONTROLLING_DB", str(config.database))
    monkeypatch.setenv("TICKET_CONTROLLING_KEY_FILE", str(config.storage.key_file))
    monkeypatch.delenv("TICKET_CONTROLLING_USERS", raising=False)
