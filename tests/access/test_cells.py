"""The small-cell rule: hand-worked tables, a property over random tables, and the attack of
issue 17 (one person's month shown to management) through the real ETL and the data layer."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import serving
from dashboard.access import cells, privacy
from dashboard.access.scope import Scope
from dashboard.access.viewer import Viewer
from dashboard.queries import overview
from dashboard.queries.filters import Filters
from tests.conftest import ticket_row


def _table(rows: list[tuple]) -> pd.DataFrame:
    """(area, team, month, tickets, workers) rows as a frame of figures per cell."""
    return pd.DataFrame(rows, columns=["area", "team", "month", "tickets", "workers"])


# (rows, hidden rows): hand-worked. Totals per Bereich, team and month are published.
CASES = [
    pytest.param(
        [("L", "A", 1, 40, 9), ("L", "B", 1, 30, 7), ("L", "C", 1, 50, 8)],
        [],
        id="no small cell, nothing hidden",
    ),
    pytest.param(
        [("L", "A", 1, 40, 9), ("L", "B", 1, 3, 1), ("L", "C", 1, 50, 8)],
        [1, 0],
        id="one small team: the Bereich total would give it away, the smallest other joins",
    ),
    pytest.param(
        [("L", "A", 1, 40, 9), ("L", "B", 1, 3, 1), ("L", "C", 1, 50, 4)],
        [1, 2],
        id="two small teams protect each other",
    ),
    pytest.param(
        [("L", "A", 1, 3, 2)],
        [0],
        id="a single row of 2 workers is hidden, it has no total to hide in",
    ),
    pytest.param(
        [("L", "A", 1, 40, 9), ("L", "B", 1, 12, 0), ("L", "C", 1, 50, 8)],
        [],
        id="anonymised tickets only: nobody is behind them",
    ),
    pytest.param(
        # 2 teams x 2 months: one small cell forces the whole rectangle (row, column, corner)
        [("L", "A", 1, 40, 9), ("L", "A", 2, 42, 9), ("L", "B", 1, 2, 1), ("L", "B", 2, 30, 6)],
        [2, 0, 3, 1],
        id="team x month: a small cell hides its rectangle",
    ),
    pytest.param(
        # 3 teams x 2 months: the rectangle with the fewest tickets
        [
            ("L", "A", 1, 40, 9),
            ("L", "A", 2, 41, 9),
            ("L", "B", 1, 2, 1),
            ("L", "B", 2, 30, 6),
            ("L", "C", 1, 20, 7),
            ("L", "C", 2, 25, 7),
        ],
        [2, 4, 3, 5],
        id="team x month: the rectangle of fewest tickets",
    ),
]


@pytest.mark.parametrize(("rows", "expected"), CASES)
def test_the_hidden_cells_of_hand_worked_tables(rows, expected):
    hidden = cells.suppressed(_table(rows))
    assert sorted(np.flatnonzero(hidden)) == sorted(expected)


def _recoverable(frame: pd.DataFrame, hidden: np.ndarray) -> list[int]:
    """Hidden rows an outsider could compute: checked by a null space (SVD), not a projection."""
    margins = cells._margins(frame, ["area", "team", "month"])
    index = np.flatnonzero(hidden)
    if not len(index) or not len(margins):
        return list(index) if len(index) and not len(margins) and False else []
    known = margins[:, index]
    _, singular, vt = np.linalg.svd(known)
    rank = int((singular > 1e-9).sum())
    null = vt[rank:]  # every change of the hidden values that keeps all totals
    free = np.abs(null).max(axis=0) > 1e-9 if len(null) else np.zeros(len(index), dtype=bool)
    return [int(i) for i, f in zip(index, free, strict=True) if not f]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda teams: st.integers(1, 4).flatmap(
            lambda months: st.lists(
                st.tuples(st.integers(0, 12), st.integers(0, 60)),
                min_size=teams * months,
                max_size=teams * months,
            ).map(lambda cells_: (teams, months, cells_))
        )
    )
)
def test_no_hidden_cell_can_be_recovered_from_the_totals(table):
    teams, months, values = table
    rows = [
        ("L", f"T{t}", m, tickets, workers)
        for (t, m), (workers, tickets) in zip(
            [(t, m) for t in range(teams) for m in range(months)], values, strict=True
        )
    ]
    frame = _table(rows)
    hidden = cells.suppressed(frame).to_numpy()
    primary = ((frame["workers"] > 0) & (frame["workers"] < 5)).to_numpy()
    assert (hidden | ~primary).all()  # every small cell is hidden
    if len(frame) > 1:
        assert _recoverable(frame, hidden) == []


def test_apply_blanks_every_figure_and_keeps_the_keys():
    frame = _table([("L", "A", 1, 40, 9), ("L", "B", 1, 3, 1), ("L", "C", 1, 50, 8)])
    frame["compliant_rate"] = [0.9, 1.0, 0.8]
    out = cells.apply(frame)
    assert out["suppressed"].tolist() == [True, True, False]
    assert out.loc[:1, ["tickets", "workers", "compliant_rate"]].isna().all().all()
    assert out.loc[2, "tickets"] == 50 and out["team"].tolist() == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("role", "hidden"), [("management", True), ("controlling", False), ("teamleitung", False)]
)
def test_the_exit_applies_the_rule_to_roles_that_see_no_person(role, hidden):
    frame = _table([("L", "A", 1, 40, 9), ("L", "B", 1, 3, 1)]).assign(person=[1, 2])
    out = privacy.release(frame, Scope(role=role))
    assert "person" not in out  # the number behind counts of people never leaves
    assert out["tickets"].isna().any() == hidden


# --- the attack of issue 17, item 3 --------------------------------------------------------

SOLO = "Klein Kurt"


def _rows() -> list[dict]:
    """Leistung Klein: 4 workers in 2025, then only Kurt in October 2026; two big teams."""
    rows, n = [], 0

    def add(team: str, worker: str, day: str) -> None:
        nonlocal n
        n += 1
        rows.append(
            ticket_row(**{"Ticket-ID": f"T{n}", "Team": team, "Bearbeiter": worker, "Eingang": day})
        )

    for i in range(4):
        add("Leistung Klein", f"Früher {i}", "03.03.2025 09:00")
    for i in range(6):  # Kurt's October: late, open, whatever: only he is behind the cell
        add("Leistung Klein", SOLO, f"{5 + i:02d}.10.2026 09:00")
    for team in ("Leistung Nord", "Leistung Süd"):
        for w in range(6):
            for day in (5, 12, 19):
                add(team, f"{team} {w}", f"{day:02d}.10.2026 09:00")
    return rows


@pytest.fixture
def crafted(config, write_export, load, monkeypatch):
    load(write_export(_rows()))
    monkeypatch.setenv("TICKET_CONTROLLING_DB", str(config.database))
    monkeypatch.setenv("TICKET_CONTROLLING_KEY_FILE", str(config.storage.key_file))
    monkeypatch.delenv("TICKET_CONTROLLING_CONFIG", raising=False)
    return config


MANAGEMENT = Viewer("gf@jc.example", "Geschäftsführung", "management")
CONTROLLING = Viewer("c@jc.example", "Controlling", "controlling")
OCTOBER = Filters(period=(dt.date(2026, 10, 1), dt.date(2026, 10, 31)))


def test_management_does_not_see_one_person_s_month(crafted):
    as_of = dt.date(2026, 11, 27)
    seen = serving.fetch(overview.team_table, serving.Selection(as_of, OCTOBER, MANAGEMENT))
    klein = seen[seen["team"] == "Leistung Klein"].iloc[0]
    assert klein["suppressed"] and pd.isna(klein["tickets"]) and pd.isna(klein["breaches"])
    # ... nor by subtraction from the Bereich's total: a second team is hidden with it
    assert seen["suppressed"].sum() == 2
    total = serving.fetch(overview.headline, serving.Selection(as_of, OCTOBER, MANAGEMENT))
    assert total["tickets"].iloc[0] == 6 + 2 * 6 * 3  # the total itself is still shown
    # controlling, who sees pseudonyms, sees the team's figures as they are
    full = serving.fetch(overview.team_table, serving.Selection(as_of, OCTOBER, CONTROLLING))
    assert full.loc[full["team"] == "Leistung Klein", "tickets"].iloc[0] == 6


def test_management_heatmap_hides_the_month_and_its_complement(crafted):
    as_of = dt.date(2026, 11, 27)
    months = serving.fetch(overview.team_months, serving.Selection(as_of, OCTOBER, MANAGEMENT))
    october = months[months["month"] == pd.Timestamp(2026, 10, 1)]
    assert october.loc[october["team"] == "Leistung Klein", "compliant_rate"].isna().all()
    shown = months[~months["suppressed"]]
    assert (shown["workers"] >= 5).all()


@pytest.fixture
def crafted_app(crafted, tmp_path, monkeypatch):
    """The crafted database behind the sign-in, with one management user."""
    from tests.conftest import users_file

    users_file(tmp_path, {"login": "gf@jc.example", "name": "Gerda Fischer", "role": "management"})
    path = tmp_path / "config.toml"
    path.write_text(
        f'[storage]\ndatabase = "{crafted.database}"\nkey_file = "{crafted.storage.key_file}"\n'
        f'[auth]\nmode = "oidc"\nusers_file = "{tmp_path / "users.toml"}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TICKET_CONTROLLING_CONFIG", str(path))
    monkeypatch.delenv("TICKET_CONTROLLING_DB")
    monkeypatch.delenv("TICKET_CONTROLLING_KEY_FILE")


def _management_page(page: str, **params: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../../dashboard/app.py", default_timeout=90)
    at.user = {"is_logged_in": True, "email": "gf@jc.example", "email_verified": True}
    for name, value in {"stichtag": "2026-11-27", "von": "2026-10", "bis": "2026-10"}.items():
        at.query_params[name] = value
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    at.switch_page(f"../pages/{page}.py").run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    return at


def test_the_teams_page_shows_management_no_figure_of_kurt(crafted_app):
    at = _management_page("teams")
    table = next(d.value for d in at.dataframe if "team" in d.value.columns)
    klein = table[table["team"] == "Leistung Klein"].iloc[0]
    assert pd.isna(klein["tickets"])
    assert any("weniger als 5 Mitarbeitende" in c.value for c in at.caption)


def test_the_overview_of_one_small_team_shows_management_no_figure(crafted_app):
    at = _management_page("uebersicht", teams="Leistung Klein")
    assert not at.metric  # no card with Kurt's figures
    assert any("weniger als 5 Mitarbeitende" in i.value for i in at.info)


def test_the_management_report_hides_kurt_in_workbook_and_pdf(crafted):
    from openpyxl import load_workbook

    from dashboard import report

    as_of = dt.date(2026, 11, 27)
    con = serving.connection(MANAGEMENT, as_of)
    built = report.build(
        con, crafted, dt.date(2026, 10, 1), as_of, Filters(), MANAGEMENT,
        serving.data_scope(MANAGEMENT),
    )  # fmt: skip
    klein = built.teams[built.teams["team"] == "Leistung Klein"].iloc[0]
    assert pd.isna(klein["tickets"])
    book = load_workbook(io.BytesIO(report.file_bytes(built, ".xlsx", dt.datetime(2026, 11, 27))))
    rows = [r for r in book["Teams"].iter_rows(values_only=True) if "Leistung Klein" in r]
    assert rows and not any(isinstance(v, int | float) for v in rows[0])
    assert report.file_bytes(built, ".pdf", dt.datetime(2026, 11, 27)).startswith(b"%PDF")


def test_anonymised_tickets_make_no_team_larger_for_management(config, write_export, load):
    """A team of 4 workers plus purged tickets is still a team of 4: merged for management."""
    from dashboard.access import scope
    from dashboard.core.rules import ANONYMOUS_WORKER
    from dashboard.core.storage import connect_readonly

    rows = [
        ticket_row(**{"Ticket-ID": f"K{i}", "Team": "Leistung Klein", "Bearbeiter": w})
        for i, w in enumerate([f"Klein {n}" for n in range(4)] + [ANONYMOUS_WORKER] * 3)
    ] + [
        ticket_row(**{"Ticket-ID": f"G{i}", "Team": "Leistung Groß", "Bearbeiter": f"G {i}"})
        for i in range(6)
    ]
    load(write_export(rows))
    con = connect_readonly(config)
    try:
        scope.install(con, MANAGEMENT, b"k" * 32)
        teams = {t for (t,) in con.execute("SELECT DISTINCT team FROM tickets").fetchall()}
        workers = overview.team_table(con, dt.date(2026, 11, 27))["workers"].sum()
    finally:
        con.close()
    assert "Leistung Klein" not in teams  # merged, not shown as a team of its own
    assert workers == 10  # the placeholder is nobody
