"""Who may see what: roles, sign-in, the data scope, pseudonyms, downloads and the audit log.

The page tests sign in (OIDC, as AppTest can) as each user of a database whose worker names
carry their team's surname, open every page of the role and every download, and search all
that was rendered or produced for a name the role must not see.
"""

from __future__ import annotations

import datetime as dt
import getpass
import io
import tomllib
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from dashboard import serving, upload
from dashboard.access import scope, users
from dashboard.access.privacy import release
from dashboard.access.viewer import (
    OTHER_TEAMS,
    PSEUDONYM_PREFIX,
    Viewer,
    draw_teams,
    may,
    merged_groups,
    pages_for,
    pseudonym,
    restrict,
    sees_workers,
)
from dashboard.core import records, rules
from dashboard.core.config import PROJECT_ROOT, load_config
from dashboard.core.storage import connect_readonly
from dashboard.queries import repeats
from dashboard.queries.filters import Filters
from dashboard.queries.metrics import ticket_verdicts
from tests.conftest import ACCESS_AS_OF, ACCESS_TEAMS, ACCESS_USERS, access_workers, rendered

TL = Viewer("tl", "TL", "teamleitung", teams=("A", "B"))
MA = Viewer("ma", "MA", "mitarbeitende", worker="Anna Alt")
CONTROLLING = Viewer("c", "C", "controlling")
MANAGEMENT = Viewer("m", "M", "management")
ADMIN = Viewer("a", "A", "admin")
NONE = ("\x00none",)


# ---------------------------------------------------------------------------------------
# Pure rules from case tables


@pytest.mark.parametrize(
    ("viewer", "teams", "workers", "expected_teams", "expected_workers"),
    [
        (TL, (), (), ("A", "B"), ()),  # no choice: the own teams
        (TL, ("B",), (), ("B",), ()),  # narrowing is fine
        (TL, ("C",), (), NONE, ()),  # another team: nothing, never widened
        (TL, ("A", "C"), (), ("A",), ()),
        (MA, (), (), (), ("Anna Alt",)),  # only the own tickets
        (MA, (), ("Bert Bach",), (), ("Anna Alt",)),  # a URL cannot choose another person
        (CONTROLLING, ("C",), (), ("C",), ()),  # all teams
        (MANAGEMENT, (), ("Anna Alt",), (), ()),  # no person filter at all
        (ADMIN, ("A",), (), ("A",), ()),
    ],
)
def test_restrict_narrows_and_never_widens(
    viewer, teams, workers, expected_teams, expected_workers
):
    got = restrict(Filters(teams=teams, workers=workers), viewer)
    assert (got.teams, got.workers) == (expected_teams, expected_workers)


@pytest.mark.parametrize(
    ("role", "pages", "actions", "workers"),
    [
        (
            "teamleitung",
            9,
            {"draw_sample", "check_sample", "record_conversation", "absence_warnings"},
            True,
        ),
        ("controlling", 9, {"draw_sample", "check_sample", "absence_warnings"}, True),
        ("management", 3, set(), False),
        ("mitarbeitende", 5, set(), True),
        ("admin", 1, {"upload", "read_audit"}, False),
    ],
)
def test_what_each_role_may(role, pages, actions, workers):
    viewer = Viewer("x", "X", role, teams=("A",), worker="W")
    assert len(pages_for(viewer)) == pages
    every = {"draw_sample", "check_sample", "record_conversation", "upload", "read_audit",
             "absence_warnings"}  # fmt: skip
    assert {a for a in every if may(viewer, a)} == actions
    assert sees_workers(viewer) is workers
    assert ("daten" in pages_for(viewer)) is (role == "admin")
    # single tickets and their findings: not for management (aggregates only)
    assert ("regelverstoesse" in pages_for(viewer)) is (role not in ("management", "admin"))
    assert ("mitarbeitende" in pages_for(viewer)) is (role not in ("management", "admin"))


@pytest.mark.parametrize(
    ("viewer", "chosen", "expected"),
    [
        (TL, (), ("A", "B")),  # a team leader's empty choice: their own teams, recorded
        (TL, ("B",), ("B",)),
        (CONTROLLING, (), ()),  # everyone else: every Integration team
        (CONTROLLING, ("C",), ("C",)),
    ],
)
def test_teams_a_sample_draw_records(viewer, chosen, expected):
    assert draw_teams(chosen, ("A", "B"), viewer) == expected


