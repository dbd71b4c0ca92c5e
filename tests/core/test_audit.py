"""The access log under attack: the records database edited behind the dashboard's back, the
way someone with access to the file (or the PostgreSQL database) but without the key file
would do it. Every test runs on both backends."""

from __future__ import annotations

import hashlib
import json

import duckdb
import psycopg
import pytest

from dashboard.cli import main
from dashboard.core import records
from tests.conftest import RECORD_BACKENDS, records_env

# Every test on both backends.
pytestmark = pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)


@pytest.fixture
def logged(config, monkeypatch):
    # The command line finds the same files (and PostgreSQL) through the environment.
    monkeypatch.setenv("TICKET_CONTROLLING_DB", str(config.database))
    monkeypatch.setenv("TICKET_CONTROLLING_KEY_FILE", str(config.storage.key_file))
    for name, value in records_env(config).items():
        monkeypatch.setenv(name, value)
    for i in range(1, 6):
        records.log(config, "tl", "Ansicht", f"Seite {i}")
    check = records.verify_audit(config)
    assert check.intact and check.head_seq == 5
    return config


def _connect(config):
    # The attacker's own client on the database, not the dashboard's code.
    if config.records.url is None:
        return duckdb.connect(str(config.app_database)), "?"
    password = config.records.password_file.read_text().strip()
    return psycopg.connect(config.records.url, password=password, autocommit=True), "%s"


def _tamper(config, *statements: str) -> None:
    con, _ = _connect(config)
    for sql in statements:
        con.execute(sql)
    con.close()


def _rechain_unkeyed(config) -> None:
    # What an attacker without the key can do: recompute a chain with plain SHA-256.
    con, mark = _connect(config)
    rows = con.execute("SELECT id, seq, logged_at, who, action, detail FROM audit_log ORDER BY seq")
    previous = ""
    for id_, seq, logged_at, who, action, detail in rows.fetchall():
        text = "\x1f".join([previous, str(seq), logged_at.isoformat(), who, action, detail or ""])
        previous = hashlib.sha256(text.encode()).hexdigest()
        con.execute(f"UPDATE audit_log SET chain = {mark} WHERE id = {mark}", [previous, id_])
    con.close()


@pytest.mark.parametrize(
    ("statements", "broken_at", "reason"),
    [
        (["UPDATE audit_log SET who = 'jemand' WHERE seq = 2"], 2, "Eintrag verändert"),
        (["UPDATE audit_log SET detail = 'Seite 9' WHERE seq = 4"], 4, "Eintrag verändert"),
        (["DELETE FROM audit_log WHERE seq = 3"], 3, "Eintrag fehlt"),
        # renumbered after the deletion: the chain no longer fits
        (["DELETE FROM audit_log WHERE seq = 3",
          "UPDATE audit_log SET seq = seq - 1 WHERE seq > 3"], 3, "Eintrag verändert"),
        # an entry slipped in with a copied chain
        (["INSERT INTO audit_log (id, logged_at, who, action, detail, seq, chain) "
          "SELECT id + 1000, logged_at, 'x', action, detail, 6, chain "
          "FROM audit_log WHERE seq = 5"], 6, "Eintrag verändert"),
    ],
)  # fmt: skip
def test_a_changed_deleted_or_inserted_entry_breaks_the_chain(
    logged, statements, broken_at, reason
):
    _tamper(logged, *statements)
    check = records.verify_audit(logged)
    assert (check.broken_at, check.reason) == (broken_at, reason)
    assert main(["audit", "verify"]) == 1


def test_a_chain_recomputed_without_the_key_is_refused(logged):
    _tamper(logged, "DELETE FROM audit_log WHERE seq = 5")
    _rechain_unkeyed(logged)
    assert records.verify_audit(logged).broken_at == 1


def test_an_emptied_chain_is_a_break(logged):
    _tamper(
        logged,
        "CREATE TABLE copy AS SELECT id, logged_at, who, action, detail, seq, "
        "CAST(NULL AS VARCHAR) AS chain FROM audit_log",
        "DROP TABLE audit_log",
        "ALTER TABLE copy RENAME TO audit_log",
    )
    assert records.verify_audit(logged).broken_at == 1


def test_entries_removed_from_the_end_are_found_against_the_exported_head(logged, tmp_path):
    out = tmp_path / "protokoll.jsonl"
    assert main(["audit", "export", "--out", str(out)]) == 0
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [e["seq"] for e in exported] == [1, 2, 3, 4, 5]
    head = f"{exported[-1]['seq']}:{exported[-1]['chain']}"
    assert main(["audit", "verify", "--head", head]) == 0

    _tamper(logged, "DELETE FROM audit_log WHERE seq >= 4")
    assert records.verify_audit(logged).intact  # nothing in the file itself shows it
    check = records.verify_audit(logged, (5, exported[-1]["chain"]))
    assert (check.broken_at, check.reason) == (4, "Einträge am Ende fehlen")
    assert main(["audit", "verify", "--head", head]) == 1


def test_a_head_that_does_not_match_its_entry_is_a_break(logged):
    check = records.verify_audit(logged)
    assert records.verify_audit(logged, (check.head_seq, check.head_chain)).intact
    assert not records.verify_audit(logged, (3, "0" * 64)).intact
