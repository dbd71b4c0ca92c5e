"""Loading exports into the database: one transaction per file, reconciled, logged."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dashboard.core.config import Config
from dashboard.core.keys import HMAC_SQL, hmac_pads, load_or_create_key
from dashboard.core.storage import DEMO_BUILD, writable_copy
from etl.sources import FileInfo, FileRefused, Layout, inspect_file, read_source, release_source
from etl.validate import ABSENCES, TICKETS, RecordSpec, stage

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class LoadResult:
    """What happened to one file: its reconciliation, or why it was refused or skipped."""

    file_name: str
    kind: str
    load_id: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    records_new: int = 0
    records_replaced: int = 0
    encoding: str = ""
    seconds: float = 0.0
    refused: str | None = None  # the German message when the whole file was refused
    already_loaded_as: int | None = None  # load id of an earlier load of identical content

    @property
    def reconciled(self) -> bool:
        """Rows read = loaded + rejected + identical duplicates."""
        return self.rows_read == self.rows_loaded + self.rows_rejected + self.rows_duplicate

    def summary(self) -> str:
        """The reconciliation in one German sentence."""
        if self.refused:
            return f"{self.file_name}: abgewiesen – {self.refused}"
        if self.already_loaded_as is not None:
            return (
                f"{self.file_name}: bereits geladen (Ladevorgang {self.already_loaded_as}), "
                "nichts geändert"
            )
        check = "stimmt" if self.reconciled else "STIMMT NICHT"
        return (
            f"{self.file_name}: {self.rows_read} gelesen = {self.rows_loaded} geladen "
            f"+ {self.rows_rejected} abgewiesen + {self.rows_duplicate} Duplikate "
            f"(Abgleich {check}); {self.records_new} neu, {self.records_replaced} ersetzt"
        )


def load_files(
    config: Config,
    tickets: Sequence[Path] = (),
    absences: Sequence[Path] = (),
    progress: Progress | None = None,
    *,
    fresh: bool = False,
    meta: dict[str, str] | None = None,
) -> list[LoadResult]:
    """Load ticket and absence exports, each file in its own transaction.

    All files of one call become visible together, in one atomic swap of the database
    file; `fresh` starts from an empty database, `meta` records facts about the build.
    """
    key = load_or_create_key(config.storage.key_file)
    jobs = [(Path(p), TICKETS) for p in tickets] + [(Path(p), ABSENCES) for p in absences]
    results: list[LoadResult] = []
    with writable_copy(config, fresh=fresh) as db:
        _limit_memory(db.con, config.database)
        for i, (path, spec) in enumerate(jobs):

            def step(label: str, fraction: float, i=i, path=path) -> None:
                if progress:
                    progress(f"{path.name}: {label}", (i + fraction) / len(jobs))

            results.append(_load_one(db.con, path, spec, config, key, step))
        loaded = any(r.load_id is not None for r in results)
        for name, value in (meta or {}).items():
            db.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [name, value])
        if loaded and (meta or {}).get("built_by") != DEMO_BUILD:
            # Real data once loaded stays in the history: demo mode never serves it again.
            db.con.execute("INSERT OR REPLACE INTO meta VALUES ('real_data_loaded', 'true')")
        db.changed = fresh or loaded
    return results


# A load's temp tables (the file's text, then its typed values) grow with the file; above
# this limit DuckDB moves them to its temp directory, so a 10-million-ticket export loads
# within a 4 GiB budget. Smaller machines keep DuckDB's own default (80 % of the memory).
LOAD_MEMORY_MIB = 3072


def _limit_memory(con, database: Path) -> None:
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (1 << 20)
    con.execute(f"SET memory_limit = '{min(LOAD_MEMORY_MIB, physical * 8 // 10)}MiB'")
    # DuckDB's default spill directory sits beside the temp copy ("<copy>.tmp"), where the
    # clean-up of a killed load's leftovers expects files, not a directory. A fixed one of
    # our own instead, emptied first: loads take turns (the load lock), so none is in use.
    spill = database.with_name(f".{database.name}.spill")
    shutil.rmtree(spill, ignore_errors=True)
    con.execute("SET temp_directory = ?", [str(spill)])


def _load_one(con, path: Path, spec: RecordSpec, config: Config, key: bytes, step) -> LoadResult:
    start = time.perf_counter()
    started_at = dt.datetime.now()
    step("Datei prüfen", 0.0)
    try:
        info = inspect_file(path)
        earlier = con.execute(
            "SELECT min(load_id) FROM load_log WHERE content_hash = ? AND kind = ?",
            [info.content_hash, spec.kind],
        ).fetchall()[0][0]
        if earlier is not None:
            # Re-applying an old export would undo later ones; identical content is a no-op.
            return LoadResult(path.name, spec.kind, already_loaded_as=earlier)
        step("Lesen", 0.1)
        absence = spec is ABSENCES
        fields = {f: config.export.header_names(f, absence=absence) for f in spec.headers}
        layout = Layout(fields, spec.required, spec.headers)
        encoding = read_source(con, path, info, layout)
    except FileRefused as exc:
        release_source(con)
        return LoadResult(path.name, spec.kind, refused=str(exc))
    step("Prüfen", 0.4)
    stage(con, spec, config.export)
    release_source(con)  # what the rejects show is in `kept_text`
    rows_in_file = con.execute("SELECT count(*) FROM typed_rows").fetchall()[0][0]
    step("Schreiben", 0.7)
    con.execute("BEGIN TRANSACTION")
    try:
        result = _write(con, spec, info, encoding, key, started_at, start, rows_in_file)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for statement in (
            "DROP VIEW IF EXISTS staged",
            "DROP TABLE IF EXISTS kept_text",
            "DROP TABLE IF EXISTS outcomes",
            "DROP TABLE IF EXISTS typed_rows",
        ):
            con.execute(statement)
    step("Fertig", 1.0)
    return result


def _write(
    con,
    spec: RecordSpec,
    info: FileInfo,
    encoding: str,
    key: bytes,
    started_at,
    start,
    rows_in_file: int,
) -> LoadResult:
    load_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM load_log").fetchall()[0][0]
    # The loaded count is what the insert wrote, so the reconciliation below checks the
    # rows written against the records read (no extra pass over `staged` for counts).
    counts = dict(con.execute("SELECT outcome, count(*) FROM outcomes GROUP BY outcome").fetchall())
    if spec is TICKETS:
        # Ticket-IDs are unique in the table and among the loaded records, so the rows
        # deleted are the records replaced (one scan of the table instead of two). Into an
        # empty table (a first or fresh load) nothing is replaced: no need to hash every ID.
        replaced = 0
        if con.execute("SELECT EXISTS (SELECT 1 FROM tickets)").fetchall()[0][0]:
            replaced = con.execute(
                "DELETE FROM tickets WHERE ticket_id IN "
                "(SELECT ticket_id FROM staged WHERE outcome = 'load')"
            ).fetchall()[0][0]
        inner, outer = hmac_pads(key)
        # Customers come back: the keyed hash is computed once per distinct number (of
        # every record read: the few rejected ones cost less than deciding on each).
        counts["load"] = con.execute(
            f"""
            INSERT INTO tickets
            SELECT s.ticket_id, s.area, s.team, s.worker, s.received, s.completed, s.channel,
                   s.concern, p.pseudonym, s.notified, s.commitment, s.verbis_note = 'ja',
                   s.called_back, s.tl_informed, s.walkin_note, ?, s.record
            FROM staged s
            LEFT JOIN (
                SELECT customer, {HMAC_SQL.format(value="customer")} AS pseudonym
                FROM (SELECT DISTINCT customer FROM typed_rows WHERE customer IS NOT NULL)
            ) p ON p.customer = s.customer
            WHERE s.outcome = 'load'
            """,
            [load_id, outer, inner],
        ).fetchall()[0][0]
        # A record with the wrong number of fields may have its values in the wrong
        # columns: its Ticket-ID is kept only where it is known to be one (`id_in_place`,
        # etl.sources), never what could be a customer number.
        ticket_col = "CASE WHEN s.id_in_place THEN s.ticket_id END"
    else:
        replaced = con.execute(
            "SELECT count(*) FROM staged s SEMI JOIN absences a USING (worker, date_from) "
            "WHERE s.outcome = 'load'"
        ).fetchall()[0][0]
        con.execute(
            "DELETE FROM absences WHERE (worker, date_from) IN "
            "(SELECT (worker, date_from) FROM staged WHERE outcome = 'load')"
        )
        counts["load"] = con.execute(
            "INSERT INTO absences SELECT worker, date_from, date_to, substitute, ?, record "
            "FROM staged WHERE outcome = 'load'",
            [load_id],
        ).fetchall()[0][0]
        ticket_col = "NULL"
    con.execute(
        f"INSERT INTO rejects SELECT ?, ?, ?, s.record, {ticket_col}, s.reason, k.shown "
        "FROM staged s JOIN kept_text k USING (record) "
        "WHERE s.outcome = 'reject' ORDER BY s.record",
        [load_id, spec.kind, info.name],
    )
    loaded = counts.get("load", 0)
    result = LoadResult(
        file_name=info.name,
        kind=spec.kind,
        load_id=load_id,
        rows_read=sum(counts.values()),
        rows_loaded=loaded,
        rows_rejected=counts.get("reject", 0),
        rows_duplicate=counts.get("duplicate", 0),
        records_new=loaded - replaced,
        records_replaced=replaced,
        encoding=encoding,
        seconds=time.perf_counter() - start,
    )
    if rows_in_file != result.rows_read or not result.reconciled:
        raise RuntimeError(f"Abgleich fehlgeschlagen für {info.name}: {result}")
    con.execute(
        "INSERT INTO load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            spec.kind,
            info.name,
            info.content_hash,
            encoding,
            started_at,
            dt.datetime.now(),
            result.rows_read,
            result.rows_loaded,
            result.rows_rejected,
            result.rows_duplicate,
            result.records_new,
            result.records_replaced,
        ],
    )
    return result
