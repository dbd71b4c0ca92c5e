"""Übersicht: headline figures of the period, 12-month trend, backlog and status mix."""

from dataclasses import replace

import pandas as pd
import streamlit as st

from dashboard import serving
from dashboard.access.viewer import sees_absences
from dashboard.core import format
from dashboard.core.months import month_label
from dashboard.core.rules import BREACHES
from dashboard.queries import metrics, overview
from dashboard.ui import charts, drilldown, sidebar, widgets

NO_ABSENCES = (
    "Für Ihre Rolle nicht verfügbar: Abwesenheiten sind personenbezogene Daten einzelner "
    "Mitarbeitender und gehören nicht zu Ihrem Datenumfang."
)
EMPTY_SELECTION = "Für die gewählte Auswahl gibt es im Zeitraum keine Tickets."


def _signed(value: float, digits: int) -> str:
    # A leading "-" is what makes st.metric draw the arrow downwards.
    return ("-" if value < 0 else "+") + format.number(abs(value), digits)


def _metric(column, label: str, value, previous, kind: str, inverse: bool, help: str) -> None:
    """One st.metric with its change against the previous period (rates in Pp)."""
    if kind == "rate":
        text = format.percent(value)
        change = (
            None if format.missing(value) or format.missing(previous) else (value - previous) * 100
        )
        delta = None if change is None else f"{_signed(change, 1)} Pp"
        digits = 1
    else:
        digits = 1 if kind == "days" else 0
        text = "–" if format.missing(value) else format.number(value, digits)
        change = None if format.missing(value) or format.missing(previous) else value - previous
        delta = None if change is None else _signed(change, digits)
    unchanged = change is not None and round(change, digits) == 0
    if unchanged:
        delta = "±" + delta[1:]
    column.metric(
        label,
        text,
        delta,
        delta_color="off"
        if unchanged or kind == "neutral"
        else ("inverse" if inverse else "normal"),
        delta_arrow="off" if unchanged else "auto",
        help=help,
        border=True,
    )


def _no_tickets(selection: serving.Selection) -> None:
    """Say why the period is empty: nothing loaded at all, or nothing in the selection."""
    everything = serving.Selection(selection.as_of, viewer=selection.viewer)
    loaded = serving.fetch(metrics.dimensions, everything)
    st.info(sidebar.empty_reason(selection) if loaded.empty else EMPTY_SELECTION)


def _headline(selection: serving.Selection, current: pd.Series) -> None:
    """The eight figures of the period with their change against the previous period."""
    filters = selection.filters
    running = sidebar.running_month(selection)
    if running is not None and filters.period[1] >= running:
        # Days of a running month against a whole earlier one would say nothing.
        previous = pd.Series(dtype=object)
        st.caption(
            f"{month_label(running)} {sidebar.RUNNING} (Stand {format.date(selection.as_of)}): "
            "ohne Veränderung gegenüber dem Vorzeitraum, bis der Monat abgeschlossen ist."
        )
    else:
        before = sidebar.previous_period(selection)
        compare_as_of = overview.comparison_date(selection.as_of, filters)
        previous = serving.fetch(overview.headline, before).iloc[0].copy()
        # Open overdue is a state at a date: compare with the state one period earlier.
        earlier = replace(selection, as_of=compare_as_of)
        previous["open_overdue"] = serving.fetch(
            overview.open_overdue, earlier, prepare=False
        ).iloc[0, 0]
        st.caption(
            f"Veränderung gegenüber {sidebar.period_label(before)}; bei „Offen überfällig“ "
            f"gegenüber dem Stand am {format.date(compare_as_of)}."
        )
    counted = "eingegangen" if filters.month_of == "receipt" else "fällig"
    row1 = st.columns(4)
    row2 = st.columns(4)
    figures = [
        (row1[0], f"Tickets {counted}", "tickets", "neutral", False,
         f"Tickets, deren Monat ({counted}) im Zeitraum liegt."),
        (row1[1], "Fristgerecht", "on_time_rate", "rate", False,
         "Anteil der entschiedenen Tickets, die bis zum Fristende erledigt wurden."),
        (row1[2], "Regelkonform", "compliant_rate", "rate", False,
         "Fristgerecht oder mit rechtzeitiger Zusage verlängert und eingehalten."),
        (row1[3], "Fristverstöße", "breaches", "count", True,
         "Verspätet, Zusage nicht eingehalten oder überfällig."),
        (row2[0], "Verstöße bei Abwesenheit", "absence_breaches", "count", True,
         "Fristverstöße, deren Fälligkeit in eine Abwesenheit der Bearbeitung fiel."),
        (row2[1], "Offen überfällig", "open_overdue", "count", True,
         "Am Stichtag offene Tickets nach Fristende ohne laufende Verlängerung "
         "(unabhängig vom Zeitraum)."),
        (row2[2], "Verlängerungen", "extensions", "neutral", False,
         "Tickets mit rechtzeitiger Information und Zusage (gültige Verlängerung)."),
        (row2[3], "Median Arbeitstage", "median_working_days", "days", True,
         "Median der Arbeitstage vom Eingang bis zur Erledigung (erledigte Tickets)."),
    ]  # fmt: skip
    for column, label, key, kind, inverse, help_text in figures:
        if key == "absence_breaches" and not sees_absences(selection.viewer):
            # no absences in this role's scope: the figure is missing, not 0
            column.metric(label, "–", help=NO_ABSENCES, border=True)
            continue
        _metric(column, label, current[key], previous.get(key), kind, inverse, help_text)
    # each count leads to its tickets (the page "Regelverstöße", filtered)
    for column, _, key, *_ in figures:
        if key in DRILL:
            label, kwargs = DRILL[key]
            with column:
                drilldown.link(selection, label, **kwargs)


