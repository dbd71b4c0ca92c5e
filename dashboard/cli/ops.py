"""`ticket-controlling backup` and `restore`: copies of both database files, taken and put
back while the dashboard runs and loads may start (docs/operations.md).

The loaded-data file is never written in place (a load swaps in a new file), so an open
file descriptor on it is a consistent snapshot: the backup copies from that descriptor and
never waits for a load. The records file is written in place in short transactions; the
backup holds it like a writer does (other writers wait a moment), checkpoints it and copies
it. A restore of loaded data goes through the same locked copy-and-swap as a load, so
readers switch to it like to a new load; a restore of the records replaces the file while
holding it. The pseudonym key is not copied: it belongs in a separate, protected place.

Records in PostgreSQL (`[records] url`) are dumped with `pg_dump` (custom format, one
consistent snapshot while replicas keep writing) and put back with `pg_restore` in a single
transaction; both are Debian's `postgresql-client` and get the password through the
environment of the child process only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb

from dashboard.core import records
from dashboard.core.config import Config
from dashboard.core.storage import (
    LOADED_TABLES,
    SCHEMA_VERSION,
    StorageError,
    io_reason,
    writable_copy,
)

DUCKDB_MAGIC = b"DUCK"  # bytes 8..11 of every DuckDB database file
PG_DUMP_MAGIC = b"PGDMP"  # the first bytes of a pg_dump file in custom format
RECORD_TABLES = ("conversations", "sample_draws", "sample_items", "sample_results", "audit_log")


class RestoreRefused(Exception):
    """The file cannot be restored; the German message says why. Nothing was changed."""


def add_parsers(subparsers, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Add the `backup` and `restore` sub-commands."""
    backup_parser = subparsers.add_parser(
        "backup",
        parents=list(parents),
        help="beide Datenbanken sichern (auch während eines Ladevorgangs)",
    )
    backup_parser.add_argument("--out", type=Path, required=True, help="Zielverzeichnis")
    restore_parser = subparsers.add_parser(
        "restore",
        parents=list(parents),
        help="eine Sicherung zurückspielen (Ticket-Daten oder Aufzeichnungen)",
    )
    restore_parser.add_argument("file", type=Path, help="Sicherungsdatei (.duckdb, .pgdump)")


def run_backup(config: Config, args) -> int:
    """Write both database files into `--out`; prints what was written and the key hint."""
    try:
        written = backup(config, args.out)
    except OSError as exc:
        reason = io_reason(exc)
        print(
            f"Fehler: Die Sicherung nach {args.out} ist fehlgeschlagen: {reason}.", file=sys.stderr
        )
        return 1
    except records.RecordsBusy as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 1
    for path, what in written:
        print(f"Gesichert: {path} ({what})")
    print(
        f"Hinweis: Die Schlüsseldatei {config.storage.key_file} ist nicht in der Sicherung. "
        "Ohne sie erhalten dieselben Kundennummern bei neuen Ladevorgängen andere Pseudonyme; "
        "bitte getrennt und geschützt aufbewahren."
    )
    return 0


def run_restore(config: Config, args) -> int:
    """Put a backup file back in place of the database it belongs to."""
    try:
        target, what = restore(config, args.file)
    except RestoreRefused as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 1
    print(f"Zurückgespielt: {args.file} -> {target} ({what})")
    return 0


