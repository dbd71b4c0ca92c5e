"""The dashboard's Plotly figures: German separators, the shared colours, slim margins.

Figures only, from the frames the queries return; the pages place them with st.plotly_chart.
"""

from __future__ import annotations

import textwrap

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.core import format
from dashboard.core import labels as style
from dashboard.core.months import MONTHS_DE

RATE_LABELS = {"on_time_rate": "fristgerecht", "compliant_rate": "regelkonform"}
# Not status colours: a conversation's state is no ticket status.
CONVERSATION_COLORS = {"Gespräch ausstehend": "#455a64", "Gespräch geführt": "#a5c4a0"}
TEAM_LABEL_WIDTH = 18  # characters per line of a team name on an axis
# Rate axes written like every other percentage ("80 %"; d3's ".0%" gives "80%").
PERCENT_AXIS = {
    "tickvals": [i / 10 for i in range(0, 11, 2)],
    "ticktext": [f"{i * 10} %" for i in range(0, 11, 2)],
}


def _team_axis(teams) -> dict:
    """A category axis of team names, long ones wrapped so they do not squeeze the chart."""
    teams = list(teams)
    return {
        "tickvals": teams,
        "ticktext": ["<br>".join(textwrap.wrap(str(t), TEAM_LABEL_WIDTH)) or str(t) for t in teams],
    }


# Built once per content of the frame and kept: building a figure (plotly validates every
# trace) took longer than the cached figures of the page. st.plotly_chart only reads it.
_kept = st.cache_resource(show_spinner=False, max_entries=256)


def _layout(fig: go.Figure, height: int, top: int = 30, **layout) -> go.Figure:
    # Decimal comma and thousands point on every axis and hover, as German readers expect.
    fig.update_layout(
        separators=",.", height=height, margin={"l": 10, "r": 10, "t": top, "b": 10}, **layout
    )
    return fig


@_kept
def trend(frame: pd.DataFrame) -> go.Figure:
    """On-time and compliant rate per Bereich and month, with the 100 % goal."""
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
                    # the Bereich travels with a clicked point (drill-down to its tickets)
                    customdata=list(zip(part["decided"], [area] * len(part), strict=True)),
                    text=[format.percent(v) for v in part[column]],
                    hovertemplate=f"{area}, %{{x|%m.%Y}}<br>{label}: %{{text}}"
                    "<br>entschieden: %{customdata[0]:,}<extra></extra>",
                )
            )
    fig.add_hline(
        y=1, line_dash="dash", line_color="#555", annotation_text="Ziel 100 %",
        annotation_position="bottom right",
    )  # fmt: skip
    return _layout(
        fig,
        360,
        legend={"orientation": "h", "y": -0.35},
        yaxis={"title": "Quote", **PERCENT_AXIS, "rangemode": "tozero"},
        xaxis={"title": "Monat", "tickformat": "%m.%Y", "dtick": "M1"},
    )


@_kept
def backlog(frame: pd.DataFrame) -> go.Figure:
    """Open and past-due tickets at each week end."""
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
    return _layout(
        fig,
        360,
        legend={"orientation": "h", "y": -0.2},
        yaxis={"title": "Tickets", "rangemode": "tozero"},
        xaxis={"title": "Wochenende (Sonntag)", "tickformat": "%d.%m.%Y"},
    )


@_kept
def status_ring(frame: pd.DataFrame) -> go.Figure:
    """The tickets per status as a ring, in the status colours."""
    shown = frame[frame["tickets"] > 0]
    total = shown["tickets"].sum()
    fig = go.Figure(
        go.Pie(
            labels=shown["label"],
            values=shown["tickets"],
            hole=0.5,
            sort=False,
            marker={"colors": [style.STATUS_COLORS[status] for status in shown["status"]]},
            text=[format.percent(n / total) for n in shown["tickets"]],
            hovertemplate="%{label}: %{value:,} Tickets (%{text})<extra></extra>",
            texttemplate="%{text}",
        )
    )
    return _layout(fig, 360)


