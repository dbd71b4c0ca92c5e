"""Mitarbeitende: figures per worker of a team, working days taken, checks A5–A7."""

import streamlit as st

from dashboard import serving
from dashboard.access.viewer import may
from dashboard.core import format
from dashboard.queries import overview, repeats
from dashboard.ui import charts, drilldown, sidebar, widgets
from dashboard.ui.downloads import audit_view, downloads

EMPTY_TEAMS = "Für die gewählte Auswahl gibt es keine Teams mit Tickets."
EMPTY_SELECTION = "Dieses Team hat im gewählten Zeitraum keine Tickets."

WORKER_CONFIG = {
    **widgets.RATE_COLUMNS,
    "median_working_days": st.column_config.NumberColumn(
        "Median AT",
        format="localized",
        help="Median der Arbeitstage (AT) vom Eingang bis zur Erledigung",
    ),
    "p90_working_days": st.column_config.NumberColumn(
        "90 %-Wert AT",
        format="localized",
        help="90 % der erledigten Tickets brauchten höchstens so viele Arbeitstage",
    ),
}
OPEN_CONFIG = {
    "worker": st.column_config.TextColumn("Mitarbeiter/in"),
    "open_tickets": st.column_config.NumberColumn("Offene Tickets"),
    "oldest_ticket_id": widgets.ticket_column("Ältestes offenes Ticket"),
    "oldest_receipt_date": widgets.date_column("Eingang"),
    "oldest_working_days_open": st.column_config.NumberColumn(
        "Arbeitstage offen", help="Arbeitstage seit dem Eingang bis zum Stichtag"
    ),
}
CHECK_CONFIG = {
    "worker": st.column_config.TextColumn("Mitarbeiter/in"),
    "callback_rate": widgets.percent_column("A5 Rückruf"),
    "callback_checked": st.column_config.NumberColumn("A5 geprüft"),
    "walkin_rate": widgets.percent_column("A6 Vermerk an TL bei Vorsprache"),
    "walkin_checked": st.column_config.NumberColumn("A6 geprüft"),
    "tl_informed_rate": widgets.percent_column("A7 TL informiert"),
    "tl_informed_checked": st.column_config.NumberColumn("A7 geprüft"),
}


def _period_figures(workers, team: str) -> None:
    """Rates and working days per worker in the period, with downloads."""
    st.subheader("Kennzahlen im Zeitraum")
    widgets.dataframe(
        workers[list(WORKER_CONFIG)],
        hide_index=True,
        column_config=WORKER_CONFIG,
        placeholder="–",
    )
    downloads(workers, f"mitarbeitende-{team}", key="workers")


def _oldest_open(workers) -> None:
    """Each worker's oldest open ticket at the Stichtag, whatever its month (A1)."""
    st.subheader("Älteste offene Tickets am Stichtag")
    waiting = workers[workers["open_tickets"] > 0]
    if waiting.empty:
        st.info("Am Stichtag hat niemand in diesem Team offene Tickets.")
        return
    st.dataframe(
        waiting.assign(oldest_ticket_id=waiting["oldest_ticket_id"].map(widgets.ticket_url))[
            list(OPEN_CONFIG)
        ],
        hide_index=True,
        column_config=OPEN_CONFIG,
    )
    st.caption("Offene Tickets aus jedem Monat, nicht nur aus dem Zeitraum (A1).")


def _duration(selection: serving.Selection, team: str) -> None:
    """The histogram of working days taken, with each Bereich's deadline."""
    st.subheader("Bearbeitungsdauer")
    spread = serving.fetch(overview.working_days_distribution, selection, team=team)
    if spread.empty:
        st.info("Im Zeitraum wurde in diesem Team kein Ticket erledigt.")
        return
    cfg = serving.config()
    deadlines = {a: cfg.deadline(a) for a in spread["area"].unique()}
    st.plotly_chart(charts.working_days(spread, deadlines), width="stretch")


