"""Streamlit building blocks the pages share: sidebar filters kept in the URL, German
formats, status colours, downloads and the guard that turns errors into messages.

Layout helpers only: no SQL and no rule lives here (figures come from `dashboard.serving`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import logging
from collections.abc import Callable, Iterator

import pandas as pd
import streamlit as st

from dashboard import serving
from dashboard.access import privacy
from dashboard.core import records
from dashboard.core.labels import STATUS_COLORS
from dashboard.core.months import month_label, month_start, months_between
from dashboard.core.rules import STATUS_LABELS, STATUSES
from dashboard.queries import metrics
from dashboard.queries.filters import Filters
from dashboard.ui import auth

log = logging.getLogger(__name__)

STATUS_ORDER = [STATUS_LABELS[s] for s in STATUSES]
LABEL_COLORS = {STATUS_LABELS[s]: c for s, c in STATUS_COLORS.items()}
AREA_OPTIONS = ("Alle", "Leistung", "Integration")
MONTH_OF = {"Fälligkeit": "due", "Eingang": "receipt"}


def _param(name: str, default: str) -> str:
    return st.query_params.get(name, default)


def _parse_date(text: str, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return default


def sidebar() -> serving.Selection:
    """The shared filters (Stichtag, period, Bereich, teams), kept in the URL."""
    cfg = serving.config()
    viewer = auth.current()
    default_as_of = cfg.reference_date()
    st.sidebar.header("Auswahl")
    as_of = st.sidebar.date_input(
        "Stichtag",
        value=_parse_date(_param("stichtag", ""), default_as_of),
        format="DD.MM.YYYY",
        key="f_stichtag",
        help="Bewertet wird der Stand an diesem Tag; spätere Ereignisse zählen noch nicht.",
    )
    dims = serving.fetch(metrics.dimensions, serving.Selection(as_of, viewer=viewer))
    first = dims["first_receipt"].min() if not dims.empty else None
    first = first.date() if isinstance(first, pd.Timestamp) else as_of
    months = months_between(min(first, as_of), as_of)
    by_label = {m.strftime("%Y-%m"): m for m in months}
    current = as_of.strftime("%Y-%m")
    keys = list(by_label)

    def month_select(label: str, param: str, key: str) -> str:
        wanted = _param(param, current)
        return st.sidebar.selectbox(
            label,
            keys,
            index=keys.index(wanted) if wanted in by_label else len(keys) - 1,
            format_func=lambda k: month_label(by_label[k]),
            key=key,
        )

    von = month_select("Von Monat", "von", "f_von")
    bis = month_select("Bis Monat", "bis", "f_bis")
    if bis < von:
        von, bis = bis, von
    month_of = st.sidebar.radio(
        "Monat nach",
        list(MONTH_OF),
        index=list(MONTH_OF.values()).index(_param("monat", "due"))
        if _param("monat", "due") in MONTH_OF.values()
        else 0,
        horizontal=True,
        key="f_monat_nach",
        help="Tickets zählen im Monat ihrer Fälligkeit (Standard) oder ihres Eingangs.",
    )
    area = st.sidebar.selectbox(
        "Bereich",
        AREA_OPTIONS,
        index=AREA_OPTIONS.index(_param("bereich", "Alle"))
        if _param("bereich", "Alle") in AREA_OPTIONS
        else 0,
        key="f_bereich",
    )
    team_options = [
        t for a, t in zip(dims.get("area", []), dims.get("team", []), strict=True)
        if area == "Alle" or a == area
    ]  # fmt: skip
    url_teams = [t for t in _param("teams", "").split("|") if t in team_options]
    teams = st.sidebar.multiselect(
        "Team", team_options, default=url_teams, key="f_teams", placeholder="Alle Teams"
    )
    st.query_params.update(
        {
            "stichtag": as_of.isoformat(),
            "von": von,
            "bis": bis,
            "monat": MONTH_OF[month_of],
            "bereich": area,
            "teams": "|".join(teams),
        }
    )
    filters = Filters(
        areas=() if area == "Alle" else (area,),
        teams=tuple(teams),
        period=(by_label[von], by_label[bis]),
        month_of=MONTH_OF[month_of],
    )
    return serving.Selection(as_of=as_of, filters=filters, viewer=viewer)


def previous_period(selection: serving.Selection) -> serving.Selection:
    """The same number of months just before the selected period."""
    start, end = selection.filters.period
    n = len(months_between(start, end))
    prev_end = month_start(start - dt.timedelta(days=1))
    prev_start = prev_end
    for _ in range(n - 1):
        prev_start = month_start(prev_start - dt.timedelta(days=1))
    filters = Filters(
        areas=selection.filters.areas,
        teams=selection.filters.teams,
        workers=selection.filters.workers,
        period=(prev_start, prev_end),
        month_of=selection.filters.month_of,
    )
    return serving.Selection(selection.as_of, filters, selection.viewer)


def period_label(selection: serving.Selection) -> str:
    """'März 2026' or 'Januar 2026 – März 2026'."""
    start, end = selection.filters.period
    return month_label(start) if start == end else f"{month_label(start)} – {month_label(end)}"


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Show a German message instead of a traceback when something fails."""
    try:
        yield
    except Exception:  # the user gets a message, the log the details
        log.exception("page failed")
        st.error(
            "Die Ansicht konnte nicht berechnet werden. Bitte die Seite neu laden; "
            "wenn der Fehler bleibt, die IT-Betreuung informieren."
        )


