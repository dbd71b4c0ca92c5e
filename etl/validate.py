"""Validation of raw export records in SQL: typed values, rejection reasons, duplicates.

Input is the temp table `raw` (see `etl.sources`); output is the temp table `staged` with
one row per record: the typed fields, `reason` (NULL when the record is fine) and
`outcome` ('load', 'reject' or 'duplicate'). Every rule of EXPORT_FORMAT.md's
"Bad input" section is one expression here, so the whole file is checked in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dashboard.config import (
    ABSENCE_HEADERS,
    DEFAULT_HEADERS,
    REQUIRED_ABSENCE_FIELDS,
    REQUIRED_FIELDS,
    VALUE_DEFAULTS,
    ExportConfig,
)

# Dates before or after this range are typing errors, and the working-day calendar
# covers exactly this range (dashboard.calendar).
FIRST_DATE, LAST_DATE = "2000-01-01", "2100-12-31"

DATE_MACRO = """
CREATE OR REPLACE TEMP MACRO parse_day(v) AS CAST(try_strptime(
    replace(trim(v), 'T', ' '),
    ['%d.%m.%Y %H:%M:%S', '%d.%m.%Y %H:%M', '%d.%m.%Y',
     '%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%d']) AS DATE)
"""


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
    dates=("received", "completed", "notified", "commitment", "called_back", "tl_informed",
           "walkin_note"),
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


def _q(text: str) -> str:
    """A SQL string literal for text defined in this module (never for data)."""
    return "'" + text.replace("'", "''") + "'"


def stage(con, spec: RecordSpec, export: ExportConfig) -> None:
    """Validate `raw` into `staged` according to `spec` and the value mapping."""
    con.execute(DATE_MACRO)
    params: list[str] = []
    typed: list[str] = []
    reasons: list[str] = []
    label = {f: _q(h) for f, h in spec.headers.items()}

    for f in spec.headers:
        if f in spec.dates:
            typed.append(f"parse_day({f}) AS {f}")
        elif f in spec.coded:
            mapping = export.value_map(f)
            whens = " ".join("WHEN ? THEN ?" for _ in mapping)
            for spelling, canonical in mapping.items():
                params += [spelling, canonical]
            default = VALUE_DEFAULTS.get(f)
            empty = "NULL" if default is None else _q(default)
            typed.append(
                f"CASE WHEN nullif(trim({f}), '') IS NULL THEN {empty} "
                f"ELSE CASE lower(trim({f})) {whens} END END AS {f}"
            )
        else:
            typed.append(f"nullif(trim({f}), '') AS {f}")

    not_a_date = _q("{} ist kein Datum: '{}'")
    out_of_range = _q("{} liegt außerhalb 2000–2100: {}")
    for f in spec.headers:
        present = f"nullif(trim(raw_{f}), '') IS NOT NULL"
        if f in spec.required:
            reasons.append(f"CASE WHEN NOT ({present}) THEN {_q(spec.headers[f] + ' fehlt')} END")
        if f in spec.dates:
            reasons.append(
                f"CASE WHEN {present} AND {f} IS NULL "
                f"THEN format({not_a_date}, {label[f]}, trim(raw_{f})) "
                f"WHEN {f} NOT BETWEEN DATE '{FIRST_DATE}' AND DATE '{LAST_DATE}' "
                f"THEN format({out_of_range}, {label[f]}, trim(raw_{f})) END"
            )
        if f in spec.coded:
            allowed = ", ".join(dict.fromkeys(export.value_map(f).values()))
            unknown = _q("Unbekannter Wert für {}: '{}' (erlaubt: " + allowed + ")")
            reasons.append(
                f"CASE WHEN {present} AND {f} IS NULL "
                f"THEN format({unknown}, {label[f]}, trim(raw_{f})) END"
            )
    before = _q("{} ({}) liegt vor {} ({})")
    for later, earlier in spec.not_before:
        reasons.append(
            f"CASE WHEN {later} < {earlier} THEN format({before}, {label[later]}, "
            f"strftime({later}, '%d.%m.%Y'), {label[earlier]}, strftime({earlier}, '%d.%m.%Y')) END"
        )

    visible = [f for f in spec.headers if f not in spec.secret]
    raw_text = ", ".join(f"{label[f]} || ': ' || raw_{f}" for f in visible)
    content = ", ".join(f"coalesce(raw_{f}, chr(30))" for f in spec.headers)
    keyed = " AND ".join(f"{f} IS NOT NULL" for f in spec.key)
    raw_cols = ", ".join(f"{f} AS raw_{f}" for f in spec.headers)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE checked AS
        SELECT record, {", ".join(spec.headers)},
               md5(concat_ws(chr(31), {content})) AS content,
               concat_ws(' | ', {raw_text}) AS raw_text,
               CASE WHEN n_fields <> expected_fields THEN
                    format('Falsche Anzahl Felder: {{}} statt {{}}', n_fields, expected_fields)
                    ELSE nullif(array_to_string(
                        list_filter([{", ".join(reasons)}], lambda x: x IS NOT NULL), '; '), '')
               END AS own_reason,
               n_fields = expected_fields AND {keyed} AS keyed
        FROM (SELECT record, n_fields, expected_fields, {raw_cols}, {", ".join(typed)} FROM raw)
        """,
        params,
    )
    # Records sharing a key: identical ones count once, differing ones are all rejected.
    key = ", ".join(spec.key)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE repeated AS
        SELECT {key}, count(DISTINCT content) AS variants, min(record) AS first_record,
               string_agg(record::VARCHAR, ', ' ORDER BY record) AS records
        FROM checked WHERE keyed
        GROUP BY {key} HAVING count(*) > 1
        """
    )
    join = " AND ".join(f"c.{f} = d.{f}" for f in spec.key)
    conflict = _q(" / ".join(spec.headers[f] for f in spec.key)
                  + " mehrfach mit unterschiedlichem Inhalt (Datensätze {})")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE staged AS
        SELECT c.* EXCLUDE (own_reason, keyed, content),
               CASE WHEN d.variants > 1
                    THEN concat_ws('; ', c.own_reason, format({conflict}, d.records))
                    ELSE c.own_reason END AS reason,
               CASE WHEN d.variants = 1 AND c.record <> d.first_record THEN 'duplicate'
                    WHEN d.variants > 1 OR c.own_reason IS NOT NULL THEN 'reject'
                    ELSE 'load' END AS outcome
        FROM checked c LEFT JOIN repeated d ON c.keyed AND {join}
        """
    )
    con.execute("DROP TABLE checked; DROP TABLE repeated")
