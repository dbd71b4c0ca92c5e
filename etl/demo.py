"""Deterministic synthetic ticket export (and absences export) for demos and load tests.

The files look like what a Jobcenter's ticket system exports in the default format of
EXPORT_FORMAT.md: the simulated tickets of etl/demo_rows.py as text, Windows line ends, German
timestamps with a share of ISO ones, and a sprinkling of dirty rows that a loader has to
reject. Tickets are generated in chunks of a million, each from its own sub-seed, so that the
same arguments always give byte-identical files and ten million tickets fit in memory.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.demo_rows import (
    AREA_VALUES,
    CHANNEL_VALUES,
    CONCERN_VALUES,
    TEAMS,
    VERBIS_VALUES,
    Calendar,
    Workers,
    make_calendar,
    make_plan,
    make_workers,
    ticket_rows,
)

TICKET_COLUMNS = (
    "Ticket-ID",
    "Bereich",
    "Team",
    "Bearbeiter",
    "Eingang",
    "Erledigt",
    "Eingangskanal",
    "Anliegen",
    "Kundennummer",
    "Kunde informiert",
    "Zusage bis",
    "VerBIS-Vermerk",
    "Rückruf erfolgt",
    "TL informiert",
    "Vermerk an TL",
)
ABSENCE_COLUMNS = ("Bearbeiter", "Von", "Bis", "Vertretung")

_CHUNK_ROWS = 1_000_000
_EOL = "\r\n"  # the exports come from Windows machines

# Customer numbers: a local prefix (mostly), "D" and six digits.
_CUSTOMER_PREFIXES = pa.array(["962", "961", "963", "104"])
_CUSTOMER_PREFIX_CDF = np.cumsum([0.8, 0.1, 0.06, 0.04])
_CUSTOMER_MULT = 387_403  # odd, not divisible by 5: a bijection on the six digits

# Dirty and unusual rows per ticket row; each kind appears at least once in any chunk of 200+.
_ODD_ROW_RATES = {
    "empty_id": 2e-4,
    "unknown_bereich": 2e-4,
    "bad_eingang": 2e-4,
    "erledigt_before_eingang": 2e-4,
    "informiert_before_eingang": 2e-4,
    "unknown_verbis": 2e-4,
    "unknown_kanal": 1e-4,
    "unknown_anliegen": 1e-4,
    "bad_zusage": 1e-4,
    "wrong_field_count": 2e-4,
    "multiline_anliegen": 2e-5,
    "conflicting_duplicate": 1e-4,
    "identical_duplicate": 2e-4,
    "quoted_fields": 1e-4,
    "semicolon_customer": 2e-5,
}
_MIN_ROWS_FOR_ODD = 200
# Kinds that are written as a whole record of their own rather than by changing a value.
_ODD_RECORDS = ("wrong_field_count", "multiline_anliegen", "quoted_fields", "semicolon_customer")
# Values that are not dates ({y}: the year before `until`), for Eingang and for Zusage bis.
_BAD_RECEIVED = ("31.02.{y}", "30.02.{y} 10:15", "32.01.{y}", "gestern", "", "unbekannt")
_BAD_COMMITMENT = ("Ende März", "KW 14", "31.04.{y}", "n. V.")


@dataclass(frozen=True)
class DemoFiles:
    """Paths of the files written by write_demo_export."""

    tickets: Path
    absences: Path


def write_demo_export(
    out_dir: Path,
    *,
    tickets: int = 20_000,
    seed: int = 42,
    until: datetime.date,
    encoding: str = "utf-8",
) -> DemoFiles:
    """Write a deterministic synthetic ticket export and absences file into out_dir."""
    if tickets < 0:
        raise ValueError("tickets must not be negative")
    codec = codecs.lookup(encoding).name
    if codec not in ("utf-8", "cp1252"):
        raise ValueError(f"encoding must be utf-8 or cp1252, not {encoding!r}")
    if isinstance(until, datetime.datetime):
        until = until.date()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    n_chunks = max(1, -(-tickets // _CHUNK_ROWS))
    worker_seq, plan_seq, absence_seq, *chunk_seqs = np.random.SeedSequence(seed).spawn(
        3 + n_chunks
    )
    cal = make_calendar(until)
    workers, absences = make_workers(cal, np.random.default_rng(worker_seq), absence_seq)
    plan = make_plan(cal, tickets, np.random.default_rng(plan_seq))
    texts = _Texts(cal, workers, until)

    files = DemoFiles(out_dir / "tickets.csv", out_dir / "absences.csv")
    _write_absences(files.absences, absences, workers, cal, codec)
    # Balanced chunk sizes so that no chunk is too small for its share of odd rows.
    bounds = np.linspace(0, tickets, n_chunks + 1).round().astype(np.int64)
    with open(files.tickets, "wb") as out:
        out.write((";".join(TICKET_COLUMNS) + _EOL).encode(codec))
        for seq, first, last in zip(chunk_seqs, bounds[:-1], bounds[1:], strict=True):
            if last > first:
                rng = np.random.default_rng(seq)
                rows = ticket_rows(rng, int(first), int(last - first), cal, workers, plan)
                out.write(_chunk_text(rng, rows, workers, texts).encode(codec))
    return files


class _Texts:
    """The export's text of days, timestamps and codes, as lookup tables."""

    def __init__(self, cal: Calendar, workers: Workers, until: datetime.date) -> None:
        days = [cal.base.astype(datetime.date) + datetime.timedelta(i) for i in range(cal.n_days)]
        # German dates first, then ISO ones: index day + n_days for a row of the ISO export.
        self.dates = pa.array(
            [d.strftime("%d.%m.%Y") for d in days] + [d.isoformat() for d in days]
        )
        self.clock = pa.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)])
        self.seconds = pa.array([f"{s:02d}" for s in range(60)])
        self.n_days = cal.n_days
        self.teams = pa.array(TEAMS)
        self.workers = pa.array(workers.names)
        self.bad_received = pa.array([v.format(y=until.year - 1) for v in _BAD_RECEIVED])
        self.bad_commitment = pa.array([v.format(y=until.year - 1) for v in _BAD_COMMITMENT])

    def date(self, day: np.ndarray, iso: np.ndarray) -> pa.Array:
        """Days as dates; negative days give nulls."""
        return pc.take(self.dates, pa.array(day + iso * self.n_days, mask=day < 0))

    def timestamp(self, day: np.ndarray, minute: np.ndarray, iso: np.ndarray) -> pa.Array:
        """Days and minutes as timestamps (ISO ones with seconds); negative days give nulls."""
        stamp = pc.binary_join_element_wise(
            self.date(day, iso), pc.take(self.clock, pa.array(minute)), " "
        )
        # The ISO export path writes seconds; they carry no meaning, so a fixed scramble of
        # the day and minute stands in for them.
        scramble = day.astype(np.int64) * 7 + minute.astype(np.int64) * 37 + 11
        seconds = pc.take(self.seconds, pa.array(scramble % 60))
        return pc.if_else(iso, pc.binary_join_element_wise(stamp, seconds, ":"), stamp)