def test_people_with_the_same_scope_share_it_and_others_do_not():
    other_tl = Viewer("tl2", "Zweite TL", "teamleitung", teams=("B", "A"))
    assert other_tl.in_scope() == TL.in_scope()
    assert Viewer("tl3", "Dritte", "teamleitung", teams=("A",)).in_scope() != TL.in_scope()
    assert CONTROLLING.in_scope() == Viewer("c2", "C2", "controlling").in_scope()
    assert MA.in_scope() != Viewer("mb", "MB", "mitarbeitende", worker="Bert Bach").in_scope()


def _team(n: int, tag: str) -> set[str]:
    return {f"{tag}{i}" for i in range(n)}


@pytest.mark.parametrize(
    ("sizes", "merged"),
    [
        ({"A": 5, "B": 9}, set()),  # nobody below 5
        ({"A": 4, "B": 9, "C": 6}, {"A", "C"}),  # 4 alone is too small: next smallest joins
        ({"A": 2, "B": 3, "C": 9}, {"A", "B"}),  # 2 + 3 = 5 distinct workers
        ({"A": 1}, {"A"}),  # all of a Bereich is small: one group, the Bereich's total
        ({"A": 4, "B": 4}, {"A", "B"}),
    ],
)
def test_small_teams_are_merged_for_management(sizes, merged):
    groups = merged_groups({("L", t): _team(n, t) for t, n in sizes.items()})
    assert {t for (_, t) in groups} == merged
    assert set(groups.values()) <= {OTHER_TEAMS}
    if merged:
        assert len(set().union(*(_team(sizes[t], t) for t in merged))) >= min(
            5, sum(sizes.values())
        )


def test_a_person_in_two_small_teams_counts_once():
    shared = {"x", "y", "z"}
    groups = merged_groups(
        {("L", "A"): shared, ("L", "B"): shared | {"w"}, ("L", "C"): _team(7, "c")}
    )
    # A and B together have 4 distinct workers: C must join them
    assert set(t for (_, t) in groups) == {"A", "B", "C"}


