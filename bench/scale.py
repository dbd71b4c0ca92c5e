"""Scale benchmark: load, incremental load, page figures and the analyst's way, same run.

    .venv/bin/python bench/scale.py [--tickets 10000000] [--repeat 1] [--work DIR]
        [--skip-load] [--skip-floor] [--skip-incremental] [--skip-queries] [--skip-analyst]

With N tickets of the demo export (seed 7, Stichtag 2026-11-27, UTF-8; generated into
`--work` once and reused), measures (medians of `--repeat` runs):
  - raw:         DuckDB `read_csv` of the file into a table (bench/common.py), in a child
                 process, with its peak resident memory;
  - load:        `load_files(..., fresh=True)` in a child process, with its peak memory;
  - floor:       the least any load must do beyond the raw read (bench/common.py
                 `floor_load`: the seven dates read with the load's `parse_day`, the
                 customer numbers replaced by its keyed hash; nothing else), in a child
                 process beside the raw read again, so analyst / floor bounds what any
                 load built on DuckDB's reader, `strptime` and `sha256` can reach;
  - incremental: a 5,000-ticket daily export (2,500 open tickets now completed, 2,500 new
                 ticket IDs) loaded into a copy of the N-ticket database, with the cost of
                 the file copy the atomic swap needs (copy + fsync) measured on its own;
  - queries:     the `serving.fetch` calls of the Übersicht and Teams pages for one month
                 (November 2026): at process start, then after a load's file swap while
                 the new version warms up, the warm-up itself, the first call after it,
                 cached (Streamlit's cache_data, as in the dashboard) and uncached;
  - analyst:     pandas `read_csv` + `numpy.busday_offset/busday_count` with the holiday
                 list + `groupby` team and month, in a child process, against our load plus
                 the same figures from `verdicts`; due dates and working days are compared
                 ticket by ticket.
Prints a Markdown table and writes bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import time
import warnings
from dataclasses import fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import RESULTS, UNTIL, floor_load, floor_statements, raw_read_csv, run_child  # noqa: E402

INCREMENTAL_CHANGED = 2_500
INCREMENTAL_NEW = 2_500
MONTH = UNTIL.replace(day=1)
ANALYST_COLUMNS = ["Ticket-ID", "Bereich", "Team", "Eingang", "Erledigt"]
# The formats of the export's date fields (EXPORT_FORMAT.md), tried in turn.
ANALYST_FORMATS = ("%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y", "%Y-%m-%d",
                   "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
                   "%Y-%m-%dT%H:%M")  # fmt: skip


def _env(work: Path, db: Path) -> dict[str, str]:
    return {"TICKET_CONTROLLING_DB": str(db), "TICKET_CONTROLLING_KEY_FILE": str(work / "key")}


# ---------------------------------------------------------------- child processes


def _child(kind: str, args: list[str]) -> None:
    """Run one measured step in this (child) process and print its result as JSON."""
    if kind == "raw":
        start = time.perf_counter()
        raw_read_csv(Path(args[0]), Path(args[1]))
        print(json.dumps({"seconds": time.perf_counter() - start}))
    elif kind == "floor":
        from dashboard.core.keys import load_or_create_key

        statements = floor_statements(Path(args[0]), load_or_create_key(Path(args[2])))
        start = time.perf_counter()
        floor_load(Path(args[1]), statements)
        print(json.dumps({"seconds": time.perf_counter() - start}))
    elif kind == "load":
        from dashboard.core.config import load_config
        from etl.load import load_files

        config = load_config()
        start = time.perf_counter()
        [result] = load_files(config, [Path(args[0])], fresh=True)
        seconds = time.perf_counter() - start
        print(json.dumps({"seconds": seconds, "loaded": result.rows_loaded,
                          "rejected": result.rows_rejected,
                          "duplicate": result.rows_duplicate}))  # fmt: skip
    elif kind == "analyst":
        print(json.dumps(_analyst(Path(args[0]), Path(args[1]))))
    else:
        raise SystemExit(f"unknown child {kind}")


def _analyst(csv_path: Path, out: Path) -> dict:
    """What an analyst does by hand: pandas, numpy's business-day functions, groupby."""
    import numpy as np
    import pandas as pd

    from dashboard.core.calendar import closing_days, public_holidays
    from dashboard.core.config import AREAS, load_config

    config = load_config()
    start = time.perf_counter()
    frame = pd.read_csv(csv_path, sep=";", usecols=ANALYST_COLUMNS, dtype=str)
    read = time.perf_counter() - start

    def parse(text: pd.Series) -> np.ndarray:
        text = text.str.strip()
        days = pd.to_datetime(text, format=ANALYST_FORMATS[0], errors="coerce")
        for fmt in ANALYST_FORMATS[1:]:
            missing = days.isna() & text.notna()
            if not missing.any():
                break
            days[missing] = pd.to_datetime(text[missing], format=fmt, errors="coerce")
        return days.to_numpy().astype("datetime64[D]")

    received = parse(frame["Eingang"])
    completed = parse(frame["Erledigt"])
    years = range(2000, 2102)
    off = {**public_holidays(config.calendar.holiday_state, years),
           **closing_days(config.calendar, years)}  # fmt: skip
    calendar = np.busdaycalendar(holidays=np.array(sorted(off), dtype="datetime64[D]"))
    deadline = frame["Bereich"].str.strip().map({a: config.deadline(a) for a in AREAS})
    as_of = np.datetime64(UNTIL, "D")
    keep = ~np.isnat(received) & deadline.notna().to_numpy() & (received <= as_of)
    received, completed = received[keep], completed[keep]
    completed = np.where(completed <= as_of, completed, np.datetime64("NaT"))
    # The due date is the N-th working day after receipt: roll a non-working receipt day
    # back to the working day before, then add N working days.
    due = np.busday_offset(
        received, deadline[keep].to_numpy(dtype="int64"), roll="backward", busdaycal=calendar
    )
    done = ~np.isnat(completed)
    one = np.timedelta64(1, "D")
    working = np.full(len(received), -1, dtype="int64")
    working[done] = np.busday_count(received[done] + one, completed[done] + one, busdaycal=calendar)
    result = pd.DataFrame(
        {
            "ticket_id": frame["Ticket-ID"].to_numpy()[keep],
            "team": frame["Team"].to_numpy()[keep],
            "due_date": due,
            "working_days": pd.arrays.IntegerArray(working, ~done),
            "on_time": done & (completed <= due),
        }
    )
    result["month"] = result["due_date"].to_numpy().astype("datetime64[M]")
    figures = result.groupby(["team", "month"]).agg(
        tickets=("ticket_id", "size"), on_time=("on_time", "sum")
    )
    seconds = time.perf_counter() - start
    result[["ticket_id", "due_date", "working_days"]].to_parquet(out)
    return {"seconds": seconds, "read_csv_s": read, "rows": len(result), "groups": len(figures)}


