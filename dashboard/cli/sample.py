"""`ticket-controlling sample`: draw a random sample (B3), store it and write it as CSV.

The lead wires this into `dashboard/cli.py`: `add_parser(subparsers)` adds the sub-command,
`run(config, args)` executes it with the loaded configuration and returns the exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from dashboard.access import privacy
from dashboard.access.scope import OPERATOR
from dashboard.cli.args import add_config_option, iso_date, operator
from dashboard.core import format, records
from dashboard.core.storage import connect_readonly
from dashboard.queries import samples
from dashboard.queries.filters import Filters


def add_parser(subparsers, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Add the `sample` sub-command (with `--config` unless a parent parser brings it)."""
    parser = subparsers.add_parser(
        "sample",
        parents=list(parents),
        help="Stichprobe erledigter Integration-Tickets ziehen (B3)",
        description="Zieht eine nach Mitarbeiter/in geschichtete Zufallsstichprobe erledigter "
        "Integration-Tickets, speichert sie wie die Seite Stichproben und schreibt sie als CSV.",
    )
    add_config_option(parser, parents)
    parser.add_argument(
        "--from", dest="period_from", type=iso_date, required=True, help="erledigt ab JJJJ-MM-TT"
    )
    parser.add_argument(
        "--to", dest="period_to", type=iso_date, required=True, help="erledigt bis JJJJ-MM-TT"
    )
    parser.add_argument(
        "--team",
        dest="teams",
        action="append",
        default=[],
        help="Integration-Team (mehrfach möglich; ohne: alle Integration-Teams)",
    )
    amount = parser.add_mutually_exclusive_group()
    amount.add_argument(
        "--per-worker",
        type=int,
        help=f"Tickets je Mitarbeiter/in (Standard {samples.DEFAULT_PER_WORKER})",
    )
    amount.add_argument("--size", type=int, help="Tickets insgesamt")
    amount.add_argument("--percent", type=float, help="Prozent der erledigten Tickets")
    parser.add_argument("--seed", type=int, help="Seed zum Wiederholen einer Ziehung")
    parser.add_argument(
        "--as-of", type=iso_date, help="Stichtag JJJJ-MM-TT (Standard: Konfiguration)"
    )
    parser.add_argument("--by", help="wer zieht (Standard: Benutzername)")
    parser.add_argument("--out", type=Path, help="CSV-Datei der Stichprobe (ohne --dry-run nötig)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="nur zeigen, wie viele Tickets je Mitarbeiter/in gezogen würden; nichts speichern",
    )


def _method(args) -> tuple[str, float]:
    if args.size is not None:
        return "size", float(args.size)
    if args.percent is not None:
        return "percent", float(args.percent)
    per_worker = args.per_worker if args.per_worker is not None else samples.DEFAULT_PER_WORKER
    return "per_worker", float(per_worker)


def _print_allocation(per_worker, method: str, amount: float) -> None:
    """What a draw would take per worker; nothing is drawn or stored."""
    shown = privacy.release(per_worker, OPERATOR)
    print(f"Probelauf ({samples.method_label(method, amount)}), nichts gespeichert:")
    for worker, population, quota in shown[["worker", "population", "quota"]].itertuples(
        index=False
    ):
        print(f"  {worker}: {quota} von {population} erledigten Tickets")
    print(
        f"Zusammen {int(shown['quota'].sum())} von {int(shown['population'].sum())} Tickets "
        f"bei {len(shown)} Mitarbeiter/innen."
    )


def run(config, args) -> int:
    """Draw, store and write the sample; prints the seed. Exit code 0, 1 (nothing) or 2."""
    as_of = args.as_of or config.reference_date()
    method, amount = _method(args)
    teams = tuple(dict.fromkeys(args.teams))
    try:
        samples.check_request(method, amount, args.period_from, args.period_to)
        if args.seed is not None and not 0 <= args.seed <= samples.MAX_SEED:
            raise ValueError("Der Seed muss eine ganze Zahl ab 0 sein.")
        if args.out is None and not args.dry_run:
            raise ValueError("Bitte mit --out die CSV-Datei angeben (oder --dry-run).")
    except ValueError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 2
    seed = samples.new_seed() if args.seed is None else args.seed
    who = (args.by or "").strip() or operator()
    con = connect_readonly(config)
    try:
        problems = samples.team_problems(con, as_of, teams)
        if problems:
            for problem in problems:
                print(f"Fehler: {problem}", file=sys.stderr)
            return 2
        kwargs = dict(period_from=args.period_from, period_to=args.period_to, teams=teams)
        per_worker = samples.allocation(
            con, as_of, Filters(), **kwargs, method=method, amount=amount
        )
        if per_worker.empty:
            print(
                "Keine erledigten Integration-Tickets in diesem Zeitraum und diesen Teams "
                f"(Stichtag {as_of:%d.%m.%Y}) – keine Stichprobe gezogen.",
                file=sys.stderr,
            )
            return 1
        if args.dry_run:
            _print_allocation(per_worker, method, amount)
            return 0
        params = samples.DrawParams(
            as_of=as_of,
            period_from=args.period_from,
            period_to=args.period_to,
            teams=teams,
            method=method,
            amount=amount,
            seed=seed,
            population=int(per_worker["population"].sum()),
        )
        try:
            draw_id, _ = samples.draw_and_record(con, config, Filters(), params, who)
        except records.RecordsBusy as exc:
            print(f"Fehler: {exc}", file=sys.stderr)
            return 1
        items = samples.draw_items(config, draw_id, con)
    finally:
        con.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    items = privacy.release(items, OPERATOR, target="file")
    # a file for people, like the page's download: `;`, BOM, German headers and dates
    args.out.write_bytes(format.csv_bytes(samples.export_frame(items, seed=seed)))
    # The file names workers: who wrote it where is on record like a download.
    number = samples.sample_number(config, draw_id)
    records.log(config, who, "Datei geschrieben", f"CLI: Stichprobe Nr. {number} nach {args.out}")
    print(f"Seed: {seed}")
    print(
        f"Stichprobe Nr. {number}: {len(items)} von {params.population} erledigten Tickets "
        f"({samples.method_label(method, amount)}), gespeichert; Datei {args.out}"
    )
    skipped = per_worker.loc[per_worker["quota"] == 0, "worker"].tolist()
    if skipped:
        print(f"Ohne Ticket in der Stichprobe: {', '.join(skipped)}")
    return 0
