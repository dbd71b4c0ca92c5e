"""The data-access layer of the dashboard: every page gets its figures through `fetch`.

`fetch(fn, selection, **kwargs)` runs a query function of the domain modules
(signature `fn(con, as_of, filters, **kwargs) -> DataFrame`) on the current database
version, on a connection whose views hold only what the selection's viewer may see
(`dashboard.access.scope`), after `dashboard.access.viewer.restrict` has narrowed the
filters too. There is no other way for a page to reach the data: `connection` and
`records` also take the viewer. Results are cached per database version and data scope. A
load swaps the file; the new version is opened and its verdicts computed in the background
(`_served`, `_warm`) while requests are still served from the old one, then switched in.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import pandas as pd
import streamlit as st

from dashboard.access import privacy, scope, users
from dashboard.access.viewer import Viewer, may, restrict
from dashboard.core import records as record_store
from dashboard.core import rules
from dashboard.core.config import Config, load_config
from dashboard.core.keys import load_or_create_key
from dashboard.core.storage import connect_readonly, file_identity
from dashboard.queries import repeats, samples
from dashboard.queries.filters import Filters

log = logging.getLogger(__name__)

# How long a failed warm-up of a file (e.g. unreadable) waits before the next attempt.
RETRY_SECONDS = 30.0


@dataclass
class _Version:
    """One database version as one data scope sees it: the connection and its snapshots."""

    identity: tuple[int, int] | None  # the file's (inode, mtime) when it was opened
    con: duckdb.DuckDBPyConnection
    scope: scope.Scope
    # Stichtage asked for, most recent last: the warm-up of the next version fills these.
    as_ofs: list[dt.date] = field(default_factory=list)
    # One snapshot computation at a time per version; other versions are not held up.
    lock: threading.Lock = field(default_factory=threading.Lock)


_lock = threading.Lock()  # guards the three dicts below, never held during a computation
# (database path, configuration, data scope) -> the version served to that scope
_connections: dict[tuple, _Version] = {}
# the same keys -> the thread warming the next version; the (identity, retry time) of a failure
_warming: dict[tuple, threading.Thread] = {}
_failed: dict[tuple, tuple] = {}
# Warm-ups run one at a time: on two cores, serving requests matters more than warming.
_warm_turn = threading.Lock()


@dataclass(frozen=True)
class Selection:
    """What a page shows: reference date, filters and the viewer."""

    as_of: dt.date
    filters: Filters = field(default_factory=Filters)
    viewer: Viewer | None = None  # required by `fetch`: no viewer, no data


def config() -> Config:
    """The configuration the dashboard runs with (file and environment, as for the CLI)."""
    return load_config()


def version(
    cfg: Config | None = None, viewer: Viewer | None = None
) -> tuple[str, tuple[int, int] | None]:
    """Identity of the database version: the file's, or with `viewer` the one it is served."""
    cfg = cfg or config()
    if viewer is None:
        return str(cfg.database), file_identity(cfg)
    return str(cfg.database), _served(cfg, viewer).identity


def _open(cfg: Config, viewer: Viewer, identity, as_ofs: list[dt.date]) -> _Version:
    # The identity is read before opening: a swap in between makes the next request
    # reopen, never miss it.
    con = connect_readonly(cfg, snapshots=True)
    try:
        limits = scope.install(con, viewer, load_or_create_key(cfg.storage.key_file))
        for as_of in as_ofs:
            rules.fill_snapshot(con, as_of)
    except BaseException:
        con.close()
        raise
    return _Version(identity, con, limits, list(as_ofs))


def _key(cfg: Config, viewer: Viewer) -> tuple:
    # A changed configuration (calendar, deadlines) needs new rules tables: part of the key.
    return str(cfg.database), cfg.model_dump_json(), viewer.scope_key()


