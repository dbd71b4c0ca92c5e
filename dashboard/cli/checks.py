"""Checks over given exports: `verdicts`, `findings`, `repeat-cases`.

Each command loads the files through the same ETL into a temporary database (the configured
one is never touched), computes with the same query code as the dashboard and writes one
file, through the privacy exit like every file that leaves (`dashboard.access.privacy`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.access import privacy
from dashboard.access.scope import OPERATOR
from dashboard.cli.args import iso_date
from dashboard.core.config import Config
from dashboard.core.rules import BREACHES
from dashboard.core.storage import connect_readonly
from dashboard.queries import findings, metrics
from dashboard.queries.filters import NO_FILTERS, status_in

VERDICT_COLUMNS = (
    "ticket_id",
    "area",
    "receipt_date",
    "due_date",
    "completion_date",
    "working_days",
    "status",
    "callback_ok",
    "walkin_note_ok",
    "tl_informed_ok",
    "breach_during_absence",
)
SUFFIXES = (".csv", ".xlsx")


def _inputs(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("files", nargs="+", type=Path, help="Ticket-Exporte (CSV/XLSX)")
    parser.add_argument(
        "--absences",
        action="append",
        type=Path,
        default=[],
        help="Abwesenheiten-Export (CSV/XLSX, mehrfach möglich); ohne ihn gibt es keine "
        "Abwesenheiten",
    )
    parser.add_argument(
        "--as-of", type=iso_date, required=True, help="Stichtag JJJJ-MM-TT der Bewertung"
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help=f"Ausgabedatei ({what}; .csv oder .xlsx); ein fehlender Ordner wird angelegt",
    )


def add_parsers(subparsers, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Add the `verdicts`, `findings` and `repeat-cases` sub-commands."""
    verdicts = subparsers.add_parser(
        "verdicts",
        parents=parents,
        help="Bewertung je Ticket (Frist, Status, Prüfungen A5–A7) als CSV oder XLSX",
    )
    _inputs(verdicts, "eine Zeile je Ticket bis zum Stichtag")
    verdicts.add_argument(
        "--rejects",
        type=Path,
        help="zusätzlich die abgewiesenen Zeilen der Exporte als CSV in diese Datei",
    )
    found = subparsers.add_parser(
        "findings",
        parents=parents,
        help="Regelverstöße je Ticket (ticket_id,finding; Codes wie in RULES.md)",
    )
    _inputs(found, "eine Zeile je Regelverstoß")
    cases = subparsers.add_parser(
        "repeat-cases",
        parents=parents,
        help="wiederholte Fristüberschreitungen (A10): worker,month,breaches",
    )
    _inputs(cases, "eine Zeile je Fall und Monat")


@contextlib.contextmanager
def temporary_database(config: Config, args) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only connection on the args' exports loaded into a temporary database.

    Yields None when a file was refused as a whole (the reason is printed).
    """
    from etl.load import load_files  # the ETL only for the commands that load

    with tempfile.TemporaryDirectory(prefix="ticket-check-") as tmp:
        storage = config.storage.model_copy(
            update={"database": Path(tmp) / "check.duckdb", "app_database": None}
        )
        config = config.model_copy(update={"storage": storage})
        results = load_files(config, args.files, args.absences)
        for result in results:
            print(result.summary(), file=sys.stderr)
        if any(r.refused for r in results):
            yield None
            return
        con = connect_readonly(config)
        try:
            yield con
        finally:
            con.close()


def _write(frame: pd.DataFrame, path: Path) -> None:
    """The frame as CSV (comma, UTF-8) or a formatted XLSX, by the file's suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = privacy.release(frame, OPERATOR, target="file")
    if path.suffix.lower() == ".xlsx":
        from dashboard.ui.downloads import xlsx_bytes  # the dashboard's own workbook format

        path.write_bytes(xlsx_bytes(frame))
    else:
        # As DuckDB writes CSV: whole numbers without ".0", true/false, empty for NULL.
        frame = frame.convert_dtypes()
        for column in frame.columns:
            if pd.api.types.is_bool_dtype(frame[column]):
                frame[column] = frame[column].map({True: "true", False: "false"})
        frame.to_csv(path, index=False, encoding="utf-8", date_format="%Y-%m-%d")


def _checked_suffix(path: Path) -> bool:
    if path.suffix.lower() in SUFFIXES:
        return True
    print(f"Fehler: {path} – die Ausgabe wird als .csv oder .xlsx geschrieben.", file=sys.stderr)
    return False


def _run(config: Config, args, compute) -> int:
    if not _checked_suffix(args.out):
        return 2
    with temporary_database(config, args) as con:
        if con is None:
            return 1
        frame = compute(con, args)
        _write(frame, args.out)
    print(f"{len(frame)} Zeilen nach {args.out}", file=sys.stderr)
    return 0


def _verdicts(con: duckdb.DuckDBPyConnection, args) -> pd.DataFrame:
    frame = con.execute(
        f"""
        SELECT v.* EXCLUDE (in_absence),
               -- RULES.md Absences: a breach due while its assignee was absent
               v.{status_in(BREACHES)} AND in_absence AS breach_during_absence
        FROM (
            SELECT {", ".join(VERDICT_COLUMNS[:-1])}, status_code,
                   {metrics.IN_ABSENCE} AS in_absence
            FROM verdicts(?::DATE) v
        ) v
        ORDER BY ticket_id
        """,
        [args.as_of],
    ).df()
    frame = frame.drop(columns="status_code")
    if args.rejects:
        args.rejects.parent.mkdir(parents=True, exist_ok=True)
        rejects = con.execute(
            "SELECT source, record, ticket_id, reason FROM rejects "
            "WHERE kind = 'tickets' ORDER BY load_id, record"
        ).df()
        privacy.release(rejects, OPERATOR, target="file").to_csv(
            args.rejects, index=False, encoding="utf-8"
        )
    for column in ("receipt_date", "due_date", "completion_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame[list(VERDICT_COLUMNS)]


def _findings(con: duckdb.DuckDBPyConnection, args) -> pd.DataFrame:
    frame = findings.ticket_findings(con, args.as_of, NO_FILTERS)
    return frame.sort_values(["ticket_id", "finding_no"], ignore_index=True)[
        ["ticket_id", "finding"]
    ]


def _repeat_cases(con: duckdb.DuckDBPyConnection, args, config: Config) -> pd.DataFrame:
    frame = metrics.repeat_cases(
        con, args.as_of, NO_FILTERS, threshold=config.rules.repeat_threshold
    )
    out = pd.DataFrame(
        {
            "worker": frame["worker"],
            "month": pd.to_datetime(frame["month"]).dt.strftime("%Y-%m"),
            "breaches": frame["breaches"].astype("int64"),
        }
    )
    return out.sort_values(["month", "worker"], ignore_index=True)


def run_verdicts(config: Config, args) -> int:
    """`verdicts`: one row per ticket received up to the Stichtag."""
    return _run(config, args, _verdicts)


def run_findings(config: Config, args) -> int:
    """`findings`: one row per finding, `ticket_id,finding`."""
    return _run(config, args, _findings)


def run_repeat_cases(config: Config, args) -> int:
    """`repeat-cases`: `worker,month,breaches` per repeat case (counted breaches)."""
    return _run(config, args, lambda con, a: _repeat_cases(con, a, config))
