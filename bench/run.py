"""Benchmarks of the performance goals in force (docs/performance.md), one subcommand each.

    .venv/bin/python bench/run.py COMMAND... [--tickets N] [--repeat K] [--work DIR]

  load         our load against DuckDB's raw `read_csv` of the same export (goal: 3x at 1 M)
  scale        a fresh load of N tickets: time and peak memory (goals: 90 s, 4 GiB at 10 M)
  incremental  a daily export of 5,000 tickets into the N-ticket database (goal: 2 s at 10 M)
  analyst      the analyst's pandas script from the file against ours from the loaded database
               (and against our load plus ours), to the same team-month figures
  pages        the Stichtag's verdicts and the queries of the Übersicht and Teams pages
  monday       30 data scopes ask for the Übersicht at once (bench/monday.py), against the
               per-scope serving of the baseline commit (goal: p95 0.5 s at 1 M, 2 s at 10 M)
  browser      one person in Chromium: the first page and warm page switches (bench/browser.py;
               goal at 1 M: p95 of a warm switch 0.3 s, first page 1.5 s)

Every command works on the demo export of N tickets (seed 7, Stichtag UNTIL; N defaults to the
number its goal is stated for), generated into --work once and reused, prints a Markdown table
of medians (of --repeat runs) and writes it as JSON to bench/results/COMMAND-N.json. Loads
and the analyst's script run in child processes, so their peak memory is their own. The exit
status is 1 when a goal in force for N is missed. The --work directory also keeps the loaded
database of each N, rebuilt when the commit changes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from bench.analyst import team_months  # noqa: E402
from dashboard.core import rules  # noqa: E402
from dashboard.core.config import Config, load_config  # noqa: E402
from dashboard.core.storage import connect_readonly  # noqa: E402
from dashboard.queries import metrics, overview  # noqa: E402
from etl.demo import DemoFiles, write_demo_export  # noqa: E402
from etl.load import load_files  # noqa: E402

RESULTS = ROOT / "bench" / "results"
UNTIL = dt.date(2026, 11, 27)  # the export's last day and the Stichtag of every query
DAILY_CHANGED = 2_500  # open tickets of the export that the daily export completes
DAILY_NEW = 2_500  # tickets the daily export adds
GIB = 1024  # MiB


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Median wall seconds of `repeat` calls of fn()."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_child(args: list[str]) -> dict:
    """Run `bench/run.py <args>` in a child process: the JSON it prints last."""
    proc = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.splitlines()[-1])


def peak_mib() -> float:
    """This process's peak resident memory in MiB."""
    # VmHWM starts afresh at exec; ru_maxrss would carry over the parent's peak from the fork.
    status = Path("/proc/self/status").read_text()
    [line] = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) / 1024  # given in kB


def bench_config(work: Path, database: Path) -> Config:
    """The default configuration with the given database and the bench's key file."""
    return load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(database),
            "TICKET_CONTROLLING_KEY_FILE": str(work / "key"),
        }
    )


def export(work: Path, tickets: int) -> DemoFiles:
    """The demo export of `tickets` tickets in `work`, generated on first use."""
    out = work / f"export-{tickets}"
    files = DemoFiles(out / "tickets.csv", out / "absences.csv")
    if not (out / "complete").exists():  # not left half-written by an interrupted run
        write_demo_export(out, tickets=tickets, seed=7, until=UNTIL)
        (out / "complete").touch()
    return files


def loaded_database(work: Path, tickets: int) -> Path:
    """The database with the export of `tickets` loaded by this commit's ETL."""
    database = work / f"tickets-{tickets}.duckdb"
    built_by = database.with_suffix(".commit")
    if not (database.exists() and built_by.exists() and built_by.read_text() == commit()):
        child_load(work, export(work, tickets).tickets, database)
    return database


def child_raw(csv_path: Path, database: Path) -> dict:
    """Seconds and peak MiB of DuckDB's own `read_csv` of the export into a database file."""
    result = run_child(["child-raw", str(csv_path), str(database)])
    database.unlink()
    return result


def child_load(work: Path, csv_path: Path, database: Path) -> dict:
    """Our fresh load of the export in a child process: its counts, seconds and peak MiB."""
    result = run_child(["child-load", str(work), str(csv_path), str(database)])
    database.with_suffix(".commit").write_text(commit())
    return result


