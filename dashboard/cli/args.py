"""Argument types shared by the `ticket-controlling` sub-commands."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
from collections.abc import Sequence
from pathlib import Path


def iso_date(text: str) -> dt.date:
    """An argparse type: 'JJJJ-MM-TT' to a date, or a German usage error."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"kein Datum im Format JJJJ-MM-TT: {text!r}") from None


def month_arg(text: str) -> dt.date:
    """'2026-10' -> 01.10.2026, for --month; a German error otherwise."""
    from dashboard.report import parse_month  # the report's own reading of a month

    try:
        return parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_config_option(
    parser: argparse.ArgumentParser, parents: Sequence[argparse.ArgumentParser] = ()
) -> None:
    """Add `--config` to a sub-command, unless a parent parser already brings it."""
    if not any(
        "--config" in action.option_strings for parent in parents for action in parent._actions
    ):
        parser.add_argument("--config", type=Path, help="TOML-Konfigurationsdatei")


def operator() -> str:
    """Who runs the command, as the access log names them: the operating-system user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "Kommandozeile"
