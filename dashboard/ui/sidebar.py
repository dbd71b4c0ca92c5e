"""The shared sidebar filters (Stichtag, period, Bereich, teams), kept across pages and in
the URL, and the state of the loaded data that every page shows with them."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import streamlit as st

from dashboard import serving
from dashboard.access.viewer import Viewer
from dashboard.core.calendar import month_complete, working_days_between
from dashboard.core.format import date
from dashboard.core.months import add_months, month_label, month_start, months_between
from dashboard.queries import metrics
from dashboard.queries.filters import Filters
from dashboard.ui import auth, downloads, widgets

AREA_OPTIONS = ("Alle", "Leistung", "Integration")
MONTH_OF = {"Fälligkeit": "due", "Eingang": "receipt"}
# The session's last selection, in the URL's form: st.navigation drops the URL parameters
# when the page changes, and widget state is per page, so this carries it to the next page.
KEPT = "auswahl"
PARAMS = ("stichtag", "von", "bis", "monat", "bereich", "teams")
# The data state does not depend on the Stichtag: one fixed date caches it once per
# database version and scope.
STATE_DATE = dt.date(2000, 1, 1)
RUNNING = "läuft noch"
BEFORE_DATA = "Der Stichtag {as_of} liegt vor den ersten Daten: der erste Eingang ist am {first}."


def _wanted(name: str, default: str) -> str:
    """A filter's value: from the URL (a copied link), else as last chosen, else default."""
    if name in st.query_params:
        return st.query_params.get(name, default)
    return st.session_state.get(KEPT, {}).get(name, default)


