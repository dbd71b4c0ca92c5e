"""The data-access layer of the dashboard: every page gets its figures through `fetch`.

`fetch(fn, selection, **kwargs)` runs a query function of the domain modules
(signature `fn(con, as_of, filters, **kwargs) -> DataFrame`) on the current database
version, on a cursor whose names hold only what the selection's viewer may see
(`dashboard.access.scope`), after `dashboard.access.viewer.restrict` has narrowed the
filters too. There is no other way for a page to reach the data: `connection` and
`records` also take the viewer. Results are cached per database version and data scope.

One in-memory database per database version (and configuration) serves every data scope:
the verdicts of a Stichtag are computed there once, for everyone, and each scope's schema
only narrows them. A load swaps the file; a watcher notices it within `WATCH_SECONDS`, and
the new version is opened, its verdicts computed, the scopes in use installed and the most
used figures computed in the background (`_warm`) while requests are still served from the
old one, which is then switched in.
"""

from __future__ import annotations

import atexit
import collections
import datetime as dt
import importlib
import logging
import os
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
from dashboard.core.config import (
    ENV_CONFIG,
    ENV_DB,
    ENV_KEY_FILE,
    ENV_USERS,
    Config,
    load_config,
)
from dashboard.core.keys import load_or_create_key
from dashboard.core.storage import connect_readonly, file_identity
from dashboard.queries import repeats, samples
from dashboard.queries.filters import Filters

log = logging.getLogger(__name__)

# How long a failed warm-up of a file (e.g. unreadable) waits before the next attempt.
RETRY_SECONDS = 30.0
# How often the watcher looks whether a load swapped the file (a stat per served database).
WATCH_SECONDS = 5.0
# How many of the most requested figures a warm-up computes for the new version.
WARM_FIGURES = 256


@dataclass
class _Version:
    """One database version, shared by every data scope: the connection and its snapshots."""

    identity: tuple[int, int] | None  # the file's (inode, mtime) when it was opened
    con: duckdb.DuckDBPyConnection
    key: bytes = field(repr=False)  # the pseudonym key, for the scopes
    # Stichtage asked for, most recent last: the warm-up of the next version fills these.
    as_ofs: list[dt.date] = field(default_factory=list)
    # One snapshot computation at a time per version; other versions are not held up.
    lock: threading.Lock = field(default_factory=threading.Lock)
    # data scope key -> its installed scope (schema and restriction), with the viewer
    scopes: dict[tuple, tuple[Viewer, scope.Scope]] = field(default_factory=dict)
    scope_lock: threading.Lock = field(default_factory=threading.Lock)
    groups: dict | None = None  # management's merged teams, once per version

    def scoped(self, viewer: Viewer) -> _Scoped:
        """This version as the viewer's data scope sees it (installed on first use)."""
        scope_key = viewer.scope_key()
        installed = self.scopes.get(scope_key)
        if installed is None:
            with self.scope_lock:  # catalog changes one at a time
                installed = self.scopes.get(scope_key)
                if installed is None:
                    installed = self._install(viewer.in_scope())
        return _Scoped(self, installed[1])

    def _install(self, viewer: Viewer) -> tuple[Viewer, scope.Scope]:
        cursor = self.con.cursor()
        try:
            if viewer.role == "management" and self.groups is None:
                self.groups = scope.merged_groups_of(cursor)
            limits = scope.install(cursor, viewer, self.key, groups=self.groups)
        finally:
            cursor.close()
        self.scopes[viewer.scope_key()] = (viewer, limits)
        return viewer, limits


@dataclass(frozen=True)
class _Scoped:
    """One database version as one data scope sees it."""

    version: _Version
    scope: scope.Scope

    @property
    def identity(self) -> tuple[int, int] | None:
        return self.version.identity


