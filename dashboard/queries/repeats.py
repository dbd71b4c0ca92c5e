"""Repeated deadline overruns (A10): repeat cases with their run of months, and conversations.

A repeat case is a worker whose breaches in one month of due date reach the configured
threshold (`metrics.repeat_cases`, RULES.md A10). This module adds how many months in a row
the worker has been a repeat case (gaps and islands in SQL), the breaches behind a case, and
the conversation records the TL keeps in the records database (`dashboard.core.records`): only the
date held and who recorded it, never free text about the person. Tickets and records live in
two database files, so the query functions read tickets and `merge_status` joins the two
results in memory. No Streamlit here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import duckdb
import pandas as pd

from dashboard.core import records
from dashboard.core.config import Config
from dashboard.core.months import add_months, month_start
from dashboard.core.rules import BREACHES
from dashboard.core.storage import registered_frame
from dashboard.queries import metrics
from dashboard.queries.filters import NO_FILTERS, Filters, ordered_by, status_in

LAST_MONTHS = 12
PENDING_LABEL = "Gespräch ausstehend"
HELD_LABEL = "Gespräch geführt"
AUDIT_ACTION = "Gespräch erfasst (A10)"

# German headers of the download, in this order.
EXPORT_COLUMNS = {
    "month": "Monat",
    "worker": "Mitarbeiter/in",
    "team": "Team",
    "breaches": "Fristüberschreitungen",
    "streak": "Monate in Folge",
    "conversation": "Gespräch",
    "held_on": "Gespräch am",
    "recorded_by": "Erfasst von",
    "conversations": "Erfasste Gespräche",
}


class InvalidConversation(ValueError):
    """A conversation record that cannot be stored; the message is German, for the page."""


def last_months(as_of: dt.date, n: int = LAST_MONTHS) -> tuple[dt.date, dt.date]:
    """The first days of the n-th last month and of the month of `as_of` (inclusive range)."""
    end = month_start(as_of)
    return add_months(end, -(n - 1)), end


def scope(filters: Filters, as_of: dt.date, last12: bool = False) -> Filters:
    """The filters A10 uses: months of due date, optionally the last 12 months to the Stichtag."""
    # RULES.md A10 groups by the month of due date whatever the sidebar's "Monat nach" says.
    period = last_months(as_of) if last12 else filters.period
    return replace(filters, period=period, month_of="due")


@ordered_by("-month", "team", "worker")
def repeat_cases_with_streak(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    threshold: int = 2,
) -> pd.DataFrame:
    """Repeat cases of the period with how many months in a row the worker has been one.

    `streak` counts the consecutive months up to and including the case's month in which the
    worker was a repeat case, looking back before the period; `streak_since` is the first of
    them. Newest month first.
    """
    filters = scope(filters, as_of)
    # The run of months may start before the period: count repeat cases of all months.
    cases = metrics.repeat_cases(con, as_of, replace(filters, period=None), threshold=threshold)
    where, params = "", {}
    if filters.period is not None:
        where = "WHERE month BETWEEN $p_from AND $p_to"
        params = {"p_from": filters.period[0], "p_to": filters.period[1]}
    with registered_frame(con, cases) as name:
        return con.execute(
            f"""
            WITH numbered AS (
                SELECT month::DATE AS month, worker, team, breaches, ticket_ids,
                       absence_breaches, absence_ticket_ids,
                       year(month) * 12 + month(month) AS month_no
                FROM {name}
            ),
            islands AS (
                -- consecutive months share month_no - row_number (gaps and islands)
                SELECT *, month_no - row_number() OVER (PARTITION BY worker ORDER BY month_no)
                              AS island
                FROM numbered
            ),
            runs AS (
                SELECT month, worker, team, breaches, ticket_ids,
                       absence_breaches, absence_ticket_ids,
                       row_number() OVER (PARTITION BY worker, island ORDER BY month_no)
                           AS streak,
                       min(month) OVER (PARTITION BY worker, island) AS streak_since
                FROM islands
            )
            SELECT * FROM runs {where}
            ORDER BY month DESC, team, worker
            """,
            params,
        ).df()


def breaches_of(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    *,
    worker: str,
    month: dt.date,
) -> pd.DataFrame:
    """The breaches of one worker with due date in one month (the tickets behind a case).

    `in_absence` marks a breach during the worker's own absence: shown, not counted (A10).
    """
    query = scope(filters, as_of).without_period().verdicts(as_of)
    return query.wrap(
        f"""
        SELECT ticket_id, area, team, worker, receipt_date, due_date, completion_date,
               commitment_date, working_days, status, {metrics.IN_ABSENCE} AS in_absence
        FROM {{rows}} v
        WHERE worker = $worker AND month = $month::DATE AND {status_in(BREACHES)}
          AND area IN (SELECT area FROM repeat_areas)
        ORDER BY due_date, ticket_id
        """,
        worker=worker,
        month=month_start(month),
    ).df(con)


def conversations(config: Config) -> pd.DataFrame:
    """Every conversation recorded (A10), newest first; nothing is ever removed."""
    return records.query(
        config,
        "SELECT id, worker, month, held_on, recorded_by, recorded_at FROM conversations "
        "ORDER BY recorded_at DESC, id DESC",
    )


def record_conversation(
    config: Config,
    worker: str,
    month: dt.date,
    held_on: dt.date,
    who: str,
    *,
    today: dt.date | None = None,
) -> int:
    """Store that a conversation about a repeat case was held (date and recorder only)."""
    today = today or dt.date.today()
    worker, who, month = worker.strip(), who.strip(), month_start(month)
    if not worker:
        raise InvalidConversation("Bitte die Mitarbeiterin oder den Mitarbeiter auswählen.")
    if not who:
        raise InvalidConversation("Bitte unter „Erfasst von“ den eigenen Namen eintragen.")
    if held_on > today:
        raise InvalidConversation(
            f"Das Gespräch am {held_on:%d.%m.%Y} liegt in der Zukunft; "
            "erfasst werden nur geführte Gespräche."
        )
    if held_on < month:
        raise InvalidConversation(
            f"Das Gespräch kann nicht vor dem Monat des Wiederholungsfalls stattgefunden haben "
            f"(frühestens {month:%d.%m.%Y})."
        )
    with records.transaction(config) as con:
        [(record_id,)] = con.execute(
            "INSERT INTO conversations (worker, month, held_on, recorded_by, recorded_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            [worker, month, held_on, who, dt.datetime.now()],
        ).fetchall()
        records.audit(
            con,
            who,
            AUDIT_ACTION,
            f"{worker}, Monat {month:%m.%Y}, Gespräch am {held_on:%d.%m.%Y} (Nr. {record_id})",
        )
    return record_id


def _month_key(column: pd.Series) -> pd.Series:
    # DuckDB gives DATE as datetime64 of some unit; compare months as plain dates.
    return pd.to_datetime(column).dt.date


CONVERSATION_COLUMNS = ("id", "worker", "month", "held_on", "recorded_by", "recorded_at")


def merge_status(cases: pd.DataFrame, conversations: pd.DataFrame) -> pd.DataFrame:
    """Add each case's latest conversation (held_on, recorded_by), their number and pending.

    `conversation` says "Gespräch ausstehend" or "Gespräch geführt"; `conversations` counts
    all records of the case.
    """
    keys = ["worker", "_month"]
    if conversations.empty:
        conversations = pd.DataFrame(
            {c: pd.Series(dtype="datetime64[us]" if c in ("month", "held_on", "recorded_at")
                          else "object") for c in CONVERSATION_COLUMNS}
        )  # fmt: skip
    held = conversations.assign(_month=_month_key(conversations["month"]))
    # The latest conversation is shown; the earlier ones stay recorded.
    latest = held.sort_values(["held_on", "recorded_at", "id"]).drop_duplicates(keys, keep="last")
    counts = held.groupby(keys).size().rename("conversations").reset_index()
    merged = (
        cases.assign(_month=_month_key(cases["month"]))
        .merge(latest[[*keys, "held_on", "recorded_by"]], on=keys, how="left")
        .merge(counts, on=keys, how="left")
        .drop(columns="_month")
    )
    merged["conversations"] = merged["conversations"].fillna(0).astype("int64")
    merged["held_on"] = pd.to_datetime(merged["held_on"])
    merged["pending"] = merged["held_on"].isna()
    merged["conversation"] = merged["pending"].map({True: PENDING_LABEL, False: HELD_LABEL})
    return merged


def case_history(conversations: pd.DataFrame, worker: str, month: dt.date) -> pd.DataFrame:
    """All conversation records of one case (worker and month), in the order given."""
    if conversations.empty:
        return conversations
    same = (conversations["worker"] == worker) & (
        _month_key(conversations["month"]) == month_start(month)
    )
    return conversations[same]


def streak_marker(streak: int) -> str:
    """'seit 3 Monaten in Folge' for a run of two or more months, else ''."""
    return f"seit {streak} Monaten in Folge" if streak >= 2 else ""


def export_frame(status: pd.DataFrame) -> pd.DataFrame:
    """The overview of `merge_status` with German headers, for CSV and XLSX downloads."""
    return status[list(EXPORT_COLUMNS)].rename(columns=EXPORT_COLUMNS)


def per_month(status: pd.DataFrame) -> pd.DataFrame:
    """Repeat cases per month of `merge_status`: how many, with conversation, still pending."""
    return (
        status.assign(held=~status["pending"])
        .groupby("month", as_index=False)
        .agg(cases=("worker", "size"), pending=("pending", "sum"), held=("held", "sum"))
        .sort_values("month", ignore_index=True)
    )


def worklist(period: pd.DataFrame, everything: pd.DataFrame) -> pd.DataFrame:
    """What a team leader works through: the period's cases plus every case of any month
    whose conversation is still pending (both from `merge_status`), grouped by person, the
    person with the longest run of months first, each person's newest month first."""
    both = pd.concat([period, everything[everything["pending"]]], ignore_index=True)
    both = both.drop_duplicates(["worker", "month"], ignore_index=True)
    run = both.groupby("worker")["streak"].transform("max")
    return (
        both.assign(_run=run)
        .sort_values(["_run", "worker", "month"], ascending=[False, True, False], kind="stable")
        .drop(columns="_run")
        .reset_index(drop=True)
    )