def _pick(values: pa.Array | tuple[str, ...], codes: np.ndarray) -> pa.Array:
    """The value of each code; negative codes give nulls."""
    return pc.take(pa.array(values), pa.array(codes, mask=codes < 0))


def _digits(values: np.ndarray, width: int) -> pa.Array:
    """Non-negative integers as zero-padded decimal text."""
    return pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width, "0")


def _chunk_text(
    rng: np.random.Generator, rows: dict[str, np.ndarray], workers: Workers, texts: _Texts
) -> str:
    """The records of one chunk of rows, with its dirty and unusual rows woven in."""
    m = len(rows["received"])
    odd = _odd_row_plan(rng, m)
    _apply_dirty_values(rows, odd, rng)
    # Duplicates are extra rows appended to the table and later written after their source;
    # a conflicting one names the next colleague as worker.
    identical, conflicting = odd["identical_duplicate"], odd["conflicting_duplicate"]
    duplicated = np.concatenate([identical, conflicting])
    rows = {k: np.concatenate([v, v[duplicated]]) for k, v in rows.items()}
    changed = rows["worker"][m + len(identical) :]
    rows["worker"][m + len(identical) :] = workers.next_colleague[changed]
    lines = _records(rows, texts)

    # Output order: record i at key 2i + 1, a duplicate at 2j, just before record j (1 to 20
    # records after its source).
    before = np.minimum(duplicated + 1 + rng.integers(0, 20, len(duplicated)), m)
    order = np.argsort(np.concatenate([2 * np.arange(m) + 1, 2 * before]), kind="stable")
    # Odd records replace their clean ones, re-rendered one by one (they are few).
    replaced = [(int(i), kind) for kind in _ODD_RECORDS for i in odd[kind]]
    extra = [_odd_line(kind, lines[i].as_py().split(";"), rng) for i, kind in replaced]
    source = np.arange(len(lines))
    source[[i for i, _ in replaced]] = len(lines) + np.arange(len(extra))
    records = pc.take(pa.concat_arrays([lines, pa.array(extra, pa.string())]), source[order])
    joined = pc.binary_join(pa.ListArray.from_arrays([0, len(records)], records), _EOL)
    return joined[0].as_py() + _EOL


