"""`ticket-controlling report`: the monthly report as an Excel workbook or a printable PDF."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from dashboard import report
from dashboard.access.viewer import ROLE_LABELS, Viewer
from dashboard.cli.args import add_config_option, iso_date, month_arg, operator
from dashboard.core import format, records
from dashboard.core.config import AREAS, Config
from dashboard.core.months import month_label, month_start
from dashboard.core.records import RecordsBusy
from dashboard.queries.filters import Filters

# Exit codes: 0 written, 1 failed, 2 wrong call, 3 no ticket of the selection due in the month.
NO_DATA = 3
# The versions of the report a role gets (the roles of the page Monatsbericht).
ROLES_WITH_REPORTS = ("teamleitung", "controlling", "management")


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
    parser.add_argument("--month", type=month_arg, required=True, help="Berichtsmonat JJJJ-MM")
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
    parser.add_argument("--area", choices=AREAS, help="nur dieser Bereich")
    parser.add_argument(
        "--team", action="append", default=[], help="nur dieses Team (mehrfach möglich)"
    )
    parser.add_argument(
        "--for",
        dest="role",
        choices=ROLES_WITH_REPORTS,
        default=None,
        help="die Fassung dieser Rolle: teamleitung (mit Namen, nur --team), controlling "
        "(Pseudonyme), management (ohne Personen, kleine Teams zusammengefasst); "
        "ohne --for: die vollständige Fassung",
    )
    return parser


def viewer_for(role: str | None, teams: Sequence[str], who: str) -> Viewer | None:
    """The viewer whose version of the report the command line writes (None: full report)."""
    if role is None:
        return None
    return Viewer(who, who, role, tuple(teams) if role == "teamleitung" else ())


def no_data_message(month: dt.date, filters: Filters) -> str:
    """'Im Oktober 2026 ist für alle Bereiche, alle Teams kein Ticket fällig …'."""
    return (
        f"Im {month_label(month)} ist für {report.scope_label(filters)} kein Ticket fällig; "
        "kein Bericht geschrieben."
    )


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
    if args.role == "teamleitung" and not args.team:
        print("Fehler: Die Fassung für die Teamleitung braucht --team.", file=sys.stderr)
        return 2
    viewer = viewer_for(args.role, args.team, operator())
    filters = Filters(areas=(args.area,) if args.area else (), teams=tuple(args.team))
    try:
        built = report.build_for(config, month, as_of, filters, viewer)
    except RecordsBusy as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 1
    if not built.has_data:
        print(no_data_message(month, built.filters), file=sys.stderr)
        return NO_DATA
    version = ROLE_LABELS[args.role] if args.role else "vollständig"
    generated_at = dt.datetime.now().replace(microsecond=0)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(report.file_bytes(built, suffix, generated_at))
        # The report names workers: who wrote which one where is on record like a download.
        records.log(
            config, operator(), "Datei geschrieben",
            f"CLI: Monatsbericht {month_label(month)}, Stichtag {format.date(as_of)}, "
            f"{report.scope_label(built.filters)}, Fassung {version}, {args.out}",
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
        f"{built.title} (Stichtag {format.date(as_of)}, {report.scope_label(built.filters)}, "
        f"Fassung {version}) geschrieben: {args.out}",
    )
    return 0
