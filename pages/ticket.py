"""Ticket: one ticket's timeline and how its verdict was reached, to explain it to the worker."""

import pandas as pd
import streamlit as st

from dashboard import serving
from dashboard.core.format import date, plain
from dashboard.core.rules import STATUS_LABELS
from dashboard.queries import explain
from dashboard.ui import sidebar, widgets
from dashboard.ui.downloads import audit_view

OUTCOME_COLORS = {
    explain.MET: "green",
    explain.NOT_MET: "red",
    explain.PENDING: "orange",
    explain.NOT_APPLICABLE: "gray",
}

# Streamlit's named badge colours closest to STATUS_COLORS (no HTML from data on this page).
BADGE_COLORS = {
    "on_time": "green", "extended_kept": "green", "extended_missed": "orange", "late": "red",
    "open": "gray", "open_extended": "gray", "overdue": "red",
}  # fmt: skip

selection = sidebar.selection()
st.title("Ticket")

with widgets.guard():
    field, header = st.columns([1, 2], vertical_alignment="bottom")
    ticket_id = field.text_input(
        "Ticket-ID",
        value=st.query_params.get("id", ""),
        key="ticket_id",
        placeholder="z. B. T-2026-0001234",
    ).strip()
    if ticket_id:
        # keep the URL shareable: /ticket?id=… opens the same ticket
        st.query_params["id"] = ticket_id
    if not ticket_id:
        st.info("Bitte eine Ticket-ID eingeben, z. B. T-2026-0001234.")
    else:
        facts = explain.facts_record(
            serving.fetch(explain.ticket_facts, selection, ticket_id=ticket_id)
        )
        if facts is None:
            st.warning(
                f"Kein Ticket mit der ID „{plain(ticket_id)}“ gefunden. Bitte die ID prüfen; "
                "Tickets außerhalb des gewählten Bereichs oder Teams werden nicht angezeigt."
            )
        elif facts["status"] is None and facts["receipt_date"] < serving.config().rules.valid_from:
            st.info(
                f"Ticket {plain(facts['ticket_id'])} ist am {date(facts['receipt_date'])} "
                "eingegangen, vor Gültigkeit der Arbeitsanweisung "
                f"({date(serving.config().rules.valid_from)}) – es wird nicht bewertet."
            )
        elif facts["status"] is None:
            st.info(
                f"Ticket {plain(facts['ticket_id'])} ist am {date(facts['receipt_date'])} "
                f"eingegangen, nach dem Stichtag {date(selection.as_of)} – noch nicht "
                "berücksichtigt. Für eine Bewertung einen späteren Stichtag wählen."
            )
        else:
            audit_view("Ticket", selection, Ticket=facts["ticket_id"])
            status = facts["status"]
            # Everything from the data is shown as text: an ID or name with Markdown or
            # HTML in it stays visible as typed and never becomes a link or an image.
            header.markdown(
                " · ".join(plain(facts[k]) for k in ("ticket_id", "area", "team", "worker"))
                + f" :{BADGE_COLORS[status]}-badge[{STATUS_LABELS[status]}]"
            )
            reason = explain.status_reason(facts, selection.as_of)
            # dates and fixed words only, no text from the data
            getattr(st, explain.status_tone(status))(reason)

            cols = st.columns(4)
            cols[0].metric("Eingang", date(facts["receipt_date"]))
            cols[1].metric("Fristende", date(facts["due_date"]))
            cols[2].metric("Erledigt", date(facts["completion_date"]) or "offen")
            if facts["completion_date"] is not None:
                cols[3].metric(
                    "Arbeitstage bis Erledigung",
                    str(facts["working_days"]),
                    help="Gezählt ab dem Tag nach Eingang bis einschließlich Erledigung.",
                )
            else:
                cols[3].metric(
                    "Arbeitstage offen",
                    str(facts["working_days_to_as_of"]),
                    help="Gezählt ab dem Tag nach Eingang bis einschließlich Stichtag.",
                )

            days = serving.fetch(explain.counted_days, selection, ticket_id=facts["ticket_id"])
            left, right = st.columns([3, 2])
            with left:
                st.subheader("Ablauf")
                timeline = explain.timeline_reasons(facts, facts["deadline_days"], selection.as_of)
                st.markdown(
                    "\n".join(
                        f"- {plain(line)}" for line in timeline + explain.counting_sentences(days)
                    )
                )
            with right:
                st.subheader("Prüfungen A5–A7")
                st.markdown(
                    "\n".join(
                        f"- **{check}:** :{OUTCOME_COLORS[outcome]}[{outcome}] – {reason}"
                        for check, outcome, reason in explain.check_reasons(facts, selection.as_of)
                    )
                )

            with st.expander(f"Gezählte Tage ({len(days)} Kalendertage)"):
                table = pd.DataFrame(
                    {
                        "Tag": days["day"],
                        "Wochentag": days["weekday"],
                        "Arbeitstag Nr.": days["working_day"],
                        "nicht gezählt, weil": days["off_reason"].fillna(""),
                        "Hinweis": days["note"],
                    }
                )
                st.dataframe(
                    table,
                    hide_index=True,
                    height=widgets.table_height(len(table), 360),
                    placeholder="–",
                    column_config={"Tag": widgets.date_column("Tag")},
                    key="ticket_days",
                )

            loaded = facts["loaded_at"]
            st.caption(
                f"Quelle: Ladevorgang {facts['load_id']} (Datei {plain(facts['file_name'])}"
                + (f", geladen am {date(loaded.date())}" if loaded else "")
                + f"), Datensatz {facts['source_record']}. Stand: Stichtag "
                f"{date(selection.as_of)}; Ereignisse danach sind noch nicht berücksichtigt."
            )
