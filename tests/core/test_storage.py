"""The storage layout: loads swap the file atomically, readers never block or see half a load."""

from __future__ import annotations

import os

import pytest

from dashboard import serving
from dashboard.access.viewer import Viewer
from dashboard.core.storage import StorageError, connect_readonly, file_identity, writable_copy
from tests.conftest import ticket_row

# Sees every row with names: the data layer then equals the unrestricted domain functions.
ADMIN_VIEWER = Viewer("admin", "Admin", "admin")


def _count(con) -> int:
    return con.execute("SELECT count(*) FROM tickets").fetchall()[0][0]


def test_reader_open_during_load_keeps_its_view_and_new_readers_see_the_load(
    config, write_export, load
):
    load(write_export([ticket_row(**{"Ticket-ID": "A"})]))
    reader = connect_readonly(config)
    assert _count(reader) == 1
    load(write_export([ticket_row(**{"Ticket-ID": "B"}), ticket_row(**{"Ticket-ID": "C"})]))
    assert _count(reader) == 1  # the old, complete state: no lock error, no half load
    fresh = connect_readonly(config)
    assert _count(fresh) == 3
    reader.close()
    fresh.close()


def test_dashboard_connection_follows_the_swapped_file(config, write_export, load, monkeypatch):
    monkeypatch.setattr(serving, "config", lambda: config)
    load(write_export([ticket_row(**{"Ticket-ID": "A"})]))
    assert _count(serving.connection(ADMIN_VIEWER)) == 1
    before = file_identity(config)
    load(write_export([ticket_row(**{"Ticket-ID": "B"})]))
    assert file_identity(config) != before
    # The request that notices the load is served the old version while the new one warms.
    assert _count(serving.connection(ADMIN_VIEWER)) == 1
    assert serving.wait_for_warmup(timeout=60)
    assert _count(serving.connection(ADMIN_VIEWER)) == 2


def test_failed_block_leaves_no_trace(config, write_export, load):
    load(write_export([ticket_row()]))
    before = config.database.read_bytes()
    with pytest.raises(RuntimeError), writable_copy(config) as db:
        db.con.execute("DELETE FROM tickets")
        db.changed = True
        raise RuntimeError("crash in the middle of a load")
    assert config.database.read_bytes() == before
    assert sorted(p.name for p in config.database.parent.iterdir()) == [
        "tickets.duckdb",
        "tickets.duckdb.lock",
    ]


def test_leftover_temp_file_of_a_killed_load_is_removed(config, write_export, load):
    load(write_export([ticket_row()]))
    stale = config.database.parent / f".{config.database.name}.abc123.tmp"
    stale.write_bytes(b"half a database")
    load(write_export([ticket_row(**{"Ticket-ID": "B"})]))
    assert not stale.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only directories")
def test_read_only_directory_gives_a_clear_message(config, write_export, load):
    load(write_export([ticket_row()]))
    config.database.parent.chmod(0o500)
    try:
        with pytest.raises(StorageError, match="nicht"):
            load(write_export([ticket_row(**{"Ticket-ID": "B"})]))
    finally:
        config.database.parent.chmod(0o700)


def test_unwritable_database_path_gives_a_clear_message(tmp_path, write_export):
    from dashboard.core.config import load_config
    from etl.load import load_files

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    config = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(blocker / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(tmp_path / "key"),
        }
    )
    with pytest.raises(StorageError, match="nicht beschreibbar"):
        load_files(config, [write_export([ticket_row()])])


def test_fetch_equals_the_metrics_and_snapshots_stay_bounded(config, write_export, load,
                                                             monkeypatch):  # fmt: skip
    import datetime as dt

    from dashboard.core import rules
    from dashboard.queries import metrics

    monkeypatch.setattr(serving, "config", lambda: config)
    load(write_export([ticket_row(**{"Ticket-ID": f"T{i}", "Erledigt": "05.03.2026"})
                       for i in range(5)]))  # fmt: skip
    as_of = dt.date(2026, 3, 31)
    fetched = serving.fetch(
        metrics.rates, serving.Selection(as_of, viewer=ADMIN_VIEWER), by=("area",)
    )
    direct = metrics.rates(connect_readonly(config), as_of, by=("area",))
    assert fetched.equals(direct)
    con = serving.connection(ADMIN_VIEWER)
    for day in range(1, 8):
        rules.fill_snapshot(con, dt.date(2026, 3, day))
    snapshots = con.execute("SELECT count(DISTINCT snapshot) FROM verdict_snapshots")
    assert snapshots.fetchall()[0][0] <= 4


def test_a_date_without_snapshot_is_computed_not_empty(config, write_export, load, monkeypatch):
    import datetime as dt

    from dashboard.queries import metrics

    monkeypatch.setattr(serving, "config", lambda: config)
    load(write_export([ticket_row()]))
    con = serving.connection(ADMIN_VIEWER, dt.date(2026, 3, 31))  # snapshot of 31.03. only
    other = metrics.ticket_verdicts(con, dt.date(2026, 3, 10))
    assert other["status"].tolist() == ["overdue"]
    assert metrics.ticket_verdicts(con, dt.date(2026, 3, 31))["status"].tolist() == ["overdue"]
