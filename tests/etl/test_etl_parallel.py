"""The parallel CSV reader numbers records exactly as the serial one, or leaves the file to it.

Each case is a small export written byte by byte; the parallel path (`_scan_parallel`) must
either say it cannot be exact (None) or give every record the same number, field count and
text as the serial reader (`_scan_with_duckdb`, padded).
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import duckdb
import numpy as np
import pytest

from etl import sources
from etl.load import load_files
from etl.sources import Layout, inspect_file
from tests.conftest import HEADER as TICKET_HEADER
from tests.conftest import ticket_line, ticket_row

FIELDS = {"ticket_id": ["ticket-id"], "team": ["team"], "note": ["note"]}
LAYOUT = Layout(FIELDS, ("ticket_id",), {f: f for f in FIELDS})
HEADER = "Ticket-ID;Team;Note"


def _raw(path: Path, parallel: bool) -> tuple[str | None, list[tuple]]:
    con = duckdb.connect()
    info = inspect_file(path)
    header = sources._first_record(path, "utf-8")
    positions = sources.map_header(header, LAYOUT.fields, LAYOUT.required)
    if parallel:
        read = sources._scan_parallel(con, path, len(header), info.text)
        if read is None:
            return None, []
    else:
        read = "padded"
        try:
            sources._scan_with_duckdb(con, path, len(header))
        except duckdb.Error:  # as in `_read_csv_as`: the exact Python reader takes over
            sources._scan_with_python(con, path, len(header))
    sources._project(con, positions, len(header), FIELDS, read)
    rows = con.execute(
        "SELECT r.record, r.n_fields, t.ticket_id, t.team, t.note "
        "FROM raw r JOIN raw_text t USING (pos) ORDER BY r.record"
    ).fetchall()
    # A record with the wrong number of fields keeps no text on the parallel path: its
    # values sit in the wrong columns and are never used.
    return read, [row if row[1] == 3 else row[:2] for row in rows]


# (name, file content, what the parallel reader must do)
CASES = [
    ("clean", f"{HEADER}\nT1;A;x\nT2;B;y\n", "in order"),
    ("no final line break", f"{HEADER}\nT1;A;x\nT2;B;y", "in order"),
    ("crlf", f"{HEADER}\r\nT1;A;x\r\nT2;B;y\r\n", "in order"),
    ("bom", f"\ufeff{HEADER}\nT1;A;x\nT2;B;y\n", "in order"),
    ("short record", f"{HEADER}\nT1;A;x\nT2;B\nT3;C;z\n", "numbered"),
    ("long record", f"{HEADER}\nT1;A;x\nT2;B;y;extra;more\nT3;C;z\n", "numbered"),
    (
        "quoted break before a short record",
        f'{HEADER}\nT1;A;"line one\nline two"\nT2;B\nT3;C;z\n',
        "numbered",
    ),
    (
        "several quoted breaks, crlf, short and long records",
        f'{HEADER}\r\nT1;"A\r\nA";"x\r\n\r\ny"\r\nT2;B\r\nT3;C;"z"";"""\r\n'
        f'T4;D;w;w\r\n"T5\n";E;v\r\nT6\r\n',
        "numbered",
    ),
    ("short record with a quoted break", f'{HEADER}\nT1;A;x\nT2;"B\nB"\nT3;C;z\n', "numbered"),
    ("first and last records bad", f"{HEADER}\nT1\nT2;B;y\nT3;C;z;z", "numbered"),
    ("blank line", f"{HEADER}\nT1;A;x\n\nT2;B;y\n", None),
    ("only a header", f"{HEADER}\n", "in order"),
]


@pytest.mark.parametrize("name, content, expected", CASES, ids=[c[0] for c in CASES])
def test_parallel_reader_numbers_records_as_the_serial_one(tmp_path, name, content, expected):
    path = tmp_path / "export.csv"
    path.write_bytes(content.encode("utf-8"))
    read, parallel = _raw(path, parallel=True)
    assert read == expected
    if read is not None:
        _, serial = _raw(path, parallel=False)
        assert parallel == serial


def test_many_records_between_bad_ones_cross_step_buckets(tmp_path):
    """Record numbers stay exact across the 4,096-row buckets of `scan_steps`."""
    bad = {5, 4096, 4097, 4100, 8191, 8193, 12000}
    lines = [HEADER]
    for i in range(1, 12_500):
        if i in bad:
            lines.append(f"T{i};short")
        elif i % 1000 == 0:
            lines.append(f'T{i};A;"two\nlines"')
        else:
            lines.append(f"T{i};A;x")
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read, parallel = _raw(path, parallel=True)
    _, serial = _raw(path, parallel=False)
    assert read == "numbered"
    assert parallel == serial
    assert [r[0] for r in parallel if r[1] != 3] == sorted(bad)


