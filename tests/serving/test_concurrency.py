"""Loads while people work: a loader process swaps the database again and again while
dashboard sessions read and the dashboard and a CLI process write their own records.

Bounded in time (the loader stops after `LOAD_SECONDS`), local only. Every state a reader
sees must be one the loader committed (never half a load), no reader or writer may get an
error, and every record written must be there at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dashboard import serving
from dashboard.access.viewer import Viewer
from dashboard.core import records
from dashboard.core.config import load_config
from dashboard.core.storage import connect_readonly
from etl.demo import write_demo_export
from etl.load import load_files
from tests.conftest import RECORD_BACKENDS, on_backend, records_env

LOAD_SECONDS = 3.0  # the loader starts no new load after this (but makes two at least)
MAX_LOADS = 6
READER_THREADS = 3
WRITER_THREADS = 2
AS_OF = dt.date(2026, 11, 27)
ADMIN = Viewer(login="admin", name="Admin", role="admin")

# One query gives the whole state a reader sees: (latest load, tickets, rejects) and
# whether the tickets and rejects agree with the load log (they do in every committed state).
STATE_SQL = """
SELECT
    (SELECT coalesce(max(load_id), 0) FROM load_log),
    (SELECT count(*) FROM tickets),
    (SELECT count(*) FROM rejects),
    (SELECT count(*) FROM tickets) = (SELECT coalesce(sum(records_new), 0) FROM load_log
                                      WHERE kind = 'tickets')
    AND (SELECT count(*) FROM rejects) = (SELECT coalesce(sum(rows_rejected), 0) FROM load_log)
    AND (SELECT count(*) FROM tickets WHERE load_id NOT IN (SELECT load_id FROM load_log)) = 0
"""


def _state(con) -> tuple[int, int, int, bool]:
    return tuple(con.execute(STATE_SQL).fetchall()[0])


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TICKET_CONTROLLING_CONFIG"}
    env["TICKET_CONTROLLING_DB"] = str(tmp / "db" / "tickets.duckdb")
    env["TICKET_CONTROLLING_KEY_FILE"] = str(tmp / "key")
    return env


# The loader runs like the nightly cron job: its own process, loading file after file
# until the time is up, printing each load's reconciliation.
LOADER = """
import json, sys, time
from dashboard.core.config import load_config
from etl.load import load_files
config = load_config()
stop = time.monotonic() + float(sys.argv[1])
for i, path in enumerate(sys.argv[2:]):
    if i >= 2 and time.monotonic() > stop:
        break
    [r] = load_files(config, [path])
    assert r.load_id is not None and r.reconciled, r
    print(json.dumps([r.load_id, r.records_new, r.rows_rejected]), flush=True)
"""

# A second process recording like `ticket-controlling sample`, until told to stop on stdin.
CLI_WRITER = """
import select, sys, time
from dashboard.core import records
from dashboard.core.config import load_config
config = load_config()
i = 0
while not select.select([sys.stdin], [], [], 0)[0]:
    with records.transaction(config) as con:
        records.audit(con, "cli", "Stichprobe gezogen", str(i))
    i += 1
    time.sleep(0.01)
