"""The rules of RULES.md as SQL: deadline, working days taken, status and the checks.

`install(con, config)` puts the configuration into an in-memory connection as tables
(calendar, workdays, deadlines) and defines the table macro `verdicts(as_of)`, which
computes one verdict row per ticket received up to the reference date from the raw events
every time it is queried; nothing it returns is ever stored.
"""

from __future__ import annotations

import duckdb

from dashboard.core.calendar import calendar_frame
from dashboard.core.config import AREAS, Config

STATUSES = (
    "on_time",
    "extended_kept",
    "extended_missed",
    "late",
    "open",
    "open_extended",
    "overdue",
)
COMPLIANT = ("on_time", "extended_kept")
BREACHES = ("late", "extended_missed", "overdue")
UNDECIDED = ("open", "open_extended")
# The worker of a ticket whose personal fields the retention purge (A9) removed: no person.
ANONYMOUS_WORKER = "(anonymisiert)"
# A number per real worker, for counting the distinct people behind a figure (the small-cell
# rule of dashboard.access.cells); the placeholder of anonymised tickets is nobody. Every
# `tickets` view adds it as `person` before a role's view hides the names; it never leaves
# (dashboard.access.privacy drops it).
PERSON_SQL = f"CASE WHEN {{worker}} = '{ANONYMOUS_WORKER}' THEN NULL ELSE hash({{worker}}) END"

STATUS_LABELS = {
    "on_time": "fristgerecht",
    "extended_kept": "verlängert, Zusage eingehalten",
    "extended_missed": "Zusage nicht eingehalten",
    "late": "verspätet",
    "open": "offen",
    "open_extended": "offen, verlängert",
    "overdue": "überfällig",
}

# The status as a small integer (its position in STATUSES), for counting many tickets.
STATUS_CODE = (
    "CASE status "
    + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STATUSES))
    + " END::UTINYINT"
)


# Events dated after the reference date have not happened yet (RULES.md "Stichtag"),
# so every event is first cut at as_of; only then are the rules applied.
VERDICTS_MACRO = """
CREATE OR REPLACE MACRO {name}(as_of) AS TABLE
WITH cut AS (
    SELECT t.*,
           CASE WHEN t.completed <= as_of THEN t.completed END AS c,
           CASE WHEN t.notified <= as_of THEN t.notified END AS k,
           CASE WHEN t.called_back <= as_of THEN t.called_back END AS cb,
           CASE WHEN t.tl_informed <= as_of THEN t.tl_informed END AS tli,
           CASE WHEN t.walkin_note <= as_of THEN t.walkin_note END AS wn,
           r.wd_index AS r_index,
           d.days AS deadline_days
    FROM tickets t
    JOIN calendar r ON r.day = t.received
    JOIN {deadlines} d ON d.area = t.area
    -- tickets received after S do not exist yet; those before the validity are not judged
    WHERE t.received <= as_of AND t.received >= (SELECT valid_from FROM rule_settings)
),
dated AS (
    SELECT cut.*,
           w.day AS due_date,
           -- working days d with R < d <= C: difference of the running working-day counts
           cc.wd_index - cut.r_index AS working_days
    FROM cut
    -- D is the N-th working day strictly after R, i.e. the one whose index is idx(R) + N
    JOIN workdays w ON w.wd_index = cut.r_index + cut.deadline_days
    LEFT JOIN calendar cc ON cc.day = cut.c
),
noticed AS (
    SELECT dated.*,
           coalesce(k <= due_date AND commitment IS NOT NULL AND verbis_note, false)
               AS notice_valid
    FROM dated
)
SELECT ticket_id, area, team, worker, person,
       received AS receipt_date,
       due_date,
       c AS completion_date,
       working_days,
       CASE
           WHEN c IS NOT NULL AND c <= due_date THEN 'on_time'
           WHEN c IS NOT NULL AND notice_valid AND c <= commitment THEN 'extended_kept'
           WHEN c IS NOT NULL AND notice_valid THEN 'extended_missed'
           WHEN c IS NOT NULL THEN 'late'
           WHEN as_of <= due_date THEN 'open'
           WHEN notice_valid AND as_of <= commitment THEN 'open_extended'
           WHEN notice_valid THEN 'extended_missed'
           ELSE 'overdue'
       END AS status,
       CASE WHEN area = 'Leistung' AND concern IN ('Rückruf', 'Termin') THEN
           CASE WHEN cb IS NOT NULL THEN cb <= due_date
                WHEN as_of > due_date THEN false END
       END AS callback_ok,
       CASE WHEN area = 'Leistung' AND channel = 'Vorsprache' THEN
           CASE WHEN wn IS NOT NULL THEN wn = received
                WHEN as_of > received THEN false END
       END AS walkin_note_ok,
       CASE WHEN area = 'Leistung' AND c IS NOT NULL THEN coalesce(tli >= c, false)
       END AS tl_informed_ok,
       notice_valid,
       k AS notified_date,
       commitment AS commitment_date,
       verbis_note,
       channel, concern,
       cb AS callback_date, tli AS tl_informed_date, wn AS walkin_note_date,
       deadline_days,
       r_index,
       -- for the figures of many tickets: the month columns spare a date_trunc per row and
       -- let a month filter skip row groups; a small integer is cheaper to test than text
       date_trunc('month', due_date)::DATE AS due_month,
       date_trunc('month', received)::DATE AS receipt_month,
       {status_code} AS status_code
FROM noticed
"""