def _line_index_by_definition(data: bytes) -> tuple[int, list[int], tuple[int, ...] | None]:
    """Lines, line breaks before each block, and quoted line breaks, byte by byte."""
    index, quoted, breaks, inside = [], [], 0, False
    for i, byte in enumerate(data):
        if i % sources.LINE_BLOCK == 0:
            index.append(breaks)
        if byte == ord('"'):
            inside = not inside
        elif byte == ord("\n"):
            breaks += 1
            if inside:
                quoted.append(i)
    index.append(breaks)
    lines = breaks + (len(data) > 0 and not data.endswith(b"\n"))
    return lines, index, None if inside else tuple(quoted)


def _index_as_defined(tmp_path, monkeypatch, data: bytes, chunk: int):
    """Index `data` read in chunks of `chunk` bytes; assert it equals the definition."""
    path = tmp_path / "lines.csv"
    path.write_bytes(data)
    monkeypatch.setattr(sources, "CHUNK", chunk)
    found = sources.text_lines(path)
    lines, index, quoted = _line_index_by_definition(data)
    assert (found.lines, found.index.tolist(), found.quoted) == (lines, index, quoted)
    return quoted


@pytest.mark.parametrize(
    ("seed", "size", "chunk"),
    [
        (1, 300_000, 1 << 16),  # several chunks, each one block
        (2, 200_001, 1 << 17),  # a short last chunk
        (3, 70_000, 1 << 22),  # one chunk
        (4, 1 << 17, 1 << 16),  # ends exactly on a chunk boundary
    ],
)
def test_line_index_equals_its_definition(tmp_path, monkeypatch, seed, size, chunk):
    # Few quotes and many line breaks, so quoted line breaks span chunk boundaries.
    rng = random.Random(seed)
    data = bytes(rng.choices(b'a;\n"', weights=[60, 10, 8, 1], k=size))
    quoted = _index_as_defined(tmp_path, monkeypatch, data, chunk)
    assert quoted is None or len(quoted) > 0


def _csv_with_quoted_fields(seed: int, size: int, quoted_share: float) -> bytes:
    """Records of plain fields, a share of them quoted with line breaks and "" inside."""
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        fields = []
        for _ in range(rng.randint(1, 6)):
            text = "".join(rng.choices("ab ;", k=rng.randint(0, 12)))
            if rng.random() < quoted_share:
                inner = "".join(rng.choices(["x", "\n", "\r\n", '""', "y"], k=rng.randint(0, 8)))
                fields.append(f'"{text.replace(";", "")}{inner}"')
            else:
                fields.append(text.replace(";", ""))
        out += (";".join(fields) + rng.choice(["\n", "\r\n"])).encode()
    return bytes(out[:size])


@pytest.mark.parametrize(
    ("seed", "size", "chunk", "quoted_share"),
    [
        (5, 300_000, 1 << 16, 0.001),  # few short quoted stretches: only their bytes searched
        (6, 300_000, 1 << 16, 0.3),  # many: every line break tested
        (7, 250_001, 1 << 16, 0.0),  # no quote at all
        (8, 90_000, 1 << 22, 0.01),  # one chunk, may end inside quotes (then unknown)
    ],
)
def test_line_index_of_quoted_fields(tmp_path, monkeypatch, seed, size, chunk, quoted_share):
    data = _csv_with_quoted_fields(seed, size, quoted_share)
    quoted = _index_as_defined(tmp_path, monkeypatch, data, chunk)
    if quoted_share:
        assert quoted is None or len(quoted) > 0


