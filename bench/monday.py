"""Monday morning in one process: many data scopes ask for the Übersicht at once.

    .venv/bin/python bench/monday.py TREE SCENARIO DATABASE WORK SCOPES

A child of `bench/run.py monday`, run once per scenario in a process of its own, with the
`dashboard` package of TREE (this tree, or an export of the baseline commit), so its peak
memory is its own. Each of SCOPES threads is one data scope (team leaders of distinct team
sets, controlling, management) and asks through `serving.fetch` for what the Übersicht page
asks, in the page's order; all start together. Prints one JSON line: per scope the seconds
to the first figure (the sidebar's dimensions and the headline) and to the whole page, and
the process's resident memory before, after and at its peak.

Scenarios:
  cold           the process has computed nothing (a start after the load)
  verdicts-warm  the Stichtag's verdicts are computed and the configured users' scopes
                 installed (as the warm-up after a load leaves them), their figures are not:
                 nobody asked before the load
  after-load     the scopes asked on Friday; the nightly load swaps the file; the dashboard's
                 own warm-up runs (not timed here, reported as warm_up_s); then Monday
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

UNTIL = dt.date(2026, 11, 27)


def memory_mib(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def viewers(teams: list[str], count: int):
    """`count` distinct data scopes: controlling, management, team leaders of team sets."""
    from dashboard.access.viewer import Viewer

    scopes = [Viewer("controlling", "C", "controlling"), Viewer("management", "M", "management")]
    sets = itertools.chain.from_iterable(
        itertools.combinations(teams, k) for k in range(1, len(teams) + 1)
    )
    for i, team_set in enumerate(sets):
        if len(scopes) >= count:
            break
        scopes.append(Viewer(f"tl{i}", f"TL {i}", "teamleitung", tuple(team_set)))
    if len(scopes) < count:
        raise SystemExit(f"only {len(scopes)} distinct scopes in this database")
    return scopes


def uebersicht(serving, overview, metrics, viewer) -> tuple[float, float]:
    """The Übersicht's requests of one person: seconds to the first figure and to all."""
    from dashboard.queries.filters import Filters

    start = time.perf_counter()
    month = UNTIL.replace(day=1)
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    selection = serving.Selection(UNTIL, Filters(period=(month, month)), viewer)
    before = serving.Selection(UNTIL, Filters(period=(previous, previous)), viewer)
    earlier = serving.Selection(overview.comparison_date(UNTIL, selection.filters),
                                selection.filters, viewer)  # fmt: skip
    # The sidebar first (teams and months to choose from), then the headline figures.
    serving.fetch(metrics.dimensions, serving.Selection(UNTIL, viewer=viewer))
    serving.fetch(overview.headline, selection)
    first = time.perf_counter() - start
    serving.fetch(overview.headline, before)
    serving.fetch(overview.open_overdue, earlier, prepare=False)
    serving.fetch(overview.trend, selection)
    serving.fetch(overview.backlog, selection)
    serving.fetch(overview.status_mix, selection)
    return first, time.perf_counter() - start


def at_once(serving, overview, metrics, scopes) -> list[tuple[float, float]]:
    """Every scope asks at the same moment, each in a thread (as Streamlit's sessions)."""
    barrier = threading.Barrier(len(scopes))
    times: list = [None] * len(scopes)
    errors: list[BaseException] = []

    def person(i: int) -> None:
        try:
            barrier.wait()
            times[i] = uebersicht(serving, overview, metrics, scopes[i])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=person, args=(i,)) for i in range(len(scopes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return times


def main(tree: str, scenario: str, database: str, work: str, count: str) -> dict:
    sys.path.insert(0, tree)
    work_dir = Path(work)
    served = work_dir / "served.duckdb"  # the file the dashboard reads; a load replaces it
    config = work_dir / "monday.toml"
    users_file = work_dir / "users.toml"
    config.write_text(
        f'[rules]\nreference_date = {UNTIL.isoformat()}\n[storage]\ndatabase = "{served}"\n'
        f'key_file = "{work_dir.parent / "key"}"\napp_database = "{work_dir / "app.duckdb"}"\n'
        f'[auth]\nmode = "oidc"\nusers_file = "{users_file}"\n',
        encoding="utf-8",
    )
    os.environ["TICKET_CONTROLLING_CONFIG"] = str(config)
    for name in ("TICKET_CONTROLLING_DB", "TICKET_CONTROLLING_KEY_FILE"):
        os.environ.pop(name, None)
    shutil.copyfile(database, served)

    import duckdb

    from dashboard import serving
    from dashboard.access.viewer import Viewer
    from dashboard.queries import metrics, overview

    with duckdb.connect(database, read_only=True) as con:
        teams = [
            t for (t,) in con.execute("SELECT DISTINCT team FROM tickets ORDER BY 1").fetchall()
        ]
    scopes = viewers(teams, int(count))
    # The people of the benchmark are the dashboard's configured users.
    users_file.write_text(
        "".join(
            f'[[user]]\nlogin = "{v.login}"\nname = "{v.name}"\nrole = "{v.role}"\n'
            + (f"teams = {json.dumps(list(v.teams))}\n" if v.teams else "")
            for v in scopes
        ),
        encoding="utf-8",
    )
    users_file.chmod(0o600)
    result: dict = {"tree": serving.__file__, "scenario": scenario}
    admin = Viewer("admin", "A", "admin")
    if scenario == "verdicts-warm":
        start = time.perf_counter()
        # What the warm-up prepares once per load; the baseline warms the admin's scope only.
        serving.connection(admin, UNTIL)
        if hasattr(serving, "wait_for_warmup"):
            serving.wait_for_warmup()
        result["verdicts_s"] = time.perf_counter() - start
    elif scenario == "after-load":
        for viewer in scopes:  # Friday
            uebersicht(serving, overview, metrics, viewer)
        old = serving.version(viewer=admin)
        monday = work_dir / "monday.duckdb"
        shutil.copyfile(database, monday)
        start = time.perf_counter()
        os.replace(monday, served)  # the nightly load swaps the file
        # Nobody asks: the dashboard notices the load itself and warms the new version.
        while serving._connections[serving._key(serving.config())].identity == old[1]:
            time.sleep(0.05)
        result["warm_up_s"] = time.perf_counter() - start
        # Monday is hours later: the warm-up thread has ended and the old version is gone
        # (freeing it is not part of anybody's request).
        serving.wait_for_warmup()
        time.sleep(1)
    elif scenario != "cold":
        raise SystemExit(f"unknown scenario {scenario}")
    result["rss_before_mib"] = memory_mib("VmRSS")
    times = at_once(serving, overview, metrics, scopes)
    result["rss_after_mib"] = memory_mib("VmRSS")
    result["peak_mib"] = memory_mib("VmHWM")
    result["first_s"] = [first for first, _ in times]
    result["page_s"] = [page for _, page in times]
    return result


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])), flush=True)
    # The dashboard's background threads must not keep the measurement waiting.
    os._exit(0)
