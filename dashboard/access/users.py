"""The people who may use the dashboard: the users file, and the demo users of demo mode.

The users file (config `auth.users_file`, TOML) lists every person with one role:

    [[user]]
    login = "a.schmidt@jobcenter.example"   # the sign-in name or e-mail
    name = "Anna Schmidt"
    role = "teamleitung"
    teams = ["Leistung 1", "Leistung 2"]

`teamleitung` needs `teams`, `mitarbeitende` needs `worker` (the name as the exports spell
it). Logins match case-insensitively. A team leader's deputy (A8) gets a time-limited
delegation instead of a changed role:

    deputy_for = "a.schmidt@jobcenter.example"   # the team leader's login
    from = 2026-12-07
    to = 2026-12-18                              # inclusive

From `from` to `to` the deputy signs in as a team leader of that leader's teams (added to
their own teams if they lead teams themselves), and every record names them as the deputy.
A user of the roles with a monthly report
(teamleitung, controlling, management) may subscribe to it by e-mail (`send-reports`):

    [user.report]
    email = "a.schmidt@jobcenter.example"   # default: the login, when it is an address
    areas = ["Leistung"]                    # default: every Bereich the role sees
    teams = ["Leistung 1"]                  # default: every team the role sees

Nothing here imports Streamlit.
"""

from __future__ import annotations

import datetime as dt
import re
import stat
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dashboard.access.viewer import ACTIONS, ROLE_LABELS, ROLES, Delegation, Viewer
from dashboard.core.config import AREAS
from dashboard.queries.filters import Filters

# Roles a delegation may turn into a team leader's deputy: those who see less than a TL.
DEPUTY_ROLES = ("teamleitung", "mitarbeitende")
# The roles of the page Monatsbericht: only they can subscribe to the report by e-mail.
REPORT_ROLES = ("teamleitung", "controlling", "management")
ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


class UsersError(Exception):
    """The users file cannot be used; the message says why in German."""


