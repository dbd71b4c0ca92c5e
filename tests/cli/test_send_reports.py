"""`send-reports` against a real SMTP server (aiosmtpd) on a local port, started here.

The hand-made March 2026 of tests/report/test_report.py (Leistung 1: Anna Alt, Bert Bach;
Integration 1: Cora Ernst, Dirk Dorn; Stichtag 31.03.2026). The server requires a sign-in,
refuses one recipient on the first run, and keeps every message it accepted; the tests read
them back: recipients, subject, German text, the attachments opened and checked.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import shutil
import socket
import ssl
import subprocess

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pypdf import PdfReader

from dashboard import cli
from dashboard.core import records
from dashboard.core.config import Config, MailConfig
from tests.report.test_report import month_db  # noqa: F401  (the month's database fixture)

# The test server signs in without TLS on the loopback interface; aiosmtpd warns about that.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
NAMES = ("Anna Alt", "Bert Bach", "Cora Ernst", "Dirk Dorn")
USERS = """
[[user]]
login = "gf@jc.example"
name = "Gerda Fuchs"
role = "management"
[user.report]

[[user]]
login = "tl.integration"
name = "Tom Lang"
role = "teamleitung"
teams = ["Integration 1"]
[user.report]
email = "tom.lang@jc.example"

[[user]]
login = "controlling@jc.example"
name = "Carla Roth"
role = "controlling"
[user.report]
areas = ["Leistung"]

[[user]]
login = "kaputt@jc.example"
name = "Karl Putt"
role = "management"
[user.report]

[[user]]
login = "nicht-abonniert@jc.example"
name = "Nora Nicht"
role = "management"
"""


class Mailbox:
    """An SMTP handler that keeps what it accepts and refuses the addresses in `refuse`."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Postfach nicht vorhanden"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"bericht",
        b"geheim-123",
    )
    return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    box = Mailbox()
    controller = Controller(
        box, hostname="127.0.0.1", port=_free_port(), authenticator=_authenticator,
        auth_required=True, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture
def config(month_db, tmp_path, smtp) -> Config:  # noqa: F811
    users = tmp_path / "users.toml"
    users.write_text(USERS, encoding="utf-8")
    users.chmod(0o600)
    password = tmp_path / "smtp-password"
    password.write_text("geheim-123\n", encoding="utf-8")
    storage = month_db.storage.model_copy(update={"app_database": tmp_path / "app.duckdb"})
    mail = MailConfig(
        host="127.0.0.1", port=smtp.port, starttls=False, user="bericht",
        password_file=password, sender="controlling-bericht@jc.example",
    )  # fmt: skip
    auth = month_db.auth.model_copy(update={"users_file": users, "contact": "Carla Roth"})
    return month_db.model_copy(update={"storage": storage, "mail": mail, "auth": auth})


def _send(config: Config, *argv: str) -> int:
    args = cli._parser().parse_args(["send-reports", *argv])
    return cli.cli_send.run(config, args)


MARCH = ("--month", "2026-03", "--as-of", "2026-03-31")


def _by_recipient(box: Mailbox) -> dict[str, email.message.EmailMessage]:
    out = {}
    for rcpts, msg in box.messages:
        assert len(rcpts) == 1  # one message per subscriber, never a list of them
        out[rcpts[0]] = msg
    return out


def _attachments(msg) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in msg.iter_attachments()}


