"""The warm-up after a load: requests are served the old version until the new one is warm.

A load swaps the database file; the dashboard opens the new file and computes the verdicts of
the Stichtage in use in a background thread (dashboard.serving), then switches it in. These
tests hold the warm-up back with its own lock (`serving._warm_turn`) to look at the time in
between; the databases are real (the ETL into a temp file), nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading

import pytest

from dashboard import serving
from dashboard.access.viewer import Viewer
from dashboard.core import rules
from dashboard.core.storage import StorageError, connect_readonly
from dashboard.queries import metrics, overview
from dashboard.queries.filters import Filters
from tests.conftest import ticket_row

AS_OF = dt.date(2026, 3, 31)
ADMIN = Viewer(login="admin", name="Admin", role="admin")
SELECTION = serving.Selection(AS_OF, viewer=ADMIN)
# One statement, one version: the raw tickets, the verdicts, their summary and the snapshot.
STATE_SQL = """
SELECT (SELECT count(*) FROM tickets),
       (SELECT count(*) FROM verdicts($as_of::DATE)),
       (SELECT coalesce(sum(tickets), 0) FROM verdict_counts($as_of::DATE)),
       (SELECT coalesce(max(d_open), 0) FROM (
            SELECT sum(d_open) OVER (ORDER BY day) AS d_open
            FROM (SELECT day, sum(d_open) AS d_open FROM verdict_days($as_of::DATE)
                  GROUP BY day)))
