"""Deterministic synthetic ticket export (and absences export) for demos and load tests.

The files look like what a Jobcenter's ticket system would export in the default format of
EXPORT_FORMAT.md: two years of Service-Center tickets of three Leistung teams (FAss) and two
Integration teams (AV/FM), a realistic weekly and seasonal load, workers with different
reliability, timely notices with commitments (valid and invalid ones), the Leistung checks
(callback, walk-in note, TL informed), a mix of date formats and a sprinkling of dirty rows
that a loader has to reject.

Everything is vectorised with numpy/pyarrow and generated in chunks, each chunk from its own
deterministic sub-seed, so that millions of tickets fit in little memory and time, and the same
arguments always give byte-identical files.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import functools
import io
from dataclasses import dataclass
from pathlib import Path

import holidays
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

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

# Leistung teams are staffed with FAss, Integration teams with AV/FM; only names are exported.
_ROSTER = (
    (
        "Leistung Nord",
        "Jürgen Weiß",
        "Sabine Müller",
        "Thomas Schröder",
        "Katrin Hoffmann",
        "Andreas Krüger",
        "Monika Schulz",
        "Stefan Lehmann",
        "Daniela Köhler",
        "Frank Neumann",
    ),
    (
        "Leistung Mitte",
        "Petra Schmidt",
        "Michael Wagner",
        "Susanne Becker",
        "Uwe Fischer",
        "Claudia Meyer",
        "Ralf Schäfer",
        "Anja Wolf",
        "Dirk Richter",
        "Birgit Zimmermann",
    ),
    (
        "Leistung Süd",
        "Heike Braun",
        "Matthias Krause",
        "Nicole Hartmann",
        "Torsten Lange",
        "Sandra Schwarz",
        "Jörg Werner",
        "Kerstin Böhm",
        "Marco Günther",
    ),
    (
        "Integration U25",
        "Julia Schneider",
        "Sebastian Koch",
        "Anna Bauer",
        "Tobias Wendt",
        "Lena Voß",
        "Florian Schulte",
        "Maike Jäger",
    ),
    (
        "Integration Ü25",
        "Christian Fuchs",
        "Martina Groß",
        "Holger Peters",
        "Ines Franke",
        "René Möller",
        "Silke Hahn",
        "Björn Keßler",
    ),
)
_LEISTUNG_TEAMS = 3  # the first three teams of the roster
_DEADLINE = np.array([5, 2])  # working days per area (A2, B1)
_LEISTUNG_SHARE = 0.72

_WINDOW_DAYS = 730
_CHUNK_ROWS = 1_000_000
_EOL = "\r\n"  # the exports come from Windows machines
_ISO_SHARE = 0.06  # rows from a second export path that writes ISO timestamps

# Load factors. Monday brings the weekend's backlog, Friday afternoons are quiet; online forms
# trickle in on weekends and holidays. January (new benefit year) and September (after the
# summer) are busy, the summer holidays and December are calm.
_WEEKDAY_LOAD = np.array([1.35, 1.1, 0.95, 1.05, 0.7, 0.05, 0.03])
_CLOSED_DAY_LOAD = 0.04
_MONTH_LOAD = np.array([1.25, 1.1, 1.05, 1.0, 0.95, 0.95, 0.75, 0.8, 1.2, 1.1, 1.0, 0.8])

# Hourly weights of receipt times (phone hours on working days, online forms otherwise) and of
# the times staff record something (office hours).
_RECEIPT_HOURS_WORK = (
    [0.02] * 6
    + [0.15, 0.6, 1.2, 1.5, 1.5, 1.3, 0.9, 1.1, 1.1, 0.9, 0.6, 0.35]
    + [0.15, 0.1, 0.08, 0.06, 0.04, 0.03]
)
_RECEIPT_HOURS_FREE = [
    0.05,
    0.03,
    0.02,
    0.02,
    0.02,
    0.03,
    0.1,
    0.3,
    0.6,
    0.9,
    1.0,
    1.0,
    1.0,
    1.0,
    1.0,
    1.0,
    1.0,
    1.1,
    1.2,
    1.2,
    1.1,
    0.8,
    0.5,
    0.2,
]
_OFFICE_HOURS = [0.0] * 7 + [0.6, 1.2, 1.3, 1.3, 1.2, 0.7, 1.0, 1.1, 0.9, 0.4] + [0.0] * 7
# Walk-in hours of the benefits counters: Mon, Tue, Fri 8-12, Thu 8-12 and 14-18, Wed closed.
_WALKIN_WINDOWS = {0: ((8, 12),), 1: ((8, 12),), 3: ((8, 12), (14, 18)), 4: ((8, 12),)}

# Worker profiles: reliable, average, often late. Counts are fixed so that every seed has a
# few workers who need a conversation (A10); which names get which profile depends on the seed.
_PROFILE_COUNTS = (12, 22, 6)
_P_OVER = np.array([0.07, 0.14, 0.32])  # share of tickets that exceed the deadline
_OVERSHOOT_P = np.array([0.6, 0.45, 0.3])  # geometric: working days beyond the deadline
_SPEED_P = np.array([0.35, 0.5, 0.65])  # binomial: working days used when on time
_P_NOTICE = np.array([0.6, 0.5, 0.35])  # late tickets where the customer is called
_FORGET = np.array([0.5, 1.0, 3.0])  # tendency to leave a ticket lying around

_CUSTOMER_PREFIXES = ("962", "961", "963", "104")
_CUSTOMER_PREFIX_CDF = np.cumsum([0.8, 0.1, 0.06, 0.04])
_CUSTOMER_MULT = 387_403  # odd, not divisible by 5: a bijection on the six digits

_AREA_VALUES = ("Leistung", "Integration", "Leistungen", "Vermittlung", "SGB II")
_CHANNEL_VALUES = ("Service-Center", "Vorsprache", "E-Mail", "Telefon")
_CONCERN_VALUES = ("Allgemein", "Rückruf", "Termin", "Beschwerde", "Widerspruch")
_VERBIS_VALUES = ("ja", "nein", "vielleicht", "unklar", "j/n")

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
# Values that are not dates ({y}: the year before `until`), for Eingang and for Zusage bis.
_BAD_RECEIVED = ("31.02.{y}", "30.02.{y} 10:15", "32.01.{y}", "gestern", "", "unbekannt")
_BAD_COMMITMENT = ("Ende März", "KW 14", "31.04.{y}", "n. V.")


@dataclass(frozen=True)
class DemoFiles:
    """Paths of the files written by write_demo_export."""

    tickets: Path
    absences: Path


@dataclass(frozen=True)
class _Calendar:
    """Day indexes relative to `base`; covers the receipt window plus margins."""

    base: np.datetime64
    n_days: int
    start: int  # first receipt day
    until: int  # last receipt day = snapshot date
    is_workday: np.ndarray
    workdays: np.ndarray  # day indexes of all working days
    workday_rank: np.ndarray  # per day: position in `workdays` of the last working day <= it

    def add_workdays(self, day: np.ndarray, n: np.ndarray | int) -> np.ndarray:
        """The n-th working day after day; like numpy.busday_offset(roll="backward")."""
        # A non-working day rolls back first, so that n=5 from a Saturday is the 5th working
        # day after it, as the deadline rule wants. Table lookups are much faster than
        # busday_offset on datetime64 arrays.
        rank = self.workday_rank[np.clip(day, 0, self.n_days - 1)] + n
        return self.workdays[np.clip(rank, 0, len(self.workdays) - 1)]


@dataclass(frozen=True)
class _Workers:
    """The roster: names, team, reliability profile, capacity and absences of each worker."""

    names: tuple[str, ...]
    team: np.ndarray
    profile: np.ndarray
    capacity: np.ndarray
    next_colleague: np.ndarray
    absent: np.ndarray  # bool [worker, day]


@dataclass(frozen=True)
class _Plan:
    """Global layout of the rows: receipt day of each row and the per-year ticket numbering."""

    day_start: np.ndarray  # first global row of each window day
    day_count: np.ndarray
    day_end: np.ndarray
    id_base: np.ndarray  # ticket number = row - id_base[day]
    customers: int
    customer_offset: int


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
    cal = _make_calendar(until)
    workers, absences = _make_workers(cal, np.random.default_rng(worker_seq), absence_seq)
    plan = _make_plan(cal, tickets, np.random.default_rng(plan_seq))

    files = DemoFiles(out_dir / "tickets.csv", out_dir / "absences.csv")
    _write_absences(files.absences, absences, workers, cal, codec)
    # Balanced chunk sizes so that no chunk is too small for its share of odd rows.
    bounds = np.linspace(0, tickets, n_chunks + 1).round().astype(np.int64)
    with open(files.tickets, "wb") as out:
        out.write((";".join(TICKET_COLUMNS) + _EOL).encode(codec))
        for seq, first, last in zip(chunk_seqs, bounds[:-1], bounds[1:], strict=True):
            if last > first:
                rng = np.random.default_rng(seq)
                rows = _generate_rows(rng, int(first), int(last - first), cal, workers, plan)
                _write_chunk(out, rng, rows, int(last - first), cal, workers, until, codec)
    return files


def _make_calendar(until: datetime.date) -> _Calendar:
    """Working days of Brandenburg (holidays plus closing days 24.12. and 31.12.)."""
    start = until - datetime.timedelta(days=_WINDOW_DAYS - 1)
    # Margins: dirty rows date events before the window, commitments reach past `until`.
    first = start - datetime.timedelta(days=30)
    n_days = _WINDOW_DAYS + 30 + 150
    years = range(first.year, first.year + n_days // 365 + 2)
    closed = set(holidays.Germany(subdiv="BB", language="de", years=years))
    closed |= {datetime.date(y, m, d) for y in years for m, d in ((12, 24), (12, 31))}
    busdaycal = np.busdaycalendar(weekmask="1111100", holidays=sorted(closed))
    base = np.datetime64(first, "D")
    is_workday = np.is_busday(
        base + np.arange(n_days).astype("timedelta64[D]"), busdaycal=busdaycal
    )
    return _Calendar(
        base=base,
        n_days=n_days,
        start=30,
        until=30 + _WINDOW_DAYS - 1,
        is_workday=is_workday,
        workdays=np.flatnonzero(is_workday).astype(np.int32),
        workday_rank=np.cumsum(is_workday) - 1,
    )


def _make_workers(
    cal: _Calendar, rng: np.random.Generator, absence_seq: np.random.SeedSequence
) -> tuple[_Workers, list[tuple[int, int, int, int]]]:
    """The roster with seeded traits, and the absences as (first, worker, last, substitute)."""
    names = tuple(name for team in _ROSTER for name in team[1:])
    team = np.repeat(np.arange(len(_ROSTER)), [len(t) - 1 for t in _ROSTER])
    profile = rng.permutation(np.repeat(np.arange(3), _PROFILE_COUNTS))
    capacity = rng.choice([1.0, 0.8, 0.5], size=len(names), p=[0.7, 0.15, 0.15])
    positions = np.arange(len(names))
    team_first = np.searchsorted(team, team)
    team_size = np.bincount(team)[team]
    next_colleague = team_first + (positions - team_first + 1) % team_size
    absent, absences = _make_absences(cal, team, np.random.default_rng(absence_seq))
    return _Workers(names, team, profile, capacity, next_colleague, absent), absences


def _make_absences(
    cal: _Calendar, team: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Vacations and sick leave (1-15 days) per worker, each with a same-team substitute."""
    absent = np.zeros((len(team), cal.n_days), dtype=bool)
    spans: list[tuple[int, int, int]] = []
    last_day = min(cal.until + 42, cal.n_days - 1)  # planned leave shows up ahead of time
    for worker in range(len(team)):
        day = cal.start - 25 + int(rng.integers(0, 20))  # leave already running counts too
        while True:
            day += int(rng.integers(10, 75))
            if rng.random() < 0.55:  # vacation: starts on a Monday, whole weeks or a few days
                day += (-int((cal.base + day).astype(datetime.date).weekday())) % 7
                length = int(rng.choice([3, 5, 5, 9, 12, 12]))
            else:  # sick leave from a working day on
                while not cal.is_workday[min(day, cal.n_days - 1)] and day < last_day:
                    day += 1
                length = int(rng.choice([1, 1, 2, 3, 3, 5, 7, 10, 14]))
            end = day + length - 1
            if end > last_day:
                break
            spans.append((worker, day, end))
            absent[worker, day : end + 1] = True
            day = end + 1
    absences = []
    for worker, first, last in spans:
        mates = np.flatnonzero((team == team[worker]) & (np.arange(len(team)) != worker))
        free = mates[~absent[mates, first : last + 1].any(axis=1)]
        substitute = int(rng.choice(free if len(free) else mates))
        absences.append((first, worker, last, substitute))
    absences.sort()
    return absent, absences


