"""Zugriffsprotokoll: for the staff council and the data-protection officer, who looked at
what and who may see what; no ticket data."""

import streamlit as st

from dashboard import serving
from dashboard.ui import audit, auth, widgets

viewer = auth.current()
st.title("Zugriffsprotokoll")
st.caption(
    "Für Personalrat und Datenschutz: wer wann personenbezogene Auswertungen angesehen, "
    "heruntergeladen oder erfasst hat, und wer was sehen darf. Ticketdaten sind hier nicht "
    "zu sehen."
)
with widgets.guard():
    log, rights = st.tabs(["Protokoll", "Berechtigungen"])
    with log:
        audit.access_log(viewer)
    with rights:
        rights = serving.access_list(viewer)
        if rights.empty:
            st.info("Keine Benutzerdatei eingerichtet (auth.users_file): niemand ist freigegeben.")
        else:
            st.caption("Aus der Benutzerdatei; Änderungen gelten ab der nächsten Anmeldung.")
            st.dataframe(rights, hide_index=True, key="access_list")