def _pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_round_trip_failure_retry_and_no_second_sending(config, smtp, capsys):
    smtp.refuse = {"kaputt@jc.example"}
    assert _send(config, *MARCH) == 1
    out, err = capsys.readouterr()
    assert "kaputt@jc.example <kaputt@jc.example>: nicht zugestellt – " in err
    assert "550 5.1.1 Postfach nicht vorhanden" in err
    assert "3 zugestellt, 1 fehlgeschlagen, 0 bereits zugestellt" in out

    mails = _by_recipient(smtp)
    assert set(mails) == {"gf@jc.example", "tom.lang@jc.example", "controlling@jc.example"}

    # management: German text, the PDF only, no person anywhere
    gf = mails["gf@jc.example"]
    assert gf["From"] == "controlling-bericht@jc.example"
    assert gf["To"] == "Gerda Fuchs <gf@jc.example>"
    assert gf["Subject"] == (
        "Monatsbericht März 2026 – Ticket-Controlling (alle Bereiche, alle Teams)"
    )
    text = gf.get_body(("plain",)).get_content()
    assert text.startswith("Guten Tag Gerda Fuchs,")
    assert "Stand am Stichtag 31.03.2026" in text
    assert "Das Wichtigste in Kürze:" in text
    # the month has only 4 people: the small-cell rule hides management's figures
    assert "betreffen für diese Auswahl weniger als 5 Personen" in text
    assert "ohne Angaben zu einzelnen Personen" in text and "Carla Roth" in text
    files = _attachments(gf)
    assert list(files) == ["monatsbericht-2026-03.pdf"]
    pages = _pdf_text(files["monatsbericht-2026-03.pdf"])
    assert "Monatsbericht März 2026" in pages[0] and "Zusammenfassung" in pages[0]
    assert "Fassung Management" in pages[0]
    assert not [n for n in NAMES if any(n in p for p in pages)]

    # team leader of Integration 1: PDF with the names of their repeat case, and workbook
    tl = mails["tom.lang@jc.example"]
    assert tl["To"] == "Tom Lang <tom.lang@jc.example>"
    assert "Teams Integration 1" in tl["Subject"]
    assert "regelkonform bearbeitet (Ziel: 100\u00a0%)" in tl.get_body(("plain",)).get_content()
    files = _attachments(tl)
    assert sorted(files) == ["monatsbericht-2026-03.pdf", "monatsbericht-2026-03.xlsx"]
    pages = _pdf_text(files["monatsbericht-2026-03.pdf"])
    joined = "\n".join(pages)
    assert "Dirk Dorn" in joined and "ausstehend" in joined  # the repeat case, no talk yet
    assert "Anna Alt" not in joined and "Bert Bach" not in joined  # not their team
    wb = openpyxl.load_workbook(io.BytesIO(files["monatsbericht-2026-03.xlsx"]))
    assert [wb["Übersicht"].cell(r, 2).value for r in (5, 6, 7)] == [0, 5, 5]

    # controlling, Bereich Leistung: pseudonyms, only Leistung's 8 tickets
    files = _attachments(mails["controlling@jc.example"])
    wb = openpyxl.load_workbook(io.BytesIO(files["monatsbericht-2026-03.xlsx"]))
    assert [wb["Übersicht"].cell(r, 1).value for r in (5, 6)] == ["Leistung", "Gesamt"]
    assert [wb["Übersicht"].cell(r, 2).value for r in (5, 6)] == [8, 8]
    workers = {row[2] for row in wb["Mitarbeitende"].iter_rows(min_row=5, values_only=True)}
    assert workers and all(w.startswith("MA-") for w in workers)

    # every sending on record and audited, the failure too
    sent = records.query(config, "SELECT login, email, files FROM report_sendings ORDER BY id")
    assert list(sent["login"]) == ["gf@jc.example", "tl.integration", "controlling@jc.example"]
    audit = records.query(config, "SELECT action, detail FROM audit_log ORDER BY seq")
    assert list(audit["action"]).count("Bericht versandt") == 3
    [failure] = audit[audit["action"] == "Bericht nicht zugestellt"]["detail"]
    assert failure.startswith("2026-03 an kaputt@jc.example <kaputt@jc.example>: ")
    assert records.verify_audit(config).intact

    # the next run retries only the failed one ...
    smtp.refuse = set()
    before = len(smtp.messages)
    assert _send(config, *MARCH) == 0
    out, _ = capsys.readouterr()
    assert [r for r, _ in smtp.messages[before:]] == [["kaputt@jc.example"]]
    assert out.count("bereits zugestellt") == 3 + 1  # three lines and the summary
    # ... and a third run sends nothing at all
    assert _send(config, *MARCH) == 0
    assert len(smtp.messages) == before + 1
    assert "nichts zu senden" in capsys.readouterr().out