def _served(cfg: Config, viewer: Viewer) -> _Version:
    """The version a request of this scope is served from; starts a warm-up after a load.

    A load swaps the file. Opening the new one and computing the verdicts of a Stichtag
    takes seconds at millions of tickets, so that is done by a background thread (`_warm`)
    while requests go on being served from the old version, whose connection still holds
    the old file: consistent old data until the new version is complete, then the new one,
    switched in by replacing one dict entry. Only without an old version (process start, a
    new scope or configuration) does the request itself open the file, as it must.
    """
    key = _key(cfg, viewer)
    identity = file_identity(cfg)
    with _lock:
        current = _connections.get(key)
        if current is not None and current.identity == identity and identity is not None:
            return current
        if current is not None and identity is not None:
            if key not in _warming and not _recently_failed(key, identity):
                thread = threading.Thread(
                    target=_warm, args=(key, cfg, viewer), name="warm-up", daemon=True
                )
                _warming[key] = thread
                thread.start()
            return current
    # No old version to serve (or no file at all: open reports why): open it here.
    fresh = _open(cfg, viewer, identity, [])
    with _lock:
        current = _connections.get(key)
        if current is None or current.identity != identity or identity is None:
            # The old connection is dropped, not closed: other sessions may be reading
            # through its cursors; it goes when the last of them does.
            _connections[key] = current = fresh
        return current


def _recently_failed(key: tuple, identity) -> bool:
    failed = _failed.get(key)
    return failed is not None and failed[0] == identity and time.monotonic() < failed[1]


def _warm(key: tuple, cfg: Config, viewer: Viewer) -> None:
    """Build the newest version of the file in the background, then switch it in."""
    try:
        with _warm_turn:
            while True:
                with _lock:
                    current = _connections.get(key)
                identity = file_identity(cfg)
                if current is None or identity is None or identity == current.identity:
                    return  # nothing newer (any more): the version served is the newest
                try:
                    fresh = _open(cfg, viewer, identity, list(current.as_ofs))
                except Exception:
                    # Serving goes on from the old version; a later request tries again.
                    log.exception("warm-up of %s failed; serving the previous version", key[0])
                    with _lock:
                        _failed[key] = (identity, time.monotonic() + RETRY_SECONDS)
                    return
                with _lock:
                    _connections[key] = fresh  # the switch: the next request gets it
                    _failed.pop(key, None)
                # Another load may have swapped the file meanwhile: warm that one too.
    finally:
        with _lock:
            _warming.pop(key, None)


def refresh(viewer: Viewer, cfg: Config | None = None) -> None:
    """Serve the viewer's scope from the newest database version now, without a warm-up.

    For whoever just loaded data in this process (the upload on the Daten page): they
    waited for the load and expect its result on the next run. Other scopes warm up in the
    background on their next request, as after any load.
    """
    cfg = cfg or config()
    key = _key(cfg, viewer)
    identity = file_identity(cfg)
    with _lock:
        current = _connections.get(key)
    if current is None or identity is None or current.identity == identity:
        return  # nothing served yet (the next request opens the file), or already the newest
    fresh = _open(cfg, viewer, identity, list(current.as_ofs))
    with _lock:
        _connections[key] = fresh


def wait_for_warmup(timeout: float | None = None) -> bool:
    """Wait until no warm-up runs (the newest version of each scope served); False on timeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with _lock:
            threads = list(_warming.values())
        if not threads:
            return True
        for thread in threads:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(left)
            if thread.is_alive():
                return False


def connection(viewer: Viewer, as_of: dt.date | None = None, cfg: Config | None = None):
    """A cursor on the served database version as `viewer` may see it (one per call).

    With `as_of`, the verdicts of that reference date are computed first (once per
    database version and scope), so the queries that follow only filter them.
    """
    return _cursor(_served(cfg or config(), viewer), as_of)


def _cursor(served: _Version, as_of: dt.date | None):
    with served.lock:
        if as_of is not None:
            rules.fill_snapshot(served.con, as_of)
            # Remembered for the warm-up of the next version (bounded like the snapshots).
            if as_of in served.as_ofs:
                served.as_ofs.remove(as_of)
            served.as_ofs[:] = [*served.as_ofs, as_of][-rules.KEEP_SNAPSHOTS :]
        return served.con.cursor()


def data_scope(viewer: Viewer, cfg: Config | None = None) -> scope.Scope:
    """The viewer's restriction for frames from the records database (samples, talks)."""
    return _served(cfg or config(), viewer).scope


def records(fn: Callable[..., pd.DataFrame], viewer: Viewer, *args, **kwargs) -> pd.DataFrame:
    """A frame of the dashboard's own records (`fn(config, ...)`) as the viewer may see it."""
    cfg = config()
    limits = data_scope(viewer, cfg)
    return privacy.release(limits.rows(fn(cfg, *args, **kwargs)), limits)


RecordsBusy = record_store.RecordsBusy  # for pages: the records database is busy, try again


