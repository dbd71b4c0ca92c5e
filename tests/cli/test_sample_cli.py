"""`sample --dry-run` and teams that cannot be sampled, on a small hand-made export.

June 2026: Anna Alt completed A-1, A-2 and Bert Bach B-1 in Integration 1, Bert Bach B-2 in
Integration 2; Lea Lang L-1 in Leistung 1 (B3 samples Integration only).
"""

from __future__ import annotations

import argparse

from dashboard.cli import sample as cli_sample
from dashboard.queries import samples
from tests.conftest import ticket_row
from tests.queries.test_samples import SMALL

LEISTUNG = ticket_row(**{"Ticket-ID": "L-1", "Bearbeiter": "Lea Lang", "Team": "Leistung 1",
                         "Eingang": "01.06.2026 08:00", "Erledigt": "03.06.2026"})  # fmt: skip
JUNE = ("--from", "2026-06-01", "--to", "2026-06-30", "--as-of", "2026-06-30")


def _cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ticket-controlling")
    cli_sample.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["sample", *argv])


def test_dry_run_shows_the_allocation_and_stores_nothing(config, write_export, load, capsys):
    load(write_export([*SMALL, LEISTUNG]))
    assert cli_sample.run(config, _cli(*JUNE, "--size", "3", "--dry-run")) == 0
    printed = capsys.readouterr().out
    # 3 of 4: one each, the one left by the largest remainder (a tie of 2 and 2: by name)
    allocation = dict(
        line.strip().split(": ") for line in printed.splitlines() if line.startswith("  ")
    )
    assert allocation == {
        "Anna Alt": "2 von 2 erledigten Tickets",
        "Bert Bach": "1 von 2 erledigten Tickets",
    }
    assert "Zusammen 3 von 4 Tickets bei 2 Mitarbeiter/innen." in printed
    assert "nichts gespeichert" in printed
    assert samples.draws(config).empty


def test_an_unknown_or_leistung_team_is_named(config, write_export, load, tmp_path, capsys):
    load(write_export([*SMALL, LEISTUNG]))
    out = tmp_path / "s.csv"
    argv = (*JUNE, "--team", "Leistung 1", "--team", "Integraton 1", "--out", str(out))
    assert cli_sample.run(config, _cli(*argv)) == 2
    errors = capsys.readouterr().err
    assert "Team „Leistung 1“ ist kein Integration-Team (Leistung)" in errors
    assert "Team „Integraton 1“ ist unbekannt: keine Tickets bis 30.06.2026." in errors
    assert not out.exists() and samples.draws(config).empty


def test_without_out_or_dry_run_nothing_is_drawn(config, write_export, load, capsys):
    load(write_export(SMALL))
    assert cli_sample.run(config, _cli(*JUNE)) == 2
    assert "--out" in capsys.readouterr().err
    assert samples.draws(config).empty
