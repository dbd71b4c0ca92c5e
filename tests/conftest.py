"""Shared fixtures: a configuration pointing into a temporary directory, export writers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard.core.config import DEFAULT_HEADERS, Config, RecordsConfig, load_config
from dashboard.core.storage import connect_readonly
from etl.load import LoadResult, load_files
from etl.sources import csv_text

HEADER = list(DEFAULT_HEADERS.values())


@pytest.fixture
def config(tmp_path: Path, monkeypatch, request) -> Config:
    """Default configuration with database and key file inside tmp_path.

    The records are in the DuckDB file beside the database; a test parametrised with
    `@pytest.mark.parametrize("config", RECORD_BACKENDS, indirect=True)` runs on both
    backends, the PostgreSQL one in a new database of a throw-away server.
    """
    monkeypatch.delenv("TICKET_CONTROLLING_CONFIG", raising=False)
    config = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(tmp_path / "db" / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(tmp_path / "secret" / "key"),
        }
    )
    return on_backend(config, getattr(request, "param", "duckdb"), request)


# -- the records on both backends ------------------------------------------------------------
RECORD_BACKENDS = ("duckdb", "postgresql")


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL server for the whole run (tests/postgres.py)."""
    from tests.postgres import Cluster, server_bindir

    bindir = server_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server programs (initdb, pg_ctl) are not installed: "
            "apt-get install postgresql (.ci/run does)"
        )
    cluster = Cluster(bindir)
    cluster.start()
    yield cluster
    cluster.stop()


def on_backend(config: Config, backend: str, request) -> Config:
    """`config` with its records on `backend`: the DuckDB file or a new PostgreSQL database."""
    if backend == "duckdb":
        return config
    cluster = request.getfixturevalue("postgres")
    records = RecordsConfig(url=cluster.database(), password_file=cluster.password_file)
    return config.model_copy(update={"records": records})


def records_env(config: Config) -> dict[str, str]:
    """Environment that gives another process the same records (password as libpq's)."""
    if config.records.url is None:
        return {}
    return {
        "TICKET_CONTROLLING_RECORDS_URL": config.records.url,
        "PGPASSWORD": config.records.password_file.read_text(encoding="utf-8").strip(),
    }


def ticket_row(**fields: str) -> dict[str, str]:
    """A valid export row (default header names) with the given fields overridden."""
    row = {
        "Ticket-ID": "T1",
        "Bereich": "Leistung",
        "Team": "Leistung 1",
        "Bearbeiter": "Anna Alt",
        "Eingang": "02.03.2026 09:15",
    }
    row.update(fields)
    return row


def ticket_line(row: dict[str, str]) -> list[str]:
    """A row (dict keyed by default header) as its list of fields, in header order."""
    return [row.get(h, "") for h in HEADER]


@pytest.fixture
def write_export(tmp_path: Path) -> Callable[..., Path]:
    """Write rows (dicts keyed by header, or lists) as a `;` CSV export and return its path."""
    counter = iter(range(1_000_000))

    def write(
        rows: Sequence[dict | Sequence[str]],
        header: Sequence[str] | None = None,
        encoding: str = "utf-8",
        name: str | None = None,
    ) -> Path:
        header = list(header or HEADER)
        lines = [header]
        for row in rows:
            lines.append([row.get(h, "") for h in header] if isinstance(row, dict) else row)
        path = tmp_path / (name or f"export-{next(counter)}.csv")
        path.write_bytes(csv_text(lines).encode(encoding))
        return path

    return write


@pytest.fixture
def load(config: Config) -> Callable[..., list[LoadResult]]:
    """Load files through the real ETL into the fixture's database."""

    def run(*tickets: Path, absences: Sequence[Path] = ()) -> list[LoadResult]:
        return load_files(config, list(tickets), list(absences))

    return run


@pytest.fixture
def db(config: Config) -> Callable[[], duckdb.DuckDBPyConnection]:
    """Open a read-only connection (with the rules installed) on the current database."""
    opened: list[duckdb.DuckDBPyConnection] = []

    def connect() -> duckdb.DuckDBPyConnection:
        con = connect_readonly(config)
        opened.append(con)
        return con

    yield connect
    for con in opened:
        con.close()


def d(text: str) -> dt.date:
    """'02.03.2026' -> date(2026, 3, 2), for readable case tables."""
    return dt.datetime.strptime(text, "%d.%m.%Y").date()


DEMO_AS_OF = dt.date(2026, 11, 27)
# The first demo user (dashboard.access.users.demo_users) as records name them.
DEMO_WHO = "Bereichsleitung, alle Teams (demo-bereichsleitung)"


def users_file(directory: Path, *users: dict) -> Path:
    """Write a users file (dashboard.access.users) of the given users into `directory`."""
    lines = []
    for user in users:
        lines.append("[[user]]")
        for key, value in user.items():
            shown = (
                "[" + ", ".join(f'"{v}"' for v in value) + "]"
                if isinstance(value, list | tuple)
                else value.isoformat()  # a TOML date
                if isinstance(value, dt.date)
                else f'"{value}"'
            )
            lines.append(f"{key} = {shown}")
    path = directory / "users.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ADMIN = {"login": "admin@jc.example", "name": "Ada Admin", "role": "admin"}


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Config:
    """A small demo database (3,000 tickets, Stichtag 27.11.2026) built by the real ETL."""
    from etl.demo import write_demo_export

    tmp = tmp_path_factory.mktemp("demo")
    (tmp / "config.toml").write_text(
        f"[rules]\nreference_date = {DEMO_AS_OF.isoformat()}\n"
        '[storage]\ndatabase = "db/tickets.duckdb"\nkey_file = "secret/key"\n',
        encoding="utf-8",
    )
    config = load_config(tmp / "config.toml", environ={})
    files = write_demo_export(tmp / "export", tickets=3000, seed=5, until=DEMO_AS_OF)
    results = load_files(config, [files.tickets], [files.absences], fresh=True,
                         meta={"built_by": "demo-data"})  # fmt: skip
    assert all(r.reconciled and not r.refused for r in results)
    return config


