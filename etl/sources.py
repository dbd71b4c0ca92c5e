"""Reading export files (CSV or XLSX) and typing their records into DuckDB.

`read_source` runs the caller's typing pass (a SELECT over the view `raw`: one row per
record with `n_fields`, `expected_fields` and one VARCHAR column per export field, NULL
where the file has no such column) on every record, into the table `typed_rows`, and
defines the view `typed` over it: each row with its position (`pos`, file order) and
`record` (1 = first data row). A UTF-8 CSV is typed as DuckDB's parallel reader reads it,
and its text is never stored; otherwise the records go through a text table `scan` first.
The returned `Reading` keeps the text of the few records shown later (`keep_text`).
Interpreting the text is the job of `etl.validate`.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

CHUNK = 1 << 22  # 4 MiB: large enough to be fast, small enough to keep memory flat
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls and other OLE2 files
UTF8_BOM = codecs.BOM_UTF8


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


# Granularity of the line-break index: finding a record reads one block (8 bytes of index
# per 4 KiB of file).
LINE_BLOCK = 1 << 12
# Beyond this many quote characters (e.g. an export that quotes every field) finding the
# line breaks inside quotes costs more than the parallel reader saves.
MAX_QUOTES = 1_000_000


@dataclass(frozen=True)
class TextLines:
    """The line breaks of a text file: how many, where, and which ones lie inside quotes.

    Learnt in the pass that hashes the file (memchr-fast counts), so the parallel reader
    can number records exactly (`_scan_parallel`).
    """

    lines: int  # physical lines, a last line without a line break included
    index: np.ndarray  # line breaks before each block of LINE_BLOCK bytes
    quoted: tuple[int, ...] | None  # byte positions of line breaks inside quotes; None: unknown

    @property
    def records(self) -> int:
        """Data records (the header not counted), when no line lies between records."""
        return self.lines - len(self.quoted or ()) - 1

    def record_ends(self, fh, records: Sequence[int]) -> np.ndarray:
        """Byte positions of the line breaks that end these data records (header = 0).

        Record r ends at the (r + 1)-th line break outside quotes. Vectorised: the blocks
        holding the wanted line breaks are read once and searched together.
        """
        records = np.asarray(records, dtype=np.int64)
        quoted = np.asarray(self.quoted, dtype=np.int64)
        # The k-th line break overall ends record r once k = r + 1 + (quoted line breaks
        # before it); k only grows towards that. First settle it on the index alone
        # (quoted breaks before the block), then on the line breaks inside the block.
        wanted = records + 1
        while True:
            blocks = np.searchsorted(self.index, wanted, side="left") - 1
            settled = records + 1 + np.searchsorted(quoted, blocks * LINE_BLOCK)
            if np.array_equal(settled, wanted):
                break
            wanted = settled
        positions = np.empty(len(records), dtype=np.int64)
        todo = np.arange(len(records))
        fd = fh.fileno()
        while len(todo):
            blocks = np.searchsorted(self.index, wanted[todo], side="left") - 1
            unique = np.unique(blocks)
            parts = [os.pread(fd, LINE_BLOCK, block * LINE_BLOCK) for block in unique.tolist()]
            base = np.cumsum([0, *map(len, parts)])
            breaks = np.flatnonzero(np.frombuffer(b"".join(parts), np.uint8) == ord("\n"))
            first = np.searchsorted(breaks, base[:-1])  # each block's first line break
            at = np.searchsorted(unique, blocks)
            nth = first[at] + wanted[todo] - self.index[blocks] - 1
            found = unique[at] * LINE_BLOCK + breaks[nth] - base[at]
            after = records[todo] + 1 + np.searchsorted(quoted, found, side="right")
            done = after == wanted[todo]
            positions[todo[done]] = found[done]
            wanted[todo[~done]] = after[~done]
            todo = todo[~done]
        return positions

    def record_at(self, fh, position: int) -> int:
        """The record number (header = 0) of the record that starts at byte `position`."""
        block = position // LINE_BLOCK
        fh.seek(block * LINE_BLOCK)
        line = int(self.index[block]) + fh.read(position - block * LINE_BLOCK).count(b"\n")
        return line - bisect.bisect_left(self.quoted, position)


class _LineCounter:
    """Feeds chunks of a file; builds its TextLines (numpy: it runs beside the hashing)."""

    def __init__(self):
        self.blocks: list[np.ndarray] = []  # line breaks per block, chunk by chunk
        self.quoted: list[np.ndarray] | None = []  # line breaks inside quotes, chunk by chunk
        self.quotes, self.offset, self.last = 0, 0, b""

    def feed(self, chunk: bytes) -> None:
        data = np.frombuffer(chunk, np.uint8)
        breaks = data == ord("\n")
        # Chunks are whole blocks (CHUNK is a multiple of LINE_BLOCK) except the last.
        self.blocks.append(_block_counts(breaks))
        if self.quoted is not None:
            # A memchr first: most exports quote nothing, and a chunk without a quote
            # needs no quote positions (numpy's comparison reads every byte again).
            quotes = _sparse_positions(data == ord('"')) if b'"' in chunk else _NONE
            if len(quotes) or self.quotes % 2:
                inside = _quoted_breaks(breaks, quotes, self.quotes % 2)
                self.quoted.append(inside + self.offset)
            self.quotes += len(quotes)
            if self.quotes > MAX_QUOTES:
                self.quoted = None
        self.offset += len(chunk)
        self.last = chunk[-1:] or self.last

    def result(self) -> TextLines:
        counts = np.concatenate([[0], *self.blocks]).astype(np.int64)
        index = np.cumsum(counts)
        lines = int(index[-1]) + (self.last not in (b"\n", b""))
        quoted = None
        if self.quoted is not None and self.quotes % 2 == 0:
            quoted = tuple(np.concatenate([np.empty(0, np.int64), *self.quoted]).tolist())
        return TextLines(lines, index, quoted)


def _block_counts(breaks: np.ndarray) -> np.ndarray:
    """Line breaks per LINE_BLOCK bytes, from a chunk's line-break mask (one per byte)."""
    # One bit per byte and a popcount per 64 bytes: a third of the time of listing every
    # line break's position and counting them per block (10 M tickets: 0.22 s, 0.51 s).
    bits = np.packbits(breaks)
    per_block = LINE_BLOCK // 8
    if len(bits) % per_block:  # a short last chunk: its last block filled with zeros
        bits = np.pad(bits, (0, -len(bits) % per_block))
    words = np.bitwise_count(bits.view(np.uint64))
    return words.reshape(-1, per_block // 8).sum(axis=1, dtype=np.int64)


_NONE = np.empty(0, np.int64)


def _sparse_positions(mask: np.ndarray) -> np.ndarray:
    """Where a mask with few True values is True (np.flatnonzero, faster when sparse)."""
    # Eight bytes of the mask at a time: only the words with a hit are looked into, where
    # flatnonzero visits every byte (the quotes of a 10 M-ticket export: 0.37 s → 0.10 s).
    whole = len(mask) // 8 * 8
    words = np.flatnonzero(mask[:whole].view(np.uint64) != 0)
    candidates = (words[:, None] * 8 + np.arange(8)).ravel()
    tail = np.flatnonzero(mask[whole:]) + whole
    return np.concatenate([candidates[mask[candidates]], tail])


def _quoted_breaks(breaks: np.ndarray, quotes: np.ndarray, inside: int) -> np.ndarray:
    """Positions of the line breaks inside quotes, in a chunk that starts `inside` or not.

    A quote opens a field and the next closes it ("" inside a field is two of them, the
    same toggle), so the quoted stretches lie between every other quote. They are short
    in an export: only their bytes are searched, not every line break of the chunk.
    """
    edges = np.concatenate([np.zeros(inside, np.int64), quotes])
    if len(edges) % 2:
        edges = np.append(edges, len(breaks))  # the chunk ends inside quotes
    starts, ends = edges[0::2], edges[1::2]
    lengths = ends - starts
    total = int(lengths.sum())
    if total > len(breaks) // 8:
        # Long stretches (every field quoted): one test per line break is cheaper.
        at = np.flatnonzero(breaks)
        return at[(np.searchsorted(quotes, at) + inside) % 2 == 1]
    first = np.cumsum(lengths) - lengths  # where each stretch starts in `stretch`
    stretch = np.repeat(starts - first, lengths) + np.arange(total)
    return stretch[breaks[stretch]]


def _scan_bytes(fh, digest, counter: _LineCounter | None, name: str) -> None:
    """Hash the file (and index its line breaks); the hash runs in a thread of its own.

    hashlib and numpy release the GIL on large buffers, so the two passes share the read
    and take the time of the slower one on two cores.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashing = None
        while chunk := fh.read(CHUNK):
            if hashing is not None:
                hashing.result()  # the digest needs the chunks in order
            hashing = pool.submit(digest.update, chunk)
            if counter is not None:
                if b"\x00" in chunk:
                    raise FileRefused(f"{name} ist keine Textdatei (enthält Binärdaten).")
                counter.feed(chunk)
        if hashing is not None:
            hashing.result()


def text_lines(path: Path) -> TextLines:
    """The TextLines of a file, in a pass of its own (for a transcoded copy)."""
    counter = _LineCounter()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            counter.feed(chunk)
    return counter.result()


@dataclass(frozen=True)
class FileInfo:
    """Format and content hash of an export, learnt in one pass over its bytes."""

    name: str
    format: str  # 'csv' or 'xlsx'
    content_hash: str
    text: TextLines | None = None  # where the line breaks are, for a CSV file


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
    counter = _LineCounter() if kind == "csv" else None
    with open(path, "rb") as fh:
        _scan_bytes(fh, digest, counter, path.name)
    text = counter.result() if counter is not None else None
    return FileInfo(path.name, kind, digest.hexdigest(), text)


def read_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    info: FileInfo,
    layout: Layout,
    select: str,
    params: Sequence = (),
) -> Reading:
    """Read an inspected export and type its records with `select` (see the module docstring)."""
    if info.format == "xlsx":
        _read_xlsx(con, Path(path), layout)
        return _type_scan(con, select, params, "xlsx", "padded")
    return _read_csv(con, Path(path), layout, info.text, (select, list(params)))


@dataclass
class Reading:
    """How a file's records were read: encoding, numbering, and where their text is kept."""

    encoding: str
    read: str  # "padded", "in order" or "numbered" (see `_number`)
    # Set when the parallel reader typed the records straight from the file: no text was
    # kept, the few records that need it are read again from the file (`_FileSource`).
    source: _FileSource | None = None

    def keep_text(self, con, positions_sql: str) -> None:
        """`raw_text`: the text of the records at these positions only; free the rest.

        After validation only rejected records are shown with their text; the whole
        file's text (about 200 bytes a record) would otherwise stay in memory through
        the insert.
        """
        if self.source is None or not self.source.fetch_text(con, positions_sql):
            con.execute(
                "CREATE OR REPLACE TEMP TABLE kept_text AS "
                f"SELECT * FROM raw_text WHERE pos IN ({positions_sql})"
            )
        con.execute("CREATE OR REPLACE TEMP VIEW raw_text AS SELECT * FROM kept_text")
        # (`scan_steps` and `scan_bad` stay: the record numbers in `typed` need them.)
        con.execute("DROP VIEW IF EXISTS raw; DROP TABLE IF EXISTS scan")


class _NotUtf8(Exception):
    pass


def _read_csv(
    con, path: Path, layout: Layout, text: TextLines | None, typing: tuple[str, list]
) -> Reading:
    """Read as UTF-8 (with or without BOM); when that fails, as Windows-1252."""
    # DuckDB checks UTF-8 while it reads, so a UTF-8 file (the common case) is read once;
    # only a file that is not UTF-8 is checked and transcoded here.
    try:
        return _read_csv_as(con, path, "utf-8", layout, text, typing)
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
    return _read_csv_as(con, path, "cp1252", layout, None, typing)


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


def _read_csv_as(
    con, path: Path, encoding: str, layout: Layout, text: TextLines | None, typing
) -> Reading:
    header = _first_record(path, encoding)
    if len(header) < 2:
        raise FileRefused(
            f"{path.name} ist keine CSV-Datei mit ';' als Trennzeichen "
            "(die Kopfzeile hat nur eine Spalte)."
        )
    positions = map_header(header, layout.fields, layout.required, layout.labels)
    n, fields = len(header), tuple(layout.fields)
    if encoding == "utf-8":
        # The common case: the parallel reader types the records as it reads them, and the
        # file's text is never stored (the few records that need it are read again).
        source = _FileSource(path, n, text or text_lines(path), positions, fields)
        read = _type_parallel(con, source, typing)
        if read is not None:
            return Reading(encoding, read, source)
    read = "padded"
    with _utf8_copy(path, encoding) as utf8_path:
        try:
            if utf8_path != path:
                # The transcoded copy is gone after this: its text is kept in `scan`.
                read = _scan_parallel(con, utf8_path, n, text_lines(utf8_path)) or "padded"
            if read == "padded":
                _scan_with_duckdb(con, utf8_path, n)
        except duckdb.Error as exc:
            if "Invalid unicode" in str(exc):
                raise _NotUtf8 from None
            # DuckDB's fast reader gives up on some malformed files (e.g. far too many
            # fields in a record); Python's csv module reads anything, only slower.
            try:
                _scan_with_python(con, utf8_path, n)
            except UnicodeDecodeError:
                raise _NotUtf8 from None
            read = "padded"
    _project(con, positions, n, fields, read)
    return _type_scan(con, *typing, encoding, read)


def _type_scan(con, select: str, params: list, encoding: str, read: str) -> Reading:
    """Type the records of `scan` (through the view `raw`) into `typed_rows`."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE typed_rows AS {select}", params)
    _define_typed(con, read)
    return Reading(encoding, read)


def _define_typed(con, read: str) -> None:
    """The view `typed`: each typed row with its position (`pos`) and record number."""
    joins, record = _numbering(read, "t")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW typed AS SELECT t.rowid AS pos, {record} AS record, t.* "
        f"FROM typed_rows t {joins}"
    )


def _numbering(read: str, alias: str) -> tuple[str, str]:
    """(joins, record number) of the row at position `alias.rowid`, for a way of reading."""
    if read != "numbered":
        return "", f"{alias}.rowid + 1"
    joins = (
        f"LEFT JOIN scan_steps k ON k.bucket = {alias}.rowid // {STEP_BUCKET} "
        f"LEFT JOIN scan_bad b ON b.pos = {alias}.rowid"
    )
    record = (
        f"coalesce(b.record, {alias}.rowid + 1 + coalesce(k.base, 0) + CASE WHEN k.inner IS "
        f"NULL THEN 0 ELSE len(list_filter(k.inner, lambda x: x <= {alias}.rowid)) END)"
    )
    return joins, record


def _selected(positions: dict[str, int], fields: Iterable[str], alias: str) -> str:
    """The mapped fields of a scan row as columns named after the fields."""
    return ", ".join(
        f"{alias}.c{positions[f]} AS {f}" if f in positions else f"NULL::VARCHAR AS {f}"
        for f in fields
    )


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


# The parallel reader sets aside records with the wrong number of fields; it accepts
# nothing else it could not read exactly (any other error falls back to the serial reader).
FIELD_COUNT_ERRORS = ("MISSING COLUMNS", "TOO MANY COLUMNS")


def _strict_read(n: int, source: str, parallel: bool = True) -> str:
    """DuckDB's strict reader over `source` (SQL), every field as text. In parallel, it
    sets records with the wrong field count aside in `scan_errors`; serially, it fails."""
    struct = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n)) + "}"
    options = (
        "parallel=true, ignore_errors=true, store_rejects=true, rejects_table='scan_errors', "
        "rejects_scan='scan_files'"
        if parallel
        else "parallel=false"
    )
    return (
        f"read_csv({source}, delim=';', quote='\"', escape='\"', header=false, skip=1, "
        f"auto_detect=false, strict_mode=true, nullstr='\x01', columns={struct}, {options})"
    )


def _scan_parallel(con, path: Path, n: int, lines: TextLines) -> str | None:
    """Read into `scan` with DuckDB's parallel reader: "in order" or "numbered" (see
    `_number`), None when only the serial reader can be exact.

    The records with the wrong field count follow the others in `scan`, with no text: such
    a record is rejected for that alone, and its text is never shown.
    """
    sql = f"CREATE OR REPLACE TEMP TABLE scan AS SELECT * FROM {_strict_read(n, '?')}"
    if not _run_parallel(con, sql, [str(path)]):
        return None
    good = con.execute("SELECT count(*) FROM scan").fetchall()[0][0]
    read = _number(con, path, lines, good)
    if read == "numbered":
        con.execute(
            f"INSERT INTO scan SELECT {', '.join('NULL' for _ in range(n))} FROM scan_bad "
            "ORDER BY pos"
        )
    return read


def _run_parallel(con, sql: str, params: Sequence) -> bool:
    """Run a statement over `_strict_read`; False when the parallel reader gave up."""
    con.execute("DROP TABLE IF EXISTS scan_errors; DROP TABLE IF EXISTS scan_files")
    try:
        con.execute(sql, params)
    except duckdb.Error as exc:
        con.execute("DROP TABLE IF EXISTS scan_errors; DROP TABLE IF EXISTS scan_files")
        if "Invalid unicode" in str(exc):
            raise _NotUtf8 from None
        return False
    return True


def _type_parallel(con, source: _FileSource, typing: tuple[str, list]) -> str | None:
    """Type the records into `typed_rows` as the parallel reader reads them from the file;
    None when only the serial reader can number them exactly (nothing is left behind).

    The records with the wrong field count follow the others, with their field count and
    no values: such a record is rejected for that alone.
    """
    select, params = typing
    n = source.n
    # A view cannot hold a parameter: the path reaches it as a variable.
    con.execute("SET VARIABLE tc_source = ?", [str(source.path)])
    reader = _strict_read(n, "getvariable('tc_source')")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW raw AS SELECT {n} AS n_fields, {n} AS expected_fields, "
        f"{_selected(source.positions, source.fields, 's')} FROM {reader} s"
    )
    try:
        if not _run_parallel(con, f"CREATE OR REPLACE TEMP TABLE typed_rows AS {select}", params):
            return None
    finally:
        con.execute("DROP VIEW IF EXISTS raw; RESET VARIABLE tc_source")
    good = con.execute("SELECT count(*) FROM typed_rows").fetchall()[0][0]
    try:
        read = _number(con, source.path, source.lines, good)
    except _NotUtf8:
        con.execute("DROP TABLE typed_rows")
        raise
    if read is None:
        con.execute("DROP TABLE typed_rows")
        return None
    if read == "numbered":
        # No values to type: such a record is suspect for its field count alone, and the
        # typing pass would cost its planning time (about 0.1 s) once more.
        con.execute(
            "INSERT INTO typed_rows BY NAME SELECT b.n_fields, ? AS expected_fields, "
            "true AS suspect FROM scan_bad b ORDER BY b.pos",
            [n],
        )
    _define_typed(con, read)
    return read


# Beyond this many records to show, reading the whole file once more costs less than
# finding each record's bytes.
FETCH_LIMIT = 100_000


@dataclass(frozen=True)
class _FileSource:
    """A UTF-8 export typed by the parallel reader, which kept none of its text."""

    path: Path
    n: int
    lines: TextLines
    positions: dict[str, int]
    fields: tuple[str, ...]

    def fetch_text(self, con, positions_sql: str) -> bool:
        """`kept_text`: the text of the records at these positions, read from their bytes.

        False when it read the whole file again instead (too many records, or not where
        the line index says): then `raw_text` holds every record's text.
        """
        rows = con.execute(
            "SELECT pos, record, n_fields = expected_fields FROM typed "
            f"WHERE pos IN ({positions_sql}) ORDER BY record"
        ).fetchall()
        whole = [(pos, record) for pos, record, complete in rows if complete]
        if len(whole) <= FETCH_LIMIT and self._fetch(con, [record for _, record in whole]):
            # A record with the wrong number of fields keeps no text (`_type_parallel`).
            nulls = ", ".join(f"NULL::VARCHAR AS {f}" for f in self.fields)
            selected = _selected(self.positions, self.fields, "f")
            con.execute(
                "CREATE OR REPLACE TEMP TABLE kept_text AS "
                f"SELECT (?::BIGINT[])[f.rowid + 1] AS pos, {selected} FROM fetched f "
                f"UNION ALL SELECT unnest(?::BIGINT[]) AS pos, {nulls}",
                [[pos for pos, _ in whole], [pos for pos, _, complete in rows if not complete]],
            )
            con.execute("DROP TABLE fetched")
            return True
        # The same reader gives the same rows at the same positions.
        read = _scan_parallel(con, self.path, self.n, self.lines)
        count = "SELECT (SELECT count(*) FROM scan) = (SELECT count(*) FROM typed_rows)"
        if read is None or not con.execute(count).fetchall()[0][0]:
            raise RuntimeError(f"{self.path.name}: second read differs from the first")
        _project(con, self.positions, self.n, self.fields, read)
        return False

    def _fetch(self, con, records: list[int]) -> bool:
        """`fetched`: these records (in order) read from their bytes; False if they do not
        read back one row each."""
        try:
            data = self._bytes(records)
        except (IndexError, OSError):
            return False
        fd, name = tempfile.mkstemp(suffix=".csv", prefix="tc-records-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE fetched AS "
                f"SELECT * FROM {_strict_read(self.n, '?', parallel=False)}",
                [name],
            )
        except duckdb.Error:
            return False
        finally:
            os.unlink(name)
        return con.execute("SELECT count(*) FROM fetched").fetchall()[0][0] == len(records)

    def _bytes(self, records: list[int]) -> bytes:
        """The file's header and these records, byte for byte, as a file of their own."""
        # A record runs from the end of the one before it to its own end (the last record
        # of the file to the end of the file).
        bounds = sorted(
            {0, *(r - 1 for r in records), *(r for r in records)} - {self.lines.records}
        )
        with open(self.path, "rb") as fh:
            ends = dict(zip(bounds, (self.lines.record_ends(fh, bounds) + 1).tolist(), strict=True))
            out = []
            for start, end in [(0, ends.get(0)), *((ends[r - 1], ends.get(r)) for r in records)]:
                fh.seek(start)
                part = fh.read() if end is None else fh.read(end - start)
                out.append(part if part.endswith(b"\n") else part + b"\n")
        return b"".join(out)