def test_month_without_tickets_sends_nothing(config, smtp, capsys):
    assert _send(config, "--month", "2026-01", "--as-of", "2026-03-31") == 3
    assert smtp.messages == []
    out = capsys.readouterr().out
    assert "Im Januar 2026 ist für alle Bereiche, alle Teams kein Ticket fällig" in out
    assert records.sent_reports(config, dt.date(2026, 1, 1)) == set()


def test_wrong_password_and_unreachable_server_fail_per_recipient(config, smtp, capsys):
    wrong = config.mail.model_copy(update={"password_file": None, "password_env": "NO_SUCH_VAR"})
    assert _send(config.model_copy(update={"mail": wrong}), *MARCH) == 1
    err = capsys.readouterr().err
    assert err.count("nicht zugestellt – Der Mailserver 127.0.0.1") == 4
    closed = config.mail.model_copy(update={"port": _free_port()})
    assert _send(config.model_copy(update={"mail": closed}), *MARCH) == 1
    assert capsys.readouterr().err.count("nicht zugestellt") == 4
    assert smtp.messages == []
    assert records.sent_reports(config, dt.date(2026, 3, 1)) == set()


def test_configuration_errors(config, capsys):
    no_sender = config.mail.model_copy(update={"sender": None})
    assert _send(config.model_copy(update={"mail": no_sender}), *MARCH) == 2
    assert "[mail] sender" in capsys.readouterr().err
    bad = config.auth.users_file
    bad.write_text(USERS.replace('role = "controlling"', 'role = "admin"'), encoding="utf-8")
    assert _send(config, *MARCH) == 2
    assert "bekommt keinen Monatsbericht" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("today", "sends"),
    [
        ("2026-01-01", False),  # Neujahr
        ("2026-01-02", True),  # Friday after it
        ("2026-05-01", False),  # Tag der Arbeit (Friday)
        ("2026-05-04", True),  # Monday
        ("2026-11-02", True),  # 1 November is a Sunday (no holiday in Brandenburg)
        ("2026-10-01", True),  # a Thursday
        ("2026-10-02", False),  # the day after the first working day
    ],
)
def test_only_on_the_first_working_day(config, smtp, capsys, today, sends):
    # January 2026 has no ticket: past the gate, the run says so (exit 3) and sends nothing
    code = _send(config, "--if-first-working-day", "--today", today, "--month", "2026-01",
                 "--as-of", "2026-03-31")  # fmt: skip
    out = capsys.readouterr().out
    assert smtp.messages == []
    if sends:
        assert "ist nicht der erste Arbeitstag" not in out
        assert code == 3 and "kein Ticket fällig" in out
    else:
        assert code == 0 and smtp.messages == []
        assert "ist nicht der erste Arbeitstag des Monats" in out


@pytest.fixture
def tls_smtp(tmp_path):
    """A server that offers STARTTLS with a certificate of its own CA and signs in only after."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test certificate")
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox()
    controller = Controller(
        box, hostname="127.0.0.1", port=_free_port(), authenticator=_authenticator,
        auth_required=True, tls_context=context, require_starttls=True,
    )  # fmt: skip
    controller.start()
    box.port, box.cert = controller.port, cert
    yield box
    controller.stop()


def test_starttls_checks_the_certificate(config, tls_smtp, capsys):
    mail = config.mail.model_copy(update={"port": tls_smtp.port, "starttls": True})
    # the system's CAs do not know the server's certificate: refused before signing in
    assert _send(config.model_copy(update={"mail": mail}), *MARCH) == 1
    assert "CERTIFICATE_VERIFY_FAILED" in capsys.readouterr().err
    assert tls_smtp.messages == []
    # with the office CA configured: encrypted, signed in, delivered
    trusted = mail.model_copy(update={"ca_file": tls_smtp.cert})
    assert _send(config.model_copy(update={"mail": trusted}), *MARCH) == 0
    assert len(tls_smtp.messages) == 4
