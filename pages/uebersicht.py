"""Übersicht: headline figures of the period, 12-month trend, backlog and status mix."""

import math
from dataclasses import replace

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import serving
from dashboard.core import format
from dashboard.core import labels as style
from dashboard.core.months import month_label
from dashboard.queries import metrics, overview
from dashboard.ui import sidebar, widgets

EMPTY_SELECTION = "Für die gewählte Auswahl gibt es im Zeitraum keine Tickets."
RATE_LABELS = {"on_time_rate": "fristgerecht", "compliant_rate": "regelkonform"}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _signed(value: float, digits: int) -> str:
    # A leading "-" is what makes st.metric draw the arrow downwards.
    return ("-" if value < 0 else "+") + format.number(abs(value), digits)


def _metric(column, label: str, value, previous, kind: str, inverse: bool, help: str) -> None:
    """One st.metric with its change against the previous period (rates in Pp)."""
    if kind == "rate":
        text = format.percent(value)
        change = None if _missing(value) or _missing(previous) else (value - previous) * 100
        delta = None if change is None else f"{_signed(change, 1)} Pp"
        digits = 1
    else:
        digits = 1 if kind == "days" else 0
        text = "–" if _missing(value) else format.number(value, digits)
        change = None if _missing(value) or _missing(previous) else value - previous
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


def _trend_chart(frame) -> go.Figure:
    fig = go.Figure()
    for area in frame["area"].unique():
        part = frame[frame["area"] == area]
        for column, label in RATE_LABELS.items():
            fig.add_trace(
                go.Scatter(
                    x=part["month"],
                    y=part[column],
                    mode="lines+markers",
                    name=f"{area}: {label}",
                    line={
                        "color": style.AREA_COLORS.get(area),
                        "dash": "solid" if column == "on_time_rate" else "dot",
                    },
                    customdata=part["decided"],
                    hovertemplate=f"{area}, %{{x|%m.%Y}}<br>{label}: %{{y:.1%}}"
                    "<br>entschieden: %{customdata:,}<extra></extra>",
                )
            )
    fig.add_hline(
        y=1, line_dash="dash", line_color="#555", annotation_text="Ziel 100 %",
        annotation_position="bottom right",
    )  # fmt: skip
    fig.update_layout(
        separators=",.",
        height=360,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": -0.35},
        yaxis={"title": "Quote", "tickformat": ".0%", "rangemode": "tozero"},
        xaxis={"title": "Monat", "tickformat": "%m.%Y", "dtick": "M1"},
    )
    return fig


def _backlog_chart(frame) -> go.Figure:
    fig = go.Figure()
    for column, label, color in (
        ("open", "offen", style.STATUS_COLORS["open"]),
        ("past_due", "davon Frist überschritten", style.STATUS_COLORS["overdue"]),
    ):
        fig.add_trace(
            go.Scatter(
                x=frame["week_end"],
                y=frame[column],
                mode="lines",
                name=label,
                line={"color": color},
                fill="tozeroy",
                hovertemplate=f"Stand %{{x|%d.%m.%Y}}<br>{label}: %{{y:,}}<extra></extra>",
            )
        )
    fig.update_layout(
        separators=",.",
        height=360,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": -0.2},
        yaxis={"title": "Tickets", "rangemode": "tozero"},
        xaxis={"title": "Wochenende (Sonntag)", "tickformat": "%d.%m.%Y"},
    )
    return fig


def _status_chart(frame) -> go.Figure:
    shown = frame[frame["tickets"] > 0]
    fig = go.Figure(
        go.Pie(
            labels=shown["label"],
            values=shown["tickets"],
            hole=0.5,
            sort=False,
            marker={"colors": [style.STATUS_COLORS[status] for status in shown["status"]]},
            hovertemplate="%{label}: %{value:,} Tickets (%{percent:.1%})<extra></extra>",
            texttemplate="%{percent:.1%}",
        )
    )
    fig.update_layout(separators=",.", height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def _no_tickets(selection: serving.Selection) -> None:
    """Say why the period is empty: nothing loaded at all, or nothing in the selection."""
    everything = serving.Selection(selection.as_of, viewer=selection.viewer)
    loaded = serving.fetch(metrics.dimensions, everything)
    st.info(widgets.EMPTY_DATABASE if loaded.empty else EMPTY_SELECTION)


def _headline(selection: serving.Selection, current: pd.Series) -> None:
    """The eight figures of the period with their change against the previous period."""
    filters = selection.filters
    before = sidebar.previous_period(selection)
    compare_as_of = overview.comparison_date(selection.as_of, filters)
    previous = serving.fetch(overview.headline, before).iloc[0].copy()
    # Open overdue is a state at a date: compare with the state one period earlier.
    earlier = replace(selection, as_of=compare_as_of)
    previous["open_overdue"] = serving.fetch(overview.open_overdue, earlier, prepare=False).iloc[
        0, 0
    ]
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
        _metric(column, label, current[key], previous[key], kind, inverse, help_text)


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
            st.plotly_chart(_trend_chart(trend), width="stretch")
    with right:
        st.markdown("**Rückstand am Wochenende**")
        backlog = serving.fetch(overview.backlog, selection)
        if backlog.empty:
            st.info("Keine Wochenenden bis zum Stichtag in diesen 12 Monaten.")
        else:
            st.plotly_chart(_backlog_chart(backlog), width="stretch")
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
    chart.plotly_chart(_status_chart(mix), width="stretch")
    table.dataframe(
        mix[["label", "tickets"]],
        hide_index=True,
        column_config={
            "label": st.column_config.TextColumn("Status"),
            "tickets": st.column_config.NumberColumn("Tickets"),
        },
    )


selection = sidebar.selection()
st.title("Übersicht")
with widgets.guard():
    st.caption(sidebar.scope_caption(selection))
    current = serving.fetch(overview.headline, selection).iloc[0]
    if current["tickets"] == 0:
        _no_tickets(selection)
    else:
        _headline(selection, current)
        _trends(selection)
        _status_mix(selection)
