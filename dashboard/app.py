"""Entry point of the dashboard: page config, sign-in and the viewer's navigation, nothing else."""

from pathlib import Path

import streamlit as st

from dashboard.access.viewer import landing_page, pages_for
from dashboard.core.storage import private_files
from dashboard.ui import auth

PAGES = Path(__file__).resolve().parent.parent / "pages"

# Section -> (file stem, title, icon); each viewer gets only the pages of their role.
SECTIONS = {
    "Controlling": [
        ("uebersicht", "Übersicht", ":material/dashboard:"),
        ("teams", "Teams", ":material/groups:"),
        ("mitarbeitende", "Mitarbeitende", ":material/person:"),
        ("wiedervorlage", "Wiedervorlage", ":material/event_note:"),
        ("regelverstoesse", "Regelverstöße", ":material/rule:"),
    ],
    "Werkzeuge": [
        ("wiederholungen", "Wiederholte Fristüberschreitungen", ":material/repeat:"),
        ("stichproben", "Stichproben", ":material/fact_check:"),
        ("monatsbericht", "Monatsbericht", ":material/summarize:"),
    ],
    "Daten": [
        ("ticket", "Ticket", ":material/search:"),
        ("daten", "Daten", ":material/database:"),
        ("protokoll", "Zugriffsprotokoll", ":material/policy:"),
    ],
}

private_files()  # records, backups, uploads: 0600
st.set_page_config(page_title="Ticket-Controlling", page_icon=":material/checklist:", layout="wide")
viewer = auth.signed_in()
allowed = pages_for(viewer)
landing = landing_page(viewer)
navigation = st.navigation(
    {
        section: [
            st.Page(
                PAGES / f"{stem}.py",
                title=title,
                icon=icon,
                url_path=stem,
                default=stem == landing,
            )
            for stem, title, icon in pages
            if stem in allowed
        ]
        for section, pages in SECTIONS.items()
        if any(stem in allowed for stem, _, _ in pages)
    }
)
st.sidebar.caption(f"Angemeldet: {viewer.label}")
navigation.run()