"""


def _rows(prefix: str, n: int) -> list[dict]:
    # Open tickets received in March: every one counts everywhere in STATE_SQL.
    return [ticket_row(**{"Ticket-ID": f"{prefix}{i}"}) for i in range(n)]


def _mix_total(frame) -> int:
    return int(frame["tickets"].sum())


def _state(cursor) -> tuple:
    return tuple(cursor.execute(STATE_SQL, {"as_of": AS_OF}).fetchall()[0])


@pytest.fixture
def dashboard(config, monkeypatch):
    monkeypatch.setattr(serving, "config", lambda: config)
    yield config
    assert serving.wait_for_warmup(timeout=60)


def test_old_version_is_served_until_the_new_one_is_warm(dashboard, write_export, load):
    load(write_export(_rows("A", 3)))
    # No old version (as at process start): the request opens the file itself.
    assert _mix_total(serving.fetch(overview.status_mix, SELECTION)) == 3
    load(write_export(_rows("B", 2)))
    with serving._warm_turn:  # the warm-up is held back
        assert _mix_total(serving.fetch(overview.status_mix, SELECTION)) == 3
        assert _state(serving.connection(ADMIN, AS_OF)) == (3, 3, 3, 3)
        assert serving.wait_for_warmup(timeout=0.2) is False
        assert _mix_total(serving.fetch(overview.status_mix, SELECTION)) == 3
    assert serving.wait_for_warmup(timeout=60)
    # The new version arrived warm: its snapshot of the Stichtag was computed before the switch.
    cursor = serving.connection(ADMIN)
    filled = cursor.execute(
        "SELECT count(*) FROM verdict_snapshots WHERE snapshot = ?", [AS_OF]
    ).fetchall()
    assert filled == [(5,)]
    assert _state(cursor) == (5, 5, 5, 5)
    assert _mix_total(serving.fetch(overview.status_mix, SELECTION)) == 5
    assert serving.version(viewer=ADMIN) == serving.version()


def test_refresh_switches_the_uploaders_scope_at_once(dashboard, write_export, load):
    """After an upload the uploader sees the new data on the next run, no warm-up between."""
    load(write_export(_rows("A", 3)))
    assert _mix_total(serving.fetch(overview.status_mix, SELECTION)) == 3
    load(write_export(_rows("B", 2)))
    with serving._warm_turn:  # a background warm-up could not switch meanwhile
        serving.refresh(ADMIN)
        assert _mix_total(serving.fetch(overview.status_mix, SELECTION)) == 5
        assert serving.version(viewer=ADMIN) == serving.version()
        serving.refresh(ADMIN)  # already the newest: nothing to do
        assert _state(serving.connection(ADMIN, AS_OF)) == (5, 5, 5, 5)


def test_no_request_sees_a_mix_of_versions(dashboard, write_export, load):
    load(write_export(_rows("A", 2)))
    committed = [(2, 2, 2, 2)]
    done = threading.Event()
    errors: list[BaseException] = []
    seen: list[list[tuple]] = [[], []]

    def read(n: int) -> None:
        try:
            while not done.is_set():
                state = _state(serving.connection(ADMIN, AS_OF))
                figures = serving.fetch(metrics.rates, SELECTION, by=("area",), working_days=False)
                seen[n].append((state, int(figures["tickets"].sum())))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    try:
        for i in range(3):
            load(write_export(_rows(f"L{i}-", 1 + i)))
            total = committed[-1][0] + 1 + i
            committed.append((total,) * 4)
        serving.connection(ADMIN)  # notices the last load
        assert serving.wait_for_warmup(timeout=60)
        assert _state(serving.connection(ADMIN, AS_OF)) == committed[-1]
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
    for reads in seen:
        assert reads
        states = [state for state, _ in reads]
        # Every state is one load's, whole (tickets, verdicts and summaries agree) ...
        assert set(states) <= set(committed), set(states) - set(committed)
        # ... never going back to an older load.
        assert states == sorted(states)
    # A cached figure is the one of the version that computed it, never another's.
    assert {fetched for reads in seen for _, fetched in reads} <= {c[0] for c in committed}


def test_a_failing_warm_up_does_not_break_serving(dashboard, write_export, load):
    load(write_export(_rows("A", 3)))
    assert _mix_total(serving.fetch(overview.status_mix, SELECTION)) == 3
    load(write_export(_rows("B", 2)))
    good = dashboard.database.with_name("good.duckdb")
    shutil.copyfile(dashboard.database, good)
    # The file is swapped for one that is no database: opening it fails.
    broken = dashboard.database.with_name(".broken")
    broken.write_bytes(b"no database " * 1000)
    os.replace(broken, dashboard.database)
    with pytest.raises(StorageError):
        connect_readonly(dashboard)
    assert _state(serving.connection(ADMIN, AS_OF)) == (3, 3, 3, 3)  # notices, warm-up starts
    assert serving.wait_for_warmup(timeout=60)  # ... and fails
    assert _state(serving.connection(ADMIN, AS_OF)) == (3, 3, 3, 3)  # still served, no error
    assert _mix_total(serving.fetch(overview.status_mix, SELECTION)) == 3
    # A good file again (a new load): its warm-up starts at once and succeeds.
    os.replace(good, dashboard.database)
    serving.connection(ADMIN)
    assert serving.wait_for_warmup(timeout=60)
    assert _state(serving.connection(ADMIN, AS_OF)) == (5, 5, 5, 5)
    assert _mix_total(serving.fetch(overview.status_mix, SELECTION)) == 5


def test_summaries_give_the_figures_of_the_verdicts(demo_db):
    # The counts of `rates` from the summary equal those over every verdict, with and
    # without a snapshot, for any grouping and either month.
    con = connect_readonly(demo_db, snapshots=True)
    plain = connect_readonly(demo_db)
    as_of = dt.date(2026, 11, 27)
    rules.fill_snapshot(con, as_of)
    counts = [name for name, _ in metrics.COUNTS]
    for month_of in ("due", "receipt"):
        filters = Filters(period=(dt.date(2026, 2, 1), dt.date(2026, 10, 1)), month_of=month_of)
        for by in (("month", "area"), ("area", "team"), ("team", "worker"), ()):
            full = metrics.rates(plain, as_of, filters, by=by)
            for source in (con, plain):
                summed = metrics.rates(source, as_of, filters, by=by, working_days=False)
                assert summed[list(by) + counts].equals(full[list(by) + counts]), (by, month_of)
    con.close()
    plain.close()
