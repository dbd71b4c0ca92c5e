"""Who is looking and what their role lets them see: the one place that decides access.

A `Viewer` is a signed-in person with one role. From the role follow the pages they get
(`pages_for`), what they may do (`may`), and the scope of the data every query of theirs
runs on (`dashboard.access.scope` builds it as views over the loaded data, from `Viewer`).
Nothing here imports Streamlit: the rules are tested from case tables.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, replace

from dashboard.queries.filters import Filters

ROLES = ("teamleitung", "controlling", "management", "mitarbeitende", "admin", "kontrolle")
ROLE_LABELS = {
    "teamleitung": "Teamleitung",
    "controlling": "Controlling",
    "management": "Management",
    "mitarbeitende": "Mitarbeitende",
    "admin": "Administration",
    "kontrolle": "Kontrolle (Personalrat, Datenschutz)",
}

# Page file stems (pages/*.py) per role. A page not listed is not in the role's navigation,
# so neither a link nor a typed URL reaches it.
PAGES: dict[str, tuple[str, ...]] = {
    "teamleitung": (
        "uebersicht", "teams", "mitarbeitende", "wiedervorlage", "regelverstoesse",
        "wiederholungen", "stichproben", "monatsbericht", "ticket",
    ),
    "controlling": (
        "uebersicht", "teams", "mitarbeitende", "wiedervorlage", "regelverstoesse",
        "wiederholungen", "stichproben", "monatsbericht", "ticket",
    ),
    "management": ("uebersicht", "teams", "monatsbericht"),
    "mitarbeitende": ("uebersicht", "mitarbeitende", "wiedervorlage", "regelverstoesse", "ticket"),
    "admin": ("daten",),
    # the staff council and the data-protection officer: the record of access, no tickets
    "kontrolle": ("protokoll",),
}  # fmt: skip

# The page a role lands on: a worker starts with their own follow-up list; every other
# role with the first of its pages.
LANDING = {"mitarbeitende": "wiedervorlage"}

# What a role may do beyond looking.
ACTIONS: dict[str, frozenset[str]] = {
    "teamleitung": frozenset(
        {"draw_sample", "check_sample", "record_conversation", "absence_warnings"}
    ),
    "controlling": frozenset({"draw_sample", "check_sample", "absence_warnings"}),
    "management": frozenset(),
    "mitarbeitende": frozenset({"read_own_records"}),  # what is recorded about them
    "admin": frozenset({"upload", "read_audit"}),
    "kontrolle": frozenset({"read_audit", "read_access_list"}),
}

# How worker names reach a role: as they are, as stable pseudonyms, or not at all.
WORKER_NAMES = {
    "teamleitung": "names",
    "controlling": "pseudonyms",
    "management": "hidden",
    "mitarbeitende": "names",
    "admin": "names",  # data checks need the names as exported; no figure pages
    "kontrolle": "hidden",  # no ticket data at all (the access log names who looked at whom)
}

# Management sees groups of fewer workers only inside a larger total (docs/access.md).
MIN_GROUP_WORKERS = 5
PSEUDONYM_PREFIX = "MA-"
HIDDEN_WORKER = "–"


@dataclass(frozen=True)
class Delegation:
    """A time-limited deputyship of a team leader (A8), from the users file."""

    team_leader: str  # the login of the team leader stood in for
    date_from: dt.date
    date_to: dt.date  # inclusive

    def active(self, today: dt.date) -> bool:
        """Whether `today` lies in the window."""
        return self.date_from <= today <= self.date_to


@dataclass(frozen=True)
class Viewer:
    """The signed-in person a query runs for."""

    login: str
    name: str
    role: str
    teams: tuple[str, ...] = ()  # teamleitung: the own teams (never empty for that role)
    worker: str | None = None  # mitarbeitende: the own name as the exports spell it
    delegation: Delegation | None = None  # as configured; resolved by `users.lookup`
    deputy_for: str | None = None  # set while acting as a team leader's deputy (A8): their name

    @property
    def label(self) -> str:
        """'Anna Schmidt (Teamleitung)'."""
        label = f"{self.name} ({ROLE_LABELS[self.role]})"
        return f"{label}, Vertretung für {self.deputy_for}" if self.deputy_for else label

    @property
    def who(self) -> str:
        """How records and the audit log name the viewer: 'Anna Schmidt (a.schmidt)'.

        A deputy is named as such: 'Bea Berg (b.berg), Vertretung für Anna Schmidt'.
        """
        who = self.login if self.name == self.login else f"{self.name} ({self.login})"
        return f"{who}, Vertretung für {self.deputy_for}" if self.deputy_for else who

    def scope_key(self) -> tuple:
        """What decides the data this viewer sees: equal keys share one data scope."""
        teams = self.teams if self.role == "teamleitung" else ()
        worker = self.worker if self.role == "mitarbeitende" else None
        return (self.role, tuple(sorted(teams)), worker)

    def in_scope(self) -> Viewer:
        """The viewer reduced to their data scope: who sees the same, shares its figures."""
        role, teams, worker = self.scope_key()
        return Viewer("", "", role, teams, worker)


def pages_for(viewer: Viewer) -> tuple[str, ...]:
    """The pages (file stems) the viewer's role may open."""
    return PAGES[viewer.role]