_lock = threading.Lock()  # guards the dicts below, never held during a computation
# (database path, configuration) -> the version served to every scope
_connections: dict[tuple, _Version] = {}
# the same keys -> the thread warming the next version; the (identity, retry time) of a failure
_warming: dict[tuple, threading.Thread] = {}
_failed: dict[tuple, tuple] = {}
# the same keys -> how often each figure was asked for (the arguments of `_cached`)
_demand: dict[tuple, collections.Counter] = {}
# Warm-ups run one at a time: on two cores, serving requests matters more than warming.
_warm_turn = threading.Lock()
_watcher: threading.Thread | None = None
_stopping = threading.Event()  # set at exit: no new warm-up starts


@atexit.register
def _finish_warm_ups() -> None:
    # A daemon thread stopped inside DuckDB at interpreter exit aborts the process.
    _stopping.set()
    wait_for_warmup(timeout=120)


@dataclass(frozen=True)
class Selection:
    """What a page shows: reference date, filters and the viewer."""

    as_of: dt.date
    filters: Filters = field(default_factory=Filters)
    viewer: Viewer | None = None  # required by `fetch`: no viewer, no data


def config() -> Config:
    """The configuration the dashboard runs with (file and environment, as for the CLI).

    Read again whenever the environment or the file's modification time changes: asked
    for by every query of every page, parsing and validating it each time cost more than
    a cached figure.
    """
    env = tuple(os.environ.get(name) for name in (ENV_CONFIG, ENV_DB, ENV_KEY_FILE, ENV_USERS))
    try:
        stamp = os.stat(env[0]).st_mtime_ns if env[0] else None
    except OSError:
        stamp = None  # load_config names the missing file
    key = (env, stamp)
    cached = _config_cache.get(key)
    if cached is None:
        cached = load_config()
        _config_cache.clear()  # only the configuration in force is kept
        _config_cache[key] = cached
    return cached


_config_cache: dict[tuple, Config] = {}


def version(
    cfg: Config | None = None, viewer: Viewer | None = None
) -> tuple[str, tuple[int, int] | None]:
    """Identity of the database version: the file's, or with `viewer` the one it is served."""
    cfg = cfg or config()
    if viewer is None:
        return str(cfg.database), file_identity(cfg)
    return str(cfg.database), _served(cfg, viewer).identity


def _open(cfg: Config, identity, as_ofs: list[dt.date], viewers: list[Viewer]) -> _Version:
    # The identity is read before opening: a swap in between makes the next request
    # reopen, never miss it.
    con = connect_readonly(cfg, snapshots=True)
    try:
        opened = _Version(identity, con, load_or_create_key(cfg.storage.key_file), list(as_ofs))
        for as_of in as_ofs:
            rules.fill_snapshot(con, as_of)
        for viewer in viewers:
            opened.scoped(viewer)
    except BaseException:
        con.close()
        raise
    return opened


def _key(cfg: Config) -> tuple:
    # A changed configuration (calendar, deadlines) needs new rules tables: part of the key.
    return str(cfg.database), cfg.model_dump_json()


def _served(cfg: Config, viewer: Viewer) -> _Scoped:
    """The version a request of this scope is served from; starts a warm-up after a load."""
    return _current(cfg).scoped(viewer)


def _current(cfg: Config) -> _Version:
    """The version requests are served from; starts a warm-up after a load.

    A load swaps the file. Opening the new one and computing the verdicts of a Stichtag
    takes seconds at millions of tickets, so that is done by a background thread (`_warm`)
    while requests go on being served from the old version, whose connection still holds
    the old file: consistent old data until the new version is complete, then the new one,
    switched in by replacing one dict entry. Only without an old version (process start, a
    new configuration) does the request itself open the file, as it must.
    """
    key = _key(cfg)
    identity = file_identity(cfg)
    _watch()
    with _lock:
        current = _connections.get(key)
        if current is not None and current.identity == identity and identity is not None:
            return current
        if current is not None and identity is not None:
            _start_warm(key, cfg, identity)
            return current
    # No old version to serve (or no file at all: open reports why): open it here.
    fresh = _open(cfg, identity, [], [])
    with _lock:
        current = _connections.get(key)
        if current is None or current.identity != identity or identity is None:
            # The old connection is dropped, not closed: other sessions may be reading
            # through its cursors; it goes when the last of them does.
            _connections[key] = current = fresh
            _configs[key] = cfg
            if key not in _warming:
                # The rest of what a warm-up prepares, while this request goes on.
                thread = threading.Thread(
                    target=_prepare, args=(key, cfg, fresh), name="prepare", daemon=True
                )
                _warming[key] = thread
                thread.start()
        return current


