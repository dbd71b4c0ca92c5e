"""Filters and the one query value: which tickets a measure looks at, as SQL and parameters.

`Filters` is what a person chose (Bereich, teams, workers, period, month of due date or
receipt). `Filters.verdicts(as_of)` turns it into a `Query`: SQL text and its parameters,
always together, so no caller assembles a WHERE clause or a parameter dict by hand. Values
only ever travel as parameters; the only text spliced into SQL is chosen here or in
`dashboard.core.rules` (column names, status codes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import duckdb
import pandas as pd

from dashboard.core.months import add_months, month_start
from dashboard.core.rules import STATUSES

MONTH_OF = ("due", "receipt")  # the allowed values of Filters.month_of


@dataclass(frozen=True)
class Query:
    """SQL text with its named parameters (`$name`), which only travel together."""

    sql: str
    params: Mapping[str, object] = field(default_factory=dict)

    def wrap(self, sql: str, **params: object) -> Query:
        """A query over this one: `{rows}` in `sql` stands for this query as a subquery."""
        clash = {k for k in params if k in self.params and self.params[k] != params[k]}
        if clash:
            raise ValueError(f"parameters given twice: {sorted(clash)}")
        return Query(sql.replace("{rows}", f"({self.sql})"), {**self.params, **params})

    def df(self, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        """Run the query and return its rows as a DataFrame."""
        return con.execute(self.sql, dict(self.params)).df()

    def fetchall(self, con: duckdb.DuckDBPyConnection) -> list[tuple]:
        """Run the query and return its rows as tuples."""
        return con.execute(self.sql, dict(self.params)).fetchall()


@dataclass(frozen=True)
class Filters:
    """Which tickets a measure looks at; empty means all."""

    areas: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    workers: tuple[str, ...] = ()
    # Inclusive range of the month date (due or receipt month, see `month_of`).
    period: tuple[dt.date, dt.date] | None = None
    month_of: str = "due"  # 'due' (default, RULES.md) or 'receipt'
    # Also the tickets the chosen workers cover at the Stichtag as substitutes (A4): a
    # person's own follow-up list and the tickets they may open. Only the verdicts and the
    # stored tickets know it; counts and daily changes stay the assignee's own.
    covered: bool = False

    def __post_init__(self) -> None:
        if self.month_of not in MONTH_OF:
            raise ValueError(f"month_of must be one of {MONTH_OF}")

    @property
    def month_column(self) -> str:
        """The verdict column of the month a ticket is counted in."""
        return "receipt_month" if self.month_of == "receipt" else "due_month"

    @property
    def date_column(self) -> str:
        """The verdict column whose month counts: receipt or due date."""
        return "receipt_date" if self.month_of == "receipt" else "due_date"

    def without_period(self) -> Filters:
        """The same filters for any month (states at a date, data checks)."""
        return replace(self, period=None)

    def _who(
        self, as_of: dt.date | None, cover_date: dt.date | None = None
    ) -> tuple[list[str], dict[str, object]]:
        # Bereich, team and worker: the conditions every view of the tickets shares.
        workers = "len($workers) = 0 OR list_contains($workers, worker)"
        params: dict[str, object] = {
            "as_of": as_of,
            "areas": list(self.areas),
            "teams": list(self.teams),
            "workers": list(self.workers),
        }
        if self.covered and cover_date is not None:
            # the tickets open at that date whose absent assignee the workers stand in for
            workers += (
                " OR ticket_id IN (SELECT ticket_id FROM "
                "covered_tickets($cover_date::DATE, $workers))"
            )
            params["cover_date"] = cover_date
        where = [
            "(len($areas) = 0 OR list_contains($areas, area))",
            "(len($teams) = 0 OR list_contains($teams, team))",
            f"({workers})",
        ]
        return where, params

    def _monthly(
        self, as_of: dt.date, cover_date: dt.date | None = None
    ) -> tuple[list[str], dict[str, object]]:
        where, params = self._who(as_of, cover_date)
        if self.period is not None:
            where.append(f"{self.month_column} BETWEEN $p_from AND $p_to")
            params["p_from"], params["p_to"] = self.period
        return where, params

    def verdicts(self, as_of: dt.date) -> Query:
        """The verdicts of the filtered tickets as of `as_of`, with their counting `month`."""
        where, params = self._monthly(as_of, as_of)
        if self.period is not None:
            # The same tickets as a range of the date itself (a superset of the month test):
            # without a snapshot the range reaches the scan of the stored tickets, which are
            # stored roughly in date order, so whole row groups are skipped.
            where.append(f"{self.date_column} >= $p_lo AND {self.date_column} < $p_hi")
            params["p_lo"] = month_start(self.period[0])
            params["p_hi"] = add_months(month_start(self.period[1]), 1)
        return self._with_month("verdicts", where, params)

    def counts(self, as_of: dt.date) -> Query:
        """The summary rows (`verdict_counts`) of the filtered tickets, with their `month`."""
        return self._with_month("verdict_counts", *self._monthly(as_of))

    def _with_month(self, macro: str, where: list[str], params: dict[str, object]) -> Query:
        # `macro` is one of this module's two table macros, never input.
        return Query(
            f"SELECT *, {self.month_column} AS month FROM {macro}($as_of::DATE) "
            f"WHERE {' AND '.join(where)}",
            params,
        )

    def days(self, as_of: dt.date) -> Query:
        """The daily changes (`verdict_days`) of the filtered Bereiche, teams and workers."""
        where, params = self._who(as_of)
        return Query(
            f"SELECT * FROM verdict_days($as_of::DATE) WHERE {' AND '.join(where)}", params
        )

    def tickets(self, as_of: dt.date | None, *, cover_date: dt.date | None = None) -> Query:
        """The stored tickets of the filtered Bereiche, teams and workers received up to
        `as_of` (None: whenever received); with `covered`, also those covered at
        `cover_date` (default `as_of`)."""
        where, params = self._who(as_of, cover_date or as_of)
        if as_of is None:
            del params["as_of"]
        else:
            where.append("received <= $as_of::DATE")
        return Query(f"SELECT * FROM tickets WHERE {' AND '.join(where)}", params)


NO_FILTERS = Filters()


def ordered_by(*columns: str):
    """Declare the row order of a query's result, applied after names are masked.

    Sorting by worker in SQL would order pseudonyms by the names behind them; the privacy
    exit (`dashboard.access.privacy.release`) sorts by these columns ('-c': descending)
    once the names are as the viewer sees them.
    """

    def mark(fn):
        fn.order_by = columns
        return fn

    return mark


def status_in(statuses: Sequence[str]) -> str:
    """SQL test that a verdict's status is one of `statuses` (on its small integer code)."""
    unknown = set(statuses) - set(STATUSES)
    if unknown:
        raise ValueError(f"unknown status: {sorted(unknown)}")
    return f"status_code IN ({', '.join(str(STATUSES.index(s)) for s in statuses)})"
