"""The access log as the administration and the staff council read it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import serving
from dashboard.access.viewer import Viewer
from dashboard.ui.downloads import downloads


def access_log(viewer: Viewer) -> None:
    """The access log, newest first, with the check of its chain and downloads."""
    frame, check = serving.audit_log(viewer)
    if frame.empty:
        st.info("Das Protokoll ist noch leer.")
        return
    if check.intact:
        st.success("Prüfkette in Ordnung: kein Eintrag wurde nachträglich geändert oder entfernt.")
    else:
        st.error(
            f"Prüfkette unterbrochen bei Eintrag Nr. {check.broken_at} ({check.reason}): "
            "das Protokoll wurde außerhalb des Dashboards geändert. Bitte die IT-Sicherheit "
            "informieren."
        )
    st.caption(
        "Wer wann personenbezogene Auswertungen angesehen, Dateien heruntergeladen, "
        "Stichproben gezogen oder geprüft, Gespräche erfasst oder Daten geladen hat; "
        "neueste zuerst. Einträge werden nur angefügt, nie geändert oder gelöscht."
    )
    shown = pd.DataFrame(
        {
            "Nr.": frame["seq"],
            "Zeitpunkt": frame["logged_at"],
            "Wer": frame["who"],
            "Aktion": frame["action"],
            "Einzelheiten": frame["detail"],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        key="audit_table",
        column_config={
            "Zeitpunkt": st.column_config.DatetimeColumn("Zeitpunkt", format="DD.MM.YYYY HH:mm:ss")
        },
    )
    downloads(shown, "protokoll", key="audit_download")
