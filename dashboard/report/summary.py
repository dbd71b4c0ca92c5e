"""The management summary of a report: key figures beside their comparisons, and sentences.

Page 1 of the PDF shows per Bereich the compliant rate of the month beside the month before
and the same month a year earlier, against the target of 100 %, and three to five sentences
in plain German on what changed most and where. Everything here is derived from a `Report`
(already released for its reader), so the summary says nothing the tables do not.
"""

from __future__ import annotations

import math

import pandas as pd

from dashboard.core import format
from dashboard.core.months import MONTHS_DE, add_months, month_label
from dashboard.queries.monthly import TOTAL
from dashboard.report.figures import Report

TARGET = 1.0  # every decided ticket compliant (work instruction)
# A change smaller than this (in percentage points) is "unchanged": arrow →.
STEADY_POINTS = 0.5


def _rate(frame: pd.DataFrame, area: str, column: str = "compliant_rate") -> float:
    row = frame[frame["area"] == area]
    # no row, nothing decided, or hidden by the small-cell rule (management): no rate
    if row.empty or pd.isna(row["decided"].iloc[0]) or int(row["decided"].iloc[0]) == 0:
        return math.nan
    value = row[column].iloc[0]
    return math.nan if pd.isna(value) else float(value)


def _count(value: object) -> float:
    """A count as a float; NaN where the small-cell rule hid it."""
    return math.nan if pd.isna(value) else float(value)


def points(change: float) -> str:
    """A change of a rate in percentage points: '+2,1 Prozentpunkte', '–0,4 Prozentpunkte'."""
    if math.isnan(change):
        return "–"
    sign = "+" if change > 0 else "–" if change < 0 else "±"
    return f"{sign}{format.number(abs(change) * 100, 1)} Prozentpunkte"


def arrow(change: float) -> str:
    """↑ better, ↓ worse, → about the same (within half a percentage point), '' unknown."""
    if math.isnan(change):
        return ""
    if abs(change) * 100 < STEADY_POINTS:
        return "→"
    return "↑" if change > 0 else "↓"


def comparison(report: Report) -> pd.DataFrame:
    """Per Bereich and in total: the month's rates, the month before, a year before, changes."""
    rows = []
    for area in report.summary["area"]:
        now = _rate(report.summary, area)
        previous = _rate(report.previous, area)
        year_ago = _rate(report.year_ago, area)
        row = report.summary[report.summary["area"] == area].iloc[0]
        rows.append({
            "area": area,
            "compliant_rate": now,
            "previous_rate": previous,
            "year_ago_rate": year_ago,
            "change_previous": now - previous,
            "change_year": now - year_ago,
            "trend": arrow(now - previous),
            "target_gap": now - TARGET,
            "on_time_rate": _rate(report.summary, area, "on_time_rate"),
            "tickets": _count(row["tickets"]),
            "decided": _count(row["decided"]),
            "breaches": _count(row["breaches"]),
            "overdue": _count(row["overdue"]),
            "undecided": _count(row["undecided"]),
        })  # fmt: skip
    return pd.DataFrame(rows)


def short_month(month) -> str:
    """date(2026, 9, 1) -> 'Sep 2026'."""
    return f"{MONTHS_DE[month.month - 1][:3]} {month.year}"


# The columns of the key-figure table that hold numbers (right-aligned on page and paper).
NUMERIC = ("regelkonform", "Vormonat", "Vorjahr", "Ziel", "fristgerecht", "Tickets fällig",
           "Frist verfehlt", "noch in Frist", "Median AT")  # fmt: skip


def key_figures(report: Report) -> pd.DataFrame:
    """The key figures of page 1 as German text, one row per Bereich and in total.

    The page Monatsbericht shows exactly this frame, so page and PDF cannot differ.
    """
    table = comparison(report)
    median = report.summary.set_index("area")["median_working_days"]
    return pd.DataFrame({
        "Bereich": table["area"],
        "regelkonform": table["compliant_rate"].map(_percent),
        "Trend": table["trend"],
        "Vormonat": table["previous_rate"].map(_percent),
        "Vorjahr": table["year_ago_rate"].map(_percent),
        "Ziel": format.percent(TARGET),
        "fristgerecht": table["on_time_rate"].map(_percent),
        "Tickets fällig": table["tickets"].map(format.number),
        "Frist verfehlt": table["breaches"].map(format.number),
        "noch in Frist": table["undecided"].map(format.number),
        "Median AT": [
            "–" if pd.isna(median.get(a)) else format.number(median.get(a), 1)
            for a in table["area"]
        ],
    })  # fmt: skip


def _percent(value: float) -> str:
    return format.percent(None if pd.isna(value) else float(value))


def _teams_ranked(report: Report) -> pd.DataFrame:
    teams = report.teams[report.teams["decided"].astype(float).fillna(0) > 0]
    return teams.sort_values(["compliant_rate", "decided"], ascending=[True, False], kind="stable")


