"""Who is looking: the one place where row-level restriction will be enforced."""

from __future__ import annotations

from dataclasses import dataclass, replace

from dashboard.metrics import Filters


@dataclass(frozen=True)
class Viewer:
    """The person a query runs for. Until sign-in exists, everyone sees everything."""

    name: str = "alle"
    role: str = "alle"
    teams: tuple[str, ...] = ()  # empty: all teams
    worker: str | None = None  # set: only this worker's tickets


EVERYONE = Viewer()


def restrict(filters: Filters, viewer: Viewer) -> Filters:
    """Narrow filters to what the viewer may see (teams, own worker); never widen them."""
    teams = filters.teams
    if viewer.teams:
        teams = tuple(t for t in (teams or viewer.teams) if t in viewer.teams) or ("\x00none",)
    workers = filters.workers
    if viewer.worker is not None:
        workers = (viewer.worker,)
    return replace(filters, teams=teams, workers=workers)
