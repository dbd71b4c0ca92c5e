"""Demo mode never serves real data: a real load makes a database non-demo for good, and
`demo-data --build-db` never replaces a database that is not itself a demo database."""

from __future__ import annotations

import hashlib

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.cli import main
from dashboard.core.storage import connect_readonly, is_demo_database
from tests.conftest import rendered, ticket_row

REAL_WORKER = "Echtname Erika"


@pytest.fixture
def cli_env(config, monkeypatch, tmp_path):
    """The CLI and the dashboard on the fixture's files, in demo mode."""
    settings = tmp_path / "demo.toml"
    settings.write_text(
        "[rules]\nreference_date = 2026-11-27\n[storage]\n"
        f'database = "{config.database}"\nkey_file = "{config.storage.key_file}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TICKET_CONTROLLING_CONFIG", str(settings))
    monkeypatch.delenv("TICKET_CONTROLLING_DB", raising=False)
    monkeypatch.delenv("TICKET_CONTROLLING_KEY_FILE", raising=False)
    return config


def _demo(config, tmp_path) -> int:
    return main(["demo-data", "--out", str(tmp_path / "demo"), "--tickets", "300",
                 "--until", "2026-11-27", "--build-db"])  # fmt: skip


def _is_demo(config) -> bool:
    con = connect_readonly(config)
    try:
        return is_demo_database(con)
    finally:
        con.close()


def _app() -> AppTest:
    return AppTest.from_file("../../dashboard/app.py", default_timeout=90).run()


def test_a_real_load_into_a_demo_database_ends_demo_mode(cli_env, write_export, tmp_path):
    assert _demo(cli_env, tmp_path) == 0
    assert _is_demo(cli_env)
    at = _app()
    assert not at.exception and "Demo-Modus" in at.warning[0].value

    # An operator loads a real export into the same file, e.g. by a wrong path in a cron job.
    real = write_export([ticket_row(**{"Ticket-ID": "R1", "Bearbeiter": REAL_WORKER})])
    assert main(["load", str(real)]) == 0
    assert not _is_demo(cli_env)
    at = _app()
    assert not at.exception
    assert "Demo-Modus startet nur" in at.error[0].value
    assert REAL_WORKER not in rendered(at)

    # ... and rebuilding the demo over it is refused: the real data stay where they were.
    before = hashlib.sha256(cli_env.database.read_bytes()).hexdigest()
    assert _demo(cli_env, tmp_path) == 1
    assert hashlib.sha256(cli_env.database.read_bytes()).hexdigest() == before


def test_demo_data_never_replaces_a_real_database(cli_env, write_export, tmp_path, capsys):
    assert main(["load", str(write_export([ticket_row()]))]) == 0
    before = hashlib.sha256(cli_env.database.read_bytes()).hexdigest()
    assert _demo(cli_env, tmp_path) == 1
    assert "keine Demo-Datenbank" in capsys.readouterr().err
    assert hashlib.sha256(cli_env.database.read_bytes()).hexdigest() == before


def test_a_demo_database_may_be_rebuilt(cli_env, tmp_path):
    assert _demo(cli_env, tmp_path) == 0
    assert _demo(cli_env, tmp_path) == 0
    assert _is_demo(cli_env)
