"""Reading export files (CSV or XLSX) into a raw, all-text DuckDB table.

Whatever the file, the result is the temp table `raw`: one row per data record with
`record` (1 = first data row), `n_fields` (fields the record really had) and one VARCHAR
column per export field (NULL where the file has no such column). Interpreting the text is
the job of `etl.validate`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

CHUNK = 1 << 22  # 4 MiB: large enough to be fast, small enough to keep memory flat
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls and other OLE2 files
UTF8_BOM = codecs.BOM_UTF8


class FileRefused(Exception):
    """A file that cannot be read as a whole; nothing of it is loaded."""


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, the identity of an export in the load log."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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
            digest.update(chunk)
            if kind == "csv" and b"\x00" in chunk:
                raise FileRefused(f"{path.name} ist keine Textdatei (enthält Binärdaten).")
    return FileInfo(path.name, kind, digest.hexdigest())


def read_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    info: FileInfo,
    layout: Layout,
) -> str:
    """Read an inspected export into the temp view `raw`; return the encoding it had."""
    if info.format == "xlsx":
        _read_xlsx(con, Path(path), layout)
        return "xlsx"
    return _read_csv(con, Path(path), layout)


class _NotUtf8(Exception):
    pass


def _read_csv(con, path: Path, layout: Layout) -> str:
    """Read as UTF-8 (with or without BOM); when that fails, as Windows-1252."""
    # DuckDB checks UTF-8 while it reads, so a UTF-8 file (the common case) is read once;
    # only a file that is not UTF-8 is checked and transcoded here.
    try:
        _read_csv_as(con, path, "utf-8", layout)
        return "utf-8"
    except _NotUtf8:
        pass
    decoder = codecs.getincrementaldecoder("cp1252")()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # Bytes undefined in Windows-1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D): no text.
                raise FileRefused(
                    f"{path.name} ist weder UTF-8 noch Windows-1252 (Byte {chunk[exc.start]:#04x})."
                ) from None
    _read_csv_as(con, path, "cp1252", layout)
    return "cp1252"


def _first_record(path: Path, encoding: str) -> list[str]:
    with open(path, encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as fh:
        try:
            return next(csv.reader(fh, delimiter=";", quotechar='"'))
        except StopIteration:
            return []
        except UnicodeDecodeError:
            raise _NotUtf8 from None
        except csv.Error as exc:
            raise FileRefused(f"{path.name}: Kopfzeile nicht lesbar ({exc}).") from None


def _read_csv_as(con, path: Path, encoding: str, layout: Layout) -> None:
    header = _first_record(path, encoding)
    if len(header) < 2:
        raise FileRefused(
            f"{path.name} ist keine CSV-Datei mit ';' als Trennzeichen "
            "(die Kopfzeile hat nur eine Spalte)."
        )
    positions = map_header(header, layout.fields, layout.required, layout.labels)
    with _utf8_copy(path, encoding) as utf8_path:
        try:
            _scan_with_duckdb(con, utf8_path, len(header))
        except duckdb.Error as exc:
            if "Invalid unicode" in str(exc):
                raise _NotUtf8 from None
            # DuckDB's fast reader gives up on some malformed files (e.g. far too many
            # fields in a record); Python's csv module reads anything, only slower.
            try:
                _scan_with_python(con, utf8_path, len(header))
            except UnicodeDecodeError:
                raise _NotUtf8 from None
    _project(con, positions, len(header), layout.fields)


class _utf8_copy:
    """Context manager: the path itself for UTF-8, else a temporary UTF-8 transcode."""

    def __init__(self, path: Path, encoding: str):
        self.path, self.encoding, self.tmp = path, encoding, None

    def __enter__(self) -> Path:
        if self.encoding == "utf-8":
            return self.path
        fd, name = tempfile.mkstemp(suffix=".csv", prefix="tc-utf8-")
        self.tmp = Path(name)
        with (
            open(self.path, encoding=self.encoding, newline="") as src,
            os.fdopen(fd, "w", encoding="utf-8", newline="") as dst,
        ):
            while chunk := src.read(CHUNK):
                dst.write(chunk)
        return self.tmp

    def __exit__(self, *exc) -> None:
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


# Extra columns catch records with too many fields without failing the scan. Two are
# enough for the common slip (one stray ';'); a record that fills the last one is counted
# exactly by the Python reader. Every extra column costs read time.
OVERFLOW = 2


def _scan_columns(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)] + [f"x{i}" for i in range(OVERFLOW)]


def _scan_with_duckdb(con, path: Path, n: int) -> None:
    cols = _scan_columns(n)
    # The column names are generated here (c0, c1, ...), never taken from the file.
    struct = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
    base = (
        "CREATE OR REPLACE TEMP TABLE scan AS SELECT * FROM read_csv(?, delim=';', quote='\"', "
        "escape='\"', header=false, skip=1, auto_detect=false, strict_mode=false, "
        f"null_padding=true, nullstr='\x01', columns={struct}, parallel=PARALLEL)"
    )
    try:
        con.execute(base.replace("PARALLEL", "true"), [str(path)])
    except duckdb.Error as exc:
        if "quoted new lines" not in str(exc):
            raise
        # Quoted line breaks in a field: DuckDB pads short records only when reading serially.
        con.execute(base.replace("PARALLEL", "false"), [str(path)])
    last = cols[-1]
    if con.execute(f"SELECT count(*) FROM scan WHERE {last} IS NOT NULL").fetchall()[0][0]:
        # A record filled every overflow column: DuckDB drops what lies beyond, so its
        # field count would be wrong. Such files are rare; the exact reader takes over.
        raise duckdb.InvalidInputException("record wider than the overflow columns")


def _scan_with_python(con, path: Path, n: int) -> None:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=";", quotechar='"', strict=False)
        next(reader, None)
        _records_to_scan(con, (r for r in reader if r), n)


def _records_to_scan(con, records: Iterator[list[str]], n: int) -> None:
    """Store records of text fields as the `scan` table (NULL marks a missing field)."""
    cols = _scan_columns(n)
    width = len(cols)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    for record in records:
        if len(record) > width:  # far too long: keep the count visible in the last column
            record = [*record[: width - 1], "\x02" * (len(record) - width + 1)]
        for i in range(width):
            columns[i].append(record[i] if i < len(record) else None)
    table = pa.table({c: pa.array(v, pa.string()) for c, v in zip(cols, columns, strict=True)})
    con.register("scan_records", table)
    con.execute("CREATE OR REPLACE TEMP TABLE scan AS SELECT * FROM scan_records")
    con.unregister("scan_records")


def _project(con, positions: dict[str, int], n: int, fields: Iterable[str]) -> None:
    """Define `raw` over `scan`: record numbers, field counts and the mapped fields."""
    cols = _scan_columns(n)
    regular, overflow = cols[:n], cols[n:]
    # Field count of a record: the header's count, minus trailing fields DuckDB padded with
    # NULL, plus fields that spilled into the overflow columns. Only a record whose last
    # field is missing or whose first overflow field is present can be off, so the full
    # count is computed for those alone.
    present = " + ".join(f"({c} IS NOT NULL)::INT" for c in regular)
    extra = " + ".join(
        f"(CASE WHEN {c} IS NULL THEN 0 WHEN {c} LIKE '\x02%' THEN length({c}) ELSE 1 END)"
        for c in overflow
    )
    selected = ", ".join(
        f"c{positions[f]} AS {f}" if f in positions else f"NULL::VARCHAR AS {f}" for f in fields
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW raw AS SELECT rowid + 1 AS record, "
        f"CASE WHEN {regular[-1]} IS NULL OR {overflow[0]} IS NOT NULL "
        f"THEN ({present}) + ({extra}) ELSE {n} END AS n_fields, "
        f"{n} AS expected_fields, {selected} FROM scan"
    )


def _read_xlsx(con, path: Path, layout: Layout) -> None:
    from openpyxl import load_workbook

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

    def records() -> Iterator[list[str]]:
        for row in rows:
            values = [_cell_text(v) for v in row]
            while values and values[-1] is None:
                values.pop()
            if not values:
                continue  # an empty sheet row is no record
            # A spreadsheet has no field count: every row has the header's columns.
            yield [v or "" for v in values] + [""] * (n - len(values))

    _records_to_scan(con, records(), n)
    _project(con, positions, n, layout.fields)


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
