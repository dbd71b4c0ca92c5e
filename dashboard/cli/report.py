"""`ticket-controlling report`: the monthly report as an Excel workbook or a printable PDF."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from dashboard import report
from dashboard.cli.args import add_config_option, iso_date, operator
from dashboard.core import format, records, rules
from dashboard.core.config import Config
from dashboard.core.months import month_label, month_start
from dashboard.core.records import RecordsBusy
from dashboard.core.storage import connect_readonly


def _month(text: str) -> dt.date:
    try:
        return report.parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(
    subparsers, parents: Sequence[argparse.ArgumentParser] = ()
) -> argparse.ArgumentParser:
    """Add the `report` sub-command (with `--config` unless a parent parser brings it)."""
    parser = subparsers.add_parser(
        "report",
        parents=list(parents),
        help="Monatsbericht als Excel- oder PDF-Datei",
        description="Monatsbericht: Tickets, die im Monat fällig sind, bewertet zum Stichtag.",
    )
    add_config_option(parser, parents)
    parser.add_argument("--month", type=_month, required=True, help="Berichtsmonat JJJJ-MM")
    parser.add_argument(
        "--as-of",
        type=iso_date,
        default=None,
        help="Stichtag JJJJ-MM-TT (Standard: der konfigurierte Stichtag)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="Zieldatei; die Endung .xlsx oder .pdf wählt das Format",
    )
    return parser


def run(config: Config, args: argparse.Namespace) -> int:
    """Write the report of `args.month` as of `args.as_of` to `args.out`; the exit code."""
    try:
        suffix = report.suffix_of(args.out)
    except report.ReportError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 2
    as_of = args.as_of or config.reference_date()
    month = month_start(args.month)
    if month > month_start(as_of):
        print(
            f"Fehler: Der Berichtsmonat {month_label(month)} liegt nach dem Monat des "
            f"Stichtags {format.date(as_of)}.",
            file=sys.stderr,
        )
        return 2
    con = connect_readonly(config, snapshots=True)
    try:
        # The verdicts of the Stichtag once; every figure of the report then reads them.
        rules.fill_snapshot(con, as_of)
        built = report.build(con, config, month, as_of)
    except RecordsBusy as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 1
    finally:
        con.close()
    generated_at = dt.datetime.now().replace(microsecond=0)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(report.file_bytes(built, suffix, generated_at))
        # The report names workers: who wrote which one where is on record like a download.
        records.log(
            config, operator(), "Datei geschrieben",
            f"CLI: Monatsbericht {month_label(month)}, Stichtag {format.date(as_of)}, {args.out}",
        )  # fmt: skip
    except RecordsBusy as exc:
        print(f"Warnung: Bericht geschrieben, aber nicht protokolliert – {exc}", file=sys.stderr)
    except OSError as exc:
        print(
            f"Fehler: {args.out} konnte nicht geschrieben werden: {exc.strerror or exc}.",
            file=sys.stderr,
        )
        return 1
    print(
        f"{built.title} (Stichtag {format.date(as_of)}) geschrieben: {args.out}",
    )
    return 0