def _child_raw(csv_path: str, database: str) -> dict:
    Path(database).unlink(missing_ok=True)
    start = time.perf_counter()
    with duckdb.connect(database) as con:
        # ignore_errors: the export's rows with a wrong field count would stop the read.
        con.execute(
            "CREATE TABLE raw AS SELECT * FROM read_csv(?, delim=';', header=true, "
            "ignore_errors=true)",
            [csv_path],
        )
    return {"seconds": time.perf_counter() - start, "peak_mib": peak_mib()}


def _child_load(work: str, csv_path: str, database: str) -> dict:
    config = bench_config(Path(work), Path(database))
    start = time.perf_counter()
    [result] = load_files(config, [Path(csv_path)], fresh=True)
    return {
        "seconds": time.perf_counter() - start,
        "peak_mib": peak_mib(),
        "loaded": result.rows_loaded,
        "rejected": result.rows_rejected,
        "duplicate": result.rows_duplicate,
    }


def _child_analyst(csv_path: str, out: str) -> dict:
    start = time.perf_counter()
    figures = team_months(Path(csv_path), UNTIL)
    seconds = time.perf_counter() - start
    figures.to_parquet(out)
    return {"seconds": seconds, "peak_mib": peak_mib()}


CHILDREN = {"child-raw": _child_raw, "child-load": _child_load, "child-analyst": _child_analyst}


def measure_load(work: Path, tickets: int, repeat: int) -> dict:
    """Raw read and our load of the same export, alternating, each in a child process."""
    csv_path = export(work, tickets).tickets
    raw, load = [], []
    for _ in range(repeat):
        raw.append(child_raw(csv_path, work / "raw.duckdb"))
        load.append(child_load(work, csv_path, work / f"tickets-{tickets}.duckdb"))
    raw_s = statistics.median(r["seconds"] for r in raw)
    load_s = statistics.median(r["seconds"] for r in load)
    counts = load[-1]
    return {
        "file_mb": round(csv_path.stat().st_size / 1e6),
        "raw_s": round(raw_s, 3),
        "raw_peak_mib": round(max(r["peak_mib"] for r in raw)),
        "load_s": round(load_s, 3),
        "load_peak_mib": round(max(r["peak_mib"] for r in load)),
        "load_over_raw": round(load_s / raw_s, 2),
        "rows_loaded": counts["loaded"],
        "rows_rejected": counts["rejected"],
        "rows_duplicate": counts["duplicate"],
    }


def daily_export(csv_path: Path, database: Path, out: Path) -> Path:
    """A day's export after `csv_path`: open tickets now completed, and new tickets."""
    completed = (UNTIL + dt.timedelta(days=1)).strftime("%d.%m.%Y") + " 10:00"
    new_prefix = f"T-{UNTIL.year}-9"  # numbers far beyond any year's count of the demo
    with duckdb.connect() as con:
        con.execute("ATTACH ? AS store (READ_ONLY)", [str(database)])
        con.execute(
            "CREATE TABLE export AS SELECT * FROM read_csv(?, delim=';', header=true, "
            "all_varchar=true, ignore_errors=true)",
            [str(csv_path)],
        )
        # Rows the database holds as they are (once in the export, none rejected), so the
        # daily load keeps every row it gets.
        con.execute(
            """
            CREATE TABLE valid AS
            SELECT export.*, store.tickets.completed IS NULL AS open FROM export
            JOIN store.tickets ON ticket_id = "Ticket-ID"
            WHERE "Ticket-ID" IN (SELECT "Ticket-ID" FROM export GROUP BY ALL HAVING count(*) = 1)
            """
        )
        [(clash,)] = con.execute(
            "SELECT count(*) FROM store.tickets WHERE starts_with(ticket_id, ?)", [new_prefix]
        ).fetchall()
        if clash:
            raise RuntimeError(f"the database has ticket IDs starting with {new_prefix}")
        con.execute(
            f"""
            COPY (
                (SELECT * EXCLUDE (open) REPLACE ($completed AS "Erledigt") FROM valid
                 WHERE open ORDER BY "Ticket-ID" LIMIT {DAILY_CHANGED})
                UNION ALL
                (SELECT * EXCLUDE (open) REPLACE (
                    $prefix || lpad((row_number() OVER ())::VARCHAR, 6, '0') AS "Ticket-ID")
                 FROM valid WHERE NOT open ORDER BY "Ticket-ID" LIMIT {DAILY_NEW})
            ) TO $out (HEADER, DELIMITER ';')
            """,
            {"completed": completed, "prefix": new_prefix, "out": str(out)},
        )
    return out


