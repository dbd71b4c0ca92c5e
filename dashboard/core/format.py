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


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def plain(text: object) -> str:
    """Text from data, URL or header, escaped so Markdown shows it as typed (no links, HTML)."""
    escaped = _MARKDOWN.sub(r"\\\1", str(text))
    # Bare addresses become links even when escaped (GFM autolinks): an invisible word
    # joiner after the scheme and in "www." keeps them text.
    return escaped.replace("\\://", "\\:\u2060//").replace("www", "w\u2060ww")
