"""German number and date formatting for everything a person reads."""

from __future__ import annotations

import datetime as dt
import math
import re

import pandas as pd


def missing(value: object) -> bool:
    """None, NaN or pd.NA: no figure (never shown as 0)."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def percent(value: float | None, digits: int = 1) -> str:
    """0.875 -> '87,5 %'; missing -> '–'."""
    if missing(value):
        return "–"
    return f"{value * 100:.{digits}f}".replace(".", ",") + " %"


def number(value: int | float, digits: int = 0) -> str:
    """12345.6 -> '12.345,6'; missing -> '–'."""
    if missing(value):
        return "–"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def date(value: dt.date | None) -> str:
    """2026-11-27 -> '27.11.2026'; missing -> ''."""
    return "" if value is None else f"{value:%d.%m.%Y}"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as a CSV file for people: `;`, decimal comma, TT.MM.JJJJ, UTF-8 with BOM.

    As German offices open it in Excel; the page's downloads and the command line's files for
    people (sample lists, reports' tables) are written by this one function. Lines end in
    CRLF, so a field with a line break of either kind is quoted and stays one cell.
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            continue  # written by date_format below
        if values.dtype == object and values.map(_is_plain_date).any():
            out[column] = values.map(lambda v: date(v) if _is_plain_date(v) else v)
    text = out.to_csv(
        index=False, sep=";", decimal=",", date_format="%d.%m.%Y", lineterminator="\r\n"
    )
    return text.encode("utf-8-sig")


def _is_plain_date(value: object) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def plain(text: object) -> str:
    """Text from data, URL or header, escaped so Markdown shows it as typed (no links, HTML)."""
    escaped = _MARKDOWN.sub(r"\\\1", str(text))
    # Bare addresses become links even when escaped (GFM autolinks): an invisible word
    # joiner after the scheme and in "www." keeps them text.
    return escaped.replace("\\://", "\\:\u2060//").replace("www", "w\u2060ww")
