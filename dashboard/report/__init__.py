"""The monthly report (Monatsbericht): its figures, the Excel workbook and the printable PDF.

`figures.build` computes a `Report` for a viewer; `files.file_bytes` turns it into an .xlsx
or .pdf file (`xlsx`, `pdf`). No Streamlit here: the page, the CLI and the tests use these.
"""

from dashboard.report.figures import Report, build, build_for
from dashboard.report.files import MIME_TYPES, ReportError, file_bytes, file_name, suffix_of
from dashboard.report.months import default_month, month_options, parse_month
from dashboard.report.rules import scope_label

__all__ = [
    "MIME_TYPES",
    "Report",
    "ReportError",
    "build",
    "build_for",
    "default_month",
    "file_bytes",
    "file_name",
    "month_options",
    "parse_month",
    "scope_label",
    "suffix_of",
]
