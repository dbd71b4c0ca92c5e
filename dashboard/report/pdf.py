"""The printable report: A4 landscape pages of key figures and charts, drawn by matplotlib."""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from collections.abc import Callable

import pandas as pd

from dashboard.core import format
from dashboard.core.labels import AREA_COLORS, STATUS_COLORS
from dashboard.core.months import MONTHS_DE, month_label
from dashboard.core.rules import BREACHES, STATUS_LABELS
from dashboard.queries.monthly import TOTAL
from dashboard.report.columns import KEY_FIGURES, columns_of
from dashboard.report.figures import Report
from dashboard.report.rules import scope_label

A4_LANDSCAPE = (11.69, 8.27)  # inches
GREY, GRID, HEADER = "#555555", "#DDDDDD", "#DDE3EA"


def _axis(axis, percent: bool = False) -> None:
    from matplotlib.ticker import FuncFormatter

    def label(value: float, _pos) -> str:
        if percent:
            return format.percent(value, 0)
        return format.number(value) if float(value).is_integer() else ""

    axis.set_major_formatter(FuncFormatter(label))


def _heading(fig, title: str, subtitle: str) -> None:
    fig.text(0.05, 0.94, title, fontsize=18, fontweight="bold", va="top")
    fig.text(0.05, 0.895, subtitle, fontsize=10, color="#444444", va="top")


def _chart(fig, report: Report, title: str, bottom: float = 0.14):
    """A page of one horizontal bar chart: title, the month and Stichtag, axes with a grid."""
    _heading(fig, title, f"Tickets fällig im {month_label(report.month)} · Stand am Stichtag "
             f"{format.date(report.as_of)}")  # fmt: skip
    ax = fig.add_axes((0.25, bottom, 0.68, 0.84 - bottom))
    ax.grid(axis="x", color=GRID)
    ax.set_axisbelow(True)
    return ax


def _empty(ax, text: str) -> None:
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=14, color=GREY,
            transform=ax.transAxes)  # fmt: skip


def _rows(ax, labels, ends, notes) -> range:
    """The y positions of bars, the first on top, with their labels and a note at each end."""
    y = range(len(labels))[::-1]
    ax.set_yticks(y, list(labels))
    for yi, end, note in zip(y, ends, notes, strict=True):
        ax.text(end, yi, f"  {note}", va="center", fontsize=9)
    return y


def _team_names(frame: pd.DataFrame) -> pd.Series:
    return frame["team"] + " (" + frame["area"] + ")"


