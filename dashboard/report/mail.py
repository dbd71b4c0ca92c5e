"""The monthly report by e-mail: the message in German with its attachments, sent over SMTP.

`message` composes what one subscriber gets; `Mailer` holds one SMTP connection for a run
(`[mail]` of the configuration: host, port, STARTTLS, sign-in, sender) and sends message by
message, so a refused recipient does not stop the others.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from dashboard.access.users import Subscription
from dashboard.access.viewer import ROLE_LABELS
from dashboard.core import format
from dashboard.core.config import MailConfig
from dashboard.report import summary
from dashboard.report.figures import Report
from dashboard.report.files import MIME_TYPES
from dashboard.report.rules import scope_label

# The files a role gets by e-mail. Management gets the summary as PDF; the workbook with its
# tables per team stays on the page, where the small-group rule applies on every look.
FILES_BY_ROLE = {
    "teamleitung": (".pdf", ".xlsx"),
    "controlling": (".pdf", ".xlsx"),
    "management": (".pdf",),
}


class MailError(Exception):
    """The SMTP server could not be reached or refused a message; the message says why."""


def subject(report: Report) -> str:
    """'Monatsbericht Oktober 2026 – Ticket-Controlling (Bereich Leistung, alle Teams)'."""
    return f"{report.title} – Ticket-Controlling ({scope_label(report.filters)})"


def body(report: Report, subscription: Subscription, files: list[str], contact: str) -> str:
    """The German text of the message: greeting, what is attached, the sentences of page 1."""
    viewer = subscription.viewer
    lines = [
        f"Guten Tag {viewer.name},",
        "",
        f"anbei der {report.title} des Ticket-Controllings: Tickets fällig im "
        f"{report.title.removeprefix('Monatsbericht ')}, Stand am Stichtag "
        f"{format.date(report.as_of)}, {scope_label(report.filters)}.",
        "",
        "Das Wichtigste in Kürze:",
        *[f"- {sentence}" for sentence in summary.sentences(report)],
        "",
        "Anhang: " + ", ".join(files) + ".",
        f"Fassung für die Rolle {ROLE_LABELS[viewer.role]}"
        + (" (ohne Angaben zu einzelnen Personen)." if viewer.role == "management" else "."),
        "",
        "Diese Nachricht wurde automatisch erstellt. Wer den Bericht nicht mehr oder anders "
        f"bekommen möchte, wendet sich an {contact}.",
    ]
    return "\n".join(lines) + "\n"


def message(
    sender: str,
    subscription: Subscription,
    report: Report,
    attachments: dict[str, bytes],
    contact: str,
) -> EmailMessage:
    """One subscriber's message with the report files attached (name -> bytes)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((subscription.viewer.name, subscription.email))
    msg["Subject"] = subject(report)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    msg.set_content(body(report, subscription, list(attachments), contact))
    for name, data in attachments.items():
        maintype, subtype = MIME_TYPES["." + name.rsplit(".", 1)[-1]].split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


class Mailer:
    """One SMTP connection for a run of `send-reports` (a context manager)."""

    def __init__(self, config: MailConfig) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        cfg = self.config
        try:
            self.smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
            if cfg.starttls:
                # the server's certificate and name are checked, against `ca_file` if given
                context = ssl.create_default_context(
                    cafile=str(cfg.ca_file) if cfg.ca_file else None
                )
                self.smtp.starttls(context=context)
            if cfg.user:
                self.smtp.login(cfg.user, cfg.password() or "")
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise MailError(
                f"Der Mailserver {cfg.host}:{cfg.port} ist nicht erreichbar oder lehnt die "
                f"Anmeldung ab: {_reason(exc)}"
            ) from exc
        return self

    def send(self, msg: EmailMessage) -> None:
        """Send one message; MailError when the server refuses it or the connection broke."""
        assert self.smtp is not None
        try:
            refused = self.smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(_reason(exc)) from exc
        if refused:  # some recipients refused (only one per message here)
            raise MailError("; ".join(f"{a}: {_reason(r)}" for a, r in refused.items()))

    def close(self) -> None:
        """Say goodbye to the server (a broken connection is simply dropped)."""
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def __exit__(self, *exc) -> None:
        self.close()


def _reason(exc: object) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{a}: {_reason(r)}" for a, r in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        return f"{exc.smtp_code} {text}"
    if isinstance(exc, tuple) and len(exc) == 2:  # (code, message) of a refused recipient
        code, text = exc
        return f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
    return str(exc) or type(exc).__name__
