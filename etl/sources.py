"""Reading export files (CSV or XLSX) into DuckDB as text, one row per record.

`read_source` fills the temp table `scan` and defines the view `raw` over it: per record, in
file order, its `record` number (1 = first data row), `n_fields` (how many fields it has),
`expected_fields` (how many the header has) and one VARCHAR column per export field (NULL
where the file has no such column). Interpreting the text is the job of `etl.validate`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

CHUNK = 1 << 22  # 4 MiB: large enough to be fast, small enough to keep memory flat
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls and other OLE2 files
UTF8_BOM = codecs.BOM_UTF8
# A workbook is a zip: its parts unpack to many times their size. An export's workbook
# unpacks to about 5-20 times its file size; a "zip bomb" to hundreds of times and
# gigabytes, which openpyxl would unpack into memory. Checked before opening.
MAX_XLSX_UNPACKED = 1 << 30  # 1 GiB of XML
MAX_XLSX_RATIO = 100
# Columns read beyond the header's: they catch the common slip of a stray ';'. A record
# that fills them all is read again with more (`_read_csv_text`); each one costs read time.
OVERFLOW = 2
# DuckDB reads this as NULL; no export field is this control character, so NULL marks a
# field the record does not have (null_padding) and an empty field stays ''.
MISSING = "\x01"


class FileRefused(Exception):
    """A file that cannot be read as a whole; nothing of it is loaded."""


def map_header(
    header: Sequence[str],
    fields: dict[str, list[str]],
    required: Iterable[str],
    labels: dict[str, str] | None = None,
) -> dict[str, int]:
    """Field -> column position, from header names matched case-insensitively and trimmed."""
    names = [str(h or "").strip().lower() for h in header]
    positions: dict[str, int] = {}
    for field, accepted in fields.items():
        hits = [i for i, name in enumerate(names) if name in accepted]
        if len(hits) > 1:
            cols = ", ".join(f"'{str(header[i]).strip()}'" for i in hits)
            raise FileRefused(f"Die Spalten {cols} meinen dasselbe Feld; bitte eine entfernen.")
        if hits:
            positions[field] = hits[0]
    labels = labels or {}
    missing = [labels.get(f, fields[f][0]) for f in required if f not in positions]
    if missing:
        found = ", ".join(str(h).strip() for h in header if str(h or "").strip())
        raise FileRefused(
            "Pflichtspalte fehlt: "
            + ", ".join(f"'{name}'" for name in missing)
            + f". Gefundene Spalten: {found or '(keine)'}."
        )
    return positions


@dataclass(frozen=True)
class Layout:
    """The fields an export kind has: accepted header names, required ones, display names."""

    fields: dict[str, list[str]]  # field -> accepted header names, lower case
    required: tuple[str, ...]
    labels: dict[str, str]  # field -> name used in messages


@dataclass(frozen=True)
class FileInfo:
    """Format and content hash of an export, learnt in one pass over its bytes."""

    name: str
    format: str  # 'csv' or 'xlsx'
    content_hash: str


def inspect_file(path: Path) -> FileInfo:
    """Identify an export file and hash it; refuse what cannot be read as a whole."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(CHUNK)
    except OSError as exc:
        raise FileRefused(
            f"Die Datei {path.name} kann nicht gelesen werden: {exc.strerror}."
        ) from None
    if not head.strip(b" \t\r\n" + UTF8_BOM):
        raise FileRefused(f"Die Datei {path.name} ist leer.")
    if head.startswith(OLE_MAGIC):
        raise FileRefused(
            f"{path.name} ist eine alte Excel-Datei (.xls); bitte als XLSX oder CSV speichern."
        )
    kind = "xlsx" if head.startswith(XLSX_MAGIC) else "csv"
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            if kind == "csv" and b"\x00" in chunk:
                raise FileRefused(f"{path.name} ist keine Textdatei (enthält Binärdaten).")
            digest.update(chunk)
    return FileInfo(path.name, kind, digest.hexdigest())


def read_source(con: duckdb.DuckDBPyConnection, path: Path, info: FileInfo, layout: Layout) -> str:
    """Read an inspected export into `scan` and `raw` (see the module docstring); its encoding."""
    if info.format == "xlsx":
        _read_xlsx(con, Path(path), layout)
        return "xlsx"
    return _read_csv(con, Path(path), layout)