def _prepare(key: tuple, cfg: Config, opened: _Version) -> None:
    """The default Stichtag's verdicts and the users' scopes of a version opened by a request."""
    try:
        with _warm_turn:
            _fill(opened, cfg.reference_date())
            for viewer in _configured(cfg):
                opened.scoped(viewer)
    except Exception:
        log.exception("preparing %s failed; requests compute what they need", key[0])
    finally:
        with _lock:
            _warming.pop(key, None)


# The roles whose scopes a warm-up installs ahead: those who open the dashboard on a Monday.
WARM_ROLES = ("teamleitung", "controlling", "management")


def _configured(cfg: Config) -> list[Viewer]:
    """One viewer per data scope of the users file's team leaders, controlling and management."""
    try:
        configured = users.load_users(cfg.auth.users_file)
    except users.UsersError:
        return []  # reported where people sign in; a warm-up only skips the scopes
    scopes = {v.scope_key(): v.in_scope() for v in configured.values() if v.role in WARM_ROLES}
    return list(scopes.values())


# the same keys -> the configuration, for the watcher
_configs: dict[tuple, Config] = {}


def _start_warm(key: tuple, cfg: Config, identity) -> None:
    # Called with `_lock` held.
    if not _stopping.is_set() and key not in _warming and not _recently_failed(key, identity):
        thread = threading.Thread(target=_warm, args=(key, cfg), name="warm-up", daemon=True)
        _warming[key] = thread
        thread.start()


def _watch() -> None:
    """Start the watcher once: it warms a new version as soon as a load swapped the file."""
    global _watcher
    with _lock:
        if _watcher is None:
            _watcher = threading.Thread(target=_watch_loop, name="load-watcher", daemon=True)
            _watcher.start()


def _watch_loop() -> None:
    # Without it, the first request after a nightly load would start the warm-up and be
    # served yesterday's figures for seconds; with it, the new version is warm by morning.
    while not _stopping.wait(WATCH_SECONDS):
        with _lock:
            served = [(key, version.identity, _configs[key]) for key, version in
                      _connections.items() if key in _configs]  # fmt: skip
        for key, identity, cfg in served:
            now = file_identity(cfg)
            if now is not None and now != identity:
                with _lock:
                    _start_warm(key, cfg, now)


def _recently_failed(key: tuple, identity) -> bool:
    failed = _failed.get(key)
    return failed is not None and failed[0] == identity and time.monotonic() < failed[1]


def _warm(key: tuple, cfg: Config) -> None:
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
                    viewers = [*_viewers(current), *_configured(cfg)]
                    fresh = _open(cfg, identity, _warm_dates(cfg, current), viewers)
                    _warm_figures(key, cfg, current, fresh)
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


def _warm_dates(cfg: Config, current: _Version) -> list[dt.date]:
    # The Stichtage in use, and the default one, which moves on with "today" overnight.
    dates = [d for d in current.as_ofs if d != cfg.reference_date()] + [cfg.reference_date()]
    return dates[-rules.KEEP_SNAPSHOTS :]


def _viewers(current: _Version) -> list[Viewer]:
    with current.scope_lock:
        return [viewer for viewer, _ in current.scopes.values()]


