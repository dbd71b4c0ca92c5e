"""Page benchmark: every dashboard page under AppTest on a large database.

    .venv/bin/python bench/pages.py [--tickets 1000000] [--repeat 5] [--work DIR]

Builds (or reuses) an N-ticket demo database with the real ETL, then per page measures
  - first run:  an empty result cache (st.cache_data cleared, fresh connection, no verdicts
                computed yet) in a warmed-up process, i.e. what the first user after a
                load waits for,
  - cached run: the same page again with the same filters (median of --repeat runs),
  - filter change: the page after the Bereich filter changed (cached after its first time).
Prints a Markdown table and writes bench/results/pages.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = dt.date(2026, 11, 27)
PAGES = [
    ("Übersicht", "uebersicht.py"),
    ("Teams", "teams.py"),
    ("Mitarbeitende", "mitarbeitende.py"),
    ("Wiedervorlage", "wiedervorlage.py"),
    ("Wiederholte Fristüberschreitungen", "wiederholungen.py"),
    ("Stichproben", "stichproben.py"),
    ("Monatsbericht", "monatsbericht.py"),
    ("Ticket", "ticket.py"),
    ("Daten", "daten.py"),
]


def build(work: Path, tickets: int) -> Path:
    """Write the config and build the demo database once; return the config path."""
    from dashboard.core.config import load_config
    from etl.demo import write_demo_export
    from etl.load import load_files

    config_path = work / "config.toml"
    config_path.write_text(
        f"[rules]\nreference_date = {AS_OF.isoformat()}\n"
        '[storage]\ndatabase = "bench.duckdb"\nkey_file = "key"\n',
        encoding="utf-8",
    )
    config = load_config(config_path, environ={})
    if not config.database.exists():
        files = write_demo_export(work / "export", tickets=tickets, seed=11, until=AS_OF)
        load_files(config, [files.tickets], [files.absences], fresh=True)
    return config_path


def _run(page_file: str, area: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=300)
    at.switch_page(str(ROOT / "pages" / page_file))
    start = time.perf_counter()
    at.run()
    if area is not None:
        start = time.perf_counter()
        at.selectbox(key="f_bereich").set_value(area).run()
    elapsed = time.perf_counter() - start
    if at.exception:
        raise RuntimeError(f"{page_file}: {at.exception[0].value}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="tc-bench-pages-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["TICKET_CONTROLLING_CONFIG"] = str(build(work, args.tickets))

    import streamlit as st

    from dashboard import serving

    # Warm-up: imports, the holiday calendar and Streamlit's own start-up are paid once per
    # server process, not per load; "first run" below is the first request after a load.
    for _, file in PAGES:
        _run(file)
    rows = []
    for title, file in PAGES:
        st.cache_data.clear()
        serving._connections.clear()  # a first run also opens the database
        first = _run(file)
        cached = statistics.median(_run(file) for _ in range(args.repeat))
        _run(file, area="Integration")  # first time for this filter
        filter_cached = statistics.median(
            _run(file, area="Integration") for _ in range(args.repeat)
        )
        rows.append(
            {"page": title, "first_s": round(first, 3), "cached_s": round(cached, 3),
             "filter_change_cached_s": round(filter_cached, 3)}
        )  # fmt: skip
        print(rows[-1], flush=True)
    print(f"\nN = {args.tickets:,} tickets, AppTest, medians of {args.repeat} runs\n")
    print("| page | first run (s) | cached rerun (s) | after filter change, cached (s) |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['page']} | {r['first_s']} | {r['cached_s']} | {r['filter_change_cached_s']} |")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "pages.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
