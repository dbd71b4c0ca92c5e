"""The Daten page under AppTest, and the upload module it calls, on real ETL loads."""

from __future__ import annotations

import datetime as dt
import io
import tempfile

import pytest
from openpyxl import Workbook
from streamlit.testing.v1 import AppTest

from dashboard import upload
from dashboard.access.viewer import Viewer
from dashboard.core.config import load_config
from dashboard.core.format import number
from dashboard.core.storage import connect_readonly
from dashboard.queries import quality
from dashboard.queries.filters import Filters
from tests.conftest import ADMIN, DEMO_AS_OF, users_file

UPLOADER = Viewer("admin@jc.example", "Ada Admin", "admin")

TICKETS = (
    b"Ticket-ID;Bereich;Team;Bearbeiter;Eingang;Erledigt\n"
    b"U1;Leistung;Leistung 1;Anna Alt;02.03.2026;04.03.2026\n"
    b"U2;Sonstiges;Leistung 1;Anna Alt;02.03.2026;\n"
)
ABSENCES = b"Bearbeiter;Von;Bis;Vertretung\nAnna Alt;09.03.2026;13.03.2026;\n"

CHECKS = {
    "Bearbeiter aus nur einem Ladevorgang": quality.single_load_workers,
    "Monate ohne Tickets": quality.team_gaps,
    "Bearbeiter in mehreren Teams": quality.team_changes,
    "Abwesenheiten ohne Vertretung": quality.absences_without_substitute,
    "Abwesenheiten unbekannter Namen": quality.unknown_absence_workers,
}


def _open(login: str | None = None) -> AppTest:
    """The Daten page as the administration (demo user, or signed in as `login`)."""
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60)
    if login:
        at.user = {"is_logged_in": True, "email": login, "email_verified": True}
    else:
        at.session_state["demo_user"] = "demo-admin"
    at.run()
    at.switch_page("../pages/daten.py").run()
    assert not at.exception
    return at


def _table(at: AppTest, column: str):
    """The one table on the page that has `column`."""
    frames = [df.value for df in at.dataframe if column in df.value.columns]
    assert len(frames) == 1, [list(df.value.columns) for df in at.dataframe]
    return frames[0]


def _checks(at: AppTest) -> dict[str, str]:
    """Check title -> count shown in its expander label."""
    return dict(e.label.rsplit(": ", 1) for e in at.expander)


@pytest.fixture
def con(app_env):
    connection = connect_readonly(app_env)
    yield connection
    connection.close()


def test_load_history_equals_the_domain_function(app_env, con):
    at = _open()
    assert [t.label for t in at.tabs] == [
        "Laden", "Ladeprotokoll", "Abgewiesene Zeilen", "Datenprüfungen",
        "Zugriffsprotokoll",
    ]  # fmt: skip
    shown = _table(at, "Abgleich")
    expected = quality.load_history(con, DEMO_AS_OF)
    assert shown["Nr."].tolist() == expected["load_id"].tolist()
    assert shown["Datei"].tolist() == expected["file_name"].tolist() == [
        "absences.csv", "tickets.csv"
    ]  # fmt: skip
    assert shown["Art"].tolist() == ["Abwesenheiten", "Tickets"]
    for label, column in [("gelesen", "rows_read"), ("geladen", "rows_loaded"),
                          ("abgewiesen", "rows_rejected"), ("Duplikate", "rows_duplicate"),
                          ("neu", "records_new"), ("ersetzt", "records_replaced")]:  # fmt: skip
        assert shown[label].tolist() == expected[column].tolist()
    assert shown["Abgleich"].tolist() == ["✓", "✓"]
    assert (shown["Beginn"] == expected["started_at"]).all()


def test_rejects_filter_by_widget_key_narrows_the_table(app_env, con):
    at = _open()
    everything = quality.rejected_rows(con, DEMO_AS_OF)
    assert len(_table(at, "Grund")) == len(everything) > 1
    assert at.selectbox(key="rejects_file").options == [
        "Alle Dateien",
        f"tickets.csv ({number(len(everything))})",
    ]
    at.text_input(key="rejects_search").set_value("kein datum").run()
    expected = quality.rejected_rows(con, DEMO_AS_OF, search="kein datum")
    shown = _table(at, "Grund")
    assert 0 < len(shown) < len(everything)
    assert shown["Grund"].tolist() == expected["reason"].tolist()
    assert shown["Datensatz"].tolist() == expected["record"].tolist()
    at.selectbox(key="rejects_file").set_value(f"tickets.csv ({number(len(everything))})").run()
    assert len(_table(at, "Grund")) == len(expected)
    # a quote and a percent sign are searched for, not interpreted
    at.text_input(key="rejects_search").set_value("x' OR '%'='%").run()
    assert not at.exception
    assert not [df for df in at.dataframe if "Grund" in df.value.columns]
    assert "Keine abgewiesene Zeile passt zu dieser Auswahl." in [i.value for i in at.info]


