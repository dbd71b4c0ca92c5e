"""From a figure to the tickets behind it: links and chart selections to the list page.

Every card and chart that counts tickets leads to the page "Regelverstöße" filtered to those
tickets; each row there opens the Ticket page. Both move in the same tab (`st.page_link`,
`st.switch_page`), so the session stays; the shared filters travel in the URL as the
sidebar writes them (`stichtag`, `von`, `bis`, `monat`, `bereich`, `teams`), the list's own
ones beside them (`regel`, `status`, `abwesenheit`, `verlaengert`, `person`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import serving
from dashboard.access.viewer import pages_for

# As the navigation registers them (dashboard/app.py): absolute paths of the page files.
_PAGES = Path(__file__).resolve().parents[2] / "pages"
LIST_PAGE = _PAGES / "regelverstoesse.py"
TICKET_PAGE = _PAGES / "ticket.py"
BREACH_STATUSES = ("late", "extended_missed", "overdue")
# The findings a breach of the deadline shows as (RULES.md Findings).
BREACH_FINDINGS = ("late_without_notice", "commitment_missed")


def available(selection: serving.Selection) -> bool:
    """Whether the viewer's role has the list page (management sees no single tickets)."""
    return selection.viewer is not None and "regelverstoesse" in pages_for(selection.viewer)


def params(
    selection: serving.Selection,
    *,
    month: dt.date | None = None,
    period: tuple[dt.date, dt.date] | None = None,
    team: str | None = None,
    **extra: str | Iterable[str] | None,
) -> dict[str, str]:
    """URL parameters of the list page: the selection's filters, narrowed to a month, a
    range of months or a team, plus `extra`."""
    filters = selection.filters
    start, end = period or filters.period or (selection.as_of, selection.as_of)
    if month is not None:
        start = end = month
    out = {
        "stichtag": selection.as_of.isoformat(),
        "von": f"{start:%Y-%m}",
        "bis": f"{end:%Y-%m}",
        "monat": filters.month_of,
        "bereich": filters.areas[0] if len(filters.areas) == 1 else "Alle",
        "teams": team if team is not None else "|".join(filters.teams),
    }
    for key, value in extra.items():
        if value is None:
            continue
        out[key] = value if isinstance(value, str) else ",".join(value)
    return out


def link(selection: serving.Selection, label: str = "Tickets anzeigen", **kwargs) -> None:
    """A same-tab link to the list page with the given narrowing (see `params`)."""
    if available(selection):
        st.page_link(
            LIST_PAGE,
            label=label,
            icon=":material/list_alt:",
            query_params=params(selection, **kwargs),
        )


def _selected(event, kind: str) -> list:
    # A widget without selection events (on_select="ignore") returns an element, not a dict.
    if not isinstance(event, Mapping):
        return []
    return list(event.get("selection", {}).get(kind, []))


def follow_chart(selection: serving.Selection, event, to_params) -> None:
    """Open the list for the clicked point of a chart: `to_params(point) -> kwargs`."""
    points = _selected(event, "points")
    if points and available(selection):
        kwargs = to_params(points[0])
        if kwargs is not None:
            st.switch_page(LIST_PAGE, query_params=params(selection, **kwargs))


def follow_row(selection: serving.Selection, event, to_params) -> None:
    """Open the list for the selected row of a table: `to_params(row number) -> kwargs`."""
    rows = _selected(event, "rows")
    if rows and available(selection):
        st.switch_page(LIST_PAGE, query_params=params(selection, **to_params(rows[0])))


def month_of_label(label: str) -> dt.date | None:
    """'11.2026' (a chart's month axis) -> 01.11.2026; None when it is no such label."""
    try:
        return dt.datetime.strptime(str(label), "%m.%Y").date()
    except ValueError:
        return None


OPEN_HINT = "Eine Zeile anklicken öffnet das Ticket (im selben Fenster)."


def open_selected_ticket(event, ticket_ids: pd.Series) -> None:
    """Open the Ticket page for the row selected in a table (same tab, same session)."""
    rows = _selected(event, "rows")
    if rows:
        ticket_id = str(ticket_ids.iloc[rows[0]])
        query = {k: v for k, v in st.query_params.to_dict().items()
                 if k in ("stichtag", "von", "bis", "monat", "bereich", "teams")}  # fmt: skip
        st.switch_page(TICKET_PAGE, query_params={**query, "id": ticket_id})