def measure_incremental(work: Path, tickets: int, repeat: int) -> dict:
    """The daily export loaded into a copy of the N-ticket database (copy not timed)."""
    database = loaded_database(work, tickets)
    delta = daily_export(export(work, tickets).tickets, database, work / f"daily-{tickets}.csv")
    target = work / "incremental.duckdb"
    config = bench_config(work, target)
    runs = []
    for _ in range(repeat):
        shutil.copyfile(database, target)
        start = time.perf_counter()
        [result] = load_files(config, [delta])
        runs.append(time.perf_counter() - start)
    target.unlink()
    return {
        "daily_rows": result.rows_read,
        "rows_loaded": result.rows_loaded,
        "records_replaced": result.records_replaced,
        "records_new": result.records_new,
        "incremental_s": round(statistics.median(runs), 2),
    }


def our_team_months(config: Config):
    """Our way to the analyst's figures: the loaded database, the dashboard's `rates`."""
    con = connect_readonly(config)
    try:
        return metrics.rates(con, UNTIL, by=("team", "month"), working_days=False)[
            ["team", "month", "tickets", "on_time"]
        ]
    finally:
        con.close()


def measure_analyst(work: Path, tickets: int, repeat: int) -> dict:
    """The analyst's script from the CSV and ours from the loaded database, same figures."""
    import pandas as pd

    csv_path = export(work, tickets).tickets
    config = bench_config(work, loaded_database(work, tickets))
    out = work / "analyst.parquet"
    runs = [run_child(["child-analyst", str(csv_path), str(out)]) for _ in range(repeat)]
    ours_s = median_time(lambda: our_team_months(config), repeat)
    theirs = pd.read_parquet(out)
    ours = our_team_months(config)
    ours["month"] = pd.to_datetime(ours["month"])
    both = theirs.merge(ours, on=["team", "month"], how="outer", suffixes=("_a", "_o"))
    both = both.fillna(0)
    tickets_diff = (both["tickets_a"] - both["tickets_o"]).abs() / both["tickets_o"]
    rate_diff = both["on_time_a"] / both["tickets_a"] - both["on_time_o"] / both["tickets_o"]
    analyst_s = statistics.median(r["seconds"] for r in runs)
    # The withdrawn comparison, kept as a figure: our whole way from the file, load included.
    scratch = work / "analyst-load.duckdb"
    load_s = statistics.median(
        child_load(work, csv_path, scratch)["seconds"] for _ in range(repeat)
    )
    for leftover in (scratch, scratch.with_suffix(".commit"), Path(f"{scratch}.lock")):
        leftover.unlink(missing_ok=True)
    return {
        "analyst_s": round(analyst_s, 2),
        "analyst_peak_mib": round(max(r["peak_mib"] for r in runs)),
        "ours_s": round(ours_s, 3),
        "analyst_over_ours": round(analyst_s / ours_s, 1),
        "load_plus_ours_s": round(load_s + ours_s, 2),
        "analyst_over_load_plus_ours": round(analyst_s / (load_s + ours_s), 2),
        # The analyst keeps what the load rejects (dirty rows, duplicates): a few more tickets.
        "analyst_tickets": int(theirs["tickets"].sum()),
        "our_tickets": int(ours["tickets"].sum()),
        "team_months": len(both),
        "team_month_tickets_max_diff_pct": round(100 * tickets_diff.max(), 2),
        "team_month_on_time_rate_max_diff_pp": round(100 * rate_diff.abs().max(), 2),
    }


def page_queries(team: str) -> dict[str, Callable]:
    """The main queries of the Übersicht and Teams pages, by name."""
    return {
        "Übersicht: headline": overview.headline,
        "Übersicht: trend": overview.trend,
        "Übersicht: backlog": overview.backlog,
        "Übersicht: status_mix": overview.status_mix,
        "Teams: team_table": overview.team_table,
        "Teams: team_months": overview.team_months,
        "Teams: worker_table": lambda con, as_of, filters: overview.worker_table(
            con, as_of, filters, team=team
        ),
    }


