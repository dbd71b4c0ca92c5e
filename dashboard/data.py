"""The data-access layer of the dashboard: every page gets its figures through `fetch`.

`fetch(fn, selection, **kwargs)` runs a query function of the domain modules
(signature `fn(con, as_of, filters, **kwargs) -> DataFrame`) on the current database
version, after `dashboard.viewer.restrict` has narrowed the filters to the viewer. Results
are cached per database version: a load swaps the file, the version changes, and the next
request computes fresh figures; a click that changes nothing reuses them.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import pandas as pd
import streamlit as st

from dashboard import rules
from dashboard.config import Config, load_config
from dashboard.metrics import Filters
from dashboard.storage import connect_readonly, file_identity
from dashboard.viewer import EVERYONE, Viewer, restrict

_lock = threading.Lock()
# (database path, configuration) -> (file identity, connection)
_connections: dict[tuple, tuple[tuple[int, int] | None, duckdb.DuckDBPyConnection]] = {}


@dataclass(frozen=True)
class Selection:
    """What a page shows: reference date, filters and the viewer."""

    as_of: dt.date
    filters: Filters = field(default_factory=Filters)
    viewer: Viewer = field(default=EVERYONE)


def config() -> Config:
    """The configuration the dashboard runs with (file and environment, as for the CLI)."""
    return load_config()


def version(cfg: Config | None = None) -> tuple[str, tuple[int, int] | None]:
    """Identity of the current database file; changes exactly when a load swapped it."""
    cfg = cfg or config()
    return str(cfg.database), file_identity(cfg)


def connection(cfg: Config | None = None, as_of: dt.date | None = None):
    """A cursor on the current database version (one per call: safe across sessions).

    With `as_of`, the verdicts of that reference date are computed first (once per
    database version), so the queries that follow only filter them.
    """
    cfg = cfg or config()
    # A changed configuration (calendar, deadlines) needs new rules tables: part of the key.
    key = (str(cfg.database), cfg.model_dump_json())
    with _lock:
        identity = file_identity(cfg)
        cached = _connections.get(key)
        if cached is None or cached[0] != identity or identity is None:
            con = connect_readonly(cfg, snapshots=True)
            _connections[key] = (file_identity(cfg), con)
            if cached is not None:
                cached[1].close()
        con = _connections[key][1]
        if as_of is not None:
            rules.fill_snapshot(con, as_of)
        return con.cursor()


def fetch(
    fn: Callable[..., pd.DataFrame], selection: Selection, *, prepare: bool = True, **kwargs
) -> pd.DataFrame:
    """Run a domain query for the selection's viewer, cached per database version.

    `prepare=False` skips computing all verdicts of the selection's Stichtag first: for a
    one-off query at another date (e.g. a comparison), which needs only a few columns.
    """
    filters = restrict(selection.filters, selection.viewer)
    name = f"{fn.__module__}:{fn.__qualname__}"
    key = tuple(sorted(kwargs.items()))
    return _cached(version(), name, selection.as_of, filters, key, prepare)


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(db_version, name: str, as_of: dt.date, filters: Filters, kwargs: tuple, prepare):
    # db_version is in the cache key (no leading underscore: Streamlit would skip it), so
    # a swapped database file never serves figures of the old one.
    module, qualname = name.split(":")
    fn = getattr(importlib.import_module(module), qualname)
    return fn(connection(as_of=as_of if prepare else None), as_of, filters, **dict(kwargs))
