"""Ticket explanation: counted days around Easter and Christmas (real ETL), and the German
sentences of `verdict_reasons` from hand-written facts (pure, no database)."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.core.config import load_config
from dashboard.core.rules import STATUS_LABELS
from dashboard.core.storage import connect_readonly
from dashboard.queries import explain
from dashboard.queries.filters import Filters
from dashboard.queries.metrics import ticket_verdicts
from etl.load import load_files
from etl.sources import csv_text
from tests.conftest import HEADER, d, ticket_row

AFTER = "nach dem Stichtag – noch nicht berücksichtigt"  # an event after S
LATER = "nach dem Stichtag"  # a calendar day after S

# ---------------------------------------------------------------------------------------
# Counted days, on tickets loaded by the real ETL.

# (id, fields, S, status, [(day, working-day number or reason of the day off)], notes)
DAY_CASES = [
    (
        # R Wed 01.04.2026 (Leistung, 5): Karfreitag .. Ostermontag skipped -> due Fri 10.04.
        "easter",
        {"Eingang": "01.04.2026 08:00", "Erledigt": "13.04.2026"},
        "30.04.2026",
        "late",
        [("02.04.", 1), ("03.04.", "Karfreitag"), ("04.04.", "Samstag"),
         ("05.04.", "Ostersonntag"), ("06.04.", "Ostermontag"), ("07.04.", 2), ("08.04.", 3),
         ("09.04.", 4), ("10.04.", 5), ("11.04.", "Samstag"), ("12.04.", "Sonntag"),
         ("13.04.", 6)],
        {"10.04.": "Fristende", "13.04.": "Erledigt"},
    ),
    (
        # R Mon 21.12.2026: closing days and holidays -> due Wed 30.12.; open at S Mon 04.01.
        "xmas",
        {"Eingang": "21.12.2026"},
        "04.01.2027",
        "overdue",
        [("22.12.", 1), ("23.12.", 2), ("24.12.", "Heiligabend (Schließtag)"),
         ("25.12.", "Erster Weihnachtstag"), ("26.12.", "Zweiter Weihnachtstag"),
         ("27.12.", "Sonntag"), ("28.12.", 3), ("29.12.", 4), ("30.12.", 5),
         ("31.12.", "Silvester (Schließtag)"), ("01.01.", "Neujahr"), ("02.01.", "Samstag"),
         ("03.01.", "Sonntag"), ("04.01.", 6)],
        {"30.12.": "Fristende", "04.01.": "Stichtag"},
    ),
    (
        # Integration (2) received on S Wed 23.12.2026: the days up to D lie after S
        "xmas-int",
        {"Eingang": "23.12.2026", "Bereich": "Integration", "Team": "Integration 1"},
        "23.12.2026",
        "open",
        [("24.12.", "Heiligabend (Schließtag)"), ("25.12.", "Erster Weihnachtstag"),
         ("26.12.", "Zweiter Weihnachtstag"), ("27.12.", "Sonntag"), ("28.12.", 1),
         ("29.12.", 2)],
        {**dict.fromkeys(["24.12.", "25.12.", "26.12.", "27.12.", "28.12."], LATER),
         "29.12.": f"Fristende, {LATER}"},
    ),
    (
        # completed after S: open at S, the days run to max(D, S) = D
        "done-after-s",
        {"Eingang": "01.04.2026", "Erledigt": "13.04.2026", "Kunde informiert": "09.04.2026"},
        "08.04.2026",
        "open",
        [("02.04.", 1), ("03.04.", "Karfreitag"), ("04.04.", "Samstag"),
         ("05.04.", "Ostersonntag"), ("06.04.", "Ostermontag"), ("07.04.", 2), ("08.04.", 3),
         ("09.04.", 4), ("10.04.", 5)],
        {"08.04.": "Stichtag", "09.04.": LATER, "10.04.": f"Fristende, {LATER}"},
    ),
]  # fmt: skip
ROWS = [ticket_row(**{"Ticket-ID": c[0], **c[1]}) for c in DAY_CASES]
ROWS.append(ticket_row(**{"Ticket-ID": "T-2026-0000007", "Eingang": "02.03.2026"}))


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("explain")
    config = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(tmp / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(tmp / "key"),
        }
    )
    export = tmp / "cases.csv"
    export.write_text(csv_text([HEADER] + [[r.get(h, "") for h in HEADER] for r in ROWS]))
    [result] = load_files(config, [export])
    assert result.rows_loaded == len(ROWS)
    con = connect_readonly(config)
    yield con
    con.close()


@pytest.mark.parametrize(
    ("ticket", "fields", "as_of", "status", "days", "notes"),
    DAY_CASES,
    ids=[c[0] for c in DAY_CASES],
)
def test_counted_days(con, ticket, fields, as_of, status, days, notes):
    frame = explain.counted_days(con, d(as_of), ticket_id=ticket)
    got = [
        (f"{day:%d.%m.}", int(n) if workday else reason)
        for day, workday, n, reason in zip(
            frame["day"], frame["is_workday"], frame["working_day"], frame["off_reason"],
            strict=True,
        )
    ]  # fmt: skip
    assert got == days
    noted = {f"{day:%d.%m.}": note for day, note in zip(frame["day"], frame["note"], strict=True)}
    assert {k: v for k, v in noted.items() if v} == notes
    facts = explain.facts_record(explain.ticket_facts(con, d(as_of), ticket_id=ticket))
    assert facts["status"] == status
    # the running number on the completion day (or on S) is the working days taken (or open)
    if facts["working_days"] is not None:
        assert frame.loc[frame["is_completion"], "working_day"].tolist() == [facts["working_days"]]
    else:
        at_s = frame.loc[frame["is_as_of"] & frame["is_workday"], "working_day"].tolist()
        assert at_s in ([], [facts["working_days_to_as_of"]])


def test_counting_sentences_name_every_skipped_day(con):
    days = explain.counted_days(con, d("30.04.2026"), ticket_id="easter")
    assert explain.counting_sentences(days) == [
        "Bis zum Fristende gezählt: Do 02.04.2026 (1), Di 07.04.2026 (2), Mi 08.04.2026 (3), "
        "Do 09.04.2026 (4), Fr 10.04.2026 (5). Nicht gezählt: Fr 03.04.2026: Karfreitag; "
        "Sa 04.04.2026: Samstag; So 05.04.2026: Ostersonntag; Mo 06.04.2026: Ostermontag.",
        # after the due date weekends are left out of the sentence (the table has them)
        "Nach dem Fristende bis zur Erledigung: Mo 13.04.2026 (6).",
    ]
    xmas = explain.counting_sentences(explain.counted_days(con, d("04.01.2027"), ticket_id="xmas"))
    assert "Do 24.12.2026: Heiligabend (Schließtag)" in xmas[0]
    assert xmas[1] == (
        "Nach dem Fristende bis zum Stichtag: Mo 04.01.2027 (6). Nicht gezählt: "
        "Do 31.12.2026: Silvester (Schließtag); Fr 01.01.2027: Neujahr."
    )
    assert explain.counting_sentences(days.iloc[0:0]) == []


def test_ticket_facts_lookup_and_source(con):
    S = d("31.03.2026")
    assert explain.ticket_facts(con, S, ticket_id="T-2026-9999999").empty
    # case and surrounding blanks of a typed ID do not matter
    facts = explain.facts_record(explain.ticket_facts(con, S, ticket_id=" t-2026-0000007 "))
    assert facts["ticket_id"] == "T-2026-0000007"
    assert (facts["status"], facts["due_date"], facts["deadline_days"]) == (
        "overdue", d("09.03.2026"), 5,
    )  # fmt: skip
    assert (facts["load_id"], facts["file_name"], facts["source_record"]) == (1, "cases.csv", 5)
    assert facts["working_days_to_as_of"] == 21


def test_ticket_facts_scope(con):
    S = d("30.04.2026")
    # Bereich applies, the period does not (a ticket is looked up whatever month it is in)
    assert explain.ticket_facts(con, S, Filters(areas=("Integration",)), ticket_id="easter").empty
    old_period = Filters(period=(d("01.01.2020"), d("01.01.2020")))
    assert len(explain.ticket_facts(con, S, old_period, ticket_id="easter")) == 1
    assert explain.counted_days(con, S, Filters(teams=("X",)), ticket_id="easter").empty
    # received after S: known, but without a verdict yet
    later = explain.facts_record(explain.ticket_facts(con, d("31.03.2026"), ticket_id="easter"))
    assert later["status"] is None
    assert explain.verdict_reasons(later, 5, d("31.03.2026")) == [
        f"Eingang am Mittwoch, 01.04.2026 – {AFTER}."
    ]
    assert explain.counted_days(con, d("31.03.2026"), ticket_id="easter").empty


def test_status_sentence_states_the_status_of_verdicts(con):
    S = d("30.04.2026")
    verdicts = ticket_verdicts(con, S).set_index("ticket_id")["status"]
    for ticket, status in verdicts.items():
        facts = explain.facts_record(explain.ticket_facts(con, S, ticket_id=ticket))
        assert facts["status"] == status  # taken from verdicts(), never recomputed
        assert explain.status_reason(facts, S).endswith(f"→ {STATUS_LABELS[status]}.")


# ---------------------------------------------------------------------------------------
# verdict_reasons from facts: Leistung received Mon 02.03.2026, due Mon 09.03.2026 (N = 5).


def facts(**over) -> dict:
    base = {
        "ticket_id": "T1", "area": "Leistung", "team": "Leistung 1", "worker": "Anna Alt",
        "receipt_date": d("02.03.2026"), "channel": "Service-Center", "concern": "Allgemein",
        "completed_raw": None, "notified_raw": None, "commitment_date": None,
        "verbis_note": False, "called_back_raw": None, "tl_informed_raw": None,
        "walkin_note_raw": None, "due_date": d("09.03.2026"), "completion_date": None,
        "working_days": None, "status": "open", "notice_valid": False, "notified_date": None,
        "callback_date": None, "tl_informed_date": None, "walkin_note_date": None,
        "callback_ok": None, "walkin_note_ok": None, "tl_informed_ok": None,
        "deadline_days": 5, "working_days_to_as_of": None, "substitute": None,
    }  # fmt: skip
    return base | over


def done(day: str, working_days: int, status: str) -> dict:
    return {"completed_raw": d(day), "completion_date": d(day), "working_days": working_days,
            "status": status}  # fmt: skip


def valid_notice(told: str = "06.03.2026", until: str = "13.03.2026", **over) -> dict:
    return {"notified_raw": d(told), "notified_date": d(told), "commitment_date": d(until),
            "verbis_note": True, "notice_valid": True} | over  # fmt: skip


def open_at(days: int, status: str) -> dict:
    return {"working_days_to_as_of": days, "status": status}


# (id, facts, S, the one status sentence)
STATUS_CASES = [
    ("on-time-due-day", facts(**done("09.03.2026", 5, "on_time")), "31.03.2026",
     "Erledigt am 09.03.2026, am Tag des Fristendes 09.03.2026 → fristgerecht."),
    ("on-time-early", facts(**done("04.03.2026", 2, "on_time")), "31.03.2026",
     "Erledigt am 04.03.2026, vor dem Fristende 09.03.2026 → fristgerecht."),
    ("late-one-day", facts(**done("10.03.2026", 6, "late")), "31.03.2026",
     "Erledigt am 10.03.2026, einen Arbeitstag nach Fristende 09.03.2026, ohne gültige "
     "Zwischennachricht → verspätet."),
    # R Sat 07.03. -> D Fri 13.03.; completed Sat 14.03.: no working day later, yet after D
    ("late-on-saturday", facts(receipt_date=d("07.03.2026"), due_date=d("13.03.2026"),
                               **done("14.03.2026", 5, "late")), "31.03.2026",
     "Erledigt am 14.03.2026, einen Kalendertag nach Fristende 13.03.2026 (arbeitsfreier "
     "Tag), ohne gültige Zwischennachricht → verspätet."),
    ("extended-kept", facts(**valid_notice(), **done("12.03.2026", 8, "extended_kept")),
     "31.03.2026",
     "Erledigt am 12.03.2026, 3 Arbeitstage nach Fristende 09.03.2026, aber mit gültiger "
     "Zwischennachricht und spätestens am zugesagten Termin 13.03.2026 → verlängert, Zusage "
     "eingehalten."),
    ("extended-missed-done",
     facts(**valid_notice(), **done("16.03.2026", 10, "extended_missed")), "31.03.2026",
     "Erledigt am 16.03.2026, 5 Arbeitstage nach Fristende 09.03.2026; gültige "
     "Zwischennachricht, aber nach dem zugesagten Termin 13.03.2026 → Zusage nicht "
     "eingehalten."),
    ("extended-missed-open", facts(**valid_notice(), **open_at(21, "extended_missed")),
     "31.03.2026",
     "Am Stichtag 31.03.2026 offen, Fristende 09.03.2026 überschritten und die Zusage bis "
     "13.03.2026 ist abgelaufen → Zusage nicht eingehalten."),
    ("open", facts(**open_at(3, "open")), "05.03.2026",
     "Am Stichtag 05.03.2026 offen, die Frist endet am 09.03.2026 und ist noch nicht "
     "abgelaufen → offen."),
    ("open-due-today", facts(**open_at(5, "open")), "09.03.2026",
     "Am Stichtag 09.03.2026 offen, die Frist endet heute und ist noch nicht abgelaufen → "
     "offen."),
    ("open-extended", facts(**valid_notice(), **open_at(7, "open_extended")), "11.03.2026",
     "Am Stichtag 11.03.2026 offen, Fristende 09.03.2026 überschritten, aber gültige "
     "Zwischennachricht mit Zusage bis 13.03.2026 → offen, verlängert."),
    ("overdue", facts(**open_at(21, "overdue")), "31.03.2026",
     "Am Stichtag 31.03.2026 offen, Fristende 09.03.2026 überschritten (seit 16 "
     "Arbeitstagen), ohne gültige Zwischennachricht → überfällig."),
    ("overdue-one-day", facts(**open_at(6, "overdue")), "10.03.2026",
     "Am Stichtag 10.03.2026 offen, Fristende 09.03.2026 überschritten (seit einem "
     "Arbeitstag), ohne gültige Zwischennachricht → überfällig."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "fact", "as_of", "sentence"), STATUS_CASES, ids=[c[0] for c in STATUS_CASES]
)
def test_status_reason(case, fact, as_of, sentence):
    assert explain.status_reason(fact, d(as_of)) == sentence
    lines = explain.verdict_reasons(fact, 5, d(as_of))
    assert sentence in lines
    assert STATUS_LABELS[fact["status"]] in sentence


def test_every_status_has_a_case():
    assert {c[1]["status"] for c in STATUS_CASES} == set(STATUS_LABELS)


# (id, facts, S, sentence expected among the timeline lines)
TIMELINE_CASES = [
    ("receipt", facts(), "05.03.2026",
     "Eingang am Montag, 02.03.2026. Der Eingangstag zählt nicht mit; gezählt wird ab dem "
     "folgenden Tag (§ 26 SGB X i. V. m. § 187 Abs. 1 BGB)."),
    ("deadline", facts(), "05.03.2026",
     "Frist im Bereich Leistung: 5 Arbeitstage → Fristende am Montag, 09.03.2026 (Ende des "
     "Tages)."),
    ("deadline-integration",
     facts(area="Integration", due_date=d("04.03.2026"), deadline_days=2), "05.03.2026",
     "Frist im Bereich Integration: 2 Arbeitstage → Fristende am Mittwoch, 04.03.2026 (Ende "
     "des Tages)."),
    ("completed", facts(**done("10.03.2026", 6, "late")), "31.03.2026",
     "Erledigt am Dienstag, 10.03.2026, nach 6 Arbeitstagen (gezählt ab dem Tag nach "
     "Eingang)."),
    ("completed-next-day", facts(**done("03.03.2026", 1, "on_time")), "31.03.2026",
     "Erledigt am Dienstag, 03.03.2026, nach einem Arbeitstag (gezählt ab dem Tag nach "
     "Eingang)."),
    ("completed-after-s", facts(completed_raw=d("01.04.2026"), **open_at(21, "overdue")),
     "31.03.2026", f"Erledigt am 01.04.2026 – {AFTER}."),
    ("open", facts(**open_at(21, "overdue")), "31.03.2026",
     "Am Stichtag 31.03.2026 noch nicht erledigt (seit 21 Arbeitstagen)."),
    ("open-on-receipt-day", facts(**open_at(0, "open")), "02.03.2026",
     "Am Stichtag 02.03.2026 noch nicht erledigt."),
    ("substitute", facts(substitute="Bert Bach", **open_at(21, "overdue")), "31.03.2026",
     "Anna Alt ist am Stichtag abwesend; das Ticket steht auf der Wiedervorlage der "
     "Vertretung Bert Bach (A4, A8)."),
    ("no-notice", facts(), "05.03.2026",
     "Zwischennachricht: keine (Kunde nicht informiert, keine Zusage)."),
    ("notice-valid", facts(**valid_notice(), **open_at(7, "open_extended")), "11.03.2026",
     "Zwischennachricht: Kunde informiert am 06.03.2026, Zusage bis 13.03.2026, "
     "VerBIS-Vermerk: ja → gültig (informiert spätestens am Fristende 09.03.2026, Zusage und "
     "Vermerk)."),
    ("notice-too-late", facts(**valid_notice(told="10.03.2026", notice_valid=False),
                              **open_at(21, "overdue")), "31.03.2026",
     "Zwischennachricht: Kunde informiert am 10.03.2026, Zusage bis 13.03.2026, "
     "VerBIS-Vermerk: ja → nicht gültig (Kunde erst nach dem Fristende 09.03.2026 "
     "informiert)."),
    ("notice-no-verbis", facts(**valid_notice(verbis_note=False, notice_valid=False),
                               **open_at(21, "overdue")), "31.03.2026",
     "Zwischennachricht: Kunde informiert am 06.03.2026, Zusage bis 13.03.2026, "
     "VerBIS-Vermerk: nein → nicht gültig (kein VerBIS-Vermerk)."),
    ("notice-no-commitment", facts(**valid_notice(commitment_date=None, notice_valid=False),
                                   **open_at(21, "overdue")), "31.03.2026",
     "Zwischennachricht: Kunde informiert am 06.03.2026, keine Zusage bis, VerBIS-Vermerk: ja "
     "→ nicht gültig (keine Zusage bis)."),
    ("notice-after-s", facts(**valid_notice(told="01.04.2026", notified_date=None,
                                          notice_valid=False), **open_at(21, "overdue")),
     "31.03.2026",
     f"Zwischennachricht: Kunde informiert am 01.04.2026 ({AFTER}), Zusage bis 13.03.2026, "
     "VerBIS-Vermerk: ja → nicht gültig (Kunde bis zum Stichtag nicht informiert)."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "fact", "as_of", "sentence"), TIMELINE_CASES, ids=[c[0] for c in TIMELINE_CASES]
)
def test_timeline(case, fact, as_of, sentence):
    assert sentence in explain.verdict_reasons(fact, fact["deadline_days"], d(as_of))


CALLBACK = {"concern": "Rückruf"}
WALKIN = {"channel": "Vorsprache"}

# (id, facts, S, check, outcome, reason)
CHECK_CASES = [
    ("cb-ok", facts(**CALLBACK, callback_date=d("05.03.2026"), callback_ok=True), "31.03.2026",
     "A5 Rückruf", "erfüllt", "Rückruf am 05.03.2026, spätestens am Fristende 09.03.2026."),
    ("cb-termin", facts(concern="Termin", callback_date=d("09.03.2026"), callback_ok=True),
     "31.03.2026", "A5 Rückruf", "erfüllt",
     "Rückruf mit genauem Termin am 09.03.2026, spätestens am Fristende 09.03.2026."),
    ("cb-late", facts(**CALLBACK, callback_date=d("10.03.2026"), callback_ok=False),
     "31.03.2026", "A5 Rückruf", "nicht erfüllt",
     "Rückruf erst am 10.03.2026, nach dem Fristende 09.03.2026."),
    ("cb-missing", facts(**CALLBACK, callback_ok=False), "31.03.2026", "A5 Rückruf",
     "nicht erfüllt", "Kein Rückruf bis zum Fristende 09.03.2026 erfasst."),
    ("cb-after-s", facts(**CALLBACK, called_back_raw=d("01.04.2026"), callback_ok=False),
     "31.03.2026", "A5 Rückruf", "nicht erfüllt",
     f"Kein Rückruf bis zum Fristende 09.03.2026 erfasst. Rückruf am 01.04.2026 – {AFTER}."),
    ("cb-pending", facts(**CALLBACK), "05.03.2026", "A5 Rückruf", "noch offen",
     "Rückruf bis zum Fristende 09.03.2026 noch möglich."),
    ("cb-other-concern", facts(), "31.03.2026", "A5 Rückruf", "nicht anwendbar",
     "Anliegen „Allgemein“ (nur bei Rückruf oder Termin)."),
    ("wn-ok", facts(**WALKIN, walkin_note_date=d("02.03.2026"), walkin_note_ok=True),
     "31.03.2026", "A6 Vermerk an TL bei Vorsprache", "erfüllt",
     "Vermerk an TL am Tag der Vorsprache 02.03.2026."),
    ("wn-other-day", facts(**WALKIN, walkin_note_date=d("03.03.2026"), walkin_note_ok=False),
     "31.03.2026", "A6 Vermerk an TL bei Vorsprache", "nicht erfüllt",
     "Vermerk an TL am 03.03.2026 statt am Tag der Vorsprache 02.03.2026."),
    ("wn-missing", facts(**WALKIN, walkin_note_ok=False), "03.03.2026",
     "A6 Vermerk an TL bei Vorsprache", "nicht erfüllt",
     "Kein Vermerk an TL am Tag der Vorsprache 02.03.2026."),
    ("wn-pending", facts(**WALKIN), "02.03.2026", "A6 Vermerk an TL bei Vorsprache",
     "noch offen", "Vorsprache am Stichtag 02.03.2026: Vermerk an TL heute noch möglich."),
    ("wn-service-center", facts(), "31.03.2026", "A6 Vermerk an TL bei Vorsprache",
     "nicht anwendbar", "Eingangskanal „Service-Center“ (nur bei Vorsprache)."),
    ("tl-same-day", facts(**done("05.03.2026", 3, "on_time"), tl_informed_date=d("05.03.2026"),
                          tl_informed_ok=True), "31.03.2026",
     "A7 TL über Erledigung informiert", "erfüllt",
     "TL am 05.03.2026 informiert, am Tag der Erledigung."),
    ("tl-later", facts(**done("05.03.2026", 3, "on_time"), tl_informed_date=d("06.03.2026"),
                       tl_informed_ok=True), "31.03.2026",
     "A7 TL über Erledigung informiert", "erfüllt",
     "TL am 06.03.2026 informiert, nach dem Tag der Erledigung."),
    ("tl-before", facts(**done("05.03.2026", 3, "on_time"), tl_informed_date=d("04.03.2026"),
                        tl_informed_ok=False), "31.03.2026",
     "A7 TL über Erledigung informiert", "nicht erfüllt",
     "TL am 04.03.2026 informiert, vor der Erledigung am 05.03.2026."),
    ("tl-missing", facts(**done("05.03.2026", 3, "on_time"), tl_informed_ok=False),
     "31.03.2026", "A7 TL über Erledigung informiert", "nicht erfüllt",
     "TL nicht schriftlich über die Erledigung informiert."),
    ("tl-after-s", facts(**done("05.03.2026", 3, "on_time"), tl_informed_raw=d("07.03.2026"),
                         tl_informed_ok=False), "06.03.2026",
     "A7 TL über Erledigung informiert", "nicht erfüllt",
     f"TL nicht schriftlich über die Erledigung informiert. Information am 07.03.2026 – "
     f"{AFTER}."),
    ("tl-open", facts(), "05.03.2026", "A7 TL über Erledigung informiert", "nicht anwendbar",
     "am Stichtag noch nicht erledigt."),
    ("integration-a5", facts(area="Integration", **CALLBACK), "31.03.2026", "A5 Rückruf",
     "nicht anwendbar", "nur im Bereich Leistung."),
    ("integration-a6", facts(area="Integration", **WALKIN), "31.03.2026",
     "A6 Vermerk an TL bei Vorsprache", "nicht anwendbar", "nur im Bereich Leistung."),
    ("integration-a7", facts(area="Integration", **done("03.03.2026", 1, "on_time")),
     "31.03.2026", "A7 TL über Erledigung informiert", "nicht anwendbar",
     "nur im Bereich Leistung."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "fact", "as_of", "check", "outcome", "reason"),
    CHECK_CASES,
    ids=[c[0] for c in CHECK_CASES],
)
def test_check_reason(case, fact, as_of, check, outcome, reason):
    rows = {c: (o, r) for c, o, r in explain.check_reasons(fact, d(as_of))}
    assert rows[check] == (outcome, reason)
    assert f"{check}: {outcome} – {reason}" in explain.verdict_reasons(fact, 5, d(as_of))


def test_verdict_reasons_order():
    fact = facts(**CALLBACK, callback_date=d("05.03.2026"), callback_ok=True,
                 **done("10.03.2026", 6, "late"), tl_informed_date=d("10.03.2026"),
                 tl_informed_ok=True)  # fmt: skip
    lines = explain.verdict_reasons(fact, 5, d("31.03.2026"))
    assert lines[0].startswith("Eingang am Montag, 02.03.2026.")
    assert lines[1].startswith("Frist im Bereich Leistung: 5 Arbeitstage")
    assert lines[2].startswith("Zwischennachricht: keine")
    assert lines[3].startswith("Erledigt am Dienstag, 10.03.2026, nach 6 Arbeitstagen")
    assert lines[4] == (
        "Erledigt am 10.03.2026, einen Arbeitstag nach Fristende 09.03.2026, ohne gültige "
        "Zwischennachricht → verspätet."
    )
    assert [line.split(":")[0] for line in lines[5:]] == [
        "A5 Rückruf", "A6 Vermerk an TL bei Vorsprache", "A7 TL über Erledigung informiert",
    ]  # fmt: skip


def test_facts_record_gives_plain_values():
    frame = pd.DataFrame(
        {
            "due_date": [pd.Timestamp("2026-03-09")],
            "completion_date": [pd.NaT],
            "callback_ok": pd.array([None], dtype="boolean"),
            "working_days": pd.array([5], dtype="Int32"),
            "status": ["on_time"],
        }
    )
    assert explain.facts_record(frame) == {
        "due_date": d("09.03.2026"),
        "completion_date": None,
        "callback_ok": None,
        "working_days": 5,
        "status": "on_time",
    }
    assert explain.facts_record(frame.iloc[0:0]) is None
