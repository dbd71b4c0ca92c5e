"""The data-access layer of the dashboard: every page gets its figures through `fetch`.

`fetch(fn, selection, **kwargs)` runs a query function of the domain modules
(signature `fn(con, as_of, filters, **kwargs) -> DataFrame`) on the current database
version, on a connection whose views hold only what the selection's viewer may see
(`dashboard.scope`), after `dashboard.viewer.restrict` has narrowed the filters too. There
is no other way for a page to reach the data: `connection` and `records` also take the
viewer. Results are cached per database version and data scope: a load swaps the file,
the version changes, and the next request computes fresh figures.
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

from dashboard import rules, scope
from dashboard.config import Config, load_config
from dashboard.metrics import Filters
from dashboard.storage import connect_readonly, file_identity
from dashboard.viewer import Viewer, restrict
from etl.pseudonym import load_or_create_key

_lock = threading.Lock()
# (database path, configuration, data scope) -> (file identity, connection, scope)
_connections: dict[tuple, tuple] = {}


@dataclass(frozen=True)
class Selection:
    """What a page shows: reference date, filters and the viewer."""

    as_of: dt.date
    filters: Filters = field(default_factory=Filters)
    viewer: Viewer | None = None  # required by `fetch`: no viewer, no data


def config() -> Config:
    """The configuration the dashboard runs with (file and environment, as for the CLI)."""
    return load_config()


def version(cfg: Config | None = None) -> tuple[str, tuple[int, int] | None]:
    """Identity of the current database file; changes exactly when a load swapped it."""
    cfg = cfg or config()
    return str(cfg.database), file_identity(cfg)


def _scoped(cfg: Config, viewer: Viewer) -> tuple[duckdb.DuckDBPyConnection, scope.Scope]:
    # A changed configuration (calendar, deadlines) needs new rules tables: part of the key.
    key = (str(cfg.database), cfg.model_dump_json(), viewer.scope_key())
    with _lock:
        identity = file_identity(cfg)
        cached = _connections.get(key)
        if cached is None or cached[0] != identity or identity is None:
            con = connect_readonly(cfg, snapshots=True)
            limits = scope.install(con, viewer, load_or_create_key(cfg.storage.key_file))
            # The old connection is dropped, not closed: other sessions may be reading
            # through its cursors; it goes when the last of them does. The identity read
            # before opening: a swap in between makes the next request reopen, never miss it.
            _connections[key] = (identity, con, limits)
        return _connections[key][1], _connections[key][2]


def connection(viewer: Viewer, as_of: dt.date | None = None, cfg: Config | None = None):
    """A cursor on the current database version as `viewer` may see it (one per call).

    With `as_of`, the verdicts of that reference date are computed first (once per
    database version and scope), so the queries that follow only filter them.
    """
    con, _ = _scoped(cfg or config(), viewer)
    with _lock:
        if as_of is not None:
            rules.fill_snapshot(con, as_of)
        return con.cursor()


def data_scope(viewer: Viewer, cfg: Config | None = None) -> scope.Scope:
    """The viewer's restriction for frames from the records database (samples, talks)."""
    return _scoped(cfg or config(), viewer)[1]


def records(fn: Callable[..., pd.DataFrame], viewer: Viewer, *args, **kwargs) -> pd.DataFrame:
    """A frame of the dashboard's own records (`fn(config, ...)`), limited to the viewer."""
    cfg = config()
    return data_scope(viewer, cfg).frame(fn(cfg, *args, **kwargs))


def fetch(
    fn: Callable[..., pd.DataFrame], selection: Selection, *, prepare: bool = True, **kwargs
) -> pd.DataFrame:
    """Run a domain query for the selection's viewer, cached per database version.

    `prepare=False` skips computing all verdicts of the selection's Stichtag first: for a
    one-off query at another date (e.g. a comparison), which needs only a few columns.
    """
    if selection.viewer is None:
        raise PermissionError("a query without a viewer")
    filters = restrict(selection.filters, selection.viewer)
    name = f"{fn.__module__}:{fn.__qualname__}"
    # A page passes names as it shows them; the query needs the stored ones.
    kwargs = data_scope(selection.viewer).real_kwargs(kwargs)
    key = tuple(sorted(kwargs.items()))
    # Cached per data scope, not per person: team leaders of the same teams share figures.
    viewer = selection.viewer.in_scope()
    return _cached(version(), viewer, name, selection.as_of, filters, key, prepare)


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(db_version, viewer: Viewer, name, as_of: dt.date, filters, kwargs: tuple, prepare):
    # db_version and the viewer are in the cache key (no leading underscore: Streamlit
    # would skip them): a swapped database file or another role never serves these figures.
    module, qualname = name.split(":")
    fn = getattr(importlib.import_module(module), qualname)
    con = connection(viewer, as_of if prepare else None)
    # Pseudonyms (controlling) are applied to the result, the one way out of this layer.
    return data_scope(viewer).names(fn(con, as_of, filters, **dict(kwargs)))