def landing_page(viewer: Viewer) -> str:
    """The page (file stem) the viewer's role opens on."""
    return LANDING.get(viewer.role, PAGES[viewer.role][0])


def may(viewer: Viewer, action: str) -> bool:
    """Whether the viewer's role allows an action such as 'upload' or 'draw_sample'."""
    return action in ACTIONS[viewer.role]


def worker_names(viewer: Viewer) -> str:
    """'names', 'pseudonyms' or 'hidden': how worker names appear to the viewer."""
    return WORKER_NAMES[viewer.role]


# Roles whose data scope holds no absences (dashboard.access.scope): they are personal data
# of named workers. A figure built on them is missing for these roles, never 0.
NO_ABSENCES = frozenset({"management", "kontrolle"})


def sees_absences(viewer: Viewer) -> bool:
    """Whether absences (and the figures built on them) are in the viewer's scope."""
    return viewer.role not in NO_ABSENCES


def sees_workers(viewer: Viewer) -> bool:
    """Whether figures per worker (named or pseudonymous) are shown to the viewer at all."""
    return worker_names(viewer) != "hidden" and viewer.role != "admin"


def restrict(filters: Filters, viewer: Viewer | None) -> Filters:
    """Narrow filters to what the viewer may see (teams, own worker); never widen them.

    The data scope (`dashboard.access.scope`) already holds only the viewer's rows; this keeps
    the filters themselves honest, e.g. for the selection named in a report.
    """
    if viewer is None:
        return filters
    teams = filters.teams
    if viewer.role == "teamleitung":
        teams = tuple(t for t in (teams or viewer.teams) if t in viewer.teams) or ("\x00none",)
    workers = filters.workers
    if viewer.role == "mitarbeitende":
        workers = (viewer.worker or "\x00none",)
    elif worker_names(viewer) == "hidden":
        workers = ()
    return replace(filters, teams=teams, workers=workers)


def draw_teams(
    chosen: tuple[str, ...], offered: tuple[str, ...], viewer: Viewer
) -> tuple[str, ...]:
    """The teams a sample draw records: the chosen ones; none chosen by a team leader
    means their own teams (for anyone else: every Integration team, recorded as empty)."""
    return chosen or (offered if viewer.role == "teamleitung" else ())


def pseudonym(worker: str, key: bytes) -> str:
    """A stable keyed pseudonym of a worker name, e.g. 'MA-7KQ2M4XD' (40 bits)."""
    digest = hmac.new(key, b"worker\x00" + worker.encode("utf-8"), hashlib.sha256).digest()
    return PSEUDONYM_PREFIX + base64.b32encode(digest[:5]).decode("ascii")


def merged_groups(workers_by_team: dict[tuple[str, str], set[str]]) -> dict[tuple[str, str], str]:
    """(Bereich, team) -> shown group for management, for teams with fewer than 5 workers.

    Small teams of a Bereich are merged into one group 'Übrige Teams'; while that group
    itself has fewer than 5 distinct workers, the next smallest team of the Bereich joins
    it. So no group shown is smaller than 5 workers unless the whole Bereich is (a total).
    """
    groups: dict[tuple[str, str], str] = {}
    for area in sorted({a for a, _ in workers_by_team}):
        teams = sorted(
            (k for k in workers_by_team if k[0] == area),
            key=lambda k: (len(workers_by_team[k]), k[1]),
        )
        merged = [k for k in teams if len(workers_by_team[k]) < MIN_GROUP_WORKERS]
        if not merged:
            continue
        rest = [k for k in teams if k not in merged]
        while len(set().union(*(workers_by_team[k] for k in merged))) < MIN_GROUP_WORKERS and rest:
            merged.append(rest.pop(0))
        groups.update({k: OTHER_TEAMS for k in merged})
    return groups


OTHER_TEAMS = "Übrige Teams (zusammengefasst)"
