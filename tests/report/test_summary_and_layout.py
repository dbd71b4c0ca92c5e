"""Page 1's figures and sentences, hand-worked; every PDF page inside A4 with long team names.

The hand-made March 2026 of test_report.py: Leistung 1 (L1..L8), Integration 1 (I1..I5),
February has L9 (late) and L10 (on time), nothing a year before. Here Leistung 1 carries a
very long name, so that wrapping is tested on the page that ranks the teams.
"""

from __future__ import annotations

import io

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from pypdf import PdfReader

from dashboard import report
from dashboard.access.viewer import Viewer
from dashboard.cli import report as cli_report
from dashboard.core.config import Config, load_config
from dashboard.report import pdf, summary
from etl.load import load_files
from etl.sources import csv_text
from tests.conftest import HEADER
from tests.report.test_report import ABSENCES, GENERATED, MARCH, ROWS, S, _cli

LONG = (
    "Leistung 1 – Sachbearbeitung Arbeitslosengeld II, Widerspruchsstelle und Sonderaufgaben "
    "der Regionaldirektion Berlin-Brandenburg"
)
UNBROKEN = "IntegrationsteamFürJungeErwachseneMitBesonderemFörderbedarfUndLangemNamen"


@pytest.fixture(scope="module")
def long_db(tmp_path_factory) -> Config:
    tmp = tmp_path_factory.mktemp("long")
    config = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(tmp / "db" / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(tmp / "secret" / "key"),
        }
    )
    names = {"Leistung 1": LONG, "Integration 1": UNBROKEN}
    rows = [{**r, "Team": names.get(r.get("Team"), r.get("Team"))} for r in ROWS]
    export = tmp / "export.csv"
    export.write_text(csv_text([HEADER, *([r.get(h, "") for h in HEADER] for r in rows)]))
    absences = tmp / "abwesenheiten.csv"
    absences.write_text(ABSENCES, encoding="utf-8")
    assert all(not r.refused for r in load_files(config, [export], [absences]))
    storage = config.storage.model_copy(update={"app_database": tmp / "app.duckdb"})
    # A10 over both Bereiche (`rules.repeat_areas`, default Leistung only), as in
    # test_report.py: Dirk's Integration breaches make the month's repeat case
    rules = config.rules.model_copy(update={"repeat_areas": ("Leistung", "Integration")})
    return config.model_copy(update={"storage": storage, "rules": rules})


@pytest.fixture(scope="module")
def built(long_db) -> report.Report:
    return report.build_for(long_db, MARCH, S)


def test_key_figures_hand_worked(built):
    # March: Leistung 3 of 6 decided compliant, Integration 2 of 5, together 5 of 11;
    # February: Leistung 1 of 2 (L10 on time, L9 late), Integration nothing; March 2025: none
    figures = summary.key_figures(built)
    assert figures.to_dict("list") == {
        "Bereich": ["Leistung", "Integration", "Gesamt"],
        "regelkonform": ["50,0 %", "40,0 %", "45,5 %"],
        "Trend": ["→", "", "↓"],
        "Vormonat": ["50,0 %", "–", "50,0 %"],
        "Vorjahr": ["–", "–", "–"],
        "Ziel": ["100,0 %"] * 3,
        "fristgerecht": ["33,3 %", "20,0 %", "27,3 %"],
        "Tickets fällig": ["8", "5", "13"],
        "Frist verfehlt": ["3", "3", "6"],
        "noch in Frist": ["2", "0", "2"],
        "Median AT": ["7,0", "3,5", "4,0"],
    }


def test_sentences_hand_worked(built):
    assert [s.replace("\u00a0", " ") for s in summary.sentences(built)] == [
        # 5/11 = 45,45 % against 1/2 = 50 %: 4,5 points fewer
        "Im März 2026 wurden 45,5 % der entschiedenen Tickets regelkonform bearbeitet "
        "(Ziel: 100 %), 4,5 Prozentpunkte weniger als im Februar 2026.",
        f"Am niedrigsten war die Quote im Team {UNBROKEN} (Integration) mit 40,0 %, am "
        f"höchsten im Team {LONG} (Leistung) mit 50,0 %.",
        # breaches L2 L3 L5 I2 I3 I5, open among them L3 I3; undecided L6 L7
        "6 Tickets haben die Frist nicht eingehalten (davon 2 am Stichtag noch offen); "
        "2 Tickets sind noch in der Frist oder Zusage.",
    ]


