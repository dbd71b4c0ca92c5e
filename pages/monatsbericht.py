"""Monatsbericht: a month's key figures and the report as Excel workbook and printable PDF."""

import datetime as dt
import functools

import streamlit as st

from dashboard import report, serving
from dashboard.access.viewer import Viewer, sees_workers
from dashboard.core import format
from dashboard.core.months import month_label
from dashboard.queries import monthly
from dashboard.queries.filters import Filters
from dashboard.ui import sidebar, widgets
from dashboard.ui.downloads import download_file

PREVIEW = {
    "area": st.column_config.TextColumn("Bereich"),
    "tickets": st.column_config.NumberColumn("Tickets fällig"),
    "decided": st.column_config.NumberColumn("entschieden"),
    "on_time_rate": widgets.percent_column("fristgerecht"),
    "compliant_rate": widgets.percent_column("regelkonform"),
    "breaches": st.column_config.NumberColumn("Fristverstöße"),
    "extensions": st.column_config.NumberColumn("gültige Zusagen"),
    "undecided": st.column_config.NumberColumn("noch nicht entschieden"),
    # a short label: the long one pushed the column out of the visible table
    "median_working_days": st.column_config.NumberColumn(
        "Median AT",
        format="localized",
        help="Median der Arbeitstage (AT) vom Eingang bis zur Erledigung",
    ),
}
DOWNLOADS = {".xlsx": "Excel-Bericht herunterladen", ".pdf": "PDF-Bericht herunterladen"}


@st.cache_data(show_spinner=False, max_entries=8)
def _report_file(
    suffix: str,
    db_version: tuple,
    records_version: tuple,
    month: dt.date,
    as_of: dt.date,
    filters: Filters,
    viewer: Viewer,
) -> bytes:
    # The versions are cache keys only: a load or a new record makes a fresh file.
    con = serving.connection(viewer, as_of)
    limits = serving.data_scope(viewer)
    built = report.build(con, serving.config(), month, as_of, filters, viewer, limits)
    return report.file_bytes(built, suffix, dt.datetime.now().replace(microsecond=0))


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
    st.caption(
        f"Tickets fällig im {month_label(month)} · Stichtag {format.date(selection.as_of)} · "
        f"{report.scope_label(scope.filters)}. „Von/Bis Monat“ und „Monat nach“ der "
        "Seitenleiste gelten hier nicht: der Bericht zählt immer nach Fälligkeit."
    )
    summary = serving.fetch(monthly.summary, scope, month=month)
    if first is None:
        st.info(sidebar.empty_reason(selection))
    elif summary["tickets"].iloc[-1] == 0:
        st.info(
            f"Im {month_label(month)} ist für die gewählte Auswahl kein Ticket fällig. "
            "Der Bericht enthält dann nur Nullen, die Aufzeichnungen des Monats und die Regeln."
        )
    else:
        st.subheader(f"Übersicht je Bereich · {month_label(month)}")
        widgets.dataframe(summary[list(PREVIEW)], hide_index=True, column_config=PREVIEW)
        st.caption(
            "Quoten zählen nur entschiedene Tickets. Der Bericht enthält außerdem Teams, "
            "Mitarbeitende, Fristverstöße, Verlängerungen, die Prüfungen A5–A7, "
            "Wiederholungsfälle mit Gesprächen, Stichproben, Ladevorgänge und die Regeln."
            if sees_workers(selection.viewer)
            else "Quoten zählen nur entschiedene Tickets. Der Bericht enthält außerdem Teams "
            "(Teams mit weniger als 5 Mitarbeitenden zusammengefasst), Verlängerungen, die "
            "Prüfungen A5–A7, Stichproben, Ladevorgänge und die Regeln – ohne Angaben zu "
            "einzelnen Personen oder Tickets."
        )
    st.subheader("Bericht herunterladen")
    versions = (serving.version(viewer=selection.viewer), serving.records_version())
    for column, (suffix, label) in zip(st.columns(2), DOWNLOADS.items(), strict=True):
        make = functools.partial(
            _report_file, suffix, *versions, month, selection.as_of, scope.filters,
            selection.viewer,
        )  # fmt: skip
        download_file(
            column,
            label,
            make,
            report.file_name(month, suffix),
            report.MIME_TYPES[suffix],
            key=f"report_download_{suffix[1:]}",
            width="stretch",
        )
