"""Monatsbericht: the report as PDF and workbook, its key figures and sentences on the page."""

import datetime as dt
import functools

import streamlit as st

from dashboard import report, serving
from dashboard.access.viewer import Viewer
from dashboard.core import format
from dashboard.core.months import add_months, month_label
from dashboard.queries import monthly
from dashboard.queries.filters import Filters
from dashboard.report import summary
from dashboard.ui import sidebar, widgets
from dashboard.ui.downloads import download_file

DOWNLOADS = {".pdf": "PDF-Bericht herunterladen", ".xlsx": "Excel-Bericht herunterladen"}
VERSIONS = {
    "teamleitung": "Fassung Teamleitung: mit Namen der eigenen Teams",
    "controlling": "Fassung Controlling: Mitarbeitende mit Pseudonym",
    "management": "Fassung Management: ohne Angaben zu einzelnen Personen, Teams mit weniger "
    "als 5 Mitarbeitenden zusammengefasst",
}


@st.cache_data(show_spinner=False, max_entries=8)
def _report(
    db_version: tuple,
    records_version: tuple,
    month: dt.date,
    as_of: dt.date,
    filters: Filters,
    viewer: Viewer,
) -> report.Report:
    # The versions are cache keys only: a load or a new record makes a fresh report. The
    # preview and both files come from this one report, so they cannot differ.
    con = serving.connection(viewer, as_of)
    limits = serving.data_scope(viewer)
    return report.build(con, serving.config(), month, as_of, filters, viewer, limits)


def _report_file(suffix: str, *key) -> bytes:
    return report.file_bytes(_report(*key), suffix, dt.datetime.now().replace(microsecond=0))


selection = sidebar.selection()
st.title("Monatsbericht")
with widgets.guard():
    first = sidebar.first_receipt(selection.as_of, selection.viewer)
    by_key = {m.strftime("%Y-%m"): m for m in report.month_options(first, selection.as_of)}
    keys = list(by_key)
    chosen = st.selectbox(
        "Berichtsmonat",
        keys,
        index=keys.index(report.default_month(selection.as_of).strftime("%Y-%m")),
        format_func=lambda k: month_label(by_key[k]),
        key="report_month",
        help="Der Bericht umfasst die Tickets, die in diesem Monat fällig sind, bewertet "
        "zum Stichtag der Seitenleiste.",
    )
    month = by_key[chosen]
    scope = serving.Selection(
        selection.as_of, monthly.scope_filters(selection.filters), selection.viewer
    )
    key = (
        serving.version(viewer=selection.viewer), serving.records_version(), month,
        selection.as_of, scope.filters, selection.viewer,
    )  # fmt: skip
    # The downloads first: at 1366×768 they are in view without scrolling.
    for column, (suffix, label) in zip(st.columns(2), DOWNLOADS.items(), strict=True):
        download_file(
            column,
            label,
            functools.partial(_report_file, suffix, *key),
            report.file_name(month, suffix),
            report.MIME_TYPES[suffix],
            key=f"report_download_{suffix[1:]}",
            width="stretch",
        )
    st.caption(
        f"Tickets fällig im {month_label(month)} · Stichtag {format.date(selection.as_of)} · "
        f"{report.scope_label(scope.filters)} · {VERSIONS[selection.viewer.role]}. Bereich und "
        "Teams wählen Sie in der Seitenleiste; „Von/Bis Monat“ und „Monat nach“ gelten hier "
        "nicht: der Bericht zählt immer nach Fälligkeit."
    )
    built = _report(*key)
    if first is None:
        st.info(sidebar.empty_reason(selection))
    elif not built.has_data:
        st.info(
            f"Im {month_label(month)} ist für die gewählte Auswahl kein Ticket fällig. "
            "Der Bericht enthält dann nur Nullen, die Aufzeichnungen des Monats und die Regeln."
        )
    else:
        st.subheader(f"Übersicht je Bereich · {month_label(month)}")
        figures = summary.key_figures(built)
        st.dataframe(
            figures,
            hide_index=True,
            width="stretch",
            column_config={
                "Trend": st.column_config.TextColumn("", width=30),
                "Median AT": st.column_config.TextColumn(
                    "Median AT",
                    alignment="right",
                    help="Median der Arbeitstage (AT) vom Eingang bis zur Erledigung",
                ),
                **{
                    c: st.column_config.TextColumn(c, alignment="right")
                    for c in summary.NUMERIC
                    if c != "Median AT"
                },
            },
        )
        st.caption(
            f"Vormonat: {month_label(add_months(month, -1))}, Vorjahr: "
            f"{month_label(add_months(month, -12))}. Quoten zählen nur entschiedene Tickets; "
            "regelkonform = fristgerecht oder mit eingehaltener Zusage verlängert."
        )
        st.markdown("**Das Wichtigste in Kürze**")
        st.markdown("\n".join(f"- {format.plain(s)}" for s in summary.sentences(built)))
