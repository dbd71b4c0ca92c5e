"""Wiederholte Fristüberschreitungen (A10): repeat cases per month and the conversations held."""

import datetime as dt
from dataclasses import replace

import pandas as pd
import streamlit as st

from dashboard import serving
from dashboard.access.viewer import Viewer, may
from dashboard.core.format import date, number
from dashboard.core.months import month_label
from dashboard.core.rules import STATUS_LABELS
from dashboard.queries import repeats
from dashboard.ui import charts, drilldown, sidebar, widgets
from dashboard.ui.downloads import audit_view, downloads

SAVED_KEY = "rep_saved_message"
CLICKED_KEY = "rep_clicked_row"
STREAK_STYLE = "background-color: #fff3e0; color: #e65100; font-weight: bold"


def _month(value) -> dt.date:
    return pd.Timestamp(value).date()


def _case_key(month, worker: str) -> str:
    return f"{_month(month).isoformat()}|{worker}"


def _case_options(status: pd.DataFrame) -> dict[str, int]:
    # Stable keys and labels in table order: saving a conversation must not move the choice.
    keys = [_case_key(m, w) for m, w in zip(status["month"], status["worker"], strict=True)]
    return {key: position for position, key in enumerate(keys)}


def _case_label(case: pd.Series) -> str:
    return (
        f"{case['worker']} – {month_label(_month(case['month']))} "
        f"({number(case['breaches'])} Überschreitungen)"
    )


def _overview(status: pd.DataFrame) -> None:
    """The cases as a table; a click on a row opens that case below."""
    marker = status["streak"].map(repeats.streak_marker)
    table = pd.DataFrame(
        {
            "Mitarbeiter/in": status["worker"],
            "Monat": [month_label(_month(m)) for m in status["month"]],
            "Team": status["team"],
            "Anzahl": status["breaches"],
            "In Folge": marker,
            "Gespräch": status["conversation"],
            "Gespräch am": status["held_on"],
            "Erfasst von": status["recorded_by"],
            "Erfasst": status["conversations"],
        }
    )
    # Runs of months stand out: a styled table is fine for the few repeat cases of a period.
    styled = table.style.map(lambda v: STREAK_STYLE if v else "", subset=["In Folge"])
    event = st.dataframe(
        styled,
        hide_index=True,
        # hundreds of pending cases where conversations go unrecorded: the table scrolls
        height=widgets.table_height(len(table), 600),
        placeholder="",
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "Monat": st.column_config.TextColumn("Monat", help="Monat der Fälligkeit", width=120),
            "Anzahl": st.column_config.NumberColumn(
                "Anzahl",
                help="Fristüberschreitungen im Monat: verspätet, Zusage nicht eingehalten "
                "oder überfällig am Stichtag",
                width=70,
            ),
            "In Folge": st.column_config.TextColumn(
                "In Folge", help="Wiederholungsfall in aufeinanderfolgenden Monaten", width=175
            ),
            "Gespräch am": widgets.date_column("Gespräch am"),
            "Erfasst": st.column_config.NumberColumn(
                "Erfasst",
                help="Anzahl der erfassten Gespräche zu diesem Fall (alle bleiben)",
                width=60,
            ),
        },
        key="rep_overview",
    )
    rows = event.selection.rows
    clicked = status.iloc[rows[0]] if rows else None
    if clicked is not None and st.session_state.get(CLICKED_KEY) != rows[0]:
        # a new click chooses the case (the selectbox below follows it)
        st.session_state[CLICKED_KEY] = rows[0]
        st.session_state["rep_case"] = _case_key(clicked["month"], clicked["worker"])
    elif clicked is None:
        st.session_state.pop(CLICKED_KEY, None)


