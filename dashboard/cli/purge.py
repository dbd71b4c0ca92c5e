"""`ticket-controlling purge`: anonymise tickets older than the retention (A9)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence

from dashboard.cli.args import add_config_option, iso_date, operator
from dashboard.core import format, records, retention
from dashboard.core.config import Config
from etl.purge import WORKER_PLACEHOLDER, PurgeError, PurgeResult, purge


def add_parser(
    subparsers, parents: Sequence[argparse.ArgumentParser] = ()
) -> argparse.ArgumentParser:
    """Add the `purge` sub-command (with `--config` unless a parent parser brings it)."""
    parser = subparsers.add_parser(
        "purge",
        parents=list(parents),
        help="Personenbezug älterer Tickets entfernen (Aufbewahrung, A9)",
        description=(
            "Ersetzt Bearbeiter/in und Kunden-Pseudonym der Tickets, die vor Ablauf der "
            "Aufbewahrungsfrist (rules.retention_months) erledigt wurden, durch Platzhalter, "
            "und löscht Gespräche, Stichproben, Protokolleinträge und Sicherungen nach ihren "
            "Fristen ([retention])."
        ),
    )
    add_config_option(parser, parents)
    parser.add_argument("--dry-run", action="store_true", help="nur anzeigen, was geändert würde")
    parser.add_argument(
        "--today", type=iso_date, default=None, help="heutiges Datum JJJJ-MM-TT (Standard: heute)"
    )
    return parser


def summary(result: PurgeResult) -> list[str]:
    """What the purge changed (or would change), in German lines."""
    lines = [
        f"Aufbewahrung {_months(result.retention_months)}: Grenze {format.date(result.cutoff)} "
        "(Tickets erledigt, Abwesenheiten beendet, Ladevorgänge abgeschlossen vor diesem Tag)."
    ]
    if result.dry_run:
        lines.append("Probelauf: nichts geändert.")
    if not result.changed:
        lines.append("Nichts zu anonymisieren.")
        return lines
    if result.dry_run:
        tickets, absences, rejects = (
            "Zu anonymisierende Tickets", "Zu löschende Abwesenheiten",
            "Abgewiesene Zeilen, deren Rohdaten geleert würden",
        )  # fmt: skip
    else:
        tickets, absences, rejects = (
            "Anonymisierte Tickets", "Gelöschte Abwesenheiten",
            "Abgewiesene Zeilen, deren Rohdaten geleert wurden",
        )  # fmt: skip
    lines.append(
        f"{tickets}: {result.tickets} (Bearbeiter/in → {WORKER_PLACEHOLDER}, "
        "Kunden-Pseudonym entfernt)"
    )
    lines += [f"  {team}: {n}" for team, n in result.tickets_by_team]
    lines.append(f"{absences}: {result.absences_removed}")
    lines.append(f"{rejects}: {result.rejects_cleared}")
    return lines


def _months(n: int) -> str:
    return "1 Monat" if n == 1 else f"{n} Monate"


def _audit_detail(result: PurgeResult) -> str:
    teams = ", ".join(f"{team}: {n}" for team, n in result.tickets_by_team)
    return (
        f"Grenze {format.date(result.cutoff)} ({_months(result.retention_months)}): "
        f"{result.tickets} Tickets anonymisiert" + (f" ({teams})" if teams else "") + ", "
        f"{result.absences_removed} Abwesenheiten gelöscht, "
        f"{result.rejects_cleared} Rohdaten abgewiesener Zeilen geleert"
    )


def run(config: Config, args: argparse.Namespace) -> int:
    """Purge (or with `--dry-run` count) what is older than the retention; the exit code."""
    today = args.today or dt.date.today()
    try:
        result = purge(config, today=today, dry_run=args.dry_run)
    except PurgeError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 2
    for line in summary(result):
        print(line)
    # The dashboard's own records, in one transaction with the audit entry of the whole run.
    # Every real run is recorded, also one that found nothing: it shows the retention is kept.
    try:
        kept = retention.purge_records(
            config, today, dry_run=args.dry_run, who=operator(),
            detail_prefix=_audit_detail(result) + "; ",
        )  # fmt: skip
    except records.RecordsBusy as exc:
        print(f"Fehler: Tickets bereinigt, Aufzeichnungen nicht: {exc}", file=sys.stderr)
        return 1
    for line in records_summary(kept):
        print(line)
    return 0


def records_summary(result: retention.RetentionResult) -> list[str]:
    """What the retention of the records removed (or would remove), per kind, in German."""
    verb = "zu löschen" if result.dry_run else "gelöscht"
    lines = [f"Aufzeichnungen des Dashboards ({verb}):"]
    labels = {
        "conversations": "Gespräche (A10), geführt",
        "samples": "Stichproben (B3) mit Ergebnissen, gezogen",
        "audit": "Einträge des Zugriffsprotokolls, geschrieben",
        "backups": "Sicherungsdateien, erstellt",
    }
    for kind in retention.KINDS:
        cutoff = format.date(result.cutoffs[kind])
        lines.append(f"  {labels[kind]} vor {cutoff}: {result.removed[kind]}")
    return lines
