"""Retention (A9): the personal fields of tickets completed before the cutoff are anonymised.

The cutoff is `today` minus `rules.retention_months` calendar months (`cutoff_date`). What the
purge changes, all in one private copy of the database swapped in like a load
(`dashboard.core.storage.writable_copy`):

- tickets completed before the cutoff: `worker` becomes `WORKER_PLACEHOLDER`, `customer`
  NULL. Open tickets and tickets completed on or after the cutoff keep both. Team, Bereich
  and every event date stay, and no status depends on the worker or the customer
  (`dashboard.core.rules`), so every verdict and every team-level figure is the same afterwards.
- absences that ended before the cutoff are deleted (see `ABSENCES_DUE` for the one
  exception and docs/rules.md for why deleted, not anonymised).
- rejected rows of loads finished before the cutoff lose their raw text (it holds the
  worker's name; the customer number is never kept there), the reason stays.

A second purge with the same date finds nothing left to change and reports zeros.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from dashboard.core.config import Config
from dashboard.core.months import add_months
from dashboard.core.rules import ANONYMOUS_WORKER
from dashboard.core.storage import connect_readonly, writable_copy

# One placeholder for all teams: the team column stays, so everything grouped by team or by
# (team, worker) still keeps the teams apart; the parentheses keep it from reading as (or
# being exported as) a person's name.
WORKER_PLACEHOLDER = ANONYMOUS_WORKER  # one constant for ETL and dashboard

# Rows already anonymised do not match again: a second purge changes nothing.
TICKETS_DUE = "completed < $cutoff AND (worker <> $placeholder OR customer IS NOT NULL)"
# An absence that ended before the cutoff is kept while a retained ticket (open, or completed
# on or after the cutoff) of the same worker may have its due date in it: "breaches during
# absence" of retained tickets must not change. A due date is never before the receipt, so
# "received by the absence's end" finds every such ticket (and a few more, which only keeps
# an absence a little longer).
ABSENCES_DUE = """
    date_to < $cutoff AND NOT EXISTS (
        SELECT 1 FROM tickets t
        WHERE t.worker = absences.worker AND t.received <= absences.date_to
          AND (t.completed IS NULL OR t.completed >= $cutoff)
    )
"""
REJECTS_DUE = (
    "raw IS NOT NULL AND load_id IN (SELECT load_id FROM load_log WHERE finished_at < $cutoff)"
)


class PurgeError(Exception):
    """The purge refuses to run; the message says why in German."""


@dataclass(frozen=True)
class PurgeResult:
    """What a purge changed (or, with `dry_run`, would change)."""

    cutoff: dt.date  # tickets completed before this day were anonymised
    retention_months: int
    dry_run: bool
    tickets_by_team: tuple[tuple[str, int], ...] = ()  # (team, tickets), by team
    absences_removed: int = 0
    rejects_cleared: int = 0

    @property
    def tickets(self) -> int:
        """Tickets anonymised over all teams."""
        return sum(n for _, n in self.tickets_by_team)

    @property
    def changed(self) -> bool:
        """Whether anything was (or would be) changed."""
        return bool(self.tickets or self.absences_removed or self.rejects_cleared)


def cutoff_date(today: dt.date, retention_months: int) -> dt.date:
    """`today` minus the retention in calendar months, the day clamped to the month's end.

    31.05.2026 − 3 months = 28.02.2026: on 29.–31.05. the cutoff stays at 28.02., so a record
    is kept at least the full retention (and at most three days longer), never less.
    """
    return add_months(today, -retention_months)


def purge(config: Config, *, today: dt.date, dry_run: bool) -> PurgeResult:
    """Anonymise what is older than the retention; with `dry_run`, only count it."""
    months = config.rules.retention_months
    if months < 1:  # the configuration refuses it too; a purge must never rely on that alone
        raise PurgeError(
            f"Die Aufbewahrungsfrist rules.retention_months = {months} ist kürzer als ein "
            "Monat (A9); es wurde nichts geändert."
        )
    cutoff = cutoff_date(today, months)
    empty = PurgeResult(cutoff=cutoff, retention_months=months, dry_run=dry_run)
    if dry_run:
        if not config.database.exists():  # nothing to count, and nothing to create
            return empty
        con = connect_readonly(config)
        try:
            return _counted(con, empty)
        finally:
            con.close()
    with writable_copy(config) as db:
        result = _counted(db.con, empty)
        if result.changed:
            _apply(db.con, cutoff)
            db.changed = True
    return result


def _counted(con: duckdb.DuckDBPyConnection, result: PurgeResult) -> PurgeResult:
    # The same conditions the updates use, so a dry run reports what a purge would change.
    cutoff = result.cutoff
    by_team = con.execute(
        f"SELECT team, count(*) FROM tickets WHERE {TICKETS_DUE} GROUP BY team ORDER BY team",
        {"cutoff": cutoff, "placeholder": WORKER_PLACEHOLDER},
    ).fetchall()
    absences = con.execute(
        f"SELECT count(*) FROM absences WHERE {ABSENCES_DUE}", {"cutoff": cutoff}
    ).fetchall()[0][0]
    rejects = con.execute(
        f"SELECT count(*) FROM rejects WHERE {REJECTS_DUE}", {"cutoff": cutoff}
    ).fetchall()[0][0]
    return PurgeResult(
        cutoff=cutoff,
        retention_months=result.retention_months,
        dry_run=result.dry_run,
        tickets_by_team=tuple((team, int(n)) for team, n in by_team),
        absences_removed=int(absences),
        rejects_cleared=int(rejects),
    )


def _apply(con: duckdb.DuckDBPyConnection, cutoff: dt.date) -> None:
    # One transaction: a failure leaves the copy unchanged, and it is discarded anyway.
    con.execute("BEGIN TRANSACTION")
    con.execute(f"DELETE FROM absences WHERE {ABSENCES_DUE}", {"cutoff": cutoff})
    con.execute(
        f"UPDATE tickets SET worker = $placeholder, customer = NULL WHERE {TICKETS_DUE}",
        {"cutoff": cutoff, "placeholder": WORKER_PLACEHOLDER},
    )
    con.execute(f"UPDATE rejects SET raw = NULL WHERE {REJECTS_DUE}", {"cutoff": cutoff})
    con.execute("COMMIT")
