"""A4/A8: the substitute's own list, what a substitute may open, the TL's absence warnings,
and the team leader's time-limited deputy. Real ETL, real scope views, case tables."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.access import scope, users
from dashboard.access.viewer import Viewer, restrict
from dashboard.core.storage import connect_readonly
from dashboard.queries import explain, followup, metrics
from dashboard.queries.filters import Filters
from tests.conftest import d, ticket_row, users_file

ANNA, BERT, CORA, DORA = "Anna Alt", "Bert Bach", "Cora Ernst", "Dora Dach"


def T(tid: str, worker: str, received: str, completed: str = "", team: str = "Leistung 1"):
    return ticket_row(**{"Ticket-ID": tid, "Bearbeiter": worker, "Team": team,
                         "Eingang": f"{received} 09:00", "Erledigt": completed})  # fmt: skip


ROWS = [
    T("A1", ANNA, "02.03.2026"),  # open throughout (due 09.03.)
    T("A2", ANNA, "02.03.2026", "05.03.2026"),  # completed before the absence
    T("A3", ANNA, "02.03.2026", "11.03.2026"),  # completed during the absence
    T("A4", ANNA, "16.03.2026"),  # received after the absence
    T("B1", BERT, "03.03.2026"),  # Bert's own
    T("C1", CORA, "02.03.2026"),  # Cora's: Bert never covers her
    T("D1", DORA, "02.03.2026", team="Leistung 2"),  # Dora, absent 10.03., covered by Cora
    T("D2", DORA, "05.03.2026", team="Leistung 2"),  # due Thu 12.03.
]
# Anna absent Mon 09.03.-Fri 13.03. (Bert covers); Cora absent without substitute from
# 23.03.; Dora absent 10.03. covered by Cora, and again 18.03.-20.03. without anyone.
ABSENCES = (
    "Bearbeiter;Von;Bis;Vertretung\n"
    f"{ANNA};09.03.2026;13.03.2026;{BERT}\n"
    f"{CORA};23.03.2026;27.03.2026;\n"
    f"{DORA};10.03.2026;10.03.2026;{CORA}\n"
    f"{DORA};18.03.2026;20.03.2026;\n"
)
MA_BERT = Viewer("bert", BERT, "mitarbeitende", worker=BERT)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    from dashboard.core.config import load_config
    from etl.load import load_files
    from etl.sources import csv_text
    from tests.conftest import HEADER

    tmp = tmp_path_factory.mktemp("substitute")
    config = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(tmp / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(tmp / "key"),
        }
    )
    export, absences = tmp / "export.csv", tmp / "abw.csv"
    export.write_bytes(csv_text([HEADER, *[[r.get(h, "") for h in HEADER] for r in ROWS]]).encode())
    absences.write_text(ABSENCES, encoding="utf-8")
    results = load_files(config, [export], [absences])
    assert all(r.reconciled and not r.refused for r in results)
    return config


@pytest.fixture
def as_viewer(cfg):
    opened = []

    def open_as(viewer: Viewer):
        con = connect_readonly(cfg)
        opened.append(con)
        limits = scope.install(con, viewer, b"k" * 32)
        return con, limits

    yield open_as
    for con in opened:
        con.close()


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("06.03.2026", [("B1", BERT, None)]),  # before the absence: own tickets only
        # during it: Anna's open A1 and A3 (completed 11.03. only later) on Bert's own list
        ("09.03.2026", [("A1", BERT, ANNA), ("A3", BERT, ANNA), ("B1", BERT, None)]),
        ("11.03.2026", [("A1", BERT, ANNA), ("B1", BERT, None)]),  # A3 completed that day
        ("13.03.2026", [("A1", BERT, ANNA), ("B1", BERT, None)]),  # last day, inclusive
        ("16.03.2026", [("B1", BERT, None)]),  # Anna is back: her tickets are hers again
    ],
)
def test_the_substitutes_own_list(as_viewer, as_of, expected):
    con, _ = as_viewer(MA_BERT)
    filters = restrict(Filters(), MA_BERT)
    frame = followup.followup_list(con, d(as_of), filters).sort_values("ticket_id")
    got = [
        (t, r, s if isinstance(s, str) else None)
        for t, r, s in zip(frame["ticket_id"], frame["responsible"], frame["substitute_for"],
                           strict=True)
    ]  # fmt: skip
    assert got == expected
    people = followup.by_responsible(con, d(as_of), filters).set_index("responsible")
    assert people.loc[BERT, "as_substitute"] == sum(1 for *_, s in expected if s)


@pytest.mark.parametrize(
    ("as_of", "ticket", "found"),
    [
        ("10.03.2026", "A1", True),  # covered now
        ("10.03.2026", "B1", True),  # own
        ("10.03.2026", "A2", False),  # Anna's, but completed before the absence
        ("10.03.2026", "C1", False),  # a colleague Bert does not cover
        ("10.03.2026", "D1", False),  # covered by someone else
        ("16.03.2026", "A1", False),  # the absence is over
        ("06.03.2026", "A1", False),  # not yet begun
    ],
)
def test_a_substitute_opens_exactly_the_covered_tickets(as_viewer, as_of, ticket, found):
    con, _ = as_viewer(MA_BERT)
    facts = explain.ticket_facts(con, d(as_of), restrict(Filters(), MA_BERT), ticket_id=ticket)
    assert (len(facts) == 1) is found


def test_covering_does_not_widen_the_workers_figures_or_records(as_viewer):
    con, limits = as_viewer(MA_BERT)
    filters = restrict(Filters(), MA_BERT)
    rates = metrics.rates(con, d("10.03.2026"), filters, by=("worker",))
    assert rates["worker"].tolist() == [BERT]  # A1 is on his list, not in his figures
    # records (conversations, samples) about Anna never reach Bert
    assert limits.workers == frozenset({BERT})
    # the scope view holds nothing of Cora's (never covered) or Dora's
    seen = {w for (w,) in con.execute("SELECT DISTINCT worker FROM tickets").fetchall()}
    assert seen == {ANNA, BERT}
    never = con.execute("SELECT count(*) FROM tickets WHERE ticket_id IN ('A2', 'A4')")
    assert never.fetchone()[0] == 0


def test_the_team_leader_sees_covered_tickets_under_the_substitute(as_viewer):
    tl = Viewer("tl", "TL", "teamleitung", teams=("Leistung 1",))
    con, _ = as_viewer(tl)
    frame = followup.followup_list(con, d("10.03.2026"), restrict(Filters(), tl))
    row = frame.set_index("ticket_id").loc["A1"]
    assert (row["responsible"], row["substitute_for"]) == (BERT, ANNA)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # Fri 13.03.: the next 5 working days reach Fri 20.03.; Dora's absence 18.-20.03.
        # has no substitute (D1, D2 open) and D1, D2 were due before it: no due-in warning
        ("13.03.2026", [("no_substitute", DORA, 2, ["D1", "D2"])]),
        # Mon 16.03.: horizon Mon 23.03. also reaches Cora's absence from 23.03.
        ("16.03.2026", [("no_substitute", DORA, 2, ["D1", "D2"]),
                        ("no_substitute", CORA, 1, ["C1"])]),
        # Mon 09.03.: Dora's 10.03. has a substitute, and D2 (due 12.03.) is not due in it;
        # Anna's absence runs (covered); nothing else within the horizon (16.03.)
        ("09.03.2026", []),
        # Fri 06.03.: Anna's absence starts Mon 09.03. and A1 (due 09.03.) falls due in it
        ("06.03.2026", [("due_in_absence", ANNA, 2, ["A1", "A3"])]),
        # Wed 25.03.: Cora's absence runs without substitute while C1 is open
        ("25.03.2026", [("no_substitute", CORA, 1, ["C1"])]),
    ],
)  # fmt: skip
def test_absence_warnings_for_the_team_leader(as_viewer, as_of, expected):
    controlling = Viewer("c", "C", "controlling")
    con, _ = as_viewer(controlling)
    frame = followup.absence_warnings(con, d(as_of), Filters())
    got = [
        (k, w, int(n), list(t))
        for k, w, n, t in zip(frame["kind"], frame["worker"], frame["open_tickets"],
                              frame["ticket_ids"], strict=True)
    ]  # fmt: skip
    assert got == expected
    for _, row in frame.iterrows():
        assert row["worker"] in followup.warning_text(row)


# --- A8: the team leader's deputy -------------------------------------------------------

TL = {"login": "tl@jc.example", "name": "Tina Lang", "role": "teamleitung",
      "teams": ["Leistung 1", "Leistung 2"]}  # fmt: skip
DEPUTY = {"login": "bert@jc.example", "name": BERT, "role": "mitarbeitende", "worker": BERT,
          "deputy_for": "tl@jc.example", "from": dt.date(2026, 12, 7),
          "to": dt.date(2026, 12, 18)}  # fmt: skip


def _users(tmp_path, *extra) -> dict[str, Viewer]:
    return users.load_users(users_file(tmp_path, TL, *extra))


@pytest.mark.parametrize(
    ("today", "role", "teams", "deputy_for"),
    [
        (dt.date(2026, 12, 6), "mitarbeitende", (), None),  # the day before
        (dt.date(2026, 12, 7), "teamleitung", ("Leistung 1", "Leistung 2"), "Tina Lang"),
        (dt.date(2026, 12, 18), "teamleitung", ("Leistung 1", "Leistung 2"), "Tina Lang"),
        (dt.date(2026, 12, 19), "mitarbeitende", (), None),  # the day after
    ],
)
def test_a_deputy_has_the_team_leaders_teams_in_the_window(tmp_path, today, role, teams,
                                                           deputy_for):  # fmt: skip
    viewer = users.lookup(_users(tmp_path, DEPUTY), "bert@jc.example", today)
    assert (viewer.role, viewer.teams, viewer.deputy_for) == (role, teams, deputy_for)
    if deputy_for:
        # audited as such: every record names the deputy and whom they stand in for
        assert viewer.who == f"{BERT} (bert@jc.example), Vertretung für Tina Lang"
        assert viewer.worker is None
    else:
        assert viewer.who == f"{BERT} (bert@jc.example)" and viewer.worker == BERT


def test_a_deputy_who_leads_teams_keeps_them(tmp_path):
    own = {**DEPUTY, "role": "teamleitung", "teams": ["Integration 1"]}
    del own["worker"]
    viewer = users.lookup(_users(tmp_path, own), "bert@jc.example", dt.date(2026, 12, 10))
    assert viewer.teams == ("Integration 1", "Leistung 1", "Leistung 2")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"deputy_for": "nobody@jc.example"}, "keine Teamleitung"),
        ({"deputy_for": "ctl@jc.example"}, "keine Teamleitung"),
        ({"role": "controlling"}, "nur für Teamleitung oder Mitarbeitende"),
    ],
)
def test_bad_delegations_are_refused(tmp_path, change, message):
    controlling = {"login": "ctl@jc.example", "name": "C", "role": "controlling"}
    deputy = {**DEPUTY, **change}
    with pytest.raises(users.UsersError, match=message):
        _users(tmp_path, controlling, deputy)


def test_a_delegation_needs_its_whole_window(tmp_path):
    deputy = {k: v for k, v in DEPUTY.items() if k != "to"}
    with pytest.raises(users.UsersError, match="deputy_for, from und to"):
        _users(tmp_path, deputy)