def _parse_date(text: str, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return default


def _first(dims: pd.DataFrame) -> dt.date | None:
    first = dims["first_receipt"].min() if not dims.empty else None
    return first.date() if isinstance(first, pd.Timestamp) else None


def _day(value) -> dt.date | None:
    return value.date() if isinstance(value, pd.Timestamp) else None


def first_receipt(as_of: dt.date, viewer: Viewer) -> dt.date | None:
    """The earliest receipt the viewer may see up to `as_of` (None: no ticket loaded)."""
    return _first(serving.fetch(metrics.dimensions, serving.Selection(as_of, viewer=viewer)))


def data_state(viewer: Viewer) -> pd.Series:
    """first_receipt, newest_receipt (dates or None) and last_load of the viewer's data."""
    frame = serving.fetch(
        metrics.data_state, serving.Selection(STATE_DATE, viewer=viewer), prepare=False
    )
    row = frame.iloc[0]
    return pd.Series(
        {
            "first_receipt": _day(row["first_receipt"]),
            "newest_receipt": _day(row["newest_receipt"]),
            "last_load": row["last_load"] if isinstance(row["last_load"], pd.Timestamp) else None,
        }
    )


def running_month(selection: serving.Selection) -> dt.date | None:
    """The month of the Stichtag while working days of it are still to come, else None."""
    as_of = selection.as_of
    return None if month_complete(serving.config().calendar, as_of) else month_start(as_of)


def complete_part(selection: serving.Selection) -> serving.Selection | None:
    """The selection without a running month at the period's end (None: nothing left)."""
    running = running_month(selection)
    start, end = selection.filters.period
    if running is None or end < running:
        return selection
    if start >= running:
        return None
    return _with_period(selection, start, add_months(running, -1))


def empty_reason(selection: serving.Selection) -> str:
    """Why there are no tickets at all: nothing loaded, or a Stichtag before the first data."""
    first = data_state(selection.viewer)["first_receipt"]
    if first is None or selection.as_of >= first:
        return widgets.EMPTY_DATABASE
    return BEFORE_DATA.format(as_of=date(selection.as_of), first=date(first))


def _freshness(as_of: dt.date, state: pd.Series) -> None:
    """The data's state in the sidebar; banners when it is old or the Stichtag is past it."""
    newest, first, loaded = state["newest_receipt"], state["first_receipt"], state["last_load"]
    if newest is None:
        st.sidebar.caption("Datenstand: noch keine Tickets geladen.")
        return
    load_text = f"{loaded:%d.%m.%Y %H:%M} Uhr" if loaded is not None else "unbekannt"
    st.sidebar.caption(f"Datenstand: neuester Eingang {date(newest)} · geladen {load_text}")
    calendar = serving.config().calendar
    notes = []
    behind = working_days_between(calendar, newest, dt.date.today())
    if behind > 1:
        notes.append(
            f"Die Daten sind nicht aktuell: der neueste Eingang ist vom {date(newest)} "
            f"({behind} Arbeitstage zurück), geladen {load_text}."
        )
    if working_days_between(calendar, newest, as_of) > 1:
        notes.append(
            f"Der Stichtag {date(as_of)} liegt nach dem Stand der Daten ({date(newest)}): "
            "was danach geschah, ist nicht geladen – offene Tickets erscheinen überfällig, "
            "auch wenn sie inzwischen erledigt sein mögen."
        )
    if notes:
        st.warning(" ".join(notes), icon=":material/update:")
    if first is not None and as_of < first:
        st.info(BEFORE_DATA.format(as_of=date(as_of), first=date(first)))


def selection() -> serving.Selection:
    """The shared filters (Stichtag, period, Bereich, teams), kept across pages and in the URL.

    The period defaults to the last complete month; a running month is offered, marked
    "läuft noch". Each page's first run takes a value from its URL, else from the
    selection made on the page before, else the default.
    """
    cfg = serving.config()
    viewer = auth.current()
    state = data_state(viewer)
    st.sidebar.header("Auswahl")
    as_of = st.sidebar.date_input(
        "Stichtag",
        value=_parse_date(_wanted("stichtag", ""), cfg.reference_date()),
        format="DD.MM.YYYY",
        key="f_stichtag",
        help="Bewertet wird der Stand an diesem Tag; spätere Ereignisse zählen noch nicht.",
    )
    dims = serving.fetch(metrics.dimensions, serving.Selection(as_of, viewer=viewer))
    first = _first(dims) or as_of
    months = months_between(min(first, as_of), as_of)
    by_label = {m.strftime("%Y-%m"): m for m in months}
    keys = list(by_label)
    running = None if month_complete(cfg.calendar, as_of) else month_start(as_of)
    default = keys[-2] if running is not None and len(keys) > 1 else keys[-1]

    def month_name(key: str) -> str:
        month = by_label[key]
        return month_label(month) + (f" ({RUNNING})" if month == running else "")

    def month_select(label: str, param: str, key: str) -> str:
        wanted = _wanted(param, default)
        return st.sidebar.selectbox(
            label,
            keys,
            index=keys.index(wanted if wanted in by_label else default),
            format_func=month_name,
            key=key,
        )

    von = month_select("Von Monat", "von", "f_von")
    bis = month_select("Bis Monat", "bis", "f_bis")
    if bis < von:
        von, bis = bis, von
    if running is not None and by_label[bis] == running:
        st.sidebar.caption(
            f"{month_label(running)} läuft noch: ohne Vergleich zum Vorzeitraum und "
            "außerhalb der Rangfolgen."
        )
    wanted_of = _wanted("monat", "due")
    month_of = st.sidebar.radio(
        "Monat nach",
        list(MONTH_OF),
        index=list(MONTH_OF.values()).index(wanted_of) if wanted_of in MONTH_OF.values() else 0,
        horizontal=True,
        key="f_monat_nach",
        help="Tickets zählen im Monat ihrer Fälligkeit (Standard) oder ihres Eingangs.",
    )
    wanted_area = _wanted("bereich", "Alle")
    area = st.sidebar.selectbox(
        "Bereich",
        AREA_OPTIONS,
        index=AREA_OPTIONS.index(wanted_area) if wanted_area in AREA_OPTIONS else 0,
        key="f_bereich",
    )
    team_options = [
        t for a, t in zip(dims.get("area", []), dims.get("team", []), strict=True)
        if area == "Alle" or a == area
    ]  # fmt: skip
    kept_teams = [t for t in _wanted("teams", "").split("|") if t in team_options]
    teams = st.sidebar.multiselect(
        "Team",
        team_options,
        default=kept_teams,
        key="f_teams",
        placeholder="Alle Teams",
        select_all=False,  # Streamlit's own "Select all" is English; none is the same
    )
    chosen_params = {
        "stichtag": as_of.isoformat(),
        "von": von,
        "bis": bis,
        "monat": MONTH_OF[month_of],
        "bereich": area,
        "teams": "|".join(teams),
    }
    st.session_state[KEPT] = chosen_params
    st.query_params.update(chosen_params)
    _freshness(as_of, state)
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
    months = len(months_between(start, end))
    return _with_period(selection, add_months(start, -months), add_months(start, -1))


def _with_period(selection: serving.Selection, start: dt.date, end: dt.date):
    """The same selection (Stichtag, viewer, every other filter) for months start..end."""
    return replace(selection, filters=replace(selection.filters, period=(start, end)))


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
