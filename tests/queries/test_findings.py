"""Findings (RULES.md "Findings"): hand-worked cases, one ticket each, through the real ETL."""

from __future__ import annotations

import pytest

from dashboard.queries import findings
from dashboard.queries.filters import Filters
from tests.conftest import d, ticket_row

S = d("31.03.2026")


def L(tid: str, completed: str = "", received: str = "02.03.2026", **more) -> dict:
    """A Leistung ticket received Mon 02.03.2026, due Mon 09.03.2026 (5 working days).

    A completed one has `TL informiert` on its completion day unless given (A7 kept), so
    each case shows only the findings it is about.
    """
    fields = {"Ticket-ID": tid, "Eingang": f"{received} 09:00", "Erledigt": completed}
    if completed and "TL informiert" not in more:
        fields["TL informiert"] = completed
    return ticket_row(**fields, **more)


def notice(k: str, z: str = "", verbis: str = "ja") -> dict:
    return {"Kunde informiert": k, "Zusage bis": z, "VerBIS-Vermerk": verbis}


# (ticket row, expected findings in RULES.md order), worked by hand as of S = 31.03.2026
CASES = [
    (L("on-time", "09.03.2026"), []),  # completed on D: on time
    (L("late", "11.03.2026"), ["late_without_notice"]),
    (L("overdue"), ["late_without_notice"]),  # open, S > D, no notice
    # valid notice, commitment 13.03. broken by completion 16.03.
    (L("missed", "16.03.2026", **notice("06.03.2026", "13.03.2026")), ["commitment_missed"]),
    # valid notice, commitment 20.03. kept
    (L("kept", "16.03.2026", **notice("06.03.2026", "20.03.2026")), []),
    # open, valid notice, S > Z: extended_missed
    (L("missed-open", **notice("06.03.2026", "20.03.2026")), ["commitment_missed"]),
    # notice without VerBIS note: not valid, so late, and the note is missing
    (
        L("no-verbis", "16.03.2026", **notice("06.03.2026", "20.03.2026", "nein")),
        ["late_without_notice", "notice_without_verbis"],
    ),
    (
        L("no-commitment", "16.03.2026", **notice("06.03.2026")),
        ["late_without_notice", "notice_without_commitment"],
    ),
    # K on D is in time; K the day after D is too late
    (L("k-on-d", "16.03.2026", **notice("09.03.2026")), ["late_without_notice",
                                                         "notice_without_commitment"]),
    (
        L("too-late", "16.03.2026", **notice("10.03.2026", "20.03.2026")),
        ["late_without_notice", "notice_too_late"],
    ),
    # deadline kept: the notice did not matter, even an incomplete one
    (L("on-time-notice", "09.03.2026", **notice("06.03.2026", "", "nein")), []),
    # K after S does not exist yet: no notice finding, just overdue
    (L("k-after-s", **notice("01.04.2026", "20.04.2026")), ["late_without_notice"]),
    # open within the deadline (received Mon 30.03., due Wed 08.04. after Easter): not on
    # time yet, so an incomplete notice already shows
    (L("open-notice", received="30.03.2026", **notice("31.03.2026")),
     ["notice_without_commitment"]),
    (L("open-plain", received="30.03.2026"), []),
    # A5: callback missing once S > D, or after D
    (L("cb-missing", "05.03.2026", Anliegen="Rückruf"), ["callback_missing"]),
    (L("cb-late", "05.03.2026", Anliegen="Termin", **{"Rückruf erfolgt": "10.03.2026"}),
     ["callback_missing"]),
    (L("cb-ok", "05.03.2026", Anliegen="Rückruf", **{"Rückruf erfolgt": "09.03.2026"}), []),
    (L("cb-pending", received="30.03.2026", Anliegen="Rückruf"), []),  # S <= D: not yet
    # A6: the note to the TL on the day of the visit
    (L("walkin-other-day", "05.03.2026", Eingangskanal="Vorsprache",
       **{"Vermerk an TL": "03.03.2026"}), ["walkin_note_missing"]),
    (L("walkin-none", "05.03.2026", Eingangskanal="Vorsprache"), ["walkin_note_missing"]),
    (L("walkin-ok", "05.03.2026", Eingangskanal="Vorsprache",
       **{"Vermerk an TL": "02.03.2026"}), []),
    # A7: TL informed before completion, or not at all
    (L("tl-early", "05.03.2026", **{"TL informiert": "04.03.2026"}), ["tl_not_informed"]),
    (L("tl-none", "05.03.2026", **{"TL informiert": ""}), ["tl_not_informed"]),
    (L("tl-after-s", "05.03.2026", **{"TL informiert": "01.04.2026"}), ["tl_not_informed"]),
    # several at once
    (
        L("three", "11.03.2026", Anliegen="Rückruf", **{"TL informiert": ""}),
        ["late_without_notice", "callback_missing", "tl_not_informed"],
    ),
    # Integration (B1/B2: 2 working days, due Wed 04.03.): no A5-A7 findings
    (
        ticket_row(**{"Ticket-ID": "int-late", "Bereich": "Integration", "Team": "Integration 1",
                      "Eingang": "02.03.2026 09:00", "Erledigt": "06.03.2026",
                      "Anliegen": "Rückruf", "Eingangskanal": "Vorsprache"}),
        ["late_without_notice"],
    ),
    # Validity: received before 28.03.2012 is not judged; on 28.03.2012 it is
    (L("before-validity", received="27.03.2012"), []),
    (L("validity-day", received="28.03.2012"), ["late_without_notice"]),
]  # fmt: skip


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    from dashboard.core.config import load_config
    from dashboard.core.storage import connect_readonly
    from etl.load import load_files
    from etl.sources import csv_text
    from tests.conftest import HEADER

    tmp = tmp_path_factory.mktemp("findings")
    config = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(tmp / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(tmp / "key"),
        }
    )
    export = tmp / "export.csv"
    rows = [row for row, _ in CASES]
    export.write_bytes(csv_text([HEADER, *[[r.get(h, "") for h in HEADER] for r in rows]]).encode())
    results = load_files(config, [export], [])
    assert all(r.reconciled and not r.refused for r in results)
    assert results[0].rows_loaded == len(CASES), results[0].summary()
    con = connect_readonly(config)
    yield con
    con.close()


