"""The command line: `ticket-controlling load | verdicts | findings | repeat-cases | ...`."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from dashboard.cli import audit as cli_audit
from dashboard.cli import checks as cli_checks
from dashboard.cli import ops as cli_ops
from dashboard.cli import purge as cli_purge
from dashboard.cli import report as cli_report
from dashboard.cli import sample as cli_sample
from dashboard.cli import send as cli_send
from dashboard.cli.args import iso_date, operator
from dashboard.core.config import Config, ConfigError, load_config
from dashboard.core.keys import KeyFileError
from dashboard.core.storage import (
    DEMO_BUILD,
    StorageError,
    connect_readonly,
    is_demo_database,
    private_files,
)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML-Konfigurationsdatei")
    parser = argparse.ArgumentParser(
        prog="ticket-controlling", description="Ticket-Controlling nach der Arbeitsanweisung 2012"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    load = sub.add_parser("load", parents=[common], help="Exporte in die Datenbank laden")
    load.add_argument("files", nargs="*", type=Path, help="Ticket-Exporte (CSV/XLSX)")
    load.add_argument(
        "--absences",
        action="append",
        type=Path,
        default=[],
        help="Abwesenheiten-Export (mehrfach möglich)",
    )

    cli_checks.add_parsers(sub, parents=[common])

    demo = sub.add_parser("demo-data", parents=[common], help="synthetischen Demo-Export erzeugen")
    demo.add_argument("--out", type=Path, required=True, help="Ordner für die Demo-Exporte")
    demo.add_argument(
        "--tickets", type=int, default=20_000, help="Zahl der Tickets (Standard 20000)"
    )
    demo.add_argument("--seed", type=int, default=42, help="Zufallsstartwert (Standard 42)")
    demo.add_argument("--until", type=iso_date, default=None, help="letzter Eingangstag (heute)")
    demo.add_argument(
        "--encoding",
        choices=["utf-8", "cp1252"],
        default="utf-8",
        help="Zeichenkodierung der Exporte (Standard utf-8)",
    )
    demo.add_argument(
        "--build-db",
        action="store_true",
        help="die konfigurierte Datenbank neu aus dem Export aufbauen",
    )
    demo.add_argument(
        "--if-missing", action="store_true", help="nichts tun, wenn die Datenbank schon existiert"
    )
    cli_sample.add_parser(sub, parents=[common])
    cli_report.add_parser(sub, parents=[common])
    cli_send.add_parser(sub, parents=[common])
    cli_purge.add_parser(sub, parents=[common])
    cli_ops.add_parsers(sub, parents=[common])
    cli_audit.add_parser(sub, parents=[common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ticket-controlling` console script."""
    args = _parser().parse_args(argv)
    private_files()
    try:
        config = load_config(args.config)
        commands = {
            "load": _load,
            "verdicts": cli_checks.run_verdicts,
            "findings": cli_checks.run_findings,
            "repeat-cases": cli_checks.run_repeat_cases,
            "demo-data": _demo,
            "sample": cli_sample.run,
            "report": cli_report.run,
            "send-reports": cli_send.run,
            "purge": cli_purge.run,
            "backup": cli_ops.run_backup,
            "restore": cli_ops.run_restore,
            "audit": cli_audit.run,
        }
        return commands[args.command](config, args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (StorageError, KeyFileError) as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 1


def _progress() -> callable:
    start = time.perf_counter()

    def show(label: str, fraction: float) -> None:
        print(f"[{time.perf_counter() - start:7.1f} s] {fraction:4.0%} {label}", file=sys.stderr)

    return show


def _load(config: Config, args) -> int:
    from etl.load import load_files

    if not args.files and not args.absences:
        print("Keine Dateien angegeben.", file=sys.stderr)
        return 2
    results = load_files(config, args.files, args.absences, progress=_progress())
    for result in results:
        print(result.summary())
    _audit_loads(config, results)
    return 1 if any(r.refused for r in results) else 0


def _audit_loads(config: Config, results) -> None:
    # Who loaded which file is on record like every other access (docs/access.md).
    from dashboard.core import records

    try:
        with records.transaction(config) as con:
            for result in results:
                records.audit(con, operator(), "Ladevorgang", f"CLI: {result.summary()}")
    except records.RecordsBusy as exc:
        print(f"Warnung: Ladevorgang nicht protokolliert – {exc}", file=sys.stderr)


def _demo(config: Config, args) -> int:
    from etl.demo import write_demo_export
    from etl.load import load_files

    if args.if_missing and config.database.exists():
        print(f"Datenbank vorhanden: {config.database}")
        return 0
    if args.build_db and config.database.exists() and not _is_demo(config):
        print(
            f"Fehler: {config.database} ist keine Demo-Datenbank (oder enthält echte Daten) "
            "und wird nicht ersetzt. Für die Demo eine eigene Datenbank konfigurieren.",
            file=sys.stderr,
        )
        return 1
    until = args.until or config.reference_date()
    files = write_demo_export(
        args.out, tickets=args.tickets, seed=args.seed, until=until, encoding=args.encoding
    )
    print(f"Demo-Export: {files.tickets}, {files.absences}")
    if args.build_db:
        results = load_files(
            config,
            [files.tickets],
            [files.absences],
            progress=_progress(),
            fresh=True,
            meta={"built_by": DEMO_BUILD},
        )
        for result in results:
            print(result.summary())
        print(f"Demo-Datenbank: {config.database}")
    return 0


def _is_demo(config: Config) -> bool:
    con = connect_readonly(config)
    try:
        return is_demo_database(con)
    finally:
        con.close()


if __name__ == "__main__":
    sys.exit(main())
