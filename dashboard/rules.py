"""The rules of RULES.md as SQL: deadline, working days taken, status and the checks.

`install(con, config)` puts the configuration into an in-memory connection as tables
(calendar, workdays, deadlines) and defines the table macro `verdicts(as_of)`, which
computes one verdict row per ticket received up to the reference date from the raw events
every time it is queried; nothing it returns is ever stored.
"""

from __future__ import annotations

import duckdb

from dashboard.calendar import calendar_frame
from dashboard.config import AREAS, Config

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

STATUS_LABELS = {
    "on_time": "fristgerecht",
    "extended_kept": "verlängert, Zusage eingehalten",
    "extended_missed": "Zusage nicht eingehalten",
    "late": "verspätet",
    "open": "offen",
    "open_extended": "offen, verlängert",
    "overdue": "überfällig",
}

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
    WHERE t.received <= as_of
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
SELECT ticket_id, area, team, worker,
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
       r_index
FROM noticed
"""


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
    con.execute(VERDICTS_MACRO.format(name="compute_verdicts", deadlines="deadlines"))
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
    else:
        con.execute(
            "CREATE OR REPLACE MACRO verdicts(as_of) AS TABLE SELECT * FROM compute_verdicts(as_of)"
        )


def fill_snapshot(con: duckdb.DuckDBPyConnection, as_of, keep: int = 4) -> None:
    """Compute the verdicts of `as_of` into `verdict_snapshots` unless they are there."""
    present = [r[0] for r in con.execute(
        "SELECT DISTINCT snapshot FROM verdict_snapshots ORDER BY snapshot"
    ).fetchall()]  # fmt: skip
    if as_of in present:
        return
    # Bounded memory: the least recently computed reference dates give way.
    for old in present[: max(0, len(present) - keep + 1)]:
        con.execute("DELETE FROM verdict_snapshots WHERE snapshot = ?", [old])
    con.execute(
        "INSERT INTO verdict_snapshots SELECT ?::DATE, * FROM compute_verdicts(?::DATE)",
        [as_of, as_of],
    )
