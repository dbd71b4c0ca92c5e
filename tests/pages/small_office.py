"""A small hand-made office whose figures are worked out by hand in the page tests.

Stichtag S = Fri 29.05.2026; the pages' default period is May 2026 by due date, the previous
period April 2026. Deadlines (RULES.md): N working days strictly after the receipt R, 5 for
Leistung and 2 for Integration; working days are Mon–Fri except the Brandenburg holidays,
which in these weeks are Fri 03.04. (Karfreitag), Mon 06.04. (Ostermontag), Fri 01.05.,
Thu 14.05. (Himmelfahrt) and Mon 25.05. (Pfingstmontag). W = working days d with R < d <= C.

Working days of May 2026: 4 5 6 7 8 | 11 12 13 15 | 18 19 20 21 22 | 26 27 28 29
Working days of April 2026: 1 2 | 7 8 9 10 | 13–17 | 20–24 | 27 28 29 30
The first receipt is on 30.03.2026, so the sidebar offers March to May 2026.
"""

from __future__ import annotations

import base64
import datetime as dt

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.conftest import ticket_row

AS_OF = dt.date(2026, 5, 29)
LOGIN = "tl@jc.example"
TEAMS = ("Leistung 1", "Leistung 2", "Integration 1")
L1, L2, I1 = TEAMS
LEISTUNG = {"Bereich": "Leistung"}
INTEGRATION = {"Bereich": "Integration"}


def _ticket(ticket_id: str, team: str, worker: str, received: str, **fields: str) -> dict:
    area = INTEGRATION if team.startswith("Integration") else LEISTUNG
    return ticket_row(**{"Ticket-ID": ticket_id, "Team": team, "Bearbeiter": worker,
                         "Eingang": received, **area, **fields})  # fmt: skip


def _notice(notified: str, commitment: str) -> dict[str, str]:
    return {"Kunde informiert": notified, "Zusage bis": commitment, "VerBIS-Vermerk": "ja"}


