"""`ticket-controlling audit verify|export`: check the access log, hand it to an outside store.

The chain of the access log is keyed (HMAC with a key outside the database): an entry
changed, inserted or deleted in the middle breaks it. Entries removed from the end leave no
break; `export` prints the chain head (`seq:chain`), which an outside, append-only store
keeps, and `verify --head` compares the log against it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from dashboard.cli.args import add_config_option
from dashboard.core import records
from dashboard.core.config import Config


def _head(text: str) -> tuple[int, str]:
    seq, _, chain = text.partition(":")
    if not seq.isdigit() or not chain:
        raise argparse.ArgumentTypeError(f"kein Kettenkopf der Form NR:PRÜFWERT: {text!r}")
    return int(seq), chain


def add_parser(subparsers, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Add the `audit` sub-command with `verify` and `export`."""
    parser = subparsers.add_parser(
        "audit", parents=list(parents), help="Zugriffsprotokoll prüfen oder exportieren"
    )
    add_config_option(parser, parents)
    action = parser.add_subparsers(dest="audit_command", required=True)
    verify = action.add_parser("verify", help="die Prüfkette des Protokolls prüfen")
    verify.add_argument(
        "--head",
        type=_head,
        help="zuletzt extern gesicherter Kettenkopf NR:PRÜFWERT (zeigt auch am Ende "
        "gelöschte Einträge)",
    )
    export = action.add_parser("export", help="alle Einträge als JSON-Zeilen schreiben")
    export.add_argument("--out", type=Path, required=True, help="Zieldatei (.jsonl)")


def run(config: Config, args) -> int:
    """Verify or export the access log; exit 1 when the chain is broken."""
    if args.audit_command == "export":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        check = records.export_audit(config, args.out)
        print(f"{check.head_seq} Einträge nach {args.out} geschrieben.")
    else:
        check = records.verify_audit(config, args.head)
    if not check.intact:
        print(
            f"Prüfkette unterbrochen bei Eintrag Nr. {check.broken_at}: {check.reason}.",
            file=sys.stderr,
        )
        return 1
    print(f"Prüfkette in Ordnung: {check.head_seq} Einträge.")
    print(f"Kettenkopf: {check.head_seq}:{check.head_chain}")
    return 0
