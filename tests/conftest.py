"""Shared fixtures: a configuration pointing into a temporary directory, export writers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import pytest

from dashboard.config import DEFAULT_HEADERS, Config, load_config
from dashboard.storage import connect_readonly
from etl.load import LoadResult, load_files
from etl.sources import csv_text

HEADER = list(DEFAULT_HEADERS.values())


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> Config:
    """Default configuration with database and key file inside tmp_path."""
    monkeypatch.delenv("TICKET_CONTROLLING_CONFIG", raising=False)
    return load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(tmp_path / "db" / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(tmp_path / "secret" / "key"),
        }
    )


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