# Who has whose open tickets on their list at S (A4, A8): `cover(as_of)` names, per absent
# worker, the substitute of the absence covering S (the latest-starting one if several do;
# absences without a substitute are ignored; one level, not chained). `covered_tickets`
# lists the tickets open at S that the given substitutes cover.
COVER_MACROS = """
CREATE OR REPLACE MACRO cover(as_of) AS TABLE
SELECT worker, arg_max(substitute, date_from) AS substitute FROM absences
WHERE as_of BETWEEN date_from AND date_to AND substitute IS NOT NULL
GROUP BY worker;
CREATE OR REPLACE MACRO covered_tickets(as_of, substitutes) AS TABLE
SELECT t.ticket_id, t.worker, c.substitute FROM tickets t JOIN cover(as_of) c ON c.worker = t.worker
WHERE list_contains(substitutes, c.substitute)
  AND t.received <= as_of AND (t.completed IS NULL OR t.completed > as_of);
"""


# Summaries of a Stichtag's verdicts for the figures over many tickets, as table macros
# `name(as_of)` over `{source}` (the verdicts): a few ten thousand rows that answer in
# milliseconds what a scan of 10 M verdicts answers in tenths of a second. Kept beside a
# snapshot (`fill_snapshot`), computed on the fly otherwise, like `verdicts` itself.
SUMMARIES = {
    # Tickets per month, team, worker, status and check results: every count of
    # `metrics.rates` (not the median and percentile of the working days).
    "verdict_counts": """
        SELECT due_month, receipt_month, area, team, worker, person, status_code, notice_valid,
               callback_ok, walkin_note_ok, tl_informed_ok, count(*) AS tickets
        FROM {source} GROUP BY ALL
    """,
    # Per day, worker and team: tickets received (+1) and completed (-1), deadlines passed
    # (+1 on due date + 1) and past-due ones completed (-1); running sums of these give the
    # open and past-due tickets at any date (`overview.backlog`).
    "verdict_days": """
        WITH g AS (
            -- tickets alike in these dates first: one pass over the verdicts, not four
            SELECT area, team, worker, receipt_date, completion_date, due_date, count(*) AS n
            FROM {source} GROUP BY ALL
        )
        SELECT area, team, worker, day, sum(d_open)::BIGINT AS d_open,
               sum(d_past)::BIGINT AS d_past
        FROM (
            SELECT area, team, worker, receipt_date AS day, n AS d_open, 0 AS d_past FROM g
            UNION ALL
            SELECT area, team, worker, completion_date, -n, 0 FROM g
            WHERE completion_date IS NOT NULL
            UNION ALL
            SELECT area, team, worker, due_date + 1, 0, n FROM g
            UNION ALL
            SELECT area, team, worker, greatest(due_date + 1, completion_date), 0, -n FROM g
            WHERE completion_date IS NOT NULL
        )
        GROUP BY ALL
    """,
}