# ---------------------------------------------------------------- measurements


def _export(work: Path, tickets: int):
    from etl.demo import DemoFiles, write_demo_export

    out = work / f"export-{tickets}"
    files = DemoFiles(out / "tickets.csv", out / "absences.csv")
    if (out / "complete").exists():
        return files, None
    start = time.perf_counter()
    files = write_demo_export(out, tickets=tickets, seed=7, until=UNTIL)
    (out / "complete").touch()
    return files, time.perf_counter() - start


def measure_load(work: Path, csv_path: Path, db: Path, repeat: int) -> dict:
    """Raw read_csv and our load, each in a child process: medians and peak memory."""
    raw, load, raw_mem, load_mem, counts = [], [], [], [], {}
    me = str(Path(__file__).resolve())
    for _ in range(repeat):
        out, _, mem = run_child([me, "--child", "raw", str(csv_path), str(work / "raw.duckdb")])
        raw.append(out["seconds"])
        raw_mem.append(mem)
        (work / "raw.duckdb").unlink(missing_ok=True)
        counts, _, mem = run_child([me, "--child", "load", str(csv_path)], _env(work, db))
        load.append(counts["seconds"])
        load_mem.append(mem)
    raw_s, load_s = statistics.median(raw), statistics.median(load)
    return {
        "raw_read_csv_s": round(raw_s, 2),
        "raw_peak_mib": round(max(raw_mem)),
        "load_s": round(load_s, 2),
        "load_runs_s": [round(t, 2) for t in load],
        "raw_runs_s": [round(t, 2) for t in raw],
        "load_ratio": round(load_s / raw_s, 2),
        "load_peak_mib": round(max(load_mem)),
        "db_mb": round(db.stat().st_size / 1e6),
        "rows_loaded": counts["loaded"],
        "rows_rejected": counts["rejected"],
        "rows_duplicate": counts["duplicate"],
    }


