"""The privacy exit end to end: records hold real identities, each role sees its own mask.

A sample drawn and checked by controlling (who sees pseudonyms) must be the same tickets for
the team leader (who sees names): the draw runs on real identities and nothing is
pseudonymised twice.
"""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard import serving
from dashboard.access.viewer import Viewer, pseudonym
from dashboard.core.config import load_config
from dashboard.core.keys import load_or_create_key
from dashboard.core.records import query
from dashboard.queries import samples
from dashboard.queries.filters import Filters
from tests.conftest import ACCESS_AS_OF, ACCESS_USERS, access_workers


def _viewer(login: str) -> Viewer:
    user = next(u for u in ACCESS_USERS if u["login"] == login)
    return Viewer(
        login, user["name"], user["role"], tuple(user.get("teams", ())), user.get("worker")
    )


CONTROLLING = _viewer("controlling@jc.example")
TL_WEST = _viewer("tl.west@jc.example")
OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


@pytest.fixture
def cfg(access_db, tmp_path, monkeypatch):
    # A records database of its own per test: draws must not leak between tests.
    config = load_config(access_db, environ={})
    storage = config.storage.model_copy(update={"app_database": tmp_path / "app.duckdb"})
    config = config.model_copy(update={"storage": storage})
    monkeypatch.setattr(serving, "config", lambda: config)
    return config


def test_a_sample_drawn_by_controlling_is_the_same_for_the_team_leader(cfg):
    params = samples.DrawParams(
        as_of=ACCESS_AS_OF, period_from=OCTOBER[0], period_to=OCTOBER[1],
        teams=("Integration West",), method="per_worker", amount=1, seed=42, population=0,
    )  # fmt: skip
    selection = serving.Selection(ACCESS_AS_OF, Filters(), CONTROLLING)
    draw_id, drawn = serving.draw_sample(selection, params)
    west = access_workers()["Integration West"]
    assert len(drawn) == len(west)  # one ticket per worker of the team

    # stored with real names, never with the pseudonyms controlling sees
    stored = query(cfg, "SELECT ticket_id, worker FROM sample_items WHERE draw_id = ?", [draw_id])
    assert sorted(stored["worker"]) == sorted(west)

    first = drawn["ticket_id"].iloc[0]
    serving.record_sample_result(CONTROLLING, draw_id, first, "bestätigt", None)

    as_controlling = serving.records(samples.draw_items, CONTROLLING, draw_id)
    as_team_leader = serving.records(samples.draw_items, TL_WEST, draw_id)
    assert list(as_controlling["ticket_id"]) == list(as_team_leader["ticket_id"])
    assert sorted(as_team_leader["worker"]) == sorted(west)  # names for the team leader
    key = load_or_create_key(cfg.storage.key_file)
    assert sorted(as_controlling["worker"]) == sorted(pseudonym(w, key) for w in west)
    checked = as_team_leader.set_index("ticket_id")["result"]
    assert checked[first] == "bestätigt"  # the result controlling recorded


def test_only_roles_that_may_draw_can_draw(cfg):
    management = _viewer("management@jc.example")
    params = samples.DrawParams(
        as_of=ACCESS_AS_OF, period_from=OCTOBER[0], period_to=OCTOBER[1], teams=(),
        method="per_worker", amount=1, seed=1, population=0,
    )  # fmt: skip
    with pytest.raises(PermissionError):
        serving.draw_sample(serving.Selection(ACCESS_AS_OF, Filters(), management), params)


def test_worker_tables_are_ordered_after_masking(cfg):
    # Controlling's worker table is ordered by pseudonym, not by the names behind them.
    from dashboard.queries import overview

    selection = serving.Selection(ACCESS_AS_OF, Filters(teams=("Leistung Nord",)), CONTROLLING)
    shown = serving.fetch(overview.worker_table, selection)  # declares its order
    assert list(shown["worker"]) == sorted(shown["worker"])
    assert not set(shown["worker"]) & set(access_workers()["Leistung Nord"])