# The table macros that read a filled snapshot only: `prepared_verdicts(as_of)` etc.
PREPARED_PREFIX = "prepared_"


def install(con: duckdb.DuckDBPyConnection, config: Config, *, snapshots: bool = False) -> None:
    """Put calendar, deadlines and the `verdicts(as_of)` macro into the connection.

    With `snapshots`, `verdicts(as_of)` reads the in-memory table `verdict_snapshots`,
    which `fill_snapshot` fills once per reference date: the dashboard then computes the
    verdicts of a Stichtag once, and a changed filter only scans that result. The
    snapshots live in memory with the connection, which is replaced when a load swaps the
    database file, so they never outlive the data they were computed from.
    """
    frame = calendar_frame(config.calendar)
    con.register("calendar_frame", frame)
    con.execute(
        "CREATE OR REPLACE TABLE calendar AS "
        "SELECT day::DATE AS day, is_workday, wd_index, off_reason FROM calendar_frame"
    )
    con.unregister("calendar_frame")
    con.execute(
        "CREATE OR REPLACE TABLE workdays AS SELECT wd_index, day FROM calendar WHERE is_workday"
    )
    con.execute("CREATE OR REPLACE TABLE deadlines (area VARCHAR, days INTEGER)")
    con.executemany("INSERT INTO deadlines VALUES (?, ?)", [[a, config.deadline(a)] for a in AREAS])
    con.execute(
        "CREATE OR REPLACE TABLE rule_settings AS SELECT ?::DATE AS valid_from",
        [config.rules.valid_from],
    )
    con.execute("CREATE OR REPLACE TABLE repeat_areas (area VARCHAR)")
    con.executemany("INSERT INTO repeat_areas VALUES (?)", [[a] for a in config.rules.repeat_areas])
    con.execute(
        VERDICTS_MACRO.format(
            name="compute_verdicts", deadlines="deadlines", status_code=STATUS_CODE
        )
    )
    con.execute(COVER_MACROS)
    for name, sql in SUMMARIES.items():
        con.execute(
            f"CREATE OR REPLACE MACRO {name}_computed(as_of) AS TABLE "
            + sql.format(source="compute_verdicts(as_of)")
        )
    if snapshots:
        con.execute(
            "CREATE OR REPLACE TABLE verdict_snapshots AS "
            "SELECT NULL::DATE AS snapshot, * FROM compute_verdicts(DATE '2000-01-01') LIMIT 0"
        )
        # The on-the-fly branch of `verdicts` must cost nothing when a snapshot exists. A
        # filter after the computation would still scan every ticket; an empty deadlines
        # table makes the first join empty, and DuckDB then skips the ticket scan.
        con.execute(
            VERDICTS_MACRO.format(
                name="computed_without_snapshot",
                deadlines="(SELECT * FROM deadlines WHERE NOT EXISTS "
                "(SELECT 1 FROM verdict_snapshots WHERE snapshot = as_of))",
                status_code=STATUS_CODE,
            )
        )
        # A date without a snapshot is computed on the fly: never an empty answer.
        con.execute(
            """
            CREATE OR REPLACE MACRO verdicts(as_of) AS TABLE
            SELECT * EXCLUDE (snapshot) FROM verdict_snapshots WHERE snapshot = as_of
            UNION ALL
            SELECT * FROM computed_without_snapshot(as_of)
            """
        )
        # The summaries of a snapshot are kept beside it, filled in the same transaction.
        for name, sql in SUMMARIES.items():
            con.execute(
                f"CREATE OR REPLACE TABLE {name}_snapshots AS SELECT NULL::DATE AS snapshot, * "
                f"FROM {name}_computed(DATE '2000-01-01') LIMIT 0"
            )
            con.execute(
                f"CREATE OR REPLACE MACRO {name}(as_of) AS TABLE "
                f"SELECT * EXCLUDE (snapshot) FROM {name}_snapshots WHERE snapshot = as_of "
                f"UNION ALL SELECT * FROM ({sql.format(source='computed_without_snapshot(as_of)')})"
            )
        # The dates filled, also when a date has no verdicts (an empty database).
        con.execute("CREATE OR REPLACE TABLE snapshot_dates (snapshot DATE)")
        # Only the snapshot, for a caller that filled it first (`fill_snapshot`): binding the
        # computation of the branch above costs about 20 ms per query even when it reads
        # nothing, more than the query itself. A date without a snapshot is an error here,
        # never an empty answer.
        for name in ("verdict", *SUMMARIES):
            macro = "verdicts" if name == "verdict" else name
            con.execute(
                f"CREATE OR REPLACE MACRO {PREPARED_PREFIX}{macro}(as_of) AS TABLE "
                f"SELECT * EXCLUDE (snapshot) FROM {name}_snapshots WHERE snapshot = as_of "
                "AND CASE WHEN EXISTS (SELECT 1 FROM snapshot_dates "
                "WHERE snapshot = as_of) THEN true "
                "ELSE error('no snapshot of the verdicts for ' || as_of) END"
            )
    else:
        con.execute(
            "CREATE OR REPLACE MACRO verdicts(as_of) AS TABLE SELECT * FROM compute_verdicts(as_of)"
        )
        for name in SUMMARIES:
            con.execute(
                f"CREATE OR REPLACE MACRO {name}(as_of) AS TABLE "
                f"SELECT * FROM {name}_computed(as_of)"
            )
        # Without snapshots, nothing is prepared: the same computation under both names.
        for macro in ("verdicts", *SUMMARIES):
            con.execute(
                f"CREATE OR REPLACE MACRO {PREPARED_PREFIX}{macro}(as_of) AS TABLE "
                f"SELECT * FROM {macro}(as_of)"
            )