def _checks(workers, area: str, selection: serving.Selection, team: str) -> None:
    """The check rates A5–A7 per worker (Leistung only)."""
    st.subheader("Prüfungen A5–A7")
    checked = workers[["callback_checked", "walkin_checked", "tl_informed_checked"]].to_numpy()
    if checked.sum() == 0:
        st.info(
            "Keine geprüften Tickets: Die Prüfungen A5–A7 gelten nur im Bereich Leistung."
            if area != "Leistung"
            else "Im Zeitraum gibt es keine geprüften Tickets."
        )
        return
    widgets.dataframe(
        workers[list(CHECK_CONFIG)],
        hide_index=True,
        column_config=CHECK_CONFIG,
        placeholder="–",
    )
    st.caption(
        "A5: Rückruf bis zum Fristende (Anliegen Rückruf/Termin). A6: Vermerk an "
        "die TL am Tag der Vorsprache. A7: TL nach Erledigung informiert. Noch "
        "offene Prüfungen zählen nicht."
    )
    # each rate leads to the tickets that failed its check
    columns = st.columns(3)
    for column, (label, finding) in zip(columns, CHECK_FINDINGS, strict=True):
        with column:
            drilldown.link(selection, label, team=team, regel=[finding])


CHECK_FINDINGS = (
    ("A5: Tickets ohne rechtzeitigen Rückruf", "callback_missing"),
    ("A6: Vorsprachen ohne Vermerk", "walkin_note_missing"),
    ("A7: TL nicht informiert", "tl_not_informed"),
)


def _team(selection: serving.Selection, teams) -> None:
    """Everything about the workers of the team chosen here."""
    team = st.selectbox("Team", list(teams["team"]), key="worker_team")
    area = teams.loc[teams["team"] == team, "area"].iloc[0]
    st.caption(
        f"{area} · Zeitraum {sidebar.period_label(selection)} · "
        f"Stichtag {format.date(selection.as_of)}"
    )
    workers = serving.fetch(overview.worker_table, selection, team=team)
    audit_view("Mitarbeitende", selection, Team=team)
    if workers.empty or workers["tickets"].sum() == 0:
        st.info(EMPTY_SELECTION)
        return
    _period_figures(workers, team)
    _oldest_open(workers)
    _duration(selection, team)
    _checks(workers, area, selection, team)


def _recorded_about_me(selection: serving.Selection) -> None:
    """A worker's own repeat cases (A10) and the conversation dates recorded about them."""
    st.subheader("Über Sie erfasst")
    st.caption(
        "Monate mit wiederholter Fristüberschreitung (A10) in den letzten 12 Monaten und die "
        "Daten der Gespräche, die Ihre Teamleitung dazu eingetragen hat; sonst wird über Sie "
        "nichts aufgezeichnet."
    )
    last12 = serving.Selection(
        selection.as_of, repeats.scope(selection.filters, selection.as_of, last12=True),
        selection.viewer,
    )  # fmt: skip
    threshold = serving.config().rules.repeat_threshold
    cases = serving.fetch(repeats.repeat_cases_with_streak, last12, threshold=threshold)
    talks = serving.records(repeats.conversations, selection.viewer)
    if cases.empty and talks.empty:
        st.info("Keine wiederholten Fristüberschreitungen und keine Gespräche erfasst.")
        return
    left, right = st.columns(2)
    if cases.empty:
        left.caption("Keine wiederholten Fristüberschreitungen in den letzten 12 Monaten.")
    else:
        left.dataframe(
            cases[["month", "breaches"]].rename(
                columns={"month": "Monat", "breaches": "Fristüberschreitungen"}
            ),
            hide_index=True,
            column_config={"Monat": st.column_config.DateColumn("Monat", format="MM.YYYY")},
            key="me_cases",
        )
    if talks.empty:
        right.caption("Keine Gespräche erfasst.")
    else:
        right.dataframe(
            talks[["month", "held_on"]].rename(
                columns={"month": "Fall (Monat)", "held_on": "Gespräch am"}
            ),
            hide_index=True,
            column_config={
                "Fall (Monat)": st.column_config.DateColumn("Fall (Monat)", format="MM.YYYY"),
                "Gespräch am": widgets.date_column("Gespräch am"),
            },
            key="me_talks",
        )


selection = sidebar.selection()
st.title("Mitarbeitende")
with widgets.guard():
    teams = serving.fetch(overview.teams, selection)
    if teams.empty:
        st.info(EMPTY_TEAMS)
    else:
        _team(selection, teams)
    if may(selection.viewer, "read_own_records"):
        _recorded_about_me(selection)
