"""Sign-in: who is at the keyboard, by the configured way (demo, proxy header or OIDC).

`signed_in()` runs at the top of every script run (dashboard/app.py) and returns the
`Viewer` or stops the run with a German message: an unknown or unconfigured person gets
no serving. Demo mode shows a banner and a picker of demo users and refuses any database
not built by `demo-data`. Which way applies is configuration (`auth.mode`), never the URL.
"""

from __future__ import annotations

import streamlit as st

from dashboard import serving
from dashboard.access import signin, users
from dashboard.access.viewer import Viewer
from dashboard.core import format
from dashboard.core.storage import StorageError, connect_readonly, is_demo_database

VIEWER_KEY = "_viewer"
DEMO_KEY = "demo_user"


def signed_in() -> Viewer:
    """The signed-in viewer of this run; stops the run with a message when there is none."""
    cfg = serving.config()
    try:
        configured = _users(cfg.auth.users_file, _mtime(cfg.auth.users_file))
    except users.UsersError as exc:
        _refuse(f"Die Anmeldung ist nicht eingerichtet: {exc}")
    if cfg.auth.mode == "demo":
        viewer = _demo(configured)
    elif cfg.auth.mode == "proxy":
        try:
            login = signin.proxy_login(
                st.context.headers.get_all,
                header=cfg.auth.proxy_header,
                address=st.get_option("server.address"),
                secret_header=cfg.auth.proxy_secret_header,
                secret=signin.read_secret(cfg.auth.proxy_secret_file),
            )
        except signin.SignInRefused as exc:
            _refuse(f"{exc} Bei Fragen wenden Sie sich an {cfg.auth.contact}.")
        viewer = _known(configured, login, cfg.auth.contact)
    else:
        viewer = _known(configured, _oidc_login(cfg.auth.contact), cfg.auth.contact)
    st.session_state[VIEWER_KEY] = viewer
    return viewer


def current() -> Viewer:
    """The viewer `signed_in` found for this run (dashboard/app.py signs in first).

    A page script run on its own (in tests) signs in here instead.
    """
    viewer = st.session_state.get(VIEWER_KEY)
    return viewer if isinstance(viewer, Viewer) else signed_in()


def _mtime(path) -> tuple[int, int] | None:
    # Modification time and mode: a chmod alone must also make the file be read again.
    try:
        info = path.stat() if path is not None else None
    except OSError:
        return None
    return None if info is None else (info.st_mtime_ns, info.st_mode)


@st.cache_data(show_spinner=False, max_entries=4)
def _users(path, mtime) -> dict[str, Viewer]:
    # Read again whenever the file changes (mtime and mode are the key): no restart needed.
    return users.load_users(path)


def _known(configured: dict[str, Viewer], login: str, contact: str) -> Viewer:
    viewer = users.lookup(configured, login)
    if viewer is None:
        _refuse(
            f"Sie sind als „{format.plain(login)}“ angemeldet, haben aber keine Freigabe für das "
            f"Ticket-Controlling. Bitte wenden Sie sich an {contact}."
        )
    return viewer


def _oidc_login(contact: str) -> str:
    if not st.user.get("is_logged_in"):
        st.title("Ticket-Controlling")
        st.info("Bitte melden Sie sich mit Ihrem Dienstkonto an.")
        st.button("Anmelden", on_click=st.login, key="login", type="primary")
        st.stop()
    st.sidebar.button("Abmelden", on_click=st.logout, key="logout")
    try:
        return signin.oidc_login(st.user.to_dict())
    except signin.SignInRefused as exc:
        _refuse(f"{exc} Bei Fragen wenden Sie sich an {contact}.")


@st.cache_data(show_spinner=False, max_entries=8)
def _demo_database(db_version) -> tuple[bool, list[Viewer]]:
    # Once per database version: whether demo-data built it, and its demo users.
    con = connect_readonly(serving.config())
    try:
        return is_demo_database(con), users.demo_users(con)
    finally:
        con.close()


def _demo(configured: dict[str, Viewer]) -> Viewer:
    try:
        is_demo, demo_users = _demo_database(serving.version())
    except StorageError as exc:
        _refuse(str(exc))
    if not is_demo:
        _refuse(
            "Der Demo-Modus startet nur auf einer Datenbank aus `ticket-controlling "
            "demo-data`, in die nie echte Daten geladen wurden. Für echte Daten die "
            "Anmeldung einrichten (auth.mode = „proxy“ oder „oidc“, siehe docs/access.md)."
        )
    choices = list(configured.values()) or demo_users
    st.warning(
        "**Demo-Modus** mit synthetischen Daten: die Anmeldung ist durch eine Auswahl "
        "ersetzt. Nicht für echte Daten.",
        icon=":material/science:",
    )
    by_login = {v.login: v for v in choices}
    if st.session_state.get(DEMO_KEY) not in by_login:
        st.session_state[DEMO_KEY] = choices[0].login
    login = st.sidebar.selectbox(
        "Demo-Benutzer",
        list(by_login),
        format_func=lambda k: by_login[k].label,
        key=DEMO_KEY,
    )
    return by_login[login]


def _refuse(message: str):
    st.session_state.pop(VIEWER_KEY, None)
    st.title("Ticket-Controlling")
    st.error(message, icon=":material/lock:")
    st.stop()