def measure_floor(work: Path, csv_path: Path, repeat: int) -> dict:
    """The raw read and the floor (`floor_load`) in turn, each in a child process: medians."""
    me = str(Path(__file__).resolve())
    raw, floor = [], []
    for _ in range(repeat):
        for runs, kind, extra in ((raw, "raw", []), (floor, "floor", [str(work / "key")])):
            db = work / f"{kind}.duckdb"
            out, _, _ = run_child([me, "--child", kind, str(csv_path), str(db), *extra])
            runs.append(out["seconds"])
            db.unlink(missing_ok=True)
    raw_s, floor_s = statistics.median(raw), statistics.median(floor)
    return {
        "raw_read_csv_s": round(raw_s, 2),
        "floor_s": round(floor_s, 2),
        "raw_runs_s": [round(t, 2) for t in raw],
        "floor_runs_s": [round(t, 2) for t in floor],
        "floor_ratio": round(floor_s / raw_s, 2),
    }


def build_delta(csv_path: Path, db: Path, out: Path) -> Path:
    """A daily export: open tickets of the database now completed, and new ticket IDs."""
    import duckdb

    con = duckdb.connect()
    con.execute("ATTACH ? AS store (READ_ONLY)", [str(db)])
    con.execute(
        "CREATE TABLE export AS SELECT * FROM read_csv(?, delim=';', quote='\"', header=true, "
        "all_varchar=true, ignore_errors=true)",
        [str(csv_path)],
    )
    stamp = UNTIL.strftime("%d.%m.%Y") + " 16:00"
    con.execute(
        f"""
        CREATE TABLE delta AS
        (SELECT * REPLACE (? AS "Erledigt") FROM export
         WHERE "Ticket-ID" IN (SELECT ticket_id FROM store.tickets WHERE completed IS NULL)
         ORDER BY "Ticket-ID" LIMIT {INCREMENTAL_CHANGED})
        UNION ALL
        (SELECT * REPLACE ('T-2026-9' || lpad(row_number() OVER (ORDER BY "Ticket-ID")::VARCHAR,
                           6, '0') AS "Ticket-ID")
         FROM export
         WHERE "Ticket-ID" IN (SELECT ticket_id FROM store.tickets WHERE completed IS NOT NULL)
         ORDER BY "Ticket-ID" DESC LIMIT {INCREMENTAL_NEW})
        """,
        [stamp],
    )
    clash = con.execute(
        "SELECT count(*) FROM store.tickets "
        "WHERE ticket_id LIKE 'T-2026-9%' AND length(ticket_id) = 14"
    ).fetchall()[0][0]
    if clash:
        raise RuntimeError("new ticket IDs of the delta export exist already")
    con.execute("COPY delta TO ? (HEADER, DELIMITER ';')", [str(out)])
    con.close()
    return out


