"""Wiedervorlage: every ticket open at the Stichtag, with a traffic light, per responsible."""

import pandas as pd
import streamlit as st

from dashboard import serving
from dashboard.access.viewer import may
from dashboard.core.format import date, number, plain
from dashboard.core.labels import STATUS_COLORS
from dashboard.core.rules import STATUS_LABELS
from dashboard.queries import followup
from dashboard.ui import drilldown, sidebar, widgets
from dashboard.ui.downloads import audit_view, downloads

# Traffic light per code: the overdue colour of STATUS_COLORS for breaches, the
# open_extended colour for a running extension, orange / yellow / grey-green in between.
LIGHT_COLORS = {
    "overdue": STATUS_COLORS["overdue"],
    "today": "#ef6c00",
    "next_workday": "#fdd835",
    "extended": STATUS_COLORS["open_extended"],
    "later": "#a5c4a0",
}
LIGHT_ICONS = {
    "overdue": ":material/error:",
    "today": ":material/today:",
    "next_workday": ":material/event:",
    "extended": ":material/update:",
    "later": ":material/schedule:",
}
# The Ampel column is a coloured label per row, drawn by the table grid itself (a styled
# table, pandas Styler, renders far too slowly for the thousands of open tickets of a large
# office, and emoji need fonts offices may lack).
ALL = "Alle Zuständigen"


def _lights(summary: pd.Series, next_workday: str) -> None:
    """The open tickets per traffic light."""
    cols = st.columns(6)
    cols[0].metric("Offen", number(summary["tickets"]), icon=":material/inbox:")
    for col, (light, key) in zip(
        cols[1:],
        [("overdue", "overdue"), ("today", "today"), ("next_workday", "next_workday_due"),
         ("extended", "extended"), ("later", "later")],
        strict=True,
    ):  # fmt: skip
        col.metric(
            followup.LIGHT_LABELS[light],
            number(summary[key]),
            icon=LIGHT_ICONS[light],
            help=f"morgen = nächster Arbeitstag, {next_workday}"
            if light == "next_workday"
            else None,
        )


MISSING = {
    "missing_notice": ("Hinweis", "Fällig oder überfällig, Kunde nicht informiert (A3)"),
    "missing_verbis": ("VerBIS", "Kunde informiert, aber ohne VerBIS-Vermerk (A3)"),
    "missing_callback": ("Rückruf", "Rückruf oder Termin: Kunde noch nicht angerufen (A5)"),
}


def _light_column() -> st.column_config.Column:
    """The traffic light as a coloured label in its cell (drawn by the grid: fast at scale)."""
    return st.column_config.MultiselectColumn(
        "Ampel",
        options=list(LIGHT_COLORS),
        color=list(LIGHT_COLORS.values()),
        format_func=followup.LIGHT_LABELS.get,
        pinned=True,
    )


def _choose(listing: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """The person and traffic lights chosen above the list; their tickets."""
    counts = dict(zip(people["responsible"], people["tickets"], strict=True))
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    person = left.selectbox(
        "Zuständig",
        [ALL, *people["responsible"]],
        format_func=lambda p: p if p == ALL else f"{p} ({number(counts[p])} offen)",
        key="wv_person",
    )
    shown = listing if person == ALL else listing[listing["responsible"] == person]
    per_light = shown["light"].value_counts()
    lights = right.pills(
        "Ampel",
        list(LIGHT_COLORS),
        selection_mode="multi",
        format_func=lambda light: (
            f"{followup.LIGHT_LABELS[light]} ({number(per_light.get(light, 0))})"
        ),
        key="wv_lights",
        help="Nichts gewählt: alle Ampelfarben.",
    )
    if lights:
        shown = shown[shown["light"].isin(lights)]
    if person != ALL:
        oldest = people.set_index("responsible").loc[person]
        st.caption(
            f"Ältestes offenes Ticket: {oldest['oldest_ticket']}, eingegangen am "
            f"{date(pd.Timestamp(oldest['oldest_receipt']).date())} "
            f"({number(oldest['oldest_working_days'])} Arbeitstage offen)."
        )
    return shown


def _listing(listing: pd.DataFrame, people: pd.DataFrame) -> None:
    """The open tickets of everyone or of one responsible, most urgent first, in full."""
    shown = _choose(listing, people)
    # the note on a substitute's row says whose ticket it is (A4, A8)
    note = (" (Vertretung für " + shown["substitute_for"] + ")").fillna("")
    missing = {
        label: shown[code].map({True: "fehlt", False: ""}) for code, (label, _) in MISSING.items()
    }
    # What to act on first, visible without scrolling at 1366 px; dates and team after.
    table = pd.DataFrame(
        {
            "Ampel": shown["light"].map(lambda light: [light]),
            "Ticket": shown["ticket_id"],
            "Fällig am": shown["due_date"],
            "Status": shown["status"].map(STATUS_LABELS),
            "Zuständig": shown["responsible"] + note,
            **missing,
            "Zusage bis": shown["commitment_date"],
            "AT offen": shown["working_days_open"],
            "Team": shown["team"],
            "Eingang": shown["receipt_date"],
        }
    )
    if shown.empty:
        st.info("Keine offenen Tickets mit dieser Ampel.")
        return
    if st.toggle(
        "Druckansicht", key="wv_print", help="Die Liste als einfache Tabelle, zum Drucken (Strg+P)."
    ):
        _printable(table, shown)
        return
    st.caption(drilldown.OPEN_HINT)
    event = st.dataframe(
        table,
        hide_index=True,
        placeholder="",
        height="content",  # the whole list: the page scrolls, not a box inside it
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "Ampel": _light_column(),
            "Ticket": st.column_config.TextColumn("Ticket"),
            # wide enough for "Name (Vertretung für Name)" and the longest open status at
            # 1366 px: the grid sizes columns by their first rows only
            "Zuständig": st.column_config.TextColumn("Zuständig", width=250),
            "Status": st.column_config.TextColumn("Status", width=165),
            "Fällig am": widgets.date_column("Fällig am"),
            "Zusage bis": widgets.date_column("Zusage bis"),
            "Eingang": widgets.date_column("Eingang"),
            "AT offen": st.column_config.NumberColumn(
                "AT offen", help="Arbeitstage seit Eingang bis zum Stichtag"
            ),
            **{
                label: st.column_config.TextColumn(label, help=help_text)
                for label, help_text in MISSING.values()
            },
        },
        key="wv_list",
    )
    drilldown.open_selected_ticket(event, shown["ticket_id"])


