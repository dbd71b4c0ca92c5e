"""Helpers shared by the benchmarks (bench/run.py, bench/scale.py): timing, the raw baseline."""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
UNTIL = dt.date(2026, 11, 27)  # the demo exports' last day and the Stichtag of every query


def median_time(fn, repeat: int, *args, **kwargs) -> float:
    """Median wall time of `repeat` calls of fn(*args, **kwargs)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def raw_read_csv(path: Path, db: Path, encoding: str = "utf-8") -> None:
    """The baseline: DuckDB's own `read_csv` of the export into a table of a database file."""
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE raw AS SELECT * FROM read_csv(?, delim=';', header=true, encoding=?, "
        "ignore_errors=true)",
        [str(path), "latin-1" if encoding == "cp1252" else "utf-8"],
    )
    con.close()


def floor_statements(path: Path, key: bytes) -> list[tuple[str, list]]:
    """The least a load must do beyond the raw read, as SQL: dates typed, customers pseudonymised.

    DuckDB's `read_csv` of the export at `path`, the seven date fields read with
    the load's own `parse_day`, and the customer numbers replaced by the load's keyed hash
    (distinct numbers, HMAC, join back), into a table of the database; no other typing, no
    validation, no record numbers, no file hash. Built before the clock starts: it imports
    the project, which the raw baseline's child process does not.
    """
    from dashboard.core.config import DEFAULT_HEADERS
    from dashboard.core.keys import HMAC_SQL, hmac_pads
    from etl.validate import DATE_MACRO, TICKETS

    dates = {DEFAULT_HEADERS[f] for f in TICKETS.dates}
    customer = DEFAULT_HEADERS["customer"]
    columns = ", ".join(
        f'parse_day("{h}") AS "{h}"' if h in dates else f'"{h}"' for h in DEFAULT_HEADERS.values()
    )
    inner, outer = hmac_pads(key)
    # The same two steps as the load: typed values into a temp table, then the table
    # written with the pseudonyms of the distinct customer numbers joined in.
    return [
        (DATE_MACRO, []),
        (
            f"CREATE TEMP TABLE typed AS SELECT {columns} FROM read_csv(?, delim=';', "
            "header=true, all_varchar=true, ignore_errors=true)",
            [str(path)],
        ),
        (
            f"""
            CREATE TABLE floor AS
            SELECT t.* EXCLUDE ("{customer}"), p.pseudonym
            FROM typed t LEFT JOIN (
                SELECT c, {HMAC_SQL.format(value="c")} AS pseudonym
                FROM (SELECT DISTINCT "{customer}" AS c FROM typed WHERE c IS NOT NULL)
            ) p ON p.c = t."{customer}"
            """,
            [outer, inner],
        ),
    ]


def floor_load(db: Path, statements: list[tuple[str, list]]) -> None:
    """Run `floor_statements` into a new database file `db`."""
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    for sql, params in statements:
        con.execute(sql, params)
    con.close()


def run_child(args: list[str], env: dict | None = None) -> tuple[dict, float, float]:
    """Run `python <args>` as a child process: (its JSON output, wall seconds, peak RSS in MiB).

    The peak resident memory comes from wait4's rusage of exactly this child, so the
    parent's own memory and other children never count.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, env={**os.environ, **(env or {})}
    )
    out = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed with exit code {proc.returncode}")
    # Linux reports ru_maxrss in KiB.
    return json.loads(out.decode().strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024