def measure_incremental(work: Path, csv_path: Path, db: Path, repeat: int) -> dict:
    """The 5,000-ticket daily export into a copy of the big database."""
    from dashboard.core.config import load_config
    from dashboard.core.storage import _fsync
    from etl.load import load_files

    delta = work / f"delta-{csv_path.parent.name}.csv"
    if not delta.exists():  # the same daily export for every run on this export
        build_delta(csv_path, db, delta)
    target = work / "incremental.duckdb"
    config = load_config(environ={**os.environ, **_env(work, target)})
    copies, totals, steps, result = [], [], [], None
    for _ in range(repeat):
        # The swap's own cost, alone: copy the database file and fsync the copy.
        start = time.perf_counter()
        shutil.copyfile(db, work / "copy-probe.duckdb")
        _fsync(work / "copy-probe.duckdb")
        copies.append(time.perf_counter() - start)
        (work / "copy-probe.duckdb").unlink()
        shutil.copyfile(db, target)  # the state before the daily load (not timed)
        marks: list[tuple[str, float]] = []
        start = time.perf_counter()

        def progress(label: str, _fraction: float, start=start, marks=marks) -> None:
            marks.append((label.split(": ", 1)[-1], time.perf_counter() - start))

        [result] = load_files(config, [delta], progress=progress)
        totals.append(time.perf_counter() - start)
        steps.append(marks)
    median = statistics.median(totals)
    return {
        "incremental_s": round(median, 2),
        "incremental_runs_s": [round(t, 2) for t in totals],
        "copy_fsync_s": round(statistics.median(copies), 2),
        "incremental_steps_s": {label: round(t, 2) for label, t in steps[totals.index(median)]}
        if repeat % 2
        else {},
        "delta_loaded": result.rows_loaded,
        "delta_replaced": result.records_replaced,
        "delta_new": result.records_new,
    }


UEBERSICHT = "Übersicht"
TEAMS = "Teams"


def _page_calls(page: str, selection) -> list[tuple]:
    """The serving.fetch calls a page makes, in its order (sidebar first), as in pages/*.py."""
    from dashboard.core.months import add_months
    from dashboard.queries import metrics, overview
    from dashboard.queries.filters import Filters

    calls = [(metrics.dimensions, replace(selection, filters=Filters()), {})]
    if page == UEBERSICHT:
        before = replace(
            selection,
            filters=replace(selection.filters, period=(add_months(MONTH, -1),) * 2),
        )
        earlier = replace(
            selection, as_of=overview.comparison_date(selection.as_of, selection.filters)
        )
        calls += [
            (overview.headline, selection, {}),
            (overview.headline, before, {}),
            (overview.open_overdue, earlier, {"prepare": False}),
            (overview.trend, selection, {}),
            (overview.backlog, selection, {}),
            (overview.status_mix, selection, {}),
        ]
    else:
        calls += [
            (overview.team_table, selection, {}),
            (overview.team_months, selection, {}),
            (overview.worker_table, selection, {"team": None}),  # first team, set below
        ]
    return calls


def _run_page(page: str, selection) -> float:
    from dashboard import serving

    start = time.perf_counter()
    team = None
    for fn, sel, kwargs in _page_calls(page, selection):
        if fn.__name__ == "worker_table":
            kwargs = {"team": team}
        frame = serving.fetch(fn, sel, **kwargs)
        if fn.__name__ == "team_table":
            team = sorted(frame["team"])[0]
    return time.perf_counter() - start


def _swap_copy(db: Path) -> None:
    """What a load does to the dashboard: a new file (same content) renamed over the old."""
    from dashboard.core.storage import _fsync

    tmp = db.with_name(f".{db.name}.bench-swap")
    shutil.copyfile(db, tmp)
    _fsync(tmp)
    os.replace(tmp, db)


