"""The dashboard's own records: conversations (A10), sample draws and results (B3), audit.

They live apart from the loaded tickets, where no load ever writes: in the embedded DuckDB
file `Config.app_database` (the default), or in PostgreSQL when `[records] url` is set, so
that several dashboard processes (replicas behind a proxy) share them. Both go through one
code path: `transaction` yields a `Connection` that runs the same SQL on either (parameters
written `?` or `$name`). Every access is a short transaction; records are only appended or,
for results, superseded by a newer row: nothing recorded is updated in place. Only the
retention purge (`dashboard.core.retention`) deletes, by age, and leaves an anchor for the
audit chain. The schema is the versioned SQL files in `migrations/`, applied at the first
connection.

DuckDB lets one process write a file at a time: connections retry while another process
holds the file, and writers of one process take turns. PostgreSQL serialises only what must
be: appends to the audit chain take a transaction-scoped advisory lock, so two replicas
auditing at once still make one chain without gaps.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import hmac
import math
import os
import random
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from dashboard.core.config import Config
from dashboard.core.keys import load_or_create_key
from dashboard.core.storage import io_reason

MIGRATIONS = Path(__file__).with_name("migrations")
RETRY_SECONDS = 15.0
# Within one process (the dashboard serves every session from one), DuckDB writes take
# turns: they are tiny, and DuckDB would refuse two concurrent creations of the schema.
_process_lock = threading.RLock()  # re-entrant: a read inside a write must not deadlock
_schema_ready: set[str] = set()
# What appends to the audit chain (and the purge that cuts it) serialise on in PostgreSQL.
AUDIT_LOCK = "ticket-controlling audit_log"


class RecordsBusy(Exception):
    """The records database stayed locked or unreachable for too long."""


def migrations() -> list[tuple[int, str, str]]:
    """The versioned schema files `NNNN_name.sql`, in order: (version, name, SQL)."""
    found = []
    for path in sorted(MIGRATIONS.glob("*.sql")):
        number, _, name = path.stem.partition("_")
        found.append((int(number), name, path.read_text(encoding="utf-8")))
    return found


def uses_postgres(config: Config) -> bool:
    """Whether the records are in PostgreSQL (`[records] url`) rather than the DuckDB file."""
    return config.records.url is not None


def location(config: Config) -> str:
    """Where the records are, for messages (a URL carries no password: config refuses one)."""
    if not uses_postgres(config):
        return str(config.app_database)
    parts = urllib.parse.urlsplit(config.records.url)
    return f"PostgreSQL {parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"


def exists(config: Config) -> bool:
    """Whether there can be records already (a PostgreSQL database always counts)."""
    return uses_postgres(config) or config.app_database.exists()


# Parameters are written as DuckDB takes them (`?`, `$name`); psycopg wants `%s`,
# `%(name)s` and a doubled `%`. String literals are left as they are.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|\$([A-Za-z_]\w*)|%")


@functools.lru_cache(maxsize=256)
def _psycopg_sql(sql: str) -> str:
    def swap(match: re.Match) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return f"%({match.group(1)})s" if match.group(1) else token

    return _TOKENS.sub(swap, sql)


def _plain(value):
    # psycopg adapts Python's own types only; frames hand over numpy and pandas scalars.
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


# PostgreSQL type oids whose values pandas gets as Python objects: made the dtypes DuckDB's
# `.df()` gives, so callers see the same frame from either backend.
_DATETIME_OIDS = {1082, 1114, 1184}  # date, timestamp, timestamptz
_INTEGER_OIDS = {20, 21, 23}  # bigint, smallint, integer


class _PgResult:
    """A psycopg cursor after `execute`, read like DuckDB's result (`fetch*`, `df`)."""

    def __init__(self, cursor) -> None:
        self._cursor = cursor

    def fetchone(self):
        return self._cursor.fetchone()

    def fetchall(self) -> list:
        return self._cursor.fetchall()

    def df(self) -> pd.DataFrame:
        columns = self._cursor.description or []
        frame = pd.DataFrame(self._cursor.fetchall(), columns=[c.name for c in columns])
        for column in columns:
            values = frame[column.name]
            if column.type_code in _DATETIME_OIDS:
                frame[column.name] = pd.to_datetime(values).astype("datetime64[us]")
            elif column.type_code in _INTEGER_OIDS:
                frame[column.name] = values.astype("Int64" if values.isna().any() else "int64")
        return frame