class _Report(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = None
    areas: list[Literal[AREAS]] = []  # type: ignore[valid-type]
    teams: list[str] = []


class _User(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: str
    name: str | None = None
    role: Literal[ROLES]  # type: ignore[valid-type]
    teams: list[str] = []
    worker: str | None = None
    deputy_for: str | None = None
    date_from: dt.date | None = Field(default=None, alias="from")
    date_to: dt.date | None = Field(default=None, alias="to")
    report: _Report | None = None

    @model_validator(mode="after")
    def _role_needs(self) -> _User:
        if self.role == "teamleitung" and not self.teams:
            raise ValueError("eine Teamleitung braucht mindestens ein Team (teams)")
        if self.role == "mitarbeitende" and not self.worker:
            raise ValueError("Mitarbeitende brauchen ihren Namen wie im Export (worker)")
        window = (self.deputy_for, self.date_from, self.date_to)
        if any(v is not None for v in window):
            if any(v is None for v in window):
                raise ValueError("eine Vertretung braucht deputy_for, from und to")
            if self.date_from > self.date_to:
                raise ValueError("Vertretung: from liegt nach to")
            if self.role not in DEPUTY_ROLES:
                raise ValueError("Vertretung nur für Teamleitung oder Mitarbeitende")
        if self.report is not None:
            if self.role not in REPORT_ROLES:
                raise ValueError(
                    f"die Rolle {self.role} bekommt keinen Monatsbericht (report); nur "
                    + ", ".join(REPORT_ROLES)
                )
            address = self.report.email or self.login
            if not ADDRESS.fullmatch(address.strip()):
                raise ValueError(f"report.email: {address!r} ist keine E-Mail-Adresse")
            if self.role == "teamleitung" and set(self.report.teams) - set(self.teams):
                raise ValueError("report.teams: nur eigene Teams (teams) möglich")
        return self


class _UsersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: list[_User] = []


@dataclass(frozen=True)
class Subscription:
    """Who gets the monthly report by e-mail, at which address, of which selection."""

    viewer: Viewer
    email: str
    filters: Filters  # Bereich and teams; the viewer's scope narrows them further


def load_users(path: Path | None) -> dict[str, Viewer]:
    """Login (lower case) -> Viewer, from the users file; empty without a file."""
    return {login: viewer for login, (viewer, _) in _load(path).items()}


def subscriptions(path: Path | None) -> list[Subscription]:
    """The subscriptions to the monthly report in the users file, in the file's order."""
    out = []
    for viewer, report in _load(path).values():
        if report is not None:
            email = (report.email or viewer.login).strip()
            filters = Filters(areas=tuple(report.areas), teams=tuple(report.teams))
            out.append(Subscription(viewer, email, filters))
    return out


def _load(path: Path | None) -> dict[str, tuple[Viewer, _Report | None]]:
    if path is None:
        return {}
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            # Whoever may write the file may make themselves anyone: refuse it outright.
            raise UsersError(
                f"Die Benutzerdatei {path} ist für andere beschreibbar (Rechte "
                f"{stat.S_IMODE(mode):o}); bitte mit 'chmod go-w' schützen."
            )
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        users = _UsersFile.model_validate(raw).user
    except FileNotFoundError as exc:
        raise UsersError(f"Die Benutzerdatei {path} fehlt.") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsersError(f"Die Benutzerdatei {path} ist kein gültiges TOML: {exc}") from exc
    except ValidationError as exc:
        where = "; ".join(
            f"user[{e['loc'][1]}]: {e['msg'].removeprefix('Value error, ')}"
            if len(e["loc"]) > 1
            else e["msg"]
            for e in exc.errors()
        )
        raise UsersError(f"Die Benutzerdatei {path} ist ungültig: {where}") from None
    viewers: dict[str, tuple[Viewer, _Report | None]] = {}
    for user in users:
        login = user.login.strip().lower()
        if login in viewers:
            raise UsersError(f"Die Benutzerdatei {path} nennt {user.login!r} zweimal.")
        delegation = None
        if user.deputy_for is not None:
            delegation = Delegation(user.deputy_for.strip().lower(), user.date_from, user.date_to)
        viewer = Viewer(
            login=login,
            name=user.name or user.login,
            role=user.role,
            teams=tuple(user.teams),
            worker=user.worker,
            delegation=delegation,
        )
        viewers[login] = (viewer, user.report)
    for viewer, _ in viewers.values():
        if viewer.delegation is not None:
            leader = viewers.get(viewer.delegation.team_leader, (None, None))[0]
            if leader is None or leader.role != "teamleitung":
                raise UsersError(
                    f"Die Benutzerdatei {path} ist ungültig: {viewer.login} vertritt "
                    f"{viewer.delegation.team_leader!r}, das ist keine Teamleitung der Datei."
                )
    return viewers


def lookup(
    users: dict[str, Viewer], login: str | None, today: dt.date | None = None
) -> Viewer | None:
    """The configured user of a sign-in name, or None (unknown users get no data).

    A deputy within their delegation's window (A8) comes back as a team leader of the
    leader's teams (besides their own), named as deputy; outside it, as configured.
    """
    if not login:
        return None
    viewer = users.get(login.strip().lower())
    if viewer is None or viewer.delegation is None:
        return viewer
    base = replace(viewer, delegation=None)
    if not viewer.delegation.active(today or dt.date.today()):
        return base
    leader = users[viewer.delegation.team_leader]
    own = viewer.teams if viewer.role == "teamleitung" else ()
    return replace(
        base,
        role="teamleitung",
        teams=tuple(dict.fromkeys([*own, *leader.teams])),
        worker=None,
        deputy_for=leader.name,
    )


def demo_users(con: duckdb.DuckDBPyConnection) -> list[Viewer]:
    """One demo user per role (and per team) of a demo database, the first one seeing most."""
    rows = con.execute("SELECT DISTINCT team FROM tickets ORDER BY team").fetchall()
    teams = [t for (t,) in rows]
    first = con.execute(
        "SELECT min(worker) FROM tickets WHERE team = ?", [teams[0] if teams else ""]
    ).fetchall()[0][0]
    viewers = [
        Viewer("demo-bereichsleitung", "Bereichsleitung, alle Teams", "teamleitung", tuple(teams))
    ]
    viewers += [
        Viewer(f"demo-tl-{i}", f"Teamleitung {team}", "teamleitung", (team,))
        for i, team in enumerate(teams, start=1)
    ]
    viewers += [
        Viewer("demo-controlling", "Controlling", "controlling"),
        Viewer("demo-management", "Management", "management"),
    ]
    if first is not None:
        viewers.append(Viewer("demo-mitarbeitende", first, "mitarbeitende", worker=first))
    viewers.append(Viewer("demo-admin", "Administration", "admin"))
    viewers.append(Viewer("demo-kontrolle", "Personalrat", "kontrolle"))
    # A teamleitung needs at least one team; an empty demo database has none.
    return [v for v in viewers if v.role != "teamleitung" or v.teams]


def access_list(viewers: dict[str, Viewer]) -> pd.DataFrame:
    """Who may see what, one row per user of the users file (German headers)."""
    rows = [
        {
            "Anmeldung": v.login,
            "Name": v.name,
            "Rolle": ROLE_LABELS[v.role],
            "sieht": SEES[v.role].format(teams=", ".join(v.teams), worker=v.worker or "")
            + _deputy_note(v, viewers),
            "darf außerdem": ", ".join(sorted(ACTION_LABELS[a] for a in ACTIONS[v.role])) or "–",
        }
        for v in sorted(viewers.values(), key=lambda v: (ROLES.index(v.role), v.login))
    ]
    return pd.DataFrame(rows, columns=["Anmeldung", "Name", "Rolle", "sieht", "darf außerdem"])


def _deputy_note(viewer: Viewer, viewers: dict[str, Viewer]) -> str:
    d = viewer.delegation
    if d is None:
        return ""
    leader = viewers[d.team_leader]
    return (
        f"; vom {d.date_from:%d.%m.%Y} bis {d.date_to:%d.%m.%Y} Vertretung für {leader.name} "
        f"(Teams {', '.join(leader.teams)})"
    )


SEES = {
    "teamleitung": "Teams {teams}: Kennzahlen, Namen, Tickets",
    "controlling": "alle Teams: Kennzahlen, Pseudonyme statt Namen, Tickets",
    "management": "alle Teams zusammengefasst, keine einzelnen Personen",
    "mitarbeitende": "nur eigene Tickets ({worker})",
    "admin": "Ladevorgänge, abgewiesene Zeilen, Datenprüfungen, Zugriffsprotokoll",
    "kontrolle": "Zugriffsprotokoll und diese Liste, keine Ticketdaten",
}
ACTION_LABELS = {
    "draw_sample": "Stichproben ziehen",
    "check_sample": "Stichproben prüfen",
    "record_conversation": "Gespräche erfassen",
    "upload": "Exporte laden",
    "read_audit": "Zugriffsprotokoll lesen",
    "read_access_list": "Berechtigungen lesen",
    "read_own_records": "eigene Aufzeichnungen sehen",
    "absence_warnings": "Warnungen zu Abwesenheiten sehen",
}