def test_pseudonyms_are_stable_keyed_and_distinct():
    key, other = b"k" * 32, b"o" * 32
    names = [f"Person {i}" for i in range(2000)]
    shown = [pseudonym(n, key) for n in names]
    assert len(set(shown)) == len(names)
    assert shown == [pseudonym(n, key) for n in names]  # the same every time
    assert all(s.startswith(PSEUDONYM_PREFIX) and len(s) == 11 for s in shown)
    assert pseudonym("Person 1", other) != pseudonym("Person 1", key)  # keyed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[user]]\nlogin = "a"\nrole = "chef"\n', "user[0]"),
        ('[[user]]\nlogin = "a"\nrole = "teamleitung"\n', "mindestens ein Team"),
        ('[[user]]\nlogin = "a"\nrole = "mitarbeitende"\n', "Namen wie im Export"),
        ('[[user]]\nlogin = "a"\nrole = "admin"\n[[user]]\nlogin = "A"\nrole = "admin"\n',
         "zweimal"),
        ('[[user]]\nlogin = "a"\nrole = "admin"\npasswort = "x"\n', "user[0]"),
        ("[[user]\n", "kein gültiges TOML"),
        # subscriptions to the monthly report by e-mail
        ('[[user]]\nlogin = "a@jc.example"\nrole = "mitarbeitende"\nworker = "A"\n'
         "[user.report]\n", "bekommt keinen Monatsbericht"),
        ('[[user]]\nlogin = "a"\nrole = "management"\n[user.report]\n', "keine E-Mail-Adresse"),
        ('[[user]]\nlogin = "a"\nrole = "management"\n[user.report]\nemail = "a@b"\n',
         "keine E-Mail-Adresse"),
        ('[[user]]\nlogin = "a@jc.example"\nrole = "teamleitung"\nteams = ["L1"]\n'
         '[user.report]\nteams = ["L2"]\n', "nur eigene Teams"),
        ('[[user]]\nlogin = "a@jc.example"\nrole = "management"\n[user.report]\n'
         'areas = ["Sonstiges"]\n', "user[0]"),
    ],
)  # fmt: skip
def test_a_bad_users_file_is_refused_with_a_reason(tmp_path, text, message):
    path = tmp_path / "users.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(users.UsersError, match=message.replace("[", r"\[")):
        users.load_users(path)


def test_subscriptions_with_their_address_and_selection(tmp_path):
    path = tmp_path / "users.toml"
    path.write_text(
        '[[user]]\nlogin = "GF@jc.example"\nname = "Gerda"\nrole = "management"\n'
        '[user.report]\nareas = ["Leistung"]\n'
        '[[user]]\nlogin = "tl"\nrole = "teamleitung"\nteams = ["L1", "L2"]\n'
        '[user.report]\nemail = "tl@jc.example"\nteams = ["L2"]\n'
        '[[user]]\nlogin = "c@jc.example"\nrole = "controlling"\n',
        encoding="utf-8",
    )
    subs = users.subscriptions(path)
    assert [(s.viewer.login, s.email, s.filters.areas, s.filters.teams) for s in subs] == [
        ("gf@jc.example", "gf@jc.example", ("Leistung",), ()),  # the login, lower case
        ("tl", "tl@jc.example", (), ("L2",)),
    ]
    assert subs[1].viewer.teams == ("L1", "L2")  # the scope stays the user's
    assert len(users.load_users(path)) == 3


def test_logins_match_case_insensitively_and_unknown_is_none(tmp_path):
    path = tmp_path / "users.toml"
    path.write_text(
        '[[user]]\nlogin = "A.Schmidt@JC.example"\nname = "Anna Schmidt"\n'
        'role = "teamleitung"\nteams = ["L1", "L2"]\n',
        encoding="utf-8",
    )
    configured = users.load_users(path)
    viewer = users.lookup(configured, " a.schmidt@jc.EXAMPLE ")
    assert viewer == Viewer("a.schmidt@jc.example", "Anna Schmidt", "teamleitung", ("L1", "L2"))
    assert users.lookup(configured, "b.other@jc.example") is None
    assert users.lookup(configured, "") is None
    with pytest.raises(users.UsersError, match="fehlt"):
        users.load_users(tmp_path / "missing.toml")


# ---------------------------------------------------------------------------------------
# The data scope on a real database


@pytest.fixture
def access_env(access_db: Path, monkeypatch):
    monkeypatch.setenv("TICKET_CONTROLLING_CONFIG", str(access_db))
    for name in (
        "TICKET_CONTROLLING_DB",
        "TICKET_CONTROLLING_KEY_FILE",
        "TICKET_CONTROLLING_USERS",
    ):
        monkeypatch.delenv(name, raising=False)
    cfg = load_config(access_db, environ={})
    # each test starts with an empty records database
    for path in (cfg.app_database, Path(f"{cfg.app_database}.wal")):
        path.unlink(missing_ok=True)
    records._schema_ready.discard(str(cfg.app_database))
    return cfg


def _viewer(login: str) -> Viewer:
    user = next(u for u in ACCESS_USERS if u["login"] == login)
    return Viewer(
        login, user["name"], user["role"], tuple(user.get("teams", ())), user.get("worker")
    )


def _scoped_tickets(cfg, viewer: Viewer) -> pd.DataFrame:
    con = connect_readonly(cfg)
    try:
        scope.install(con, viewer, b"k" * 32)
        return con.execute("SELECT area, team, worker FROM tickets").df()
    finally:
        con.close()


def test_views_hold_only_the_rows_of_the_role(access_env):
    workers = access_workers()
    tl = _scoped_tickets(access_env, _viewer("tl.nord@jc.example"))
    assert set(tl["team"]) == {"Leistung Nord"} and set(tl["worker"]) == set(
        workers["Leistung Nord"]
    )
    own = _scoped_tickets(access_env, _viewer("anja@jc.example"))
    assert set(own["worker"]) == {"Nordberg Anja"} and len(own) > 0
    everyone = _scoped_tickets(access_env, _viewer("controlling@jc.example"))
    assert set(everyone["team"]) == {t for (_, t) in ACCESS_TEAMS}
    management = _scoped_tickets(access_env, _viewer("management@jc.example"))
    assert set(management["worker"]) == {"–"}
    # Ost (3 workers) is merged with West (6) into one group of 9; Leistung stays per team
    assert set(management["team"]) == {"Leistung Nord", "Leistung Sued", OTHER_TEAMS}
    assert len(management) == len(everyone)  # totals unchanged: merged, not dropped


LOGINS = [u["login"] for u in ACCESS_USERS]


def _rows(cursor, sql: str, *params) -> set[tuple]:
    return set(cursor.execute(sql, list(params)).fetchall())


@pytest.mark.parametrize("login", LOGINS)
def test_shared_verdicts_are_narrowed_to_exactly_the_scope(access_env, login):
    """One database holds everyone's verdicts once; a scope's names hold its rows, no more.

    Beside the scope under test, every other role's scope is installed in the same
    database; the verdicts and summaries it reads must equal those computed from its own
    tickets alone, on a connection of its own (as before the verdicts were shared).
    """
    key = b"k" * 32
    viewer = _viewer(login)
    shared = connect_readonly(access_env, snapshots=True)
    own = connect_readonly(access_env)
    try:
        rules.fill_snapshot(shared, ACCESS_AS_OF)
        for other in LOGINS:
            scope.install(shared.cursor(), _viewer(other), key)
        cursor = shared.cursor()
        scope.use(cursor, scope.schema_name(viewer))
        scope.install(own, viewer, key)
        # computed once: every ticket once in the snapshot, whichever scopes read it
        [(snapshot,)] = shared.execute("SELECT count(*) FROM verdict_snapshots").fetchall()
        [(received,)] = shared.execute(
            "SELECT count(*) FROM store.tickets WHERE received <= ?", [ACCESS_AS_OF]
        ).fetchall()
        assert snapshot == received
        people = _rows(own, "SELECT area, team, worker FROM tickets")
        for macro in scope.NARROWED_MACROS:
            sql = f"SELECT * FROM {macro}(?::DATE) ORDER BY ALL"
            narrowed = cursor.execute(sql, [ACCESS_AS_OF]).df()
            alone = own.execute(sql, [ACCESS_AS_OF]).df()
            if macro != "verdicts":  # summaries: management's merged teams sum up
                key_columns = [c for c in alone.columns if c not in ("tickets", "d_open", "d_past")]
                narrowed = narrowed.groupby(key_columns, dropna=False).sum().reset_index()
                alone = alone.groupby(key_columns, dropna=False).sum().reset_index()
            pd.testing.assert_frame_equal(narrowed, alone, check_dtype=False)
            seen = _rows(cursor, f"SELECT area, team, worker FROM {macro}(?::DATE)", ACCESS_AS_OF)
            assert seen <= people, (macro, seen - people)
        assert _rows(cursor, "SELECT * FROM tickets") == _rows(own, "SELECT * FROM tickets")
        assert _rows(cursor, "SELECT * FROM absences") == _rows(own, "SELECT * FROM absences")
        assert _rows(cursor, "SELECT * FROM rejects") == _rows(own, "SELECT * FROM rejects")
    finally:
        shared.close()
        own.close()


def test_scopes_of_one_database_do_not_see_each_other(access_env):
    key = b"k" * 32
    shared = connect_readonly(access_env, snapshots=True)
    try:
        rules.fill_snapshot(shared, ACCESS_AS_OF)
        nord = shared.cursor()
        scope.install(nord, _viewer("tl.nord@jc.example"), key)
        west = shared.cursor()
        scope.install(west, _viewer("tl.west@jc.example"), key)
        management = shared.cursor()
        scope.install(management, _viewer("management@jc.example"), key)
        sql = "SELECT DISTINCT team FROM verdicts(?::DATE)"
        assert _rows(nord, sql, ACCESS_AS_OF) == {("Leistung Nord",)}
        assert _rows(west, sql, ACCESS_AS_OF) == {("Integration West",)}
        assert _rows(management, sql, ACCESS_AS_OF) == {
            ("Leistung Nord",),
            ("Leistung Sued",),
            (OTHER_TEAMS,),
        }
        assert _rows(management, "SELECT DISTINCT worker FROM verdict_counts(?::DATE)",
                     ACCESS_AS_OF) == {("–",)}  # fmt: skip
        # the first cursor still sees its own scope after the others were installed
        assert _rows(nord, sql, ACCESS_AS_OF) == {("Leistung Nord",)}
        # a cursor without a scope sees everything: serving never hands one out
        assert len(_rows(shared, sql, ACCESS_AS_OF)) == len(ACCESS_TEAMS)
    finally:
        shared.close()


def test_management_rates_per_bereich_equal_the_unrestricted_ones(access_env):
    from dashboard.queries import metrics

    full = connect_readonly(access_env)
    limited = connect_readonly(access_env)
    try:
        scope.install(limited, _viewer("management@jc.example"), b"k" * 32)
        as_of = dt.date(2026, 11, 27)
        expected = metrics.rates(full, as_of, by=("area",))
        assert metrics.rates(limited, as_of, by=("area",)).equals(expected)
    finally:
        full.close()
        limited.close()


def test_records_frames_are_limited_and_pseudonymised(access_env):
    key = b"k" * 32
    frame = pd.DataFrame(
        {"worker": ["Nordberg Anja", "Suedfeld Anja"], "team": ["Leistung Nord", "Leistung Sued"]}
    )
    con = connect_readonly(access_env)
    try:
        tl = scope.install(con, _viewer("tl.nord@jc.example"), key)
        controlling = scope.install(con, _viewer("controlling@jc.example"), key)
    finally:
        con.close()
    assert release(tl.rows(frame), tl)["worker"].tolist() == ["Nordberg Anja"]
    shown = release(controlling.rows(frame), controlling)["worker"].tolist()
    assert shown == [pseudonym("Nordberg Anja", key), pseudonym("Suedfeld Anja", key)]
    # released twice, a pseudonym stays itself: nothing is pseudonymised twice
    twice = release(release(controlling.rows(frame), controlling), controlling)
    assert twice["worker"].tolist() == shown
    # a pseudonym a page passes back is turned into the stored name for the query
    assert controlling.real_kwargs({"worker": shown[1], "month": 3}) == {
        "worker": "Suedfeld Anja",
        "month": 3,
    }


# ---------------------------------------------------------------------------------------
# Every page and every download, per role

PAGE_FILES = {p.stem for p in (PROJECT_ROOT / "pages").glob("*.py")}


def _file_text(content: bytes) -> str:
    if content.startswith(b"PK"):  # XLSX: every part of the workbook
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            return "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    if content.startswith(b"%PDF"):
        return ""  # the PDF is drawn from the same Report as the XLSX, checked there
    return content.decode("utf-8-sig")


@pytest.fixture
def downloads(monkeypatch) -> list:
    """Every download a page offers: (file name, the function Streamlit calls on click)."""
    offered: list = []
    original = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        offered.append((file_name, data_callable))
        return original(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return offered


def _signed_in(login: str | None) -> AppTest:
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=90)
    at.user = (
        {"is_logged_in": True, "email": login, "email_verified": True}
        if login
        else {"is_logged_in": False}
    )
    return at


def _forbidden(login: str) -> list[str]:
    """Names (and team names) the user must never see."""
    workers = access_workers()
    every = [w for names in workers.values() for w in names]
    viewer = _viewer(login)
    if viewer.role == "teamleitung":
        return [w for t, names in workers.items() if t not in viewer.teams for w in names]
    if viewer.role == "mitarbeitende":
        return [w for w in every if w != viewer.worker]
    if viewer.role == "management":
        return [*every, "Integration Ost", "Integration West", PSEUDONYM_PREFIX]
    if viewer.role == "controlling":
        return every
    if viewer.role == "kontrolle":  # no ticket data; the users file names one worker
        named = {u.get("worker") for u in ACCESS_USERS}
        return [w for w in every if w not in named] + ["Leistung Sued", "Integration Ost"]
    return []


def _visit_all(at: AppTest, login: str, offered: list) -> dict[str, str]:
    """Open every page of the user's role and every download; page -> all text seen."""
    seen = {}
    for page in pages_for(_viewer(login)):
        offered.clear()
        at.switch_page(f"../pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])
        text = rendered(at)
        for file_name, make in offered:
            text += f"\n--- {file_name}\n" + _file_text(make())
        seen[page] = text
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("login", [u["login"] for u in ACCESS_USERS])
def test_every_page_and_download_shows_only_the_role_s_scope(access_env, downloads, login):
    at = _signed_in(login).run()
    assert not at.exception
    seen = _visit_all(at, login, downloads)
    assert set(seen) == set(pages_for(_viewer(login)))
    for page, text in seen.items():
        leaked = [name for name in _forbidden(login) if name in text]
        assert not leaked, (login, page, leaked[:5])
    viewer = _viewer(login)
    everything = "\n".join(seen.values())
    if viewer.role == "teamleitung":
        assert any(w in everything for w in access_workers()[viewer.teams[0]])
    if viewer.role == "controlling":
        assert PSEUDONYM_PREFIX in everything  # names are there, as pseudonyms
    if viewer.role == "mitarbeitende":
        assert viewer.worker in everything


def test_pages_outside_the_role_cannot_be_opened(access_env):
    for login in ("management@jc.example", "admin@jc.example", "anja@jc.example"):
        viewer = _viewer(login)
        for page in sorted(PAGE_FILES - set(pages_for(viewer))):
            at = _signed_in(login)
            at.switch_page(f"../pages/{page}.py").run()
            assert not at.exception
            # navigation runs the role's default page instead of the requested one
            titles = [t.value for t in at.title]
            assert titles and all(page.capitalize() not in t for t in titles[1:]), titles
            assert not any(w in rendered(at) for w in _forbidden(login) if " " in w)


def test_url_parameters_cannot_widen_the_view(access_env):
    at = _signed_in("tl.nord@jc.example")
    at.query_params.update({"teams": "Leistung Sued|Integration West", "bereich": "Alle"})
    at.switch_page("../pages/mitarbeitende.py").run()
    assert not at.exception
    assert at.multiselect(key="f_teams").options == ["Leistung Nord"]
    assert not any(w in rendered(at) for w in _forbidden("tl.nord@jc.example"))
    # a ticket of another team by its ID: as if it did not exist
    other = at.switch_page("../pages/ticket.py")
    other.query_params["id"] = "ISu-Anja-060"
    other.run()
    assert any("Kein Ticket" in w.value for w in other.warning)
    own = _signed_in("anja@jc.example")
    own.query_params["id"] = "LNo-Bernd-060"  # a colleague's ticket
    own.switch_page("../pages/ticket.py").run()
    assert any("Kein Ticket" in w.value for w in own.warning)
    own = _signed_in("anja@jc.example")
    own.query_params["id"] = "LNo-Anja-060"
    own.switch_page("../pages/ticket.py").run()
    assert not [w for w in own.warning if "Kein Ticket" in w.value]
    assert "Nordberg Anja" in rendered(own)


@pytest.mark.parametrize(
    ("user", "message"),
    [
        (
            {"is_logged_in": True, "email": "stranger@jc.example", "email_verified": True},
            "keine Freigabe",
        ),
        # an unverified address is not believed, even one the users file knows
        ({"is_logged_in": True, "email": "admin@jc.example"}, "weder eine bestätigte"),
        ({"is_logged_in": False}, "Bitte melden Sie sich"),
    ],
)
def test_an_unknown_or_signed_out_person_gets_no_data(access_env, user, message):
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60)
    at.user = user
    at.run()
    assert not at.exception
    text = rendered(at)
    assert message in text
    assert "Teamleitung Controlling" in text or "Anmelden" in text  # whom to ask / how
    assert not any(w in text for names in access_workers().values() for w in names)
    assert not at.sidebar.multiselect  # no filters, no figures


def test_demo_mode_refuses_a_database_not_built_by_demo_data(access_db, tmp_path, monkeypatch):
    text = access_db.read_text(encoding="utf-8").replace('mode = "oidc"', 'mode = "demo"')
    config = access_db.parent / "demo-config.toml"
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TICKET_CONTROLLING_CONFIG", str(config))
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60).run()
    assert not at.exception
    assert "Demo-Modus startet nur" in at.error[0].value
    assert not any(w in rendered(at) for names in access_workers().values() for w in names)


def test_demo_mode_banners_and_offers_a_user_per_role(app_env):
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60).run()
    assert not at.exception
    assert "Demo-Modus" in at.warning[0].value
    options = at.sidebar.selectbox(key="demo_user").options
    for role in ("Teamleitung", "Controlling", "Management", "Mitarbeitende", "Administration"):
        assert any(f"({role})" in o for o in options), role
    at.sidebar.selectbox(key="demo_user").set_value("demo-management").run()
    assert at.title[0].value == "Übersicht" and not at.exception


