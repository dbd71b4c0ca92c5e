"""The records' schema: versioned SQL files applied at the first connection, from an empty
database, to a database made before the files were versioned, and file by file later."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from dashboard.core import records
from dashboard.core.config import RecordsConfig
from tests.conftest import RECORD_BACKENDS

RECORD_TABLES = ("conversations", "sample_draws", "sample_items", "sample_results", "audit_log")


def _applied(config) -> list[list]:
    return records.query(
        config, "SELECT version, name FROM schema_migrations ORDER BY version"
    ).values.tolist()


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_an_empty_database_gets_every_migration_once(config):
    files = records.migrations()
    assert [v for v, _, _ in files] == list(range(1, len(files) + 1)), "numbered without gaps"
    assert _applied(config) == [[v, name] for v, name, _ in files]
    for table in RECORD_TABLES:
        assert records.query(config, f"SELECT count(*) AS n FROM {table}")["n"][0] == 0
    records._schema_ready.clear()  # a restart: the next connection checks again
    records.log(config, "TL", "Ansicht", "Seite 1")
    assert _applied(config) == [[v, name] for v, name, _ in files]
    assert records.verify_audit(config).head_seq == 1


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_a_new_migration_file_is_applied_to_a_database_in_use(config, tmp_path, monkeypatch):
    records.log(config, "TL", "Ansicht", "vorher")
    folder = tmp_path / "migrations"
    folder.mkdir()
    for path in records.MIGRATIONS.glob("*.sql"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    number = len(records.migrations()) + 1
    (folder / f"{number:04d}_sample_numbers.sql").write_text(
        "ALTER TABLE sample_draws ADD COLUMN number INTEGER;\n"
        "CREATE INDEX conversations_worker ON conversations (worker);\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(records, "MIGRATIONS", folder)
    records._schema_ready.clear()  # the next start of the dashboard
    assert _applied(config)[-1] == [number, "sample_numbers"]
    assert "number" in records.query(config, "SELECT * FROM sample_draws").columns
    assert records.verify_audit(config).head_seq == 1  # nothing recorded was lost


def test_a_records_file_from_before_versioned_migrations_is_taken_over(config):
    # The schema as the first release created it, with a record in it.
    config.app_database.parent.mkdir(parents=True)
    con = duckdb.connect(str(config.app_database))
    con.execute(records.migrations()[0][2])
    con.execute(
        "INSERT INTO conversations (worker, month, held_on, recorded_by, recorded_at) "
        "VALUES ('Anna Alt', DATE '2026-03-01', DATE '2026-03-20', 'TL', ?)",
        [dt.datetime(2026, 3, 20, 9)],
    )
    con.close()
    assert records.query(config, "SELECT worker FROM conversations")["worker"].tolist() == [
        "Anna Alt"
    ]
    assert _applied(config)[0] == [1, "records"]


def test_draws_recorded_before_sample_numbers_are_numbered_in_drawing_order(config):
    config.app_database.parent.mkdir(parents=True)
    con = duckdb.connect(str(config.app_database))
    con.execute(records.migrations()[0][2])  # the first release's schema, two draws in it
    for draw_id, day in ((9, 20), (5, 10)):
        con.execute(
            "INSERT INTO sample_draws VALUES (?, 'TL', ?, DATE '2026-03-31', DATE '2026-03-01', "
            "DATE '2026-03-31', [], 'size', 1, 1, 4)",
            [draw_id, dt.datetime(2026, 3, day)],
        )
    con.close()
    numbered = records.query(config, "SELECT draw_id, sample_no FROM sample_draws ORDER BY 1")
    assert numbered.values.tolist() == [[5, 1], [9, 2]]
    counter = records.query(config, "SELECT value FROM counters WHERE name = 'sample_no'")
    assert counter["value"].tolist() == [2]  # the next draw is Nr. 3


def test_postgres_refuses_a_wrong_password_without_showing_it(config, postgres, tmp_path):
    wrong = tmp_path / "password"
    wrong.write_text("nicht-das-passwort\n", encoding="utf-8")
    bad = config.model_copy(
        update={"records": RecordsConfig(url=postgres.database(), password_file=wrong)}
    )
    with pytest.raises(records.RecordsBusy) as caught:
        records.log(bad, "TL", "Ansicht")
    message = str(caught.value)
    assert "PostgreSQL 127.0.0.1" in message and "password authentication failed" in message
    assert "nicht-das-passwort" not in message and postgres.password not in message


def test_two_replicas_starting_on_an_empty_postgres_database_both_work(config, postgres):
    # Threads stand for replicas here; the processes of test_records race the same way.
    import threading

    shared = config.model_copy(
        update={
            "records": RecordsConfig(url=postgres.database(), password_file=postgres.password_file)
        }
    )
    errors: list[BaseException] = []

    def start(n: int) -> None:
        try:
            records.log(shared, f"R{n}", "Ansicht")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(_applied(shared)) == len(records.migrations())
    check = records.verify_audit(shared)
    assert check.intact and check.head_seq == 4
