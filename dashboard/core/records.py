"""The dashboard's own records: conversations (A10), sample draws and results (B3), audit.

They live in the second database file (`Config.app_database`) that no load ever opens, so
a reload, a refused export or a crash of a load cannot lose them. DuckDB lets one process
write a file at a time; the dashboard and the CLI (`sample`) may both record, so every
access is a short connection (open, one transaction, close) that retries for a while when
another process holds the file. Records are only appended or, for results, superseded by
a newer row: nothing recorded is ever updated in place or deleted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.core.config import Config
from dashboard.core.storage import io_reason

SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS record_ids;
CREATE TABLE IF NOT EXISTS conversations (
    id BIGINT PRIMARY KEY DEFAULT nextval('record_ids'),
    worker VARCHAR NOT NULL,
    month DATE NOT NULL,              -- the month of due date of the repeat case (A10)
    held_on DATE NOT NULL,            -- the date the conversation took place
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS sample_draws (
    draw_id BIGINT PRIMARY KEY DEFAULT nextval('record_ids'),
    drawn_by VARCHAR NOT NULL,
    drawn_at TIMESTAMP NOT NULL,
    as_of DATE NOT NULL,
    period_from DATE NOT NULL,
    period_to DATE NOT NULL,
    teams VARCHAR[] NOT NULL,         -- empty: all Integration teams
    method VARCHAR NOT NULL,          -- 'per_worker', 'size' or 'percent'
    amount DOUBLE NOT NULL,
    seed BIGINT NOT NULL,
    population INTEGER NOT NULL
);
-- What was drawn, as it was when drawn: a later export cannot change a recorded sample.
CREATE TABLE IF NOT EXISTS sample_items (
    draw_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    ticket_id VARCHAR NOT NULL,
    team VARCHAR NOT NULL,
    worker VARCHAR NOT NULL,
    receipt_date DATE NOT NULL,
    due_date DATE NOT NULL,
    completion_date DATE NOT NULL,
    status VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,    -- fingerprint of the ticket's events when drawn
    PRIMARY KEY (draw_id, position)
);
-- Append-only: the latest result of a ticket in a draw counts, earlier ones stay.
CREATE TABLE IF NOT EXISTS sample_results (
    id BIGINT PRIMARY KEY DEFAULT nextval('record_ids'),
    draw_id BIGINT NOT NULL,
    ticket_id VARCHAR NOT NULL,
    result VARCHAR NOT NULL CHECK (result IN ('bestätigt', 'nicht bestätigt')),
    comment VARCHAR,
    checked_by VARCHAR NOT NULL,
    checked_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_log (
    id BIGINT PRIMARY KEY DEFAULT nextval('record_ids'),
    logged_at TIMESTAMP NOT NULL,
    who VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    detail VARCHAR
);
-- Each entry's SHA-256 over the previous entry's chain and its own fields: an entry changed
-- or deleted afterwards breaks the chain of every later one (`verify_audit`).
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS chain VARCHAR;
"""

RETRY_SECONDS = 15.0
# Within one process (the dashboard serves every session from one), writes take turns:
# they are tiny, and DuckDB would refuse two concurrent creations of the schema.
_process_lock = threading.RLock()  # re-entrant: a read inside a write must not deadlock
_schema_ready: set[str] = set()


class RecordsBusy(Exception):
    """The records database stayed locked by another process for too long."""


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflict" in text


@contextlib.contextmanager
def transaction(config: Config) -> Iterator[duckdb.DuckDBPyConnection]:
    """One short write transaction on the records database, retried while it is locked."""
    with _process_lock, _transaction(config) as con:
        yield con


@contextlib.contextmanager
def _transaction(config: Config) -> Iterator[duckdb.DuckDBPyConnection]:
    path = config.app_database
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + RETRY_SECONDS
    delay = 0.02
    while True:
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.IOException as exc:  # another process has the file open for writing
            if not _is_lock_error(exc):  # a full disk, a read-only path: no use waiting
                reason = io_reason(exc) or str(exc).splitlines()[0]
                raise RecordsBusy(
                    f"Die Aufzeichnungen {path} können nicht geöffnet werden: {reason}."
                ) from exc
            if time.monotonic() > deadline:
                raise RecordsBusy(
                    "Die Aufzeichnungen sind gerade gesperrt; bitte gleich noch einmal versuchen."
                ) from exc
            # Jitter: two waiting processes must not retry in lockstep.
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)
    try:
        if str(path) not in _schema_ready:
            con.execute(SCHEMA)
            _schema_ready.add(str(path))
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            try:
                con.execute("COMMIT")
            except duckdb.Error as exc:
                if (reason := io_reason(exc)) is None:
                    raise
                raise RecordsBusy(
                    f"Die Aufzeichnungen {path} konnten nicht gespeichert werden: {reason}."
                ) from exc
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT already ended it
                con.execute("ROLLBACK")
            raise
    finally:
        con.close()


def query(config: Config, sql: str, params: list | dict | None = None) -> pd.DataFrame:
    """Read from the records database (short connection, retried while locked)."""
    with transaction(config) as con:
        return con.execute(sql, params or []).df()


def version(config: Config) -> tuple:
    """Identity of the records database files: changes when something was recorded."""
    out = []
    for path in (config.app_database, Path(f"{config.app_database}.wal")):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            out.append(None)
        else:
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(out)


def _chain(previous: str, logged_at: dt.datetime, who: str, action: str, detail: str) -> str:
    fields = [previous, logged_at.isoformat(), who, action, detail or ""]
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def audit(con: duckdb.DuckDBPyConnection, who: str, action: str, detail: str = "") -> None:
    """Append one audit entry inside the caller's transaction, chained to the previous one."""
    # Writers are serialised (process lock, DuckDB's file lock), so "previous" is stable.
    last = con.execute("SELECT chain FROM audit_log ORDER BY id DESC LIMIT 1").fetchall()
    previous = (last[0][0] or "") if last else ""
    logged_at = dt.datetime.now()
    con.execute(
        "INSERT INTO audit_log (logged_at, who, action, detail, chain) VALUES (?, ?, ?, ?, ?)",
        [logged_at, who, action, detail, _chain(previous, logged_at, who, action, detail)],
    )


def verify_audit(config: Config) -> int | None:
    """The id of the first audit entry whose chain does not match (changed), or None."""
    entries = query(
        config, "SELECT id, logged_at, who, action, detail, chain FROM audit_log ORDER BY id"
    )
    previous = ""
    # A plain loop over the log (not over tickets): each link depends on the one before.
    for row in entries.itertuples(index=False):
        if row.chain is None and previous == "":
            continue  # written before the chain existed
        detail = row.detail if isinstance(row.detail, str) else ""
        expected = _chain(previous, row.logged_at.to_pydatetime(), row.who, row.action, detail)
        if row.chain != expected:
            return int(row.id)
        previous = row.chain
    return None


def log(config: Config, who: str, action: str, detail: str = "") -> None:
    """Append one audit entry in its own short transaction."""
    with transaction(config) as con:
        audit(con, who, action, detail)


def audit_entries(config: Config, limit: int = 5000) -> pd.DataFrame:
    """The newest audit entries first (for the administration only)."""
    return query(
        config,
        "SELECT logged_at, who, action, detail FROM audit_log ORDER BY id DESC LIMIT ?",
        [limit],
    )
