"""The shared sidebar filters (Stichtag, period, Bereich, teams), kept in the URL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import serving
from dashboard.access.viewer import Viewer
from dashboard.core.format import date
from dashboard.core.months import month_label, month_start, months_between
from dashboard.queries import metrics
from dashboard.queries.filters import Filters
from dashboard.ui import auth, downloads

AREA_OPTIONS = ("Alle", "Leistung", "Integration")
MONTH_OF = {"Fälligkeit": "due", "Eingang": "receipt"}


def _param(name: str, default: str) -> str:
    return st.query_params.get(name, default)


def _parse_date(text: str, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return default


def _first(dims: pd.DataFrame) -> dt.date | None:
    first = dims["first_receipt"].min() if not dims.empty else None
    return first.date() if isinstance(first, pd.Timestamp) else None


def first_receipt(as_of: dt.date, viewer: Viewer) -> dt.date | None:
    """The earliest receipt the viewer may see up to `as_of` (None: no ticket loaded)."""
    return _first(serving.fetch(metrics.dimensions, serving.Selection(as_of, viewer=viewer)))


def selection() -> serving.Selection:
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
    first = _first(dims) or as_of
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
    chosen = serving.Selection(as_of=as_of, filters=filters, viewer=viewer)
    downloads.remember(chosen)
    return chosen


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


def scope_caption(selection: serving.Selection) -> str:
    """'Zeitraum März 2026 · Stichtag 27.03.2026 · Bereich alle' (and the teams, if chosen)."""
    filters = selection.filters
    return (
        f"Zeitraum {period_label(selection)} · Stichtag {date(selection.as_of)} · "
        f"Bereich {', '.join(filters.areas) or 'alle'}"
        + (f" · Teams {', '.join(filters.teams)}" if filters.teams else "")
    )