def _records(rows: dict[str, np.ndarray], texts: _Texts) -> pa.Array:
    """One `;`-separated record per row; -1 codes and days become empty fields."""
    iso = rows["iso"]

    def stamp(event: str) -> pa.Array:
        return texts.timestamp(rows[event], rows[f"{event}_min"], iso)

    def flawed(text: pa.Array, bad: np.ndarray, values: pa.Array) -> pa.Array:
        return pc.if_else(pa.array(bad >= 0), _pick(values, bad), text)

    width = max(7, len(str(rows["number"].max())))
    ticket_id = pc.binary_join_element_wise(
        "T", _digits(rows["year"], 4), _digits(rows["number"], width), "-"
    )
    # Six digits per customer, a bijection of the customer index; mostly the local prefix.
    customer = rows["customer"] % 1_000_000
    prefix = np.searchsorted(_CUSTOMER_PREFIX_CDF, (customer * 0.7548776662466927) % 1.0)
    customer_number = pc.binary_join_element_wise(
        _pick(_CUSTOMER_PREFIXES, np.minimum(prefix, len(_CUSTOMER_PREFIXES) - 1)),
        _digits(customer * _CUSTOMER_MULT % 1_000_000, 6),
        "D",
    )
    fields = [
        pc.if_else(pa.array(rows["id_missing"]), pa.scalar(None, pa.string()), ticket_id),
        _pick(AREA_VALUES, rows["area"]),
        _pick(texts.teams, rows["team"]),
        _pick(texts.workers, rows["worker"]),
        flawed(stamp("received"), rows["received_bad"], texts.bad_received),
        stamp("completed"),
        _pick(CHANNEL_VALUES, rows["channel"]),
        _pick(CONCERN_VALUES, rows["concern"]),
        customer_number,
        stamp("notified"),
        flawed(texts.date(rows["commitment"], iso), rows["commitment_bad"], texts.bad_commitment),
        _pick(VERBIS_VALUES, rows["verbis"]),
        stamp("callback"),
        texts.date(rows["tl_informed"], iso),
        stamp("walkin_note"),
    ]
    return pc.binary_join_element_wise(*(pc.fill_null(f, "") for f in fields), ";")


def _odd_row_plan(rng: np.random.Generator, m: int) -> dict[str, np.ndarray]:
    """Distinct random row positions for each kind of dirty or unusual row."""
    minimum = 1 if m >= _MIN_ROWS_FOR_ODD else 0
    counts = {k: max(minimum, round(m * r)) for k, r in _ODD_ROW_RATES.items()}
    positions = rng.choice(m, size=min(m, sum(counts.values())), replace=False)
    plan, used = {}, 0
    for kind, count in counts.items():
        plan[kind] = np.sort(positions[used : used + count])
        used += count
    return plan


def _apply_dirty_values(
    rows: dict[str, np.ndarray], plan: dict[str, np.ndarray], rng: np.random.Generator
) -> None:
    """Turn planned rows into rows a loader must reject, by changing one value each."""
    m = len(rows["received"])
    rows["id_missing"] = np.zeros(m, dtype=bool)
    rows["id_missing"][plan["empty_id"]] = True
    pos = plan["unknown_bereich"]
    rows["area"][pos] = rng.integers(2, len(AREA_VALUES), len(pos))
    pos = plan["bad_eingang"]
    rows["received_bad"] = np.full(m, -1, dtype=np.int8)
    rows["received_bad"][pos] = rng.integers(0, len(_BAD_RECEIVED), len(pos))
    pos = plan["erledigt_before_eingang"]
    rows["completed"][pos] = rows["received"][pos] - rng.integers(1, 6, len(pos))
    pos = plan["informiert_before_eingang"]
    rows["notified"][pos] = rows["received"][pos] - rng.integers(1, 4, len(pos))
    pos = plan["unknown_verbis"]
    rows["verbis"][pos] = rng.integers(2, len(VERBIS_VALUES), len(pos))
    pos = plan["unknown_kanal"]
    rows["channel"][pos] = rng.integers(2, len(CHANNEL_VALUES), len(pos))
    pos = plan["unknown_anliegen"]
    rows["concern"][pos] = rng.integers(3, len(CONCERN_VALUES), len(pos))
    pos = plan["bad_zusage"]
    rows["commitment_bad"] = np.full(m, -1, dtype=np.int8)
    rows["commitment_bad"][pos] = rng.integers(0, len(_BAD_COMMITMENT), len(pos))


def _odd_line(kind: str, fields: list[str], rng: np.random.Generator) -> str:
    """Re-render one record: a wrong field count, or valid but unusual CSV quoting."""
    if kind == "wrong_field_count":
        return ";".join(fields[:-1] if rng.random() < 0.5 else [*fields, ""])
    if kind == "quoted_fields":  # some tools quote every non-empty field
        return ";".join(f'"{f}"' if f else "" for f in fields)
    if kind == "multiline_anliegen":  # a note typed into the cell: not a known Anliegen
        fields[7] = f"{fields[7] or 'Rückruf'}\nbitte nur vormittags"
    elif kind == "semicolon_customer":  # two numbers typed into one cell
        fields[8] = f"{fields[8]}; {fields[8][:-1]}{(int(fields[8][-1]) + 1) % 10}"
    text = io.StringIO()
    csv.writer(text, delimiter=";", lineterminator=_EOL).writerow(fields)
    return text.getvalue().removesuffix(_EOL)


def _write_absences(
    path: Path,
    absences: list[tuple[int, int, int, int]],
    workers: Workers,
    cal: Calendar,
    codec: str,
) -> None:
    """Write the absences export, ordered by start date."""

    def date(day: int) -> str:
        return (cal.base + day).astype(datetime.date).strftime("%d.%m.%Y")

    with open(path, "w", encoding=codec, newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator=_EOL)
        writer.writerow(ABSENCE_COLUMNS)
        for first, worker, last, substitute in absences:
            writer.writerow(
                (workers.names[worker], date(first), date(last), workers.names[substitute])
            )