def test_data_checks_render_and_follow_the_widgets(app_env, con):
    at = _open()
    shown = _checks(at)
    for title, fn in CHECKS.items():
        assert shown[title] == number(len(fn(con, DEMO_AS_OF, Filters()))), title
    long_open = quality.long_open(con, DEMO_AS_OF, Filters(), days=30)
    assert shown["Seit mehr als 30 Arbeitstagen offen"] == number(len(long_open)) != "0"

    at.number_input(key="quality_open_days").set_value(10).run()
    expected = quality.long_open(con, DEMO_AS_OF, Filters(), days=10)
    assert _checks(at)["Seit mehr als 10 Arbeitstagen offen"] == number(len(expected))
    table = _table(at, "Arbeitstage offen")
    assert table["Ticket"].tolist() == [f"/ticket?id={t}" for t in expected["ticket_id"]]
    assert table["Arbeitstage offen"].tolist() == expected["working_days_open"].tolist()

    at.selectbox(key="f_bereich").set_value("Integration").run()
    integration = quality.long_open(con, DEMO_AS_OF, Filters(areas=("Integration",)), days=10)
    assert 0 < len(integration) < len(expected)
    assert _checks(at)["Seit mehr als 10 Arbeitstagen offen"] == number(len(integration))


def test_a_stichtag_before_all_data_leaves_the_checks_empty(app_env):
    at = _open()
    at.date_input(key="f_stichtag").set_value(dt.date(2020, 1, 6)).run()
    assert not at.exception
    assert set(_checks(at).values()) == {"0"}
    assert [s.value for s in at.success].count("Keine Auffälligkeiten.") == 6
    # the load history does not depend on the Stichtag
    assert len(_table(at, "Abgleich")) == 2


# --- Upload -------------------------------------------------------------------------------


@pytest.fixture
def upload_env(tmp_path, monkeypatch):
    """The dashboard on an empty database of its own (never the shared demo database)."""
    users_file(tmp_path, ADMIN)
    (tmp_path / "config.toml").write_text('[auth]\nmode = "oidc"\nusers_file = "users.toml"\n')
    monkeypatch.setenv("TICKET_CONTROLLING_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TICKET_CONTROLLING_DB", str(tmp_path / "db" / "tickets.duckdb"))
    monkeypatch.setenv("TICKET_CONTROLLING_KEY_FILE", str(tmp_path / "secret" / "key"))
    return load_config()


def test_upload_through_the_page(upload_env):
    at = _open(ADMIN["login"])
    assert "Noch keine Daten geladen." in at.info[0].value
    at.button(key="upload_go").click().run()
    assert at.warning[0].value == "Bitte zuerst mindestens eine Datei auswählen."

    at.file_uploader(key="upload_files").set_value(
        [("tickets-maerz.csv", TICKETS, "text/csv"), ("abwesend.csv", ABSENCES, "text/csv")]
    )
    at.button(key="upload_go").click().run()
    assert not at.exception
    assert [s.value for s in at.success][:2] == [
        "tickets-maerz.csv: 2 gelesen = 1 geladen + 1 abgewiesen + 0 Duplikate "
        "(Abgleich stimmt); 1 neu, 0 ersetzt (erkannt als Tickets)",
        "abwesend.csv: 1 gelesen = 1 geladen + 0 abgewiesen + 0 Duplikate "
        "(Abgleich stimmt); 1 neu, 0 ersetzt (erkannt als Abwesenheiten)",
    ]
    # the rerun after the load shows the new data everywhere on the page
    assert _table(at, "Abgleich")["Datei"].tolist() == ["abwesend.csv", "tickets-maerz.csv"]
    assert _table(at, "Grund")["Ticket-ID"].tolist() == ["U2"]
    assert _checks(at)["Abwesenheiten ohne Vertretung"] == "1"
    assert at.multiselect(key="f_teams").options == ["Leistung 1"]

    at.button(key="upload_go").click().run()
    assert [i.value for i in at.info][:2] == [
        "tickets-maerz.csv: bereits geladen (Ladevorgang 1), nichts geändert (erkannt als Tickets)",
        "abwesend.csv: bereits geladen (Ladevorgang 2), nichts geändert "
        "(erkannt als Abwesenheiten)",
    ]