def _printable(table: pd.DataFrame, shown: pd.DataFrame) -> None:
    """A plain table of the chosen tickets for paper: no canvas, no scrolling, no links."""
    printed = table.assign(
        Ampel=shown["light_label"].to_numpy(),
        Ticket=shown["ticket_id"].to_numpy(),
        **{c: table[c].map(lambda d: date(pd.Timestamp(d).date()) if pd.notna(d) else "")
           for c in ("Fällig am", "Zusage bis", "Eingang")},
    )  # fmt: skip
    st.caption(f"{number(len(printed))} Tickets · zum Drucken Strg+P.")
    # on paper only the list: no sidebar, no navigation
    st.html("<style>@media print { [data-testid='stSidebar'] { display: none; } }</style>")
    st.table(printed.set_index("Ampel"))


PEOPLE_COLUMNS = [
    "responsible", "tickets", "overdue", "today", "next_workday", "extended", "later",
    "as_substitute", "oldest_link", "oldest_receipt", "oldest_working_days",
]  # fmt: skip


def _per_person(people: pd.DataFrame, next_workday: str) -> None:
    """Open tickets per responsible and traffic light, with the oldest ticket (A1)."""
    overview = people.assign(oldest_link=people["oldest_ticket"].map(widgets.ticket_url))
    st.dataframe(
        overview,
        hide_index=True,
        height="content",
        column_order=PEOPLE_COLUMNS,
        column_config={
            "responsible": st.column_config.TextColumn("Zuständig"),
            "tickets": st.column_config.NumberColumn("Offen"),
            "overdue": st.column_config.NumberColumn("überfällig"),
            "today": st.column_config.NumberColumn("heute"),
            "next_workday": st.column_config.NumberColumn(
                "morgen", help=f"fällig am nächsten Arbeitstag, {next_workday}"
            ),
            "extended": st.column_config.NumberColumn(
                "verlängert", help="offen, Frist durch gültige Zusage verlängert"
            ),
            "later": st.column_config.NumberColumn("später"),
            "as_substitute": st.column_config.NumberColumn(
                "davon Vertretung", help="Tickets abwesender Kolleginnen und Kollegen"
            ),
            "oldest_link": widgets.ticket_column("Ältestes Ticket"),
            "oldest_receipt": widgets.date_column("Eingang"),
            "oldest_working_days": st.column_config.NumberColumn(
                "Arbeitstage offen", help="Alter des ältesten offenen Tickets (A1)"
            ),
        },
        key="wv_people",
    )


def _open_tickets(selection: serving.Selection, summary: pd.Series) -> None:
    """Lights, the list and the per-person table of the open tickets, with downloads."""
    next_workday = date(pd.Timestamp(summary["next_workday"]).date())
    _lights(summary, next_workday)
    people = serving.fetch(followup.by_responsible, selection)
    listing = serving.fetch(followup.followup_list, selection)
    audit_view("Wiedervorlage", selection)
    tab_list, tab_people = st.tabs(["Liste", "Je Zuständige/r"])
    with tab_list:
        _listing(listing, people)
    with tab_people:
        _per_person(people, next_workday)
    downloads(
        followup.export_frame(listing),
        f"wiedervorlage-{selection.as_of:%Y-%m-%d}",
        key="wv_download",
    )


selection = sidebar.selection()
st.title("Wiedervorlage")
with widgets.guard():
    summary = serving.fetch(followup.summary, selection).iloc[0]
    st.caption(
        f"Offene Tickets am Stichtag {date(selection.as_of)}, unabhängig vom gewählten "
        f"Zeitraum; Bereich und Team wie gewählt. Abwesende: Tickets stehen bei der Vertretung."
    )
    if may(selection.viewer, "absence_warnings"):
        # A4: absences the TL must act on (no substitute; tickets due in one starting soon)
        warnings = serving.fetch(followup.absence_warnings, selection)
        texts = [followup.warning_text(w) for _, w in warnings.iterrows()]
        if len(texts) > 3:  # many absences: one line, the details folded
            st.warning(f"{len(texts)} Abwesenheiten brauchen eine Regelung (A4).",
                       icon=":material/person_off:")  # fmt: skip
            with st.expander("Abwesenheiten anzeigen"):
                st.markdown("\n".join(f"- {plain(t)}" for t in texts))
        else:
            for text in texts:
                st.warning(plain(text), icon=":material/person_off:")
    if summary["tickets"] == 0:
        st.info("Keine offenen Tickets für diese Auswahl – die Wiedervorlage ist leer.")
    else:
        _open_tickets(selection, summary)
