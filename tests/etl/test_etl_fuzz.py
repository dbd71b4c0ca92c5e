"""Fuzzing the loader with mutated real exports (tests/test_etl_properties.py has the
arbitrary bytes): a small demo export, as CSV and as XLSX, damaged in many ways, loaded on
top of an existing database. The loader either loads it with a correct reconciliation or
refuses it with a message, and a refused file leaves the database file byte for byte as it
was. It never raises and never takes long.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import io
import shutil
import time
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from dashboard.core.config import load_config
from etl.demo import write_demo_export
from etl.load import load_files

AS_OF = dt.date(2026, 11, 27)
SECONDS_PER_FILE = 30  # generous for a 2-core machine shared with others; a hang is caught


def _xlsx(csv_bytes: bytes) -> bytes:
    wb = Workbook()
    for line in csv_bytes.decode("utf-8").splitlines():
        wb.active.append(line.split(";"))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """A database with one real load, and the bytes of other real exports to damage."""
    tmp = tmp_path_factory.mktemp("fuzz-base")
    first = write_demo_export(tmp / "first", tickets=300, seed=11, until=AS_OF)
    config = _config(tmp)
    results = load_files(config, [first.tickets], [first.absences])
    assert all(r.reconciled and r.load_id for r in results)
    other = write_demo_export(tmp / "other", tickets=60, seed=12, until=AS_OF)
    tickets = other.tickets.read_bytes()
    sources = {
        "tickets.csv": tickets,
        "tickets.xlsx": _xlsx(tickets),
        "absences.csv": other.absences.read_bytes(),
    }
    return tmp, sources


def _config(directory: Path):
    return load_config(
        environ={
            "TICKET_CONTROLLING_DB": str(directory / "db" / "tickets.duckdb"),
            "TICKET_CONTROLLING_KEY_FILE": str(directory / "key"),
        }
    )


def _flip(data: bytes, at: int, value: int) -> bytes:
    at %= max(1, len(data))
    return data[:at] + bytes([value]) + data[at + 1 :]


def _insert(data: bytes, at: int, chunk: bytes) -> bytes:
    at %= len(data) + 1
    return data[:at] + chunk + data[at:]


def _delete(data: bytes, at: int, length: int) -> bytes:
    at %= len(data) + 1
    return data[:at] + data[at + length :]


def _lines(data: bytes, op: str, i: int, j: int) -> bytes:
    lines = data.split(b"\n")
    i, j = i % len(lines), j % len(lines)
    if op == "duplicate":
        lines.insert(j, lines[i])
    elif op == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "drop":
        del lines[i]
    elif op == "header-last":
        lines.append(lines.pop(0))
    return b"\n".join(lines)


def _recode(data: bytes, codec: str) -> bytes:
    return data.decode("utf-8", errors="replace").encode(codec, errors="replace")


SPECIAL = st.sampled_from([b";", b'"', b"\n", b"\r", b"\x00", b"\xff", b"\xc3", b"PK\x03\x04"])
mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(
        st.just("insert"),
        st.integers(0, 10**6),
        st.one_of(SPECIAL, st.binary(min_size=1, max_size=40)),
    ),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 400)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(
        st.just("lines"),
        st.sampled_from(["duplicate", "swap", "drop", "header-last"]),
        st.tuples(st.integers(0, 100), st.integers(0, 100)),
    ),
    st.tuples(st.just("recode"), st.sampled_from(["cp1252", "utf-16", "latin-1"]), st.just(0)),
    st.tuples(st.just("separator"), st.sampled_from([b",", b"\t", b"|"]), st.just(0)),
)


def _mutate(data: bytes, steps) -> bytes:
    for name, a, b in steps:
        if name == "flip":
            data = _flip(data, a, b)
        elif name == "insert":
            data = _insert(data, a, b)
        elif name == "delete":
            data = _delete(data, a, b)
        elif name == "truncate":
            data = data[: a % (len(data) + 1)]
        elif name == "lines":
            data = _lines(data, a, *b)
        elif name == "recode" and not data.startswith(b"PK"):
            data = _recode(data, a)
        elif name == "separator":
            data = data.replace(b";", a)
    return data


def _snapshot(config) -> tuple[int, int, int]:
    con = duckdb.connect(str(config.database), read_only=True)
    try:
        return con.execute(
            "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM absences), "
            "(SELECT count(*) FROM rejects)"
        ).fetchall()[0]
    finally:
        con.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    source=st.sampled_from(["tickets.csv", "tickets.xlsx", "absences.csv"]),
    steps=st.lists(mutation, min_size=1, max_size=3),
)
def test_mutated_real_exports_are_loaded_reconciled_or_refused_untouched(
    base, tmp_path_factory, source, steps
):
    base_dir, sources = base
    work = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(base_dir / "db", work / "db")
    shutil.copyfile(base_dir / "key", work / "key")
    config = _config(work)
    path = work / source
    path.write_bytes(_mutate(sources[source], steps))
    digest, before = _digest(config.database), _snapshot(config)

    start = time.monotonic()
    kind = source.split(".")[0]
    [result] = load_files(config, **{kind: [path]})  # never raises
    assert time.monotonic() - start < SECONDS_PER_FILE

    event("refused" if result.refused else "loaded" if result.load_id else "already loaded")
    if result.refused is not None or result.already_loaded_as is not None:
        if result.refused is not None:
            assert result.refused.strip() and "Traceback" not in result.refused
            assert result.summary().startswith(f"{source}: abgewiesen – ")
        assert result.load_id is None
        assert _digest(config.database) == digest, "a refused file changed the database"
        return
    assert result.reconciled
    assert result.rows_read == result.rows_loaded + result.rows_rejected + result.rows_duplicate
    tickets, absences, rejects = _snapshot(config)
    new = (tickets - before[0]) if kind == "tickets" else (absences - before[1])
    assert new == result.records_new
    assert rejects - before[2] == result.rows_rejected
    con = duckdb.connect(str(config.database), read_only=True)
    try:
        logged = con.execute(
            "SELECT rows_read, rows_loaded, rows_rejected, rows_duplicate FROM load_log "
            "WHERE load_id = ?",
            [result.load_id],
        ).fetchall()
    finally:
        con.close()
    counts = (result.rows_read, result.rows_loaded, result.rows_rejected, result.rows_duplicate)
    assert logged == [counts]


def test_mutations_change_the_bytes(base):
    # The fuzzer is only worth something if its mutations really damage the exports.
    data = base[1]["tickets.csv"]
    assert _mutate(data, [("flip", 0, ord("X"))]).startswith(b"Xicket-ID")
    assert _mutate(data, [("separator", b",", 0)]).count(b";") == 0
    assert codecs.decode(_mutate(data, [("recode", "utf-16", 0)]), "utf-16") == data.decode()
    assert _mutate(data, [("lines", "header-last", (0, 0))]).split(b"\n")[-1].startswith(b"Ticket")