def measure_pages(work: Path, tickets: int, repeat: int) -> dict:
    """The Stichtag's verdicts (once per load) and the page queries of one month after them."""
    config = bench_config(work, loaded_database(work, tickets))
    month = metrics.Filters(period=(UNTIL.replace(day=1),) * 2)
    snapshot, queries = [], {}
    for _ in range(repeat):
        con = connect_readonly(config, snapshots=True)
        start = time.perf_counter()
        rules.fill_snapshot(con, UNTIL)
        snapshot.append(time.perf_counter() - start)
        team = overview.teams(con, UNTIL)["team"].iloc[0]
        for name, fn in page_queries(team).items():
            start = time.perf_counter()
            fn(con, UNTIL, month)
            queries.setdefault(name, []).append(time.perf_counter() - start)
        con.close()
    return {"verdicts_snapshot_s": round(statistics.median(snapshot), 2)} | {
        f"{name} (s)": round(statistics.median(times), 3) for name, times in queries.items()
    }


# The last commit whose serving kept one connection and one copy of the verdicts per scope.
MONDAY_BASELINE = "dfbf1af"
MONDAY_SCOPES = 30
MONDAY_BASELINE_MAX = 2_000_000  # tickets up to which the baseline fits in memory
# (tree, scenario) in the order they run, each in a process of its own (bench/monday.py)
MONDAY_RUNS = (
    ("baseline", "cold"),
    ("ours", "cold"),
    ("baseline", "verdicts-warm"),
    ("ours", "verdicts-warm"),
    ("ours", "after-load"),
)


def baseline_tree(work: Path, rev: str) -> Path:
    """The files of commit `rev` (its `dashboard` package), exported once into `work`."""
    tree = work / f"baseline-{rev}"
    if not (tree / "complete").exists():
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        (tree / "complete").touch()
    return tree


