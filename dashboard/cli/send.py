"""`ticket-controlling send-reports`: each subscriber's monthly report by e-mail.

Subscriptions are in the users file (`[user.report]`, dashboard.access.users). Each
subscriber gets the version their role may see, through the same data scope as the page:
the PDF, and the workbook where `mail.FILES_BY_ROLE` allows it. A delivery is recorded
(records `report_sendings`) and audited; a month's report never goes twice to the same
subscriber, and one that failed is tried again on the next run. Meant for cron on the
first working day of a month (docs/operations.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence

from dashboard import report
from dashboard.access import users
from dashboard.cli.args import add_config_option, iso_date, month_arg, operator
from dashboard.cli.report import NO_DATA, no_data_message
from dashboard.core import format, records
from dashboard.core.calendar import first_working_day
from dashboard.core.config import Config
from dashboard.core.months import add_months, month_label, month_start
from dashboard.report import mail


def add_parser(
    subparsers, parents: Sequence[argparse.ArgumentParser] = ()
) -> argparse.ArgumentParser:
    """Add the `send-reports` sub-command."""
    parser = subparsers.add_parser(
        "send-reports",
        parents=list(parents),
        help="Monatsbericht an die Abonnenten der Benutzerdatei mailen",
        description="Schickt jedem Abonnenten (Benutzerdatei, [user.report]) den Monatsbericht "
        "in der Fassung seiner Rolle; schon zugestellte werden nicht noch einmal geschickt.",
    )
    add_config_option(parser, parents)
    parser.add_argument(
        "--month", type=month_arg, default=None, help="Berichtsmonat JJJJ-MM (Standard: Vormonat)"
    )
    parser.add_argument(
        "--as-of",
        type=iso_date,
        default=None,
        help="Stichtag JJJJ-MM-TT (Standard: der konfigurierte Stichtag)",
    )
    parser.add_argument(
        "--if-first-working-day",
        action="store_true",
        help="nur am ersten Arbeitstag des Monats senden (für cron an den Tagen 1-7)",
    )
    parser.add_argument("--today", type=iso_date, default=None, help=argparse.SUPPRESS)
    return parser


def _fail(text: str, code: int) -> int:
    print(f"Fehler: {text}", file=sys.stderr)
    return code


def run(config: Config, args: argparse.Namespace) -> int:
    """Send the month's report to every subscriber not yet served; the exit code.

    0: every subscriber has it (now or before); 1: at least one delivery failed (listed on
    stderr, tried again next run); 2: wrong call or configuration; 3: no ticket due in the
    month for any subscriber still waiting, nothing sent.
    """
    today = args.today or dt.date.today()
    if args.if_first_working_day:
        first = first_working_day(config.calendar, today)
        if today != first:
            print(
                f"Heute ({format.date(today)}) ist nicht der erste Arbeitstag des Monats "
                f"({format.date(first)}); nichts gesendet."
            )
            return 0
    as_of = args.as_of or config.reference_date(today)
    month = month_start(args.month or add_months(month_start(as_of), -1))
    if month > month_start(as_of):
        return _fail(
            f"Der Berichtsmonat {month_label(month)} liegt nach dem Monat des Stichtags "
            f"{format.date(as_of)}.",
            2,
        )
    if not config.mail.sender:
        return _fail("In der Konfiguration fehlt [mail] sender (die Absenderadresse).", 2)
    if config.auth.users_file is None:
        return _fail("Keine Benutzerdatei konfiguriert ([auth] users_file).", 2)
    try:
        subscribed = users.subscriptions(config.auth.users_file)
    except users.UsersError as exc:
        return _fail(str(exc), 2)
    who = operator()
    try:
        done = records.sent_reports(config, month)
    except records.RecordsBusy as exc:
        return _fail(str(exc), 1)
    waiting = [s for s in subscribed if s.viewer.login not in done]
    for sub in subscribed:
        if sub.viewer.login in done:
            print(f"{sub.viewer.login} <{sub.email}>: bereits zugestellt")
    if not waiting:
        print(f"Monatsbericht {month_label(month)}: nichts zu senden.")
        return 0
    generated_at = dt.datetime.now().replace(microsecond=0)
    built: dict[tuple, report.Report] = {}  # one report per data scope and selection
    sent = failed = empty = 0
    try:
        mailer = mail.Mailer(config.mail).__enter__()
    except mail.MailError as exc:
        for sub in waiting:
            _failed(config, who, month, sub, str(exc))
        return 1
    try:
        for sub in waiting:
            key = (sub.viewer.scope_key(), sub.filters)
            if key not in built:
                built[key] = report.build_for(config, month, as_of, sub.filters, sub.viewer)
            made = built[key]
            if not made.has_data:
                print(f"{sub.viewer.login} <{sub.email}>: {no_data_message(month, made.filters)}")
                empty += 1
                continue
            files = {
                report.file_name(month, suffix): report.file_bytes(made, suffix, generated_at)
                for suffix in mail.FILES_BY_ROLE[sub.viewer.role]
            }
            msg = mail.message(config.mail.sender, sub, made, files, config.auth.contact)
            try:
                mailer.send(msg)
            except mail.MailError as exc:
                _failed(config, who, month, sub, str(exc))
                failed += 1
                continue
            names = ", ".join(files)
            try:
                records.record_sending(
                    config, who, month, sub.viewer.login, sub.email, as_of, names
                )
            except records.RecordsBusy as exc:
                print(f"Warnung: {sub.viewer.login}: zugestellt, aber nicht vermerkt – {exc}",
                      file=sys.stderr)  # fmt: skip
            print(f"{sub.viewer.login} <{sub.email}>: zugestellt ({names})")
            sent += 1
    except records.RecordsBusy as exc:
        return _fail(str(exc), 1)
    finally:
        mailer.close()
    print(
        f"Monatsbericht {month_label(month)}, Stichtag {format.date(as_of)}: "
        f"{sent} zugestellt, {failed} fehlgeschlagen, {len(done)} bereits zugestellt"
        + (f", {empty} ohne Daten" if empty else "")
        + "."
    )
    if failed:
        return 1
    return NO_DATA if empty and not sent else 0


def _failed(config: Config, who: str, month: dt.date, sub: users.Subscription, why: str) -> None:
    print(f"Fehler: {sub.viewer.login} <{sub.email}>: nicht zugestellt – {why}", file=sys.stderr)
    try:
        records.log(
            config, who, "Bericht nicht zugestellt",
            f"{month:%Y-%m} an {sub.viewer.login} <{sub.email}>: {why}",
        )  # fmt: skip
    except records.RecordsBusy as exc:
        print(f"Warnung: Fehlschlag nicht protokolliert – {exc}", file=sys.stderr)
