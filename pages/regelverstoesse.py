"""Regelverstöße: the findings per rule, team and worker, and the tickets behind a figure."""

import pandas as pd
import streamlit as st

from dashboard import serving
from dashboard.access.viewer import sees_workers
from dashboard.core.format import number
from dashboard.core.rules import STATUS_LABELS, STATUSES
from dashboard.queries import drilldown as tickets_behind
from dashboard.queries import findings
from dashboard.ui import drilldown, sidebar, widgets
from dashboard.ui.downloads import audit_view, downloads

OPEN_HINT = drilldown.OPEN_HINT


def _codes(name: str, allowed) -> list[str]:
    return [c for c in st.query_params.get(name, "").split(",") if c in allowed]


def _table(frame: pd.DataFrame, columns: dict, key: str) -> None:
    """A list of tickets; selecting a row opens that ticket."""
    shown = frame[list(columns)].rename(columns=columns)
    event = st.dataframe(
        shown,
        hide_index=True,
        height=widgets.table_height(len(shown), 560),
        placeholder="",
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "Regel": st.column_config.TextColumn("Regel", width=60),
            "Regelverstoß": st.column_config.TextColumn("Regelverstoß", width=290),
            "Fällig am": widgets.date_column("Fällig am"),
            "Eingang": widgets.date_column("Eingang"),
            "Erledigt am": widgets.date_column("Erledigt am"),
            "Zusage bis": widgets.date_column("Zusage bis"),
        },
        key=key,
    )
    drilldown.open_selected_ticket(event, frame["ticket_id"])


LIST_COLUMNS = {
    "rule": "Regel",
    "finding_label": "Regelverstoß",
    "ticket_id": "Ticket",
    "team": "Team",
    "worker": "Bearbeiter/in",
    "due_date": "Fällig am",
    "completion_date": "Erledigt am",
    "status_label": "Status",
}


def _counts(frame: pd.DataFrame, by: list[str], labels: dict) -> None:
    grouped = (
        frame.groupby(by, as_index=False, sort=True)
        .agg(findings=("ticket_id", "size"), tickets=("ticket_id", "nunique"))
        .sort_values("findings", ascending=False, kind="stable")
    )
    grouped = grouped.drop(columns=[c for c in by if c not in labels])
    st.dataframe(
        grouped.rename(columns={**labels, "findings": "Regelverstöße", "tickets": "Tickets"}),
        hide_index=True,
        height=widgets.table_height(len(grouped), 420),
    )


def _findings(selection: serving.Selection, person: str | None) -> None:
    chosen = st.multiselect(
        "Regel",
        findings.FINDINGS,
        default=_codes("regel", findings.FINDINGS),
        format_func=lambda c: findings.FINDING_LABELS[c],
        placeholder="Alle Regeln",
        key="rv_regel",
    )
    if chosen:
        st.query_params["regel"] = ",".join(chosen)
    elif "regel" in st.query_params:
        del st.query_params["regel"]
    frame = serving.fetch(
        findings.ticket_findings, selection, findings=tuple(chosen), worker=person
    )
    audit_view("Regelverstöße", selection)
    if frame.empty:
        st.info("Keine Regelverstöße für diese Auswahl.")
        return
    frame = frame.assign(status_label=frame["status"].map(STATUS_LABELS))
    st.caption(
        f"{number(len(frame))} Regelverstöße an {number(frame['ticket_id'].nunique())} "
        "Tickets. " + OPEN_HINT
    )
    tabs = ["Liste", "Je Regel", "Je Team"]
    workers = sees_workers(selection.viewer)
    if workers:
        tabs.append("Je Mitarbeiter/in")
    shown = st.tabs(tabs)
    with shown[0]:
        _table(frame, LIST_COLUMNS, "rv_list")
    with shown[1]:
        _counts(frame, ["finding_no", "rule", "finding_label"],
                {"rule": "Regel", "finding_label": "Regelverstoß"})  # fmt: skip
    with shown[2]:
        _counts(frame, ["team"], {"team": "Team"})
    if workers:
        with shown[3]:
            _counts(frame, ["team", "worker"], {"team": "Team", "worker": "Mitarbeiter/in"})
    downloads(
        findings.export_frame(frame),
        f"regelverstoesse-{selection.as_of:%Y-%m-%d}",
        key="rv_download",
    )


TICKET_COLUMNS = {
    "ticket_id": "Ticket",
    "team": "Team",
    "worker": "Bearbeiter/in",
    "receipt_date": "Eingang",
    "due_date": "Fällig am",
    "completion_date": "Erledigt am",
    "commitment_date": "Zusage bis",
    "status_label": "Status",
}


def _figure(selection: serving.Selection, person: str | None) -> None:
    """The tickets a card or chart counted (from its drill-down link)."""
    statuses = _codes("status", STATUSES)
    in_absence = st.query_params.get("abwesenheit") == "1"
    extended = st.query_params.get("verlaengert") == "1"
    any_month = st.query_params.get("alle_monate") == "1"
    what = [STATUS_LABELS[s] for s in statuses]
    what += ["Fristverstoß bei Abwesenheit"] if in_absence else []
    what += ["gültig verlängert"] if extended else []
    st.subheader("Tickets der Kennzahl: " + (", ".join(what) or "alle"))
    frame = serving.fetch(
        tickets_behind.ticket_list,
        selection,
        statuses=tuple(statuses),
        in_absence=in_absence,
        extended=extended,
        any_month=any_month,
        worker=person,
    )
    audit_view("Regelverstöße, Tickets einer Kennzahl", selection)
    if frame.empty:
        st.info("Keine Tickets für diese Auswahl.")
        return
    frame = frame.assign(status_label=frame["status"].map(STATUS_LABELS))
    st.caption(f"{number(len(frame))} Tickets. " + OPEN_HINT)
    _table(frame, TICKET_COLUMNS, "rv_tickets")
    downloads(
        tickets_behind.export_frame(frame),
        f"tickets-{selection.as_of:%Y-%m-%d}",
        key="rv_tickets_download",
    )
    st.page_link(
        drilldown.LIST_PAGE,
        label="Alle Regelverstöße dieser Auswahl",
        icon=":material/rule:",
        query_params=drilldown.params(selection),
    )


selection = sidebar.selection()
st.title("Regelverstöße")
with widgets.guard():
    st.caption(sidebar.scope_caption(selection))
    person = st.query_params.get("person") or None
    if person:
        st.caption(f"Nur Tickets von {person}.")
    if any(st.query_params.get(k) for k in ("status", "abwesenheit", "verlaengert")):
        _figure(selection, person)
    else:
        _findings(selection, person)