def _xlsx(rows: list[list[str]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Make the upload's temporary directories land where the test can look."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def test_load_uploads_saves_under_original_names_and_loads(config, private_tmp, db):
    absences_xlsx = _xlsx([["Bearbeiter", "Von", "Bis", "Vertretung"],
                           ["Anna Alt", "16.03.2026", "20.03.2026", "Bert Bach"]])  # fmt: skip
    steps: list[tuple[str, float]] = []
    results = upload.load_uploads(
        config,
        [
            ("März Tickets.csv", TICKETS),
            ("abwesenheiten.xlsx", io.BytesIO(absences_xlsx)),
            ("notiz.txt", b"Ticket-ID;Bereich\n"),
            ("../../anderswo/mehr.csv", TICKETS.replace(b"U1", b"U3")),
        ],
        progress=lambda label, fraction: steps.append((label, fraction)),
        who=UPLOADER,
    )
    assert [(r.file_name, r.kind, r.load_id) for r in results] == [
        ("März Tickets.csv", "tickets", 1),
        ("abwesenheiten.xlsx", "absences", 3),
        ("notiz.txt", "tickets", None),
        ("mehr.csv", "tickets", 2),
    ]
    assert results[2].refused == (
        "notiz.txt hat keine erlaubte Endung; bitte eine CSV- (.csv) oder Excel-Datei "
        "(.xlsx) hochladen."
    )
    assert results[1].summary() == (
        "abwesenheiten.xlsx: 1 gelesen = 1 geladen + 0 abgewiesen + 0 Duplikate "
        "(Abgleich stimmt); 1 neu, 0 ersetzt"
    )
    con = db()
    assert con.execute("SELECT file_name FROM load_log ORDER BY load_id").fetchall() == [
        ("März Tickets.csv",), ("mehr.csv",), ("abwesenheiten.xlsx",)
    ]  # fmt: skip
    assert con.execute("SELECT count(*) FROM tickets").fetchall() == [(2,)]
    assert con.execute("SELECT worker, substitute FROM absences").fetchall() == [
        ("Anna Alt", "Bert Bach")
    ]
    fractions = [f for _, f in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(label.startswith("mehr.csv: ") for label, _ in steps)
    # nothing of the upload stays on disk, and nothing landed outside its directory
    assert list(private_tmp.iterdir()) == []


def test_same_name_twice_keeps_both_names(config, private_tmp):
    results = upload.load_uploads(
        config,
        [("export.csv", TICKETS), ("export.csv", TICKETS.replace(b"U1", b"U9"))],
        who=UPLOADER,
    )
    assert [(r.file_name, r.records_new, r.refused) for r in results] == [
        ("export.csv", 1, None),
        ("export.csv", 1, None),
    ]


@pytest.mark.parametrize(
    ("kind", "loaded_as", "refused"),
    [
        ("auto", "absences", None),
        ("absences", "absences", None),
        ("tickets", "tickets", "Pflichtspalte fehlt: 'Ticket-ID', 'Bereich', 'Team', 'Eingang'."),
    ],
)
def test_kind_given_explicitly_overrides_detection(config, private_tmp, kind, loaded_as, refused):
    [result] = upload.load_uploads(config, [("a.csv", ABSENCES)], kind=kind, who=UPLOADER)
    assert result.kind == loaded_as
    assert (result.refused or "").split(" Gefundene")[0] == (refused or "")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("Bearbeiter;Von;Bis;Vertretung\n", "absences"),
        (" bearbeiter ;VON;bis\nAnna;01.03.2026;02.03.2026\n", "absences"),
        ("\ufeffBearbeiter;Von;Bis;Vertretung\n", "absences"),
        ("Ticket-ID;Bearbeiter;Von;Bis\n", "tickets"),
        ("Ticket-ID;Bereich;Team;Bearbeiter;Eingang\n", "tickets"),
        ("Bearbeiter;Von\n", "tickets"),
        ("Bearbeiter,Von,Bis,Vertretung\n", "tickets"),  # not ';': the loader refuses it
        ("", "tickets"),
    ],
)
def test_detect_kind_from_the_header(config, tmp_path, content, expected):
    path = tmp_path / "export.csv"
    path.write_text(content, encoding="utf-8")
    assert upload.detect_kind(path, config) == expected


def test_detect_kind_cp1252_xlsx_and_configured_headers(config, tmp_path):
    cp1252 = tmp_path / "a.csv"
    cp1252.write_bytes("Bearbeiter;Von;Bis;Vertretung\nJürgen Weiß;;;\n".encode("cp1252"))
    assert upload.detect_kind(cp1252, config) == "absences"
    workbook = tmp_path / "a.xlsx"
    workbook.write_bytes(_xlsx([["Bearbeiter", "Von", "Bis"]]))
    assert upload.detect_kind(workbook, config) == "absences"
    (tmp_path / "c.toml").write_text('[export.absence_headers]\nworker = ["Mitarbeiter"]\n')
    configured = load_config(tmp_path / "c.toml", environ={})
    other = tmp_path / "b.csv"
    other.write_text("Mitarbeiter;Von;Bis\n", encoding="utf-8")
    assert upload.detect_kind(other, configured) == "absences"
    assert upload.detect_kind(other, config) == "tickets"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("tickets.csv", "tickets.csv"),
        ("../../etc/passwd.csv", "passwd.csv"),
        ("C:\\Users\\x\\Export März.xlsx", "Export März.xlsx"),
        ("..", "upload"),
        ("", "upload"),
    ],
)
def test_safe_name(name, expected):
    assert upload.safe_name(name) == expected


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("a.csv", 10, None),
        ("A.XLSX", 10, None),
        ("b.xlsx", 10, "b.xlsx ist keine Excel-Datei"),
        ("b.csv", 10, "b.csv ist keine Textdatei"),
        ("a.xls", 10, "a.xls hat keine erlaubte Endung"),
        ("a", 10, "a hat keine erlaubte Endung"),
        ("a.csv", upload.MAX_UPLOAD_BYTES, None),
        ("a.csv", upload.MAX_UPLOAD_BYTES + 1, "a.csv ist größer als 50 MB"),
    ],
)
def test_check_upload(name, size, message):
    # the first bytes as a real file of its extension has them, except for the "b" cases
    head = b"PK\x03\x04" if name.lower().endswith(".xlsx") else b"Ticket-ID;Bereich\n"
    head = {"b.xlsx": b"Ticket-ID;", "b.csv": b"PK\x03\x04"}.get(name, head)
    result = upload.check_upload(name, size, head)
    assert (result is None) if message is None else result.startswith(message)