DRILL = {
    "tickets": ("Tickets anzeigen", {"status": ["on_time", "extended_kept", "extended_missed",
                                                "late", "open", "open_extended", "overdue"]}),
    "on_time_rate": ("Nicht fristgerechte anzeigen",
                     {"status": ["extended_kept", "extended_missed", "late", "overdue"]}),
    "compliant_rate": ("Nicht regelkonforme anzeigen", {"status": list(BREACHES)}),
    "breaches": ("Tickets anzeigen", {"status": list(BREACHES)}),
    "absence_breaches": ("Tickets anzeigen", {"abwesenheit": "1"}),
    "open_overdue": ("Tickets anzeigen", {"status": ["overdue"], "alle_monate": "1"}),
    "extensions": ("Tickets anzeigen", {"verlaengert": "1"}),
}  # fmt: skip


def _trend_point(point: dict) -> dict | None:
    """A clicked point of the trend (month, Bereich) as the narrowing of the ticket list."""
    custom = point.get("customdata") or []
    if len(custom) < 2 or not point.get("x"):
        return None
    month = pd.Timestamp(point["x"]).date().replace(day=1)
    return {"month": month, "bereich": str(custom[1]), "status": list(BREACHES)}


def _trends(selection: serving.Selection) -> None:
    """Rates per Bereich and the weekly backlog over the 12 months up to the period's end."""
    first, last = overview.trend_window(selection.as_of, selection.filters)
    st.subheader("Entwicklung der letzten 12 Monate")
    st.caption(f"{month_label(first)} – {month_label(last)}")
    left, right = st.columns(2)
    with left:
        st.markdown("**Fristgerecht und regelkonform je Bereich**")
        trend = serving.fetch(overview.trend, selection)
        if trend.empty:
            st.info("Keine Tickets in diesen 12 Monaten.")
        else:
            event = st.plotly_chart(
                charts.trend(trend),
                width="stretch",
                on_select="rerun" if drilldown.available(selection) else "ignore",
                selection_mode="points",
                key="ue_trend",
            )
            widgets.small_cells_note(trend)
            # a point leads to the breaches of that Bereich and month
            drilldown.follow_chart(selection, event, _trend_point)
    with right:
        st.markdown("**Rückstand am Wochenende**")
        backlog = serving.fetch(overview.backlog, selection)
        if widgets.hidden_cells(backlog):
            st.info(widgets.SMALL_SELECTION)
        elif backlog.empty:
            st.info("Keine Wochenenden bis zum Stichtag in diesen 12 Monaten.")
        else:
            st.plotly_chart(charts.backlog(backlog), width="stretch")
            st.caption(
                "Offen: eingegangen und bis zum jeweiligen Tag nicht erledigt. Frist "
                "überschritten: Fälligkeit vor diesem Tag (auch bei Verlängerung). "
                "Liegt der Stichtag in diesen 12 Monaten, ist er der letzte Punkt."
            )


def _status_mix(selection: serving.Selection) -> None:
    """The tickets of the period per status, as a ring and a table."""
    st.subheader(f"Status der Tickets · {sidebar.period_label(selection)}")
    mix = serving.fetch(overview.status_mix, selection)
    chart, table = st.columns([3, 2])
    chart.plotly_chart(charts.status_ring(mix), width="stretch")
    event = table.dataframe(
        mix[["label", "tickets"]],
        hide_index=True,
        column_config={
            "label": st.column_config.TextColumn("Status"),
            "tickets": st.column_config.NumberColumn("Tickets"),
        },
        placeholder="–",
        on_select="rerun" if drilldown.available(selection) else "ignore",
        selection_mode="single-row",
        key="ue_status",
    )
    widgets.small_cells_note(mix)
    if drilldown.available(selection):
        table.caption("Eine Zeile anklicken zeigt die Tickets dieses Status.")
        drilldown.follow_row(selection, event, lambda i: {"status": [mix["status"].iloc[i]]})


selection = sidebar.selection()
st.title("Übersicht")
with widgets.guard():
    st.caption(sidebar.scope_caption(selection))
    current = serving.fetch(overview.headline, selection).iloc[0]
    if current.get("suppressed", False):
        st.info(widgets.SMALL_SELECTION)
    elif current["tickets"] == 0:
        _no_tickets(selection)
    else:
        _headline(selection, current)
        _trends(selection)
        _status_mix(selection)
