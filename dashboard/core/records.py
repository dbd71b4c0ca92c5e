"""The dashboard's own records: conversations (A10), sample draws and results (B3), audit.

They live in the second database file (`Config.app_database`) that no load ever opens, so
a reload, a refused export or a crash of a load cannot lose them. DuckDB lets one process
write a file at a time; the dashboard and the CLI (`sample`) may both record, so every
access is a short connection (open, one transaction, close) that retries for a while when
another process holds the file. Records are only appended or, for results, superseded by
a newer row: nothing recorded is ever updated in place. Only the retention purge
(`dashboard.core.retention`) deletes, by age, and leaves an anchor for the audit chain.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.core.config import Config
from dashboard.core.keys import load_or_create_key
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
-- One row per monthly report delivered by e-mail (`send-reports`): a month's report goes to
-- a subscriber once; a failed delivery leaves no row and is tried again on the next run.
CREATE TABLE IF NOT EXISTS report_sendings (
    id BIGINT PRIMARY KEY DEFAULT nextval('record_ids'),
    month DATE NOT NULL,              -- the report's month (first day)
    login VARCHAR NOT NULL,           -- the subscriber, as in the users file
    email VARCHAR NOT NULL,
    as_of DATE NOT NULL,              -- the Stichtag of the report sent
    files VARCHAR NOT NULL,           -- the attachments' names, comma-separated
    sent_by VARCHAR NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    UNIQUE (month, login)
);
CREATE TABLE IF NOT EXISTS audit_log (
    id BIGINT PRIMARY KEY DEFAULT nextval('record_ids'),
    logged_at TIMESTAMP NOT NULL,
    who VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    detail VARCHAR,
    seq BIGINT NOT NULL UNIQUE,      -- 1, 2, 3, ... without gaps: a missing entry is a break
    -- HMAC-SHA256, keyed outside this database, over the previous entry's chain and this
    -- entry: an entry changed, deleted or inserted afterwards breaks the chain, and nobody
    -- without the key can compute a new one (`verify_audit`).
    chain VARCHAR NOT NULL
);
-- Where the log starts after the retention purge removed its oldest entries
-- (dashboard.core.retention): the last removed entry's seq and chain, and an HMAC over
-- both, so that nobody without the key can move the start to hide removed entries.
CREATE TABLE IF NOT EXISTS audit_anchor (
    seq BIGINT NOT NULL,
    chain VARCHAR NOT NULL,
    cut_before TIMESTAMP NOT NULL,
    mac VARCHAR NOT NULL
);
"""

RETRY_SECONDS = 15.0
# Within one process (the dashboard serves every session from one), writes take turns:
# they are tiny, and DuckDB would refuse two concurrent creations of the schema.
_process_lock = threading.RLock()  # re-entrant: a read inside a write must not deadlock
_schema_ready: set[str] = set()
# The audit key of each open records connection (`audit` gets only the connection).
_keys: dict[int, bytes] = {}


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
    _keys[id(con)] = audit_key(config)
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
        _keys.pop(id(con), None)
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


def _chain(
    key: bytes, previous: str, seq: int, logged_at: dt.datetime, who: str, action: str, detail
) -> str:
    fields = [previous, str(seq), logged_at.isoformat(), who, action, detail or ""]
    return hmac.new(key, "\x1f".join(fields).encode("utf-8"), hashlib.sha256).hexdigest()


def audit_key(config: Config) -> bytes:
    """The key of the audit chain, derived from the key file (never stored in a database)."""
    return hmac.new(load_or_create_key(config.storage.key_file), b"audit-log", "sha256").digest()


def anchor_mac(key: bytes, seq: int, chain: str, cut_before: dt.datetime) -> str:
    """The keyed fingerprint of an audit anchor (the start of the log after a purge)."""
    fields = ["anchor", str(seq), chain, cut_before.isoformat()]
    return hmac.new(key, "\x1f".join(fields).encode("utf-8"), hashlib.sha256).hexdigest()


def _start(con: duckdb.DuckDBPyConnection) -> tuple[int, str, bool]:
    """(seq, chain) the log continues from, and whether that start is genuine (keyed)."""
    rows = con.execute("SELECT seq, chain, cut_before, mac FROM audit_anchor").fetchall()
    if not rows:
        return 0, "", True
    if len(rows) > 1:
        return 0, "", False
    seq, chain, cut_before, mac = rows[0]
    genuine = hmac.compare_digest(mac, anchor_mac(_key_of(con), seq, chain, cut_before))
    return seq, chain, genuine


def _key_of(con: duckdb.DuckDBPyConnection) -> bytes:
    return _keys[id(con)]  # set by `transaction`: audits are written only inside one


