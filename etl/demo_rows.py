"""The simulated Service-Center tickets behind the demo export, as numeric columns.

Two years of tickets of three Leistung teams (FAss) and two Integration teams (AV/FM): a
weekly and seasonal load, workers of different reliability and their absences, timely notices
with commitments (valid and invalid ones) and the Leistung checks (callback, walk-in note, TL
informed). Days are indexes into a calendar, times are minutes of the day, texts are codes
into the value tables; etl/demo.py turns them into the export's text.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

import holidays
import numpy as np

# Leistung teams are staffed with FAss, Integration teams with AV/FM; only names are exported.
ROSTER = {
    "Leistung Nord": "Jürgen Weiß, Sabine Müller, Thomas Schröder, Katrin Hoffmann, Andreas Krüger,"
    " Monika Schulz, Stefan Lehmann, Daniela Köhler, Frank Neumann",
    "Leistung Mitte": "Petra Schmidt, Michael Wagner, Susanne Becker, Uwe Fischer, Claudia Meyer,"
    " Ralf Schäfer, Anja Wolf, Dirk Richter, Birgit Zimmermann",
    "Leistung Süd": "Heike Braun, Matthias Krause, Nicole Hartmann, Torsten Lange, Sandra Schwarz,"
    " Jörg Werner, Kerstin Böhm, Marco Günther",
    "Integration U25": "Julia Schneider, Sebastian Koch, Anna Bauer, Tobias Wendt, Lena Voß,"
    " Florian Schulte, Maike Jäger",
    "Integration Ü25": "Christian Fuchs, Martina Groß, Holger Peters, Ines Franke, René Möller,"
    " Silke Hahn, Björn Keßler",
}
TEAMS = tuple(ROSTER)
LEISTUNG_TEAMS = 3  # the first three teams of the roster
_DEADLINE = np.array([5, 2])  # working days per area (A2, B1)
_LEISTUNG_SHARE = 0.72

WINDOW_DAYS = 730
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
# fmt: off
_RECEIPT_HOURS_FREE = [
    0.05, 0.03, 0.02, 0.02, 0.02, 0.03, 0.1, 0.3, 0.6, 0.9, 1.0, 1.0,
    1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.2, 1.1, 0.8, 0.5, 0.2,
]
# fmt: on
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

# Texts of the coded columns. The first codes are what the ticket system writes, the later
# ones appear only in dirty rows (etl/demo.py).
AREA_VALUES = ("Leistung", "Integration", "Leistungen", "Vermittlung", "SGB II")
CHANNEL_VALUES = ("Service-Center", "Vorsprache", "E-Mail", "Telefon")
CONCERN_VALUES = ("Allgemein", "Rückruf", "Termin", "Beschwerde", "Widerspruch")
VERBIS_VALUES = ("ja", "nein", "vielleicht", "unklar", "j/n")


@dataclass(frozen=True)
class Calendar:
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
class Workers:
    """The roster: names, team, reliability profile, capacity and absences of each worker."""

    names: tuple[str, ...]
    team: np.ndarray
    profile: np.ndarray
    capacity: np.ndarray
    next_colleague: np.ndarray
    absent: np.ndarray  # bool [worker, day]


@dataclass(frozen=True)
class Plan:
    """Global layout of the rows: receipt day of each row and the per-year ticket numbering."""

    day_start: np.ndarray  # first global row of each window day
    day_count: np.ndarray
    day_end: np.ndarray
    id_base: np.ndarray  # ticket number = row - id_base[day]
    customers: int
    customer_offset: int


def make_calendar(until: datetime.date) -> Calendar:
    """Working days of Brandenburg (holidays plus closing days 24.12. and 31.12.)."""
    start = until - datetime.timedelta(days=WINDOW_DAYS - 1)
    # Margins: dirty rows date events before the window, commitments reach past `until`.
    first = start - datetime.timedelta(days=30)
    n_days = WINDOW_DAYS + 30 + 150
    years = range(first.year, first.year + n_days // 365 + 2)
    closed = set(holidays.Germany(subdiv="BB", language="de", years=years))
    closed |= {datetime.date(y, m, d) for y in years for m, d in ((12, 24), (12, 31))}
    busdaycal = np.busdaycalendar(weekmask="1111100", holidays=sorted(closed))
    base = np.datetime64(first, "D")
    is_workday = np.is_busday(
        base + np.arange(n_days).astype("timedelta64[D]"), busdaycal=busdaycal
    )
    return Calendar(
        base=base,
        n_days=n_days,
        start=30,
        until=30 + WINDOW_DAYS - 1,
        is_workday=is_workday,
        workdays=np.flatnonzero(is_workday).astype(np.int32),
        workday_rank=np.cumsum(is_workday) - 1,
    )


def make_workers(
    cal: Calendar, rng: np.random.Generator, absence_seq: np.random.SeedSequence
) -> tuple[Workers, list[tuple[int, int, int, int]]]:
    """The roster with seeded traits, and the absences as (first, worker, last, substitute)."""
    members = [names.split(", ") for names in ROSTER.values()]
    names = tuple(name for team in members for name in team)
    team = np.repeat(np.arange(len(members)), [len(m) for m in members])
    profile = rng.permutation(np.repeat(np.arange(3), _PROFILE_COUNTS))
    capacity = rng.choice([1.0, 0.8, 0.5], size=len(names), p=[0.7, 0.15, 0.15])
    positions = np.arange(len(names))
    team_first = np.searchsorted(team, team)
    team_size = np.bincount(team)[team]
    next_colleague = team_first + (positions - team_first + 1) % team_size
    absent, absences = _make_absences(cal, team, np.random.default_rng(absence_seq))
    return Workers(names, team, profile, capacity, next_colleague, absent), absences


def _make_absences(
    cal: Calendar, team: np.ndarray, rng: np.random.Generator
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


def make_plan(cal: Calendar, tickets: int, rng: np.random.Generator) -> Plan:
    """Distribute the tickets over the receipt days and lay out the ticket numbers."""
    days = cal.start + np.arange(WINDOW_DAYS)
    dates = cal.base + days.astype("timedelta64[D]")
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    month = dates.astype("datetime64[M]").astype(np.int64) % 12
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    load = _WEEKDAY_LOAD[weekday] * _MONTH_LOAD[month] * rng.gamma(20.0, 1 / 20, WINDOW_DAYS)
    load = np.where(cal.is_workday[days] | (weekday >= 5), load, _CLOSED_DAY_LOAD)
    count = rng.multinomial(tickets, load / load.sum())
    end = np.cumsum(count)
    start = end - count
    # Ticket numbers run per calendar year; the first year began before the window, so its
    # numbers start at an estimate of the tickets received before the window opened.
    first_of_year = start[np.searchsorted(year, year)]
    jan_first = np.datetime64(f"{year[0]}-01-01", "D")
    before = round(tickets * int((dates[0] - jan_first).astype(np.int64)) / WINDOW_DAYS)
    id_base = first_of_year - 1 - np.where(year == year[0], before, 0)
    customers = int(np.clip(tickets // 3, 50, 1_000_000))
    return Plan(start, count, end, id_base, customers, int(rng.integers(0, 1_000_000)))


@functools.cache
def _minute_quantiles(hour_weights: tuple[float, ...]) -> np.ndarray:
    """Minute of the day at 65,536 evenly spaced quantiles of an hourly profile."""
    cdf = np.cumsum(np.repeat(hour_weights, 60))
    return np.searchsorted(cdf / cdf[-1], (np.arange(65536) + 0.5) / 65536).astype(np.int16)


def _time_of_day(q: np.ndarray, hour_weights: list[float]) -> np.ndarray:
    """Minute of the day at quantiles q (0 <= q < 1) of an hourly profile."""
    return _minute_quantiles(tuple(hour_weights))[(q * 65536).astype(np.int64)]


def ticket_rows(
    rng: np.random.Generator,
    first: int,
    m: int,
    cal: Calendar,
    workers: Workers,
    plan: Plan,
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
    team = np.where(area == 0, customer % LEISTUNG_TEAMS, 3 + (customer // 3) % 2)
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
        "area": area,
        "team": team,
        "worker": worker,
        "received": received,
        "received_min": received_min,
        "completed": completed.astype(np.int32),
        "completed_min": event_time(completed),
        "channel": channel,
        "concern": concern,
        "customer": customer + plan.customer_offset,
        "notified": notified.astype(np.int32),
        "notified_min": event_time(notified),
        "commitment": commitment.astype(np.int32),
        "verbis": verbis,
        "callback": callback.astype(np.int32),
        "callback_min": event_time(callback),
        "tl_informed": tl_informed.astype(np.int32),
        "walkin_note": walkin_note.astype(np.int32),
        "walkin_note_min": event_time(walkin_note),
        "iso": rng.random(m) < _ISO_SHARE,
    }


def _assign_workers(team: np.ndarray, customer: np.ndarray, workers: Workers) -> np.ndarray:
    """Fixed worker per customer and team, weighted by the workers' capacity (part-time)."""
    # A golden-ratio hash spreads consecutive customer numbers evenly over [0, 1).
    share = (customer * 0.6180339887498949) % 1.0
    worker = np.empty(len(team), dtype=np.int64)
    for t in range(len(TEAMS)):
        members = np.flatnonzero(workers.team == t)
        cdf = np.cumsum(workers.capacity[members])
        rows = team == t
        pick = np.searchsorted(cdf / cdf[-1], share[rows], side="right")
        worker[rows] = members[np.minimum(pick, len(members) - 1)]
    return worker


def _walkin_open(cal: Calendar, day: np.ndarray, minute: np.ndarray) -> np.ndarray:
    """Whether the benefits counters are open for walk-ins at that day and minute."""
    weekday = ((cal.base + day.astype("timedelta64[D]")).astype(np.int64) + 3) % 7
    hour = minute // 60
    is_open = np.zeros(len(day), dtype=bool)
    for wd, windows in _WALKIN_WINDOWS.items():
        for lo, hi in windows:
            is_open |= (weekday == wd) & (hour >= lo) & (hour < hi)
    return is_open
