"""The database files, their schema and every connection to them.

Layout (docs/architecture.md): the loaded data lives in one DuckDB file that each load
rebuilds as a copy and swaps in with an atomic rename, so readers never wait for a load
and never see half of one. The dashboard's own records live in a second file that no
load touches. This module is the only place that opens either.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from dashboard.core import rules
from dashboard.core.config import Config

SCHEMA_VERSION = "1"
# Files hold names, samples and the access log: readable by the service account only.
PRIVATE_UMASK = 0o077


def private_files() -> None:
    """Make every file this process creates from now on readable by its owner only (0600)."""
    os.umask(PRIVATE_UMASK)


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS load_log (
    load_id INTEGER PRIMARY KEY,
    kind VARCHAR NOT NULL,            -- 'tickets' or 'absences'
    file_name VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    encoding VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    rows_duplicate BIGINT NOT NULL,
    records_new BIGINT NOT NULL,
    records_replaced BIGINT NOT NULL,
    CHECK (rows_read = rows_loaded + rows_rejected + rows_duplicate)
);
-- The raw events of each ticket as the latest export gave them; every verdict is
-- computed from these at query time (dashboard.queries.metrics), nothing derived is stored.
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id VARCHAR NOT NULL,
    area VARCHAR NOT NULL,
    team VARCHAR NOT NULL,
    worker VARCHAR NOT NULL,
    received DATE NOT NULL,
    completed DATE,
    channel VARCHAR NOT NULL,
    concern VARCHAR NOT NULL,
    customer UBIGINT,                 -- keyed hash (HMAC-SHA256, 64 bits), never the number
    notified DATE,
    commitment DATE,
    verbis_note BOOLEAN NOT NULL,
    called_back DATE,
    tl_informed DATE,
    walkin_note DATE,
    load_id INTEGER NOT NULL,
    source_record BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS absences (
    worker VARCHAR NOT NULL,
    date_from DATE NOT NULL,
    date_to DATE NOT NULL,
    substitute VARCHAR,
    load_id INTEGER NOT NULL,
    source_record BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejects (
    load_id INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    record BIGINT NOT NULL,
    ticket_id VARCHAR,
    reason VARCHAR NOT NULL,
    raw VARCHAR                       -- the record's fields for the person fixing it
);
"""


class StorageError(Exception):
    """The database cannot be opened or written; the message says why in German."""


# What the operating system or DuckDB says, and what the person at the console reads.
_REASONS = (
    (errno.ENOSPC, "no space left on device", "kein Speicherplatz mehr frei"),
    (errno.EDQUOT, "disk quota exceeded", "das Speicherkontingent ist erschöpft"),
    (errno.EFBIG, "file too large", "die Datei überschreitet die erlaubte Dateigröße"),
    (errno.EROFS, "read-only file system", "das Dateisystem ist schreibgeschützt"),
    (errno.EACCES, "permission denied", "keine Berechtigung"),
    (errno.EPERM, "operation not permitted", "keine Berechtigung"),
    (errno.ENOTDIR, "not a directory", "ein Teil des Pfads ist kein Verzeichnis"),
    (errno.ENOENT, "no such file or directory", "ein Verzeichnis des Pfads fehlt"),
    (errno.EIO, "input/output error", "Ein-/Ausgabefehler des Datenträgers"),
)
# DuckDB reports a failed write as one of these; anything else is a bug, not the disk.
_DUCKDB_IO_MARKERS = ("io error", "could not write", "could not read", "could not open",
                      "could not truncate", "could not sync", "could not fsync")  # fmt: skip


def io_reason(exc: BaseException) -> str | None:
    """The German reason when `exc` (or what it interrupted) is a file-system failure."""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen).lower()
        number = getattr(seen, "errno", None)
        for code, english, german in _REASONS:
            if number == code or english in text:
                return german
        if isinstance(seen, OSError | duckdb.IOException) or any(
            marker in text for marker in _DUCKDB_IO_MARKERS
        ):
            first_line = (getattr(seen, "strerror", None) or str(seen)).splitlines()[0]
            return f"Ein-/Ausgabefehler ({first_line})"
        # A failed ROLLBACK after a failed COMMIT hides the write error it follows.
        seen = seen.__cause__ or seen.__context__
    return None


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables of the loaded-data database where they are missing."""
    con.execute(SCHEMA)
    con.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [SCHEMA_VERSION]
    )


def ensure_database(config: Config) -> Path:
    """Create an empty database with the schema when there is none yet."""
    path = config.database
    if not path.exists():
        with writable_copy(config) as db:
            db.changed = True
    return path


DEMO_BUILD = "demo-data"  # meta.built_by of a database `ticket-controlling demo-data` built


def is_demo_database(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether demo-data built the database and no real export was ever loaded into it."""
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    return meta.get("built_by") == DEMO_BUILD and "real_data_loaded" not in meta


