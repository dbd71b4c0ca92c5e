"""The Monatsbericht page under AppTest, on the demo database (Stichtag 27.11.2026).

The preview is compared with the report built directly for the same month, Stichtag,
selection and viewer, and with its PDF and workbook: page, PDF and XLSX show one set of
figures.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from dashboard import report
from dashboard.access.users import demo_users
from dashboard.core import format
from dashboard.core.storage import connect_readonly
from dashboard.queries import monthly
from dashboard.queries.filters import NO_FILTERS, Filters
from dashboard.report import summary
from tests.conftest import DEMO_AS_OF

OCTOBER = dt.date(2026, 10, 1)  # the month before the Stichtag's month


@pytest.fixture
def con(app_env):
    con = connect_readonly(app_env)
    yield con
    con.close()


def _page() -> AppTest:
    return AppTest.from_file("../../pages/monatsbericht.py", default_timeout=60).run()


def _ok(at: AppTest) -> None:
    assert not at.exception
    assert not at.error  # widgets.guard turns failures into st.error


def _expected(config, con, month: dt.date, filters: Filters = NO_FILTERS) -> report.Report:
    viewer = demo_users(con)[0]  # demo mode signs in the first demo user
    return report.build_for(config, month, DEMO_AS_OF, filters, viewer)


def _assert_preview(at: AppTest, expected: report.Report) -> None:
    [table] = at.dataframe
    pd.testing.assert_frame_equal(
        table.value.reset_index(drop=True), summary.key_figures(expected), check_dtype=False
    )


def test_page_pdf_and_workbook_show_the_same_figures(app_env, con):
    at = _page()
    _ok(at)
    built = _expected(app_env, con, OCTOBER)
    _assert_preview(at, built)
    figures = summary.key_figures(built)
    # one decimal everywhere: '87,5 %', never '87,54 %'
    assert figures["regelkonform"].str.fullmatch(r"\d{1,3},\d %").all()
    sentences = [s for s in summary.sentences(built)]
    assert 3 <= len(sentences) <= 5
    shown = " ".join(m.value for m in at.markdown)
    assert all(format.plain(s) in shown for s in sentences)
    # the PDF's page 1: every cell of the page's table, and the sentences' figures
    page1 = PdfReader(io.BytesIO(report.file_bytes(built, ".pdf", dt.datetime(2026, 12, 1))))
    text = page1.pages[0].extract_text()
    for row in figures.itertuples(index=False):
        line = " ".join(v for v in row if v)
        assert line in text, line
    # the workbook: the same numbers, unformatted
    wb = openpyxl.load_workbook(
        io.BytesIO(report.file_bytes(built, ".xlsx", dt.datetime(2026, 12, 1)))
    )
    ws = wb["Übersicht"]
    rows = {ws.cell(r, 1).value: r for r in range(5, 8)}
    for row in figures.to_dict("records"):
        r = rows[row["Bereich"]]
        assert format.number(ws.cell(r, 2).value) == row["Tickets fällig"]
        assert format.percent(ws.cell(r, 7).value) == row["regelkonform"]
        assert format.percent(ws.cell(r, 6).value) == row["fristgerecht"]
        assert format.number(ws.cell(r, 8).value) == row["Frist verfehlt"]


def test_preview_equals_the_report_and_offers_both_files(app_env, con):
    at = _page()
    _ok(at)
    assert at.title[0].value == "Monatsbericht"
    month = at.selectbox(key="report_month")
    assert month.value == "2026-10"
    assert month.options[:3] == ["November 2026", "Oktober 2026", "September 2026"]
    expected = monthly.summary(con, DEMO_AS_OF, Filters(), month=OCTOBER)
    assert list(expected["area"]) == ["Leistung", "Integration", "Gesamt"]
    assert expected["tickets"].iloc[-1] > 0
    _assert_preview(at, _expected(app_env, con, OCTOBER))
    assert any(
        "Tickets fällig im Oktober 2026 · Stichtag 27.11.2026" in c.value for c in at.caption
    )
    buttons = {b.key: b.proto.label for b in at.get("download_button")}
    assert buttons == {
        "report_download_xlsx": "Excel-Bericht herunterladen",
        "report_download_pdf": "PDF-Bericht herunterladen",
    }
    assert any("Fassung Teamleitung" in c.value for c in at.caption)


def test_month_and_sidebar_filters_change_the_preview(app_env, con):
    at = _page()
    at.selectbox(key="report_month").set_value("2026-09").run()
    _ok(at)
    september = dt.date(2026, 9, 1)
    _assert_preview(at, _expected(app_env, con, september))
    assert any("September 2026" in s.value for s in at.subheader)
    # the sidebar's Bereich narrows the report; its period does not apply
    at.selectbox(key="f_bereich").set_value("Integration").run()
    _ok(at)
    expected = _expected(app_env, con, september, Filters(areas=("Integration",)))
    assert list(expected.summary["area"]) == ["Integration", "Gesamt"]
    _assert_preview(at, expected)


def test_a_month_without_tickets_shows_a_message(app_env):
    at = _page()
    # the first receipts (28.11.2024) are due in December 2024
    at.selectbox(key="report_month").set_value("2024-11").run()
    _ok(at)
    assert any("kein Ticket fällig" in i.value for i in at.info)
    assert not at.dataframe
    # the report itself (zeros, records, rules) can still be downloaded
    assert len(at.get("download_button")) == 2
