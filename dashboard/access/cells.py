"""The small-cell rule for aggregates: no figure of fewer than 5 people, not even by subtraction.

A frame of figures per cell (a row per team, month, Bereich, status ...) carries `workers`,
the distinct people behind each row (`dashboard.queries.metrics.rates`). For a role that
sees no single person (management):
- **primary suppression**: a row of 1 to 4 workers is hidden (every figure blanked);
- **secondary (complementary) suppression**: the totals of such a table are shown elsewhere
  (a Bereich's total, a team's period, a month over all teams), so a lone hidden row could
  be recovered by subtraction. More rows are hidden until no hidden row is determined by
  the shown rows and the totals over every proper subset of the cell's keys, the
  minimum-frequency rule with complementary suppression of statistical offices
  (tau-ARGUS, sdcTable). Whether a hidden row is determined is exact linear algebra: it is
  iff its unit vector lies in the row space of the totals restricted to the hidden rows.
  Of the rows sharing a total with a determined one, the one that leaves the fewest rows
  determined is hidden next, then the one with the fewest tickets.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from dashboard.access.viewer import MIN_GROUP_WORKERS

# Columns that name a cell (never blanked); every other column is a figure of the cell.
KEY_COLUMNS = ("month", "area", "team", "status", "label", "week_end")
HIDDEN_FLAG = "suppressed"  # True on the rows the rule hid
_TOLERANCE = 1e-9


def suppressed(frame: pd.DataFrame, keys: Sequence[str] | None = None) -> pd.Series:
    """Which rows the small-cell rule hides (primary and complementary), as a boolean Series."""
    keys = list(keys if keys is not None else [k for k in KEY_COLUMNS if k in frame])
    workers = frame["workers"].fillna(0).to_numpy()
    hidden = (workers > 0) & (workers < MIN_GROUP_WORKERS)
    if hidden.any() and len(frame) > 1:
        hidden = _complemented(frame, keys, hidden)
    return pd.Series(hidden, index=frame.index, name=HIDDEN_FLAG)


def apply(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every figure of a hidden row blanked and the `suppressed` flag added."""
    hidden = suppressed(frame)
    out = frame.copy()
    figures = [c for c in out.columns if c not in KEY_COLUMNS] if hidden.any() else []
    for column in figures:
        # Nullable types: a blank is "no figure", never a 0.
        if pd.api.types.is_integer_dtype(out[column]):
            out[column] = out[column].astype("Int64")
        elif pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].astype("boolean")
        out.loc[hidden, column] = pd.NA
    out[HIDDEN_FLAG] = hidden.to_numpy()
    return out


def _margins(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """The totals one could know: a row per group of every proper subset of the keys."""
    rows = []
    codes = {k: pd.factorize(frame[k], use_na_sentinel=False)[0] for k in keys}
    for size in range(len(keys)):
        for subset in combinations(keys, size):
            if subset:
                group = pd.MultiIndex.from_arrays([codes[k] for k in subset])
                ids = pd.factorize(group)[0]
            else:
                ids = np.zeros(len(frame), dtype=int)
            for g in np.unique(ids):
                member = ids == g
                if member.sum() > 1:  # a total of one row is that row itself
                    rows.append(member)
    return np.array(rows, dtype=float).reshape(-1, len(frame))


def determined(margins: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Hidden rows whose value follows from the shown rows and the totals (boolean, per row)."""
    out = np.zeros(len(hidden), dtype=bool)
    index = np.flatnonzero(hidden)
    if not len(index) or not len(margins):
        return out
    known = margins[:, index]
    # Projection onto the row space of the totals over the hidden rows: a hidden row is
    # determined iff its unit vector is its own projection (diagonal entry 1).
    projection = np.linalg.pinv(known) @ known
    out[index] = np.abs(np.diag(projection) - 1.0) < 1e-6
    return out


def _complemented(frame: pd.DataFrame, keys: list[str], hidden: np.ndarray) -> np.ndarray:
    margins = _margins(frame, keys)
    weight = frame["tickets"].fillna(0).to_numpy() if "tickets" in frame else np.ones(len(frame))
    hidden = hidden.copy()
    exposed = determined(margins, hidden)
    while exposed.any():
        # Candidates share a total with an exposed row. One step of look-ahead: the one that
        # leaves the fewest rows exposed, then the fewest tickets (the information lost).
        shared = margins[(margins[:, exposed] > 0).any(axis=1)]
        candidates = np.flatnonzero((shared > 0).any(axis=0) & ~hidden)
        if not len(candidates):
            # Every row sharing a total is hidden already: hide all, nothing left to infer from.
            return np.ones(len(hidden), dtype=bool)
        best = None
        for cell in candidates:
            trial = hidden.copy()
            trial[cell] = True
            left = determined(margins, trial)
            rank = (int(left.sum()), weight[cell] <= 0, weight[cell], cell)
            if best is None or rank < best[0]:
                best = (rank, trial, left)
        _, hidden, exposed = best
    return hidden
