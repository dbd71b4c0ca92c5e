"""Findings: the tickets behind each breach, one row per ticket and rule it breaks.

RULES.md "Findings": every ticket judged as of S gets zero or more findings, each naming
the rule it breaks. They are computed in SQL from the verdicts (`verdicts(as_of)`, i.e. from
the raw events over the calendar table), one `unnest` of a list of conditions per ticket,
never in a Python loop. The dashboard page "Regelverstöße", the `findings` command and the
reports all read `ticket_findings`. No Streamlit here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import pandas as pd

from dashboard.core.rules import STATUS_LABELS
from dashboard.queries.filters import NO_FILTERS, Filters, Query, ordered_by, status_in

# finding code -> (condition on a verdict row, as of S). The codes are RULES.md's, in its order.
# K (`notified_date`) is already cut at S by the verdicts; the three notice findings apply
# only to tickets not completed on time (status other than on_time).
_NOT_ON_TIME = f"NOT {status_in(['on_time'])}"
CONDITIONS: dict[str, str] = {
    "late_without_notice": status_in(["late", "overdue"]),
    "commitment_missed": status_in(["extended_missed"]),
    "notice_without_verbis": f"{_NOT_ON_TIME} AND notified_date <= due_date "
    "AND commitment_date IS NOT NULL AND NOT verbis_note",
    "notice_without_commitment": f"{_NOT_ON_TIME} AND notified_date <= due_date "
    "AND commitment_date IS NULL",
    "notice_too_late": f"{_NOT_ON_TIME} AND notified_date > due_date",
    "callback_missing": "callback_ok = false",
    "walkin_note_missing": "walkin_note_ok = false",
    "tl_not_informed": "tl_informed_ok = false",
}
FINDINGS = tuple(CONDITIONS)

# German wording for pages and files.
FINDING_LABELS = {
    "late_without_notice": "Frist überschritten ohne gültige Zwischennachricht",
    "commitment_missed": "Zusage nicht eingehalten",
    "notice_without_verbis": "Zwischennachricht ohne VerBIS-Vermerk",
    "notice_without_commitment": "Zwischennachricht ohne Zusage",
    "notice_too_late": "Zwischennachricht nach Fristende",
    "callback_missing": "Rückruf fehlt oder zu spät",
    "walkin_note_missing": "Vermerk an TL bei Vorsprache fehlt",
    "tl_not_informed": "TL nicht über Erledigung informiert",
}
# The rule of the instruction a finding breaks, per Bereich (RULES.md "Findings").
FINDING_RULES = {
    "late_without_notice": {"Leistung": "A2/A3", "Integration": "B1/B2"},
    "commitment_missed": {"Leistung": "A3", "Integration": "B2"},
    "notice_without_verbis": {"Leistung": "A3", "Integration": "B2"},
    "notice_without_commitment": {"Leistung": "A3", "Integration": "B2"},
    "notice_too_late": {"Leistung": "A3", "Integration": "B2"},
    "callback_missing": {"Leistung": "A5"},
    "walkin_note_missing": {"Leistung": "A6"},
    "tl_not_informed": {"Leistung": "A7"},
}

# German headers of the download, in this order.
EXPORT_COLUMNS = {
    "finding_label": "Regelverstoß",
    "rule": "Regel",
    "ticket_id": "Ticket-ID",
    "area": "Bereich",
    "team": "Team",
    "worker": "Bearbeiter",
    "receipt_date": "Eingang",
    "due_date": "Fällig am",
    "completion_date": "Erledigt am",
    "status_label": "Status",
    "finding": "Code",
}


def _checked(findings: Sequence[str]) -> list[str]:
    unknown = set(findings) - set(FINDINGS)
    if unknown:
        raise ValueError(f"unknown finding: {sorted(unknown)}")
    return list(findings)


def _query(
    as_of: dt.date, filters: Filters, findings: Sequence[str], worker: str | None = None
) -> Query:
    # One list per ticket with a code where its condition holds, unnested and the NULLs
    # dropped: a single pass over the verdicts for all eight findings. The conditions are
    # this module's own text; the chosen findings travel as a parameter.
    cases = ",\n".join(f"CASE WHEN {cond} THEN '{code}' END" for code, cond in CONDITIONS.items())
    return filters.verdicts(as_of).wrap(
        f"""
        WITH f AS (
            SELECT ticket_id, area, team, worker, receipt_date, due_date, completion_date,
                   status, month, unnest([{cases}]) AS finding
            FROM {{rows}}
        )
        SELECT * FROM f
        WHERE finding IS NOT NULL AND (len($findings) = 0 OR list_contains($findings, finding))
          AND ($worker IS NULL OR worker = $worker)
        """,
        findings=_checked(findings),
        worker=worker,
    )


@ordered_by("team", "worker", "due_date", "ticket_id", "finding_no")
def ticket_findings(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    findings: Sequence[str] = (),
    worker: str | None = None,
) -> pd.DataFrame:
    """One row per finding of every filtered ticket (optionally only the given codes and
    one worker)."""
    frame = (
        _query(as_of, filters, findings, worker)
        .wrap("SELECT * FROM {rows} ORDER BY ticket_id, finding")
        .df(con)
    )
    frame["finding_no"] = frame["finding"].map(FINDINGS.index).astype("int64")
    frame["finding_label"] = frame["finding"].map(FINDING_LABELS)
    frame["rule"] = [
        FINDING_RULES[f].get(a, "") for f, a in zip(frame["finding"], frame["area"], strict=True)
    ]
    return frame


def counts(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    by: Sequence[str] = ("finding",),
    findings: Sequence[str] = (),
    worker: str | None = None,
) -> pd.DataFrame:
    """Findings and distinct tickets per finding (and team and/or worker when asked)."""
    unknown = set(by) - {"finding", "team", "worker"}
    if unknown:
        raise ValueError(f"unknown grouping: {sorted(unknown)}")
    keys = ", ".join(by)
    frame = (
        _query(as_of, filters, findings, worker)
        .wrap(
            f"SELECT {keys}, count(*) AS findings, count(DISTINCT ticket_id) AS tickets "
            f"FROM {{rows}} GROUP BY {keys} ORDER BY {keys}"
        )
        .df(con)
    )
    if "finding" in by:
        frame["finding_label"] = frame["finding"].map(FINDING_LABELS)
        frame = frame.sort_values(
            "finding", key=lambda s: s.map(FINDINGS.index), kind="stable", ignore_index=True
        )
    return frame


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The findings with German headers and labels, for CSV and Excel downloads."""
    out = frame.assign(status_label=frame["status"].map(STATUS_LABELS))
    return out[list(EXPORT_COLUMNS)].rename(columns=EXPORT_COLUMNS)
