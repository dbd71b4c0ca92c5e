"""The parallel CSV reader numbers records exactly as the serial one, or leaves the file to it.

Each case is a small export written byte by byte; the parallel path (`_scan_parallel`) must
either say it cannot be exact (None) or give every record the same number, field count and
text as the serial reader (`_scan_with_duckdb`, padded).
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest

from etl import sources
from etl.sources import Layout, inspect_file

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
    """Lines, line breaks before each 64 KiB block, and quoted line breaks, byte by byte."""
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
    path = tmp_path / "lines.csv"
    path.write_bytes(data)
    monkeypatch.setattr(sources, "CHUNK", chunk)
    found = sources.text_lines(path)
    lines, index, quoted = _line_index_by_definition(data)
    assert (found.lines, found.index.tolist(), found.quoted) == (lines, index, quoted)
    assert quoted is None or len(quoted) > 0
