"""Validation of export records in SQL: typed values, rejection reasons, duplicates.

`stage` types every record of the view `raw` (`etl.sources.read_source`) into
`typed_rows`, finds the records with a problem and the repeated keys, keeps the text of
those few (`kept_text`, with `shown`: how a rejected record is shown), and defines the
temp view `staged`, one row per record: the typed fields, `reason` (NULL when the record
is fine) and `outcome` ('load', 'reject' or 'duplicate'). Every rule of EXPORT_FORMAT.md's
"Bad input" section is one condition on the typed values here, so the whole file is
checked in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from dashboard.core.config import (
    ABSENCE_HEADERS,
    DEFAULT_HEADERS,
    REQUIRED_ABSENCE_FIELDS,
    REQUIRED_FIELDS,
    VALUE_DEFAULTS,
    ExportConfig,
)

# Dates before or after this range are typing errors, and the working-day calendar
# covers exactly this range (dashboard.core.calendar).
FIRST_DATE, LAST_DATE = "2000-01-01", "2100-12-31"

# A date that is there but cannot be read types as this (no export date can be it), and a
# coded value that is there but unknown as code 0: the typed value alone tells "missing"
# (NULL) from "not readable", so no rule needs the raw text to find its records.
UNREADABLE = "DATE '-infinity'"

# What may surround a value and is trimmed: spaces, tabs, line breaks, no-break spaces.
SPACES = " \t\n\r\u00a0"
# The date formats EXPORT_FORMAT.md allows, as (byte length, LIKE pattern, format); the
# export's own format first, as most values have it.
DATE_SHAPES = (
    (16, "__.%", "%d.%m.%Y %H:%M"),
    (10, "__.%", "%d.%m.%Y"),
    (10, "%", "%Y-%m-%d"),
    (19, "__.%", "%d.%m.%Y %H:%M:%S"),
    (16, "__________T%", "%Y-%m-%dT%H:%M"),
    (16, "%", "%Y-%m-%d %H:%M"),
    (19, "__________T%", "%Y-%m-%dT%H:%M:%S"),
    (19, "%", "%Y-%m-%d %H:%M:%S"),
)


def _q(text: str) -> str:
    """A SQL string literal for text defined in this module (never for data)."""
    return "'" + text.replace("'", "''") + "'"


def _chars(text: str) -> str:
    """SQL for text defined in this module, with chr() for what a log would not show."""
    return " || ".join(_q(c) if c.isprintable() else f"chr({ord(c)})" for c in text)


def _date_macros() -> str:
    """The SQL macros that trim values and read dates (see the comments inside)."""
    by_length: dict[int, list[str]] = {}
    for length, like, fmt in DATE_SHAPES:
        test = "true" if like == "%" else f"v LIKE {_q(like)}"
        by_length.setdefault(length, []).append(f"WHEN {test} THEN try_strptime(v, {_q(fmt)})")
    shapes = " ".join(
        f"WHEN {length} THEN CASE {' '.join(whens)} END" for length, whens in by_length.items()
    )
    first = ", ".join(str(ord(c)) for c in SPACES)
    last = " OR ".join(f"suffix(v, {_chars(c)})" for c in SPACES)
    # `edge_space`: whether a non-empty value starts or ends with one of SPACES. ord()
    # reads the first character's code point and suffix() compares bytes, where v[1]
    # and v[-1] would cut out a new string each (twice the cost of the whole check).
    # `clean`: the value without surrounding SPACES, NULL when empty; most values have
    # none, and testing the edges is cheaper than trimming every value.
    # `parse_day_text`: one format per shape (byte length: constant time, where length()
    # counts characters; LIKE on the separator: v[3] would cut out a string per value)
    # instead of try_strptime with a list of formats, which tries each in turn; date
    # parsing is the bulk of a load's typing. A date is ASCII, so anything else fails
    # strptime whichever branch it takes (DuckDB's strptime would accept "2.3.2026":
    # the byte length keeps to the zero-padded formats of EXPORT_FORMAT.md). Macros
    # expand textually, so its argument stays a plain column: trimming happens only in
    # the rare fallback.
    # Empty values, most of the optional dates, skip all of it.
    return f"""
CREATE OR REPLACE TEMP MACRO strip(v) AS trim(v, {_chars(SPACES)});
CREATE OR REPLACE TEMP MACRO edge_space(v) AS ord(v) IN ({first}) OR {last};
CREATE OR REPLACE TEMP MACRO clean(v) AS CASE
    WHEN v = '' THEN NULL
    WHEN edge_space(v) THEN nullif(strip(v), '')
    ELSE v END;