@pytest.mark.parametrize(
    ("change", "arrow"), [(0.02, "↑"), (-0.006, "↓"), (0.0049, "→"), (float("nan"), "")]
)
def test_arrows(change, arrow):
    assert summary.arrow(change) == arrow


def _outside(fig: Figure) -> list[str]:
    """Texts of the page whose drawn box leaves the sheet (a small tolerance for rounding)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    page = fig.bbox
    out = []
    for text in fig.findobj(lambda a: hasattr(a, "get_text") and a.get_visible()):
        if not text.get_text().strip():
            continue
        box = text.get_window_extent(renderer)
        if (
            box.x0 < page.x0 - 1
            or box.x1 > page.x1 + 1
            or box.y0 < page.y0 - 1
            or box.y1 > (page.y1 + 1)
        ):
            out.append(text.get_text())
    return out


@pytest.mark.parametrize("role", [None, "teamleitung", "management"])
def test_every_page_fits_a4_with_long_team_names(long_db, role):
    viewer = Viewer("x", "x", role, (LONG, UNBROKEN)) if role else None
    made = report.build_for(long_db, MARCH, S, viewer=viewer)
    drawn = pdf.pages(made, GENERATED)
    for number, page in enumerate(drawn, start=1):
        fig = Figure(figsize=pdf.A4_LANDSCAPE)
        page(fig)
        assert _outside(fig) == [], f"page {number}"
    document = report.file_bytes(made, ".pdf", GENERATED)
    text = [p.extract_text() for p in PdfReader(io.BytesIO(document)).pages]
    assert "Zusammenfassung" in text[0] and "Das Wichtigste in Kürze" in text[0]
    ranking = text[1]
    assert ranking.startswith("Teams nach regelkonformer Quote") or "Teams nach" in ranking
    if role != "management":  # management sees both small teams merged into one group
        # the long name wrapped over lines, nothing of it lost
        words = "".join(LONG.split())
        assert words in "".join(ranking.split())


def test_cli_versions_and_a_month_without_tickets(long_db, tmp_path, capsys):
    out = tmp_path / "m.pdf"
    args = _cli("--month", "2026-03", "--as-of", "2026-03-31", "--for", "management",
                "--out", str(out))  # fmt: skip
    assert cli_report.run(long_db, args) == 0
    assert "Fassung Management) geschrieben" in capsys.readouterr().out
    text = "".join(p.extract_text() for p in PdfReader(out).pages)
    assert "Anna Alt" not in text and "Dirk Dorn" not in text
    assert "Fassung Management" in text
    # a team leader's version needs the team; a Bereich narrows the report
    tl = _cli("--month", "2026-03", "--as-of", "2026-03-31", "--for", "teamleitung",
              "--out", str(tmp_path / "t.pdf"))  # fmt: skip
    assert cli_report.run(long_db, tl) == 2
    assert "braucht --team" in capsys.readouterr().err
    tl = _cli("--month", "2026-03", "--as-of", "2026-03-31", "--for", "teamleitung",
              "--team", UNBROKEN, "--out", str(tmp_path / "t.pdf"))  # fmt: skip
    assert cli_report.run(long_db, tl) == 0
    text = "".join(p.extract_text() for p in PdfReader(tmp_path / "t.pdf").pages)
    assert "Dirk Dorn" in text and "Anna Alt" not in text
    # no ticket due: said so, exit 3, no file
    empty = tmp_path / "leer.pdf"
    args = _cli("--month", "2026-01", "--as-of", "2026-03-31", "--area", "Integration",
                "--out", str(empty))  # fmt: skip
    assert cli_report.run(long_db, args) == cli_report.NO_DATA == 3
    assert "Im Januar 2026 ist für Bereich Integration, alle Teams kein Ticket fällig" in (
        capsys.readouterr().err
    )
    assert not empty.exists()
