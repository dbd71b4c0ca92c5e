"""One ticket explained: its timeline, the days counted and how its verdict came about.

A team leader uses this to explain a verdict to the worker. The verdict itself (due date,
working days, status, checks) comes from `verdicts(as_of)` and is never recomputed here;
the sentences only say, in German, which facts led to it. `verdict_reasons` and its parts
are pure functions of a facts dict (see `facts_record`), so they are tested without a
database.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import duckdb
import pandas as pd

from dashboard.core.rules import BREACHES, COMPLIANT, STATUS_LABELS
from dashboard.queries.filters import NO_FILTERS, Filters, Query

WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
AFTER_AS_OF = "nach dem Stichtag – noch nicht berücksichtigt"
CHECK_LABELS = {
    "callback_ok": "A5 Rückruf",
    "walkin_note_ok": "A6 Vermerk an TL bei Vorsprache",
    "tl_informed_ok": "A7 TL über Erledigung informiert",
}
OUTCOMES = {True: "erfüllt", False: "nicht erfüllt", None: "noch offen"}
NOT_APPLICABLE = "nicht anwendbar"


def _ticket(filters: Filters, ticket_id: str, as_of: dt.date) -> Query:
    """The stored ticket with this ID (any receipt date) within Bereich, team and worker.

    Viewer restrictions arrive as teams/workers; the period does not apply (a ticket is
    looked up by its ID whatever month it falls in). An exact match wins over one that
    differs only in case.
    """
    # A substitute may open the tickets they cover at the Stichtag (A4).
    return (
        replace(filters, covered=True)
        .tickets(None, cover_date=as_of)
        .wrap(
            """
        SELECT * FROM {rows} WHERE lower(ticket_id) = lower(trim($ticket_id))
        ORDER BY (ticket_id = trim($ticket_id)) DESC, ticket_id LIMIT 1
        """,
            ticket_id=ticket_id,
        )
    )


def ticket_facts(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    *,
    ticket_id: str,
) -> pd.DataFrame:
    """The ticket's verdict row, its raw events and where it was loaded from (0 or 1 row).

    A ticket received after `as_of` is returned with an empty status: it exists but is not
    yet part of any verdict.
    """
    return (
        _ticket(filters, ticket_id, as_of)
        .wrap(
            """
        SELECT t.ticket_id, t.area, t.team, t.worker,
               t.received AS receipt_date, t.channel, t.concern,
               -- the raw events, also those after the Stichtag (shown as not yet counted)
               t.completed AS completed_raw, t.notified AS notified_raw,
               t.commitment AS commitment_date, t.verbis_note,
               t.called_back AS called_back_raw, t.tl_informed AS tl_informed_raw,
               t.walkin_note AS walkin_note_raw,
               -- the verdict as of the Stichtag
               v.due_date, v.completion_date, v.working_days, v.status, v.notice_valid,
               v.notified_date, v.callback_date, v.tl_informed_date, v.walkin_note_date,
               v.callback_ok, v.walkin_note_ok, v.tl_informed_ok,
               dl.days AS deadline_days,
               s.wd_index - r.wd_index AS working_days_to_as_of,
               a.substitute,
               t.load_id, l.file_name, l.finished_at AS loaded_at, t.source_record
        FROM {rows} t
        JOIN deadlines dl ON dl.area = t.area
        JOIN calendar r ON r.day = t.received
        JOIN calendar s ON s.day = $as_of::DATE
        LEFT JOIN (
            SELECT * FROM verdicts($as_of::DATE)
            WHERE lower(ticket_id) = lower(trim($ticket_id))
        ) v ON v.ticket_id = t.ticket_id
        LEFT JOIN load_log l ON l.load_id = t.load_id
        -- as metrics.open_tickets: who has the ticket while the assignee is absent at S
        LEFT JOIN cover($as_of::DATE) a ON a.worker = t.worker
        """,
            as_of=as_of,
        )
        .df(con)
    )


def counted_days(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    *,
    ticket_id: str,
) -> pd.DataFrame:
    """One row per calendar day from receipt+1 to max(due, completion or Stichtag).

    `working_day` is the running number of the working day (R itself never counts); days
    off carry their reason from the calendar (Samstag, Sonntag, holiday or closing day).
    """
    weekdays = ", ".join(f"'{w}'" for w in WEEKDAYS)  # code constants, not input
    return (
        _ticket(filters, ticket_id, as_of)
        .wrap(
            f"""
        WITH f AS (
            SELECT v.ticket_id, v.receipt_date, v.due_date, v.completion_date, v.r_index,
                   CASE WHEN v.notice_valid THEN v.commitment_date END AS commitment_date
            FROM verdicts($as_of::DATE) v
            JOIN {{rows}} t ON t.ticket_id = v.ticket_id
        )
        SELECT c.day,
               [{weekdays}][isodow(c.day)] AS weekday,
               c.is_workday,
               c.off_reason,
               CASE WHEN c.is_workday THEN (c.wd_index - f.r_index)::INTEGER END AS working_day,
               c.day <= f.due_date AS within_deadline,
               c.day = f.due_date AS is_due_date,
               coalesce(c.day = f.completion_date, false) AS is_completion,
               coalesce(c.day = f.commitment_date, false) AS is_commitment,
               c.day = $as_of::DATE AS is_as_of,
               c.day > $as_of::DATE AS after_as_of,
               concat_ws(', ',
                   CASE WHEN c.day = f.due_date THEN 'Fristende' END,
                   CASE WHEN c.day = f.commitment_date THEN 'Zusage bis' END,
                   CASE WHEN c.day = f.completion_date THEN 'Erledigt' END,
                   CASE WHEN c.day = $as_of::DATE THEN 'Stichtag' END,
                   -- a future calendar day: known, but nothing on it has happened yet
                   CASE WHEN c.day > $as_of::DATE THEN 'nach dem Stichtag' END
               ) AS note
        FROM f
        JOIN calendar c
          ON c.day > f.receipt_date
         AND c.day <= greatest(f.due_date, coalesce(f.completion_date, $as_of::DATE))
        ORDER BY c.day
        """,
            as_of=as_of,
        )
        .df(con)
    )


# ---------------------------------------------------------------------------------------
# Pure explanation: German sentences from the facts (no database, no rule recomputed).


def _missing(value) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _date(value) -> dt.date | None:
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    return value


def _bool(value) -> bool | None:
    return None if _missing(value) else bool(value)


def facts_record(frame: pd.DataFrame) -> dict | None:
    """The first row of `ticket_facts` as plain Python values (dates, bools, None)."""
    if frame.empty:
        return None
    row = frame.iloc[0].to_dict()
    out: dict = {}
    for key, value in row.items():
        if _missing(value):
            out[key] = None
        elif isinstance(value, pd.Timestamp):
            out[key] = value.to_pydatetime() if key == "loaded_at" else value.date()
        elif hasattr(value, "item"):  # numpy scalars
            out[key] = value.item()
        else:
            out[key] = value
    return out


def fmt(day: dt.date | None) -> str:
    """date -> '09.03.2026'."""
    return "" if day is None else f"{day:%d.%m.%Y}"


def fmt_long(day: dt.date | None) -> str:
    """date -> 'Montag, 09.03.2026'."""
    return "" if day is None else f"{WEEKDAYS[day.weekday()]}, {day:%d.%m.%Y}"


def _short(day: dt.date) -> str:
    return f"{WEEKDAYS[day.weekday()][:2]} {day:%d.%m.%Y}"


def working_days_text(n: int, *, dative: bool = False) -> str:
    """1 -> 'einen Arbeitstag' ('einem' in the dative), 3 -> '3 Arbeitstage' ('…tagen')."""
    if n == 1:
        return "einem Arbeitstag" if dative else "einen Arbeitstag"
    return f"{n} Arbeitstagen" if dative else f"{n} Arbeitstage"


def _days_text(n: int) -> str:
    return "einen Kalendertag" if n == 1 else f"{n} Kalendertage"


def _relative_to_due(completion: dt.date, due: dt.date, working_days: int, deadline: int) -> str:
    """'am Tag des Fristendes 09.03.2026', 'einen Arbeitstag nach Fristende 09.03.2026' ..."""
    if completion == due:
        return f"am Tag des Fristendes {fmt(due)}"
    if completion < due:
        return f"vor dem Fristende {fmt(due)}"
    late_by = working_days - deadline
    if late_by > 0:
        return f"{working_days_text(late_by)} nach Fristende {fmt(due)}"
    # completed on a day off just after D: no working day passed, yet it is after D
    return f"{_days_text((completion - due).days)} nach Fristende {fmt(due)} (arbeitsfreier Tag)"


def _after(raw: dt.date | None, as_of: dt.date) -> bool:
    return raw is not None and raw > as_of


def notice_reason(facts: dict, as_of: dt.date) -> str:
    """Whether the customer notice with a commitment is valid (A3/B2), and why not."""
    due = _date(facts.get("due_date"))
    raw = _date(facts.get("notified_raw"))
    notified = _date(facts.get("notified_date"))
    commitment = _date(facts.get("commitment_date"))
    verbis = _bool(facts.get("verbis_note"))
    if raw is None and commitment is None and not verbis:
        return "Zwischennachricht: keine (Kunde nicht informiert, keine Zusage)."
    parts = []
    if raw is None:
        parts.append("Kunde informiert: nicht erfasst")
    elif _after(raw, as_of):
        parts.append(f"Kunde informiert am {fmt(raw)} ({AFTER_AS_OF})")
    else:
        parts.append(f"Kunde informiert am {fmt(raw)}")
    parts.append(f"Zusage bis {fmt(commitment)}" if commitment else "keine Zusage bis")
    parts.append("VerBIS-Vermerk: ja" if verbis else "VerBIS-Vermerk: nein")
    if _bool(facts.get("notice_valid")):
        verdict = f"gültig (informiert spätestens am Fristende {fmt(due)}, Zusage und Vermerk)"
    else:
        why = []
        if notified is None:
            why.append("Kunde bis zum Stichtag nicht informiert")
        elif due is not None and notified > due:
            why.append(f"Kunde erst nach dem Fristende {fmt(due)} informiert")
        if commitment is None:
            why.append("keine Zusage bis")
        if not verbis:
            why.append("kein VerBIS-Vermerk")
        verdict = "nicht gültig" + (" (" + ", ".join(why) + ")" if why else "")
    return "Zwischennachricht: " + ", ".join(parts) + " → " + verdict + "."


def timeline_reasons(facts: dict, deadline_days: int, as_of: dt.date) -> list[str]:
    """Receipt, deadline, notice and completion of the ticket as German sentences."""
    receipt = _date(facts.get("receipt_date"))
    if facts.get("status") is None:
        return [f"Eingang am {fmt_long(receipt)} – {AFTER_AS_OF}."]
    due = _date(facts.get("due_date"))
    completion = _date(facts.get("completion_date"))
    raw_completion = _date(facts.get("completed_raw"))
    lines = [
        f"Eingang am {fmt_long(receipt)}. Der Eingangstag zählt nicht mit; gezählt wird ab "
        "dem folgenden Tag (§ 26 SGB X i. V. m. § 187 Abs. 1 BGB).",
        f"Frist im Bereich {facts.get('area')}: {working_days_text(deadline_days)} → "
        f"Fristende am {fmt_long(due)} (Ende des Tages).",
        notice_reason(facts, as_of),
    ]
    if completion is not None:
        lines.append(
            f"Erledigt am {fmt_long(completion)}, nach "
            f"{working_days_text(int(facts['working_days']), dative=True)} "
            "(gezählt ab dem Tag nach Eingang)."
        )
    else:
        if _after(raw_completion, as_of):
            lines.append(f"Erledigt am {fmt(raw_completion)} – {AFTER_AS_OF}.")
        open_days = facts.get("working_days_to_as_of")
        since = ""
        if open_days:
            since = f" (seit {working_days_text(int(open_days), dative=True)})"
        lines.append(f"Am Stichtag {fmt(as_of)} noch nicht erledigt{since}.")
        if facts.get("substitute"):
            lines.append(
                f"{facts.get('worker')} ist am Stichtag abwesend; das Ticket steht auf der "
                f"Wiedervorlage der Vertretung {facts['substitute']} (A4, A8)."
            )
    return lines


def status_reason(facts: dict, as_of: dt.date) -> str:
    """One sentence: why the ticket has its status (taken from verdicts, not recomputed)."""
    status = facts.get("status")
    if status is None:
        return f"Noch kein Status: Eingang {AFTER_AS_OF}."
    label = STATUS_LABELS[status]
    due = _date(facts.get("due_date"))
    completion = _date(facts.get("completion_date"))
    commitment = _date(facts.get("commitment_date"))
    deadline = int(facts.get("deadline_days") or 0)
    if completion is not None:
        relative = _relative_to_due(completion, due, int(facts["working_days"]), deadline)
        head = f"Erledigt am {fmt(completion)}, {relative}"
        if status == "on_time":
            return f"{head} → {label}."
        if status == "late":
            return f"{head}, ohne gültige Zwischennachricht → {label}."
        if status == "extended_kept":
            return (
                f"{head}, aber mit gültiger Zwischennachricht und spätestens am zugesagten "
                f"Termin {fmt(commitment)} → {label}."
            )
        return (
            f"{head}; gültige Zwischennachricht, aber nach dem zugesagten Termin "
            f"{fmt(commitment)} → {label}."
        )
    head = f"Am Stichtag {fmt(as_of)} offen"
    if status == "open":
        when = "heute" if due == as_of else f"am {fmt(due)}"
        return f"{head}, die Frist endet {when} und ist noch nicht abgelaufen → {label}."
    past = ""
    open_days = facts.get("working_days_to_as_of")
    if open_days is not None and int(open_days) - deadline > 0:
        past = f" (seit {working_days_text(int(open_days) - deadline, dative=True)})"
    if status == "open_extended":
        return (
            f"{head}, Fristende {fmt(due)} überschritten, aber gültige Zwischennachricht mit "
            f"Zusage bis {fmt(commitment)} → {label}."
        )
    if status == "extended_missed":
        return (
            f"{head}, Fristende {fmt(due)} überschritten und die Zusage bis {fmt(commitment)} "
            f"ist abgelaufen → {label}."
        )
    return (
        f"{head}, Fristende {fmt(due)} überschritten{past}, ohne gültige Zwischennachricht "
        f"→ {label}."
    )


MET, NOT_MET, PENDING = OUTCOMES[True], OUTCOMES[False], OUTCOMES[None]


def _callback(facts: dict, as_of: dt.date) -> tuple[str, str]:
    concern = facts.get("concern")
    if concern not in ("Rückruf", "Termin"):
        return NOT_APPLICABLE, f"Anliegen „{concern}“ (nur bei Rückruf oder Termin)."
    value = _bool(facts.get("callback_ok"))
    due = fmt(_date(facts.get("due_date")))
    done = _date(facts.get("callback_date"))
    raw = _date(facts.get("called_back_raw"))
    later = f" Rückruf am {fmt(raw)} – {AFTER_AS_OF}." if _after(raw, as_of) else ""
    what = "Rückruf mit genauem Termin" if concern == "Termin" else "Rückruf"
    if value is True:
        return MET, f"{what} am {fmt(done)}, spätestens am Fristende {due}."
    if value is False and done is not None:
        return NOT_MET, f"{what} erst am {fmt(done)}, nach dem Fristende {due}."
    if value is False:
        return NOT_MET, f"Kein {what} bis zum Fristende {due} erfasst.{later}"
    return PENDING, f"{what} bis zum Fristende {due} noch möglich.{later}"


def _walkin(facts: dict, as_of: dt.date) -> tuple[str, str]:
    channel = facts.get("channel")
    if channel != "Vorsprache":
        return NOT_APPLICABLE, f"Eingangskanal „{channel}“ (nur bei Vorsprache)."
    value = _bool(facts.get("walkin_note_ok"))
    visit = fmt(_date(facts.get("receipt_date")))
    note = _date(facts.get("walkin_note_date"))
    raw = _date(facts.get("walkin_note_raw"))
    later = f" Vermerk am {fmt(raw)} – {AFTER_AS_OF}." if _after(raw, as_of) else ""
    if value is True:
        return MET, f"Vermerk an TL am Tag der Vorsprache {visit}."
    if value is False and note is not None:
        return NOT_MET, f"Vermerk an TL am {fmt(note)} statt am Tag der Vorsprache {visit}."
    if value is False:
        return NOT_MET, f"Kein Vermerk an TL am Tag der Vorsprache {visit}.{later}"
    return PENDING, f"Vorsprache am Stichtag {visit}: Vermerk an TL heute noch möglich."


def _tl_informed(facts: dict, as_of: dt.date) -> tuple[str, str]:
    completion = _date(facts.get("completion_date"))
    if completion is None:
        return NOT_APPLICABLE, "am Stichtag noch nicht erledigt."
    value = _bool(facts.get("tl_informed_ok"))
    informed = _date(facts.get("tl_informed_date"))
    raw = _date(facts.get("tl_informed_raw"))
    later = f" Information am {fmt(raw)} – {AFTER_AS_OF}." if _after(raw, as_of) else ""
    if value:
        when = "am Tag" if informed == completion else "nach dem Tag"
        return MET, f"TL am {fmt(informed)} informiert, {when} der Erledigung."
    if informed is not None:
        return (
            NOT_MET,
            f"TL am {fmt(informed)} informiert, vor der Erledigung am {fmt(completion)}.",
        )
    return NOT_MET, f"TL nicht schriftlich über die Erledigung informiert.{later}"


def check_reasons(facts: dict, as_of: dt.date) -> list[tuple[str, str, str]]:
    """(check, outcome, reason) for A5–A7; outcomes from verdicts, German reasons."""
    if facts.get("status") is None:
        return []
    rows = []
    for check, explain in (
        ("callback_ok", _callback),
        ("walkin_note_ok", _walkin),
        ("tl_informed_ok", _tl_informed),
    ):
        if facts.get("area") != "Leistung":
            rows.append((CHECK_LABELS[check], NOT_APPLICABLE, "nur im Bereich Leistung."))
            continue
        outcome, reason = explain(facts, as_of)
        rows.append((CHECK_LABELS[check], outcome, reason))
    return rows


def verdict_reasons(facts: dict, deadline_days: int, as_of: dt.date) -> list[str]:
    """The German sentences explaining the verdict: timeline, status and checks A5–A7."""
    lines = timeline_reasons(facts, deadline_days, as_of)
    if facts.get("status") is None:
        return lines
    lines.append(status_reason(facts, as_of))
    lines.extend(
        f"{check}: {outcome} – {reason}" for check, outcome, reason in check_reasons(facts, as_of)
    )
    return lines


def counting_sentences(days: pd.DataFrame) -> list[str]:
    """The counted working days up to the due date and after it, and every day skipped."""
    if days.empty:
        return []
    frame = days.assign(day=pd.to_datetime(days["day"]).dt.date)
    lines = []
    after = "bis zur Erledigung" if days["is_completion"].any() else "bis zum Stichtag"
    heads = ((True, "Bis zum Fristende gezählt"), (False, f"Nach dem Fristende {after}"))
    for within, head in heads:
        part = frame[frame["within_deadline"] == within]
        if part.empty:
            continue
        work = part[part["is_workday"]]
        counted = [
            f"{_short(d)} ({n})" for d, n in zip(work["day"], work["working_day"], strict=True)
        ]
        if len(counted) > 12:  # a long-open ticket: name the span, not every day
            counted = [*counted[:3], "…", *counted[-3:]]
        off = part[~part["is_workday"].astype(bool)]
        # after D, weekends add nothing to the explanation; holidays and closing days do
        if not within:
            off = off[~off["off_reason"].isin(["Samstag", "Sonntag"])]
        skipped = [f"{_short(d)}: {r}" for d, r in zip(off["day"], off["off_reason"], strict=True)]
        text = f"{head}: " + (", ".join(counted) if counted else "kein Arbeitstag") + "."
        if skipped:
            text += " Nicht gezählt: " + "; ".join(skipped) + "."
        lines.append(text)
    return lines


def status_tone(status: str | None) -> str:
    """'success', 'error' or 'info': how the page shows the status sentence."""
    if status in COMPLIANT:
        return "success"
    if status in BREACHES:
        return "error"
    return "info"
