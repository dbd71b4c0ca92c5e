"""All figures of one monthly report, computed for a viewer and released for a file.

A report covers the tickets due in one month as of a Stichtag (`dashboard.queries.monthly`).
Every figure depends only on the data, the month, the Stichtag and the filters, so the same
month and Stichtag always give the same files apart from their creation time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from dashboard.access import privacy
from dashboard.access import scope as data_scope
from dashboard.access.scope import OPERATOR, Scope
from dashboard.access.viewer import Viewer, restrict, sees_workers
from dashboard.core import format, rules
from dashboard.core.config import Config
from dashboard.core.keys import load_or_create_key
from dashboard.core.months import add_months, month_label, month_start
from dashboard.core.storage import connect_readonly
from dashboard.queries import monthly
from dashboard.queries.filters import NO_FILTERS, Filters
from dashboard.report.rules import rules_table, scope_label


@dataclass(frozen=True, eq=False)
class Report:
    """All figures of one monthly report."""

    month: dt.date
    as_of: dt.date
    filters: Filters
    audience: str  # the role whose version this is ("admin": the operator's full report)
    rules: pd.DataFrame  # label, value: the rules the figures were computed with
    summary: pd.DataFrame
    previous: pd.DataFrame  # the summary of the month before, same Stichtag and selection
    year_ago: pd.DataFrame  # the summary of the same month a year before
    trend: pd.DataFrame
    teams: pd.DataFrame
    workers: pd.DataFrame | None  # None: not for this viewer (no worker-level figures)
    breaches: pd.DataFrame | None
    extensions: pd.DataFrame
    extended_tickets: pd.DataFrame | None
    checks: pd.DataFrame
    repeat_cases: pd.DataFrame | None
    repeat_counts: pd.DataFrame  # per Bereich: repeat cases and conversations pending
    samples: pd.DataFrame
    loads: pd.DataFrame
    status_mix: pd.DataFrame

    @property
    def has_data(self) -> bool:
        """Whether any ticket of the selection falls due in the month."""
        tickets = self.summary["tickets"].iloc[-1]
        return pd.isna(tickets) or int(tickets) > 0  # hidden (small-cell rule): there are some

    @property
    def names_people(self) -> bool:
        """Whether this version lists people (not management's: no single person there)."""
        return self.repeat_cases is not None

    @property
    def title(self) -> str:
        """'Monatsbericht März 2026'."""
        return f"Monatsbericht {month_label(self.month)}"

    @property
    def subtitle(self) -> str:
        """Month, Stichtag and selection in one line."""
        return (
            f"Tickets fällig im {month_label(self.month)} · Stichtag "
            f"{format.date(self.as_of)} · {scope_label(self.filters)}"
        )


def repeat_conversations(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    *,
    month: dt.date,
    limits: Scope | None = None,
) -> pd.DataFrame:
    """Repeat cases of the month with the date of the conversation held, or 'ausstehend'.

    `limits` narrows the recorded conversations to a viewer's scope (names as stored, like
    the cases; `build` turns all names into what the viewer sees at the end).
    """
    threshold = config.rules.repeat_threshold
    cases = monthly.repeat_cases(con, as_of, filters, month=month, threshold=threshold)
    held = monthly.conversations(config, as_of, month=month)
    if limits is not None:
        held = limits.rows(held)
    held["held_on"] = pd.to_datetime(held["held_on"]).astype("datetime64[us]")
    frame = cases.merge(held, on="worker", how="left")
    frame["conversation"] = frame["held_on"].dt.strftime("%d.%m.%Y").fillna("ausstehend")
    return frame


# The tables listed by person, and their order after names are masked (as in the queries).
PERSON_ORDER = {
    "workers": ("-area", "team", "worker"),
    "repeat_cases": ("team", "worker"),
}


def build(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    month: dt.date,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    viewer: Viewer | None = None,
    limits: Scope | None = None,
) -> Report:
    """Compute every figure of the report of `month` as of `as_of` for the viewer.

    Without a viewer (the CLI: whoever runs it can read the database file anyway) the
    report covers everything. A viewer who sees no worker-level figures (management)
    gets the report without the sheets per person and per ticket.
    """
    month = month_start(month)
    # Only the Bereich/team/worker scope applies: the month decides the period.
    scope = restrict(monthly.scope_filters(filters), viewer)
    personal = viewer is None or sees_workers(viewer)
    args, kw = (con, as_of, scope), {"month": month}
    repeats = (
        repeat_conversations(con, config, as_of, scope, **kw, limits=limits) if personal else None
    )
    tables = {
        "rules": rules_table(config, month, as_of, scope),
        "summary": monthly.summary(*args, **kw),
        "previous": monthly.summary(*args, month=add_months(month, -1)),
        "year_ago": monthly.summary(*args, month=add_months(month, -12)),
        "trend": monthly.trend(*args, **kw),
        "teams": monthly.teams(*args, **kw),
        "workers": monthly.workers(*args, **kw) if personal else None,
        "breaches": monthly.breaches(*args, **kw) if personal else None,
        "extensions": monthly.extensions(*args, **kw),
        "extended_tickets": monthly.extended_tickets(*args, **kw) if personal else None,
        "checks": monthly.checks(*args, **kw),
        "repeat_cases": repeats,
        "repeat_counts": monthly.repeat_counts(
            *args, **kw, threshold=config.rules.repeat_threshold, cases=repeats
        ),
        "samples": monthly.samples(config, as_of, scope, **kw),
        "loads": monthly.loads(*args, **kw),
        "status_mix": monthly.status_mix(*args, **kw),
    }
    # Every table leaves through the privacy exit (names, pseudonyms, escaping for files);
    # tables listed by person are ordered once names are as the reader sees them.
    released = {
        name: privacy.release(
            frame, limits or OPERATOR, order_by=PERSON_ORDER.get(name, ()), target="file"
        )
        for name, frame in tables.items()
        if frame is not None
    }
    audience = viewer.role if viewer is not None else "admin"
    return Report(month, as_of, scope, audience, **{**tables, **released})


def build_for(
    config: Config,
    month: dt.date,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    viewer: Viewer | None = None,
) -> Report:
    """The report from the configured database, as `viewer` may see it (None: everything).

    For the command line and the e-mail delivery: the connection's views are restricted to
    the viewer's data scope exactly as for the dashboard, so a report sent to someone holds
    what their page would show.
    """
    con = connect_readonly(config, snapshots=True)
    try:
        limits = None
        if viewer is not None:
            limits = data_scope.install(con, viewer, load_or_create_key(config.storage.key_file))
        # The verdicts of the Stichtag once; every figure of the report then reads them.
        rules.fill_snapshot(con, as_of)
        return build(con, config, month, as_of, filters, viewer, limits)
    finally:
        con.close()
