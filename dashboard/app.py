"""Entry point of the dashboard: page config and navigation, nothing else."""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent.parent / "pages"


def _page(file: str, title: str, icon: str, **kwargs) -> st.Page:
    return st.Page(PAGES / file, title=title, icon=icon, url_path=Path(file).stem, **kwargs)


st.set_page_config(page_title="Ticket-Controlling", page_icon=":material/checklist:", layout="wide")
navigation = st.navigation(
    {
        "Controlling": [
            _page("uebersicht.py", "Übersicht", ":material/dashboard:", default=True),
            _page("teams.py", "Teams", ":material/groups:"),
            _page("mitarbeitende.py", "Mitarbeitende", ":material/person:"),
            _page("wiedervorlage.py", "Wiedervorlage", ":material/event_note:"),
        ],
        "Werkzeuge": [
            _page("wiederholungen.py", "Wiederholte Fristüberschreitungen", ":material/repeat:"),
            _page("stichproben.py", "Stichproben", ":material/fact_check:"),
            _page("monatsbericht.py", "Monatsbericht", ":material/summarize:"),
        ],
        "Daten": [
            _page("ticket.py", "Ticket", ":material/search:"),
            _page("daten.py", "Daten", ":material/database:"),
        ],
    }
)
navigation.run()
