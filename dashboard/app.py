"""Entry point of the dashboard: page config and navigation, nothing else."""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent.parent / "pages"

st.set_page_config(page_title="Ticket-Controlling", page_icon="📋", layout="wide")
navigation = st.navigation(
    [st.Page(PAGES / "uebersicht.py", title="Übersicht", icon="📊", default=True)]
)
navigation.run()