@pytest.mark.parametrize(("row", "expected"), CASES, ids=[row["Ticket-ID"] for row, _ in CASES])
def test_findings_of_a_ticket(found, row, expected):
    frame = findings.ticket_findings(found, S, Filters())
    mine = frame[frame["ticket_id"] == row["Ticket-ID"]]
    got = sorted(mine["finding"], key=findings.FINDINGS.index)
    assert got == expected


def test_every_finding_has_a_case_label_and_rule():
    covered = {f for _, expected in CASES for f in expected}
    assert covered == set(findings.FINDINGS)
    assert set(findings.FINDING_LABELS) == set(findings.FINDINGS) == set(findings.FINDING_RULES)


def test_filter_by_finding_and_counts(found):
    only = findings.ticket_findings(found, S, Filters(), findings=("callback_missing",))
    assert sorted(only["ticket_id"]) == ["cb-late", "cb-missing", "three"]
    assert set(only["rule"]) == {"A5"}
    per = findings.counts(found, S, Filters()).set_index("finding")
    expected = {}
    for _, codes in CASES:
        for code in codes:
            expected[code] = expected.get(code, 0) + 1
    assert per["findings"].to_dict() == expected
    assert list(per.index) == sorted(expected, key=findings.FINDINGS.index)
    with pytest.raises(ValueError, match="unknown finding"):
        findings.ticket_findings(found, S, Filters(), findings=("x'; DROP",))


def test_rule_names_follow_the_bereich(found):
    frame = findings.ticket_findings(found, S, Filters())
    rules = dict(zip(frame["ticket_id"] + "/" + frame["finding"], frame["rule"], strict=True))
    assert rules["late/late_without_notice"] == "A2/A3"
    assert rules["int-late/late_without_notice"] == "B1/B2"


def test_findings_follow_the_reference_date(found):
    # On 09.03.2026 (= D of the March tickets) nothing of them is late yet.
    frame = findings.ticket_findings(found, d("09.03.2026"), Filters())
    assert "late" not in set(frame["ticket_id"])
    assert "overdue" not in set(frame["ticket_id"])
