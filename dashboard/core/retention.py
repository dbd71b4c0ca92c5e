"""Retention of the dashboard's own records: what `purge` removes besides the tickets' names.

Per kind, a cutoff of today minus the kept months (`Config.kept_months`, `[retention]`):
- **conversations** (A10) held before the cutoff;
- **samples** (B3) drawn before the cutoff, with their items and results (a draw goes
  as a whole, so no half sample remains);
- **audit** entries logged before the cutoff. The chain stays verifiable: the last removed
  entry's seq and chain become the log's anchor (`records.audit_anchor`), keyed with the
  audit key so that nobody without it can move the start to hide removed entries;
- **backups** written by `backup` into `retention.backup_dir` before the cutoff (they hold
  names the purge of the tickets has long removed).

Everything of one run happens in one records transaction, together with its audit entry.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.core import records
from dashboard.core.config import Config
from dashboard.core.months import add_months

KINDS = ("conversations", "samples", "audit", "backups")
# Files `backup` writes: <stem>-YYYYMMDD-HHMMSS.duckdb, records-….pgdump (dashboard.cli.ops)
BACKUP_NAME = re.compile(r".+-(\d{8}-\d{6})\.(duckdb|pgdump)")


@dataclass(frozen=True)
class RetentionResult:
    """Per kind: its cutoff and how many records were (or, in a dry run, would be) removed."""

    cutoffs: dict[str, dt.date]
    removed: dict[str, int]
    dry_run: bool
    backup_files: list[Path] = field(default_factory=list)


def cutoffs(config: Config, today: dt.date) -> dict[str, dt.date]:
    """The first day still kept, per kind of record."""
    return {kind: add_months(today, -config.kept_months(kind)) for kind in KINDS}


def purge_records(
    config: Config, today: dt.date, *, dry_run: bool, who: str, detail_prefix: str = ""
) -> RetentionResult:
    """Remove (or count) the records older than their retention; audited unless a dry run."""
    cut = cutoffs(config, today)
    backups = _old_backups(config, cut["backups"])
    with records.transaction(config) as con:
        removed = {
            "conversations": _count(con, "conversations WHERE held_on < ?", cut["conversations"]),
            "samples": _count(con, "sample_draws WHERE drawn_at < ?", cut["samples"]),
            "audit": _count(con, "audit_log WHERE logged_at < ?", cut["audit"]),
            "backups": len(backups),
        }
        result = RetentionResult(cut, removed, dry_run, backups)
        if dry_run:
            return result
        con.execute("DELETE FROM conversations WHERE held_on < ?", [cut["conversations"]])
        old_draws = "SELECT draw_id FROM sample_draws WHERE drawn_at < ?"
        for table in ("sample_results", "sample_items"):
            con.execute(f"DELETE FROM {table} WHERE draw_id IN ({old_draws})", [cut["samples"]])
        con.execute("DELETE FROM sample_draws WHERE drawn_at < ?", [cut["samples"]])
        _cut_audit(con, config, cut["audit"])
        records.audit(con, who, "purge", detail_prefix + describe(result))
    for path in backups:
        path.unlink(missing_ok=True)
    return result


def describe(result: RetentionResult) -> str:
    """One German line of the removed records per kind (for the audit entry)."""
    labels = {
        "conversations": "Gespräche",
        "samples": "Stichproben",
        "audit": "Protokolleinträge",
        "backups": "Sicherungsdateien",
    }
    return ", ".join(
        f"{labels[k]} vor {result.cutoffs[k]:%d.%m.%Y}: {result.removed[k]}" for k in KINDS
    )


def _count(con: records.Connection, where: str, cutoff: dt.date) -> int:
    return con.execute(f"SELECT count(*) FROM {where}", [cutoff]).fetchone()[0]


def _cut_audit(con: records.Connection, config: Config, cutoff: dt.date) -> None:
    # No replica may append while the start of the chain moves (PostgreSQL; DuckDB: serial).
    con.serialise(records.AUDIT_LOCK)
    last = con.execute(
        "SELECT seq, chain FROM audit_log WHERE logged_at < ? ORDER BY seq DESC LIMIT 1",
        [cutoff],
    ).fetchall()
    if not last:
        return
    seq, chain = last[0]
    # Everything up to the last old entry goes (seq order is time order); it becomes the anchor.
    cut_before = dt.datetime.combine(cutoff, dt.time())
    mac = records.anchor_mac(records.audit_key(config), seq, chain, cut_before)
    con.execute("DELETE FROM audit_log WHERE seq <= ?", [seq])
    con.execute("DELETE FROM audit_anchor")
    con.execute(
        "INSERT INTO audit_anchor (seq, chain, cut_before, mac) VALUES (?, ?, ?, ?)",
        [seq, chain, cut_before, mac],
    )


def _old_backups(config: Config, cutoff: dt.date) -> list[Path]:
    folder = config.retention.backup_dir
    if folder is None or not folder.is_dir():
        return []
    old = []
    for path in sorted(folder.iterdir()):
        match = BACKUP_NAME.fullmatch(path.name)
        if match and dt.datetime.strptime(match[1], "%Y%m%d-%H%M%S").date() < cutoff:
            old.append(path)
    return old
