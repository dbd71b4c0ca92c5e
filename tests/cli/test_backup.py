"""`ticket-controlling backup` and `restore`: consistent while loads run, refusing foreign files."""

from __future__ import annotations

import datetime as dt
import threading
import time

import duckdb
import pytest

from dashboard import cli
from dashboard.core import records
from dashboard.core.config import load_config
from etl.demo import write_demo_export
from etl.load import load_files
from tests.conftest import ticket_row

AS_OF = dt.date(2026, 11, 27)


@pytest.fixture
def env_config(tmp_path, monkeypatch):
    """The configuration the CLI reads from the environment, inside tmp_path."""
    monkeypatch.delenv("TICKET_CONTROLLING_CONFIG", raising=False)
    monkeypatch.setenv("TICKET_CONTROLLING_DB", str(tmp_path / "db" / "tickets.duckdb"))
    monkeypatch.setenv("TICKET_CONTROLLING_KEY_FILE", str(tmp_path / "secret" / "key"))
    return load_config()


def _tickets(path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT ticket_id FROM tickets ORDER BY 1").fetchall()]
    finally:
        con.close()


def _log(config, detail: str) -> None:
    with records.transaction(config) as con:
        records.audit(con, "TL", "Gespräch erfasst", detail)


def _audit(config) -> list[str]:
    return records.query(config, "SELECT detail FROM audit_log WHERE who = 'TL' ORDER BY id")[
        "detail"
    ].tolist()


def test_backup_and_restore_round_trip(env_config, write_export, tmp_path, capsys):
    config = env_config
    load_files(config, [write_export([ticket_row(**{"Ticket-ID": "A"})])])
    _log(config, "vor der Sicherung")

    assert cli.main(["backup", "--out", str(tmp_path / "backup")]) == 0
    out = capsys.readouterr().out
    loaded, app = sorted((tmp_path / "backup").iterdir())
    assert loaded.name.startswith("tickets-") and app.name.startswith("tickets-app-")
    assert f"Gesichert: {loaded} (Ticket-Daten, 1 Ladevorgänge, 1 Tickets)" in out
    assert f"Gesichert: {app} (Aufzeichnungen" in out
    assert f"Schlüsseldatei {config.storage.key_file} ist nicht in der Sicherung" in out

    load_files(config, [write_export([ticket_row(**{"Ticket-ID": "B"})])])
    _log(config, "nach der Sicherung")
    assert _tickets(config.database) == ["A", "B"]

    assert cli.main(["restore", str(loaded)]) == 0
    assert _tickets(config.database) == ["A"]
    assert _audit(config) == ["vor der Sicherung", "nach der Sicherung"]  # untouched
    assert cli.main(["restore", str(app)]) == 0
    assert _audit(config) == ["vor der Sicherung"]
    out = capsys.readouterr().out
    assert f"Zurückgespielt: {app} -> {config.app_database} (Aufzeichnungen)" in out
    # Both work on afterwards: a load after the restore, a new record.
    load_files(config, [write_export([ticket_row(**{"Ticket-ID": "C"})])])
    _log(config, "danach")
    assert _tickets(config.database) == ["A", "C"]
    assert _audit(config) == ["vor der Sicherung", "danach"]


def _foreign_duckdb(path, sql: str):
    con = duckdb.connect(str(path))
    con.execute(sql)
    con.close()
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("Ticket-ID;Bereich\n") and p, "ist keine DuckDB-Datenbank"),
        (
            lambda p: _foreign_duckdb(p, "CREATE TABLE kunden (nr INTEGER)"),
            "ist weder eine Sicherung der Ticket-Daten noch der Aufzeichnungen",
        ),
        (
            lambda p: _foreign_duckdb(
                p,
                "CREATE TABLE meta (key VARCHAR, value VARCHAR); "
                "INSERT INTO meta VALUES ('schema_version', '0');"
                "CREATE TABLE load_log (x INT); CREATE TABLE tickets (x INT);"
                "CREATE TABLE absences (x INT); CREATE TABLE rejects (x INT);",
            ),
            "hat die Schemaversion 0, diese Version erwartet 1",
        ),
        (
            lambda p: p.write_bytes(b"\0" * 8 + b"DUCK" + b"\x40" + b"\xff" * 5000) and p,
            "kann mit dieser Version nicht geöffnet werden",
        ),
    ],
    ids=["text", "foreign-tables", "old-schema", "damaged"],
)
def test_restore_refuses_what_is_no_backup(env_config, write_export, tmp_path, capsys, make,
                                           message):  # fmt: skip
    config = env_config
    load_files(config, [write_export([ticket_row()])])
    _log(config, "eins")
    before = config.database.read_bytes()
    bad = make(tmp_path / "bad.duckdb")

    assert cli.main(["restore", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Fehler: {bad} ") and message in err and "nichts geändert" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert config.database.read_bytes() == before
    assert _audit(config) == ["eins"]


def test_backups_taken_while_loads_run_are_complete_states(env_config, tmp_path):
    config = env_config
    exports = [
        write_demo_export(tmp_path / str(seed), tickets=300, seed=seed, until=AS_OF).tickets
        for seed in range(1, 4)
    ]
    load_files(config, exports[:1])
    _log(config, "eins")
    failures: list[BaseException] = []

    def loads() -> None:
        try:
            for path in exports[1:]:
                load_files(config, [path])
        except BaseException as exc:
            failures.append(exc)

    loader = threading.Thread(target=loads)
    loader.start()
    backups = []
    while loader.is_alive() or not backups:
        out = tmp_path / f"backup-{len(backups)}"
        assert cli.main(["backup", "--out", str(out)]) == 0
        backups.append(sorted(out.iterdir()))
        time.sleep(0.05)  # the loads get their turn of the interpreter
    loader.join()
    assert not failures, failures

    for loaded, app in backups:
        con = duckdb.connect(str(loaded), read_only=True)
        try:
            tickets, logged, loads = con.execute(
                "SELECT (SELECT count(*) FROM tickets), "
                "(SELECT sum(records_new) FROM load_log), (SELECT count(*) FROM load_log)"
            ).fetchall()[0]
        finally:
            con.close()
        assert tickets == logged and 1 <= loads <= len(exports)
        con = duckdb.connect(str(app), read_only=True)
        assert con.execute("SELECT detail FROM audit_log").fetchall() == [("eins",)]
        con.close()


def test_backup_and_restore_of_records_in_postgres(env_config, postgres, tmp_path, capsys):
    # The replicas' records in PostgreSQL: pg_dump and pg_restore, the password only in
    # the environment (libpq's PGPASSWORD), as a cron job would have it.
    url = postgres.database()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TICKET_CONTROLLING_RECORDS_URL", url)
        mp.setenv("PGPASSWORD", postgres.password)
        config = load_config()
        _log(config, "vor der Sicherung")
        assert cli.main(["backup", "--out", str(tmp_path / "backup")]) == 0
        out = capsys.readouterr().out
        [dump] = (tmp_path / "backup").iterdir()
        assert dump.name.startswith("records-") and dump.suffix == ".pgdump"
        assert f"Gesichert: {dump} (Aufzeichnungen aus PostgreSQL 127.0.0.1" in out
        assert postgres.password not in out
        _log(config, "nach der Sicherung")

        assert cli.main(["restore", str(dump)]) == 0
        assert "-> PostgreSQL 127.0.0.1" in capsys.readouterr().out
        assert _audit(config) == ["vor der Sicherung"]
        _log(config, "danach")  # the chain goes on from the restored head
        assert _audit(config) == ["vor der Sicherung", "danach"]
        check = records.verify_audit(config)
        assert check.intact and check.head_seq == 2

        # A DuckDB copy of records cannot be put into PostgreSQL, nor the other way round.
        mp.delenv("TICKET_CONTROLLING_RECORDS_URL")
        assert cli.main(["restore", str(dump)]) == 1
        assert "aus PostgreSQL" in capsys.readouterr().err