def _number(con, path: Path, lines: TextLines, good: int) -> str | None:
    """How the parallel reader's rows are numbered, from its rejects table `scan_errors`.

    "in order": row k is record k + 1. "numbered": records with the wrong field count were
    set aside; their numbers and field counts are in `scan_bad` (they follow the `good`
    rows read), and `scan_steps` shifts the others. None: the reader did something only
    the serial reader can number exactly.

    The parallel reader cannot pad short records when fields contain line breaks, so
    records with the wrong field count go to its rejects table instead. Their record
    numbers follow from their byte positions: line breaks before, minus those inside
    quotes (`TextLines`).
    """
    try:
        errors = con.execute(
            "SELECT line_byte_position, any_value(error_type), any_value(csv_line) "
            "FROM scan_errors GROUP BY line_byte_position ORDER BY line_byte_position"
        ).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS scan_errors; DROP TABLE IF EXISTS scan_files")
    if any(kind == "INVALID UNICODE" for _, kind, _ in errors):
        raise _NotUtf8
    if any(kind not in FIELD_COUNT_ERRORS for _, kind, _ in errors):
        return None
    if lines.quoted is None or good + len(errors) != lines.records:
        # Records the reader skipped (blank lines) or quotes it read otherwise: it could
        # not have numbered the records as the serial reader does.
        return None
    if not errors:
        return "in order"  # the position is the record number
    rejected = []  # (record number, field count)
    with open(path, "rb") as fh:
        for position, _, text in errors:
            # The rejects table may show a record with the line break before it, and its
            # byte position is off by one after a bare "\n": the record starts where its
            # first line stands right after a line break, next to that position.
            text = text.lstrip("\r\n").rstrip("\r\n")
            first = text.encode().split(b"\n", 1)[0]
            low = max(position - 3, 0)
            fh.seek(low)
            window = fh.read(position + 3 - low + len(first))
            starts = [
                low + i
                for i in range(len(window) - len(first) + 1)
                if window.startswith(first, i) and (low + i == 0 or window[i - 1 : i] == b"\n")
            ]
            records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=False))
            if len(starts) != 1 or len(records) != 1 or (low == 0 and starts[0] == 0):
                return None  # not where the reader says it is
            rejected.append((lines.record_at(fh, starts[0]), len(records[0])))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE scan_bad AS SELECT ? + i - 1 AS pos, "
        "(?::BIGINT[])[i] AS record, (?::BIGINT[])[i] AS n_fields FROM range(1, ? + 1) r(i)",
        [good, [r for r, _ in rejected], [f for _, f in rejected], len(rejected)],
    )
    _record_steps(con, good, [r for r, _ in rejected])
    return "numbered"


