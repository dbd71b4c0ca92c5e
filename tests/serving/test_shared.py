"""One database version serves every data scope: the verdicts of a Stichtag are computed once.

Monday morning, many people with different scopes ask for the same Stichtag at once. The
serving layer keeps one in-memory database per database version; each scope reads it through
a schema of its own (dashboard.access.scope) that only narrows the shared verdicts. These
tests ask through `serving.fetch` from many threads at once, on the real access database, and
compare every scope's figures with those computed on a connection of its own.
"""

from __future__ import annotations

import threading
import time

import pytest

from dashboard import serving
from dashboard.access import scope
from dashboard.access.privacy import release
from dashboard.access.viewer import Viewer
from dashboard.core.config import load_config
from dashboard.core.storage import connect_readonly
from dashboard.queries import metrics, overview
from tests.conftest import ACCESS_AS_OF, ACCESS_USERS, ticket_row

VIEWERS = [
    Viewer(u["login"], u["name"], u["role"], tuple(u.get("teams", ())), u.get("worker"))
    for u in ACCESS_USERS
]
QUERIES = {
    "status_mix": (overview.status_mix, {}),
    "rates by team and worker": (metrics.rates, {"by": ("team", "worker")}),
    "backlog": (overview.backlog, {}),
}


@pytest.fixture
def access_serving(access_db, monkeypatch):
    cfg = load_config(access_db, environ={})
    monkeypatch.setattr(serving, "config", lambda: cfg)
    yield cfg
    assert serving.wait_for_warmup(timeout=60)


def _alone(cfg, viewer: Viewer, fn, kwargs):
    """The figure as the scope computed it on a connection of its own."""
    con = connect_readonly(cfg)
    try:
        limits = scope.install(con, viewer, serving._current(cfg).key)
        return release(
            fn(con, ACCESS_AS_OF, **kwargs), limits, order_by=getattr(fn, "order_by", ())
        )
    finally:
        con.close()


def test_every_scope_at_once_gets_its_own_figures_from_one_computation(access_serving):
    cfg = access_serving
    selection = {v.login: serving.Selection(ACCESS_AS_OF, viewer=v) for v in VIEWERS}
    start = threading.Barrier(len(VIEWERS))
    results: dict[tuple, object] = {}
    errors: list[BaseException] = []

    def ask(viewer: Viewer) -> None:
        try:
            start.wait()
            for name, (fn, kwargs) in QUERIES.items():
                results[viewer.login, name] = serving.fetch(fn, selection[viewer.login], **kwargs)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(v,)) for v in VIEWERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    shared = serving._current(cfg)
    # computed once: every ticket received by the Stichtag once in the one snapshot
    [(snapshots, rows)] = shared.con.execute(
        "SELECT count(DISTINCT snapshot), count(*) FROM verdict_snapshots"
    ).fetchall()
    [(received,)] = shared.con.execute(
        "SELECT count(*) FROM store.tickets WHERE received <= ?", [ACCESS_AS_OF]
    ).fetchall()
    assert (snapshots, rows) == (1, received)
    assert set(shared.scopes) == {v.scope_key() for v in VIEWERS}
    for viewer in VIEWERS:
        for name, (fn, kwargs) in QUERIES.items():
            got = results[viewer.login, name]
            expected = _alone(cfg, viewer, fn, kwargs)
            assert got.reset_index(drop=True).equals(expected.reset_index(drop=True)), (
                viewer.login,
                name,
            )


def test_a_new_version_arrives_with_the_scopes_in_use_and_without_a_request(
    config, write_export, load, monkeypatch
):
    """After a load the watcher warms the new version: verdicts, scopes and asked figures."""
    monkeypatch.setattr(serving, "config", lambda: config)
    monkeypatch.setattr(serving, "WATCH_SECONDS", 0.05)
    as_of = ACCESS_AS_OF
    rows = [ticket_row(**{"Ticket-ID": f"A{i}", "Team": f"T{i % 2}"}) for i in range(4)]
    load(write_export(rows))
    team_lead = Viewer("tl", "TL", "teamleitung", ("T0",))
    admin = Viewer("admin", "Admin", "admin")
    for viewer in (team_lead, admin):
        mix = serving.fetch(overview.status_mix, serving.Selection(as_of, viewer=viewer))
        assert int(mix["tickets"].sum()) == (2 if viewer is team_lead else 4)
    key = serving._key(config)
    old = serving._connections[key]
    more = [ticket_row(**{"Ticket-ID": f"B{i}", "Team": "T0"}) for i in range(3)]
    load(write_export(more))
    deadline = time.monotonic() + 60
    # no request: only the watcher can notice the load (the watcher's first sleep may be
    # the default one, when it was started before this test)
    while serving._connections[key] is old and time.monotonic() < deadline:
        time.sleep(0.05)
    assert serving.wait_for_warmup(timeout=60)
    new = serving._connections[key]
    assert new is not old
    assert set(new.scopes) == {team_lead.scope_key(), admin.scope_key()}
    [(filled,)] = new.con.execute(
        "SELECT count(*) FROM verdict_snapshots WHERE snapshot = ?", [as_of]
    ).fetchall()
    assert filled == 7
    mix = serving.fetch(overview.status_mix, serving.Selection(as_of, viewer=team_lead))
    assert int(mix["tickets"].sum()) == 5
