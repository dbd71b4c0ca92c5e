"""The one exit: every frame that leaves for a person passes `release`.

Queries and records work on real identities; this module decides how they appear to the
viewer's data scope (`dashboard.access.scope.Scope`):
- **masked**: worker names as the role shows them (names, keyed pseudonyms, or hidden);
  masking is idempotent (a pseudonym stays itself), so nothing is pseudonymised twice;
- **ordered**: rows sorted by `order_by` *after* masking, so an order never follows the
  real names behind pseudonyms;
- **small cells**: for a role that sees no single person, every row of a frame with a
  `workers` column that stands for 1 to 4 people is blanked, and so are the rows that would
  let it be recovered from totals (`dashboard.access.cells`); teams under 5 workers are
  merged before anything is counted (`dashboard.access.scope`);
- **escaped** for files: a text cell that a spreadsheet would run as a formula (starting
  with `=`, `+`, `-`, `@`, tab or CR) gets a leading apostrophe.
Pages, downloads, reports and CLI files all call `release`; no other code masks names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd

from dashboard.access import cells
from dashboard.access.scope import WORKER_COLUMNS, Scope
from dashboard.access.viewer import HIDDEN_WORKER, WORKER_NAMES, pseudonym
from dashboard.core.rules import ANONYMOUS_WORKER

FORMULA_PATTERN = r"[=+\-@\t\r]"  # what makes a spreadsheet cell a formula
TEXT_KINDS = ("string", "mixed", "mixed-integer")
PERSON = "person"  # the number per worker behind counts of people (never shown)


def release(
    frame: pd.DataFrame,
    scope: Scope,
    *,
    order_by: Sequence[str] = (),
    target: Literal["page", "file"] = "page",
) -> pd.DataFrame:
    """The frame as the scope's viewer may see it: masked, ordered, escaped for `target`.

    `order_by` names columns, '-column' for descending; the sort is stable.
    """
    out = _masked(frame.drop(columns=[PERSON], errors="ignore"), scope)
    if WORKER_NAMES[scope.role] == "hidden" and "workers" in out:
        out = cells.apply(out)
    if order_by:
        columns = [c.lstrip("-") for c in order_by]
        ascending = [not c.startswith("-") for c in order_by]
        out = out.sort_values(columns, ascending=ascending, kind="stable", ignore_index=True)
    if target == "file":
        out = _defused(out)
    return out


def _shown(worker: str, scope: Scope) -> str:
    mode = WORKER_NAMES[scope.role]
    if mode == "hidden":
        return HIDDEN_WORKER
    if mode == "names" or worker == ANONYMOUS_WORKER or worker in scope.reverse:
        return worker  # a name shown as is, the placeholder, or already a pseudonym
    return pseudonym(worker, scope.key)


def _masked(frame: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    columns = [c for c in WORKER_COLUMNS if c in frame]
    if WORKER_NAMES[scope.role] == "names" or not columns:
        return frame
    frame = frame.copy()
    for column in columns:
        # One pseudonym per distinct name, then a vectorised lookup.
        values = frame[column].dropna().unique()
        if len(values):  # an all-empty column keeps its type
            frame[column] = frame[column].map({v: _shown(v, scope) for v in values})
    return frame


def _defused(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.infer_dtype(values, skipna=True) not in TEXT_KINDS:
            continue
        # `.str` leaves non-text cells (numbers, dates) alone: they cannot be formulas.
        risky = values.str.match(FORMULA_PATTERN, na=False).astype(bool)
        if risky.any():
            out = out.copy() if out is frame else out
            out[column] = values.where(~risky, "'" + values.astype(str))
    return out