def _make_plan(cal: _Calendar, tickets: int, rng: np.random.Generator) -> _Plan:
    """Distribute the tickets over the receipt days and lay out the ticket numbers."""
    days = cal.start + np.arange(_WINDOW_DAYS)
    dates = cal.base + days.astype("timedelta64[D]")
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    month = dates.astype("datetime64[M]").astype(np.int64) % 12
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    load = _WEEKDAY_LOAD[weekday] * _MONTH_LOAD[month] * rng.gamma(20.0, 1 / 20, _WINDOW_DAYS)
    load = np.where(cal.is_workday[days] | (weekday >= 5), load, _CLOSED_DAY_LOAD)
    count = rng.multinomial(tickets, load / load.sum())
    end = np.cumsum(count)
    start = end - count
    # Ticket numbers run per calendar year; the first year began before the window, so its
    # numbers start at an estimate of the tickets received before the window opened.
    first_of_year = start[np.searchsorted(year, year)]
    jan_first = np.datetime64(f"{year[0]}-01-01", "D")
    before = round(tickets * int((dates[0] - jan_first).astype(np.int64)) / _WINDOW_DAYS)
    id_base = first_of_year - 1 - np.where(year == year[0], before, 0)
    customers = int(np.clip(tickets // 3, 50, 1_000_000))
    return _Plan(start, count, end, id_base, customers, int(rng.integers(0, 1_000_000)))


@functools.cache
def _minute_quantiles(hour_weights: tuple[float, ...]) -> np.ndarray:
    """Minute of the day at 65,536 evenly spaced quantiles of an hourly profile."""
    cdf = np.cumsum(np.repeat(hour_weights, 60))
    return np.searchsorted(cdf / cdf[-1], (np.arange(65536) + 0.5) / 65536).astype(np.int16)


def _time_of_day(q: np.ndarray, hour_weights: list[float]) -> np.ndarray:
    """Minute of the day at quantiles q (0 <= q < 1) of an hourly profile."""
    return _minute_quantiles(tuple(hour_weights))[(q * 65536).astype(np.int64)]


def _generate_rows(
    rng: np.random.Generator,
    first: int,
    m: int,
    cal: _Calendar,
    workers: _Workers,
    plan: _Plan,
) -> dict[str, np.ndarray]:
    """Clean ticket rows first..first+m-1 as numeric columns (day indexes, minutes, codes)."""
    row = np.arange(first, first + m)
    window_day = np.searchsorted(plan.day_end, row, side="right")
    received = (cal.start + window_day).astype(np.int32)
    workday = cal.is_workday[received]
    # Stratified per day: receipt times grow with the ticket number, across chunks too.
    q = (row - plan.day_start[window_day] + rng.random(m)) / plan.day_count[window_day]
    received_min = np.where(
        workday, _time_of_day(q, _RECEIPT_HOURS_WORK), _time_of_day(q, _RECEIPT_HOURS_FREE)
    )
    number = row - plan.id_base[window_day]
    year = (cal.base + received.astype("timedelta64[D]")).astype("datetime64[Y]").astype(
        np.int64
    ) + 1970

    # Repeat customers: a core of frequent ones, and a fixed team and worker per customer, as
    # responsibility goes by customer (e.g. by initial letter).
    frequent = rng.random(m) < 0.4
    customer = np.where(
        frequent,
        rng.integers(0, max(1, plan.customers // 10), m),
        rng.integers(0, plan.customers, m),
    )
    area = (rng.random(m) >= _LEISTUNG_SHARE).astype(np.int8)
    team = np.where(area == 0, customer % _LEISTUNG_TEAMS, 3 + (customer // 3) % 2)
    worker = _assign_workers(team, customer, workers)
    profile = workers.profile[worker]

    deadline = _DEADLINE[area]
    due = cal.add_workdays(received, deadline)
    # Handovers during absences fail more often (A4): more late tickets, fewer notices.
    away = workers.absent[worker, due]
    p_over = _P_OVER[profile] * rng.uniform(0.8, 1.2, m)
    over = rng.random(m) < np.where(away, p_over + 0.2, p_over)
    notice = over & (rng.random(m) < np.where(away, 0.5, 1.0) * _P_NOTICE[profile])
    flaw = rng.random(m)
    valid = notice & (flaw < 0.85)
    notice_late = notice & (flaw >= 0.85) & (flaw < 0.925)
    no_verbis = notice & (flaw >= 0.925) & (flaw < 0.985)
    no_commitment = notice & (flaw >= 0.985)
    # Some customers are called although the ticket is then done in time.
    early_notice = ~over & (rng.random(m) < 0.02)

    # Work starts on the day of receipt only for tickets that arrive in good time.
    same_day = workday & (received_min < 15 * 60)
    taken = np.maximum(rng.binomial(deadline, _SPEED_P[profile]), ~same_day)
    completed = cal.add_workdays(received, taken)
    overshoot = np.minimum(rng.geometric(_OVERSHOOT_P[profile]), 30)
    completed = np.where(over, cal.add_workdays(due, overshoot), completed)
    extension = np.where(area == 0, rng.integers(3, 11, m), rng.integers(2, 6, m))
    commitment = cal.add_workdays(due, extension)
    kept = rng.random(m) < 0.78
    completed = np.where(
        valid,
        np.where(
            kept,
            cal.add_workdays(due, rng.integers(1, extension + 1)),
            cal.add_workdays(commitment, rng.geometric(0.4, m)),
        ),
        completed,
    )
    recent = cal.until - received <= 120
    forgotten = recent & (rng.random(m) < 0.006 * _FORGET[profile])
    completed = np.where(forgotten, -1, completed)

    notified = cal.add_workdays(received, rng.integers(1, deadline + 1))
    notified = np.where(notice_late, cal.add_workdays(due, rng.integers(1, 4, m)), notified)
    notified = np.where(early_notice, np.minimum(notified, completed), notified)
    notified = np.where(notice | early_notice, notified, -1)
    commitment = np.where((notice & ~no_commitment) | early_notice, commitment, -1)
    verbis = np.where(rng.random(m) < 0.1, 1, -1)
    verbis = np.where(valid | notice_late | no_commitment | early_notice, 0, verbis)
    verbis = np.where(no_verbis, np.where(rng.random(m) < 0.6, 1, -1), verbis)

    leistung = area == 0
    # Anliegen and channel: Integration mostly leaves them empty (defaults).
    pick = rng.random(m)
    concern = np.select([pick < 0.72, pick < 0.90], [0, 1], 2)
    concern = np.where((concern == 0) & (rng.random(m) < 0.1), -1, concern)
    concern = np.where(leistung, concern, np.where(rng.random(m) < 0.15, 0, -1))
    walkin_open = _walkin_open(cal, received, received_min) & workday
    walkin = leistung & walkin_open & (rng.random(m) < 0.35)
    channel = np.where(rng.random(m) < np.where(leistung, 0.9, 0.3), 0, -1)
    channel = np.where(walkin, 1, channel)

    pick = rng.random(m)
    callback = cal.add_workdays(
        received, np.maximum(np.minimum(rng.integers(0, deadline + 1), taken), ~same_day)
    )
    callback = np.where(pick < 0.85, callback, cal.add_workdays(due, rng.integers(1, 4, m)))
    callback = np.where(leistung & (concern >= 1) & (pick < 0.93), callback, -1)

    pick = rng.random(m)
    walkin_note = np.where(pick < 0.85, received, cal.add_workdays(received, rng.integers(1, 4, m)))
    walkin_note = np.where(walkin & (pick < 0.95), walkin_note, -1)

    pick = rng.random(m)
    tl_informed = np.select(
        [pick < 0.6, pick < 0.85, pick < 0.95],
        [completed, cal.add_workdays(completed, rng.integers(1, 3, m)), -1],
        np.maximum(cal.add_workdays(completed, -rng.integers(1, 4, m)), received),
    )

    # The export is a snapshot taken at `until`: later events have not happened yet.
    completed = np.where(completed > cal.until, -1, completed)
    tl_informed = np.where(
        leistung & (completed >= 0) & (tl_informed <= cal.until), tl_informed, -1
    )
    notified, callback, walkin_note = (
        np.where(d > cal.until, -1, d) for d in (notified, callback, walkin_note)
    )

    def event_time(day: np.ndarray) -> np.ndarray:
        # Staff work in office hours, and on the day of receipt only after the receipt.
        office = _time_of_day(rng.random(m), _OFFICE_HOURS)
        later = np.minimum(received_min + rng.integers(5, 180, m), 1439)
        return np.where(day == received, np.maximum(office, later), office)

    return {
        "number": number.astype(np.int64),
        "year": year,
        "id_missing": np.zeros(m, dtype=bool),
        "area": area,
        "team": team,
        "worker": worker,
        "received": received,
        "received_min": received_min,
        "received_bad": np.full(m, -1, dtype=np.int8),
        "completed": completed.astype(np.int32),
        "completed_min": event_time(completed),
        "channel": channel,
        "concern": concern,
        "customer": customer + plan.customer_offset,
        "notified": notified.astype(np.int32),
        "notified_min": event_time(notified),
        "commitment": commitment.astype(np.int32),
        "commitment_bad": np.full(m, -1, dtype=np.int8),
        "verbis": verbis,
        "callback": callback.astype(np.int32),
        "callback_min": event_time(callback),
        "tl_informed": tl_informed.astype(np.int32),
        "walkin_note": walkin_note.astype(np.int32),
        "walkin_note_min": event_time(walkin_note),
        "iso": rng.random(m) < _ISO_SHARE,
    }


def _assign_workers(team: np.ndarray, customer: np.ndarray, workers: _Workers) -> np.ndarray:
    """Fixed worker per customer and team, weighted by the workers' capacity (part-time)."""
    # A golden-ratio hash spreads consecutive customer numbers evenly over [0, 1).
    share = (customer * 0.6180339887498949) % 1.0
    worker = np.empty(len(team), dtype=np.int64)
    for t in range(len(_ROSTER)):
        members = np.flatnonzero(workers.team == t)
        cdf = np.cumsum(workers.capacity[members])
        rows = team == t
        pick = np.searchsorted(cdf / cdf[-1], share[rows], side="right")
        worker[rows] = members[np.minimum(pick, len(members) - 1)]
    return worker


def _walkin_open(cal: _Calendar, day: np.ndarray, minute: np.ndarray) -> np.ndarray:
    """Whether the benefits counters are open for walk-ins at that day and minute."""
    weekday = ((cal.base + day.astype("timedelta64[D]")).astype(np.int64) + 3) % 7
    hour = minute // 60
    is_open = np.zeros(len(day), dtype=bool)
    for wd, windows in _WALKIN_WINDOWS.items():
        for lo, hi in windows:
            is_open |= (weekday == wd) & (hour >= lo) & (hour < hi)
    return is_open


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
    rows["id_missing"][plan["empty_id"]] = True
    pos = plan["unknown_bereich"]
    rows["area"][pos] = rng.integers(2, len(_AREA_VALUES), len(pos))
    pos = plan["bad_eingang"]
    rows["received_bad"][pos] = rng.integers(0, len(_BAD_RECEIVED), len(pos))
    pos = plan["erledigt_before_eingang"]
    rows["completed"][pos] = rows["received"][pos] - rng.integers(1, 6, len(pos))
    pos = plan["informiert_before_eingang"]
    rows["notified"][pos] = rows["received"][pos] - rng.integers(1, 4, len(pos))
    pos = plan["unknown_verbis"]
    rows["verbis"][pos] = rng.integers(2, len(_VERBIS_VALUES), len(pos))
    pos = plan["unknown_kanal"]
    rows["channel"][pos] = rng.integers(2, len(_CHANNEL_VALUES), len(pos))
    pos = plan["unknown_anliegen"]
    rows["concern"][pos] = rng.integers(3, len(_CONCERN_VALUES), len(pos))
    pos = plan["bad_zusage"]
    rows["commitment_bad"][pos] = rng.integers(0, len(_BAD_COMMITMENT), len(pos))


def _ascii_rows(strings: list[str] | tuple[str, ...]) -> np.ndarray:
    """Equally long ASCII strings as a 2-D uint8 array, one row per string."""
    return np.frombuffer("".join(strings).encode("ascii"), np.uint8).reshape(len(strings), -1)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded ASCII digits, one row per value."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers % 10 + ord("0")).astype(np.uint8)


def _join_chars(count: int, *parts: bytes | np.ndarray) -> np.ndarray:
    """Concatenate constant byte strings and per-row character arrays row by row."""
    return np.concatenate(
        [
            np.broadcast_to(np.frombuffer(p, np.uint8), (count, len(p)))
            if isinstance(p, bytes)
            else p
            for p in parts
        ],
        axis=1,
    )


def _strings(chars: np.ndarray) -> pa.Array:
    """An arrow string array over a 2-D ASCII array (one row per value), without copying."""
    count, width = chars.shape
    offsets = np.arange(0, (count + 1) * width, width, dtype=np.int32)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars))]
    return pa.Array.from_buffers(pa.string(), count, buffers)


@functools.lru_cache(maxsize=1)
def _formats(base: np.datetime64, n_days: int) -> dict[str, pa.Array]:
    """Every day, and every minute of every day, as text: German first, then ISO."""
    days = [base.astype(datetime.date) + datetime.timedelta(days=i) for i in range(n_days)]
    german = _ascii_rows([d.strftime("%d.%m.%Y") for d in days])
    iso = _ascii_rows([d.isoformat() for d in days])
    clock = np.arange(1440)
    hour_minute = _join_chars(1440, _digits(clock // 60, 2), b":", _digits(clock % 60, 2))
    day, minute = np.divmod(np.arange(n_days * 1440), 1440)
    # The ISO export path writes seconds; they carry no meaning, so a fixed scramble of the
    # slot stands in for them and keeps every timestamp a single table lookup.
    seconds = _digits((day * 7 + minute * 37 + 11) % 60, 2)
    stamps_de = _join_chars(len(day), german[day], b" ", hour_minute[minute])
    stamps_iso = _join_chars(len(day), iso[day], b" ", hour_minute[minute], b":", seconds)
    return {
        "dates": _strings(np.concatenate([german, iso])),
        "stamps": pa.concat_arrays([_strings(stamps_de), _strings(stamps_iso)]),
    }


def _text_table(
    rows: dict[str, np.ndarray],
    cal: _Calendar,
    workers: _Workers,
    until: datetime.date,
    codec: str,
) -> pa.Table:
    """The export columns as text; -1 codes and days become empty fields."""
    fmt = _formats(cal.base, cal.n_days)
    iso = rows["iso"]
    m = len(iso)
    stand_ins = _cp1252_stand_ins()[0] if codec == "cp1252" else {}

    def pick(values: tuple[str, ...], codes: np.ndarray) -> pa.Array:
        text = pa.array([v.translate(stand_ins) for v in values])
        return pc.take(text, pa.array(codes, mask=codes < 0))

    def date(day: np.ndarray) -> pa.Array:
        index = np.clip(day, 0, cal.n_days - 1) + iso * cal.n_days
        return pc.take(fmt["dates"], pa.array(index, mask=day < 0))

    def timestamp(day: np.ndarray, minute: np.ndarray) -> pa.Array:
        slot = np.clip(day, 0, cal.n_days - 1).astype(np.int64) * 1440 + minute
        index = slot + iso * (cal.n_days * 1440)
        return pc.take(fmt["stamps"], pa.array(index, mask=day < 0))

    def with_bad(text: pa.Array, bad: np.ndarray, values: tuple[str, ...]) -> pa.Array:
        return pc.if_else(pa.array(bad >= 0), pick(values, bad), text)

    width = max(7, len(str(rows["number"].max())))
    ticket_id = _strings(
        _join_chars(m, b"T-", _digits(rows["year"], 4), b"-", _digits(rows["number"], width))
    )
    ticket_id = pc.if_else(pa.array(rows["id_missing"]), pa.scalar(None, pa.string()), ticket_id)
    # Six digits per customer, a bijection of the customer index; mostly the local prefix.
    customer = rows["customer"] % 1_000_000
    prefix = np.searchsorted(_CUSTOMER_PREFIX_CDF, (customer * 0.7548776662466927) % 1.0)
    prefix = np.minimum(prefix, len(_CUSTOMER_PREFIXES) - 1)
    customer_number = _join_chars(
        m,
        _ascii_rows(_CUSTOMER_PREFIXES)[prefix],
        b"D",
        _digits(customer * _CUSTOMER_MULT % 1_000_000, 6),
    )
    bad_received = tuple(v.format(y=until.year - 1) for v in _BAD_RECEIVED)
    bad_commitment = tuple(v.format(y=until.year - 1) for v in _BAD_COMMITMENT)
    columns = [
        ticket_id,
        pick(_AREA_VALUES, rows["area"]),
        pick(tuple(t[0] for t in _ROSTER), rows["team"]),
        pick(workers.names, rows["worker"]),
        with_bad(
            timestamp(rows["received"], rows["received_min"]), rows["received_bad"], bad_received
        ),
        timestamp(rows["completed"], rows["completed_min"]),
        pick(_CHANNEL_VALUES, rows["channel"]),
        pick(_CONCERN_VALUES, rows["concern"]),
        _strings(customer_number),
        timestamp(rows["notified"], rows["notified_min"]),
        with_bad(date(rows["commitment"]), rows["commitment_bad"], bad_commitment),
        pick(_VERBIS_VALUES, rows["verbis"]),
        timestamp(rows["callback"], rows["callback_min"]),
        date(rows["tl_informed"]),
        timestamp(rows["walkin_note"], rows["walkin_note_min"]),
    ]
    return pa.table(columns, names=list(TICKET_COLUMNS))


@functools.cache
def _cp1252_stand_ins() -> tuple[dict[int, str], np.ndarray]:
    """ASCII control characters that stand in for non-ASCII ones, and the byte map back."""
    # pyarrow writes CSV only as UTF-8. For cp1252 the few non-ASCII characters of the fixed
    # vocabularies are written as control characters that never occur otherwise, then every
    # byte is mapped at once: no decoding, and the record bounds stay where they are.
    texts = [*(t[0] for t in _ROSTER), *(n for t in _ROSTER for n in t[1:])]
    texts += [*_AREA_VALUES, *_CHANNEL_VALUES, *_CONCERN_VALUES, *_VERBIS_VALUES]
    texts += [*_BAD_RECEIVED, *_BAD_COMMITMENT]
    chars = sorted({c for text in texts for c in text if ord(c) > 127})
    slots = [b for b in range(1, 32) if b not in (9, 10, 13)]
    if len(chars) > len(slots):
        raise RuntimeError("too many distinct non-ASCII characters for cp1252 stand-ins")
    byte_map = np.arange(256, dtype=np.uint8)
    for char, slot in zip(chars, slots, strict=False):
        byte_map[slot] = char.encode("cp1252")[0]
    return {ord(c): chr(slot) for c, slot in zip(chars, slots, strict=False)}, byte_map


def _write_chunk(
    out: io.BufferedWriter,
    rng: np.random.Generator,
    rows: dict[str, np.ndarray],
    m: int,
    cal: _Calendar,
    workers: _Workers,
    until: datetime.date,
    codec: str,
) -> None:
    """Write one chunk of rows, with its dirty and unusual rows woven in at random places."""
    plan = _odd_row_plan(rng, m)
    _apply_dirty_values(rows, plan, rng)
    # Duplicates are extra rows appended to the table and later written after their source.
    identical = plan["identical_duplicate"]
    conflicting = plan["conflicting_duplicate"]
    extra = np.concatenate([identical, conflicting])
    rows = {k: np.concatenate([v, v[extra]]) for k, v in rows.items()}
    changed = rows["worker"][m + len(identical) :]
    rows["worker"][m + len(identical) :] = workers.next_colleague[changed]

    table = _text_table(rows, cal, workers, until, codec)
    buffer = pa.BufferOutputStream()
    options = pacsv.WriteOptions(
        include_header=False, delimiter=";", quoting_style="none", eol=_EOL, batch_size=65536
    )
    pacsv.write_csv(table, buffer, options)
    data = buffer.getvalue()
    # No generated value contains a delimiter, quote or line break, so the record bounds follow
    # from the field lengths.
    length = sum(pc.fill_null(pc.binary_length(c), 0).to_numpy() for c in table.columns)
    bounds = np.concatenate([[0], np.cumsum(length + len(TICKET_COLUMNS) - 1 + len(_EOL))])
    if codec != "utf-8":
        data = pa.py_buffer(_cp1252_stand_ins()[1][np.frombuffer(data, dtype=np.uint8)])

    def line(i: int) -> str:
        return data[bounds[i] : bounds[i + 1]].to_pybytes().decode(codec)

    # Events: (row, 0 = insert before it | 1 = replace it, text).
    events: list[tuple[int, int, bytes]] = []
    after = np.minimum(extra + 1 + rng.integers(0, 20, len(extra)), m)
    for j, position in enumerate(after):
        events.append((int(position), 0, data[bounds[m + j] : bounds[m + j + 1]]))
    for kind in ("wrong_field_count", "multiline_anliegen", "quoted_fields", "semicolon_customer"):
        for position in plan[kind]:
            text = _odd_line(kind, line(int(position)).removesuffix(_EOL).split(";"), rng)
            events.append((int(position), 1, text.encode(codec)))
    events.sort(key=lambda e: (e[0], e[1]))

    view = memoryview(data)
    current = 0
    for position, replace, text in events:
        out.write(view[bounds[current] : bounds[position]])
        out.write(text)
        current = position + replace
    out.write(view[bounds[current] : bounds[m]])


def _odd_line(kind: str, fields: list[str], rng: np.random.Generator) -> str:
    """Re-render one record: a wrong field count, or valid but unusual CSV quoting."""
    if kind == "wrong_field_count":
        fields = fields[:-1] if rng.random() < 0.5 else [*fields, ""]
        return ";".join(fields) + _EOL
    if kind == "quoted_fields":  # some tools quote every non-empty field
        return ";".join(f'"{f}"' if f else "" for f in fields) + _EOL
    if kind == "multiline_anliegen":  # a note typed into the cell: not a known Anliegen
        fields[7] = f"{fields[7] or 'Rückruf'}\nbitte nur vormittags"
    elif kind == "semicolon_customer":  # two numbers typed into one cell
        fields[8] = f"{fields[8]}; {fields[8][:-1]}{(int(fields[8][-1]) + 1) % 10}"
    text = io.StringIO()
    csv.writer(text, delimiter=";", lineterminator=_EOL).writerow(fields)
    return text.getvalue()


def _write_absences(
    path: Path,
    absences: list[tuple[int, int, int, int]],
    workers: _Workers,
    cal: _Calendar,
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