def any_loaded_database(work: Path, tickets: int) -> Path:
    """The loaded database of N tickets in `work`, by whichever commit loaded it.

    The serving benchmarks only read it; a 10 M load takes minutes, so it is reused.
    """
    database = work / f"tickets-{tickets}.duckdb"
    return database if database.exists() else loaded_database(work, tickets)


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile (inclusive method) of the values."""
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def measure_monday(work: Path, tickets: int, repeat: int) -> dict:
    """30 scopes at once through serving.fetch: ours against the baseline, same database."""
    database = any_loaded_database(work, tickets)
    trees = {"ours": ROOT, "baseline": baseline_tree(work, MONDAY_BASELINE)}
    scratch = work / f"monday-{tickets}"
    scratch.mkdir(exist_ok=True)
    runs: dict[tuple, list[dict]] = {}
    # The baseline keeps one copy of the verdicts per scope: 4.2 GiB for 30 scopes at 1 M
    # tickets, so about ten times that at 10 M, more than this machine has.
    plan = [r for r in MONDAY_RUNS if r[0] == "ours" or tickets <= MONDAY_BASELINE_MAX]
    for _ in range(repeat):
        for tree, scenario in plan:
            proc = subprocess.run(
                [sys.executable, str(ROOT / "bench" / "monday.py"), str(trees[tree]), scenario,
                 str(database), str(scratch), str(MONDAY_SCOPES)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if proc.returncode != 0:
                raise RuntimeError(f"monday {tree} {scenario} failed:\n{proc.stderr}")
            runs.setdefault((tree, scenario), []).append(json.loads(proc.stdout.splitlines()[-1]))
    figures: dict = {"scopes": MONDAY_SCOPES, "baseline": MONDAY_BASELINE}
    for (tree, scenario), results in runs.items():
        name = f"{tree} {scenario}"

        def med(fn, results=results):
            return statistics.median(fn(r) for r in results)

        figures[f"{name}: first figure p50 (s)"] = round(
            med(lambda r: percentile(r["first_s"], 50)), 3
        )
        figures[f"{name}: first figure p95 (s)"] = round(
            med(lambda r: percentile(r["first_s"], 95)), 3
        )
        figures[f"{name}: page p95 (s)"] = round(med(lambda r: percentile(r["page_s"], 95)), 3)
        figures[f"{name}: peak memory (MiB)"] = round(max(r["peak_mib"] for r in results))
        figures[f"{name}: memory before / after (MiB)"] = (
            f"{med(lambda r: r['rss_before_mib']):.0f} / {med(lambda r: r['rss_after_mib']):.0f}"
        )
        for extra in ("verdicts_s", "warm_up_s"):
            if extra in results[0]:
                figures[f"{name}: {extra.removesuffix('_s')} before (s)"] = round(
                    med(lambda r, e=extra: r[e]), 2
                )
    for scenario in ("cold", "verdicts-warm") if tickets <= MONDAY_BASELINE_MAX else ():
        figures[f"baseline / ours, {scenario}: first figure p95"] = round(
            figures[f"baseline {scenario}: first figure p95 (s)"]
            / figures[f"ours {scenario}: first figure p95 (s)"],
            1,
        )
    return figures


BROWSER_ROUNDS = 5  # warm rounds over every page, after the first visit of each


def measure_browser(work: Path, tickets: int, repeat: int) -> dict:
    """First page and warm page switches in a real browser (repeat: rounds, at least 5)."""
    from bench import browser

    database = any_loaded_database(work, tickets)
    with duckdb.connect(str(database), read_only=True) as con:
        teams = [
            t for (t,) in con.execute("SELECT DISTINCT team FROM tickets ORDER BY 1").fetchall()
        ]
    return browser.measure(work, database, teams, UNTIL.isoformat(), max(repeat, BROWSER_ROUNDS))


COMMANDS = {
    "load": (measure_load, 1_000_000),
    "scale": (measure_load, 10_000_000),
    "incremental": (measure_incremental, 10_000_000),
    "analyst": (measure_analyst, 1_000_000),
    "pages": (measure_pages, 1_000_000),
    "monday": (measure_monday, 1_000_000),
    "browser": (measure_browser, 1_000_000),
}
# (command, figure, limit, number of tickets the goal is stated for); a figure must stay below.
GOALS = (
    ("load", "load_over_raw", 3.0, 1_000_000),
    ("scale", "load_s", 90.0, 10_000_000),
    ("scale", "load_peak_mib", 4 * GIB, 10_000_000),
    ("incremental", "incremental_s", 2.0, 10_000_000),
    # Monday morning: the scopes of last week, after the nightly load and its warm-up.
    ("monday", "ours after-load: first figure p95 (s)", 0.5, 1_000_000),
    ("monday", "ours after-load: first figure p95 (s)", 2.0, 10_000_000),
    ("browser", "warm switch p95, every page (s)", 0.3, 1_000_000),
    ("browser", "first page, new session (s)", 1.5, 1_000_000),
)


def judge(command: str, tickets: int, figures: dict) -> list[dict]:
    """The goals of the command: met, missed, or not in force for this number of tickets."""
    return [
        {
            "figure": figure,
            "limit": limit,
            "at_tickets": at,
            "verdict": ("met" if figures[figure] < limit else "missed") if tickets == at else "-",
        }
        for cmd, figure, limit, at in GOALS
        if cmd == command
    ]


def markdown(result: dict) -> str:
    """The result as a Markdown table: figure, value, goal."""
    # the goal in force for this number of tickets, else any goal of the figure
    goals = {g["figure"]: g for g in result["goals"]}
    goals |= {g["figure"]: g for g in result["goals"] if g["at_tickets"] == result["tickets"]}
    lines = [
        f"`{result['command']}`, N = {result['tickets']:,} tickets, median of "
        f"{result['repeat']} run(s), {result['cores']} cores, commit {result['commit']}, "
        f"{result['started']}",
        "",
        "| figure | value | goal |",
        "|---|---|---|",
    ]
    for name, value in result["figures"].items():
        goal = goals.get(name)
        text = f"< {goal['limit']:g} at {goal['at_tickets']:,}: {goal['verdict']}" if goal else ""
        lines.append(f"| {name} | {value} | {text} |")
    return "\n".join(lines)


def commit() -> str:
    """The measured commit, marked when the worktree has changes."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True)
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in CHILDREN:
        print(json.dumps(CHILDREN[argv[0]](*argv[1:])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commands", nargs="+", choices=COMMANDS, metavar="COMMAND")
    parser.add_argument("--tickets", type=int, help="default: each command's own")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/tc-bench"))
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    missed = False
    for command in args.commands:
        measure, default_tickets = COMMANDS[command]
        tickets = args.tickets or default_tickets
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        figures = measure(args.work, tickets, args.repeat)
        result = {
            "command": command,
            "tickets": tickets,
            "repeat": args.repeat,
            "cores": os.cpu_count(),
            "commit": commit(),
            "started": started,
            "figures": figures,
            "goals": judge(command, tickets, figures),
        }
        path = args.results / f"{command}-{tickets}.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(markdown(result) + "\n", flush=True)
        missed |= any(g["verdict"] == "missed" for g in result["goals"])
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
