"""The command line: `ticket-controlling load | verdicts | demo-data | sample | report | ...`."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from dashboard.cli import audit as cli_audit
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

VERDICT_COLUMNS = (
    "ticket_id, area, receipt_date, due_date, completion_date, working_days, status, "
    "callback_ok, walkin_note_ok, tl_informed_ok"
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

    verdicts = sub.add_parser("verdicts", parents=[common], help="Bewertung je Ticket als CSV")
    verdicts.add_argument("files", nargs="+", type=Path)
    verdicts.add_argument("--as-of", type=iso_date, required=True, help="Stichtag JJJJ-MM-TT")
    verdicts.add_argument("--out", type=Path, required=True)
    verdicts.add_argument("--rejects", type=Path)
    verdicts.add_argument("--absences", action="append", type=Path, default=[])

    demo = sub.add_parser("demo-data", parents=[common], help="synthetischen Demo-Export erzeugen")
    demo.add_argument("--out", type=Path, required=True)
    demo.add_argument("--tickets", type=int, default=20_000)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--until", type=iso_date, default=None, help="letzter Eingangstag (heute)")
    demo.add_argument("--encoding", choices=["utf-8", "cp1252"], default="utf-8")
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
            "verdicts": _verdicts,
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


def _verdicts(config: Config, args) -> int:
    from etl.load import load_files

    with tempfile.TemporaryDirectory(prefix="ticket-verdicts-") as tmp:
        storage = config.storage.model_copy(
            update={"database": Path(tmp) / "verdicts.duckdb", "app_database": None}
        )
        config = config.model_copy(update={"storage": storage})
        results = load_files(config, args.files, args.absences)
        refused = [r for r in results if r.refused]
        for result in refused:
            print(result.summary(), file=sys.stderr)
        if refused:
            return 1
        con = connect_readonly(config)
        try:
            con.execute(
                f"COPY (SELECT {VERDICT_COLUMNS} FROM verdicts(?::DATE) ORDER BY ticket_id) "
                "TO ? (HEADER, DELIMITER ',')",
                [args.as_of, str(args.out)],
            )
            if args.rejects:
                con.execute(
                    "COPY (SELECT source, record, ticket_id, reason FROM rejects "
                    "WHERE kind = 'tickets' ORDER BY load_id, record) TO ? (HEADER, DELIMITER ',')",
                    [str(args.rejects)],
                )
        finally:
            con.close()
    for result in results:
        print(result.summary(), file=sys.stderr)
    return 0


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
