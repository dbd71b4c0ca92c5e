"""Retention (A9): `etl.purge` and `ticket-controlling purge`, through the real ETL."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from dashboard.cli import main
from dashboard.cli import purge as cli_purge
from dashboard.core import records
from dashboard.core.months import add_months
from dashboard.core.storage import file_identity
from dashboard.queries import metrics, overview
from dashboard.queries.filters import Filters
from etl.purge import WORKER_PLACEHOLDER, PurgeError, cutoff_date, purge
from tests.conftest import d, ticket_row

TODAY = d("31.05.2026")  # 3 months back: 28.02.2026 (the month end is clamped)
CUTOFF = d("28.02.2026")
CUSTOMER = "123D456789"

# (ticket id, Bereich, team, worker, received, completed, extra fields)
TICKETS = [
    # completed more than the retention ago: anonymised
    ("P1", "Leistung", "Leistung 1", "Anna Alt", "02.02.2026", "05.02.2026",
     {"Kundennummer": CUSTOMER}),
    # due 09.02. in Anna's absence, completed late on the day before the cutoff
    ("P2", "Leistung", "Leistung 1", "Anna Alt", "02.02.2026", "27.02.2026", {}),
    ("P3", "Leistung", "Leistung 2", "Bert Bach", "12.01.2026", "20.01.2026",
     {"Kunde informiert": "13.01.2026", "Zusage bis": "25.01.2026", "VerBIS-Vermerk": "ja",
      "Kundennummer": "987X654321"}),
    ("P4", "Integration", "Integration 1", "Cem Can", "03.02.2026", "10.02.2026", {}),
    # completed on the cutoff and the day after: kept
    ("K1", "Leistung", "Leistung 1", "Anna Alt", "16.02.2026", "28.02.2026",
     {"Kundennummer": CUSTOMER}),
    ("K2", "Leistung", "Leistung 2", "Bert Bach", "23.02.2026", "01.03.2026", {}),
    ("K3", "Integration", "Integration 1", "Cem Can", "20.04.2026", "22.04.2026", {}),
    # open since January (overdue, due 12.01. in Bert's absence): never purged
    ("O1", "Leistung", "Leistung 2", "Bert Bach", "05.01.2026", "", {"Kundennummer": "1"}),
]  # fmt: skip
PURGED = {"P1", "P2", "P3", "P4"}

ABSENCE_HEADER = ["Bearbeiter", "Von", "Bis", "Vertretung"]
ABSENCES = [
    ["Anna Alt", "09.02.2026", "13.02.2026", "Bert Bach"],  # ended before the cutoff: deleted
    ["Bert Bach", "12.01.2026", "16.01.2026", "Anna Alt"],  # kept: open O1 may be due in it
    ["Cem Can", "01.04.2026", "10.04.2026", ""],  # ends after the cutoff: kept
]
REFERENCE_DATES = [d("15.02.2026"), d("28.02.2026"), d("31.03.2026"), TODAY]


@pytest.fixture
def loaded(write_export, load) -> None:
    rows = [
        ticket_row(**{"Ticket-ID": tid, "Bereich": area, "Team": team, "Bearbeiter": worker,
                      "Eingang": received, "Erledigt": completed, **extra})
        for tid, area, team, worker, received, completed, extra in TICKETS
    ]  # fmt: skip
    results = load(write_export(rows), absences=[write_export(ABSENCES, header=ABSENCE_HEADER)])
    assert all(r.reconciled and not r.refused and not r.rows_rejected for r in results)


def _tickets(db) -> pd.DataFrame:
    con = db()
    return con.execute("SELECT * FROM tickets ORDER BY ticket_id").df().set_index("ticket_id")


def _team_figures(con, as_of: dt.date) -> dict[str, pd.DataFrame]:
    # `workers` counts people: anonymised tickets are nobody's, so it drops with the purge;
    # absence_breaches is a count of a worker-level join; checked on its own below
    figures = {
        "rates": metrics.rates(con, as_of, by=("month", "area", "team")),
        "team_table": overview.team_table(con, as_of),
        "headline": overview.headline(con, as_of).drop(columns="absence_breaches"),
        "headline_period": overview.headline(
            con, as_of, Filters(period=(d("01.02.2026"), d("28.02.2026")))
        ).drop(columns="absence_breaches"),
    }
    return {name: frame.drop(columns="workers") for name, frame in figures.items()}


@pytest.mark.parametrize(
    ("today", "months", "cutoff"),
    [
        (d("31.05.2026"), 3, d("28.02.2026")),
        (d("31.05.2028"), 3, d("29.02.2028")),
        (d("15.03.2026"), 1, d("15.02.2026")),
        (d("31.01.2026"), 2, d("30.11.2025")),
    ],
)
def test_cutoff_is_today_minus_whole_months_clamped_to_the_month_end(today, months, cutoff):
    assert cutoff_date(today, months) == cutoff


def test_purge_anonymises_tickets_completed_before_the_cutoff_only(config, loaded, db):
    before = _tickets(db)
    result = purge(config, today=TODAY, dry_run=False)
    after = _tickets(db)

    assert result.cutoff == CUTOFF and not result.dry_run
    assert dict(result.tickets_by_team) == {"Integration 1": 1, "Leistung 1": 2, "Leistung 2": 1}
    assert result.tickets == len(PURGED)
    purged = sorted(PURGED)
    kept = sorted(set(after.index) - PURGED)
    assert (after.loc[purged, "worker"] == WORKER_PLACEHOLDER).all()
    assert after.loc[purged, "customer"].isna().all()
    assert before.loc[["P1", "P3"], "customer"].notna().all()  # the purge did remove them
    # just at and after the cutoff, and the open one, keep both personal fields
    assert after.loc[kept, ["worker", "customer"]].equals(before.loc[kept, ["worker", "customer"]])
    assert after.loc["O1", "customer"] == before.loc["O1", "customer"]
    # everything else of every ticket is untouched
    rest = [c for c in before.columns if c not in ("worker", "customer", "person")]
    pd.testing.assert_frame_equal(after[rest], before[rest])


def test_absences_ended_before_the_cutoff_are_deleted_unless_a_kept_ticket_needs_them(
    config, loaded, db
):
    result = purge(config, today=TODAY, dry_run=False)
    left = db().execute("SELECT worker, date_from FROM absences ORDER BY worker").fetchall()
    assert result.absences_removed == 1
    assert left == [("Bert Bach", d("12.01.2026")), ("Cem Can", d("01.04.2026"))]


def test_team_level_figures_are_the_same_before_and_after(config, loaded, db):
    con = db()
    before = {as_of: _team_figures(con, as_of) for as_of in REFERENCE_DATES}
    breaches_before = {as_of: metrics.absence_breaches(con, as_of) for as_of in REFERENCE_DATES}
    # the data exercise a purged and a kept breach during an absence
    assert set(breaches_before[TODAY]["ticket_id"]) == {"P2", "O1"}
    purge(config, today=TODAY, dry_run=False)
    con = db()  # the purge swapped the file: a new connection sees it
    for as_of in REFERENCE_DATES:
        after = _team_figures(con, as_of)
        for name, frame in before[as_of].items():
            pd.testing.assert_frame_equal(after[name], frame, obj=f"{name} {as_of}")
        # Breaches during an absence are a worker-level fact: purged tickets drop out of them
        # (their worker is gone), those of kept tickets stay.
        was = breaches_before[as_of]
        kept = was[~was["ticket_id"].isin(PURGED)].reset_index(drop=True)
        pd.testing.assert_frame_equal(metrics.absence_breaches(con, as_of), kept)
    assert set(metrics.absence_breaches(con, TODAY)["ticket_id"]) == {"O1"}


def test_the_placeholder_is_one_row_per_team_and_never_a_real_worker(config, loaded, db):
    before = metrics.rates(db(), TODAY, by=("team", "worker")).set_index(["team", "worker"])
    purge(config, today=TODAY, dry_run=False)
    after = metrics.rates(db(), TODAY, by=("team", "worker")).set_index(["team", "worker"])
    anonymous = after.xs(WORKER_PLACEHOLDER, level="worker")["tickets"].to_dict()
    assert anonymous == {"Integration 1": 1, "Leistung 1": 2, "Leistung 2": 1}
    # each real worker keeps exactly the tickets that were not purged
    assert after.loc[("Leistung 1", "Anna Alt"), "tickets"] == 1
    assert after.loc[("Leistung 2", "Bert Bach"), "tickets"] == 2
    assert after["tickets"].sum() == before["tickets"].sum()


def test_dry_run_changes_nothing_and_reports_what_a_purge_changes(config, loaded):
    identity = file_identity(config)
    dry = purge(config, today=TODAY, dry_run=True)
    assert file_identity(config) == identity
    assert dry.dry_run and dry.changed
    real = purge(config, today=TODAY, dry_run=False)
    assert file_identity(config) != identity
    assert (dry.cutoff, dry.tickets_by_team, dry.absences_removed, dry.rejects_cleared) == (
        real.cutoff, real.tickets_by_team, real.absences_removed, real.rejects_cleared,
    )  # fmt: skip


def test_second_purge_changes_nothing(config, loaded, db):
    purge(config, today=TODAY, dry_run=False)
    tickets = _tickets(db)
    identity = file_identity(config)
    again = purge(config, today=TODAY, dry_run=False)
    assert not again.changed and again.tickets == 0 and again.absences_removed == 0
    assert file_identity(config) == identity  # not even swapped
    pd.testing.assert_frame_equal(_tickets(db), tickets)
    assert not purge(config, today=TODAY, dry_run=True).changed


def test_rejected_rows_lose_their_raw_text_after_the_retention(config, write_export, load, db):
    [result] = load(write_export([ticket_row(**{"Ticket-ID": "R", "Bereich": "Leistungen"})]))
    assert result.rows_rejected == 1
    today = dt.date.today()  # load_log.finished_at is the real time of the load

    def raw() -> tuple:
        return db().execute("SELECT raw, reason FROM rejects").fetchall()[0]

    assert not purge(config, today=today, dry_run=False).changed
    assert "Anna Alt" in raw()[0]
    cleared = purge(config, today=add_months(today, 4), dry_run=False)
    assert cleared.rejects_cleared == 1 and cleared.tickets == 0
    text, reason = raw()
    assert text is None and "Leistungen" in reason


def test_retention_below_one_month_is_refused(config, loaded, capsys):
    short = config.model_copy(
        update={"rules": config.rules.model_copy(update={"retention_months": 0})}
    )
    identity = file_identity(config)
    with pytest.raises(PurgeError, match="retention_months"):
        purge(short, today=TODAY, dry_run=False)
    parser = cli_purge.add_parser(argparse.ArgumentParser().add_subparsers())
    args = parser.parse_args(["--today", "2026-05-31"])
    assert cli_purge.run(short, args) == 2
    assert "kürzer als ein Monat" in capsys.readouterr().err
    assert file_identity(config) == identity


@pytest.fixture
def cli_env(config, tmp_path: Path, monkeypatch) -> None:
    # the CLI reads its configuration from the environment: the fixture's database and key
    monkeypatch.setenv("TICKET_CONTROLLING_DB", str(config.database))
    monkeypatch.setenv("TICKET_CONTROLLING_KEY_FILE", str(tmp_path / "secret" / "key"))


def _purge_entries(config) -> pd.DataFrame:
    return records.query(
        config, "SELECT who, action, detail FROM audit_log WHERE action = 'purge' ORDER BY id"
    )


def test_cli_dry_run_prints_and_records_nothing(config, loaded, cli_env, capsys):
    identity = file_identity(config)
    assert main(["purge", "--dry-run", "--today", "2026-05-31"]) == 0
    out = capsys.readouterr().out
    assert "Grenze 28.02.2026" in out and "Probelauf" in out
    assert "Zu anonymisierende Tickets: 4" in out and "  Leistung 1: 2" in out
    assert file_identity(config) == identity
    assert _purge_entries(config).empty


def test_cli_purge_prints_changes_and_writes_one_audit_entry(config, loaded, cli_env, capsys, db):
    assert main(["purge", "--today", "2026-05-31"]) == 0
    out = capsys.readouterr().out
    assert "Anonymisierte Tickets: 4" in out and "Gelöschte Abwesenheiten: 1" in out
    assert _tickets(db).loc["P1", "worker"] == WORKER_PLACEHOLDER
    [entry] = _purge_entries(config).to_dict("records")
    assert entry["who"] and "4 Tickets anonymisiert" in entry["detail"]
    assert "Leistung 1: 2" in entry["detail"]
    assert main(["purge", "--today", "2026-05-31"]) == 0
    assert "Nichts zu anonymisieren." in capsys.readouterr().out
    assert len(_purge_entries(config)) == 2  # every real run is recorded


def test_cli_refuses_a_bad_date(cli_env, capsys):
    with pytest.raises(SystemExit):
        main(["purge", "--today", "31.05.2026"])
    assert "JJJJ-MM-TT" in capsys.readouterr().err