def measure_queries(work: Path, db: Path, repeat: int) -> dict:
    """Übersicht and Teams figures for one month, around a load and its warm-up.

    Per page and run: the page at process start (no version yet: the request opens the
    file and computes the snapshot itself) and cached; then a load's swap (a copy of the
    file renamed over it, untimed) and (a) the first call after it, served from the old
    version while the new one warms up in the background, (b) the time from that call
    until the new version is warm, (c) the first call on the new version (results not
    cached), (d) the cached rerun and (e) once more with the result cache cleared (warm
    snapshot, like a changed filter).
    """
    import logging

    os.environ.update(_env(work, db))
    # Outside a Streamlit server, cache_data works and only warns about the missing runtime.
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    from dashboard import serving
    from dashboard.queries.filters import Filters

    # With sign-in, a selection names its viewer: Controlling sees every team.
    viewer = {}
    if "viewer" in {f.name for f in fields(serving.Selection)}:
        from dashboard.access import viewer as viewers

        everyone = getattr(viewers, "EVERYONE", None)
        viewer = {"viewer": everyone or viewers.Viewer("bench", "Benchmark", "controlling")}
    selection = serving.Selection(as_of=UNTIL, filters=Filters(period=(MONTH, MONTH)), **viewer)
    result = {}
    for page in (UEBERSICHT, TEAMS):
        runs: dict[str, list[float]] = {}

        def note(name: str, seconds: float, runs=runs) -> None:
            runs.setdefault(name, []).append(seconds)

        for _ in range(repeat):
            # Process start: no version, no snapshot, no cached results.
            serving.wait_for_warmup()
            with serving._lock:
                for served in serving._connections.values():
                    served.con.close()
                serving._connections.clear()
            serving._cached.clear()
            note("cold_start_s", _run_page(page, selection))
            note("cold_start_cached_s", _run_page(page, selection))
            _swap_copy(db)  # a load
            start = time.perf_counter()
            note("first_s", _run_page(page, selection))  # (a) served from the old version
            # ... and with another filter meanwhile: the old version computes, beside the
            # warm-up (both on the same cores)
            serving._cached.clear()
            note("during_warmup_uncached_s", _run_page(page, selection))
            if not serving.wait_for_warmup(timeout=600):
                raise RuntimeError("the warm-up did not finish within 10 minutes")
            note("warmup_s", time.perf_counter() - start)  # (b)
            if serving.version(viewer=selection.viewer) != serving.version():
                raise RuntimeError("the warm-up did not switch to the new version")
            note("first_after_warmup_s", _run_page(page, selection))  # (c)
            note("cached_s", _run_page(page, selection))  # (d)
            serving._cached.clear()
            note("uncached_warm_s", _run_page(page, selection))  # (e)
        result[page] = {
            name: round(statistics.median(times), 3 if "cached" in name else 2)
            for name, times in runs.items()
        } | {"runs": {name: [round(t, 3) for t in times] for name, times in runs.items()}}
    return result


