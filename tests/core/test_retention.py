"""Retention of the dashboard's own records: cutoffs per kind, what `purge` removes, and an
audit chain that still verifies afterwards — and breaks when its start is moved by hand."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from dashboard.cli import main
from dashboard.core import records, retention
from dashboard.core.config import load_config
from tests.conftest import RECORD_BACKENDS, d

TODAY = d("15.06.2026")


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("", {"conversations": "15.03.2026", "samples": "15.03.2026",
              "audit": "15.06.2024", "backups": "15.03.2026"}),
        ("[rules]\nretention_months = 6\n",
         {"conversations": "15.12.2025", "samples": "15.12.2025",
          "audit": "15.06.2024", "backups": "15.12.2025"}),
        ("[retention]\nconversations_months = 12\nsamples_months = 1\naudit_months = 36\n"
         "backups_months = 2\n",
         {"conversations": "15.06.2025", "samples": "15.05.2026",
          "audit": "15.06.2023", "backups": "15.04.2026"}),
    ],
)  # fmt: skip
def test_cutoffs_per_kind(tmp_path, settings, expected):
    path = tmp_path / "config.toml"
    path.write_text(settings, encoding="utf-8")
    config = load_config(path, environ={})
    assert retention.cutoffs(config, TODAY) == {k: d(v) for k, v in expected.items()}


@pytest.mark.parametrize("months", [0, -1])
def test_a_retention_under_one_month_is_refused(tmp_path, months):
    from dashboard.core.config import ConfigError

    path = tmp_path / "config.toml"
    path.write_text(f"[retention]\naudit_months = {months}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"retention\.audit_months"):
        load_config(path, environ={})


def _log_at(config, when: dt.datetime, detail: str) -> None:
    """An entry written at `when` (as the dashboard wrote it then: keyed, chained)."""
    key = records.audit_key(config)
    with records.transaction(config) as con:
        last = con.execute("SELECT seq, chain FROM audit_log ORDER BY seq DESC LIMIT 1").fetchall()
        seq, previous = (last[0][0] + 1, last[0][1]) if last else (1, "")
        chain = records._chain(key, previous, seq, when, "tl", "Ansicht", detail)
        con.execute(
            "INSERT INTO audit_log (logged_at, who, action, detail, seq, chain) "
            "VALUES (?, 'tl', 'Ansicht', ?, ?, ?)",
            [when, detail, seq, chain],
        )


@pytest.fixture
def kept(config, tmp_path, monkeypatch):
    """Records of different ages: two old and one recent of each kind, and backup files."""
    monkeypatch.setenv("TICKET_CONTROLLING_DB", str(config.database))
    monkeypatch.setenv("TICKET_CONTROLLING_KEY_FILE", str(config.storage.key_file))
    backups = tmp_path / "backups"
    backups.mkdir()
    for name in ("tickets-20260101-020000.duckdb", "tickets-app-20260101-020000.duckdb",
                 "tickets-20260601-020000.duckdb", "notiz.txt"):  # fmt: skip
        (backups / name).write_bytes(b"x")
    config = config.model_copy(
        update={"retention": config.retention.model_copy(update={"backup_dir": backups})}
    )
    for when in ("2024-01-10", "2024-05-02", "2026-06-01"):
        _log_at(config, dt.datetime.fromisoformat(f"{when} 08:00"), f"am {when}")
    with records.transaction(config) as con:
        for held_on in ("2026-01-20", "2026-02-03", "2026-05-04"):
            con.execute(
                "INSERT INTO conversations (worker, month, held_on, recorded_by, recorded_at) "
                "VALUES ('Anna Alt', '2026-01-01', ?, 'tl', now())",
                [held_on],
            )
        for n, drawn in enumerate(("2026-01-05", "2026-06-02")):
            draw_id = con.execute(
                "INSERT INTO sample_draws (drawn_by, drawn_at, as_of, period_from, period_to, "
                "teams, method, amount, seed, population) VALUES ('c', ?, ?, ?, ?, ?, "
                "'size', 1, 1, 1) RETURNING draw_id",
                [drawn, drawn, drawn, drawn, []],
            ).fetchone()[0]
            con.execute(
                "INSERT INTO sample_items VALUES (?, 1, ?, 'Integration 1', 'Anna Alt', "
                "'2026-01-02', '2026-01-06', '2026-01-05', 'on_time', 'h')",
                [draw_id, f"S{n}"],
            )
            con.execute(
                "INSERT INTO sample_results (draw_id, ticket_id, result, checked_by, "
                "checked_at) VALUES (?, ?, 'bestätigt', 'c', now())",
                [draw_id, f"S{n}"],
            )
    return config


def _counts(config) -> dict[str, int]:
    tables = ("conversations", "sample_draws", "sample_items", "sample_results", "audit_log")
    with records.transaction(config) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_a_dry_run_counts_and_changes_nothing(kept):
    before = _counts(kept)
    result = retention.purge_records(kept, TODAY, dry_run=True, who="op")
    assert result.removed == {"conversations": 2, "samples": 1, "audit": 2, "backups": 2}
    assert _counts(kept) == before
    assert len(list(kept.retention.backup_dir.iterdir())) == 4


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_purge_removes_what_is_older_than_its_retention_and_keeps_the_rest(kept):
    result = retention.purge_records(kept, TODAY, dry_run=False, who="op")
    assert result.removed == {"conversations": 2, "samples": 1, "audit": 2, "backups": 2}
    # the recent ones stay; the purge itself is a new audit entry
    assert _counts(kept) == {
        "conversations": 1, "sample_draws": 1, "sample_items": 1, "sample_results": 1,
        "audit_log": 2,
    }  # fmt: skip
    left = sorted(p.name for p in kept.retention.backup_dir.iterdir())
    assert left == ["notiz.txt", "tickets-20260601-020000.duckdb"]
    entries = records.query(kept, "SELECT seq, action, detail FROM audit_log ORDER BY seq")
    assert entries["seq"].tolist() == [3, 4] and entries["action"].iloc[-1] == "purge"
    assert "Gespräche vor 15.03.2026: 2" in entries["detail"].iloc[-1]
    # the chain still verifies from its anchor, and goes on after it
    check = records.verify_audit(kept)
    assert check.intact and check.head_seq == 4
    records.log(kept, "tl", "Ansicht", "danach")
    assert records.verify_audit(kept).intact
    # a second purge finds nothing left of the old records
    again = retention.purge_records(kept, TODAY, dry_run=True, who="op")
    assert again.removed == {"conversations": 0, "samples": 0, "audit": 0, "backups": 0}


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_every_entry_purged_the_log_continues_after_the_anchor(kept):
    later = dt.date(2030, 1, 1)
    retention.purge_records(kept, later, dry_run=False, who="op")
    entries = records.query(kept, "SELECT seq FROM audit_log ORDER BY seq")
    assert entries["seq"].tolist() == [4]  # the purge's own entry follows the anchor (3)
    assert records.verify_audit(kept).intact


def _tamper(config, *statements: str) -> None:
    con = duckdb.connect(str(config.app_database))
    for sql in statements:
        con.execute(sql)
    con.close()


@pytest.mark.parametrize(
    ("statements", "reason"),
    [
        # hide a recent entry by moving the anchor past it: the MAC no longer fits
        (["DELETE FROM audit_log WHERE seq = 3",
          "UPDATE audit_anchor SET seq = 3, chain = 'x'"], "Anfang des Protokolls verändert"),
        # a second anchor slipped in
        (["INSERT INTO audit_anchor SELECT * FROM audit_anchor"],
         "Anfang des Protokolls verändert"),
        # remove the anchor: the log now starts with a gap
        (["DELETE FROM audit_anchor"], "Eintrag fehlt"),
    ],
)  # fmt: skip
def test_moving_the_start_of_the_log_by_hand_is_found(kept, statements, reason):
    retention.purge_records(kept, TODAY, dry_run=False, who="op")
    _tamper(kept, *statements)
    check = records.verify_audit(kept)
    assert not check.intact and check.reason == reason


def test_the_command_purges_tickets_and_records_in_one_audited_run(kept, load, write_export):
    from tests.conftest import ticket_row

    load(write_export([ticket_row(**{"Erledigt": "03.03.2026"})]))
    config_file = kept.retention.backup_dir.parent / "config.toml"
    config_file.write_text(
        f'[retention]\nbackup_dir = "{kept.retention.backup_dir}"\n', encoding="utf-8"
    )
    args = ["purge", "--today", TODAY.isoformat(), "--config", str(config_file)]
    assert main([*args, "--dry-run"]) == 0
    assert _counts(kept)["conversations"] == 3
    assert main(args) == 0
    assert _counts(kept)["conversations"] == 1
    last = records.query(kept, "SELECT action, detail FROM audit_log ORDER BY seq DESC LIMIT 1")
    assert last["action"].iloc[0] == "purge"
    assert "Tickets anonymisiert" in last["detail"].iloc[0]
    assert "Protokolleinträge vor 15.06.2024: 2" in last["detail"].iloc[0]