def records_version() -> tuple:
    """Identity of the records database: a cache key that changes when something is recorded."""
    return record_store.version(config())


def _require(viewer: Viewer | None, action: str) -> Viewer:
    if viewer is None or not may(viewer, action):
        raise PermissionError(f"{action} is not allowed for this viewer")
    return viewer


def record_sample_result(
    viewer: Viewer, draw_id: int, ticket_id: str, result: str, comment: str | None
) -> None:
    """Record the check result of one sampled ticket as the viewer."""
    viewer = _require(viewer, "check_sample")
    samples.record_result(config(), draw_id, ticket_id, result, comment, viewer.who)


def record_conversation(viewer: Viewer, worker: str, month: dt.date, held_on: dt.date) -> int:
    """Record that the viewer held the A10 conversation with a worker (name as shown)."""
    viewer = _require(viewer, "record_conversation")
    cfg = config()
    worker = data_scope(viewer, cfg).real(worker)  # records hold real identities
    return repeats.record_conversation(cfg, worker, month, held_on, viewer.who)


def audit_log(viewer: Viewer) -> tuple[pd.DataFrame, record_store.AuditCheck]:
    """The access log, newest first, and the check of its chain."""
    _require(viewer, "read_audit")
    cfg = config()
    return record_store.audit_entries(cfg), record_store.verify_audit(cfg)


def access_list(viewer: Viewer) -> pd.DataFrame:
    """Who may see what, from the users file (for the staff council; no ticket data)."""
    _require(viewer, "read_access_list")
    return users.access_list(users.load_users(config().auth.users_file))


def draw_sample(selection: Selection, params: samples.DrawParams) -> tuple[int, pd.DataFrame]:
    """Draw and record a B3 sample in the viewer's scope: (draw id, items as they may see them).

    The draw runs on real identities, so records never hold pseudonyms and every role that
    reads the sample later sees the same tickets.
    """
    viewer = _require(selection.viewer, "draw_sample")
    cfg = config()
    con = connection(viewer, params.as_of, cfg)
    filters = restrict(selection.filters, viewer)
    draw_id, frame = samples.draw_and_record(con, cfg, filters, params, viewer.who)
    return draw_id, privacy.release(frame, data_scope(viewer, cfg))


def sample_number(viewer: Viewer, draw_id: int) -> int:
    """The consecutive number of a draw the viewer may see (Stichprobe Nr.)."""
    _require(viewer, "draw_sample")
    return samples.sample_number(config(), draw_id)


def fetch(
    fn: Callable[..., pd.DataFrame],
    selection: Selection,
    *,
    prepare: bool = True,
    order_by: tuple[str, ...] = (),
    **kwargs,
) -> pd.DataFrame:
    """Run a domain query for the selection's viewer, cached per database version.

    The result leaves through `dashboard.access.privacy.release`, rows ordered after masking
    by `order_by` or else the order the query declares (`queries.filters.ordered_by`).
    `prepare=False` skips computing all verdicts of the selection's Stichtag first: for a
    one-off query at another date (e.g. a comparison).
    """
    if selection.viewer is None:
        raise PermissionError("a query without a viewer")
    cfg = config()
    filters = restrict(selection.filters, selection.viewer)
    name = f"{fn.__module__}:{fn.__qualname__}"
    # Cached per data scope, not per person: team leaders of the same teams share figures.
    viewer = selection.viewer.in_scope()
    # One version for the whole call: the cache key names the version that computes it.
    served = _served(cfg, viewer)
    # A page passes names as it shows them; the query needs the stored ones.
    key = tuple(sorted(served.scope.real_kwargs(kwargs).items()))
    db_version = (str(cfg.database), served.identity)
    order_by = order_by or getattr(fn, "order_by", ())
    return _cached(
        db_version, viewer, name, selection.as_of, filters, key, prepare, order_by, served
    )


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(
    db_version, viewer: Viewer, name, as_of, filters, kwargs: tuple, prepare, order_by, _served
):
    # db_version and the viewer are in the cache key (no leading underscore: Streamlit
    # would skip them): another database version or role never serves these figures.
    # `_served` is that version itself (not hashed), so the figures come from exactly it.
    module, qualname = name.split(":")
    fn = getattr(importlib.import_module(module), qualname)
    con = _cursor(_served, as_of if prepare else None)
    result = fn(con, as_of, filters, **dict(kwargs))
    return privacy.release(result, _served.scope, order_by=order_by)
