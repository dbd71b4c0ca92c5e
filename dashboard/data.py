"""Data access for the pages: one cached read connection per database version.

Pages call these functions and never SQL. The connection is replaced when a load swaps
the database file, so figures are never stale after a load.
"""

from __future__ import annotations

import datetime as dt
import threading

import duckdb
import pandas as pd

from dashboard import metrics
from dashboard.config import Config, load_config
from dashboard.storage import connect_readonly, file_identity

_lock = threading.Lock()
# database path -> (file identity, connection)
_connections: dict[str, tuple[tuple[int, int] | None, duckdb.DuckDBPyConnection]] = {}


def config() -> Config:
    """The configuration the dashboard runs with (file and environment, as for the CLI)."""
    return load_config()


def connection(cfg: Config | None = None) -> duckdb.DuckDBPyConnection:
    """A cursor on the current database version (one per call: safe across sessions)."""
    cfg = cfg or config()
    key = str(cfg.database)
    with _lock:
        identity = file_identity(cfg)
        cached = _connections.get(key)
        if cached is None or cached[0] != identity or identity is None:
            con = connect_readonly(cfg)
            _connections[key] = (file_identity(cfg), con)
            if cached is not None:
                cached[1].close()
        return _connections[key][1].cursor()


def headline(as_of: dt.date) -> pd.DataFrame:
    """Rates per Bereich over all tickets up to the reference date."""
    return metrics.rates(connection(), as_of, by=("area",))