def _warm_figures(key: tuple, cfg: Config, current: _Version, fresh: _Version) -> None:
    """Compute the most requested figures of the old version on the new one, before the switch.

    A figure asked for at the default Stichtag of its day is computed at today's default.
    """
    with _lock:
        demand = _demand.get(key, collections.Counter()).most_common(WARM_FIGURES)
    db_version = (str(cfg.database), fresh.identity)
    today = cfg.reference_date()
    for (viewer, name, as_of, default, filters, kwargs, prepare, order_by), _ in demand:
        served = fresh.scoped(viewer)
        try:
            _cached(db_version, viewer, name, today if default else as_of, filters, kwargs,
                    prepare, order_by, served)  # fmt: skip
        except Exception:
            # A figure that fails now fails again when asked for; the warm-up goes on.
            log.warning("warm-up of %s failed", name, exc_info=True)


def _remember(key: tuple, call: tuple) -> None:
    with _lock:
        counter = _demand.setdefault(key, collections.Counter())
        counter[call] += 1
        if len(counter) > 8 * WARM_FIGURES:  # bounded: the rarely asked ones are forgotten
            _demand[key] = collections.Counter(dict(counter.most_common(4 * WARM_FIGURES)))


def refresh(viewer: Viewer, cfg: Config | None = None) -> None:
    """Serve the newest database version now, without a warm-up in the background.

    For whoever just loaded data in this process (the upload on the Daten page): they
    waited for the load and expect its result on the next run. The scopes in use switch
    with them; their figures are computed when asked for.
    """
    cfg = cfg or config()
    key = _key(cfg)
    identity = file_identity(cfg)
    with _lock:
        current = _connections.get(key)
    if current is None or identity is None or current.identity == identity:
        return  # nothing served yet (the next request opens the file), or already the newest
    fresh = _open(cfg, identity, list(current.as_ofs), [viewer, *_viewers(current)])
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
    database version, for every scope), so the queries that follow only filter them.
    """
    return _cursor(_served(cfg or config(), viewer), as_of)


def _cursor(served: _Scoped, as_of: dt.date | None, *, prepared: bool = False):
    # prepared: the queries of this cursor ask for `as_of` only (a `fetch`), so they read
    # its snapshot alone; a cursor handed out (`connection`) may be asked for any date.
    if as_of is not None:
        _fill(served.version, as_of)
    usable = prepared and as_of is not None
    return scope.use(served.version.con.cursor(), served.scope.schema, prepared=usable)


def _fill(shared: _Version, as_of: dt.date) -> None:
    """The verdicts of `as_of` in the version's snapshot: computed once, for every scope."""
    with shared.lock:
        rules.fill_snapshot(shared.con, as_of)
        # Remembered for the warm-up of the next version (bounded like the snapshots).
        if as_of in shared.as_ofs:
            shared.as_ofs.remove(as_of)
        shared.as_ofs[:] = [*shared.as_ofs, as_of][-rules.KEEP_SNAPSHOTS :]


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
    one-off query at another date (e.g. a comparison). With `prepare`, `fn` reads the
    verdicts of the selection's Stichtag from its snapshot; asking them for another date
    inside `fn` is an error, never an empty answer.
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
    default = selection.as_of == cfg.reference_date()
    _remember(_key(cfg), (viewer, name, selection.as_of, default, filters, key, prepare, order_by))
    return _cached(
        db_version, viewer, name, selection.as_of, filters, key, prepare, order_by, served
    )


@st.cache_data(show_spinner=False, max_entries=1024)
def _cached(
    db_version, viewer: Viewer, name, as_of, filters, kwargs: tuple, prepare, order_by, _served
):
    # db_version and the viewer are in the cache key (no leading underscore: Streamlit
    # would skip them): another database version or role never serves these figures.
    # `_served` is that version itself (not hashed), so the figures come from exactly it.
    module, qualname = name.split(":")
    fn = getattr(importlib.import_module(module), qualname)
    con = _cursor(_served, as_of if prepare else None, prepared=True)
    result = fn(con, as_of, filters, **dict(kwargs))
    return privacy.release(result, _served.scope, order_by=order_by)
