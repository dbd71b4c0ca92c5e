"""Random samples (B3) from hand-worked cases, loaded through the real ETL.

Stichtag S = Tue 30.06.2026, period P = June 2026 (completion date). Every Integration
ticket below is received Mon 01.06.2026; the k-th (k = 0, 1, ...) ticket of a worker is
completed on (2 + 3k).06.2026, i.e. 02., 05., 08., 11., 14., 17., 20., 23.06.

  Integration 1: Anna Alt 6, Bert Bach 3, Cora Ernst 1, Dora Dux 1      (N = 11, W = 4)
  Integration 2: Emil Eck 8, Fritz Fink 1, Gina Gold 1, Hans Hahn 1     (N = 11, W = 4)

Never in a June sample at S: a completed Leistung ticket, an open Integration ticket (Ida
Igel), one completed 29.05. (before P), and two completed after S (Emil 02.07., Jan Jung
01.07.).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import pytest

from dashboard.cli import sample as cli_sample
from dashboard.core import records
from dashboard.core.config import load_config
from dashboard.core.storage import connect_readonly
from dashboard.queries import samples
from dashboard.queries.filters import Filters
from etl.load import load_files
from etl.sources import csv_text
from tests.conftest import HEADER, RECORD_BACKENDS, d, ticket_row

S = d("30.06.2026")
JUNE = (d("01.06.2026"), d("30.06.2026"))
I1, I2 = "Integration 1", "Integration 2"
WORKERS = {
    "Anna Alt": (I1, 6),
    "Bert Bach": (I1, 3),
    "Cora Ernst": (I1, 1),
    "Dora Dux": (I1, 1),
    "Emil Eck": (I2, 8),
    "Fritz Fink": (I2, 1),
    "Gina Gold": (I2, 1),
    "Hans Hahn": (I2, 1),
}
INTEGRATION = {"Bereich": "Integration"}


def _id(worker: str, k: int) -> str:
    return "".join(p[0] for p in worker.split()) + f"-{k}"


def _rows() -> list[dict]:
    rows = [
        ticket_row(
            **INTEGRATION,
            **{
                "Ticket-ID": _id(worker, k),
                "Team": team,
                "Bearbeiter": worker,
                "Eingang": "01.06.2026 08:00",
                "Erledigt": f"{2 + 3 * k:02d}.06.2026",
            },
        )
        for worker, (team, n) in WORKERS.items()
        for k in range(n)
    ]
    noise = [
        {"Ticket-ID": "L-1", "Erledigt": "10.06.2026", "Eingang": "08.06.2026"},  # Leistung
        {**INTEGRATION, "Ticket-ID": "O-1", "Team": I1, "Bearbeiter": "Ida Igel",
         "Eingang": "29.06.2026"},  # still open
        {**INTEGRATION, "Ticket-ID": "X-1", "Team": I1, "Bearbeiter": "Anna Alt",
         "Eingang": "27.05.2026", "Erledigt": "29.05.2026"},  # before the period
        {**INTEGRATION, "Ticket-ID": "X-2", "Team": I2, "Bearbeiter": "Emil Eck",
         "Eingang": "25.06.2026", "Erledigt": "02.07.2026"},  # after S
        {**INTEGRATION, "Ticket-ID": "X-3", "Team": I1, "Bearbeiter": "Jan Jung",
         "Eingang": "29.06.2026", "Erledigt": "01.07.2026"},  # after S
    ]  # fmt: skip
    return rows + [ticket_row(**r) for r in noise]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text(csv_text([HEADER] + [[r.get(h, "") for h in HEADER] for r in rows]))
    return path


@pytest.fixture(scope="module")
def cases_con(tmp_path_factory):
    """A read-only connection on the case data (loaded once for the module)."""
    tmp = tmp_path_factory.mktemp("samples")
    config = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(tmp / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(tmp / "key"),
        }
    )
    results = load_files(config, [_write(tmp / "export.csv", _rows())])
    assert all(r.reconciled and not r.refused for r in results)
    con = connect_readonly(config)
    yield con
    con.close()


def _counts(frame: pd.DataFrame) -> dict[str, int]:
    return frame.groupby("worker").size().to_dict()


# (as_of, period, teams) -> completed Integration tickets per worker
POPULATION_CASES = [
    (S, JUNE, (), {w: n for w, (_, n) in WORKERS.items()}),
    (S, JUNE, (I1,), {"Anna Alt": 6, "Bert Bach": 3, "Cora Ernst": 1, "Dora Dux": 1}),
    (S, JUNE, (I2, I1), {w: n for w, (_, n) in WORKERS.items()}),
    (S, JUNE, ("Leistung 1",), {}),  # a Leistung team has no Integration tickets
    # Stichtag 15.06.: completions on 17.06. and later have not happened yet
    (d("15.06.2026"), JUNE, (), {"Anna Alt": 5, "Bert Bach": 3, "Cora Ernst": 1,
                                 "Dora Dux": 1, "Emil Eck": 5, "Fritz Fink": 1,
                                 "Gina Gold": 1, "Hans Hahn": 1}),
    # a period reaching past S still ends at S: Jan Jung's 01.07. does not count
    (S, (d("01.06.2026"), d("01.07.2026")), (I1,),
     {"Anna Alt": 6, "Bert Bach": 3, "Cora Ernst": 1, "Dora Dux": 1}),
    # ... until the Stichtag is 01.07. (Emil's 02.07. is still open then)
    (d("01.07.2026"), (d("01.06.2026"), d("01.07.2026")), (I1,),
     {"Anna Alt": 6, "Bert Bach": 3, "Cora Ernst": 1, "Dora Dux": 1, "Jan Jung": 1}),
    (S, (d("29.05.2026"), d("29.05.2026")), (), {"Anna Alt": 1}),
    (S, (d("05.06.2026"), d("08.06.2026")), (I2,), {"Emil Eck": 2}),
]  # fmt: skip


@pytest.mark.parametrize(("as_of", "period", "teams", "expected"), POPULATION_CASES)
def test_population_is_completed_integration_in_period_and_teams(
    cases_con, as_of, period, teams, expected
):
    frame = samples.population(cases_con, as_of, Filters(), *period, teams)
    assert _counts(frame) == expected
    assert not set(frame["ticket_id"]) & {"L-1", "O-1", "X-2"}
    assert frame["completion_date"].dt.date.between(*period).all()
    assert (frame["completion_date"].dt.date <= as_of).all()


def test_population_respects_the_viewer_scope(cases_con):
    scoped = samples.population(cases_con, S, Filters(teams=(I1,)), *JUNE, ())
    assert set(scoped["team"]) == {I1}
    # the scope narrows, never widens: asking for the other team gives nothing
    assert samples.population(cases_con, S, Filters(teams=(I1,)), *JUNE, (I2,)).empty
    one = samples.population(cases_con, S, Filters(workers=("Bert Bach",)), *JUNE, ())
    assert _counts(one) == {"Bert Bach": 3}


T1 = {"Anna Alt": 6, "Bert Bach": 3, "Cora Ernst": 1, "Dora Dux": 1}


def _quota(anna, bert, cora, dora):
    return {"Anna Alt": anna, "Bert Bach": bert, "Cora Ernst": cora, "Dora Dux": dora}


def _quota2(emil, fritz, gina, hans):
    return {"Emil Eck": emil, "Fritz Fink": fritz, "Gina Gold": gina, "Hans Hahn": hans}


# (teams, method, amount, quota per worker), worked by hand (see the module docstring of
# dashboard.queries.samples): n >= W: 1 each, the rest r = n - W by shares r * N_w / N.
ALLOCATION_CASES = [
    ((I1,), "per_worker", 2, _quota(2, 2, 1, 1)),
    ((I1,), "per_worker", 1, _quota(1, 1, 1, 1)),
    ((I1,), "per_worker", 5, _quota(5, 3, 1, 1)),
    # n < W: the largest populations get one; Cora and Dora tie at 1, Cora comes first
    ((I1,), "size", 1, _quota(1, 0, 0, 0)),
    ((I1,), "size", 2, _quota(1, 1, 0, 0)),
    ((I1,), "size", 3, _quota(1, 1, 1, 0)),
    ((I1,), "size", 4, _quota(1, 1, 1, 1)),
    # r = 2: Anna 12/11 = 1 rest 1, Bert 6/11 = 0 rest 6, Cora/Dora 2/11 (full): Bert +1
    ((I1,), "size", 6, _quota(2, 2, 1, 1)),
    # r = 4: Anna 24/11 = 2 r 2, Bert 12/11 = 1 r 1, Cora/Dora 4/11 r 4 but full: Anna +1
    ((I1,), "size", 8, _quota(4, 2, 1, 1)),
    # r = 6: Anna 36/11 = 3 r 3, Bert 18/11 = 1 r 7, Cora/Dora full: Bert +1, Anna +1
    ((I1,), "size", 10, _quota(5, 3, 1, 1)),
    ((I1,), "size", 11, _quota(6, 3, 1, 1)),
    ((I1,), "size", 50, _quota(6, 3, 1, 1)),  # never more than there are
    ((I1,), "percent", 50, _quota(2, 2, 1, 1)),  # ceil(5.5) = 6
    ((I1,), "percent", 10, _quota(1, 1, 0, 0)),  # ceil(1.1) = 2
    ((I1,), "percent", 100, _quota(6, 3, 1, 1)),
    ((I1,), "percent", 0.5, _quota(1, 0, 0, 0)),  # any percentage draws at least one
    # r = 6: Emil 48/11 = 4 rest 4; Fritz/Gina/Hans 6/11 each but full: two leftover seats
    # go to Emil in rounds 1 and 2
    ((I2,), "size", 10, _quota2(7, 1, 1, 1)),
    # r = 2: Emil 16/11 = 1 rest 5; the others full: Emil +1
    ((I2,), "size", 6, _quota2(3, 1, 1, 1)),
    ((I2,), "size", 2, _quota2(1, 1, 0, 0)),  # Fritz, Gina, Hans tie at 1: by name
    # both teams, N = 22, W = 8, n = 12, r = 4: Anna 24/22 = 1 r 2, Bert 12/22 = 0 r 12,
    # Emil 32/22 = 1 r 10, the five single ones full; leftover 2 -> Bert, Emil
    ((), "size", 12, {**_quota(2, 2, 1, 1), **_quota2(3, 1, 1, 1)}),
    # n = 5 < W = 8: Emil 8, Anna 6, Bert 3, then by name Cora, Dora
    ((), "size", 5, {**_quota(1, 1, 1, 1), **_quota2(1, 0, 0, 0)}),
    ((), "percent", 20, {**_quota(1, 1, 1, 1), **_quota2(1, 0, 0, 0)}),  # ceil(4.4) = 5
]


@pytest.mark.parametrize(("teams", "method", "amount", "expected"), ALLOCATION_CASES)
def test_allocation_from_hand_worked_cases(cases_con, teams, method, amount, expected):
    frame = samples.allocation(cases_con, S, Filters(), *JUNE, teams, method, amount)
    assert dict(zip(frame["worker"], frame["quota"], strict=True)) == expected
    # and the draw takes exactly that many of each worker
    drawn = samples.draw(cases_con, S, Filters(), *JUNE, teams, method, amount, seed=99)
    assert _counts(drawn) == {w: q for w, q in expected.items() if q}
    assert len(drawn) == sum(expected.values())


def _expected_order(con, teams, method, amount, seed) -> list[str]:
    """The sample computed independently in Python: workers by md5(seed:worker), per worker
    the first `quota` by md5(seed:ticket)."""
    pop = samples.population(con, S, Filters(), *JUNE, teams)
    quota = samples.allocation(con, S, Filters(), *JUNE, teams, method, amount)
    quota = dict(zip(quota["worker"], quota["quota"], strict=True))
    out = []
    for worker in sorted(quota, key=lambda w: hashlib.md5(f"{seed}:{w}".encode()).hexdigest()):
        ids = pop.loc[pop["worker"] == worker, "ticket_id"]
        keyed = sorted(ids, key=lambda t: hashlib.md5(f"{seed}:{t}".encode()).hexdigest())
        out += keyed[: quota[worker]]
    return out


@pytest.mark.parametrize(
    ("teams", "method", "amount"),
    [((), "per_worker", 2), ((), "size", 12), ((I2,), "percent", 50), ((I1,), "per_worker", 3)],
)
def test_same_data_parameters_and_seed_give_the_same_sample(
    cases_con, teams, method, amount, config
):
    seed = 20260630
    first = samples.draw(cases_con, S, Filters(), *JUNE, teams, method, amount, seed)
    assert list(first["ticket_id"]) == _expected_order(cases_con, teams, method, amount, seed)
    assert list(first["position"]) == list(range(1, len(first) + 1))
    again = samples.draw(cases_con, S, Filters(), *JUNE, teams, method, amount, seed)
    pd.testing.assert_frame_equal(first, again)
    other = samples.draw(cases_con, S, Filters(), *JUNE, teams, method, amount, seed + 1)
    assert list(other["ticket_id"]) != list(first["ticket_id"])
    assert _counts(other) == _counts(first)  # the seed changes which, never how many


def test_a_sample_is_stratified_over_every_worker(cases_con):
    for seed in range(5):
        drawn = samples.draw(cases_con, S, Filters(), *JUNE, (), "per_worker", 2, seed)
        assert set(drawn["worker"]) == set(WORKERS)
        assert set(drawn["ticket_id"]) <= set(
            samples.population(cases_con, S, Filters(), *JUNE)["ticket_id"]
        )
        # sample order: workers by a hash keyed with the seed (not by name), then the
        # tickets by their keyed hash
        order = sorted(
            set(drawn["worker"]), key=lambda w: hashlib.md5(f"{seed}:{w}".encode()).hexdigest()
        )
        assert list(dict.fromkeys(drawn["worker"])) == order
        assert (drawn.groupby("worker")["sample_key"].is_monotonic_increasing).all()


def test_only_completed_integration_tickets_are_ever_drawn(cases_con):
    everything = samples.draw(cases_con, S, Filters(), *JUNE, (), "percent", 100, 1)
    expected = {_id(w, k) for w, (_, n) in WORKERS.items() for k in range(n)}
    assert set(everything["ticket_id"]) == expected
    assert (
        everything["status"].isin(["on_time", "late", "extended_kept", "extended_missed"])
    ).all()


def test_an_empty_population_draws_nothing(cases_con):
    period = (d("01.01.2020"), d("31.01.2020"))
    assert samples.allocation(cases_con, S, Filters(), *period).empty
    assert samples.draw(cases_con, S, Filters(), *period, (), "size", 5, 1).empty


@pytest.mark.parametrize(
    ("method", "amount", "period"),
    [("size", 0, JUNE), ("size", 2.5, JUNE), ("per_worker", 0, JUNE), ("percent", 0, JUNE),
     ("percent", 101, JUNE), ("random", 2, JUNE), ("size", 2, (JUNE[1], JUNE[0]))],
)  # fmt: skip
def test_impossible_requests_are_refused(cases_con, method, amount, period):
    with pytest.raises(ValueError):
        samples.draw(cases_con, S, Filters(), *period, (), method, amount, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", None), ("  ", None), (None, None), ("0", 0), (" 4711 ", 4711),
     (str(2**63 - 1), 2**63 - 1)],
)  # fmt: skip
def test_parse_seed(text, expected):
    assert samples.parse_seed(text) == expected


@pytest.mark.parametrize("text", ["-1", "abc", "1.5", str(2**63)])
def test_parse_seed_refuses_non_seeds(text):
    with pytest.raises(ValueError):
        samples.parse_seed(text)


def test_new_seed_is_random_and_fits():
    seeds = {samples.new_seed() for _ in range(20)}
    assert len(seeds) > 1 and all(0 <= s < 2**31 for s in seeds)


@pytest.mark.parametrize(
    ("period", "as_of", "expected"),
    [
        (None, d("27.11.2026"), (d("01.11.2026"), d("27.11.2026"))),
        ((d("01.03.2026"), d("01.04.2026")), d("27.11.2026"), (d("01.03.2026"), d("30.04.2026"))),
        ((d("01.11.2026"), d("01.11.2026")), d("05.11.2026"), (d("01.11.2026"), d("05.11.2026"))),
        ((d("01.02.2024"), d("01.02.2024")), d("27.11.2026"), (d("01.02.2024"), d("29.02.2024"))),
    ],
)
def test_default_period(period, as_of, expected):
    assert samples.default_period(period, as_of) == expected


# -- records: stored draws, results, persistence across loads -------------------------------


def _params(frame_population: int, seed: int, **kw) -> samples.DrawParams:
    base = dict(as_of=S, period_from=JUNE[0], period_to=JUNE[1], teams=(), method="per_worker",
                amount=2.0, seed=seed, population=frame_population)  # fmt: skip
    return samples.DrawParams(**{**base, **kw})


def _small(**fields) -> dict:
    """An Integration ticket completed in June by default."""
    defaults = {"Team": I1, "Eingang": "01.06.2026 08:00", "Erledigt": "03.06.2026"}
    return ticket_row(**{**INTEGRATION, **defaults, **fields})


SMALL = [
    _small(**{"Ticket-ID": "A-1", "Bearbeiter": "Anna Alt"}),
    _small(**{"Ticket-ID": "A-2", "Bearbeiter": "Anna Alt"}),
    _small(**{"Ticket-ID": "B-1", "Bearbeiter": "Bert Bach"}),
    _small(**{"Ticket-ID": "B-2", "Bearbeiter": "Bert Bach", "Team": I2}),
]


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_draw_survives_reloads_and_restarts(config, write_export, load, db):
    load(write_export(SMALL))
    con = db()
    frame = samples.draw(con, S, Filters(), *JUNE, (), "per_worker", 2, 7)
    assert sorted(frame["ticket_id"]) == ["A-1", "A-2", "B-1", "B-2"]
    draw_id = samples.store_draw(config, frame, _params(4, 7), "  TL Tina ")

    # a later export changes A-1 (other completion date and team), repeats B-1 unchanged
    # (a new load, so another load_id) and B-2 is left as it was
    changed = _small(**{"Ticket-ID": "A-1", "Bearbeiter": "Anna Alt", "Team": I2,
                        "Erledigt": "04.06.2026"})  # fmt: skip
    load(write_export([changed, SMALL[2]]))
    # "restart": a new configuration object and new connections
    config2 = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(config.database),
            "TICKET_CONTROLLING_KEY_FILE": str(config.storage.key_file),
        }
    ).model_copy(update={"records": config.records})
    assert config2.app_database == config.app_database
    items = samples.draw_items(config2, draw_id, db()).set_index("ticket_id")
    assert items.loc["A-1", "team"] == I1  # kept as drawn
    assert items.loc["A-1", "completion_date"] == pd.Timestamp("2026-06-03")
    assert items["changed_since_draw"].to_dict() == {
        "A-1": True, "A-2": False, "B-1": False, "B-2": False
    }  # fmt: skip
    assert list(items["position"]) == list(frame["position"].sort_values())

    # a fresh database without B-2: the ticket is gone, the item stays and is flagged
    load_files(config, [write_export([changed, *SMALL[1:3]])], fresh=True)
    items = samples.draw_items(config2, draw_id, db()).set_index("ticket_id")
    assert items["changed_since_draw"].to_dict() == {
        "A-1": True, "A-2": False, "B-1": False, "B-2": True
    }  # fmt: skip
    # without a tickets connection, nothing is claimed
    assert samples.draw_items(config2, draw_id)["changed_since_draw"].isna().all()

    history = samples.draws(config2)
    assert len(history) == 1
    row = history.iloc[0]
    assert (row["drawn_by"], row["seed"], row["population"], row["items"], row["checked"]) == (
        "TL Tina", 7, 4, 4, 0,
    )  # fmt: skip
    assert (row["method"], row["amount"], list(row["teams"])) == ("per_worker", 2.0, [])
    assert pd.Timestamp(row["as_of"]).date() == S


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_results_are_appended_and_the_latest_counts(config, write_export, load, db):
    load(write_export(SMALL))
    frame = samples.draw(db(), S, Filters(), *JUNE, (I1,), "size", 2, 3)
    draw_id = samples.store_draw(config, frame, _params(3, 3, teams=(I1,), method="size"), "TL")
    first, second = frame["ticket_id"]
    samples.record_result(config, draw_id, first, "bestätigt", "", "Tina")
    samples.record_result(config, draw_id, first, "nicht bestätigt", " Vermerk fehlt ", "Tom")
    row = samples.draws(config).iloc[0]
    assert (row["items"], row["checked"], row["confirmed"], row["not_confirmed"]) == (2, 1, 0, 1)
    items = samples.draw_items(config, draw_id).set_index("ticket_id")
    assert items.loc[first, ["result", "comment", "checked_by"]].tolist() == [
        "nicht bestätigt", "Vermerk fehlt", "Tom",
    ]  # fmt: skip
    assert pd.isna(items.loc[second, "result"])
    samples.record_result(config, draw_id, second, "bestätigt", None, "Tina")
    row = samples.draws(config).iloc[0]
    assert (row["checked"], row["confirmed"], row["not_confirmed"]) == (2, 1, 1)
    # nothing was overwritten: every result is still there, in order
    log = records.query(config, "SELECT ticket_id, result FROM sample_results ORDER BY id")
    assert log.values.tolist() == [
        [first, "bestätigt"], [first, "nicht bestätigt"], [second, "bestätigt"]
    ]  # fmt: skip
    audit = records.query(config, "SELECT who, action FROM audit_log ORDER BY id")
    assert audit.values.tolist() == [
        ["TL", "Stichprobe gezogen"],
        ["Tina", "Stichprobe geprüft"],
        ["Tom", "Stichprobe geprüft"],
        ["Tina", "Stichprobe geprüft"],
    ]


@pytest.mark.parametrize(
    ("ticket", "result", "who"),
    [("ZZ-9", "bestätigt", "Tina"), ("A-1", "ok", "Tina"), ("A-1", "bestätigt", "  ")],
)
def test_invalid_results_are_refused(config, write_export, load, db, ticket, result, who):
    load(write_export(SMALL))
    frame = samples.draw(db(), S, Filters(), *JUNE, (), "percent", 100, 3)
    draw_id = samples.store_draw(config, frame, _params(4, 3), "TL")
    with pytest.raises(ValueError):
        samples.record_result(config, draw_id, ticket, result, "", who)
    assert records.query(config, "SELECT count(*) n FROM sample_results")["n"][0] == 0


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_a_draw_needs_a_name_and_tickets(config, write_export, load, db):
    load(write_export(SMALL))
    frame = samples.draw(db(), S, Filters(), *JUNE, (), "per_worker", 2, 3)
    with pytest.raises(ValueError, match="Gezogen von"):
        samples.store_draw(config, frame, _params(4, 3), " ")
    with pytest.raises(ValueError):
        samples.store_draw(config, frame.iloc[0:0], _params(0, 3), "TL")
    assert samples.draws(config).empty


def test_export_frame_has_german_headers(config, write_export, load, db):
    load(write_export(SMALL))
    con = db()
    frame = samples.draw(con, S, Filters(), *JUNE, (), "per_worker", 1, 5)
    draw_id = samples.store_draw(config, frame, _params(4, 5, amount=1.0), "TL")
    ticket = frame["ticket_id"][0]
    samples.record_result(config, draw_id, ticket, "bestätigt", "passt", "Tina")
    out = samples.export_frame(samples.draw_items(config, draw_id, con), seed=5)
    assert list(out.columns) == [
        "Ziehung", "Seed", "Nr.", "Ticket-ID", "Team", "Mitarbeiter/in", "Eingang", "Fällig am",
        "Erledigt am", "Status bei Ziehung", "Ergebnis", "Kommentar", "Geprüft von",
        "Geprüft am", "Geändert seit Ziehung",
    ]  # fmt: skip
    first = out.iloc[0]
    assert (first["Ticket-ID"], first["Ergebnis"], first["Kommentar"]) == (
        ticket,
        "bestätigt",
        "passt",
    )
    assert first["Status bei Ziehung"] == "fristgerecht"  # received 01.06., completed 03.06.
    assert first["Geändert seit Ziehung"] == "nein"
    assert first["Seed"] == 5 and first["Ziehung"] == draw_id
    assert out.iloc[1]["Ergebnis"] == "" and out.iloc[1]["Geprüft am"] == ""
    # without a tickets connection the column is empty, not a claim
    assert set(
        samples.export_frame(samples.draw_items(config, draw_id))["Geändert seit Ziehung"]
    ) == {""}


# -- the command line ------------------------------------------------------------------------


def _cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ticket-controlling")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_sample.add_parser(sub)
    return parser.parse_args(["sample", *argv])


def _csv(path: Path) -> list[dict[str, str]]:
    # a file for people: BOM, ';', German dates (like the page's download)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def test_cli_writes_the_sample_prints_the_seed_and_stores_it(
    config, write_export, load, db, tmp_path, capsys
):
    load(write_export(SMALL))
    out = tmp_path / "out" / "sample.csv"
    args = _cli("--from", "2026-06-01", "--to", "2026-06-30", "--size", "3", "--seed", "7",
                "--as-of", "2026-06-30", "--by", "TL Tina", "--out", str(out))  # fmt: skip
    assert cli_sample.run(config, args) == 0
    printed = capsys.readouterr().out
    assert "Seed: 7" in printed
    rows = _csv(out)
    expected = samples.draw(db(), S, Filters(), *JUNE, (), "size", 3, 7)
    assert [r["Ticket-ID"] for r in rows] == list(expected["ticket_id"])
    assert rows[0]["Seed"] == "7" and rows[0]["Erledigt am"] == "03.06.2026"
    history = samples.draws(config)
    stored = history[["drawn_by", "seed", "method", "amount", "population", "items"]]
    assert stored.values.tolist() == [["TL Tina", 7, "size", 3.0, 4, 3]]
    assert rows[0]["Ziehung"] == str(history["draw_id"][0])


def test_cli_random_seed_is_printed_and_repeats_the_draw(
    config, write_export, load, tmp_path, capsys
):
    load(write_export(SMALL))
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    common = ("--from", "2026-06-01", "--to", "2026-06-30", "--team", I1, "--as-of", "2026-06-30")
    assert cli_sample.run(config, _cli(*common, "--out", str(first))) == 0  # default 2 per worker
    printed = capsys.readouterr().out
    seed = int(printed.split("Seed: ")[1].split()[0])
    assert samples.draws(config)["seed"].tolist() == [seed]
    assert cli_sample.run(config, _cli(*common, "--seed", str(seed), "--out", str(second))) == 0
    ids = [r["Ticket-ID"] for r in _csv(first)]
    assert ids == [r["Ticket-ID"] for r in _csv(second)]
    assert sorted(ids) == ["A-1", "A-2", "B-1"]  # team Integration 1 only
    assert samples.draws(config)["method"].tolist() == ["per_worker", "per_worker"]


def test_cli_empty_population_and_bad_arguments(config, write_export, load, tmp_path, capsys):
    load(write_export(SMALL))
    out = tmp_path / "x.csv"
    empty = _cli("--from", "2020-01-01", "--to", "2020-01-31", "--out", str(out))
    assert cli_sample.run(config, empty) == 1
    assert cli_sample.run(config, _cli("--from", "2026-06-30", "--to", "2026-06-01",
                                       "--out", str(out))) == 2  # fmt: skip
    assert cli_sample.run(config, _cli("--from", "2026-06-01", "--to", "2026-06-30",
                                       "--percent", "150", "--out", str(out))) == 2  # fmt: skip
    assert not out.exists()
    assert samples.draws(config).empty
    with pytest.raises(SystemExit):  # one method only
        _cli("--from", "2026-06-01", "--to", "2026-06-30", "--size", "2", "--percent", "5",
             "--out", str(out))  # fmt: skip


@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)
def test_samples_have_their_own_consecutive_numbers(config, write_export, load, db):
    """Stichprobe Nr. 1, 2, 3 — whatever else is recorded in between, and after the
    retention purge removed the first ones, a number is never given twice."""
    from dashboard.core import records, retention

    load(write_export(SMALL))
    frame = samples.draw(db(), S, Filters(), *JUNE, (), "per_worker", 1, 7)
    first = samples.store_draw(config, frame, _params(4, 7), "TL")
    with records.transaction(config) as con:  # other records take ids in between
        con.execute(
            "INSERT INTO conversations (worker, month, held_on, recorded_by, recorded_at) "
            "VALUES ('Anna Alt', DATE '2026-06-01', DATE '2026-06-20', 'TL', ?)",
            [dt.datetime(2026, 6, 20)],
        )
    second = samples.store_draw(config, frame, _params(4, 7), "TL")
    assert second - first > 1  # the record ids are shared ...
    assert [samples.sample_number(config, i) for i in (first, second)] == [1, 2]  # ... these not
    retention.purge_records(config, dt.date(2030, 1, 1), dry_run=False, who="op")
    third = samples.store_draw(config, frame, _params(4, 7), "TL")
    assert samples.sample_number(config, third) == 3
    drawn = records.query(
        config, "SELECT detail FROM audit_log WHERE action = 'Stichprobe gezogen'"
    )
    assert drawn["detail"].str.startswith("Stichprobe Nr. 3 (Ziehung").any()
