"""Smoke test of the benchmark script (bench/run.py) on a tiny export."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from bench import run

N = 3_000


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("bench")


def test_load_reports_both_timings_and_reconciles(work):
    results = work / "results"
    proc = subprocess.run(
        [sys.executable, str(run.ROOT / "bench" / "run.py"), "load", "--tickets", str(N),
         "--repeat", "1", "--work", str(work), "--results", str(results)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "| load_over_raw |" in proc.stdout
    result = json.loads((results / f"load-{N}.json").read_text(encoding="utf-8"))
    figures = result["figures"]
    assert figures["raw_s"] > 0 and figures["load_s"] > 0
    assert 0 < figures["load_peak_mib"] < 4096
    assert figures["load_over_raw"] == pytest.approx(figures["load_s"] / figures["raw_s"], 0.1)
    with open(run.export(work, N).tickets, encoding="utf-8", newline="") as f:
        records = sum(1 for _ in csv.reader(f, delimiter=";")) - 1
    counted = figures["rows_loaded"] + figures["rows_rejected"] + figures["rows_duplicate"]
    assert counted == records
    assert result["goals"] == [
        {"figure": "load_over_raw", "limit": 3.0, "at_tickets": 1_000_000, "verdict": "-"}
    ]


def test_daily_export_completes_open_tickets_and_adds_new_ones(work):
    files = run.export(work, N)
    daily = run.daily_export(files.tickets, run.loaded_database(work, N), work / "daily.csv")

    def rows(path):
        with open(path, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f, delimiter=";"))

    before = {r["Ticket-ID"]: r for r in rows(files.tickets)}
    changed = [r for r in rows(daily) if r["Ticket-ID"] in before]
    new = [r for r in rows(daily) if r["Ticket-ID"] not in before]
    assert changed and all(not before[r["Ticket-ID"]]["Erledigt"] for r in changed)
    assert all(r["Erledigt"] == "28.11.2026 10:00" for r in changed)
    assert len(new) == run.DAILY_NEW == len({r["Ticket-ID"] for r in new})


def test_incremental_loads_the_daily_export_into_the_database(work):
    figures = run.measure_incremental(work, N, repeat=1)
    assert figures["rows_loaded"] == figures["daily_rows"]
    assert figures["records_new"] == run.DAILY_NEW
    assert figures["records_replaced"] == figures["daily_rows"] - run.DAILY_NEW


def test_analyst_counts_what_the_load_keeps_and_what_it_rejects(work):
    figures = run.measure_analyst(work, N, repeat=1)
    # The analyst keeps the dirty rows and duplicates the load rejects: a few more tickets.
    assert figures["analyst_tickets"] > figures["our_tickets"] > 0.98 * figures["analyst_tickets"]
    assert figures["team_months"] > 20
    assert 0 < figures["team_month_tickets_max_diff_pct"] < 10
    assert figures["team_month_on_time_rate_max_diff_pp"] < 10


@pytest.mark.parametrize(
    ("tickets", "ratio", "verdict"),
    [(1_000_000, 2.9, "met"), (1_000_000, 3.1, "missed"), (2_000, 9.0, "-")],
)
def test_goals_apply_at_their_number_of_tickets(tickets, ratio, verdict):
    [goal] = run.judge("load", tickets, {"load_over_raw": ratio})
    assert goal["verdict"] == verdict


def test_monday_measures_every_scenario_against_the_baseline(work):
    results = work / "results"
    proc = subprocess.run(
        [sys.executable, str(run.ROOT / "bench" / "run.py"), "monday", "--tickets", str(N),
         "--repeat", "1", "--work", str(work), "--results", str(results)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    figures = json.loads((results / f"monday-{N}.json").read_text(encoding="utf-8"))["figures"]
    for tree, scenario in run.MONDAY_RUNS:
        first_p50 = figures[f"{tree} {scenario}: first figure p50 (s)"]
        first_p95 = figures[f"{tree} {scenario}: first figure p95 (s)"]
        assert 0 < first_p50 <= first_p95 <= figures[f"{tree} {scenario}: page p95 (s)"]
        assert figures[f"{tree} {scenario}: peak memory (MiB)"] > 0
    assert figures["ours after-load: warm_up before (s)"] > 0
