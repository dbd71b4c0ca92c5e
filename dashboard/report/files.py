"""The report as files: the formats, their bytes and names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dashboard.report import pdf, xlsx
from dashboard.report.figures import Report

RENDER = {".xlsx": xlsx.render, ".pdf": pdf.render}
MIME_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
}


class ReportError(Exception):
    """A report that cannot be made as asked; the message says why in German."""


def suffix_of(path: str | Path) -> str:
    """The format a file name asks for (.xlsx or .pdf); ReportError for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in RENDER:
        raise ReportError(
            f"Unbekanntes Dateiformat „{Path(path).suffix or 'ohne Endung'}“: der Monatsbericht "
            "wird als .xlsx (Excel) oder .pdf geschrieben."
        )
    return suffix


def file_bytes(report: Report, suffix: str, generated_at: dt.datetime) -> bytes:
    """The report as the bytes of an .xlsx or .pdf file created at `generated_at`."""
    return RENDER[suffix_of(f"bericht{suffix}")](report, generated_at)


def file_name(month: dt.date, suffix: str) -> str:
    """'monatsbericht-2026-03.xlsx'."""
    return f"monatsbericht-{month:%Y-%m}{suffix}"
