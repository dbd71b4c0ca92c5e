"""Load and verdict benchmark: our ETL against DuckDB's own read_csv, in the same run.

    .venv/bin/python bench/run.py [--tickets 1000000] [--repeat 3] [--work DIR]

Builds an N-ticket export with `demo-data` (UTF-8 and cp1252), then measures per encoding
the median of `--repeat` runs of
  - raw:      DuckDB `CREATE TABLE AS SELECT * FROM read_csv(...)` into a database file
              (cp1252 read as latin-1, the closest DuckDB has),
  - load:     `ticket-controlling load` into a fresh database (validation, rejects,
              pseudonyms and the reconciliation included; the working days are computed
              when queried, see `verdicts`),
  - verdicts: the `ticket-controlling verdicts` command end to end (load into a temporary
              database, due dates, working days, statuses and checks for all tickets, CSV),
  - query:    the verdict query alone on the loaded database (all tickets and all verdict
              columns materialised into a temp table).
Prints a Markdown table with medians and ratios and writes bench/results/load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import RESULTS, UNTIL, median_time, raw_read_csv  # noqa: E402
from dashboard.core.config import load_config  # noqa: E402
from dashboard.core.storage import connect_readonly  # noqa: E402
from etl.demo import write_demo_export  # noqa: E402
from etl.load import load_files  # noqa: E402

CLI = [sys.executable, "-m", "dashboard.cli"]


def _verdicts_cli(export: Path, out: Path) -> None:
    subprocess.run(
        [*CLI, "verdicts", str(export), "--as-of", UNTIL.isoformat(), "--out", str(out)],
        check=True,
        capture_output=True,
    )


def _verdict_query(con) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE v AS SELECT * FROM verdicts(?::DATE)", [UNTIL])


def measure(config, work: Path, encoding: str, tickets: int, repeat: int) -> dict:
    """One row of the result table: the medians for one export encoding."""
    start = time.perf_counter()
    files = write_demo_export(work / encoding, tickets=tickets, seed=7, until=UNTIL,
                              encoding=encoding)  # fmt: skip
    generated = time.perf_counter() - start
    raw = median_time(raw_read_csv, repeat, files.tickets, work / "raw.duckdb", encoding)
    load = median_time(load_files, repeat, config, [files.tickets], fresh=True)
    [result] = load_files(config, [files.tickets], fresh=True)
    verdicts = median_time(_verdicts_cli, repeat, files.tickets, work / "verdicts.csv")
    con = connect_readonly(config)
    query = median_time(_verdict_query, repeat, con)
    con.close()
    return {
        "encoding": encoding,
        "tickets": tickets,
        "file_mb": round(files.tickets.stat().st_size / 1e6, 1),
        "generate_s": round(generated, 2),
        "raw_read_csv_s": round(raw, 3),
        "load_s": round(load, 3),
        "load_ratio": round(load / raw, 2),
        "verdicts_cli_s": round(verdicts, 3),
        "verdict_query_s": round(query, 3),
        "rows_loaded": result.rows_loaded,
        "rows_rejected": result.rows_rejected,
        "rows_duplicate": result.rows_duplicate,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="tc-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    # The CLI subprocesses inherit these, so every run uses the bench's own files.
    os.environ["TICKET_CONTROLLING_DB"] = str(work / "bench.duckdb")
    os.environ["TICKET_CONTROLLING_KEY_FILE"] = str(work / "key")
    config = load_config()
    rows = [measure(config, work, enc, args.tickets, args.repeat) for enc in ("utf-8", "cp1252")]
    print(f"\nN = {args.tickets:,} tickets, median of {args.repeat} runs, {os.cpu_count()} cores\n")
    print("| export | MB | raw read_csv (s) | load (s) | load / raw | verdicts CLI (s) "
          "| verdict query (s) | loaded | rejected | duplicates |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['encoding']} | {r['file_mb']} | {r['raw_read_csv_s']} | {r['load_s']} "
            f"| {r['load_ratio']}x | {r['verdicts_cli_s']} | {r['verdict_query_s']} "
            f"| {r['rows_loaded']} | {r['rows_rejected']} | {r['rows_duplicate']} |"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