def measure_analyst(
    work: Path, csv_path: Path, db: Path, load_s: float, repeat: int, floor_s: float | None = None
) -> dict:
    """pandas + numpy by hand against our load and verdicts; ticket-by-ticket comparison."""
    from dashboard.core.config import load_config
    from dashboard.core.storage import connect_readonly

    me = str(Path(__file__).resolve())
    out = work / "analyst.parquet"
    runs, mems, reads, info = [], [], [], {}
    for _ in range(repeat):
        info, _, mem = run_child([me, "--child", "analyst", str(csv_path), str(out)],
                                 _env(work, db))  # fmt: skip
        runs.append(info["seconds"])
        reads.append(info["read_csv_s"])
        mems.append(mem)
    config = load_config(environ={**os.environ, **_env(work, db)})
    figures = []
    for _ in range(repeat):
        start = time.perf_counter()
        con = connect_readonly(config)
        con.execute(
            """
            SELECT team, date_trunc('month', due_date) AS month, count(*) AS tickets,
                   count(*) FILTER (status = 'on_time') AS on_time
            FROM verdicts(?::DATE) GROUP BY ALL
            """,
            [UNTIL],
        ).fetchall()
        figures.append(time.perf_counter() - start)
        con.close()
    con = connect_readonly(config)
    con.execute(
        "CREATE TEMP TABLE ours AS SELECT ticket_id, due_date, working_days FROM verdicts(?::DATE)",
        [UNTIL],
    )
    [(compared, due_diff, wd_diff, ours_only, theirs_only)] = con.execute(
        """
        SELECT count(o.ticket_id) FILTER (a.ticket_id IS NOT NULL),
               count(*) FILTER (o.due_date IS DISTINCT FROM a.due_date::DATE
                                AND a.ticket_id IS NOT NULL AND o.ticket_id IS NOT NULL),
               count(*) FILTER (o.working_days IS DISTINCT FROM a.working_days
                                AND a.ticket_id IS NOT NULL AND o.ticket_id IS NOT NULL),
               count(*) FILTER (a.ticket_id IS NULL),
               count(*) FILTER (o.ticket_id IS NULL)
        FROM ours o FULL OUTER JOIN (
            -- a ticket ID the analyst has several times counts when all copies agree
            SELECT ticket_id, any_value(due_date) AS due_date,
                   any_value(working_days) AS working_days
            FROM read_parquet(?) GROUP BY ticket_id
            HAVING count(DISTINCT (due_date, working_days)) = 1
        ) a USING (ticket_id)
        """,
        [str(out)],
    ).fetchall()
    con.close()
    ours = load_s + statistics.median(figures)
    analyst = statistics.median(runs)
    best = {}
    if floor_s is not None:
        # The best a load could do: the floor in place of our load, the same figures after it.
        best["floor_s"] = round(floor_s, 2)
        best["analyst_over_floor"] = round(analyst / (floor_s + statistics.median(figures)), 2)
    return {
        **best,
        "analyst_s": round(analyst, 2),
        "analyst_read_csv_s": round(statistics.median(reads), 2),
        "analyst_peak_mib": round(max(mems)),
        "ours_load_s": round(load_s, 2),
        "ours_figures_s": round(statistics.median(figures), 2),
        "ours_s": round(ours, 2),
        "analyst_over_ours": round(analyst / ours, 2),
        "compared_tickets": compared,
        "due_date_mismatches": due_diff,
        "working_days_mismatches": wd_diff,
        "ours_only": ours_only,
        "analyst_only": theirs_only,
    }


