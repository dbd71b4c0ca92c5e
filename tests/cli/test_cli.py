"""The command line, end to end through the real ETL and metrics."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dashboard.cli import main
from tests.conftest import ticket_row

VERDICT_HEADER = (
    "ticket_id,area,receipt_date,due_date,completion_date,working_days,status,"
    "callback_ok,walkin_note_ok,tl_informed_ok,breach_during_absence"
)


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("TICKET_CONTROLLING_DB", str(tmp_path / "db" / "tickets.duckdb"))
    monkeypatch.setenv("TICKET_CONTROLLING_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.delenv("TICKET_CONTROLLING_CONFIG", raising=False)
    return tmp_path


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_verdicts_writes_one_row_per_ticket_received_up_to_s(env, write_export, tmp_path):
    export = write_export(
        [
            ticket_row(
                **{
                    "Ticket-ID": "A",
                    "Erledigt": "09.03.2026",
                    "Anliegen": "Rückruf",
                    "Rückruf erfolgt": "03.03.2026",
                    "TL informiert": "09.03.2026",
                }
            ),
            ticket_row(**{"Ticket-ID": "B", "Bereich": "Integration", "Eingang": "05.03.2026"}),
            ticket_row(**{"Ticket-ID": "C", "Eingang": "11.03.2026"}),  # after S
            ticket_row(**{"Ticket-ID": "D", "Bereich": "Leistungen"}),  # rejected
        ]
    )
    out, rejects = tmp_path / "v.csv", tmp_path / "r.csv"
    code = main(
        [
            "verdicts",
            str(export),
            "--as-of",
            "2026-03-10",
            "--out",
            str(out),
            "--rejects",
            str(rejects),
        ]
    )
    assert code == 0
    assert out.read_text(encoding="utf-8").splitlines()[0] == VERDICT_HEADER
    rows = _rows(out)
    assert rows == [
        {
            "ticket_id": "A",
            "area": "Leistung",
            "receipt_date": "2026-03-02",
            "due_date": "2026-03-09",
            "completion_date": "2026-03-09",
            "working_days": "5",
            "status": "on_time",
            "callback_ok": "true",
            "walkin_note_ok": "",
            "tl_informed_ok": "true",
            "breach_during_absence": "false",
        },
        {
            "ticket_id": "B",
            "area": "Integration",
            "receipt_date": "2026-03-05",
            "due_date": "2026-03-09",
            "completion_date": "",
            "working_days": "",
            "status": "overdue",
            "callback_ok": "",
            "walkin_note_ok": "",
            "tl_informed_ok": "",
            "breach_during_absence": "false",
        },
    ]
    [reject] = _rows(rejects)
    assert reject["source"] == export.name and reject["record"] == "4"
    assert reject["ticket_id"] == "D" and "Bereich" in reject["reason"]
    # the temporary database is gone; the configured one was never touched
    assert not (env / "db" / "tickets.duckdb").exists()


def test_verdicts_refuses_an_unreadable_file(env, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01\x02binary")
    code = main(["verdicts", str(bad), "--as-of", "2026-03-10", "--out", str(tmp_path / "o.csv")])
    assert code == 1
    assert "keine Textdatei" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_load_prints_reconciliation_and_is_idempotent(env, write_export, capsys):
    export = write_export([ticket_row(), ticket_row(**{"Ticket-ID": ""})])
    assert main(["load", str(export)]) == 0
    out = capsys.readouterr().out
    assert "2 gelesen = 1 geladen + 1 abgewiesen + 0 Duplikate" in out
    assert main(["load", str(export)]) == 0
    assert "bereits geladen" in capsys.readouterr().out


def test_load_with_absences(env, write_export, tmp_path, capsys):
    tickets = write_export([ticket_row()])
    absences = tmp_path / "abw.csv"
    absences.write_text("Bearbeiter;Von;Bis;Vertretung\nAnna Alt;01.03.2026;06.03.2026;Bert Bach\n")
    assert main(["load", str(tickets), "--absences", str(absences)]) == 0
    out = capsys.readouterr().out
    assert "abw.csv: 1 gelesen = 1 geladen" in out


def test_load_refused_file_exits_nonzero(env, tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["load", str(empty)]) == 1
    assert "leer" in capsys.readouterr().out


def test_bad_config_exits_with_message(env, tmp_path, capsys):
    conf = tmp_path / "c.toml"
    conf.write_text("[rules]\nretention_months = 0\n")
    assert main(["load", "x.csv", "--config", str(conf)]) == 2
    assert "rules.retention_months" in capsys.readouterr().err


def test_demo_data_builds_a_database_with_every_status(env, tmp_path, capsys):
    import datetime as dt

    from dashboard.core.config import load_config
    from dashboard.core.rules import STATUSES
    from dashboard.core.storage import connect_readonly
    from dashboard.queries import metrics

    out = tmp_path / "demo"
    args = ["demo-data", "--out", str(out), "--tickets", "4000", "--until", "2026-11-27"]
    assert main([*args, "--build-db"]) == 0
    assert "Abgleich stimmt" in capsys.readouterr().out
    con = connect_readonly(load_config())
    assert con.execute("SELECT value FROM meta WHERE key = 'built_by'").fetchall() == [
        ("demo-data",)
    ]
    as_of = dt.date(2026, 11, 27)
    verdicts = metrics.ticket_verdicts(con, as_of)
    assert set(verdicts["status"]) == set(STATUSES)
    for check in ("callback_ok", "walkin_note_ok", "tl_informed_ok"):
        assert set(verdicts[check].dropna()) == {True, False}
    assert verdicts["team"].nunique() == 5
    assert 35 <= verdicts["worker"].nunique() <= 45
    assert not metrics.absence_breaches(con, as_of).empty
    assert not metrics.repeat_cases(con, as_of, threshold=2).empty
    rejects = con.execute("SELECT count(*) FROM rejects").fetchall()[0][0]
    assert rejects > 0
    con.close()
    # --if-missing keeps an existing database
    assert main([*args, "--build-db", "--if-missing"]) == 0
    assert "Datenbank vorhanden" in capsys.readouterr().out


def test_files_with_names_written_by_the_cli_are_on_record(demo_db, tmp_path, monkeypatch):
    # The report and the sample file name workers: writing them is audited like a download.
    from dashboard.core import records

    monkeypatch.setenv(
        "TICKET_CONTROLLING_CONFIG", str(demo_db.database.parent.parent / "config.toml")
    )
    out = tmp_path / "bericht.xlsx"
    assert main(["report", "--month", "2026-10", "--as-of", "2026-11-27", "--out", str(out)]) == 0
    entry = records.audit_entries(demo_db).iloc[0]
    assert entry["action"] == "Datei geschrieben"
    assert "Monatsbericht Oktober 2026" in entry["detail"] and str(out) in entry["detail"]