# ---------------------------------------------------------------------------------------
# The audit log


def _audit(cfg) -> list[tuple[str, str]]:
    frame = records.audit_entries(cfg)
    return list(zip(frame["who"], frame["action"], strict=True))[::-1]


def test_views_and_downloads_are_on_record(access_env, downloads):
    at = _signed_in("tl.nord@jc.example").run()
    at.switch_page("../pages/mitarbeitende.py").run()
    at.run()  # the same view again: recorded once per session and selection
    who = "Tom Lehmann (tl.nord@jc.example)"
    assert _audit(access_env) == [(who, "Ansicht")]
    detail = records.audit_entries(access_env)["detail"][0]
    assert "Mitarbeitende" in detail and "Leistung Nord" in detail
    [(name, make), *_] = downloads
    make()
    assert _audit(access_env)[-1] == (who, "Download")
    # the file and the selection it was made from (Stichtag, period)
    detail = records.audit_entries(access_env)["detail"][0]
    assert detail.startswith(f"{name}: Stichtag 27.11.2026") and "Zeitraum" in detail


def test_samples_conversations_and_loads_are_on_record(access_env, tmp_path):
    at = _signed_in("tl.west@jc.example").run()
    at.switch_page("../pages/stichproben.py").run()
    at.button(key="sp_ziehen").click().run()
    assert not at.exception
    # a result typed into the sample's table, saved
    at.session_state[f"sp_editor_{at.selectbox(key='sp_ziehung').value}_0"] = {
        "edited_rows": {"0": {"Ergebnis": "bestätigt"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key="sp_speichern").click().run()
    actions = [a for _, a in _audit(access_env)]
    assert {"Stichprobe gezogen", "Stichprobe geprüft"} <= set(actions)
    # repeat cases (A10) are a Leistung matter: the Leistung team's TL records one
    at = _signed_in("tl.nord@jc.example").run()
    at.switch_page("../pages/wiederholungen.py").run()
    at.checkbox(key="rep_last12").check().run()  # some month of the year has a case
    at.date_input(key="rep_held_on").set_value(dt.date(2026, 11, 20))
    at.button(key="rep_save").click().run()
    assert not at.exception
    assert repeats.AUDIT_ACTION in {a for _, a in _audit(access_env)}
    # a load from the command line is on record with the operating-system user
    from dashboard.cli import main

    export = tmp_path / "maerz.csv"
    export.write_text(
        "Ticket-ID;Bereich;Team;Bearbeiter;Eingang\nX1;Leistung;L1;Nomen Nescio;02.03.2026\n",
        encoding="utf-8",
    )
    other = tmp_path / "config.toml"
    other.write_text(
        f'[storage]\ndatabase = "{tmp_path / "t.duckdb"}"\nkey_file = "{tmp_path / "key"}"\n'
        f'app_database = "{access_env.app_database}"\n',
        encoding="utf-8",
    )
    assert main(["load", str(export), "--config", str(other)]) == 0
    who, action = _audit(access_env)[-1]
    assert action == "Ladevorgang" and who == getpass.getuser()


def test_only_the_administration_reads_the_audit_log(access_env):
    records.log(access_env, "someone", "Ansicht", "Mitarbeitende")
    admin = _signed_in("admin@jc.example").run()
    assert "Zugriffsprotokoll" in [t.label for t in admin.tabs]
    shown = [d.value for d in admin.dataframe if "Aktion" in d.value.columns]
    assert shown and "someone" in shown[0]["Wer"].tolist()
    for login in ("tl.nord@jc.example", "controlling@jc.example", "management@jc.example"):
        at = _signed_in(login).run()
        assert "daten" not in pages_for(_viewer(login))
        assert "Zugriffsprotokoll" not in [t.label for t in at.tabs]


def test_records_offer_no_way_to_change_or_delete_an_entry():
    # append-only by construction: the module has no update or delete of any record; only
    # the retention purge (dashboard.core.retention) deletes, by age
    source = Path(records.__file__).read_text(encoding="utf-8").upper()
    assert "UPDATE " not in source and "DELETE " not in source


# ---------------------------------------------------------------------------------------
# Uploads and security settings


def test_only_the_administration_may_upload(access_env):
    from dashboard import upload

    csv = b"Ticket-ID;Bereich;Team;Bearbeiter;Eingang\nX1;Leistung;Leistung Nord;N;02.03.2026\n"
    for login in ("tl.nord@jc.example", "controlling@jc.example", "management@jc.example"):
        with pytest.raises(upload.UploadFailed, match="Nur die Administration"):
            upload.load_uploads(access_env, [("x.csv", csv)], who=_viewer(login))


def test_streamlit_runs_with_xsrf_protection_and_without_error_details():
    settings = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["enableXsrfProtection"] is True
    assert settings["server"]["enableCORS"] is True
    assert settings["client"]["showErrorDetails"] == "none"
    assert settings["server"]["maxUploadSize"] == upload.MAX_UPLOAD_MB == 50


def test_no_database_key_or_secret_is_in_the_repository():
    import subprocess

    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked, "not a git checkout"
    bad = [
        f
        for f in tracked
        if f.endswith((".duckdb", ".key", ".wal")) or Path(f).name in ("secrets.toml", "users.toml")
    ]
    assert not bad


def test_the_data_layer_refuses_a_query_without_a_viewer(access_env):
    from dashboard.queries import metrics

    with pytest.raises(PermissionError):
        serving.fetch(metrics.dimensions, serving.Selection(dt.date(2026, 11, 27)))


def test_management_report_has_no_sheet_per_person_or_ticket(access_env):
    from openpyxl import load_workbook

    from dashboard import report

    viewer = _viewer("management@jc.example")
    con = serving.connection(viewer, dt.date(2026, 11, 27))
    built = report.build(
        con, access_env, dt.date(2026, 10, 1), dt.date(2026, 11, 27), Filters(), viewer,
        serving.data_scope(viewer),
    )  # fmt: skip
    content = report.file_bytes(built, ".xlsx", dt.datetime(2026, 11, 27, 8, 0))
    sheets = load_workbook(io.BytesIO(content)).sheetnames
    assert "Übersicht" in sheets and "Teams" in sheets
    assert not {
        "Mitarbeitende",
        "Fristverstöße",
        "Verlängerte Tickets",
        "Wiederholungsfälle",
    } & set(sheets)
    assert set(built.teams["team"]) <= {"Leistung Nord", "Leistung Sued", OTHER_TEAMS}
    # the PDF is drawn from the same report without the repeat cases line
    assert report.file_bytes(built, ".pdf", dt.datetime(2026, 11, 27, 8, 0)).startswith(b"%PDF")


def test_the_staff_council_reads_the_log_and_the_rights_but_no_ticket(access_env):
    records.log(access_env, "Tom Lehmann (tl.nord@jc.example)", "Ansicht", "Mitarbeitende")
    at = _signed_in("pr@jc.example").run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Zugriffsprotokoll"
    log = next(d.value for d in at.dataframe if "Aktion" in d.value.columns)
    assert log["Wer"].tolist() == ["Tom Lehmann (tl.nord@jc.example)"]
    assert any("Prüfkette in Ordnung" in s.value for s in at.success)
    rights = next(d.value for d in at.dataframe if "Rolle" in d.value.columns)
    assert set(rights["Anmeldung"]) == {u["login"] for u in ACCESS_USERS}
    assert "Controlling" in set(rights["Rolle"])
    # no ticket reaches this role, whatever query it would run
    viewer = _viewer("pr@jc.example")
    assert pages_for(viewer) == ("protokoll",)
    assert not may(viewer, "upload") and may(viewer, "read_audit")
    assert _scoped_tickets(access_env, viewer).empty


def test_a_worker_sees_what_is_recorded_about_them_and_nobody_else(access_env):
    worker, other = "Nordberg Anja", "Nordberg Bernd"
    for name in (worker, other):
        repeats.record_conversation(
            access_env, name, dt.date(2026, 10, 1), dt.date(2026, 11, 5), "TL"
        )
    at = _signed_in("anja@jc.example").run()
    at.switch_page("../pages/mitarbeitende.py").run()
    assert not at.exception and not at.error
    talks = next(d.value for d in at.dataframe if "Gespräch am" in d.value.columns)
    assert talks["Gespräch am"].tolist() == [pd.Timestamp("2026-11-05")]  # hers only
    # her repeat cases: months of the last 12 with at least 2 breaches, counted here by hand
    con = connect_readonly(access_env)
    try:
        verdicts = ticket_verdicts(con, ACCESS_AS_OF)
    finally:
        con.close()
    mine = verdicts[(verdicts["worker"] == worker)
                    & verdicts["status"].isin(["late", "extended_missed", "overdue"])]  # fmt: skip
    per_month = mine.groupby(pd.to_datetime(mine["due_date"]).dt.to_period("M")).size()
    expected = sorted(str(m) for m, n in per_month.items() if n >= 2)
    cases = next(d.value for d in at.dataframe if "Fristüberschreitungen" in d.value.columns)
    assert expected  # the data has some (else this test would prove nothing)
    assert sorted(pd.to_datetime(cases["Monat"]).dt.strftime("%Y-%m")) == expected
    assert other not in rendered(at)
