"""What a report was computed with, in words: the selection and the rules of RULES.md."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.core.config import AREAS, Config
from dashboard.core.months import month_label
from dashboard.core.rules import STATUS_LABELS, STATUSES
from dashboard.queries.filters import Filters

STATUS_TEXT = {
    "on_time": "erledigt bis zum Fälligkeitstag",
    "extended_kept": "erledigt nach Fristende, gültige Zusage, bis zum Zusage-Datum",
    "extended_missed": "gültige Zusage, aber nach dem Zusage-Datum erledigt oder noch offen",
    "late": "erledigt nach Fristende ohne gültige Zusage",
    "open": "nicht erledigt, Frist läuft noch",
    "open_extended": "nicht erledigt nach Fristende, gültige Zusage läuft noch",
    "overdue": "nicht erledigt nach Fristende ohne gültige Zusage",
}


def scope_label(filters: Filters) -> str:
    """The selection in words: 'alle Bereiche, alle Teams'."""
    # viewer.restrict narrows to a team name no ticket has ("\x00none") when nothing is left
    teams = [t for t in filters.teams if not t.startswith("\x00")]
    parts = [
        f"Bereich {', '.join(filters.areas)}" if filters.areas else "alle Bereiche",
        f"Teams {', '.join(teams) or 'keine'}" if filters.teams else "alle Teams",
    ]
    if filters.workers:
        parts.append(f"Bearbeiter/in {', '.join(filters.workers)}")
    return ", ".join(parts)


def rules_table(config: Config, month: dt.date, as_of: dt.date, filters: Filters) -> pd.DataFrame:
    """The rules and settings the report was computed with, as label/value rows."""
    closing = ", ".join(config.calendar.closing_days) or "keine"
    threshold = config.rules.repeat_threshold
    rows: list[tuple[str, object]] = [
        ("Berichtsmonat", month_label(month)),
        ("Stichtag", as_of),
        ("Zuordnung zum Monat", "Monat nach Fälligkeit: ein Ticket zählt im Monat seines "
                                "Fälligkeitsdatums"),
        ("Auswahl", scope_label(filters)),
        *[(f"Frist {area} ({'A2' if area == 'Leistung' else 'B1'})",
           f"{config.deadline(area)} Arbeitstage nach Eingang") for area in AREAS],
        ("Arbeitstage", "Montag bis Freitag ohne Feiertage und Schließtage; der Eingangstag "
                        "zählt nicht mit"),
        ("Feiertage", f"gesetzliche Feiertage des Bundeslandes {config.calendar.holiday_state}"),
        ("Schließtage", f"{closing} (TT.MM. = jedes Jahr)"),
        ("Fristende", "Ende des Fälligkeitstages: am Fälligkeitstag erledigt ist fristgerecht"),
        ("Gültige Zusage (A3, B2)", "Kunde bis zum Fälligkeitstag informiert, Zusage-Datum "
                                    "vorhanden und VerBIS-Vermerk ja"),
        *[(f"Status „{STATUS_LABELS[s]}“", STATUS_TEXT[s]) for s in STATUSES],
        ("Regelkonform", "fristgerecht oder verlängert mit eingehaltener Zusage"),
        ("Fristverstoß", "verspätet, Zusage nicht eingehalten oder überfällig"),
        ("Quoten", "zählen nur entschiedene Tickets: erledigte sowie offene nach Fristende "
                   "(bei gültiger Zusage nach dem Zusage-Datum)"),
        ("Prüfungen A5–A7", "nur Leistung; leere Prüfungen zählen nicht mit"),
        ("Wiederholungsfall (A10)", f"ab {threshold} Fristverstößen einer Person im Monat "
                                    "(Monat nach Fälligkeit)"),
        ("Stand am Stichtag", "Ereignisse, Gespräche, Stichproben-Ergebnisse und Ladevorgänge "
                              "nach dem Stichtag zählen nicht"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["label", "value"])