# Each ticket with its due date D, working days W and status as of S, worked out by hand.
TICKETS = [
    # --- due in May 2026 (the period) ---
    # R Mon 04.05., D = 5th WD after (5 6 7 8 11) = Mon 11.05.; C Fri 08.05., W = 4: on_time.
    # A5 Rückruf 06.05. <= D: true. A7 TL informiert 08.05. >= C: true.
    _ticket("T01", L1, "Anna Alt", "04.05.2026", Erledigt="08.05.2026", Anliegen="Rückruf",
            **{"Rückruf erfolgt": "06.05.2026", "TL informiert": "08.05.2026"}),
    # R Wed 13.05., D = (15 18 19 20 21) Thu 21.05.; C Fri 22.05., W = 6, no notice: late.
    # A5 Termin without callback, S > D: false. A7 no TL informiert: false.
    _ticket("T02", L1, "Anna Alt", "13.05.2026", Erledigt="22.05.2026", Anliegen="Termin"),
    # R Tue 19.05., D = (20 21 22 26 27) Wed 27.05.; open at S > D, no notice: overdue.
    # A6 walk-in with Vermerk an TL on R: true. Open 7 WD at S (20 21 22 26 27 28 29).
    _ticket("T03", L1, "Anna Alt", "19.05.2026", Eingangskanal="Vorsprache",
            **{"Vermerk an TL": "19.05.2026"}),
    # R Wed 20.05., D = (21 22 26 27 28) Thu 28.05.; notice K 27.05. <= D, Z 05.06., VerBIS ja;
    # open at S, D < S <= Z: open_extended (undecided; a valid extension).
    _ticket("T04", L1, "Anna Alt", "20.05.2026", **_notice("27.05.2026", "05.06.2026")),
    # R Thu 30.04., D = (4 5 6 7 8; 01.05. holiday) Fri 08.05.; valid notice K 07.05., Z 12.05.;
    # C Mon 11.05. > D, <= Z, W = 6 (4 5 6 7 8 11): extended_kept.
    # A5 Rückruf 11.05. > D: false. A7 TL informiert 12.05. >= C: true.
    _ticket("T05", L1, "Bernd Berg", "30.04.2026", Erledigt="11.05.2026", Anliegen="Rückruf",
            **{"Rückruf erfolgt": "11.05.2026", "TL informiert": "12.05.2026"},
            **_notice("07.05.2026", "12.05.2026")),
    # R Fri 08.05., D = (11 12 13 15 18) Mon 18.05.; K 19.05. > D (too late, no valid notice);
    # C Wed 20.05., W = 7 (11 12 13 15 18 19 20): late. D falls in Bernd's absence 18.–22.05.
    # A6 walk-in with Vermerk an TL 11.05. != R: false. A7 TL informiert 19.05. < C: false.
    _ticket("T07", L1, "Bernd Berg", "08.05.2026", Erledigt="20.05.2026",
            Eingangskanal="Vorsprache", **{"Vermerk an TL": "11.05.2026",
                                           "TL informiert": "19.05.2026"},
            **_notice("19.05.2026", "22.05.2026")),
    # R Mon 11.05., D = (12 13 15 18 19) Tue 19.05.; C on D, W = 5: on_time.
    _ticket("T08", L2, "Dora Dill", "11.05.2026", Erledigt="19.05.2026"),
    # R Tue 12.05., D = (13 15 18 19 20) Wed 20.05.; valid notice K 18.05., Z 22.05.;
    # C Tue 26.05. > Z, W = 8 (13 15 18 19 20 21 22 26): extended_missed.
    _ticket("T09", L2, "Dora Dill", "12.05.2026", Erledigt="26.05.2026",
            **_notice("18.05.2026", "22.05.2026")),
    # Integration, R Wed 13.05., D = (15 18) Mon 18.05.; C Fri 15.05., W = 1: on_time.
    _ticket("T10", I1, "Carla Cordes", "13.05.2026", Erledigt="15.05.2026"),
    # Integration, R Fri 22.05., D = (26 27; 25.05. holiday) Wed 27.05.; C on D, W = 2: on_time.
    _ticket("T11", I1, "Carla Cordes", "22.05.2026", Erledigt="27.05.2026"),
    # Integration, R Wed 27.05., D = (28 29) Fri 29.05. = S; open, S <= D: open (undecided).
    # Open 2 WD at S (28 29).
    _ticket("T12", I1, "Carla Cordes", "27.05.2026"),
    # Integration, R Thu 21.05., D = (22 26) Tue 26.05.; open at S > D: overdue.
    # Open 5 WD at S (22 26 27 28 29).
    _ticket("T17", I1, "Carla Cordes", "21.05.2026"),
    # --- due in June: outside the period ---
    # R Mon 25.05. (a holiday; R never counts), D = (26 27 28 29, 01.06.) Mon 01.06.; open.
    # Open 4 WD at S (26 27 28 29).
    _ticket("T06", L1, "Bernd Berg", "25.05.2026"),
    # --- due in April 2026 (the previous period) ---
    # R Wed 01.04., D = (2 7 8 9 10; 03.04. and 06.04. holidays) Fri 10.04.; C Thu 09.04.,
    # W = 4 (2 7 8 9): on_time.
    _ticket("T13", L1, "Anna Alt", "01.04.2026", Erledigt="09.04.2026"),
    # R Mon 20.04., D = (21 22 23 24 27) Mon 27.04.; C Wed 29.04., W = 7: late.
    _ticket("T14", L1, "Bernd Berg", "20.04.2026", Erledigt="29.04.2026"),
    # Integration, R Thu 02.04., D = (7 8) Wed 08.04.; C Thu 09.04., W = 3 (7 8 9): late.
    _ticket("T15", I1, "Carla Cordes", "02.04.2026", Erledigt="09.04.2026"),
    # R Thu 16.04., D = (17 20 21 22 23) Thu 23.04.; C Mon 04.05., W = 11 (17, 20–24, 27–30,
    # 4; 01.05. holiday): late. At 29.04. it was still open past D: overdue then.
    _ticket("T16", L2, "Dora Dill", "16.04.2026", Erledigt="04.05.2026"),
    # R Mon 30.03., D = (31 1 2 7 8; 03.04. and 06.04. holidays) Wed 08.04.; C Thu 02.04.,
    # W = 3 (31 1 2): on_time. The only ticket received in March: nothing is due in March.
    _ticket("T18", L2, "Dora Dill", "30.03.2026", Erledigt="02.04.2026"),
]  # fmt: skip
# Bernd Berg is away 18.–22.05. (Anna Alt stands in): T07's due date falls in it.
ABSENCES = [["Bearbeiter", "Von", "Bis", "Vertretung"],
            ["Bernd Berg", "18.05.2026", "22.05.2026", "Anna Alt"]]  # fmt: skip


def open_page(file: str) -> AppTest:
    """The page `file` of the dashboard, run once for the team leader of the three teams."""
    at = AppTest.from_file("../../dashboard/app.py", default_timeout=60)
    at.user = {"is_logged_in": True, "email": LOGIN, "email_verified": True}
    at.switch_page(f"../pages/{file}")
    at.run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]  # widgets.guard turns failures into errors
    return at


def choose_period(at: AppTest, first: str, last: str) -> AppTest:
    """Set the sidebar's Von/Bis Monat ('2026-03') and run the page again."""
    at.selectbox(key="f_von").set_value(first)
    at.selectbox(key="f_bis").set_value(last).run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def metric_values(at: AppTest) -> dict[str, str]:
    """Label -> shown value of every st.metric."""
    return {m.label: m.value for m in at.metric}


def metric_deltas(at: AppTest) -> dict[str, str]:
    """Label -> shown change of every st.metric."""
    return {m.label: m.proto.delta for m in at.metric}


def plotly_array(value) -> list:
    """A Plotly data array as a (nested) list; Plotly sends numpy arrays base64-encoded."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = [int(n) for n in str(value.get("shape", len(flat))).split(",")]
        return flat.reshape(shape).tolist()
    return list(value)