CREATE OR REPLACE TEMP MACRO parse_day_text(v) AS CAST(CASE strlen(v) {shapes} END AS DATE);
CREATE OR REPLACE TEMP MACRO parse_day(v) AS CASE WHEN v = '' THEN NULL ELSE coalesce(
    parse_day_text(v),
    CASE WHEN edge_space(v) THEN parse_day_text(strip(v)) END,
    CASE WHEN strip(v) <> '' THEN {UNREADABLE} END) END;
"""


DATE_MACRO = _date_macros()


@dataclass(frozen=True)
class RecordSpec:
    """What one kind of export looks like and which rules its records must meet."""

    kind: str
    headers: dict[str, str]  # field -> German header name used in messages
    required: tuple[str, ...]
    dates: tuple[str, ...]
    coded: tuple[str, ...] = ()
    key: tuple[str, ...] = ()  # what identifies a record for duplicate detection
    # (later, earlier): the later date may not be before the earlier one.
    not_before: tuple[tuple[str, str], ...] = ()
    secret: tuple[str, ...] = field(default=())  # never shown in clear, not even in rejects


TICKETS = RecordSpec(
    kind="tickets",
    headers=DEFAULT_HEADERS,
    required=REQUIRED_FIELDS,
    dates=(
        "received",
        "completed",
        "notified",
        "commitment",
        "called_back",
        "tl_informed",
        "walkin_note",
    ),
    coded=("area", "channel", "concern", "verbis_note"),
    key=("ticket_id",),
    not_before=(("completed", "received"), ("notified", "received")),
    secret=("customer",),
)

ABSENCES = RecordSpec(
    kind="absences",
    headers=ABSENCE_HEADERS,
    required=REQUIRED_ABSENCE_FIELDS,
    dates=("date_from", "date_to"),
    key=("worker", "date_from"),
    not_before=(("date_to", "date_from"),),
)


def stage(con, spec: RecordSpec, export: ExportConfig) -> None:
    """Type and validate the records of `raw` into `staged` per `spec` and the value mapping."""
    con.execute(DATE_MACRO)
    plan = _plan(spec, export)
    con.execute(f"CREATE OR REPLACE TEMP TABLE typed_rows AS {plan.select}", plan.params)
    _validate(con, spec, plan)


class _Plan(NamedTuple):
    select: str  # pass 1, over the view `raw`
    params: list[str]
    codes: dict[str, str]  # coded field -> SQL list of its canonical values
    reasons: str  # SQL list of the reasons (NULL where a rule holds), over `t` and `r`


def _plan(spec: RecordSpec, export: ExportConfig) -> _Plan:
    """The SQL of the checks for one kind of export (pure text building, no database)."""
    params: list[str] = []
    typed: list[str] = []
    problems: list[tuple[str, str]] = []
    # Coded values are kept as their position in the list of canonical values (one byte
    # instead of a string: at ten million records the typed table must stay in memory)
    # and turn back into text in `staged`. Canonical values are constants of the code.
    codes: dict[str, str] = {}
    label = {f: _q(h) for f, h in spec.headers.items()}

    for f in spec.headers:
        if f in spec.dates:
            typed.append(f"parse_day({f}) AS {f}")
        elif f in spec.coded:
            mapping = export.value_map(f)
            default = VALUE_DEFAULTS.get(f)
            empty = "NULL" if default is None else _q(default)
            canonical = sorted(set(mapping.values()) | ({default} if default else set()))
            codes[f] = "[" + ", ".join(_q(c) for c in canonical) + "]"
            # Most values are written exactly as their canonical form: compared as they
            # are first, before any trimming or lower-casing.
            exact = [c for c in canonical if mapping.get(c.lower()) == c]
            params += exact
            fast = " ".join(f"WHEN ? THEN {canonical.index(c) + 1}" for c in exact)
            whens = " ".join("WHEN ? THEN ?" for _ in mapping)
            for spelling, value in mapping.items():
                params += [spelling, value]
            typed.append(
                f"CASE {f} {fast} ELSE coalesce(list_position({codes[f]}, "
                f"CASE WHEN clean({f}) IS NULL THEN {empty} "
                f"ELSE CASE lower(clean({f})) {whens} END END), "
                f"CASE WHEN clean({f}) IS NOT NULL THEN 0 END) END::UTINYINT AS {f}"
            )
        else:
            typed.append(f"clean({f}) AS {f}")

    # Each rule: (condition on the typed values `t`, German reason, which may quote the
    # raw text `r`). A record is suspect when a condition holds; only suspect records
    # read their text again, for the reasons.
    not_a_date = _q("{} ist kein Datum: '{}'")
    out_of_range = _q("{} liegt außerhalb 2000–2100: {}")
    unknown_value = "Unbekannter Wert für {}: '{}' (erlaubt: %s)"
    # `suspect` needs only whether some rule fails, in fewer and cheaper terms (`flags`,
    # stated beside the rules they stand for): a date outside the range is unreadable
    # (-infinity) or out of range, each with its reason; a later date before an earlier
    # one has a reason of its own or the later one is unreadable.
    flags: list[str] = []
    for f in spec.headers:
        if f in spec.required:
            problems.append((f"t.{f} IS NULL", _q(spec.headers[f] + " fehlt")))
            flags.append(f"t.{f} IS NULL")
        if f in spec.dates:
            flags.append(f"t.{f} NOT BETWEEN DATE '{FIRST_DATE}' AND DATE '{LAST_DATE}'")
            problems.append(
                (f"t.{f} = {UNREADABLE}", f"format({not_a_date}, {label[f]}, strip(r.{f}))")
            )
            problems.append(
                (
                    f"t.{f} <> {UNREADABLE} AND "
                    f"t.{f} NOT BETWEEN DATE '{FIRST_DATE}' AND DATE '{LAST_DATE}'",
                    f"format({out_of_range}, {label[f]}, strip(r.{f}))",
                )
            )
        if f in spec.coded:
            allowed = ", ".join(dict.fromkeys(export.value_map(f).values()))
            unknown = _q(unknown_value % allowed)
            problems.append((f"t.{f} = 0", f"format({unknown}, {label[f]}, strip(r.{f}))"))
            flags.append(f"t.{f} = 0")
    before = _q("{} ({}) liegt vor {} ({})")
    for later, earlier in spec.not_before:
        flags.append(f"t.{later} < t.{earlier}")
        problems.append(
            (
                f"t.{later} < t.{earlier} AND t.{later} <> {UNREADABLE}",
                f"format({before}, {label[later]}, strftime(t.{later}, '%d.%m.%Y'), "
                f"{label[earlier]}, strftime(t.{earlier}, '%d.%m.%Y'))",
            )
        )

    # One coalesce: an OR is true as soon as one term is (NULL otherwise).
    any_problem = f"coalesce({' OR '.join(flags)}, false)"
    reason_list = ", ".join(f"CASE WHEN {cond} THEN {text} END" for cond, text in problems)
    t_key = ", ".join(f"t.{f}" for f in spec.key)
    keyed = "t.n_fields = t.expected_fields AND " + " AND ".join(
        f"t.{f} IS NOT NULL" + (f" AND t.{f} <> {UNREADABLE}" if f in spec.dates else "")
        for f in spec.key
    )
    # Pass 1: typed values, materialised once (a parsed date referenced by several rules
    # would otherwise be parsed again for each reference), with what pass 2 needs of each
    # record: whether a cheap rule finds a problem (`suspect`), and the 64-bit hash of its
    # key. Repeated keys are found by the hash first (`repeated_hashes`): millions of
    # numbers need a fraction of the memory of millions of texts, and the exact grouping
    # then runs on the few candidates (a hash collision only makes a record a candidate,
    # never a duplicate).
    select = (
        f"SELECT *, (t.n_fields <> t.expected_fields OR {any_problem}) AS suspect, "
        f"CASE WHEN {keyed} THEN hash({t_key}) END AS key_hash FROM ("
        f"SELECT record, n_fields, expected_fields, id_in_place, {', '.join(typed)} FROM raw) t"
    )
    return _Plan(select, params, codes, reason_list)


def _validate(con, spec: RecordSpec, plan: _Plan) -> None:
    codes = plan.codes
    key = ", ".join(spec.key)
    t_key = ", ".join(f"t.{f}" for f in spec.key)
    # Pass 2: the few records that may be rejected or repeated: those with a problem, and
    # those whose key comes again. Only these records keep their text (`kept_text`).
    con.execute("CREATE OR REPLACE TEMP TABLE bad AS SELECT * FROM typed_rows WHERE suspect")
    con.register("repeated_hashes", repeated_hashes(con))
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE candidates AS SELECT * FROM typed_rows "
            "WHERE key_hash IN (SELECT key_hash FROM repeated_hashes)"
        )
    finally:
        con.unregister("repeated_hashes")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE kept_text AS SELECT *, {_shown(spec)} AS shown FROM raw "
        "WHERE record IN (SELECT record FROM bad UNION SELECT record FROM candidates)"
    )
    # Pass 3: the reasons of the records with a problem. Every suspect record has one:
    # `suspect` holds exactly when one of the reasons' conditions does (`_plan`). (No
    # filter on the reason here: it would be pushed into the join and evaluate every
    # reason twice.)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE problems AS
        SELECT t.record,
               CASE WHEN t.n_fields <> t.expected_fields THEN
                        format('Falsche Anzahl Felder: {{}} statt {{}}',
                               t.n_fields, t.expected_fields)
                    ELSE array_to_string(
                        list_filter([{plan.reasons}], lambda x: x IS NOT NULL), '; ')
               END AS reason
        FROM bad t JOIN kept_text r USING (record)
        """
    )
    # Pass 4: records sharing a key. Identical ones count once, differing ones are all
    # rejected; content is compared on the raw text.
    content = ", ".join(f"coalesce(r.{f}, chr(30))" for f in spec.headers)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE repeated AS
        WITH keys AS (
            SELECT {key} FROM candidates GROUP BY {key} HAVING count(*) > 1
        ),
        copies AS (
            SELECT t.record, {t_key}, md5(concat_ws(chr(31), {content})) AS content
            FROM candidates t SEMI JOIN keys USING ({key})
            JOIN kept_text r USING (record)
        ),
        summary AS (
            SELECT {key}, count(DISTINCT content) AS variants, min(record) AS first_record,
                   string_agg(record::VARCHAR, ', ' ORDER BY record) AS records
            FROM copies GROUP BY {key}
        )
        SELECT c.record, s.variants, s.first_record, s.records
        FROM copies c JOIN summary s USING ({key})
        """
    )
    conflict = _q(
        " / ".join(spec.headers[f] for f in spec.key)
        + " mehrfach mit unterschiedlichem Inhalt (Datensätze {})"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE outcomes AS
        SELECT coalesce(p.record, d.record) AS record,
               CASE WHEN d.variants = 1 AND d.record <> d.first_record THEN 'duplicate'
                    ELSE 'reject' END AS outcome,
               CASE WHEN d.variants = 1 AND d.record <> d.first_record THEN NULL
                    WHEN d.variants > 1
                    THEN concat_ws('; ', p.reason, format({conflict}, d.records))
                    ELSE p.reason END AS reason
        FROM problems p FULL OUTER JOIN repeated d ON p.record = d.record
        WHERE p.record IS NOT NULL OR d.variants > 1 OR d.record <> d.first_record
        """
    )
    con.execute("DROP TABLE problems; DROP TABLE repeated; DROP TABLE bad; DROP TABLE candidates")
    con.execute(
        "CREATE OR REPLACE TEMP VIEW staged AS SELECT t.* EXCLUDE ("
        + ", ".join([*codes, "suspect", "key_hash"])
        + "), "
        + "".join(f"{text}[t.{f}] AS {f}, " for f, text in codes.items())
        + "coalesce(o.outcome, 'load') AS outcome, o.reason "
        "FROM typed_rows t LEFT JOIN outcomes o USING (record)"
    )


def repeated_hashes(con) -> pa.Table:
    """The key hashes of `typed_rows` that occur more than once, as a one-column table."""
    # numpy's sort (SIMD) finds them in a fraction of the time of a GROUP BY over ten
    # million distinct keys: 0.46 s against 1.57 s at 10 M, measured in docs/performance.md.
    hashes = con.execute("SELECT key_hash FROM typed_rows WHERE key_hash IS NOT NULL")
    ordered = np.sort(np.asarray(hashes.fetchnumpy()["key_hash"], dtype=np.uint64))
    again = ordered[1:][ordered[1:] == ordered[:-1]]
    return pa.table({"key_hash": np.unique(again)})


def _shown(spec: RecordSpec) -> str:
    """SQL (over `raw`) for a record's fields as a person reads them in the rejects.

    The secret fields are left out. A record with the wrong number of fields shows no
    text at all: its values sit in the wrong columns, so a customer number could appear
    under any header.
    """
    visible = ", ".join(
        f"{_q(h)} || ': ' || {f}" for f, h in spec.headers.items() if f not in spec.secret
    )
    return f"CASE WHEN n_fields = expected_fields THEN concat_ws(' | ', {visible}) END"
