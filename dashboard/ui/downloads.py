"""Every file a viewer takes away: CSV/XLSX bytes of a table, audited download buttons,
and the audit record of views of personal figures.

Tables leave through `downloads(frame, name, key)`; the monthly report's prepared files
through `download_file`. Both write the audit entry when the file is made.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard import serving
from dashboard.access import privacy
from dashboard.core import format, records
from dashboard.ui import auth


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "Daten") -> bytes:
    """A formatted XLSX workbook of one table (German dates, frozen header, widths)."""
    buffer = io.BytesIO()
    # Text stays text: no cell becomes a formula or a hyperlink, whatever it starts with.
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(buffer, engine="xlsxwriter", date_format="dd.mm.yyyy",
                        datetime_format="dd.mm.yyyy",
                        engine_kwargs={"options": options}) as writer:  # fmt: skip
        frame.to_excel(writer, sheet_name=sheet, index=False)
        sheet_obj = writer.sheets[sheet]
        sheet_obj.freeze_panes(1, 0)
        sheet_obj.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))
        for i, column in enumerate(frame.columns):
            width = max([len(str(column)), *(len(str(v)) for v in frame[column].head(500))])
            sheet_obj.set_column(i, i, min(max(width + 2, 10), 50))
    return buffer.getvalue()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV as German offices open it in Excel (`dashboard.core.format.csv_bytes`)."""
    return format.csv_bytes(frame)


SELECTION_KEY = "_audit_selection"  # the selection of the current run, for downloads

FORMATS = (  # (suffix, button label, maker, MIME type)
    ("csv", "CSV herunterladen", csv_bytes, "text/csv"),
    ("xlsx", "Excel herunterladen", xlsx_bytes,
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
)  # fmt: skip


def _audited(producer: Callable[[], bytes], file_name: str) -> Callable[[], bytes]:
    # Streamlit calls the maker only when the button is clicked, so the entry marks a
    # real download; it names the selection the file was made from.
    viewer = auth.current()
    cfg = serving.config()
    shown = st.session_state.get(SELECTION_KEY)
    detail = _describe(file_name, shown) if isinstance(shown, serving.Selection) else file_name

    def make() -> bytes:
        records.log(cfg, viewer.who, "Download", detail)
        return producer()

    return make


def download_file(
    container,
    label: str,
    producer: Callable[[], bytes],
    file_name: str,
    mime: str,
    key: str,
    width: str = "content",
) -> None:
    """A download button whose file is made, and the download audited, only when clicked."""
    container.download_button(
        label,
        _audited(producer, file_name),
        file_name,
        mime,
        key=key,
        on_click="ignore",
        width=width,
    )


def downloads(frame: pd.DataFrame, name: str, key: str) -> None:
    """CSV and XLSX download buttons for a table; the files are made only when clicked.

    The table leaves through the privacy exit once more, as a file: names stay as the
    viewer sees them (masking is idempotent) and text a spreadsheet would run is defused.
    """
    frame = privacy.release(frame, serving.data_scope(auth.current()), target="file")
    for column, (suffix, label, maker, mime) in zip(st.columns(len(FORMATS)), FORMATS, strict=True):
        download_file(
            column,
            label,
            functools.partial(maker, frame),
            f"{name}.{suffix}",
            mime,
            key=f"{key}_{suffix}",
        )


def remember(selection: serving.Selection) -> None:
    """Keep the page's selection for the audit entries of this run's downloads."""
    st.session_state[SELECTION_KEY] = selection


def _describe(what: str, selection: serving.Selection, **details) -> str:
    start, end = selection.filters.period or (None, None)
    return ", ".join(
        [f"{what}: Stichtag {selection.as_of:%d.%m.%Y}"]
        + ([f"Zeitraum {start:%m.%Y}–{end:%m.%Y}"] if start else [])
        + ([f"Bereich {'|'.join(selection.filters.areas)}"] if selection.filters.areas else [])
        + ([f"Teams {'|'.join(selection.filters.teams)}"] if selection.filters.teams else [])
        + [f"{k} {v}" for k, v in details.items()]
    )


def audit_view(what: str, selection: serving.Selection, **details) -> None:
    """Record once per session and selection that the viewer looked at personal figures.

    Pages call it before they show the figures: what is shown is on record first.
    """
    viewer = selection.viewer
    detail = _describe(what, selection, **details)
    seen = st.session_state.setdefault("_audited_views", set())
    if detail in seen:
        return
    records.log(serving.config(), viewer.who, "Ansicht", detail)
    seen.add(detail)