def ticket_url(ticket_id: str) -> str:
    """Link to the Ticket page for one ticket (used in every table's ID column)."""
    from urllib.parse import quote

    return f"/ticket?id={quote(str(ticket_id))}"


def ticket_column(label: str = "Ticket") -> st.column_config.LinkColumn:
    """A column of ticket_url links that shows the ticket ID."""
    return st.column_config.LinkColumn(label, display_text=r"/ticket\?id=(.*)")


def date_column(label: str) -> st.column_config.DateColumn:
    """A date column shown as TT.MM.JJJJ."""
    return st.column_config.DateColumn(label, format="DD.MM.YYYY")


def percent_column(label: str) -> st.column_config.NumberColumn:
    """A rate (0..1) shown as a percentage."""
    return st.column_config.NumberColumn(label, format="percent")


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "Daten") -> bytes:
    """A formatted XLSX workbook of one table (German dates, frozen header, widths)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter", date_format="dd.mm.yyyy",
                        datetime_format="dd.mm.yyyy") as writer:  # fmt: skip
        frame.to_excel(writer, sheet_name=sheet, index=False)
        sheet_obj = writer.sheets[sheet]
        sheet_obj.freeze_panes(1, 0)
        sheet_obj.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))
        for i, column in enumerate(frame.columns):
            width = max([len(str(column)), *(len(str(v)) for v in frame[column].head(500))])
            sheet_obj.set_column(i, i, min(max(width + 2, 10), 50))
    return buffer.getvalue()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV as German offices open it in Excel: `;`, decimal comma, UTF-8 with BOM."""
    return frame.to_csv(index=False, sep=";", decimal=",", date_format="%d.%m.%Y").encode(
        "utf-8-sig"
    )


def audited(producer: Callable[[], bytes], file_name: str) -> Callable[[], bytes]:
    """A download's file maker that first writes who downloaded which file to the audit log.

    Streamlit calls it only when the button is clicked, so the entry marks a real download.
    """
    viewer = auth.current()
    cfg = serving.config()

    def make() -> bytes:
        records.log(cfg, viewer.who, "Download", file_name)
        return producer()

    return make


def audit_view(what: str, selection: serving.Selection, **details) -> None:
    """Record once per session and selection that the viewer looked at personal figures."""
    viewer = selection.viewer
    start, end = selection.filters.period or (None, None)
    detail = ", ".join(
        [f"{what}: Stichtag {selection.as_of:%d.%m.%Y}"]
        + ([f"Zeitraum {start:%m.%Y}–{end:%m.%Y}"] if start else [])
        + ([f"Teams {'|'.join(selection.filters.teams)}"] if selection.filters.teams else [])
        + [f"{k} {v}" for k, v in details.items()]
    )
    seen = st.session_state.setdefault("_audited_views", set())
    if detail in seen:
        return
    records.log(serving.config(), viewer.who, "Ansicht", detail)
    seen.add(detail)


DOWNLOAD_FORMATS = (  # (suffix, button label, maker, MIME type)
    ("csv", "CSV herunterladen", csv_bytes, "text/csv"),
    ("xlsx", "Excel herunterladen", xlsx_bytes,
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
)  # fmt: skip


def downloads(frame: pd.DataFrame, name: str, key: str) -> None:
    """CSV and XLSX download buttons for a table; the files are made only when clicked."""
    limits = serving.data_scope(auth.current())
    frame = privacy.release(frame, limits, target="file")
    for column, (suffix, label, maker, mime) in zip(
        st.columns(len(DOWNLOAD_FORMATS)), DOWNLOAD_FORMATS, strict=True
    ):
        column.download_button(
            label,
            audited(functools.partial(maker, frame), f"{name}.{suffix}"),
            f"{name}.{suffix}",
            mime,
            key=f"{key}_{suffix}",
            on_click="ignore",
        )
