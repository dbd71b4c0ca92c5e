"""What an open ticket on the Wiedervorlage still lacks: notice, VerBIS note, callback.

Hand-worked cases at Stichtag S = Thu 02.04.2026 (Karfreitag 03.04. and Ostermontag 06.04.
follow); Leistung has 5 working days, Integration 2. A notice is missing once the deadline
is at hand (light überfällig, heute or morgen fällig) and the customer was not informed by
S; the VerBIS note once informed without it (A3); the callback for an Anliegen of Rückruf or
Termin in Leistung until the call is made (A5). Events after S have not happened yet.
"""

from __future__ import annotations

import pytest

from dashboard.core.config import load_config
from dashboard.core.storage import connect_readonly
from dashboard.queries import followup
from etl.load import load_files
from etl.sources import csv_text
from tests.conftest import HEADER, d, ticket_row

S = "02.04.2026"
OLD = {"Eingang": "23.03.2026"}  # due Mon 30.03.: overdue at S
LATER = {"Eingang": "30.03.2026"}  # due Wed 08.04.: later at S
INTEGRATION = {"Bereich": "Integration", "Team": "Integration 1"}

# (id, fields, notice missing, VerBIS missing, callback missing)
CASES = [
    ("overdue-no-notice", OLD, True, False, False),
    # due on S (26.03. -> 27., 30., 31.03., 01., 02.04.)
    ("today-no-notice", {"Eingang": "26.03.2026"}, True, False, False),
    # due Tue 07.04., the next working day after S
    ("next-no-notice", {"Eingang": "27.03.2026"}, True, False, False),
    ("later-no-notice", LATER, False, False, False),
    ("notice-without-verbis", {**OLD, "Kunde informiert": "27.03.2026",
                               "Zusage bis": "10.04.2026", "VerBIS-Vermerk": "nein"},
     False, True, False),
    ("notice-with-verbis", {**OLD, "Kunde informiert": "27.03.2026",
                            "Zusage bis": "10.04.2026", "VerBIS-Vermerk": "ja"},
     False, False, False),
    # informed only after S: not yet at S
    ("notice-after-s", {**OLD, "Kunde informiert": "07.04.2026", "Zusage bis": "10.04.2026",
                        "VerBIS-Vermerk": "ja"}, True, False, False),
    ("callback-open", {**LATER, "Anliegen": "Rückruf"}, False, False, True),
    ("appointment-open", {**LATER, "Anliegen": "Termin"}, False, False, True),
    ("callback-made", {**LATER, "Anliegen": "Rückruf", "Rückruf erfolgt": "31.03.2026"},
     False, False, False),
    ("callback-after-s", {**LATER, "Anliegen": "Rückruf", "Rückruf erfolgt": "07.04.2026"},
     False, False, True),
    # A5 is a Leistung rule; due Tue 07.04. (02.04., 07.04.), the next working day: notice
    ("callback-integration", {**INTEGRATION, "Eingang": "01.04.2026", "Anliegen": "Rückruf"},
     True, False, False),
]  # fmt: skip


@pytest.fixture(scope="module")
def frame(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("missing")
    config = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(tmp / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(tmp / "key"),
        }
    )
    rows = [ticket_row(**{"Ticket-ID": c[0], **c[1]}) for c in CASES]
    export = tmp / "cases.csv"
    export.write_text(csv_text([HEADER] + [[r.get(h, "") for h in HEADER] for r in rows]))
    [result] = load_files(config, [export])
    assert result.reconciled and result.rows_loaded == len(CASES)
    con = connect_readonly(config)
    yield followup.followup_list(con, d(S)).set_index("ticket_id")
    con.close()


@pytest.mark.parametrize(
    ("ticket", "fields", "notice", "verbis", "callback"), CASES, ids=[c[0] for c in CASES]
)
def test_what_is_missing(frame, ticket, fields, notice, verbis, callback):
    row = frame.loc[ticket]
    got = (bool(row.missing_notice), bool(row.missing_verbis), bool(row.missing_callback))
    assert got == (notice, verbis, callback)


def test_the_download_says_fehlt(frame):
    export = followup.export_frame(frame.reset_index())
    row = export.set_index("Ticket-ID").loc["notice-without-verbis"]
    assert (row["Hinweis fehlt"], row["VerBIS-Vermerk fehlt"], row["Rückruf fehlt"]) == (
        "",
        "fehlt",
        "",
    )
