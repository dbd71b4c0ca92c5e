"""Property tests of the loader: generated exports reconcile exactly; any bytes are safe.

Each example gets its own database directory from `tmp_path_factory` (no function-scoped
fixture inside @given). An oracle written from EXPORT_FORMAT.md predicts the outcome of
every generated record, so the counts are checked exactly, not only for consistency.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from dashboard.core.config import DEFAULT_HEADERS, REQUIRED_FIELDS, load_config
from etl.load import load_files

FIELDS = list(DEFAULT_HEADERS)
OPTIONAL = [f for f in FIELDS if f not in REQUIRED_FIELDS]
DATE_FIELDS = [
    "received",
    "completed",
    "notified",
    "commitment",
    "called_back",
    "tl_informed",
    "walkin_note",
]
NOT_BEFORE_RECEIVED = ("completed", "notified")
EXTRA_COLUMNS = ["Bemerkung", "Priorität", "interne Nr."]
# Text that survives UTF-8 and Windows-1252 alike, with the CSV specials ; " and newline.
TEXT = "abcXYZ019 -äöüßÄÖÜé€;\"\n'"

PROPERTY_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Value:
    """A generated field value and whether the rules accept it."""

    text: str
    valid: bool
    day: dt.date | None = None


def _coded(valid: list[str], invalid: list[str]) -> st.SearchStrategy[Value]:
    return st.one_of(
        st.sampled_from(valid).map(lambda t: Value(t, True)),
        st.sampled_from(invalid).map(lambda t: Value(t, False)),
    )


DATE_FORMATS = [
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
]

valid_dates = st.builds(
    lambda moment, fmt, pad: Value(pad + moment.strftime(fmt) + pad, True, moment.date()),
    st.datetimes(min_value=dt.datetime(2026, 2, 20), max_value=dt.datetime(2026, 3, 10)),
    st.sampled_from(DATE_FORMATS),
    st.sampled_from(["", " "]),
)
bad_dates = st.sampled_from(
    ["gestern", "31.02.2026", "2026-13-01", "02/03/2026", "02.03.1999", "2026-03-02 25:00"]
).map(lambda t: Value(t, False))


def _date(required: bool) -> st.SearchStrategy[Value]:
    empty = st.sampled_from(["", "  "]).map(lambda t: Value(t, not required))
    return st.one_of(valid_dates, valid_dates, empty, bad_dates)


def _text(required: bool) -> st.SearchStrategy[Value]:
    return st.text(TEXT, max_size=8).map(lambda t: Value(t, not required or bool(t.strip(" "))))


VALUE = {
    "ticket_id": st.one_of(
        st.sampled_from(["T1", "T2", "T3", "T4", " T2 ", "t1"]).map(lambda t: Value(t, True)),
        st.sampled_from(["", "   "]).map(lambda t: Value(t, False)),
    ),
    "area": _coded(["Leistung", "Integration", " integration ", "LEISTUNG"], ["Rente", ""]),
    "team": _text(required=True),
    "worker": _text(required=True),
    "channel": _coded(["", "Service-Center", "VORSPRACHE", " vorsprache "], ["Telefon"]),
    "concern": _coded(["", "Allgemein", " rückruf", "TERMIN"], ["Beschwerde"]),
    "customer": _text(required=False),
    "commitment": _date(required=False),
    "verbis_note": _coded(["", "ja", "NEIN", " Ja "], ["vielleicht"]),
}
for _f in DATE_FIELDS:
    VALUE.setdefault(_f, _date(required=_f == "received"))


@dataclass(frozen=True)
class Record:
    """One generated data record: its field values, or a wrong number of fields."""

    values: dict[str, Value]
    extra: tuple[str, ...]  # values of the unknown extra columns
    resize: int = 0  # fields dropped (< 0) or added (> 0) when written

    @property
    def key(self) -> str:
        return self.values["ticket_id"].text.strip(" ")

    def valid(self, columns: list[str]) -> bool:
        values = {f: v for f, v in self.values.items() if f in columns}
        if not all(v.valid for v in values.values()):
            return False
        received = values["received"].day
        return all(
            values[f].day is None or values[f].day >= received
            for f in NOT_BEFORE_RECEIVED
            if f in values
        )

    def content(self, columns: list[str]) -> tuple[str, ...]:
        return tuple(self.values[f].text for f in FIELDS if f in columns)


record_values = st.fixed_dictionaries({f: VALUE[f] for f in FIELDS})


@st.composite
def exports(draw):
    """A whole export: columns, header spelling, records, quoting, line ends, encoding."""
    optional = draw(st.lists(st.sampled_from(OPTIONAL), unique=True))
    extra = draw(st.lists(st.sampled_from(EXTRA_COLUMNS), unique=True, max_size=2))
    columns = draw(st.permutations([*REQUIRED_FIELDS, *optional, *extra]))
    spell = st.sampled_from([str, str.lower, str.upper, lambda h: f" {h} "])
    header = [draw(spell)(DEFAULT_HEADERS.get(c, c)) for c in columns]
    records: list[Record] = []
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.sampled_from(["new", "new", "new", "copy", "resize"]))
        if kind == "copy" and records:
            records.append(draw(st.sampled_from(records)))
            continue
        resize = draw(st.sampled_from([-3, -1, 1, 2])) if kind == "resize" else 0
        texts = st.text(TEXT, max_size=5)
        extra_values = tuple(draw(texts) for _ in extra)
        records.append(Record(draw(record_values), extra_values, resize))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return columns, header, records, quoting, newline, encoding


def _write(columns, header, records, quoting, newline) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quotechar='"', quoting=quoting, lineterminator=newline)
    writer.writerow(header)
    for record in records:
        extras = dict(zip([c for c in columns if c not in FIELDS], record.extra, strict=True))
        row = [record.values[c].text if c in FIELDS else extras[c] for c in columns]
        if record.resize < 0:
            row = row[: max(2, len(row) + record.resize)]
        else:
            row += ["x"] * record.resize
        writer.writerow(row)
    return out.getvalue()


def _expected(columns: list[str], records: list[Record]) -> list[str]:
    """The outcome of every record ('load', 'reject', 'duplicate'), from EXPORT_FORMAT.md."""
    keyed = [r.resize == 0 and r.key != "" for r in records]
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        if keyed[i]:
            groups.setdefault(r.key, []).append(i)
    outcomes = []
    for i, r in enumerate(records):
        ok = r.resize == 0 and r.valid(columns)
        group = groups.get(r.key, []) if keyed[i] else []
        if len(group) > 1:
            if len({records[j].content(columns) for j in group}) > 1:
                outcomes.append("reject")  # conflicting duplicates: every one of them
            elif group[0] != i:
                outcomes.append("duplicate")
            else:
                outcomes.append("load" if ok else "reject")
        else:
            outcomes.append("load" if ok else "reject")
    return outcomes


def _config(tmp_path_factory):
    base = tmp_path_factory.mktemp("prop")
    config = load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(base / "db" / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(base / "key"),
        }
    )
    return base, config


def _stored(config) -> tuple[set[str], int, list[int]]:
    con = duckdb.connect(str(config.database), read_only=True)
    try:
        ids = {r[0] for r in con.execute("SELECT ticket_id FROM tickets").fetchall()}
        count = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
        rejects = [r[0] for r in con.execute("SELECT record FROM rejects ORDER BY 1").fetchall()]
        return ids, count, rejects
    finally:
        con.close()


@settings(PROPERTY_SETTINGS, max_examples=20)
@given(export=exports())
def test_generated_exports_reconcile_exactly(tmp_path_factory, export):
    columns, header, records, quoting, newline, encoding = export
    base, config = _config(tmp_path_factory)
    path = base / "export.csv"
    path.write_bytes(_write(columns, header, records, quoting, newline).encode(encoding))

    [result] = load_files(config, [path])

    assert result.refused is None, result.refused
    assert result.rows_read == len(records)
    assert result.reconciled
    outcomes = _expected(columns, records)
    assert (result.rows_loaded, result.rows_rejected, result.rows_duplicate) == (
        outcomes.count("load"),
        outcomes.count("reject"),
        outcomes.count("duplicate"),
    ), outcomes
    ids, count, rejects = _stored(config)
    expected_ids = {r.key for r, o in zip(records, outcomes, strict=True) if o == "load"}
    assert ids == expected_ids
    assert count == len(expected_ids) == result.rows_loaded
    assert rejects == [i + 1 for i, o in enumerate(outcomes) if o == "reject"]


HEADER_LINE = ";".join(DEFAULT_HEADERS.values()).encode()
CSV_NOISE = st.text('aT1;"\n\r .-:0123456789äß€', max_size=300)

CELL = st.one_of(
    st.none(),
    st.text("aT1 ;-:.0123456789äß€", max_size=20),
    st.sampled_from(["Leistung", "integration", "02.03.2026", "2026-03-02 09:15", "T1"]),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2110, 1, 1)),
)


def _workbook(rows: list[list]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


HEADER_CELLS = list(DEFAULT_HEADERS.values())
workbooks = st.lists(st.lists(CELL, max_size=17), max_size=6).map(
    lambda rows: _workbook([HEADER_CELLS, *rows])
)
# A real workbook with a few bytes overwritten: damaged zip entries or XML.
damaged_workbooks = st.tuples(
    workbooks, st.integers(0, 10**6), st.binary(min_size=1, max_size=8)
).map(lambda t: t[0][: t[1] % len(t[0])] + t[2] + t[0][t[1] % len(t[0]) + len(t[2]) :])

arbitrary_files = st.one_of(
    workbooks,
    damaged_workbooks,
    st.binary(max_size=600),
    st.binary(max_size=300).map(lambda b: HEADER_LINE + b"\n" + b),
    st.binary(max_size=100).map(lambda b: b"PK\x03\x04" + b),
    st.tuples(CSV_NOISE, st.sampled_from(["utf-8", "cp1252"])).map(
        lambda t: HEADER_LINE + b"\n" + t[0].encode(t[1])
    ),
)


@settings(PROPERTY_SETTINGS, max_examples=30)
@given(data=arbitrary_files, name=st.sampled_from(["upload.csv", "upload.xlsx", "upload"]))
def test_any_bytes_are_refused_or_reconciled(tmp_path_factory, data, name):
    base, config = _config(tmp_path_factory)
    # The name says nothing: the loader tells CSV from XLSX by the bytes.
    path = base / name
    path.write_bytes(data)

    [result] = load_files(config, [path])  # never raises

    if result.refused is not None:
        assert result.refused.strip()
        assert result.load_id is None
        assert not config.database.exists()  # nothing was written
    else:
        assert result.reconciled
        ids, count, rejects = _stored(config)
        assert count == len(ids) == result.rows_loaded
        assert len(rejects) == result.rows_rejected
        assert sorted(set(rejects)) == rejects and all(1 <= r <= result.rows_read for r in rejects)