@pytest.mark.parametrize("start", [4088, 4092, 4094, 4095, 4096, 4097])
def test_quoted_stretch_across_a_chunk_boundary(tmp_path, monkeypatch, start):
    # The stretch opens in one chunk and its line breaks follow in the next.
    data = b"a;b\n" * (start // 4) + b"c" * (start % 4) + b'"q\nr\r\ns"\n' + b"d;e\n" * 2000
    quoted = _index_as_defined(tmp_path, monkeypatch, data, sources.LINE_BLOCK)
    assert len(quoted) == 2


@pytest.mark.parametrize(
    "ones",
    [[], [0], [7], [8], [4095, 4096], [10, 11, 12, 13, 14, 15, 16, 17], list(range(0, 9001, 3))],
)
@pytest.mark.parametrize("size", [9001, 8192, 5])
def test_mask_positions_and_block_counts(ones, size):
    mask = np.zeros(size, dtype=bool)
    mask[[i for i in ones if i < size]] = True
    assert sources._sparse_positions(mask).tolist() == np.flatnonzero(mask).tolist()
    blocks = -(-size // sources.LINE_BLOCK)
    expected = np.bincount(np.flatnonzero(mask) // sources.LINE_BLOCK, minlength=blocks)
    assert sources._block_counts(mask).tolist() == expected.tolist()


# --- Typing straight from the file (`_type_parallel`) -------------------------------------
# The parallel reader types the records as it reads and keeps no text; the few records
# shown with their text are read again from their bytes (`_FileSource`). Each way must load
# exactly what the serial reader loads: the same tickets, rejects (with text) and counts.


def _ticket_lines() -> list[list[str]]:
    good = [ticket_line(ticket_row(**{"Ticket-ID": f"T{i}"})) for i in range(1, 8)]
    return [
        good[0],
        ticket_line(ticket_row(**{"Ticket-ID": "T20", "Eingang": "31.02.2026"})),  # not a date
        ticket_line(ticket_row(**{"Ticket-ID": " T21 ", "Bereich": " leistung "})),  # spaces
        good[1],
        ticket_line(ticket_row(**{"Ticket-ID": "T22", "Team": "Leistung\n1"})),  # quoted break
        ticket_line(ticket_row(**{"Ticket-ID": "T23", "Bereich": "Sozial", "Team": "A\r\nB"})),
        good[1],  # identical repeat
        good[2],
        ticket_line(ticket_row(**{"Ticket-ID": "T3", "Team": "Leistung 2"})),  # conflicting
        ["T24", "Leistung"],  # too few fields
        good[3] + ["extra"],  # too many
        good[4],
        ticket_line(ticket_row(**{"Ticket-ID": "T25", "Erledigt": "01.01.2020"})),  # before receipt
        good[5],
    ]


def _ticket_export(newline: str = "\n", bom: bool = False, final_break: bool = True) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator=newline).writerows(
        [TICKET_HEADER, *_ticket_lines()]
    )
    text = out.getvalue() if final_break else out.getvalue().removesuffix(newline)
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def _unreadable(self, records):
    raise IndexError("not where the line index says")


def _loaded(config, path: Path) -> dict:
    """Everything a load leaves behind, in a comparable form."""
    (result,) = load_files(config, [path], fresh=True)
    con = duckdb.connect(str(config.database), read_only=True)
    try:
        tickets = con.execute(
            "SELECT * EXCLUDE (load_id) FROM tickets ORDER BY ticket_id"
        ).fetchall()
        rejects = con.execute(
            "SELECT record, ticket_id, reason, raw FROM rejects ORDER BY record"
        ).fetchall()
    finally:
        con.close()
    counts = (result.rows_read, result.rows_loaded, result.rows_rejected, result.rows_duplicate)
    return {"tickets": tickets, "rejects": rejects, "counts": counts}


@pytest.mark.parametrize(
    "content",
    [
        _ticket_export(),
        _ticket_export(newline="\r\n", bom=True),
        _ticket_export(final_break=False),
    ],
    ids=["lf", "crlf-bom", "no-final-break"],
)
@pytest.mark.parametrize("way", ["fetched", "read again", "fetch fails"])
def test_typing_from_the_file_loads_what_the_serial_reader_loads(
    tmp_path, config, monkeypatch, content, way
):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    used = []
    typed = sources._type_parallel
    monkeypatch.setattr(sources, "_type_parallel", lambda *a: used.append(typed(*a)) or used[-1])
    again = []
    scan = sources._scan_parallel
    monkeypatch.setattr(sources, "_scan_parallel", lambda *a: again.append(1) or scan(*a))
    if way == "read again":
        monkeypatch.setattr(sources, "FETCH_LIMIT", 0)
    if way == "fetch fails":
        monkeypatch.setattr(sources._FileSource, "_bytes", _unreadable)
    parallel = _loaded(config, path)
    assert used == ["numbered"]
    assert len(again) == (way != "fetched")  # the whole file is read again only as a fallback
    monkeypatch.setattr(sources, "_type_parallel", lambda *a: None)
    serial = _loaded(config, path)
    assert parallel == serial
    # The case covers what it claims: rejects with text, repeats, wrong field counts.
    assert parallel["counts"] == (14, 6, 7, 1)
    assert sum(raw is None for *_, raw in parallel["rejects"]) == 2
