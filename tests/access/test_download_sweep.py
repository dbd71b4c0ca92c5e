"""Every download of every role, searched: a crafted export whose team and worker names are
spreadsheet formulas goes through the real ETL; each role opens every page it may and clicks
every download; no file holds a live formula, a name the role may not see, or a team
outside its scope."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access.viewer import PSEUDONYM_PREFIX, Viewer, pages_for
from dashboard.core.config import load_config
from etl.load import load_files
from etl.sources import csv_text
from tests.access.test_access import downloads  # noqa: F401  (the fixture)
from tests.conftest import HEADER, ticket_row, users_file

AS_OF = dt.date(2026, 11, 27)
FORMULA_TEAM = "@Team Formel"
QUIET_TEAM = "Leistung Ruhig"
SAMPLE_TEAM = "=Integration Formel"
WORKERS = {
    FORMULA_TEAM: ["=Formel Eins", "+Formel Zwei", "-Formel Drei", "@Formel Vier",
                   '=HYPERLINK("https://evil.example/?x","Klick") Fünf', "\tFormel Sechs"],
    QUIET_TEAM: [f"Ruhig {n}" for n in ("Anna", "Bert", "Cem", "Dora", "Emil", "Frieda")],
    SAMPLE_TEAM: [f"=Probe {n}" for n in ("Ida", "Jan", "Kai", "Lea", "Max", "Nils")],
}  # fmt: skip
AREAS = {FORMULA_TEAM: "Leistung", QUIET_TEAM: "Leistung", SAMPLE_TEAM: "Integration"}
USERS = (
    {"login": "tl@jc.example", "name": "Tara Leit", "role": "teamleitung",
     "teams": [FORMULA_TEAM, SAMPLE_TEAM]},
    {"login": "c@jc.example", "name": "Cora Contr", "role": "controlling"},
    {"login": "m@jc.example", "name": "Mark Mgmt", "role": "management"},
    {"login": "w@jc.example", "name": "Formel Eins", "role": "mitarbeitende",
     "worker": "=Formel Eins"},
    {"login": "a@jc.example", "name": "Ada Admin", "role": "admin"},
)  # fmt: skip
EVERY_NAME = [w for names in WORKERS.values() for w in names]


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    users_file(tmp, *USERS)
    path = tmp / "config.toml"
    path.write_text(
        f"[rules]\nreference_date = {AS_OF.isoformat()}\n"
        '[storage]\ndatabase = "db/tickets.duckdb"\nkey_file = "secret/key"\n'
        '[auth]\nmode = "oidc"\nusers_file = "users.toml"\n',
        encoding="utf-8",
    )
    config = load_config(path, environ={})
    rows, n = [], 0
    for team, names in WORKERS.items():
        for worker in names:
            for day in (1, 8, 15, 22):
                for month in (10, 11):
                    n += 1
                    received = dt.date(2026, month, day)
                    late = n % 3 == 0
                    done = received + dt.timedelta(days=12 if late else 1)
                    rows.append(ticket_row(**{
                        "Ticket-ID": f"=T{n}", "Bereich": AREAS[team], "Team": team,
                        "Bearbeiter": worker, "Eingang": received.strftime("%d.%m.%Y"),
                        "Erledigt": "" if done > AS_OF else done.strftime("%d.%m.%Y"),
                    }))  # fmt: skip
    export = tmp / "tickets.csv"
    export.write_bytes(csv_text([HEADER] + [[r.get(h, "") for h in HEADER] for r in rows]).encode())
    load_files(config, [export], [])
    return path


@pytest.fixture
def crafted_env(crafted, monkeypatch):
    monkeypatch.setenv("TICKET_CONTROLLING_CONFIG", str(crafted))
    for name in ("TICKET_CONTROLLING_DB", "TICKET_CONTROLLING_KEY_FILE",
                 "TICKET_CONTROLLING_USERS"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return crafted


NUMBER = re.compile(r"-?\d+([.,]\d+)?( ?%)?")


def _live_formulas(content: bytes) -> list[str]:
    """Cells of a downloaded file that a spreadsheet would run."""
    if content.startswith(b"PK"):  # XLSX: a formula is an <f> element, a link a relation
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            parts = {n: book.read(n).decode("utf-8", "replace") for n in book.namelist()}
        return [n for n, text in parts.items() if "<f>" in text or "<f " in text
                or "hyperlink" in n.lower()]  # fmt: skip
    if content.startswith(b"%PDF"):
        return []  # no cells: nothing runs
    text = content.decode("utf-8-sig")
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    return [
        cell for row in rows for cell in row
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not NUMBER.fullmatch(cell)
    ]  # fmt: skip


def _text(content: bytes) -> str:
    if content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            return "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    if content.startswith(b"%PDF"):
        return ""
    return content.decode("utf-8-sig")


def _forbidden(user: dict) -> list[str]:
    role = user["role"]
    if role == "teamleitung":
        return [*WORKERS[QUIET_TEAM], QUIET_TEAM]
    if role == "mitarbeitende":
        return [w for w in EVERY_NAME if w != user["worker"]] + [QUIET_TEAM, SAMPLE_TEAM]
    if role in ("controlling", "management"):
        # the names with their formula character and without (a defused cell)
        return [*EVERY_NAME, *(w[1:] for w in EVERY_NAME if w[0] in "=+-@\t")]
    return []


@pytest.mark.slow
@pytest.mark.parametrize("user", USERS, ids=[u["role"] for u in USERS])
def test_every_download_of_every_role_is_inert_and_in_scope(crafted_env, downloads, user):  # noqa: F811
    viewer = Viewer(user["login"], user["name"], user["role"], tuple(user.get("teams", ())),
                    user.get("worker"))  # fmt: skip
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=120)
    at.user = {"is_logged_in": True, "email": user["login"], "email_verified": True}
    at.run()
    files = {}
    for page in pages_for(viewer):
        downloads.clear()
        at.switch_page(f"../pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
        for file_name, make in downloads:
            files[f"{page}/{file_name}"] = make()
    assert files, "every role but kontrolle has at least one download"
    for name, content in files.items():
        assert not _live_formulas(content), (user["role"], name, _live_formulas(content)[:3])
        text = _text(content)
        leaked = [w for w in _forbidden(user) if w in text]
        assert not leaked, (user["role"], name, leaked[:3])
    everything = "\n".join(_text(c) for c in files.values())
    if user["role"] == "controlling":
        assert PSEUDONYM_PREFIX in everything
    if user["role"] in ("teamleitung", "admin"):
        assert "'=Formel Eins" in everything or "Formel Eins" in everything
