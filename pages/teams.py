"""Teams: compliant rate per team and month, team ranking, statuses per team, drill-down."""

import plotly.graph_objects as go
import streamlit as st

from dashboard import serving
from dashboard.access.viewer import sees_workers
from dashboard.core import format
from dashboard.core import labels as style
from dashboard.core.months import month_label
from dashboard.core.rules import STATUS_LABELS, STATUSES
from dashboard.queries import overview
from dashboard.ui import sidebar, widgets
from dashboard.ui.downloads import audit_view, downloads

EMPTY_SELECTION = "Für die gewählte Auswahl gibt es im Zeitraum keine Tickets."


def _heatmap(frame) -> go.Figure:
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
            colorbar={"title": "regelkonform", "tickformat": ".0%"},
            hovertemplate="%{y}, %{x}<br>regelkonform: %{z:.1%}"
            "<br>entschieden: %{customdata:,}<extra></extra>",
        )
    )
    fig.update_layout(
        separators=",.",
        height=120 + 40 * len(grid.index),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": "Monat", "type": "category"},
        yaxis={"title": "Team"},
    )
    return fig


def _ranking(frame) -> go.Figure:
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
                hovertemplate="%{y}<br>regelkonform: %{x:.1%}<br>entschieden: "
                "%{customdata[0]:,}<br>Fristverstöße: %{customdata[1]:,}<extra></extra>",
            )
        )
    fig.add_vline(
        x=1, line_dash="dash", line_color="#555", annotation_text="Ziel",
        annotation_position="top left",
    )  # fmt: skip
    fig.update_layout(
        separators=",.",
        height=100 + 32 * len(ranked),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"title": "Regelkonform", "tickformat": ".0%", "range": [0, 1.05]},
        yaxis={"title": "", "categoryorder": "array", "categoryarray": list(ranked["team"])},
        legend={"orientation": "h", "y": -0.3},
    )
    return fig


DRILL_CONFIG = {"team": st.column_config.TextColumn("Team"), **widgets.RATE_COLUMNS}


def _months(selection: serving.Selection) -> None:
    """The heatmap of the compliant rate per team and month."""
    first, last = overview.heatmap_window(selection.as_of, selection.filters)
    period = selection.filters.period
    st.subheader("Regelkonform je Team und Monat")
    one_month = period is None or period[0] == period[1]
    st.caption(
        (
            "Ein einzelner Monat ist gewählt: gezeigt werden die 12 Monate bis zu diesem "
            if one_month
            else "Gezeigt werden die Monate des gewählten Zeitraums "
        )
        + f"({month_label(first)} – {month_label(last)}). Quote der entschiedenen "
        "Tickets; leere Felder: nichts entschieden."
    )
    months = serving.fetch(overview.team_months, selection)
    st.plotly_chart(_heatmap(months), width="stretch")


def _status_counts(table) -> None:
    """Tickets per status and team, with downloads."""
    st.subheader("Tickets je Status")
    counts = table[["team", "tickets", *STATUSES, "area"]].rename(columns=STATUS_LABELS)
    st.dataframe(
        counts,
        hide_index=True,
        column_config={
            "area": st.column_config.TextColumn("Bereich"),
            "tickets": st.column_config.NumberColumn("Tickets"),
            "team": st.column_config.TextColumn("Team"),
        },
    )
    downloads(counts, "tickets-je-status-und-team", key="teams_status")


def _drill_down(selection: serving.Selection, teams: list[str]) -> None:
    """The workers of one chosen team (only for viewers who see workers)."""
    st.subheader("Mitarbeitende eines Teams")
    team = st.selectbox("Team", teams, key="teams_drill")
    workers = serving.fetch(overview.worker_table, selection, team=team)
    audit_view("Teams, Mitarbeitende", selection, Team=team)
    workers = workers[workers["tickets"] > 0]
    if workers.empty:
        st.info("Dieses Team hat im Zeitraum keine Tickets.")
    else:
        st.dataframe(
            workers[list(DRILL_CONFIG)],
            hide_index=True,
            column_config=DRILL_CONFIG,
            placeholder="–",
        )


selection = sidebar.selection()
st.title("Teams")
with widgets.guard():
    st.caption(sidebar.scope_caption(selection))
    table = serving.fetch(overview.team_table, selection)
    if table.empty or table["tickets"].sum() == 0:
        st.info(EMPTY_SELECTION)
    else:
        _months(selection)
        st.subheader("Rangfolge im Zeitraum")
        st.plotly_chart(_ranking(table), width="stretch")
        _status_counts(table)
        if sees_workers(selection.viewer):
            _drill_down(selection, sorted(table["team"]))
