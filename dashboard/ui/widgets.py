"""Small layout pieces the pages share: the error guard, column configs, ticket links."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from urllib.parse import quote

import pandas as pd
import streamlit as st

from dashboard.core import format

log = logging.getLogger(__name__)

EMPTY_DATABASE = (
    "Noch keine Tickets geladen. Exporte lassen sich mit `ticket-controlling load` laden."
)
# What management reads where the small-cell rule (dashboard.access.cells) hid figures.
SMALL_CELLS = (
    "„–“: ausgeblendet, weil weniger als 5 Mitarbeitende dahinterstehen oder sich die Zahl "
    "sonst aus den Summen errechnen ließe."
)
SMALL_SELECTION = (
    "Hinter dieser Auswahl stehen weniger als 5 Mitarbeitende; ihre Zahlen werden in dieser "
    "Rolle nicht gezeigt, damit niemand einzeln erkennbar ist. Bitte mehr Teams oder einen "
    "längeren Zeitraum wählen."
)
ROW_PX, HEADER_PX = 35, 38  # st.dataframe's row and header heights


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Show a German message instead of a traceback when something fails."""
    try:
        yield
    except Exception:  # the user gets a message, the log the details
        log.exception("page failed")
        st.error(
            "Die Ansicht konnte nicht berechnet werden. Bitte die Seite neu laden; "
            "wenn der Fehler bleibt, die IT-Betreuung informieren."
        )


def hidden_cells(*frames) -> bool:
    """Whether the small-cell rule hid a figure of these frames (then say so below them)."""
    return any("suppressed" in f and bool(f["suppressed"].any()) for f in frames)


def all_hidden(frame) -> bool:
    """Whether the small-cell rule hid every row of the frame (a selection too small)."""
    return "suppressed" in frame and not frame.empty and bool(frame["suppressed"].all())


def small_cells_note(*frames) -> None:
    """The caption that explains the "–" of hidden cells, when there are any."""
    if hidden_cells(*frames):
        st.caption(SMALL_CELLS)


def ticket_url(ticket_id: str) -> str:
    """Link to the Ticket page for one ticket (used in every table's ID column)."""
    return f"/ticket?id={quote(str(ticket_id))}"


def ticket_column(label: str = "Ticket") -> st.column_config.LinkColumn:
    """A column of ticket_url links that shows the ticket ID."""
    return st.column_config.LinkColumn(label, display_text=r"/ticket\?id=(.*)")


def date_column(label: str) -> st.column_config.DateColumn:
    """A date column shown as TT.MM.JJJJ."""
    return st.column_config.DateColumn(label, format="DD.MM.YYYY")


def percent_column(label: str) -> st.column_config.NumberColumn:
    """A rate (0..1) shown as a percentage ('87,5 %' when the table goes through `dataframe`)."""
    return st.column_config.NumberColumn(label, format="percent")


def _format(config) -> str | None:
    return (config.get("type_config") or {}).get("format") if isinstance(config, dict) else None


def dataframe(data: pd.DataFrame, *, column_config: dict | None = None, **kwargs):
    """st.dataframe with rates and fractions written as everywhere else: '87,5 %', '7,6'.

    Streamlit's own "percent" format is English with two decimals, and "localized" follows
    the browser's language; these columns keep their numbers (they still sort as numbers)
    and get their text from a pandas Styler.
    """
    column_config = dict(column_config or {})
    rates = [c for c in data.columns if _format(column_config.get(c)) == "percent"]
    # fractional numbers (a 90th percentile of 7.6 days) with one decimal and a comma
    fractions = [
        c for c in data.columns
        if c not in rates and pd.api.types.is_float_dtype(data[c])
        and (_format(column_config.get(c)) == "localized"
             or (c not in column_config and not (data[c].dropna() % 1 == 0).all()))
    ]  # fmt: skip
    for column in [*rates, *fractions]:
        if column in column_config:
            config = dict(column_config[column])
            config["type_config"] = {**config["type_config"], "format": None}
            column_config[column] = config
    if rates or fractions:
        missing = kwargs.get("placeholder", "–")
        data = data.style.format(format.percent, subset=rates, na_rep=missing).format(
            lambda v: format.number(v, 1), subset=fractions, na_rep=missing
        )
    return st.dataframe(data, column_config=column_config, **kwargs)


def table_height(rows: int, most: int) -> int:
    """Pixel height that fits `rows` table rows, at most `most` (then the table scrolls)."""
    return min(HEADER_PX + ROW_PX * rows, most)


def badge(text: str, color: str, text_color: str = "black") -> str:
    """An HTML label on a coloured background (for st.markdown with unsafe_allow_html)."""
    return (
        f"<span style='background:{color};color:{text_color};padding:1px 8px;"
        f"border-radius:4px;white-space:nowrap'>{text}</span>"
    )


# The columns of the per-worker rate tables on Teams and Mitarbeitende.
RATE_COLUMNS = {
    "worker": st.column_config.TextColumn("Mitarbeiter/in"),
    "tickets": st.column_config.NumberColumn("Tickets"),
    "decided": st.column_config.NumberColumn(
        "Entschieden", help="Erledigt oder Frist (bzw. Zusage) abgelaufen"
    ),
    "on_time_rate": percent_column("Fristgerecht"),
    "compliant_rate": percent_column("Regelkonform"),
    "breaches": st.column_config.NumberColumn("Fristverstöße"),
}