print(i, flush=True)
"""


@pytest.mark.parametrize("backend", RECORD_BACKENDS)
def test_loads_while_sessions_read_and_write(tmp_path, monkeypatch, backend, request):
    env = _env(tmp_path)
    # The records on either backend; the CLI writer process finds them through env.
    config = on_backend(load_config(environ=env), backend, request)
    env.update(records_env(config))
    monkeypatch.setattr(serving, "config", lambda: config)
    exports = [
        write_demo_export(tmp_path / str(seed), tickets=400, seed=seed, until=AS_OF)
        for seed in range(1, 2 + MAX_LOADS)
    ]
    load_files(config, [exports[0].tickets], [exports[0].absences])
    committed = {_state(connect_readonly(config))}

    python = [sys.executable, "-c"]
    files = [str(e.tickets) for e in exports[1:]]
    loader = subprocess.Popen(
        [*python, LOADER, str(LOAD_SECONDS), *files],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    cli = subprocess.Popen(
        [*python, CLI_WRITER], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )

    done = threading.Event()
    errors: list[BaseException] = []
    seen: list[list[tuple[float, tuple]]] = [[] for _ in range(READER_THREADS)]
    written: list[list[str]] = [[] for _ in range(WRITER_THREADS)]
    write_seconds: list[float] = []

    def read(n: int) -> None:
        # A dashboard session: a cursor on the current version, the verdicts of a Stichtag.
        try:
            while not done.is_set():
                started = time.monotonic()
                con = serving.connection(ADMIN, as_of=AS_OF)
                state = _state(con)
                verdicts = con.execute("SELECT count(*) FROM verdicts(?::DATE)", [AS_OF])
                assert verdicts.fetchall()[0][0] <= state[1]
                seen[n].append((started, state))
                time.sleep(0.1)
        except BaseException as exc:
            errors.append(exc)

    def write(n: int) -> None:
        # A session saving a conversation record and its audit entry.
        try:
            i = 0
            while not done.is_set():
                start = time.monotonic()
                with records.transaction(config) as con:
                    con.execute(
                        "INSERT INTO conversations (worker, month, held_on, recorded_by, "
                        "recorded_at) VALUES (?, ?, ?, ?, ?)",
                        [f"W{n}-{i}", dt.date(2026, 10, 1), AS_OF, "TL", dt.datetime.now()],
                    )
                    records.audit(con, f"S{n}", "Gespräch erfasst", str(i))
                write_seconds.append(time.monotonic() - start)
                written[n].append(f"W{n}-{i}")
                i += 1
                time.sleep(0.1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(n,)) for n in range(READER_THREADS)]
    threads += [threading.Thread(target=write, args=(n,)) for n in range(WRITER_THREADS)]
    for t in threads:
        t.start()
    try:
        out, _ = loader.communicate(timeout=LOAD_SECONDS + 60)
        # The state after each load follows from its reconciliation.
        for line in out.splitlines():
            load_id, new, rejected = json.loads(line)
            _, tickets, rejects, _ = max(committed)
            committed.add((load_id, tickets + new, rejects + rejected, True))
        # The first request after the last load starts the warm-up of the new version
        # (sessions are served the previous one meanwhile); then each session must make a
        # request after the new version is served.
        serving.connection(ADMIN, as_of=AS_OF)
        assert serving.wait_for_warmup(timeout=60)
        loaded_at = time.monotonic()
        while time.monotonic() < loaded_at + 60 and not errors:
            if all(reads and reads[-1][0] > loaded_at for reads in seen):
                break
            time.sleep(0.05)
    finally:
        done.set()
        for t in threads:
            t.join(timeout=60)
        cli_out, _ = cli.communicate("stop\n", timeout=60)
    assert loader.returncode == 0 and cli.returncode == 0
    assert not errors, errors

    # Never half a load: every state a session saw is one the loader committed.
    loads = len(committed) - 1
    assert loads >= 2, "the loader must have swapped the database several times"
    for reads in seen:
        states_seen = [state for _, state in reads]
        assert states_seen, "every session read"
        assert set(states_seen) <= committed, set(states_seen) - committed
        load_ids = [s[0] for s in states_seen]
        assert load_ids == sorted(load_ids), "a session never goes back to an older load"
        assert states_seen[-1] == max(committed), "the sessions picked up the last load"
    assert all(ok for *_, ok in committed)

    # No record lost or refused: every conversation and audit entry written is there.
    stored = records.query(config, "SELECT worker FROM conversations")["worker"]
    assert sorted(stored) == sorted(w for ws in written for w in ws)
    assert all(written), "every session wrote"
    audit = records.query(config, "SELECT who, count(*) AS n FROM audit_log GROUP BY who")
    counts = dict(zip(audit["who"], audit["n"], strict=True))
    assert counts.pop("cli") == int(cli_out) > 0
    assert counts == {f"S{n}": len(written[n]) for n in range(WRITER_THREADS)}
    check = records.verify_audit(config)  # one chain, no gaps, from three writers at once
    assert check.intact and check.head_seq == int(cli_out) + sum(map(len, written))
    print(
        f"{loads} loads, {sum(map(len, seen))} reads, {len(write_seconds)} + {int(cli_out)} "
        f"record writes, slowest session write {max(write_seconds):.2f} s"
    )


def test_a_read_in_progress_survives_another_session_opening_the_new_load(
    config, write_export, load, monkeypatch
):
    from tests.conftest import ticket_row

    monkeypatch.setattr(serving, "config", lambda: config)
    load(write_export([ticket_row(**{"Ticket-ID": "A"})]))
    reading = serving.connection(ADMIN).execute("SELECT ticket_id FROM tickets")
    load(write_export([ticket_row(**{"Ticket-ID": "B"})]))
    # Another session's request after the load (and its warm-up) gets the new version ...
    serving.connection(ADMIN)
    assert serving.wait_for_warmup(timeout=60)
    other = serving.connection(ADMIN).execute("SELECT count(*) FROM tickets").fetchall()
    assert other == [(2,)]
    # ... and the first session's read still completes on the version it started with.
    assert reading.fetchall() == [("A",)]