@pytest.fixture
def app_env(demo_db: Config, monkeypatch) -> Config:
    """Point the dashboard (AppTest runs in this process) at the demo database."""
    monkeypatch.setenv(
        "TICKET_CONTROLLING_CONFIG", str(demo_db.database.parent.parent / "config.toml")
    )
    monkeypatch.delenv("TICKET_CONTROLLING_DB", raising=False)
    monkeypatch.delenv("TICKET_CONTROLLING_KEY_FILE", raising=False)
    return demo_db


# Distinctive surnames per team: a name outside a viewer's scope is found by plain search.
ACCESS_TEAMS = {
    ("Leistung", "Leistung Nord"): "Nordberg",
    ("Leistung", "Leistung Sued"): "Suedfeld",
    ("Integration", "Integration Ost"): "Ostwald",  # 3 workers: below management's minimum
    ("Integration", "Integration West"): "Westhoff",
}
FIRST_NAMES = ("Anja", "Bernd", "Carla", "Dirk", "Emil", "Frida")
ACCESS_AS_OF = dt.date(2026, 11, 27)
ACCESS_USERS = (
    {"login": "tl.nord@jc.example", "name": "Tom Lehmann", "role": "teamleitung",
     "teams": ["Leistung Nord"]},
    {"login": "tl.west@jc.example", "name": "Wiebke Lenz", "role": "teamleitung",
     "teams": ["Integration West"]},
    {"login": "controlling@jc.example", "name": "Conny Roth", "role": "controlling"},
    {"login": "management@jc.example", "name": "Mia Grund", "role": "management"},
    {"login": "anja@jc.example", "name": "Anja Nordberg", "role": "mitarbeitende",
     "worker": "Nordberg Anja"},
    ADMIN,
    {"login": "pr@jc.example", "name": "Paula Rat", "role": "kontrolle"},
)  # fmt: skip


def access_workers() -> dict[str, list[str]]:
    """Team -> its workers' names in the access database."""
    return {
        team: [f"{surname} {first}" for first in FIRST_NAMES[: 3 if "Ost" in team else 6]]
        for (_, team), surname in ACCESS_TEAMS.items()
    }


@pytest.fixture(scope="session")
def access_db(tmp_path_factory) -> Path:
    """A small database of four teams with distinctive worker names, behind OIDC sign-in.

    Returns the config file (auth.mode = "oidc", users file with one user per role).
    """
    import random

    tmp = tmp_path_factory.mktemp("access")
    users_file(tmp, *ACCESS_USERS)
    config_path = tmp / "config.toml"
    config_path.write_text(
        f"[rules]\nreference_date = {ACCESS_AS_OF.isoformat()}\n"
        '[storage]\ndatabase = "db/tickets.duckdb"\nkey_file = "secret/key"\n'
        'app_database = "db/app.duckdb"\n'
        '[auth]\nmode = "oidc"\nusers_file = "users.toml"\n',
        encoding="utf-8",
    )
    config = load_config(config_path, environ={})
    rng = random.Random(7)
    rows, absences = [], []
    workers = access_workers()
    for (area, team), _ in ACCESS_TEAMS.items():
        for worker in workers[team]:
            for month in range(6, 12):
                for n in range(4):
                    received = dt.date(2026, month, 2 + 6 * n)
                    late = rng.random() < 0.35
                    completed = received + dt.timedelta(
                        days=rng.choice((9, 12) if late else (1, 2))
                    )
                    open_ = completed > ACCESS_AS_OF or (month == 11 and n == 3)
                    rows.append(
                        ticket_row(**{
                            "Ticket-ID": f"{team[:1]}{team.split()[1][:2]}-{worker.split()[1]}-"
                                         f"{month:02d}{n}",
                            "Bereich": area, "Team": team, "Bearbeiter": worker,
                            "Eingang": received.strftime("%d.%m.%Y"),
                            "Erledigt": "" if open_ else completed.strftime("%d.%m.%Y"),
                            "Anliegen": "Rückruf" if n == 1 else "Allgemein",
                            "Rückruf erfolgt": received.strftime("%d.%m.%Y") if n == 1 else "",
                        })
                    )  # fmt: skip
        first = workers[team][0]
        absences.append([first, "09.11.2026", "20.11.2026", workers[team][1]])
    export = tmp / "tickets.csv"
    export.write_bytes(csv_text([HEADER] + [[r.get(h, "") for h in HEADER] for r in rows]).encode())
    absence_file = tmp / "abwesenheiten.csv"
    absence_file.write_bytes(
        csv_text([["Bearbeiter", "Von", "Bis", "Vertretung"], *absences]).encode()
    )
    results = load_files(config, [export], [absence_file], fresh=True)
    assert all(r.reconciled and not r.refused for r in results)
    return config_path


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def rendered(at) -> str:
    """Everything the run put on the page: element protos and every table's values."""
    parts = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        try:
            value = node.value
        except Exception:  # widgets without a value yet
            value = None
        if isinstance(value, pd.DataFrame):
            parts.append(value.to_csv())
    return "\n".join(parts)
