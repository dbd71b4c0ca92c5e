"""Random samples of completed Integration tickets (B3): population, draw, records, export.

A draw picks completed Integration tickets of a period (completion date, cut at the
Stichtag) and of some teams, stratified by worker. It is reproducible: candidates are
ordered within each worker by `md5(seed || ':' || ticket_id)` (a keyed hash that is the same
in every DuckDB and Python version; DuckDB's `hash()` is not), and the first `quota` of
each worker are taken; workers are listed in the order of `md5(seed || ':' || worker)`, not
by name (positions in name order would undo pseudonyms). How many a worker gets depends
only on the populations:

- `per_worker` k: min(k, population) for every worker;
- `size` n (or `percent` p, n = ceil(p % of the population)): one per worker first; if n
  is smaller than the number of workers, the workers with the largest populations get one
  (ties by name) and the rest none. The remaining n - W are shared in proportion to the
  populations by largest remainder (ties: larger population, then name), never more than a
  worker has: a worker that is full passes its seat on, round by round, to the others in
  the same remainder order.

No Streamlit here: the page, the CLI and the tests call these functions. The queries take
`(con, as_of, filters, ...)` like every domain function; of the filters only the team and
worker scope (the viewer's restriction) applies, since a sample has its own period and
is always of Integration.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from dataclasses import dataclass

import duckdb
import pandas as pd

from dashboard.core import records
from dashboard.core.config import Config
from dashboard.core.format import date as format_date
from dashboard.core.format import number
from dashboard.core.rules import STATUS_LABELS
from dashboard.queries.filters import Filters, Query, ordered_by

METHODS = ("per_worker", "size", "percent")
# The page's radio labels -> method.
METHOD_CHOICES = {"je Mitarbeiter/in": "per_worker", "Gesamtzahl": "size", "Prozent": "percent"}
RESULTS = ("bestätigt", "nicht bestätigt")
DEFAULT_PER_WORKER = 2
MAX_SEED = 2**63 - 1  # sample_draws.seed is a BIGINT

# The raw events of a ticket as loaded (load_id and source_record change with every load of
# the same content, so they are not part of the fingerprint).
HASHED_FIELDS = (
    "ticket_id", "area", "team", "worker", "received", "completed", "channel", "concern",
    "customer", "notified", "commitment", "verbis_note", "called_back", "tl_informed",
    "walkin_note",
)  # fmt: skip
# '' for an empty field cannot collide with a value: no non-null field renders as ''.
CONTENT_HASH = (
    "md5(concat_ws('|', " + ", ".join(f"coalesce(t.{f}::VARCHAR, '')" for f in HASHED_FIELDS) + "))"
)

# Quota per worker from the populations alone (never from the seed); see the module doc.
ALLOCATION_SQL = """
pop AS {rows},
workers AS (SELECT worker, count(*) AS population FROM pop GROUP BY worker),
totals AS (SELECT count(*) AS n_workers, sum(population)::BIGINT AS n_total FROM workers),
target AS (
    SELECT n_workers, n_total,
           CASE $method
               WHEN 'size' THEN least($amount::BIGINT, n_total)
               -- rounded first: 1.1 % of 1000 is 11, not 12 through a float error
               WHEN 'percent' THEN least(ceil(round($amount * n_total / 100.0, 6))::BIGINT,
                                         n_total)
           END AS n_target
    FROM totals
),
ranked AS (
    SELECT w.worker, w.population, t.n_workers, t.n_total, t.n_target,
           row_number() OVER (ORDER BY w.population DESC, w.worker) AS size_rank
    FROM workers w, target t
),
floors AS (
    SELECT *,
           CASE
               WHEN $method = 'per_worker' THEN least($amount::BIGINT, population)
               WHEN n_target < n_workers THEN (size_rank <= n_target)::BIGINT
               ELSE 1 + ((n_target - n_workers) * population) // n_total
           END AS base,
           -- numerator of the fractional share over the common denominator n_total
           CASE
               WHEN $method <> 'per_worker' AND n_target >= n_workers
               THEN ((n_target - n_workers) * population) % n_total
               ELSE 0
           END AS remainder
    FROM ranked
),
leftover AS (
    SELECT (CASE WHEN $method = 'per_worker' THEN 0
                 ELSE max(n_target) - sum(base) END)::BIGINT AS seats
    FROM floors
),
offers AS (
    -- seat j of a worker with room for more; round j = 1 is plain largest remainder
    SELECT worker, remainder, population,
           unnest(range(1, least(population - base, seats) + 1)) AS j
    FROM floors, leftover
),
extra AS (
    SELECT worker, count(*) AS extra
    FROM (
        SELECT worker,
               row_number() OVER (ORDER BY j, remainder DESC, population DESC, worker) AS seat
        FROM offers
    )
    WHERE seat <= (SELECT seats FROM leftover)
    GROUP BY worker
),
allocation AS (
    SELECT f.worker, f.population, (f.base + coalesce(e.extra, 0))::BIGINT AS quota
    FROM floors f LEFT JOIN extra e USING (worker)
)
"""


@dataclass(frozen=True)
class DrawParams:
    """What a draw was asked for, stored with it."""

    as_of: dt.date
    period_from: dt.date
    period_to: dt.date
    teams: tuple[str, ...]
    method: str
    amount: float
    seed: int
    population: int


def _population(
    as_of: dt.date, filters: Filters, period_from: dt.date, period_to: dt.date, teams
) -> Query:
    """Integration tickets completed in the period, of the chosen teams (empty: all)."""
    # Of the filters only the viewer's team and worker scope applies (see the module doc).
    scope = Filters(teams=filters.teams, workers=filters.workers)
    return scope.verdicts(as_of).wrap(
        """
        SELECT ticket_id, team, worker, receipt_date, due_date, completion_date, status
        FROM {rows}
        WHERE area = 'Integration'
          AND completion_date BETWEEN $c_from::DATE AND $c_to::DATE
          AND (len($chosen) = 0 OR list_contains($chosen, team))
        """,
        c_from=period_from,
        c_to=period_to,
        chosen=list(teams),
    )


def check_request(method: str, amount: float, period_from: dt.date, period_to: dt.date) -> None:
    """Raise ValueError (German message) for a method, amount or period that cannot be drawn."""
    if method not in METHODS:
        raise ValueError(f"Unbekannte Art der Stichprobe: {method!r}")
    if period_from > period_to:
        raise ValueError("Der Zeitraum ist leer: „von“ liegt nach „bis“.")
    if method == "percent":
        if not 0 < amount <= 100:
            raise ValueError("Der Prozentsatz muss größer als 0 und höchstens 100 sein.")
    elif amount < 1 or amount != int(amount):
        raise ValueError("Die Anzahl muss eine ganze Zahl von mindestens 1 sein.")


def new_seed() -> int:
    """A fresh random seed (shown and stored, so the draw can be repeated)."""
    return secrets.randbelow(2**31)


def parse_seed(text: str | None) -> int | None:
    """The seed typed in, or None when empty; ValueError (German) when not a number."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > MAX_SEED:
        raise ValueError("Der Seed muss eine ganze Zahl ab 0 sein (leer = zufällig).")
    return int(text)


