"""The records database: short transactions that survive other writers and loads.

Every test here runs twice: on the embedded DuckDB file and on a real PostgreSQL server.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
import os

import pytest

from dashboard.core import records
from dashboard.core.config import load_config
from tests.conftest import RECORD_BACKENDS, records_env, ticket_row

# Every test on both backends.
pytestmark = pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)


def _writer(env: dict, worker: str, n: int, start) -> None:
    os.environ.update(env)  # libpq reads PGPASSWORD from the process environment
    config = load_config()
    start.wait(timeout=60)  # both begin together, imports done
    for i in range(n):
        # A replica recording a conversation and its audit entry in one transaction.
        with records.transaction(config) as con:
            con.execute(
                "INSERT INTO conversations (worker, month, held_on, recorded_by, recorded_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    worker,
                    dt.date(2026, 3, 1),
                    dt.date(2026, 4, i % 28 + 1),
                    "TL",
                    dt.datetime.now(),
                ],
            )
            records.audit(con, worker, "Gespräch erfasst", str(i))


def test_two_processes_writing_at_once_lose_nothing_and_keep_one_chain(config):
    # Both start on an empty database: the migrations race too.
    env = {
        "TICKET_CONTROLLING_DB": str(config.database),
        "TICKET_CONTROLLING_KEY_FILE": str(config.storage.key_file),
        **records_env(config),
    }
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(env, f"W{p}", 25, start)) for p in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    counts = records.query(
        config,
        "SELECT worker, count(*) n FROM conversations GROUP BY 1 ORDER BY 1",
    )
    assert counts.values.tolist() == [["W0", 25], ["W1", 25]]
    audit = records.query(config, "SELECT who, count(*) n FROM audit_log GROUP BY 1 ORDER BY 1")
    assert audit.values.tolist() == [["W0", 25], ["W1", 25]]
    check = records.verify_audit(config)
    assert check.intact and check.head_seq == 50, check
    if config.records.url is not None:
        # Interleaved, not one after the other: PostgreSQL let both write at once and the
        # advisory lock alone kept the chain in order (DuckDB has one writer at a time).
        order = records.query(config, "SELECT who FROM audit_log ORDER BY seq")["who"].tolist()
        assert sum(a != b for a, b in itertools.pairwise(order)) > 1


def test_a_load_never_touches_the_records(config, write_export, load):
    with records.transaction(config) as con:
        records.audit(con, "Anna", "Gespräch erfasst", "März 2026")
    load(write_export([ticket_row()]))
    load(write_export([ticket_row(**{"Ticket-ID": "T2"})]))
    log = records.query(config, "SELECT who, action FROM audit_log")
    assert log.values.tolist() == [["Anna", "Gespräch erfasst"]]
    # The DuckDB records are a file of their own; PostgreSQL leaves no file beside the data.
    assert config.app_database.exists() is (config.records.url is None)
    assert config.app_database != config.database


def test_failed_transaction_keeps_earlier_records(config):
    with records.transaction(config) as con:
        records.audit(con, "A", "eins")
    try:
        with records.transaction(config) as con:
            records.audit(con, "B", "zwei")
            raise RuntimeError("crash")
    except RuntimeError:
        pass
    assert records.query(config, "SELECT who FROM audit_log")["who"].tolist() == ["A"]


def test_two_sessions_of_one_process_saving_at_once_lose_nothing(config):
    import threading

    def save(who: str) -> None:
        for i in range(20):
            with records.transaction(config) as con:
                records.audit(con, who, "gespeichert", str(i))

    threads = [threading.Thread(target=save, args=(f"S{n}",)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    counts = records.query(config, "SELECT who, count(*) FROM audit_log GROUP BY 1 ORDER BY 1")
    assert counts.values.tolist() == [["S0", 20], ["S1", 20], ["S2", 20]]


def test_report_sendings_are_recorded_once_per_month_and_login(config):
    month = dt.date(2026, 10, 1)
    assert records.sent_reports(config, month) == set()
    records.record_sending(config, "cron", month, "tl", "tl@jc.example", month, "a.pdf")
    assert records.sent_reports(config, month) == {"tl"}
    with pytest.raises(Exception, match=r"(?i)unique|duplicate|constraint"):
        records.record_sending(config, "cron", month, "tl", "tl@jc.example", month, "a.pdf")
    assert records.verify_audit(config).head_seq == 1  # the refused one left no entry