def release_source(con: duckdb.DuckDBPyConnection) -> None:
    """Free the text of every record (`raw`, `scan`) once validation has kept what it shows."""
    con.execute("DROP VIEW IF EXISTS raw; DROP TABLE IF EXISTS scan")


class _NotUtf8(Exception):
    pass


def _read_csv(con, path: Path, layout: Layout) -> str:
    """Read as UTF-8 (with or without BOM); when the bytes are not UTF-8, as Windows-1252."""
    try:
        _read_utf8(con, path, path.name, layout)
        return "utf-8"
    except _NotUtf8:
        pass
    with _utf8_copy(path) as copy:
        _read_utf8(con, copy, path.name, layout)
    return "cp1252"


def _read_utf8(con, path: Path, name: str, layout: Layout) -> None:
    """Read a file that should be UTF-8 (`name`: the export's own, for messages)."""
    header = _first_record(path, name)
    if len(header) < 2:
        raise FileRefused(
            f"{name} ist keine CSV-Datei mit ';' als Trennzeichen "
            "(die Kopfzeile hat nur eine Spalte)."
        )
    positions = map_header(header, layout.fields, layout.required, layout.labels)
    _read_csv_text(con, path, name, len(header), positions, layout.fields)


def _first_record(path: Path, name: str) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        try:
            return next(csv.reader(fh, delimiter=";", quotechar='"'))
        except StopIteration:
            return []
        except UnicodeDecodeError:
            raise _NotUtf8 from None
        except csv.Error as exc:
            raise FileRefused(f"{name}: Kopfzeile nicht lesbar ({exc}).") from None


def _read_csv_text(con, path: Path, name: str, n: int, positions: dict[str, int], fields) -> None:
    """`scan` from DuckDB's reader: every field as text, short records padded with NULL.

    Read serially: only the serial reader pads short records when fields contain line
    breaks, and it keeps the records in file order, so a row's position is its record number.
    """
    width = n + OVERFLOW
    while True:
        struct = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
        # Padding is trailing only: a record's last field is its last non-NULL column (one
        # flat CASE, tried from the right, where most records end).
        n_fields = " ".join(f"WHEN c{i} IS NOT NULL THEN {i + 1}" for i in reversed(range(width)))
        # The column names are generated here (c0, c1, ...), never taken from the file.
        sql = (
            f"CREATE OR REPLACE TEMP TABLE scan AS SELECT CASE {n_fields} ELSE 0 END AS n_fields, "
            f"{_selected(positions, fields)} FROM read_csv(?, delim=';', quote='\"', "
            "escape='\"', header=false, skip=1, auto_detect=false, strict_mode=false, "
            f"null_padding=true, nullstr=?, columns={struct}, parallel=false)"
        )
        try:
            con.execute(sql, [str(path), MISSING])
        except duckdb.Error as exc:
            if "Invalid unicode" in str(exc) and not _decodes(path, "utf-8"):
                raise _NotUtf8 from None
            raise FileRefused(f"{name} ist keine lesbare CSV-Datei ({_reason(exc)}).") from None
        if con.execute("SELECT coalesce(max(n_fields), 0) FROM scan").fetchall()[0][0] < width:
            break
        # A record filled every column: DuckDB drops fields beyond them, so its count
        # would be short. Rare; read again with room for it.
        width *= 4
    _define_raw(con, n, fields, positions)