def _breaches(scoped: serving.Selection, case: pd.Series) -> None:
    month = _month(case["month"])
    st.subheader(f"{case['worker']} – {month_label(month)}")
    marker = repeats.streak_marker(int(case["streak"]))
    if marker:
        st.warning(
            f"Wiederholungsfall {marker} (seit {month_label(_month(case['streak_since']))}).",
            icon=":material/repeat:",
        )
    tickets = serving.fetch(repeats.breaches_of, scoped, worker=case["worker"], month=month)
    table = pd.DataFrame(
        {
            "Ticket": tickets["ticket_id"],
            "Fällig am": tickets["due_date"],
            "Status": tickets["status"].map(STATUS_LABELS),
            "Arbeitstage": tickets["working_days"],
            "Erledigt am": tickets["completion_date"],
            "Zusage bis": tickets["commitment_date"],
            "Team": tickets["team"],
            # A10: a breach during the worker's own absence is shown, not counted
            "Gezählt": tickets["in_absence"].map({True: "nein – während Abwesenheit", False: "ja"}),
        }
    )
    st.caption(drilldown.OPEN_HINT)
    event = st.dataframe(
        table,
        hide_index=True,
        height=widgets.table_height(len(table), 320),
        placeholder="",
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "Ticket": st.column_config.TextColumn("Ticket"),
            "Fällig am": widgets.date_column("Fällig am"),
            "Erledigt am": widgets.date_column("Erledigt am"),
            "Zusage bis": widgets.date_column("Zusage bis"),
            "Arbeitstage": st.column_config.NumberColumn(
                "Arbeitstage", help="Arbeitstage von Eingang bis Erledigung (offen: leer)"
            ),
        },
        key="rep_breaches",
    )
    drilldown.open_selected_ticket(event, tickets["ticket_id"])


def _record_form(case: pd.Series, history: pd.DataFrame, viewer: Viewer) -> None:
    month = _month(case["month"])
    st.subheader("Gespräch erfassen")
    st.caption(
        "Erfasst werden nur das Datum des geführten Gesprächs und wer es einträgt – "
        "keine Angaben zur Person oder zum Inhalt."
    )
    with st.form("rep_form", border=True):
        left, right = st.columns([1, 1], vertical_alignment="bottom")
        held_on = left.date_input(
            "Gespräch geführt am", value=dt.date.today(), format="DD.MM.YYYY", key="rep_held_on"
        )
        submitted = right.form_submit_button("Gespräch speichern", type="primary", key="rep_save")
    if submitted:
        try:
            serving.record_conversation(viewer, case["worker"], month, held_on)
        except repeats.InvalidConversation as exc:
            st.error(str(exc))
        except serving.RecordsBusy as exc:
            st.warning(str(exc))
        else:
            st.session_state[SAVED_KEY] = (
                f"Gespräch mit {case['worker']} ({month_label(month)}) am {date(held_on)} "
                "gespeichert."
            )
            st.rerun()
    if SAVED_KEY in st.session_state:
        # after the rerun that shows the new state; the toast is seen wherever one scrolled
        message = st.session_state.pop(SAVED_KEY)
        st.success(message, icon=":material/check_circle:")
        st.toast(message, icon=":material/check_circle:")
    mine = repeats.case_history(history, case["worker"], month)
    if not mine.empty:
        st.caption("Alle erfassten Gespräche zu diesem Fall (neueste Erfassung zuerst)")
        st.dataframe(
            pd.DataFrame(
                {
                    "Gespräch am": mine["held_on"],
                    "Erfasst von": mine["recorded_by"],
                    "Erfasst am": mine["recorded_at"],
                }
            ),
            hide_index=True,
            column_config={
                "Gespräch am": widgets.date_column("Gespräch am"),
                "Erfasst am": st.column_config.DatetimeColumn(
                    "Erfasst am", format="DD.MM.YYYY HH:mm"
                ),
            },
            key="rep_history",
        )


def _figures(status: pd.DataFrame) -> None:
    """How many repeat cases, with and without a conversation, and in a row."""
    cols = st.columns(4)
    cols[0].metric("Wiederholungsfälle", number(len(status)), icon=":material/warning:")
    cols[1].metric(
        "Gespräch ausstehend", number(status["pending"].sum()), icon=":material/pending:"
    )
    cols[2].metric("Gespräch geführt", number((~status["pending"]).sum()), icon=":material/forum:")
    cols[3].metric(
        "In Folge",
        number((status["streak"] >= 2).sum()),
        icon=":material/repeat:",
        help="Wiederholungsfälle, deren Person auch im Vormonat einer war",
    )