def _title_page(fig, report: Report, generated_at: dt.datetime) -> None:
    fig.text(0.05, 0.90, report.title, fontsize=26, fontweight="bold")
    lines = [
        f"Ticket-Controlling · Tickets fällig im {month_label(report.month)} "
        "(Monat nach Fälligkeit)",
        f"Stichtag {format.date(report.as_of)} · {scope_label(report.filters)}",
        f"Erstellt am {generated_at:%d.%m.%Y %H:%M}",
    ]
    for i, line in enumerate(lines):
        fig.text(0.05, 0.85 - i * 0.035, line, fontsize=12, color="#333333")
    ax = fig.add_axes((0.05, 0.40, 0.90, 0.32))
    ax.axis("off")
    shown = columns_of(KEY_FIGURES)
    cells = [[c.text(v) for c, v in zip(shown, row, strict=True)]
             for row in report.summary[[c.key for c in shown]].itertuples(index=False)]  # fmt: skip
    header = [textwrap.fill(c.header, 12, break_long_words=False) for c in shown]
    table = ax.table(cellText=cells, colLabels=header, loc="upper center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(11)
    table.scale(1, 2.2)
    for (r, _c), cell in table.get_celld().items():
        if r == 0:
            cell.set_height(cell.get_height() * 1.6)
            cell.set_facecolor(HEADER)
            cell.set_text_props(fontweight="bold", fontsize=10)
        elif cells[r - 1][0] == TOTAL:
            cell.set_text_props(fontweight="bold")
    cases, smp = report.repeat_cases, report.samples
    facts = []
    if cases is not None:  # not for a viewer without figures per person
        pending = int((cases["conversation"] == "ausstehend").sum())
        facts.append(f"Wiederholungsfälle (A10): {format.number(len(cases))}, davon Gespräch "
                     f"ausstehend: {format.number(pending)}")  # fmt: skip
    facts += [
        f"Stichproben (B3): {format.number(len(smp))} Ziehungen, "
        f"{format.number(smp['checked'].sum())} geprüft, "
        f"{format.number(smp['confirmed'].sum())} bestätigt, "
        f"{format.number(smp['not_confirmed'].sum())} nicht bestätigt",
        f"Ladevorgänge im Monat: {format.number(len(report.loads))}",
        "Quoten zählen nur entschiedene Tickets; regelkonform = fristgerecht oder mit "
        "eingehaltener Zusage verlängert.",
    ]
    for i, line in enumerate(facts):
        fig.text(0.05, 0.42 - i * 0.04, line, fontsize=11)


def _trend_page(fig, report: Report, _generated_at) -> None:
    frame = report.trend
    months = sorted(frame["month"].drop_duplicates())
    _heading(fig, "Entwicklung der letzten 12 Monate", "Fristgerecht (durchgezogen) und "
             f"regelkonform (gestrichelt) je Bereich · {month_label(months[0])} – "
             f"{month_label(months[-1])}")  # fmt: skip
    ax = fig.add_axes((0.08, 0.16, 0.88, 0.68))
    x = list(range(len(months)))
    for area in dict.fromkeys(frame["area"]):
        part = frame[frame["area"] == area].sort_values("month")
        color = AREA_COLORS.get(area, GREY)
        ax.plot(x, part["on_time_rate"], color=color, marker="o", label=f"{area}: fristgerecht")
        ax.plot(x, part["compliant_rate"], color=color, marker="s", linestyle="--",
                label=f"{area}: regelkonform")  # fmt: skip
    ax.set_xticks(x, [f"{MONTHS_DE[m.month - 1][:3]} {m.year % 100:02d}" for m in months])
    ax.set_ylim(0, 1.05)
    _axis(ax.yaxis, percent=True)
    ax.set_ylabel("Quote")
    ax.set_xlabel("Monat (Fälligkeit)")
    ax.grid(axis="y", color=GRID)
    ax.set_axisbelow(True)
    ax.legend(loc="lower left", ncols=2, fontsize=9)


def _team_rate_page(fig, report: Report, _generated_at) -> None:
    ax = _chart(fig, report, "Regelkonforme Quote je Team")
    frame = report.teams
    if frame.empty:
        return _empty(ax, "Keine Tickets in diesem Monat.")
    rates = frame["compliant_rate"]
    decided = frame["decided"]
    notes = [
        f"{format.percent(r)} von {format.number(n)}" for r, n in zip(rates, decided, strict=True)
    ]
    y = _rows(ax, _team_names(frame), rates.fillna(0), notes)
    ax.barh(y, rates.fillna(0), color=[AREA_COLORS.get(a, GREY) for a in frame["area"]])
    ax.set_xlim(0, 1.2)
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    _axis(ax.xaxis, percent=True)
    ax.set_xlabel("regelkonform (Anteil der entschiedenen Tickets)")


def _status_page(fig, report: Report, _generated_at) -> None:
    ax = _chart(fig, report, "Status der Tickets")
    # A count hidden by the small-cell rule (management) is drawn as no bar, labelled "–".
    counts = report.status_mix["tickets"].astype(float)
    if counts.fillna(0).sum() == 0:
        return _empty(ax, "Keine Tickets in diesem Monat.")
    notes = [f"{format.number(n)} ({format.percent(n / counts.sum())})" for n in counts]
    y = _rows(ax, report.status_mix["label"], counts.fillna(0), notes)
    ax.barh(y, counts.fillna(0), color=[STATUS_COLORS[s] for s in report.status_mix["status"]])
    ax.set_xlim(0, counts.max() * 1.25)
    ax.set_xlabel("Tickets")
    _axis(ax.xaxis)


def _breaches_page(fig, report: Report, _generated_at) -> None:
    ax = _chart(fig, report, "Fristverstöße je Team", bottom=0.2)
    frame = report.teams
    totals = frame["breaches"].astype(float)  # NaN where the small-cell rule hid a team
    if totals.fillna(0).sum() == 0:
        return _empty(ax, "Keine Fristverstöße in diesem Monat.")
    y = _rows(ax, _team_names(frame), totals.fillna(0), [format.number(n) for n in totals])
    left = 0
    for status in BREACHES:  # stacked: the kinds of breach add up to the team's breaches
        width = frame[status].astype(float).fillna(0)
        ax.barh(y, width, left=left, color=STATUS_COLORS[status], label=STATUS_LABELS[status])
        left = left + width
    ax.set_xlim(0, totals.fillna(0).max() * 1.15 + 1)
    ax.set_xlabel("Fristverstöße")
    _axis(ax.xaxis)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=3, fontsize=9)


PAGES: tuple[Callable, ...] = (
    _title_page, _trend_page, _team_rate_page, _status_page, _breaches_page,
)  # fmt: skip


def render(report: Report, generated_at: dt.datetime) -> bytes:
    """The report as the bytes of a PDF created at `generated_at`."""
    # Figure objects without pyplot: no GUI backend and no global state shared by threads.
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    buffer = io.BytesIO()
    metadata = {
        "Title": report.title,
        "Subject": report.subtitle,
        "Author": "Ticket-Controlling",
        "Creator": "Ticket-Controlling",
        "CreationDate": generated_at,
        "ModDate": generated_at,
    }
    with PdfPages(buffer, metadata=metadata) as pdf:
        for number, page in enumerate(PAGES, start=1):
            fig = Figure(figsize=A4_LANDSCAPE)
            page(fig, report, generated_at)
            fig.text(0.05, 0.03, f"{report.title} · Stichtag {format.date(report.as_of)}",
                     fontsize=8, color="#666666")  # fmt: skip
            fig.text(0.95, 0.03, f"Seite {number} von {len(PAGES)}", fontsize=8,
                     color="#666666", ha="right")  # fmt: skip
            pdf.savefig(fig)
    return buffer.getvalue()