def _reason(exc: duckdb.Error) -> str:
    """Where and why DuckDB's reader gave up, without the record's text (it may hold a
    customer number): its first line, and the line before its suggested fixes."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    fixes = next((i for i, line in enumerate(lines) if line.startswith("Possible Solution")), 0)
    return "; ".join(dict.fromkeys([lines[0], *lines[fixes - 1 : fixes]]))


def _selected(positions: dict[str, int], fields: Iterable[str]) -> str:
    """The mapped columns (c0, c1, ...) named after their fields; NULL for absent ones."""
    return ", ".join(
        f"c{positions[f]} AS {f}" if f in positions else f"NULL::VARCHAR AS {f}" for f in fields
    )


def _define_raw(con, n: int, fields: Iterable[str], positions: dict[str, int]) -> None:
    # `scan` was filled in file order (a serial read, or the workbook's rows in turn).
    # `id_in_place`: what stands under Ticket-ID is the Ticket-ID. In a record with the
    # wrong field count that holds only when Ticket-ID is the first column and the record
    # has too many fields: a stray separator shifts only the fields after it, while a record
    # with too few may be the second half of a broken one, starting with any field (a
    # customer number included, which must never be stored in clear).
    first = "true" if positions.get("ticket_id") == 0 else "false"
    con.execute(
        "CREATE OR REPLACE TEMP VIEW raw AS SELECT rowid + 1 AS record, n_fields, "
        f"{n} AS expected_fields, (n_fields = {n} OR (n_fields > {n} AND {first})) "
        f"AS id_in_place, {', '.join(fields)} FROM scan"
    )


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file is text in this encoding."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as fh:
        try:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


@contextmanager
def _utf8_copy(path: Path):
    """A temporary UTF-8 copy of a Windows-1252 file; refused when it is neither."""
    fd, name = tempfile.mkstemp(suffix=".csv", prefix="tc-utf8-")
    try:
        with (
            open(path, encoding="cp1252", newline="") as src,
            os.fdopen(fd, "w", encoding="utf-8", newline="") as dst,
        ):
            try:
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
            except UnicodeDecodeError as exc:
                # Bytes undefined in Windows-1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D): no text.
                raise FileRefused(
                    f"{path.name} ist weder UTF-8 noch Windows-1252 "
                    f"(Byte {exc.object[exc.start]:#04x})."
                ) from None
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def check_workbook(path: Path) -> None:
    """Refuse a workbook that would unpack to far more than an export can hold."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRefused(
            f"{path.name} ist keine lesbare XLSX-Datei ({type(exc).__name__}: {exc})."
        ) from None
    unpacked = sum(part.file_size for part in parts)
    packed = sum(part.compress_size for part in parts)
    if unpacked > MAX_XLSX_UNPACKED or unpacked > MAX_XLSX_RATIO * max(packed, 1):
        raise FileRefused(
            f"{path.name} wird nicht geöffnet: entpackt {unpacked // (1 << 20):,} MiB aus "
            f"{max(packed, 1) // 1024:,} KiB – so viel enthält kein Export."
        )


def _read_xlsx(con, path: Path, layout: Layout) -> None:
    from openpyxl import load_workbook

    check_workbook(path)

    # openpyxl parses lazily and raises many kinds of errors for a damaged workbook
    # (zip, XML, missing parts); whatever it raises, the file as a whole is unreadable.
    try:
        with open(path, "rb") as fh:
            workbook = load_workbook(fh, read_only=True, data_only=True)
            try:
                _scan_workbook(con, workbook, path, layout)
            finally:
                workbook.close()
    except FileRefused:
        raise
    except Exception as exc:
        raise FileRefused(
            f"{path.name} ist keine lesbare XLSX-Datei ({type(exc).__name__}: {exc})."
        ) from None


def _scan_workbook(con, workbook, path: Path, layout: Layout) -> None:
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = [_cell_text(v) or "" for v in next(rows, ())]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise FileRefused(f"{path.name}: Das erste Tabellenblatt ist leer.")
    positions = map_header(header, layout.fields, layout.required, layout.labels)
    n = len(header)
    n_fields: list[int] = []
    columns: dict[str, list[str]] = {f: [] for f in positions}
    for row in rows:
        values = [_cell_text(v) for v in row]
        while values and values[-1] is None:
            values.pop()
        if not values:
            continue  # an empty sheet row is no record
        # A spreadsheet has no field count: every row has the header's columns, and a
        # value to the right of them adds its column.
        n_fields.append(max(n, len(values)))
        for field, i in positions.items():
            columns[field].append(values[i] or "" if i < len(values) else "")
    table = pa.table(
        {"n_fields": pa.array(n_fields, pa.int32())}
        | {f: pa.array(v, pa.string()) for f, v in columns.items()}
    )
    absent = [f"NULL::VARCHAR AS {f}" for f in layout.fields if f not in positions]
    con.register("workbook_rows", table)
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE scan AS SELECT *"
            + "".join(f", {a}" for a in absent)
            + " FROM workbook_rows"
        )
    finally:
        con.unregister("workbook_rows")
    _define_raw(con, n, layout.fields, positions)


def _cell_text(value) -> str | None:
    """Cell value as export text: Excel dates become ISO dates, numbers lose a '.0'."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        # Only the date matters for every rule; fractions of a second are dropped.
        value = value.replace(microsecond=0)
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def csv_text(rows: Iterable[Iterable[str]]) -> str:
    """Rows as `;`-separated export text (used by tests and the demo)."""
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\n").writerows(rows)
    return out.getvalue()