LOADED_TABLES = ("meta", "load_log", "tickets", "absences", "rejects")


def connect_readonly(config: Config, *, snapshots: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the loaded data attached read-only and the rules installed.

    The rules tables live in the in-memory catalog, so every `cursor()` of the connection
    (one per Streamlit session thread) sees them; the data file itself is never locked
    for writing.
    """
    path = ensure_database(config)
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS store (READ_ONLY)", [str(path)])
    except duckdb.Error as exc:
        con.close()
        reason = io_reason(exc) or str(exc).splitlines()[0]
        raise StorageError(f"Die Datenbank {path} kann nicht geöffnet werden: {reason}.") from exc
    for table in LOADED_TABLES:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM store.{table}")
    person = rules.PERSON_SQL.format(worker="worker")
    con.execute(
        f"CREATE OR REPLACE VIEW tickets AS SELECT *, {person} AS person FROM store.tickets"
    )
    rules.install(con, config, snapshots=snapshots)
    return con


# itertools.count is safe to advance from several session threads (a generator is not)
_frame_names = itertools.count()


@contextlib.contextmanager
def registered_frame(con: duckdb.DuckDBPyConnection, frame) -> Iterator[str]:
    """Make a DataFrame queryable under a unique name for the duration of the block."""
    # A unique name per use: one connection may serve several sessions' queries in turn.
    name = f"_frame_{next(_frame_names)}"
    con.register(name, frame)
    try:
        yield name
    finally:
        con.unregister(name)


def file_identity(config: Config) -> tuple[int, int] | None:
    """(inode, mtime) of the database file: changes exactly when a load swapped it."""
    try:
        st = os.stat(config.database)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


@contextlib.contextmanager
def _load_lock(path: Path) -> Iterator[None]:
    # One load at a time: a second one waits instead of losing the first one's work.
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class WritableDatabase:
    """A private copy of the database; `changed` decides whether it replaces the original."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.changed = False


@contextlib.contextmanager
def writable_copy(config: Config, *, fresh: bool = False) -> Iterator[WritableDatabase]:
    """A private copy of the database, swapped in atomically when the block set `changed`.

    With `fresh`, the copy starts empty: the swap then replaces all loaded data at once.
    """
    path = config.database
    with contextlib.ExitStack() as stack:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            stack.enter_context(_load_lock(path))
        except OSError as exc:
            raise StorageError(
                f"Das Datenverzeichnis {path.parent} ist nicht beschreibbar: {io_reason(exc)}."
            ) from exc
        yield from _swap_in(path, fresh)


def _swap_in(path: Path, fresh: bool) -> Iterator[WritableDatabase]:
    # Runs under the load lock: copy, let the caller write, then replace atomically.
    tmp: Path | None = None
    try:
        # Leftovers of a killed load are never read; remove them. A load that spilled to
        # disk also leaves DuckDB's temp directory (`<copy>.tmp/`).
        for stale in path.parent.glob(f".{path.name}.*.tmp*"):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        if path.exists() and not fresh:
            shutil.copyfile(path, tmp)
        else:
            tmp.unlink()
        db = WritableDatabase(duckdb.connect(str(tmp)))
        try:
            init_schema(db.con)
            yield db
            db.con.execute("CHECKPOINT")
        finally:
            db.con.close()
        if db.changed:
            _fsync(tmp)
            os.replace(tmp, path)
            tmp = None
            _fsync(path.parent)
    except (OSError, duckdb.Error) as exc:
        reason = io_reason(exc)
        if reason is None:
            raise
        raise StorageError(
            f"Die Datenbank {path} konnte nicht geschrieben werden: {reason}. "
            "Der bisherige Stand ist unverändert."
        ) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
            Path(str(tmp) + ".wal").unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