class Connection:
    """One transaction on the records database: the same calls for DuckDB and PostgreSQL."""

    def __init__(self, raw, *, postgres: bool, key: bytes | None = None) -> None:
        self.raw = raw  # the driver's connection, for what only one backend has (CHECKPOINT)
        self.postgres = postgres
        self.key = key  # the audit key (`audit` gets only the connection)

    def execute(self, sql: str, params: list | tuple | dict | None = None):
        """Run one statement; the result has `fetchone`, `fetchall` and `df`."""
        if not self.postgres:
            return self.raw.execute(sql, params) if params is not None else self.raw.execute(sql)
        cursor = self.raw.cursor()
        if params is None:
            cursor.execute(sql)
        elif isinstance(params, dict):
            cursor.execute(_psycopg_sql(sql), {k: _plain(v) for k, v in params.items()})
        else:
            cursor.execute(_psycopg_sql(sql), [_plain(v) for v in params])
        return _PgResult(cursor)

    def executemany(self, sql: str, rows) -> None:
        """Run one statement for each row of parameters."""
        rows = [[_plain(v) for v in row] for row in rows]
        if self.postgres:
            self.raw.cursor().executemany(_psycopg_sql(sql), rows)
        else:
            self.raw.executemany(sql, rows)

    def serialise(self, name: str) -> None:
        """Wait for other transactions that serialise on `name`; held until this one ends."""
        # DuckDB has one writer at a time anyway (process lock and file lock).
        if self.postgres:
            self.execute("SELECT pg_advisory_xact_lock(hashtext($name))", {"name": name})


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflict" in text


@contextlib.contextmanager
def transaction(config: Config) -> Iterator[Connection]:
    """One short transaction on the records database, retried while it is locked."""
    if uses_postgres(config):
        with _postgres_transaction(config) as con:
            yield con
    else:
        with _process_lock, _duckdb_transaction(config) as con:
            yield con


def _migrate(con: Connection) -> None:
    """Apply the migrations this database lacks, in order, inside the caller's transaction."""
    # Two replicas starting at once against an empty database: one applies, one waits.
    con.serialise("ticket-controlling migrations")
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    applied = {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
    for number, name, sql in migrations():
        if number not in applied:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)", [number, name, dt.datetime.now()]
            )


def _retry(connect, config: Config, transient):
    """`connect()`, tried again with jitter while `transient(exc)` until RETRY_SECONDS pass."""
    deadline = time.monotonic() + RETRY_SECONDS
    delay = 0.02
    while True:
        try:
            return connect()
        except Exception as exc:
            if not transient(exc):  # a full disk, a wrong password: no use waiting
                reason = io_reason(exc) or str(exc).strip().splitlines()[0]
                raise RecordsBusy(
                    f"Die Aufzeichnungen ({location(config)}) können nicht geöffnet werden: "
                    f"{reason}."
                ) from exc
            if time.monotonic() > deadline:
                raise RecordsBusy(
                    "Die Aufzeichnungen sind gerade gesperrt oder nicht erreichbar; "
                    "bitte gleich noch einmal versuchen."
                ) from exc
            # Jitter: two waiting processes must not retry in lockstep.
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)


