"""The Monatsbericht page under AppTest, on the demo database (Stichtag 27.11.2026).

The preview is compared with `monthly.summary` called directly for the same month and scope.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.core.storage import connect_readonly
from dashboard.queries import monthly
from dashboard.queries.filters import Filters
from tests.conftest import DEMO_AS_OF

PREVIEW = [
    "area", "tickets", "decided", "on_time_rate", "compliant_rate", "breaches", "extensions",
    "undecided", "median_working_days",
]  # fmt: skip
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


def _assert_preview(at: AppTest, expected: pd.DataFrame) -> None:
    [table] = at.dataframe
    pd.testing.assert_frame_equal(
        table.value.reset_index(drop=True),
        expected[PREVIEW].reset_index(drop=True),
        check_dtype=False,
    )


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
    _assert_preview(at, expected)
    assert any(
        "Tickets fällig im Oktober 2026 · Stichtag 27.11.2026" in c.value for c in at.caption
    )
    buttons = {b.key: b.proto.label for b in at.get("download_button")}
    assert buttons == {
        "report_download_xlsx": "Excel-Bericht herunterladen",
        "report_download_pdf": "PDF-Bericht herunterladen",
    }


def test_month_and_sidebar_filters_change_the_preview(app_env, con):
    at = _page()
    at.selectbox(key="report_month").set_value("2026-09").run()
    _ok(at)
    september = dt.date(2026, 9, 1)
    _assert_preview(at, monthly.summary(con, DEMO_AS_OF, Filters(), month=september))
    assert any("September 2026" in s.value for s in at.subheader)
    # the sidebar's Bereich narrows the report; its period does not apply
    at.selectbox(key="f_bereich").set_value("Integration").run()
    _ok(at)
    expected = monthly.summary(con, DEMO_AS_OF, Filters(areas=("Integration",)), month=september)
    assert list(expected["area"]) == ["Integration", "Gesamt"]
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
