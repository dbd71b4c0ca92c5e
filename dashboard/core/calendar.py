"""The working-day calendar: weekends, Brandenburg holidays and closing days.

The calendar is a small table (one row per day, 2000-2101) that every query joins; it is
built from the configuration on each connection and never stored, so a changed holiday
state or closing day recomputes every verdict of the history.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from dashboard.core.config import CalendarConfig

FIRST_DAY = dt.date(2000, 1, 1)
# One year past the last supported receipt, so deadlines of late-2100 receipts resolve.
# (`holidays` knows no year after 2100; the only holiday such a deadline can reach,
# Neujahr 01.01.2101, is a Saturday.)
LAST_DAY = dt.date(2101, 12, 31)

_CLOSING_NAMES = {(12, 24): "Heiligabend (Schließtag)", (12, 31): "Silvester (Schließtag)"}


def closing_days(config: CalendarConfig, years: range) -> dict[dt.date, str]:
    """The configured closing days of the given years with a German name."""
    days: dict[dt.date, str] = {}
    for item in config.closing_days:
        day, month, year = item.strip().split(".")  # validated: "TT.MM." or "TT.MM.JJJJ"
        name = _CLOSING_NAMES.get((int(month), int(day)), "Schließtag")
        for y in [int(year)] if year else years:
            if y in years:
                try:
                    days[dt.date(y, int(month), int(day))] = name
                except ValueError:  # 29.02. in a common year
                    continue
    return days


def public_holidays(state: str, years: range) -> dict[dt.date, str]:
    """Statutory public holidays of a German state with their German names."""
    return dict(holidays.Germany(subdiv=state, years=years, language="de").items())


@lru_cache(maxsize=8)
def calendar_frame(config: CalendarConfig) -> pd.DataFrame:
    """One row per day: day, is_workday, wd_index (working days up to the day), off_reason."""
    years = range(FIRST_DAY.year, LAST_DAY.year + 1)
    days = np.arange(
        np.datetime64(FIRST_DAY, "D"), np.datetime64(LAST_DAY, "D") + 1, dtype="datetime64[D]"
    )
    off = public_holidays(config.holiday_state, years)
    # A closing day that is also a holiday keeps the holiday's name.
    off = {**closing_days(config, years), **off}
    off_days = np.array(sorted(off), dtype="datetime64[D]")
    is_workday = np.is_busday(days, holidays=off_days)
    reason = pd.Series(off).reindex(pd.DatetimeIndex(days).date).to_numpy(dtype=object)
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (3)
    reason = np.where(
        pd.isna(reason),
        np.where(weekday == 5, "Samstag", np.where(weekday == 6, "Sonntag", None)),
        reason,
    )
    return pd.DataFrame(
        {
            "day": days,
            "is_workday": is_workday,
            # Working days d <= day; deadline and duration are differences of this index.
            "wd_index": np.cumsum(is_workday).astype("int32"),
            "off_reason": reason,
        }
    )


def working_days_between(config: CalendarConfig, start: dt.date, end: dt.date) -> int:
    """Working days d with start < d <= end (negative when end is before start)."""
    frame = calendar_frame(config)
    first = np.datetime64(FIRST_DAY, "D")
    index = frame["wd_index"].to_numpy()
    clamp = len(index) - 1

    def at(day: dt.date) -> int:
        return int(index[min(max(int((np.datetime64(day, "D") - first).astype(int)), 0), clamp)])

    return at(end) - at(start)


def month_complete(config: CalendarConfig, as_of: dt.date) -> bool:
    """Whether the month of `as_of` has no working day left after it (its last one reached)."""
    following = dt.date(as_of.year + as_of.month // 12, as_of.month % 12 + 1, 1)
    return working_days_between(config, as_of, following - dt.timedelta(days=1)) == 0


def first_working_day(config: CalendarConfig, month: dt.date) -> dt.date:
    """The first working day of the month of `month` (weekends, holidays, closing days off)."""
    start = month.replace(day=1)
    years = range(start.year, start.year + 1)
    off = sorted({**closing_days(config, years), **public_holidays(config.holiday_state, years)})
    day = np.busday_offset(
        np.datetime64(start, "D"), 0, roll="forward", holidays=np.array(off, "datetime64[D]")
    )
    return day.astype(dt.date)
