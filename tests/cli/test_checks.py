"""`findings`, `repeat-cases` and `verdicts` over given exports, end to end."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import openpyxl
import pytest

from dashboard.cli import _parser, main
from tests.conftest import ticket_row


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("TICKET_CONTROLLING_DB", str(tmp_path / "db" / "tickets.duckdb"))
    monkeypatch.setenv("TICKET_CONTROLLING_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.delenv("TICKET_CONTROLLING_CONFIG", raising=False)
    return tmp_path


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def L(tid: str, completed: str = "", worker: str = "Anna Alt", **more) -> dict:
    """Leistung, received Mon 02.03.2026, due Mon 09.03.2026."""
    fields = {"Ticket-ID": tid, "Bearbeiter": worker, "Erledigt": completed}
    if completed:
        fields["TL informiert"] = completed
    return ticket_row(**{**fields, **more})


ROWS = [
    L("A1", "11.03.2026"),  # late
    L("A2", "12.03.2026", Anliegen="Rückruf"),  # late, callback missing
    L("A3", "05.03.2026", **{"TL informiert": ""}),  # on time, TL not informed
    L("B1", "11.03.2026", worker="Bert Bach"),  # late, during Bert's absence (due 09.03.)
    L("B2", "11.03.2026", worker="Bert Bach"),
    L("B3", "11.03.2026", worker="Bert Bach", Eingang="03.03.2026 08:00"),  # due 10.03.
    # Integration breaches never make a repeat case (A10 is Leistung)
    ticket_row(**{"Ticket-ID": "C1", "Bereich": "Integration", "Team": "Integration 1",
                  "Bearbeiter": "Cora Ernst", "Erledigt": "11.03.2026"}),
    ticket_row(**{"Ticket-ID": "C2", "Bereich": "Integration", "Team": "Integration 1",
                  "Bearbeiter": "Cora Ernst", "Erledigt": "11.03.2026"}),
]  # fmt: skip
ABSENCES = "Bearbeiter;Von;Bis;Vertretung\nBert Bach;09.03.2026;09.03.2026;Anna Alt\n"


@pytest.fixture
def files(env, write_export, tmp_path):
    absences = tmp_path / "abw.csv"
    absences.write_text(ABSENCES, encoding="utf-8")
    return write_export(ROWS), absences


def test_findings_writes_one_row_per_finding(env, files, tmp_path):
    export, absences = files
    out = tmp_path / "new" / "folder" / "findings.csv"  # a missing folder is created
    code = main(["findings", str(export), "--absences", str(absences),
                 "--as-of", "2026-03-31", "--out", str(out)])  # fmt: skip
    assert code == 0
    assert out.read_text(encoding="utf-8").splitlines()[0] == "ticket_id,finding"
    assert [(r["ticket_id"], r["finding"]) for r in _rows(out)] == [
        ("A1", "late_without_notice"),
        ("A2", "late_without_notice"),
        ("A2", "callback_missing"),
        ("A3", "tl_not_informed"),
        ("B1", "late_without_notice"),
        ("B2", "late_without_notice"),
        ("B3", "late_without_notice"),
        ("C1", "late_without_notice"),
        ("C2", "late_without_notice"),
    ]
    assert not (env / "db" / "tickets.duckdb").exists()


@pytest.mark.parametrize(
    ("with_absences", "expected"),
    [
        # Bert's B1, B2 were due in his absence: only B3 counts, below the threshold of 2
        (True, [{"worker": "Anna Alt", "month": "2026-03", "breaches": "2"}]),
        (False, [{"worker": "Anna Alt", "month": "2026-03", "breaches": "2"},
                 {"worker": "Bert Bach", "month": "2026-03", "breaches": "3"}]),
    ],
)  # fmt: skip
def test_repeat_cases_count_leistung_outside_absences(files, tmp_path, with_absences, expected):
    export, absences = files
    out = tmp_path / "cases.csv"
    extra = ["--absences", str(absences)] if with_absences else []
    code = main(["repeat-cases", str(export), *extra, "--as-of", "2026-03-31", "--out", str(out)])
    assert code == 0
    assert out.read_text(encoding="utf-8").splitlines()[0] == "worker,month,breaches"
    assert _rows(out) == expected


def test_verdicts_use_absences_and_write_xlsx(files, tmp_path):
    export, absences = files
    out = tmp_path / "out" / "verdicts.xlsx"
    code = main(["verdicts", str(export), "--absences", str(absences),
                 "--as-of", "2026-03-31", "--out", str(out)])  # fmt: skip
    assert code == 0
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[-1] == "breach_during_absence"
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by_id["B1"]["breach_during_absence"] is True
    assert by_id["B3"]["breach_during_absence"] is False  # due 10.03., after the absence
    assert by_id["A1"]["status"] == "late"


def test_an_unknown_output_format_is_refused(files, tmp_path, capsys):
    export, _ = files
    code = main(["findings", str(export), "--as-of", "2026-03-31",
                 "--out", str(tmp_path / "f.txt")])  # fmt: skip
    assert code == 2
    assert ".csv oder .xlsx" in capsys.readouterr().err


def test_every_option_has_a_help_text():
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        (name, action.dest)
        for name, parser in sub.choices.items()
        for action in parser._actions
        if not action.help and not isinstance(action, argparse._SubParsersAction)
    ]
    assert missing == []
