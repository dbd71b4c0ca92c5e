"""The printable report: A4 landscape pages drawn by matplotlib, page 1 a management summary.

Page 1 fits the month on one page: key figures per Bereich beside the month before and the
same month a year earlier, the target, a few sentences and a small 12-month trend. The pages
after it rank the teams, show the breaches, the commitments, the checks A5–A7, the repeat
cases (names only in a version that may name people) and the samples. Every text that comes
from data (team names above all) is wrapped and, past a few lines, shortened, and long
tables continue on further pages: nothing runs off an A4 page, whatever the names.
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from dashboard.core import format
from dashboard.core.labels import AREA_COLORS, STATUS_COLORS
from dashboard.core.months import MONTHS_DE, add_months, month_label
from dashboard.core.rules import BREACHES, STATUS_LABELS
from dashboard.queries.monthly import TOTAL
from dashboard.report import summary
from dashboard.report.figures import Report
from dashboard.report.rules import scope_label

A4_LANDSCAPE = (11.69, 8.27)  # inches
GREY, GRID, HEADER, LIGHT = "#555555", "#DDDDDD", "#DDE3EA", "#F4F6F8"
GOOD, BAD = "#2e7d32", "#c62828"
LEFT, RIGHT, TOP, BOTTOM = 0.05, 0.95, 0.86, 0.08  # the page's content area (figure fraction)
CHAR_WIDTH = 0.56  # average glyph width of DejaVu Sans in ems: for wrapping text to a width
TEAMS_PER_PAGE = 15
AUDIENCE = {
    "management": "Fassung Management: ohne Angaben zu einzelnen Personen",
    "teamleitung": "Fassung Teamleitung: mit Namen",
    "controlling": "Fassung Controlling: Mitarbeitende mit Pseudonym",
    "admin": "Vollständige Fassung",
}

Page = Callable[[object], None]  # draws one page on a matplotlib Figure


def wrap(text: object, chars: int, lines: int = 3) -> list[str]:
    """Text wrapped to `chars` per line, at most `lines` lines, the last one shortened with …."""
    out = textwrap.wrap(str(text), max(chars, 4), break_long_words=True) or [""]
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: max(chars - 1, 1)].rstrip() + "…"
    return out


def _chars(width_in: float, fontsize: float) -> int:
    """How many characters of `fontsize` fit into `width_in` inches (conservatively)."""
    return int(width_in * 72 / (fontsize * CHAR_WIDTH))


def _axis(axis, percent: bool = False) -> None:
    from matplotlib.ticker import FuncFormatter

    def label(value: float, _pos) -> str:
        if percent:
            return format.percent(value, 0)
        return format.number(value) if float(value).is_integer() else ""

    axis.set_major_formatter(FuncFormatter(label))


def _heading(fig, report: Report, title: str, subtitle: str | None = None) -> None:
    fig.text(LEFT, 0.94, title, fontsize=18, fontweight="bold", va="top")
    # one line: a selection of many long team names is cut (page 1 names it in full)
    line = wrap(subtitle or _standing(report), _chars(10.5, 9.5), 1)[0]
    fig.text(LEFT, 0.895, line, fontsize=9.5, color="#444444", va="top")


def _standing(report: Report) -> str:
    return (
        f"Tickets fällig im {month_label(report.month)} · Stand am Stichtag "
        f"{format.date(report.as_of)} · {scope_label(report.filters)}"
    )


# ---------------------------------------------------------------------------------------
# Tables drawn as text: wrapped cells, a shaded header, continued on the next page


@dataclass(frozen=True)
class Col:
    """A column of a drawn table: header, width in inches, alignment."""

    header: str
    width: float
    align: str = "right"


HEADER_LINES, CELL_LINES = 4, 3  # at most so many lines per header and per cell


def _line(fontsize: float) -> float:
    """One text line of `fontsize`, as a fraction of the page height."""
    return fontsize * 1.45 / 72 / A4_LANDSCAPE[1]


def _cells(cols: Sequence[Col], texts: Sequence[str], size: float, lines: int) -> list[list[str]]:
    return [wrap(t, _chars(c.width - 0.1, size), lines) for c, t in zip(cols, texts, strict=True)]


def _row_height(cols: Sequence[Col], texts: Sequence[str], size: float, lines: int) -> float:
    return max(len(cell) for cell in _cells(cols, texts, size, lines)) * _line(size) + 0.7 * _line(
        size
    )


def _table(
    fig,
    top: float,
    cols: Sequence[Col],
    rows: Sequence[Sequence[str]],
    *,
    fontsize: float = 9,
    bold: Sequence[bool] = (),
    colors: dict | None = None,
) -> float:
    """Draw the table from `top` down; returns the bottom. Cells wrap within their column."""
    fig_w = fig.get_size_inches()[0]
    cols = _fitted(cols)
    pad = 0.35 * _line(fontsize)
    xs = [LEFT]
    for col in cols:
        xs.append(xs[-1] + col.width / fig_w)

    def draw(y: float, texts: Sequence[str], size: float, lines: int, weight: str,
             shade: str | None, row_colors: dict | None = None) -> float:  # fmt: skip
        wrapped = _cells(cols, texts, size, lines)
        height = _row_height(cols, texts, size, lines)
        if shade:
            fig.patches.append(_rect(fig, xs[0], y - height, xs[-1] - xs[0], height, shade))
        for i, (col, cell) in enumerate(zip(cols, wrapped, strict=True)):
            x = xs[i] + 0.05 / fig_w if col.align == "left" else xs[i + 1] - 0.05 / fig_w
            color = (row_colors or {}).get(i, "black")
            fig.text(x, y - pad, "\n".join(cell), fontsize=size, fontweight=weight,
                     ha=col.align, va="top", linespacing=1.25, color=color)  # fmt: skip
        fig.lines.append(_hline(fig, xs[0], xs[-1], y - height))
        return y - height

    y = draw(top, [c.header for c in cols], fontsize - 0.5, HEADER_LINES, "bold", HEADER)
    for i, texts in enumerate(rows):
        weight = "bold" if i < len(bold) and bold[i] else "normal"
        y = draw(y, texts, fontsize, CELL_LINES, weight, LIGHT if i % 2 else None,
                 (colors or {}).get(i))  # fmt: skip
    return y


def _fitted(cols: Sequence[Col]) -> list[Col]:
    """The columns narrowed in proportion where together they are wider than the page."""
    room = (RIGHT - LEFT) * A4_LANDSCAPE[0]
    factor = min(1.0, room / sum(c.width for c in cols))
    return [Col(c.header, c.width * factor, c.align) for c in cols]


def _rect(fig, x, y, w, h, color):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, transform=fig.transFigure, facecolor=color, edgecolor="none",
                     zorder=-1)  # fmt: skip


def _hline(fig, x0, x1, y):
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], transform=fig.transFigure, color=GRID, linewidth=0.6)


@dataclass(frozen=True)
class Section:
    """A titled table of the later pages; it flows on to the next page where it must."""

    title: str
    cols: list[Col]
    rows: list[list[str]]
    note: str = ""
    empty: str = "Keine Einträge in diesem Monat."
    bold: tuple[bool, ...] = ()


SECTION_GAP, TITLE_HEIGHT, NOTE_LINE = 0.035, 0.04, 0.021
FLOW_TOP = 0.85


def _note_lines(note: str) -> list[str]:
    return wrap(note, _chars(10.4, 8.5), 3) if note else []


def _flow(report: Report, heading: str, sections: Sequence[Section]) -> list[Page]:
    """The sections one below the other, on as many pages as they need (header repeated)."""
    plan: list[list[tuple[Section, int, int]]] = [[]]
    y = FLOW_TOP
    for section in sections:
        cols = _fitted(section.cols)
        header = _row_height(cols, [c.header for c in cols], 8.5, HEADER_LINES)
        heights = [_row_height(cols, r, 9, CELL_LINES) for r in section.rows] or [0.04]
        start = 0
        while True:
            top = TITLE_HEIGHT + len(_note_lines(section.note)) * NOTE_LINE + header
            room = y - top - (BOTTOM + 0.01)
            end, used = start, 0.0
            while end < len(heights) and used + heights[end] <= room:
                used += heights[end]
                end += 1
            if end == start and plan[-1]:  # not even one row fits: continue on a new page
                plan.append([])
                y = FLOW_TOP
                continue
            end = max(end, start + 1)
            plan[-1].append((section, start, min(end, len(section.rows))))
            y -= top + sum(heights[start:end]) + SECTION_GAP
            if end >= len(heights):
                break
            plan.append([])
            y, start = FLOW_TOP, end

    def page(parts: list[tuple[Section, int, int]]) -> Page:
        def draw(fig) -> None:
            _heading(fig, report, heading)
            y = FLOW_TOP
            for section, first, last in parts:
                more = " (Fortsetzung)" if first > 0 else ""
                fig.text(LEFT, y, section.title + more, fontsize=12.5, fontweight="bold",
                         va="top")  # fmt: skip
                y -= TITLE_HEIGHT
                notes = _note_lines(section.note)
                if notes:
                    fig.text(LEFT, y + 0.006, "\n".join(notes), fontsize=8.5, color=GREY,
                             va="top", style="italic", linespacing=1.3)  # fmt: skip
                    y -= len(notes) * NOTE_LINE
                if not section.rows:
                    fig.text(LEFT, y, section.empty, fontsize=10, color=GREY, va="top")
                    y -= 0.04 + SECTION_GAP
                    continue
                y = _table(fig, y, section.cols, section.rows[first:last],
                           bold=section.bold[first:last]) - SECTION_GAP  # fmt: skip

        return draw

    return [page(parts) for parts in plan if parts]


def _empty_page(report: Report, title: str, text: str) -> Page:
    def draw(fig) -> None:
        _heading(fig, report, title)
        fig.text(LEFT, FLOW_TOP, text, fontsize=12, color=GREY, va="top")

    return draw


def _pct(value) -> str:
    return format.percent(None if pd.isna(value) else float(value))


def _int(value) -> str:
    return "–" if pd.isna(value) else format.number(int(value))


# ---------------------------------------------------------------------------------------
# Page 1: the management summary


def _summary_page(report: Report, generated_at: dt.datetime) -> Page:
    def draw(fig) -> None:
        month = report.month
        fig.text(LEFT, 0.95, report.title, fontsize=22, fontweight="bold", va="top")
        fig.text(RIGHT, 0.95, "Zusammenfassung", fontsize=12, color=GREY, ha="right", va="top")
        fig.text(RIGHT, 0.922, AUDIENCE.get(report.audience, ""), fontsize=9, color=GREY,
                 ha="right", va="top")  # fmt: skip
        standing = wrap(
            f"Tickets fällig im {month_label(month)} · Stichtag {format.date(report.as_of)} · "
            f"erstellt am {generated_at:%d.%m.%Y %H:%M} · {scope_label(report.filters)}",
            _chars(10.4, 9.5), 3)  # fmt: skip
        fig.text(LEFT, 0.9, "\n".join(standing), fontsize=9.5, color="#444444", va="top",
                 linespacing=1.25)  # fmt: skip
        frame = summary.key_figures(report)
        widths = {"Bereich": 1.2, "regelkonform": 1.15, "Trend": 0.3, "Ziel": 0.75,
                  "fristgerecht": 1.15, "Median AT": 1.05}  # fmt: skip
        headers = {
            "Trend": "",
            "Vormonat": f"Vormonat ({summary.short_month(add_months(month, -1))})",
            "Vorjahr": f"Vorjahr ({summary.short_month(add_months(month, -12))})",
            "Median AT": "Median Arbeitstage",
        }
        cols = [
            Col(headers.get(c, c), widths.get(c, 1.0), "right" if c in summary.NUMERIC else "left")
            for c in frame.columns
        ]
        trend = list(frame.columns).index("Trend")
        colors = {
            i: {trend: GOOD if t == "↑" else BAD if t == "↓" else GREY}
            for i, t in enumerate(frame["Trend"])
        }
        bold = [area == TOTAL for area in frame["Bereich"]]
        top = 0.9 - len(standing) * 0.024 - 0.015
        y = _table(fig, top, cols, frame.values.tolist(), fontsize=10.5, bold=bold, colors=colors)
        fig.text(LEFT, y - 0.012, "regelkonform: fristgerecht erledigt oder mit eingehaltener "
                 "Zusage verlängert, in % der entschiedenen Tickets · ↑ ↓ Veränderung zum "
                 "Vormonat (→ weniger als 0,5 Prozentpunkte)", fontsize=8, color=GREY,
                 va="top")  # fmt: skip
        y -= 0.055
        fig.text(LEFT, y, "Das Wichtigste in Kürze", fontsize=12.5, fontweight="bold", va="top")
        y -= 0.037
        for sentence in summary.sentences(report):
            lines = wrap(sentence, _chars(10.2, 10), 3)
            fig.text(LEFT, y, "•", fontsize=10, va="top")
            fig.text(LEFT + 0.015, y, "\n".join(lines), fontsize=10, va="top", linespacing=1.3)
            y -= 0.0245 * len(lines) + 0.008
        _small_trend(fig, report, top=y - 0.025)
        _facts(fig, report, top=y - 0.025)

    return draw


def _small_trend(fig, report: Report, top: float) -> None:
    """The compliant rate per Bereich over 12 months, on an axis fitted to the values."""
    # the title above the axes takes 0.035, the month labels below them 0.05
    height = max(top - 0.035 - BOTTOM - 0.02, 0.14)
    ax = fig.add_axes((LEFT + 0.04, top - 0.035 - height, 0.46, height))
    frame = report.trend
    months = sorted(frame["month"].drop_duplicates())
    x = list(range(len(months)))
    for area in dict.fromkeys(frame["area"]):
        part = frame[frame["area"] == area].sort_values("month")
        ax.plot(x, part["compliant_rate"], color=AREA_COLORS.get(area, GREY), marker="o",
                markersize=3, linewidth=1.6, label=area)  # fmt: skip
    values = frame["compliant_rate"].dropna()
    if len(values):
        # A scale that shows the movement: a few points around the values, not 0–100 %.
        low, high = float(values.min()), float(values.max())
        margin = max((high - low) * 0.25, 0.02)
        ax.set_ylim(max(low - margin, 0), min(high + margin, 1.0) + 0.005)
        if high + margin >= 0.995:
            ax.axhline(1.0, color=GOOD, linestyle=":", linewidth=1)
    else:
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.5, "keine entschiedenen Tickets", transform=ax.transAxes, ha="center",
                color=GREY, fontsize=10)  # fmt: skip
    ax.set_xticks(x, [f"{MONTHS_DE[m.month - 1][:3]}\n{m.year % 100:02d}" for m in months],
                  fontsize=7)  # fmt: skip
    ax.tick_params(axis="y", labelsize=7)
    from matplotlib.ticker import MaxNLocator

    # whole percent steps (1, 2, 5, 10 points): a label never rounds away half a point
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
    _axis(ax.yaxis, percent=True)
    ax.grid(axis="y", color=GRID)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title("Regelkonforme Quote der letzten 12 Monate", fontsize=10, loc="left",
                 fontweight="bold")  # fmt: skip
    ax.legend(fontsize=7, loc="lower left", frameon=False, ncols=2)


def _facts(fig, report: Report, top: float) -> None:
    x = 0.60
    fig.text(x, top, "Außerdem im Monat", fontsize=10, fontweight="bold", va="top")
    y = top - 0.032
    for label, value in summary.facts(report):
        fig.text(x, y, label, fontsize=8.5, color=GREY, va="top")
        lines = wrap(value, _chars(4.1, 9), 3)
        fig.text(x, y - 0.021, "\n".join(lines), fontsize=9, va="top", linespacing=1.2)
        y -= 0.021 + 0.019 * len(lines) + 0.008


# ---------------------------------------------------------------------------------------
# Charts per team


def _team_labels(frame: pd.DataFrame) -> list[str]:
    # up to 4 lines of 40 characters where there is room, 3 on a full page
    lines = 4 if len(frame) <= 10 else 3
    return ["\n".join(wrap(team, 40, lines)) for team in frame["team"]]


def _legend_areas(ax, areas) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=AREA_COLORS.get(a, GREY), label=a) for a in dict.fromkeys(areas)]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=len(handles),
              fontsize=8, frameon=False)  # fmt: skip


def _ranking_pages(report: Report) -> list[Page]:
    frame = report.teams.sort_values(
        ["compliant_rate", "decided", "team"], ascending=[False, False, True],
        na_position="last", kind="stable",
    )  # fmt: skip
    title = "Teams nach regelkonformer Quote"
    if frame.empty:
        return [_empty_page(report, title, "Keine Tickets in diesem Monat.")]
    chunks = [frame.iloc[i : i + TEAMS_PER_PAGE] for i in range(0, len(frame), TEAMS_PER_PAGE)]

    def page(part: pd.DataFrame, number: int) -> Page:
        def draw(fig) -> None:
            more = f" (Fortsetzung {number})" if number > 1 else ""
            _heading(fig, report, title + more)
            ax = fig.add_axes((0.33, BOTTOM + 0.06, 0.60, TOP - BOTTOM - 0.1))
            rates = part["compliant_rate"]
            y = list(range(len(part)))[::-1]
            rates = rates.astype(float)
            ax.barh(y, rates.fillna(0), color=[AREA_COLORS.get(a, GREY) for a in part["area"]],
                    height=0.6)  # fmt: skip
            ax.set_yticks(y, _team_labels(part), fontsize=8.5)
            for yi, rate, decided in zip(y, rates, part["decided"], strict=True):
                note = f"  {_pct(rate)} von {format.number(decided)}"
                ax.text(0 if pd.isna(rate) else rate, yi, note, va="center", fontsize=8.5)
            ax.axvline(summary.TARGET, color=GOOD, linestyle=":", linewidth=1)
            ax.text(summary.TARGET, 1.01, "Ziel 100 %", color=GOOD, fontsize=8, ha="center",
                    va="bottom", transform=ax.get_xaxis_transform())  # fmt: skip
            ax.set_xlim(0, 1.22)
            ax.set_ylim(-0.6, len(part) - 0.3)
            ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
            _axis(ax.xaxis, percent=True)
            ax.set_xlabel("regelkonform (in % der entschiedenen Tickets; „von“: Zahl der "
                          "entschiedenen Tickets)", fontsize=9)  # fmt: skip
            ax.grid(axis="x", color=GRID)
            ax.set_axisbelow(True)
            _legend_areas(ax, part["area"])

        return draw

    return [page(part, i) for i, part in enumerate(chunks, start=1)]


def _breaches_pages(report: Report) -> list[Page]:
    breaches = report.teams["breaches"].astype(float)  # NaN: hidden by the small-cell rule
    frame = report.teams[breaches.fillna(0) > 0].sort_values(
        ["breaches", "team"], ascending=[False, True], kind="stable"
    )
    title = "Fristverstöße je Team"
    if frame.empty:
        return [_empty_page(report, title, "Keine Fristverstöße in diesem Monat.")]
    chunks = [frame.iloc[i : i + TEAMS_PER_PAGE] for i in range(0, len(frame), TEAMS_PER_PAGE)]

    def page(part: pd.DataFrame, number: int) -> Page:
        def draw(fig) -> None:
            more = f" (Fortsetzung {number})" if number > 1 else ""
            _heading(fig, report, title + more)
            ax = fig.add_axes((0.33, BOTTOM + 0.12, 0.60, TOP - BOTTOM - 0.14))
            y = list(range(len(part)))[::-1]
            left = pd.Series(0, index=part.index)
            for status in BREACHES:  # stacked: the kinds of breach add up to the breaches
                width = part[status].astype(float).fillna(0)
                ax.barh(y, width, left=left, color=STATUS_COLORS[status], height=0.6,
                        label=STATUS_LABELS[status])  # fmt: skip
                left = left + width
            ax.set_yticks(y, _team_labels(part), fontsize=8.5)
            for yi, total in zip(y, part["breaches"], strict=True):
                ax.text(total, yi, f"  {format.number(total)}", va="center", fontsize=8.5)
            ax.set_xlim(0, frame["breaches"].astype(float).max() * 1.15 + 1)
            ax.set_ylim(-0.6, len(part) - 0.4)
            ax.set_xlabel("Tickets, die die Frist nicht eingehalten haben", fontsize=9)
            _axis(ax.xaxis)
            ax.grid(axis="x", color=GRID)
            ax.set_axisbelow(True)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncols=3, fontsize=9)

        return draw

    return [page(part, i) for i, part in enumerate(chunks, start=1)]


# ---------------------------------------------------------------------------------------
# Tables: commitments, checks, repeat cases, samples


def _commitments(report: Report) -> Section:
    frame = report.extensions
    cols = [
        Col("Bereich", 1.1, "left"), Col("Team", 3.0, "left"), Col("Tickets fällig", 0.9),
        Col("Zusagen gegeben", 1.0), Col("davon in der Frist erledigt oder offen", 1.3),
        Col("Zusage eingehalten", 1.0), Col("Zusage nicht eingehalten", 1.0),
        Col("Zusage läuft noch", 0.9), Col("eingehalten in %", 1.0),
    ]  # fmt: skip
    rows = [[r.area, r.team, _int(r.tickets), _int(r.notices), _int(r.within_deadline),
             _int(r.extended_kept), _int(r.extended_missed), _int(r.open_extended),
             _pct(r.kept_rate)] for r in frame.itertuples(index=False)]  # fmt: skip
    return Section("Zusagen an Kunden je Team", cols, rows, note=(
        "Eine Zusage verlängert die Frist, wenn der Kunde bis zum Fälligkeitstag informiert "
        "und ein Zusage-Datum im VerBIS vermerkt wurde. In %: eingehalten / (eingehalten + "
        "nicht eingehalten)."), empty="Keine Tickets in diesem Monat.")  # fmt: skip


CHECK_LABELS = (
    ("callback", "Rückruf rechtzeitig (A5)"),
    ("walkin", "Vorsprache vermerkt (A6)"),
    ("tl_informed", "Teamleitung informiert (A7)"),
)


def _checks(report: Report) -> Section:
    frame = report.checks
    cols = [Col("Team", 3.4, "left"), Col("Tickets fällig", 0.9)]
    for _key, label in CHECK_LABELS:
        cols += [Col(f"{label}: geprüft", 1.2), Col("erfüllt in %", 0.85)]
    rows = []
    for r in frame.to_dict("records"):
        rows.append([r["team"], _int(r["tickets"]), *[
            v for key, _ in CHECK_LABELS
            for v in (_int(r[f"{key}_checked"]), _pct(r[f"{key}_rate"]))
        ]])  # fmt: skip
    bold = tuple(team == "Bereich gesamt" for team in frame["team"])
    return Section("Prüfungen der Arbeitsanweisung (Leistung)", cols, rows,
                   note="Nur für Leistung. Geprüft: Tickets, für die die Regel gilt (z. B. mit "
                   "Rückrufbitte, Vorsprache); leere Angaben zählen nicht mit. A6: Vorsprache am "
                   "selben Tag an die Teamleitung vermerkt.",
                   empty="Keine Leistung-Tickets in diesem Monat.", bold=bold)  # fmt: skip


def _repeats(report: Report) -> Section:
    title = "Wiederholte Fristverstöße (A10)"
    if report.repeat_cases is None:  # management: counts only, never a person
        counts = report.repeat_counts
        cols = [Col("Bereich", 2.0, "left"), Col("Personen mit wiederholten Fristverstößen", 3.0)]
        rows = [[r.area, _int(r.cases)] for r in counts.itertuples(index=False)]
        return Section(title, cols, rows, bold=tuple(a == TOTAL for a in counts["area"]),
                       note="Anzahl der Personen, die im Monat mehrfach die Frist verfehlt "
                       "haben; ohne Namen (Fassung Management).")  # fmt: skip
    frame = report.repeat_cases
    cols = [Col("Name", 2.2, "left"), Col("Team", 2.6, "left"), Col("Fristverstöße", 1.0),
            Col("Tickets", 3.3, "left"), Col("Gespräch geführt am", 1.4)]  # fmt: skip
    rows = [[r.worker, r.team, _int(r.breaches), r.tickets, r.conversation]
            for r in frame.itertuples(index=False)]  # fmt: skip
    return Section(title, cols, rows, note="Mitarbeitende, die im Monat mehrfach die Frist "
                   "verfehlt haben, und das Gespräch dazu; „ausstehend“: noch kein Gespräch "
                   "erfasst; die Tickets vollständig in der Excel-Datei.",
                   empty="Keine wiederholten Fristverstöße in diesem Monat.")  # fmt: skip


def _samples(report: Report) -> Section:
    frame = report.samples
    cols = [
        Col("gezogen am", 1.1, "left"), Col("Zeitraum", 1.8, "left"), Col("Teams", 2.4, "left"),
        Col("Verfahren", 1.3, "left"), Col("gezogen", 0.75), Col("geprüft", 0.75),
        Col("bestätigt", 0.8), Col("nicht bestätigt", 0.85), Col("noch offen", 0.75),
    ]  # fmt: skip
    rows = [[
        format.date(pd.Timestamp(r.drawn_at).date()),
        f"{format.date(pd.Timestamp(r.period_from).date())} – "
        f"{format.date(pd.Timestamp(r.period_to).date())}",
        r.teams, str(r.method_label), _int(r.items), _int(r.checked), _int(r.confirmed),
        _int(r.not_confirmed), _int(r.unchecked),
    ] for r in frame.itertuples(index=False)]  # fmt: skip
    return Section("Stichproben (Integration) und ihre Ergebnisse", cols, rows,
                   note="Ziehungen im Monat oder mit Zeitraum im Monat; je Ticket zählt das "
                   "letzte Ergebnis bis zum Stichtag.",
                   empty="Keine Stichprobe in diesem Monat.")  # fmt: skip


def pages(report: Report, generated_at: dt.datetime) -> list[Page]:
    """Every page of the report, in order."""
    sections = [_commitments(report), _checks(report), _repeats(report), _samples(report)]
    return [
        _summary_page(report, generated_at),
        *_ranking_pages(report),
        *_breaches_pages(report),
        *_flow(report, "Zusagen, Prüfungen, Wiederholungen, Stichproben", sections),
    ]


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
    drawn = pages(report, generated_at)
    with PdfPages(buffer, metadata=metadata) as pdf:
        for number, page in enumerate(drawn, start=1):
            fig = Figure(figsize=A4_LANDSCAPE)
            page(fig)
            footer = f"{report.title} · Stichtag {format.date(report.as_of)}"
            footer += f" · {AUDIENCE.get(report.audience, '')}"
            fig.text(LEFT, 0.03, footer, fontsize=8, color="#666666")
            fig.text(RIGHT, 0.03, f"Seite {number} von {len(drawn)}", fontsize=8,
                     color="#666666", ha="right")  # fmt: skip
            pdf.savefig(fig)
    return buffer.getvalue()