STEP_BUCKET = 1 << 12  # rows per bucket of the record-number steps


def _record_steps(con, good: int, bad: list[int]) -> None:
    """`scan_steps`: how far the records read are shifted by the records set aside before them.

    The record read at position k has number k + 1 + #{i: bad_i - i <= k} (i from 1). That
    count is a step function of k, kept per bucket of 4,096 positions: the steps before
    the bucket (`base`) and the few inside it (`inner`), so an equi-join finds it in
    parallel (a positional join, or an ASOF join, would serialise or sort the table).
    """
    thresholds = [record - i for i, record in enumerate(bad, start=1)]
    buckets, bases, inners = [], [], []
    at = 0
    for bucket in range(good // STEP_BUCKET + 1):
        end = (bucket + 1) * STEP_BUCKET
        inner = []
        base = at
        while at < len(thresholds) and thresholds[at] < end:
            inner.append(thresholds[at])
            at += 1
        if base or inner:
            buckets.append(bucket)
            bases.append(base)
            inners.append(inner or None)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE scan_steps AS SELECT unnest(?::BIGINT[]) AS bucket, "
        "unnest(?::BIGINT[]) AS base, unnest(?::BIGINT[][]) AS inner",
        [buckets, bases, inners],
    )


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


def _project(
    con, positions: dict[str, int], n: int, fields: Iterable[str], read: str = "padded"
) -> None:
    """Define the views `raw` and `raw_text` over `scan`.

    `raw`: the position in `scan` (`pos`), record number, field count and the mapped
    fields, read once to type the values; `raw_text`: position and fields only, for the
    few records whose text is needed later (joined by `pos`, nothing computed per row).
    `read` says how `scan` was filled: "padded" (serial reader or Python: overflow
    columns, NULL for missing fields), "in order" or "numbered" (`_scan_parallel`).
    """
    selected = _selected(positions, fields, "s")
    joins, record = _numbering(read, "s")
    n_fields = str(n)
    if read == "numbered":
        n_fields = f"coalesce(b.n_fields, {n})"
    elif read == "padded":
        cols = _scan_columns(n)
        regular, overflow = cols[:n], cols[n:]
        # Field count of a record: the header's count, minus trailing fields DuckDB padded
        # with NULL, plus fields that spilled into the overflow columns. Only a record whose
        # last field is missing or whose first overflow field is present can be off, so the
        # full count is computed for those alone.
        present = " + ".join(f"(s.{c} IS NOT NULL)::INT" for c in regular)
        extra = " + ".join(
            f"(CASE WHEN s.{c} IS NULL THEN 0 WHEN s.{c} LIKE '\x02%' "
            f"THEN length(s.{c}) ELSE 1 END)"
            for c in overflow
        )
        n_fields = (
            f"CASE WHEN s.{regular[-1]} IS NULL OR s.{overflow[0]} IS NOT NULL "
            f"THEN ({present}) + ({extra}) ELSE {n} END"
        )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW raw AS SELECT s.rowid AS pos, {record} AS record, "
        f"{n_fields} AS n_fields, {n} AS expected_fields, {selected} FROM scan s {joins}"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW raw_text AS SELECT s.rowid AS pos, {selected} FROM scan s"
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