@contextlib.contextmanager
def _duckdb_transaction(config: Config) -> Iterator[Connection]:
    path = config.app_database
    path.parent.mkdir(parents=True, exist_ok=True)
    # Another process has the file open for writing: wait; any other error: say why.
    raw = _retry(
        lambda: duckdb.connect(str(path)),
        config,
        lambda exc: isinstance(exc, duckdb.IOException) and _is_lock_error(exc),
    )
    con = Connection(raw, postgres=False, key=audit_key(config))
    try:
        if str(path) not in _schema_ready:
            raw.execute("BEGIN TRANSACTION")
            _migrate(con)
            raw.execute("COMMIT")
            _schema_ready.add(str(path))
        raw.execute("BEGIN TRANSACTION")
        try:
            yield con
            try:
                raw.execute("COMMIT")
            except duckdb.Error as exc:
                if (reason := io_reason(exc)) is None:
                    raise
                raise RecordsBusy(
                    f"Die Aufzeichnungen {path} konnten nicht gespeichert werden: {reason}."
                ) from exc
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT already ended it
                raw.execute("ROLLBACK")
            raise
    finally:
        raw.close()


def _pg_connect(config: Config):
    import psycopg  # only where PostgreSQL is configured

    options = {"connect_timeout": 10, "application_name": "ticket-controlling"}
    if config.records.password_file is not None:
        # Read at each connection: a rotated password needs no restart. Never logged.
        options["password"] = config.records.password_file.read_text(encoding="utf-8").strip()
    return psycopg.connect(config.records.url, **options)


def _pg_transient(exc: Exception) -> bool:
    import psycopg

    text = str(exc).lower()
    return isinstance(exc, psycopg.OperationalError) and any(
        word in text for word in ("refused", "starting up", "shutting down", "timeout", "too many")
    )


@contextlib.contextmanager
def _postgres_transaction(config: Config) -> Iterator[Connection]:
    import psycopg

    raw = _retry(lambda: _pg_connect(config), config, _pg_transient)
    con = Connection(raw, postgres=True, key=audit_key(config))
    try:
        if config.records.url not in _schema_ready:
            _migrate(con)
            raw.commit()
            _schema_ready.add(config.records.url)
        try:
            yield con
        except BaseException:
            with contextlib.suppress(psycopg.Error):
                raw.rollback()
            raise
        try:
            raw.commit()
        except psycopg.OperationalError as exc:
            raise RecordsBusy(
                f"Die Aufzeichnungen ({location(config)}) konnten nicht gespeichert werden: "
                f"{str(exc).strip().splitlines()[0]}."
            ) from exc
    finally:
        raw.close()


def query(config: Config, sql: str, params: list | dict | None = None) -> pd.DataFrame:
    """Read from the records database (short transaction, retried while locked)."""
    with transaction(config) as con:
        return con.execute(sql, params or []).df()


def version(config: Config) -> tuple:
    """Identity of the records database: changes when something was recorded."""
    if uses_postgres(config):
        # Every record takes its id from the one sequence: its position moves with each.
        with transaction(config) as con:
            return tuple(con.execute("SELECT last_value, is_called FROM record_ids").fetchone())
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


def _start(con: Connection) -> tuple[int, str, bool]:
    """(seq, chain) the log continues from, and whether that start is genuine (keyed)."""
    rows = con.execute("SELECT seq, chain, cut_before, mac FROM audit_anchor").fetchall()
    if not rows:
        return 0, "", True
    if len(rows) > 1:
        return 0, "", False
    seq, chain, cut_before, mac = rows[0]
    genuine = hmac.compare_digest(mac, anchor_mac(con.key, seq, chain, cut_before))
    return seq, chain, genuine


def audit(con: Connection, who: str, action: str, detail: str = "") -> None:
    """Append one audit entry inside the caller's transaction, chained to the previous one."""
    key = con.key
    # "previous" must stay the newest entry until this transaction commits: in PostgreSQL
    # an advisory lock held to the end of the transaction; in DuckDB writers are serial.
    con.serialise(AUDIT_LOCK)
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
    if not exists(config):
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
