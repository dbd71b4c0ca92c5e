"""Übersicht: headline figures per Bereich (placeholder until the pages issue)."""

import streamlit as st

from dashboard import data
from dashboard.format import number, percent

st.title("Übersicht")
as_of = data.config().reference_date()
st.caption(f"Stichtag {as_of:%d.%m.%Y}")
frame = data.headline(as_of)
if frame.empty:
    st.info("Noch keine Tickets geladen. Exporte lassen sich mit `ticket-controlling load` laden.")
else:
    columns = st.columns(len(frame))
    for column, row in zip(columns, frame.itertuples(), strict=True):
        column.metric(f"{row.area}: fristgerecht", percent(row.on_time_rate))
        column.metric(f"{row.area}: regelkonform", percent(row.compliant_rate))
        column.metric(f"{row.area}: Tickets", number(row.tickets))