def sentences(report: Report) -> list[str]:
    """Three to five sentences on the month: level, biggest change, year, where, what is open."""
    month, before = month_label(report.month), month_label(add_months(report.month, -1))
    year = month_label(add_months(report.month, -12))
    table = comparison(report)
    total = table[table["area"] == TOTAL].iloc[0]
    if total["tickets"] == 0:
        return [f"Im {month} ist für diese Auswahl kein Ticket fällig geworden."]
    if math.isnan(total["tickets"]):
        return [
            f"Die Zahlen des {month} betreffen für diese Auswahl weniger als 5 Personen und "
            "werden deshalb nicht gezeigt."
        ]
    out = []
    if math.isnan(total["compliant_rate"]):
        out.append(f"Im {month} sind {format.number(total['tickets'])} Tickets fällig; "
                   "bis zum Stichtag ist noch keines entschieden.")  # fmt: skip
    else:
        text = (
            f"Im {month} wurden {format.percent(total['compliant_rate'])} der entschiedenen "
            f"Tickets regelkonform bearbeitet (Ziel: 100 %)"
        )
        change = total["change_previous"]
        if not math.isnan(change):
            # what the reader sees: a change that rounds to 0,0 points is none
            if round(abs(change) * 100, 1) == 0:
                text += f", genauso viele wie im {before}"
            else:
                direction = "mehr" if change > 0 else "weniger"
                text += (
                    f", {format.number(abs(change) * 100, 1)} Prozentpunkte {direction} "
                    f"als im {before}"
                )
        out.append(text + ".")
    areas = table[(table["area"] != TOTAL) & table["change_previous"].notna()]
    if len(areas) > 1:
        biggest = areas.loc[areas["change_previous"].abs().idxmax()]
        verb = "gestiegen" if biggest["change_previous"] > 0 else "gesunken"
        if abs(biggest["change_previous"]) * 100 >= STEADY_POINTS:
            out.append(
                f"Am stärksten verändert hat sich {biggest['area']}: die Quote ist von "
                f"{format.percent(biggest['previous_rate'])} auf "
                f"{format.percent(biggest['compliant_rate'])} {verb}."
            )
        else:
            out.append("In allen Bereichen ist die Quote gegenüber dem Vormonat fast unverändert.")
    if not math.isnan(total["change_year"]):
        higher = "höher" if total["change_year"] > 0 else "niedriger"
        out.append(
            f"Gegenüber dem {year} liegt die Quote "
            f"{format.number(abs(total['change_year']) * 100, 1)} Prozentpunkte {higher}."
            if abs(total["change_year"]) * 100 >= STEADY_POINTS
            else f"Gegenüber dem {year} ist die Quote fast unverändert."
        )
    teams = _teams_ranked(report)
    if len(teams) > 1:
        low, high = teams.iloc[0], teams.iloc[-1]
        out.append(
            f"Am niedrigsten war die Quote im Team {low['team']} ({low['area']}) mit "
            f"{format.percent(low['compliant_rate'])}, am höchsten im Team {high['team']} "
            f"({high['area']}) mit {format.percent(high['compliant_rate'])}."
        )
    breaches, undecided, overdue = total["breaches"], total["undecided"], total["overdue"]
    parts = [
        f"{format.number(breaches)} Tickets haben die Frist nicht eingehalten"
        f" (davon {format.number(overdue)} am Stichtag noch offen)"
        if breaches
        else "Kein Ticket hat die Frist verfehlt",
    ]
    if undecided and not math.isnan(undecided):
        parts.append(f"{format.number(undecided)} Tickets sind noch in der Frist oder Zusage")
    out.append("; ".join(parts) + ".")
    # a no-break space keeps "91,0 %" together where the sentence wraps (page, PDF, e-mail)
    return [sentence.replace(" %", "\u00a0%") for sentence in out[:5]]


def facts(report: Report) -> list[tuple[str, str]]:
    """Short label/value lines beside the trend: commitments, checks, repeat cases, samples."""
    ext = report.extensions
    # sums skip figures hidden by the small-cell rule; their Bereich totals are on page 1
    given = int(ext["notices"].sum()) if not ext.empty else 0
    kept, missed = (int(ext[c].sum()) if not ext.empty else 0
                    for c in ("extended_kept", "extended_missed"))  # fmt: skip
    lines = [
        ("Zusagen an Kunden (verlängerte Frist)",
         f"{format.number(given)} gegeben, {format.number(kept)} eingehalten, "
         f"{format.number(missed)} nicht eingehalten"),
    ]  # fmt: skip
    checks = report.checks
    if not checks.empty:
        total = checks[checks["team"] == "Bereich gesamt"].iloc[0]
        lines.append((
            "Prüfungen Leistung",
            f"Rückruf {format.percent(total['callback_rate'])}, Vorsprache-Vermerk "
            f"{format.percent(total['walkin_rate'])}, Teamleitung informiert "
            f"{format.percent(total['tl_informed_rate'])}",
        ))  # fmt: skip
    counts = report.repeat_counts
    cases = counts["cases"].iloc[-1]
    if not pd.isna(cases):
        text = (
            f"{format.number(cases)} Personen mit mindestens "
            f"{format.number(counts['threshold'].iloc[-1])} Fristverstößen im Monat"
        )
        pending = counts["pending"].iloc[-1]
        if not pd.isna(pending):
            text += f", Gespräch ausstehend: {format.number(pending)}"
        lines.append(("Wiederholte Fristverstöße", text))
    smp = report.samples
    lines.append((
        "Stichproben Integration",
        f"{format.number(len(smp))} Ziehungen, {format.number(smp['checked'].sum())} geprüft, "
        f"{format.number(smp['confirmed'].sum())} bestätigt, "
        f"{format.number(smp['not_confirmed'].sum())} nicht bestätigt"
        if len(smp) else "keine Ziehung in diesem Monat",
    ))  # fmt: skip
    return lines
