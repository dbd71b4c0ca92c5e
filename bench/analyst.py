"""The analyst's way to the team-month figures: pandas and numpy straight from the export.

Reads the export, parses Eingang and Erledigt in the export's date formats, computes each
ticket's due date with numpy's business-day functions and the configured holidays, and counts
tickets and tickets completed on time per team and month of the due date. bench/run.py
(`analyst`) runs it in a child process against the same figures from our database.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.core.calendar import closing_days, public_holidays
from dashboard.core.config import AREAS, load_config

COLUMNS = ["Ticket-ID", "Bereich", "Team", "Eingang", "Erledigt"]
# The date formats of EXPORT_FORMAT.md, tried in turn.
FORMATS = ("%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M",
           "%d.%m.%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")  # fmt: skip


def parse(text: pd.Series) -> np.ndarray:
    """Dates of a column in any of the export's formats; NaT where none fits."""
    text = text.str.strip()
    days = pd.to_datetime(text, format=FORMATS[0], errors="coerce")
    for fmt in FORMATS[1:]:
        missing = days.isna() & text.notna()
        if not missing.any():
            break
        days[missing] = pd.to_datetime(text[missing], format=fmt, errors="coerce")
    return days.to_numpy().astype("datetime64[D]")


def team_months(csv_path: Path, as_of: dt.date) -> pd.DataFrame:
    """Tickets and tickets completed on time per team and month of the due date."""
    config = load_config()
    frame = pd.read_csv(csv_path, sep=";", usecols=COLUMNS, dtype=str)
    received, completed = parse(frame["Eingang"]), parse(frame["Erledigt"])
    years = range(2000, 2102)
    off = {**public_holidays(config.calendar.holiday_state, years),
           **closing_days(config.calendar, years)}  # fmt: skip
    calendar = np.busdaycalendar(holidays=np.array(sorted(off), dtype="datetime64[D]"))
    deadline = frame["Bereich"].str.strip().map({a: config.deadline(a) for a in AREAS})
    day = np.datetime64(as_of, "D")
    keep = ~np.isnat(received) & deadline.notna().to_numpy() & (received <= day)
    # The due date is the N-th working day after receipt; a receipt on a day off counts
    # from the working day before.
    due = np.busday_offset(
        received[keep], deadline[keep].to_numpy(dtype="int64"), roll="backward", busdaycal=calendar
    )
    done = completed[keep]
    tickets = pd.DataFrame(
        {
            "team": frame["Team"].to_numpy()[keep],
            "month": due.astype("datetime64[M]").astype("datetime64[ns]"),
            "on_time": ~np.isnat(done) & (done <= due) & (done <= day),
        }
    )
    figures = tickets.groupby(["team", "month"]).agg(
        tickets=("on_time", "size"), on_time=("on_time", "sum")
    )
    return figures.reset_index()