def _markdown(result: dict) -> str:
    n = result["tickets"]
    lines = [f"N = {n:,} tickets, median of {result['repeat']} run(s), "
             f"{os.cpu_count()} cores, {result['started']}", "",
             "| figure | value | goal |", "|---|---|---|"]  # fmt: skip
    load = result.get("load")
    if load:
        lines += [
            f"| raw DuckDB read_csv | {load['raw_read_csv_s']} s, "
            f"peak {load['raw_peak_mib']} MiB | |",
            f"| load (fresh) | {load['load_s']} s, peak {load['load_peak_mib']} MiB | < 4096 MiB |",
            f"| load / raw | {load['load_ratio']}x | {'2' if n >= 10_000_000 else '1.5'}x |",
            f"| loaded / rejected / duplicates | {load['rows_loaded']:,} / "
            f"{load['rows_rejected']:,} / {load['rows_duplicate']:,} | |",
        ]
    floor = result.get("floor")
    if floor:
        lines += [
            f"| floor: raw read + dates + keyed hash, nothing else | {floor['floor_s']} s "
            f"(raw {floor['raw_read_csv_s']} s in the same step) | |",
            f"| floor / raw | {floor['floor_ratio']}x | |",
        ]
    inc = result.get("incremental")
    if inc:
        lines += [
            f"| incremental 5,000 (2,500 changed + 2,500 new) | {inc['incremental_s']} s | < 2 s |",
            f"| of which: copy + fsync of the database | {inc['copy_fsync_s']} s | |",
            f"| steps (cumulative s) | {inc['incremental_steps_s']} | |",
        ]
    for page, q in (result.get("queries") or {}).items():
        lines += [
            f"| {page} one month, first call after a load (old version, new one warming) "
            f"| {q['first_s']} s | < 1 s |",
        ]
        if "warmup_s" in q:
            lines += [
                f"| {page} same, results not cached (old version, beside the warm-up) "
                f"| {q['during_warmup_uncached_s']} s | |",
                f"| {page}: load noticed until the new version is warm | {q['warmup_s']} s | |",
                f"| {page} first call after the warm-up (results not cached) "
                f"| {q['first_after_warmup_s']} s | < 1 s |",
            ]
        lines += [f"| {page} cached rerun | {q['cached_s']} s | < 0.2 s |"]
        if "cold_start_s" in q:
            lines += [
                f"| {page} at process start (no old version: snapshot in the request) "
                f"| {q['cold_start_s']} s | |",
            ]
        lines += [
            f"| {page} warm connection, results not cached | {q['uncached_warm_s']} s | < 1 s |",
        ]
    a = result.get("analyst")
    if a:
        lines += [
            f"| analyst (pandas + busday_count + groupby) | {a['analyst_s']} s "
            f"(read_csv {a['analyst_read_csv_s']} s), peak {a['analyst_peak_mib']} MiB | |",
            f"| ours (load + verdict figures) | {a['ours_s']} s ({a['ours_load_s']} + "
            f"{a['ours_figures_s']}) | |",
            f"| analyst / ours | {a['analyst_over_ours']}x | >= 3x |",
            *(
                [f"| analyst / (floor + the same figures) | {a['analyst_over_floor']}x | |"]
                if "analyst_over_floor" in a
                else []
            ),
            f"| tickets compared / due-date mismatches / working-day mismatches | "
            f"{a['compared_tickets']:,} / {a['due_date_mismatches']} / "
            f"{a['working_days_mismatches']} | 0 mismatches |",
            f"| tickets only ours / only analyst's | {a['ours_only']:,} / "
            f"{a['analyst_only']:,} | |",
        ]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/tc-scale"))
    for step in ("load", "floor", "incremental", "queries", "analyst"):
        parser.add_argument(f"--skip-{step}", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    files, generated = _export(args.work, args.tickets)
    db = args.work / f"scale-{args.tickets}.duckdb"
    result: dict = {
        "tickets": args.tickets,
        "repeat": args.repeat,
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "file_mb": round(files.tickets.stat().st_size / 1e6),
        "generate_s": None if generated is None else round(generated, 1),
    }
    steps = {
        "load": lambda: measure_load(args.work, files.tickets, db, args.repeat),
        "floor": lambda: measure_floor(args.work, files.tickets, args.repeat),
        "incremental": lambda: measure_incremental(args.work, files.tickets, db, args.repeat),
        "analyst": lambda: measure_analyst(
            args.work,
            files.tickets,
            db,
            result["load"]["load_s"],
            args.repeat,
            (result.get("floor") or {}).get("floor_s"),
        ),
        "queries": lambda: measure_queries(args.work, db, args.repeat),
    }
    if args.skip_load and not db.exists():
        raise SystemExit(f"--skip-load needs the database of an earlier run: {db}")
    if args.skip_load and not args.skip_analyst:
        raise SystemExit("--skip-load needs --skip-analyst (no load time to compare with)")
    for name, step in steps.items():
        if getattr(args, f"skip_{name}"):
            continue
        result[name] = step()
        _save(args.tickets, result)  # what is measured survives a later failure
        print(json.dumps({name: result[name]}, ensure_ascii=False), flush=True)
    print("\n" + _markdown(result))


def _save(tickets: int, result: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "scale.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved[str(tickets)] = result
    path.write_text(json.dumps(saved, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