def audit(con: duckdb.DuckDBPyConnection, who: str, action: str, detail: str = "") -> None:
    """Append one audit entry inside the caller's transaction, chained to the previous one."""
    key = _key_of(con)
    # Writers are serialised (process lock, DuckDB's file lock), so "previous" is stable.
    last = con.execute("SELECT seq, chain FROM audit_log ORDER BY seq DESC LIMIT 1").fetchall()
    if last:
        seq, previous = last[0][0] + 1, last[0][1]
    else:  # empty, or every entry purged: continue after the anchor
        start, previous, _ = _start(con)
        seq = start + 1
    logged_at = dt.datetime.now()
    con.execute(
        "INSERT INTO audit_log (logged_at, who, action, detail, seq, chain) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [logged_at, who, action, detail, seq,
         _chain(key, previous, seq, logged_at, who, action, detail)],
    )  # fmt: skip


@dataclass(frozen=True)
class AuditCheck:
    """The outcome of `verify_audit`: where the chain breaks (None: intact) and its head."""

    broken_at: int | None  # seq of the first entry that does not fit
    reason: str
    head_seq: int
    head_chain: str

    @property
    def intact(self) -> bool:
        """Whether every entry is there, unchanged, in order."""
        return self.broken_at is None


def verify_audit(config: Config, head: tuple[int, str] | None = None) -> AuditCheck:
    """Check the whole audit chain, and against a head kept outside (`seq`, `chain`)."""
    key = audit_key(config)
    with transaction(config) as con:
        entries = con.execute(
            "SELECT seq, logged_at, who, action, detail, chain FROM audit_log ORDER BY seq"
        ).df()
        start, previous, genuine = _start(con)
    if not genuine:
        return AuditCheck(start, "Anfang des Protokolls verändert", start, previous)
    expected_seq = start + 1
    # A plain loop over the log (not over tickets): each link depends on the one before.
    for row in entries.itertuples(index=False):
        if row.seq != expected_seq:
            return AuditCheck(expected_seq, "Eintrag fehlt", expected_seq - 1, previous)
        detail = row.detail if isinstance(row.detail, str) else ""
        when = row.logged_at.to_pydatetime()
        if row.chain != _chain(key, previous, row.seq, when, row.who, row.action, detail):
            return AuditCheck(int(row.seq), "Eintrag verändert", expected_seq - 1, previous)
        previous, expected_seq = row.chain, expected_seq + 1
    head_seq = expected_seq - 1
    if head is not None:
        # Entries removed from the end leave no gap: only a head kept outside shows them.
        seq, chain = head
        if head_seq < seq:
            return AuditCheck(head_seq + 1, "Einträge am Ende fehlen", head_seq, previous)
        kept = entries.loc[entries["seq"] == seq, "chain"]
        if seq > start and (kept.empty or kept.iloc[0] != chain):
            return AuditCheck(seq, "Eintrag verändert", head_seq, previous)
    return AuditCheck(None, "", head_seq, previous)


def log(config: Config, who: str, action: str, detail: str = "") -> None:
    """Append one audit entry in its own short transaction."""
    with transaction(config) as con:
        audit(con, who, action, detail)


def sent_reports(config: Config, month: dt.date) -> set[str]:
    """The logins the report of `month` (its first day) has been delivered to."""
    if not config.app_database.exists():
        return set()
    frame = query(config, "SELECT login FROM report_sendings WHERE month = ?", [month])
    return set(frame["login"])


def record_sending(
    config: Config, who: str, month: dt.date, login: str, email: str, as_of: dt.date, files: str
) -> None:
    """Record a delivered report and audit it, in one transaction."""
    with transaction(config) as con:
        con.execute(
            "INSERT INTO report_sendings (month, login, email, as_of, files, sent_by, sent_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [month, login, email, as_of, files, who, dt.datetime.now()],
        )
        audit(con, who, "Bericht versandt", f"{month:%Y-%m} an {login} <{email}>: {files}")


def audit_entries(config: Config, limit: int = 5000) -> pd.DataFrame:
    """The newest audit entries first (for the administration only)."""
    return query(
        config,
        "SELECT seq, logged_at, who, action, detail FROM audit_log ORDER BY seq DESC LIMIT ?",
        [limit],
    )


def export_audit(config: Config, target) -> AuditCheck:
    """Write every audit entry with its chain as JSON lines (for an append-only store)."""
    check = verify_audit(config)
    entries = query(
        config, "SELECT seq, logged_at, who, action, detail, chain FROM audit_log ORDER BY seq"
    )
    entries.to_json(target, orient="records", lines=True, date_format="iso", force_ascii=False)
    return check