def default_period(
    period: tuple[dt.date, dt.date] | None, as_of: dt.date
) -> tuple[dt.date, dt.date]:
    """Completion dates of the chosen months (default: the Stichtag's month), up to `as_of`."""
    first, last = period or (as_of.replace(day=1), as_of.replace(day=1))
    end = (last.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    end = min(end, as_of)
    return min(first.replace(day=1), end), end


def method_label(method: str, amount: float) -> str:
    """'2 je Mitarbeiter/in', '20 insgesamt', '10 %' (German)."""
    if method == "per_worker":
        return f"{number(amount)} je Mitarbeiter/in"
    if method == "size":
        return f"{number(amount)} insgesamt"
    digits = 0 if amount == int(amount) else 1
    return f"{number(amount, digits)} %"


def teams(con: duckdb.DuckDBPyConnection, as_of: dt.date, filters: Filters) -> pd.DataFrame:
    """The Integration teams with tickets received up to `as_of` (within the team scope)."""
    query = Filters(areas=("Integration",), teams=filters.teams).tickets(as_of)
    return query.wrap("SELECT DISTINCT team FROM {rows} ORDER BY team").df(con)


@ordered_by("worker", "ticket_id")
def population(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters,
    period_from: dt.date,
    period_to: dt.date,
    teams: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Integration tickets completed (as of `as_of`) within the period, of `teams` (empty: all)."""
    query = _population(as_of, filters, period_from, period_to, teams)
    return query.wrap("SELECT * FROM {rows} ORDER BY worker, ticket_id").df(con)


@ordered_by("worker")
def allocation(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters,
    period_from: dt.date,
    period_to: dt.date,
    teams: tuple[str, ...] = (),
    method: str = "per_worker",
    amount: float = DEFAULT_PER_WORKER,
) -> pd.DataFrame:
    """Per worker with completed tickets: population and how many are drawn (quota)."""
    check_request(method, amount, period_from, period_to)
    query = _population(as_of, filters, period_from, period_to, teams)
    return query.wrap(
        f"WITH {ALLOCATION_SQL} SELECT * FROM allocation ORDER BY worker",
        method=method,
        amount=amount,
    ).df(con)


def draw(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters,
    period_from: dt.date,
    period_to: dt.date,
    teams: tuple[str, ...] = (),
    method: str = "per_worker",
    amount: float = DEFAULT_PER_WORKER,
    seed: int = 0,
) -> pd.DataFrame:
    """The sample (nothing stored): workers by md5(seed:worker), their tickets by
    md5(seed:ticket_id); same inputs, same rows."""
    check_request(method, amount, period_from, period_to)
    query = _population(as_of, filters, period_from, period_to, teams)
    return query.wrap(
        f"""
        WITH {ALLOCATION_SQL},
        keyed AS (
            SELECT p.*, md5($seed::BIGINT::VARCHAR || ':' || p.ticket_id) AS sample_key
            FROM pop p
        ),
        ordered AS (
            SELECT *, row_number() OVER (PARTITION BY worker ORDER BY sample_key, ticket_id)
                AS rank_in_worker
            FROM keyed
        )
        -- Workers in the order of a hash keyed with the seed, not by name: the positions
        -- of a list with pseudonyms must not follow the alphabet of the names behind them.
        SELECT row_number() OVER (
                   ORDER BY md5($seed::BIGINT::VARCHAR || ':' || o.worker), o.sample_key,
                            o.ticket_id)::INTEGER AS position,
               o.ticket_id, o.team, o.worker, o.receipt_date, o.due_date, o.completion_date,
               o.status, o.sample_key, {CONTENT_HASH} AS content_hash
        FROM ordered o
        JOIN allocation a ON a.worker = o.worker
        JOIN tickets t ON t.ticket_id = o.ticket_id
        WHERE o.rank_in_worker <= a.quota
        ORDER BY position
        """,
        method=method,
        amount=amount,
        seed=seed,
    ).df(con)


def content_hashes(con: duckdb.DuckDBPyConnection, ticket_ids) -> pd.DataFrame:
    """The current fingerprint of each given ticket that is still in the tickets table."""
    return con.execute(
        f"SELECT t.ticket_id, {CONTENT_HASH} AS current_hash FROM tickets t "
        "WHERE t.ticket_id IN (SELECT unnest($ids::VARCHAR[]))",
        {"ids": [str(i) for i in ticket_ids]},
    ).df()


def _who(who: str | None, label: str) -> str:
    who = (who or "").strip()
    if not who:
        raise ValueError(f"Bitte „{label}“ ausfüllen.")
    return who


ITEM_COLUMNS = (
    "position", "ticket_id", "team", "worker", "receipt_date", "due_date", "completion_date",
    "status", "content_hash",
)  # fmt: skip


def store_draw(config: Config, frame: pd.DataFrame, params: DrawParams, who: str) -> int:
    """Record a draw with its items (as drawn) and an audit entry; returns the draw id."""
    who = _who(who, "Gezogen von")
    check_request(params.method, params.amount, params.period_from, params.period_to)
    if frame.empty:
        raise ValueError("Die Stichprobe ist leer und wird nicht gespeichert.")
    items = frame[list(ITEM_COLUMNS)]
    with records.transaction(config) as con:
        # The counter row is updated in this transaction: two replicas drawing at once wait
        # for each other's number (a row lock in PostgreSQL, one writer in DuckDB).
        (sample_no,) = con.execute(
            "UPDATE counters SET value = value + 1 WHERE name = 'sample_no' RETURNING value"
        ).fetchone()
        (draw_id,) = con.execute(
            """
            INSERT INTO sample_draws (drawn_by, drawn_at, as_of, period_from, period_to, teams,
                                      method, amount, seed, population, sample_no)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING draw_id
            """,
            [
                who,
                dt.datetime.now(),
                params.as_of,
                params.period_from,
                params.period_to,
                list(params.teams),
                params.method,
                float(params.amount),
                int(params.seed),
                int(params.population),
                int(sample_no),
            ],
        ).fetchone()
        con.executemany(
            f"INSERT INTO sample_items (draw_id, {', '.join(ITEM_COLUMNS)}) "
            f"VALUES (?, {', '.join('?' for _ in ITEM_COLUMNS)})",
            [[draw_id, *row] for row in items.itertuples(index=False)],
        )
        records.audit(
            con,
            who,
            "Stichprobe gezogen",
            f"Stichprobe Nr. {sample_no} (Ziehung {draw_id}): {len(items)} von "
            f"{params.population} Tickets, "
            f"{method_label(params.method, params.amount)}, Seed {params.seed}, "
            f"erledigt {format_date(params.period_from)}–{format_date(params.period_to)}, "
            f"Stichtag {format_date(params.as_of)}, "
            f"Teams: {', '.join(params.teams) or 'alle Integration-Teams'}",
        )
    return int(draw_id)


def draw_and_record(
    con: duckdb.DuckDBPyConnection, config: Config, filters: Filters, params: DrawParams, who: str
) -> tuple[int, pd.DataFrame]:
    """Draw the sample `params` asks for and record it with real identities: (id, items)."""
    frame = draw(
        con, params.as_of, filters, params.period_from, params.period_to, params.teams,
        params.method, params.amount, params.seed,
    )  # fmt: skip
    return store_draw(config, frame, params, who), frame


def record_result(
    config: Config,
    draw_id: int,
    ticket_id: str,
    result: str,
    comment: str | None,
    who: str,
) -> None:
    """Append a check result of one sampled ticket (the latest one counts) and audit it."""
    who = _who(who, "Geprüft von")
    if result not in RESULTS:
        raise ValueError(
            f"Ergebnis muss „bestätigt“ oder „nicht bestätigt“ sein, nicht {result!r}."
        )
    comment = (comment or "").strip() or None
    with records.transaction(config) as con:
        (found,) = con.execute(
            "SELECT count(*) FROM sample_items WHERE draw_id = ? AND ticket_id = ?",
            [int(draw_id), str(ticket_id)],
        ).fetchone()
        if not found:
            raise ValueError(f"Ticket {ticket_id} gehört nicht zur Stichprobe Nr. {draw_id}.")
        con.execute(
            "INSERT INTO sample_results (draw_id, ticket_id, result, comment, checked_by, "
            "checked_at) VALUES (?, ?, ?, ?, ?, ?)",
            [int(draw_id), str(ticket_id), result, comment, who, dt.datetime.now()],
        )
        records.audit(
            con,
            who,
            "Stichprobe geprüft",
            f"Ziehung {draw_id}, Ticket {ticket_id}: {result}"
            + (f" ({comment})" if comment else ""),
        )


# The latest result per ticket of a draw: ids grow with every append, so the highest wins.
LATEST_RESULTS = """
SELECT * FROM sample_results
WHERE id IN (SELECT max(id) FROM sample_results GROUP BY draw_id, ticket_id)
"""


def draws(config: Config) -> pd.DataFrame:
    """All recorded draws, newest first, with their progress (items, checked, confirmed)."""
    return records.query(
        config,
        f"""
        SELECT d.*, coalesce(i.items, 0)::BIGINT AS items,
               coalesce(r.checked, 0)::BIGINT AS checked,
               coalesce(r.confirmed, 0)::BIGINT AS confirmed,
               coalesce(r.not_confirmed, 0)::BIGINT AS not_confirmed
        FROM sample_draws d
        LEFT JOIN (SELECT draw_id, count(*) AS items FROM sample_items GROUP BY draw_id) i
            USING (draw_id)
        LEFT JOIN (
            SELECT draw_id, count(*) AS checked,
                   count(*) FILTER (WHERE result = 'bestätigt') AS confirmed,
                   count(*) FILTER (WHERE result = 'nicht bestätigt') AS not_confirmed
            FROM ({LATEST_RESULTS}) latest GROUP BY draw_id
        ) r USING (draw_id)
        ORDER BY d.draw_id DESC
        """,
    )


def sample_number(config: Config, draw_id: int) -> int:
    """The sample's own consecutive number (Stichprobe Nr.) of a recorded draw."""
    frame = records.query(config, "SELECT sample_no FROM sample_draws WHERE draw_id = ?", [draw_id])
    return int(frame["sample_no"].iloc[0])


def draw_items(
    config: Config, draw_id: int, con: duckdb.DuckDBPyConnection | None = None
) -> pd.DataFrame:
    """The items of a draw as drawn, with their latest result; `changed_since_draw` given `con`.

    `changed_since_draw` is true when the ticket's events differ from when it was drawn or
    the ticket is no longer loaded; it is missing (NA) without a tickets connection.
    """
    items = records.query(
        config,
        f"""
        SELECT i.*, r.result, r.comment, r.checked_by, r.checked_at
        FROM sample_items i
        LEFT JOIN ({LATEST_RESULTS}) r USING (draw_id, ticket_id)
        WHERE i.draw_id = ?
        ORDER BY i.position
        """,
        [int(draw_id)],
    )
    if con is None:
        return items.assign(changed_since_draw=pd.array([pd.NA] * len(items), dtype="boolean"))
    current = content_hashes(con, items["ticket_id"])
    merged = items.merge(current, on="ticket_id", how="left")
    changed = merged["current_hash"].isna() | (merged["current_hash"] != merged["content_hash"])
    return merged.drop(columns="current_hash").assign(changed_since_draw=changed.astype("boolean"))


EXPORT_COLUMNS = {
    "draw_id": "Ziehung",
    "position": "Nr.",
    "ticket_id": "Ticket-ID",
    "team": "Team",
    "worker": "Mitarbeiter/in",
    "receipt_date": "Eingang",
    "due_date": "Fällig am",
    "completion_date": "Erledigt am",
    "status_label": "Status bei Ziehung",
    "result": "Ergebnis",
    "comment": "Kommentar",
    "checked_by": "Geprüft von",
    "checked_label": "Geprüft am",
    "changed_label": "Geändert seit Ziehung",
}


def export_frame(items: pd.DataFrame, seed: int | None = None) -> pd.DataFrame:
    """A draw's items with their results under German headers, for CSV and Excel."""
    checked = pd.to_datetime(items["checked_at"])
    changed = items["changed_since_draw"].astype("boolean")
    out = items.assign(
        status_label=items["status"].map(STATUS_LABELS),
        checked_label=checked.dt.strftime("%d.%m.%Y %H:%M").fillna(""),
        changed_label=changed.map({True: "ja", False: "nein"}).astype(object).fillna(""),
        result=items["result"].fillna(""),
        comment=items["comment"].fillna(""),
        checked_by=items["checked_by"].fillna(""),
    )
    out = out[list(EXPORT_COLUMNS)].rename(columns=EXPORT_COLUMNS)
    if seed is not None:
        out.insert(1, "Seed", int(seed))
    return out


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def result_changes(items: pd.DataFrame, entered: pd.DataFrame) -> pd.DataFrame:
    """The results to record: rows of `entered` (ticket_id, result, comment) with a result
    whose result or comment differs from the one stored in `items` (`draw_items`)."""
    stored = items.set_index("ticket_id")
    new = entered.assign(result=_text(entered["result"]), comment=_text(entered["comment"]))
    before_result = _text(stored["result"].reindex(new["ticket_id"])).to_numpy()
    before_comment = _text(stored["comment"].reindex(new["ticket_id"])).to_numpy()
    changed = (new["result"].to_numpy() != before_result) | (
        new["comment"].to_numpy() != before_comment
    )
    chosen = new[changed & new["result"].isin(RESULTS).to_numpy()]
    return chosen[["ticket_id", "result", "comment"]].reset_index(drop=True)


def read_results_file(name: str, content: bytes) -> pd.DataFrame:
    """A filled-in sample file (the CSV or XLSX download) as text cells."""
    if name.lower().endswith(".xlsx"):
        return pd.read_excel(io.BytesIO(content), dtype=str)
    # the download is UTF-8 with `;` or `,`: let the sniffer tell
    return pd.read_csv(
        io.BytesIO(content), sep=None, engine="python", dtype=str, encoding="utf-8-sig"
    )


def _unescaped(values: pd.Series) -> pd.Series:
    # files leave with a leading apostrophe before formula characters (privacy.release)
    return values.str.replace(r"^'(?=[=+\-@\t\r])", "", regex=True)


def results_from_file(frame: pd.DataFrame, items: pd.DataFrame, draw_id: int):
    """The results of a filled-in file of draw `draw_id` to record, and German notes on rows
    left out. Columns as downloaded: Ticket-ID, Ergebnis, Kommentar (Ziehung, if present,
    must be this draw)."""
    missing = [c for c in ("Ticket-ID", "Ergebnis") if c not in frame.columns]
    if missing:
        raise ValueError(
            f"In der Datei fehlt die Spalte {', '.join(missing)}: bitte die heruntergeladene "
            "Stichprobe ausfüllen (Spalten Ticket-ID, Ergebnis, Kommentar)."
        )
    if "Ziehung" in frame.columns:
        others = set(_text(frame["Ziehung"])) - {"", str(draw_id)}
        if others:
            raise ValueError(
                f"Die Datei gehört zur Stichprobe Nr. {', '.join(sorted(others))}, "
                f"nicht zu Nr. {draw_id}."
            )
    rows = pd.DataFrame(
        {
            "ticket_id": _unescaped(_text(frame["Ticket-ID"])),
            "result": _text(frame["Ergebnis"]),
            "comment": _unescaped(_text(frame["Kommentar"])) if "Kommentar" in frame else "",
        }
    )
    rows = rows[rows["ticket_id"] != ""]
    notes = []
    unknown = ~rows["ticket_id"].isin(set(items["ticket_id"]))
    if unknown.any():
        notes.append(
            f"Nicht in Stichprobe Nr. {draw_id}, übergangen: "
            + ", ".join(rows.loc[unknown, "ticket_id"])
            + "."
        )
    invalid = ~unknown & (rows["result"] != "") & ~rows["result"].isin(RESULTS)
    if invalid.any():
        notes.append(
            "Ergebnis nicht „bestätigt“ oder „nicht bestätigt“, übergangen: "
            + ", ".join(
                f"{t} ({r})" for t, r in rows.loc[invalid, ["ticket_id", "result"]].to_numpy()
            )
            + "."
        )
    return result_changes(items, rows[~unknown & ~invalid]), notes


def team_problems(con: duckdb.DuckDBPyConnection, as_of: dt.date, teams) -> list[str]:
    """German messages naming each team asked for that has no tickets up to `as_of` or is
    not an Integration team (B3 samples Integration only); empty when all are fine."""
    if not teams:
        return []
    found = dict(
        Filters(teams=tuple(teams))
        .tickets(as_of)
        .wrap("SELECT team, min(area) FROM {rows} GROUP BY team")
        .fetchall(con)
    )
    messages = []
    for team in teams:
        if team not in found:
            messages.append(f"Team „{team}“ ist unbekannt: keine Tickets bis {format_date(as_of)}.")
        elif found[team] != "Integration":
            messages.append(
                f"Team „{team}“ ist kein Integration-Team ({found[team]}): Stichproben nach "
                "B3 gelten nur für Integration."
            )
    return messages