def backup(config: Config, out_dir: Path) -> list[tuple[Path, str]]:
    """Copy the loaded data and the records into `out_dir` under time-stamped names."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    written = []
    if config.database.exists():
        target = out_dir / f"{config.database.stem}-{stamp}.duckdb"
        # Opened once: this descriptor keeps the version of this moment, even when a load
        # swaps a new file in while we copy.
        with open(config.database, "rb") as source:
            _write_atomically(source, target)
        written.append((target, f"Ticket-Daten, {_describe_loaded(target)}"))
    if records.uses_postgres(config):
        target = out_dir / f"records-{stamp}.pgdump"
        _pg_dump(config, target)
        written.append((target, f"Aufzeichnungen aus {records.location(config)} (pg_dump)"))
    elif config.app_database.exists():
        target = out_dir / f"{config.app_database.stem}-{stamp}.duckdb"
        # Held like a writer holds it: nobody writes while it is checkpointed and copied.
        with records.transaction(config) as con:
            con.execute("CHECKPOINT")
            with open(config.app_database, "rb") as source:
                _write_atomically(source, target)
        written.append((target, "Aufzeichnungen: Stichproben, Gespräche, Protokoll"))
    return written


def _pg_tool(name: str) -> str:
    """Path of a PostgreSQL client program (Debian's wrapper or the newest version's own)."""
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise records.RecordsBusy(f"{name} fehlt: bitte das Paket postgresql-client installieren.")
    return found


def _pg_run(config: Config, *args: str) -> None:
    env = dict(os.environ)
    if config.records.password_file is not None:
        # To the child only, never on its command line (visible to every user) or in a log.
        env["PGPASSWORD"] = config.records.password_file.read_text(encoding="utf-8").strip()
    done = subprocess.run(
        [*args, "--dbname", config.records.url], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["ohne Meldung"])[-1]
        raise records.RecordsBusy(
            f"{Path(args[0]).name} für {records.location(config)} ist fehlgeschlagen: {reason}"
        )


def _pg_dump(config: Config, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        _pg_run(config, _pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(tmp))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _write_atomically(source, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        with open(tmp, "wb") as out:
            shutil.copyfileobj(source, out, length=1 << 22)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _describe_loaded(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        loads, tickets = con.execute(
            "SELECT (SELECT count(*) FROM load_log), (SELECT count(*) FROM tickets)"
        ).fetchall()[0]
    finally:
        con.close()
    return f"{loads} Ladevorgänge, {tickets} Tickets"


def _kind(path: Path) -> str:
    """'loaded' or 'records': which database the file is a copy of, else RestoreRefused."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise RestoreRefused(f"{path} kann nicht gelesen werden: {io_reason(exc)}.") from exc
    if head.startswith(PG_DUMP_MAGIC):
        return "records-postgres"
    if head[8:12] != DUCKDB_MAGIC:
        raise RestoreRefused(f"{path} ist keine DuckDB-Datenbank; nichts geändert.")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        first_line = str(exc).splitlines()[0]
        raise RestoreRefused(
            f"{path} kann mit dieser Version nicht geöffnet werden ({first_line}); nichts geändert."
        ) from exc
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if set(LOADED_TABLES) <= tables:
            version = con.execute(
                "SELECT max(value) FROM meta WHERE key = 'schema_version'"
            ).fetchall()[0][0]
            if version != SCHEMA_VERSION:
                raise RestoreRefused(
                    f"{path} hat die Schemaversion {version}, diese Version erwartet "
                    f"{SCHEMA_VERSION}; nichts geändert."
                )
            return "loaded"
        if set(RECORD_TABLES) <= tables:
            return "records"
    finally:
        con.close()
    raise RestoreRefused(
        f"{path} ist weder eine Sicherung der Ticket-Daten noch der Aufzeichnungen; "
        "nichts geändert."
    )


def restore(config: Config, source: Path) -> tuple[Path | str, str]:
    """Replace the database `source` is a backup of; refuses foreign or incompatible files."""
    source = Path(source)
    kind = _kind(source)
    if kind == "records-postgres" or (records.uses_postgres(config) and kind == "records"):
        return _restore_postgres(config, source, kind), "Aufzeichnungen"
    if kind == "loaded":
        try:
            _restore_loaded(config, source)
        except StorageError as exc:
            raise RestoreRefused(str(exc)) from exc
        except duckdb.Error as exc:
            raise RestoreRefused(
                f"{source} passt nicht zu dieser Version ({str(exc).splitlines()[0]}); "
                "nichts geändert."
            ) from exc
        return config.database, "Ticket-Daten"
    _restore_records(config, source)
    return config.app_database, "Aufzeichnungen"


def _restore_loaded(config: Config, source: Path) -> None:
    # Like a load that starts empty: locked, on a private copy, swapped in atomically.
    with writable_copy(config, fresh=True) as db:
        db.con.execute("ATTACH ? AS backup (READ_ONLY)", [str(source)])
        try:
            for table in LOADED_TABLES:
                db.con.execute(f"DELETE FROM {table}")
                db.con.execute(f"INSERT INTO {table} SELECT * FROM backup.{table}")
        finally:
            db.con.execute("DETACH backup")
        db.changed = True


def _restore_postgres(config: Config, source: Path, kind: str) -> str:
    if kind != "records-postgres" or not records.uses_postgres(config):
        raise RestoreRefused(
            f"{source} ist eine Sicherung "
            + ("aus PostgreSQL" if kind == "records-postgres" else "der DuckDB-Aufzeichnungen")
            + ", die Aufzeichnungen liegen aber "
            + (f"in {records.location(config)}" if records.uses_postgres(config) else "in DuckDB")
            + "; nichts geändert."
        )
    try:
        # One transaction: replicas wait for it a moment and then see the restored records.
        _pg_run(config, _pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                "--single-transaction", "--exit-on-error", str(source))  # fmt: skip
    except records.RecordsBusy as exc:
        raise RestoreRefused(f"{exc}; nichts geändert.") from exc
    return records.location(config)


def _restore_records(config: Config, source: Path) -> None:
    target = config.app_database
    tmp = target.with_name(f".{target.name}.restore.tmp")
    try:
        with records.transaction(config) as con:
            con.execute("CHECKPOINT")  # no journal of the old file may outlive it
            shutil.copyfile(source, tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
    except OSError as exc:
        raise RestoreRefused(
            f"{target} konnte nicht ersetzt werden: {io_reason(exc)}; nichts geändert."
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
