"""Teams: compliant rate per team and month, team ranking, statuses per team, drill-down."""

import streamlit as st

from dashboard import serving
from dashboard.access.viewer import sees_workers
from dashboard.core.months import month_label
from dashboard.core.rules import STATUS_LABELS, STATUSES
from dashboard.queries import overview
from dashboard.ui import charts, drilldown, sidebar, widgets
from dashboard.ui.downloads import audit_view, downloads

EMPTY_SELECTION = "Für die gewählte Auswahl gibt es im Zeitraum keine Tickets."


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
    clickable = drilldown.available(selection)
    event = st.plotly_chart(
        charts.team_heatmap(months),
        width="stretch",
        on_select="rerun" if clickable else "ignore",
        selection_mode="points",
        key="teams_heatmap",
    )
    # a cell leads to the breaches of that team and month (the tickets not compliant)
    drilldown.follow_chart(
        selection,
        event,
        lambda p: {"team": p.get("y"), "month": drilldown.month_of_label(p.get("x")),
                   "status": list(drilldown.BREACH_STATUSES)},
    )  # fmt: skip
    if clickable:
        st.caption("Ein Feld anklicken zeigt die Fristverstöße dieses Teams in diesem Monat.")
        drilldown.link(
            selection,
            "Fristverstöße dieser Monate anzeigen",
            period=(first, last),
            status=list(drilldown.BREACH_STATUSES),
        )
    widgets.small_cells_note(months)


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
        placeholder="–",
    )
    widgets.small_cells_note(table)
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
        widgets.dataframe(
            workers[list(DRILL_CONFIG)],
            hide_index=True,
            column_config=DRILL_CONFIG,
            placeholder="–",
        )


def _ranking(selection: serving.Selection, table) -> None:
    """The teams ranked by their rate, over complete months only (a running one is left out)."""
    st.subheader("Rangfolge im Zeitraum")
    ranked = sidebar.complete_part(selection)
    running = sidebar.running_month(selection)
    if ranked is None:
        st.info(
            f"{month_label(running)} {sidebar.RUNNING}: die Rangfolge folgt, wenn der Monat "
            "abgeschlossen ist."
        )
        return
    if ranked is not selection:
        st.caption(
            f"Ohne den laufenden Monat {month_label(running)}: {sidebar.period_label(ranked)}."
        )
        table = serving.fetch(overview.team_table, ranked)
        selection = ranked
    chart = st.plotly_chart(
        charts.team_ranking(table),
        width="stretch",
        on_select="rerun" if drilldown.available(selection) else "ignore",
        selection_mode="points",
        key="teams_ranking",
    )
    # a bar leads to the team's breaches of the ranked period
    drilldown.follow_chart(
        selection,
        chart,
        lambda p: {"team": p.get("y"), "status": list(drilldown.BREACH_STATUSES)},
    )
    drilldown.link(selection, "Fristverstöße aller Teams anzeigen",
                   status=list(drilldown.BREACH_STATUSES))  # fmt: skip


selection = sidebar.selection()
st.title("Teams")
with widgets.guard():
    st.caption(sidebar.scope_caption(selection))
    table = serving.fetch(overview.team_table, selection)
    if widgets.all_hidden(table):
        st.info(widgets.SMALL_SELECTION)
    elif table.empty or table["tickets"].sum() == 0:
        st.info(EMPTY_SELECTION)
    else:
        _months(selection)
        _ranking(selection, table)
        _status_counts(table)
        if sees_workers(selection.viewer):
            _drill_down(selection, sorted(table["team"]))