KEEP_SNAPSHOTS = 4  # reference dates whose verdicts a connection keeps in memory


def fill_snapshot(con: duckdb.DuckDBPyConnection, as_of, keep: int = KEEP_SNAPSHOTS) -> None:
    """Compute the verdicts of `as_of` and their summaries into the snapshot tables."""
    # Asked before every query of a page: the table of filled dates answers it, not a scan
    # of millions of verdicts (filled in the same transaction as the snapshot).
    present = [r[0] for r in con.execute(
        "SELECT snapshot FROM snapshot_dates ORDER BY snapshot"
    ).fetchall()]  # fmt: skip
    if as_of in present:
        return
    # One transaction: cursors reading meanwhile see all of a snapshot and its summaries or
    # none of it (then they compute on the fly), never the verdicts without the summaries.
    con.execute("BEGIN TRANSACTION")
    try:
        # Bounded memory: the earliest reference dates give way.
        for old in present[: max(0, len(present) - keep + 1)]:
            for table in ("verdict", *SUMMARIES):
                con.execute(f"DELETE FROM {table}_snapshots WHERE snapshot = ?", [old])
            con.execute("DELETE FROM snapshot_dates WHERE snapshot = ?", [old])
        con.execute(
            "INSERT INTO verdict_snapshots SELECT ?::DATE, * FROM compute_verdicts(?::DATE)",
            [as_of, as_of],
        )
        source = "(SELECT * FROM verdict_snapshots WHERE snapshot = $as_of::DATE)"
        for name, sql in SUMMARIES.items():
            con.execute(
                f"INSERT INTO {name}_snapshots SELECT $as_of::DATE, * FROM "
                f"({sql.format(source=source)})",
                {"as_of": as_of},
            )
        con.execute("INSERT INTO snapshot_dates VALUES (?::DATE)", [as_of])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