def test_a_broken_key_file_fails_the_whole_upload(config, private_tmp, db):
    config.storage.key_file.parent.mkdir(parents=True)
    config.storage.key_file.write_text("kein schlüssel")
    with pytest.raises(upload.UploadFailed, match="Schlüsseldatei"):
        upload.load_uploads(config, [("t.csv", TICKETS)], who=UPLOADER)
    assert db().execute("SELECT count(*) FROM load_log").fetchall() == [(0,)]


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"memory_mb": 1}, "mehr als 1 MB Arbeitsspeicher"),
        ({"timeout": 0.05}, "abgebrochen"),
    ],
)
def test_a_load_beyond_its_limits_ends_in_its_own_process(upload_env, tmp_path, limits, message):
    """The load runs in a child with a memory and time limit: exceeding either ends the child
    with a German message, this process lives on, and the database stays as it was."""
    export = tmp_path / "tickets.csv"
    export.write_bytes(TICKETS)
    with pytest.raises(upload.UploadFailed, match=message):
        upload.load_in_child(upload_env, [export], [], **limits)
    assert not upload_env.database.exists() or storage_loads(upload_env) == 0
    # the same file loads within the normal limits
    results = upload.load_in_child(upload_env, [export], [])
    assert [r.rows_loaded for r in results] == [1]


def storage_loads(config) -> int:
    import duckdb

    con = duckdb.connect(str(config.database), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM load_log").fetchone()[0]
    finally:
        con.close()