def _case(selection: serving.Selection, scoped: serving.Selection, status, history) -> None:
    """One chosen case: its breaches and, for team leaders, the conversation form."""
    options = _case_options(status)
    chosen = st.selectbox(
        "Fall",
        list(options),
        format_func=lambda k: _case_label(status.iloc[options[k]]),
        key="rep_case",
    )
    case = status.iloc[options[chosen]]
    audit_view("Wiederholte Fristüberschreitungen", scoped, Person=case["worker"])
    _breaches(scoped, case)
    if may(selection.viewer, "record_conversation"):
        _record_form(case, history, selection.viewer)


def _scoped(selection: serving.Selection) -> tuple[serving.Selection, bool]:
    """The sidebar's selection (or the 12 months up to the Stichtag when ticked) and whether
    the pending cases of every month join it."""
    left, right = st.columns(2)
    with_pending = left.checkbox(
        "mit allen ausstehenden Gesprächen",
        value=True,
        key="rep_pending",
        help="Außer den Fällen des Zeitraums auch jeder Fall früherer Monate, "
        "dessen Gespräch noch aussteht.",
    )
    last12 = right.checkbox(
        "letzte 12 Monate",
        key="rep_last12",
        help="Statt des Zeitraums der Seitenleiste die zwölf Monate bis zum Monat des Stichtags.",
    )
    scoped = serving.Selection(
        selection.as_of,
        repeats.scope(selection.filters, selection.as_of, last12=last12),
        selection.viewer,
    )
    return scoped, with_pending


def _cases(scoped: serving.Selection, with_pending: bool, threshold: int, history):
    """The period's cases with their conversations, and the pending ones of any month."""
    cases = serving.fetch(repeats.repeat_cases_with_streak, scoped, threshold=threshold)
    status = repeats.merge_status(cases, history)
    if not with_pending:
        return repeats.worklist(status, status.iloc[0:0])
    every_month = replace(scoped, filters=replace(scoped.filters, period=None))
    everything = serving.fetch(repeats.repeat_cases_with_streak, every_month, threshold=threshold)
    return repeats.worklist(status, repeats.merge_status(everything, history))


selection = sidebar.selection()
st.title("Wiederholte Fristüberschreitungen")
with widgets.guard():
    threshold = serving.config().rules.repeat_threshold
    scoped, with_pending = _scoped(selection)
    st.caption(
        f"{sidebar.period_label(scoped)}"
        + (" und alle ausstehenden Gespräche früherer Monate" if with_pending else "")
        + f", Monate nach Fälligkeit; Stand {date(selection.as_of)}. "
        f"Wiederholungsfall: mindestens {number(threshold)} Fristüberschreitungen "
        "(verspätet, Zusage nicht eingehalten, überfällig) einer Person in einem Monat. "
        "Je Person gruppiert, die längste Folge von Monaten zuerst; ein Klick auf eine Zeile "
        "öffnet den Fall."
    )
    history = serving.records(repeats.conversations, selection.viewer)
    status = _cases(scoped, with_pending, threshold, history)
    if status.empty:
        st.info(
            "Keine wiederholten Fristüberschreitungen für diese Auswahl – "
            "niemand erreicht in einem Monat die Schwelle, und kein Gespräch steht aus."
        )
    else:
        _figures(status)
        if status["month"].nunique() > 1:
            st.plotly_chart(
                charts.repeat_cases(repeats.per_month(status)), width="stretch", key="rep_chart"
            )
        _overview(status)
        downloads(
            repeats.export_frame(status),
            f"wiederholungsfaelle-{selection.as_of:%Y-%m-%d}",
            key="rep_download",
        )
        st.divider()
        _case(selection, scoped, status, history)