@_kept
def team_heatmap(frame: pd.DataFrame) -> go.Figure:
    """Compliant rate per team (rows) and month (columns)."""
    grid = frame.pivot(index="team", columns="month", values="compliant_rate").sort_index(
        ascending=False
    )
    decided = frame.pivot(index="team", columns="month", values="decided").reindex_like(grid)
    months = [f"{m:%m.%Y}" for m in grid.columns]
    text = [[format.percent(v) for v in row] for row in grid.to_numpy()]
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=months,
            y=list(grid.index),
            text=text,
            texttemplate="%{text}",
            customdata=decided.fillna(0).to_numpy(),
            zmin=0.5,
            zmax=1,
            colorscale="RdYlGn",
            colorbar={"title": "regelkonform", **PERCENT_AXIS},
            hovertemplate="%{y}, %{x}<br>regelkonform: %{text}"
            "<br>entschieden: %{customdata:,}<extra></extra>",
        )
    )
    # A heatmap cell sends no selection event; an invisible marker on each cell does, so a
    # click on a cell can lead to its tickets (pages/teams.py). It carries the tooltip too.
    cells = [(m, t, z, n) for t, zs, ns in zip(grid.index, grid.to_numpy(), decided.to_numpy(),
                                               strict=True)
             for m, z, n in zip(months, zs, ns, strict=True)]  # fmt: skip
    fig.data[0].hoverinfo = "skip"
    fig.add_trace(
        go.Scatter(
            x=[c[0] for c in cells],
            y=[c[1] for c in cells],
            mode="markers",
            marker={"size": 30, "symbol": "square", "opacity": 0},
            customdata=[[c[2], 0 if c[3] != c[3] else c[3]] for c in cells],
            hovertemplate="%{y}, %{x}<br>regelkonform: %{customdata[0]:.1%}"
            "<br>entschieden: %{customdata[1]:,}<extra></extra>",
            showlegend=False,
        )
    )
    return _layout(
        fig,
        120 + 40 * len(grid.index),
        top=10,
        xaxis={"title": "Monat", "type": "category"},
        yaxis={"title": "Team", **_team_axis(grid.index)},
    )


@_kept
def team_ranking(frame: pd.DataFrame) -> go.Figure:
    """Teams by compliant rate, one bar colour per Bereich, with the goal."""
    ranked = frame.dropna(subset=["compliant_rate"]).sort_values("compliant_rate")
    fig = go.Figure()
    for area in ranked["area"].unique():
        part = ranked[ranked["area"] == area]
        fig.add_trace(
            go.Bar(
                x=part["compliant_rate"],
                y=part["team"],
                orientation="h",
                name=area,
                marker_color=style.AREA_COLORS.get(area),
                text=[format.percent(v) for v in part["compliant_rate"]],
                textposition="auto",
                customdata=part[["decided", "breaches"]].to_numpy(),
                hovertemplate="%{y}<br>regelkonform: %{text}<br>entschieden: "
                "%{customdata[0]:,}<br>Fristverstöße: %{customdata[1]:,}<extra></extra>",
            )
        )
    fig.add_vline(
        x=1, line_dash="dash", line_color="#555", annotation_text="Ziel",
        annotation_position="top left",
    )  # fmt: skip
    return _layout(
        fig,
        100 + 32 * len(ranked),
        xaxis={"title": "Regelkonform", **PERCENT_AXIS, "range": [0, 1.05]},
        yaxis={
            "title": "",
            "categoryorder": "array",
            "categoryarray": list(ranked["team"]),
            **_team_axis(ranked["team"]),
        },
        legend={"orientation": "h", "y": -0.3},
    )


@_kept
def working_days(frame: pd.DataFrame, deadlines: dict[str, int]) -> go.Figure:
    """Completed tickets per working days taken, with each Bereich's deadline."""
    fig = go.Figure()
    for area in frame["area"].unique():
        part = frame[frame["area"] == area]
        fig.add_trace(
            go.Bar(
                x=part["working_days"],
                y=part["tickets"],
                name=area,
                marker_color=style.AREA_COLORS.get(area),
                hovertemplate="%{x} Arbeitstage: %{y:,} Tickets<extra></extra>",
            )
        )
    for area, days in deadlines.items():
        # Between N and N+1: every bar left of the line was completed within the deadline.
        fig.add_vline(
            x=days + 0.5,
            line_dash="dash",
            line_color="#c62828",
            annotation_text=f"Frist {area}: {days} Arbeitstage",
            annotation_position="top right",
        )
    return _layout(
        fig,
        340,
        bargap=0.1,
        barmode="overlay",
        showlegend=len(deadlines) > 1,
        xaxis={
            "title": "Arbeitstage vom Eingang bis zur Erledigung",
            # one tick per day while that stays readable
            "dtick": 1 if frame["working_days"].max() <= 20 else None,
        },
        yaxis={"title": "Erledigte Tickets"},
    )


@_kept
def repeat_cases(months: pd.DataFrame) -> go.Figure:
    """Repeat cases per month, stacked by whether the conversation was held."""
    # short month names: twelve of them fit side by side at 1366 px
    labels = [f"{MONTHS_DE[m.month - 1][:3]} {m.year}" for m in months["month"]]
    fig = go.Figure()
    for column, name in (("pending", "Gespräch ausstehend"), ("held", "Gespräch geführt")):
        fig.add_bar(
            x=labels,
            y=months[column],
            name=name,
            marker_color=CONVERSATION_COLORS[name],
            hovertemplate=f"%{{x}}<br>{name}: %{{y:,d}}<extra></extra>",
        )
    return _layout(
        fig,
        260,
        top=10,
        barmode="stack",
        xaxis_title="Monat der Fälligkeit",
        yaxis_title="Wiederholungsfälle",
        legend={"orientation": "h", "y": 1.12, "x": 0, "title_text": ""},
    )
