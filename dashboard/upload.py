"""Loading uploaded export files with the real ETL (the upload of the Daten page).

The uploaded bytes are written under their original file name into a private temporary
directory (one sub-directory per file, so two uploads of the same name both keep it) and
handed to `etl.load.load_files`, exactly as `ticket-controlling load` would, but in a child
process with an address-space limit (`LOAD_MEMORY_MB`): a file crafted to explode in
memory ends that process, not the dashboard every user works in, and leaves the database
as it was (a load swaps its file in only when complete). No Streamlit here: the page passes
a progress callback and shows the results.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from dashboard.access.viewer import Viewer, may
from dashboard.core import records
from dashboard.core.config import REQUIRED_ABSENCE_FIELDS, Config
from etl.load import LoadResult, Progress
from etl.sources import check_workbook

ALLOWED_SUFFIXES = (".csv", ".xlsx")
# A month's export of a large Jobcenter is a few MB; 50 MB hold about 300,000 tickets.
# Larger files (a whole history) go through `ticket-controlling load`. The same limit is
# Streamlit's server.maxUploadSize (.streamlit/config.toml), so nothing larger is accepted.
MAX_UPLOAD_MB = 50
# Address space of the child process that loads (Python, DuckDB, pandas and the file).
LOAD_MEMORY_MB = 3072
LOAD_TIMEOUT_SECONDS = 15 * 60
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
KINDS = ("auto", "tickets", "absences")
XLSX_MAGIC = b"PK\x03\x04"
HEADER_BYTES = 64 * 1024  # the header line of any sensible export fits

Upload = tuple[str, bytes | BinaryIO]  # (original file name, content)


class UploadFailed(Exception):
    """The whole load failed (database or key file); nothing changed. German message."""


def safe_name(name: str) -> str:
    """The file name without any directory part (an upload must not choose where it lands)."""
    base = Path(str(name).replace("\\", "/")).name.strip()
    return base if base not in ("", ".", "..") else "upload"


def check_upload(name: str, size: int, head: bytes = b"") -> str | None:
    """Why an upload is not even handed to the loader (German), or None when it may be.

    `head` is the start of the file: its content must fit its extension (an .xlsx is a
    ZIP archive, a .csv is text without NUL bytes), whatever the browser claimed.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        return (
            f"{name} hat keine erlaubte Endung; bitte eine CSV- (.csv) oder Excel-Datei "
            "(.xlsx) hochladen."
        )
    if size > MAX_UPLOAD_BYTES:
        return f"{name} ist größer als {MAX_UPLOAD_MB} MB und wird nicht geladen."
    if suffix == ".xlsx" and not head.startswith(XLSX_MAGIC):
        return f"{name} ist keine Excel-Datei (.xlsx), obwohl die Endung es sagt."
    if suffix == ".csv" and (head.startswith(XLSX_MAGIC) or b"\x00" in head):
        return f"{name} ist keine Textdatei; eine CSV-Datei muss Text sein."
    return None


def _header(path: Path) -> list[str]:
    """The first record of an export (CSV or XLSX), for recognising its kind; [] if unreadable."""
    with open(path, "rb") as fh:
        head = fh.read(HEADER_BYTES)
    if head.startswith(XLSX_MAGIC):
        try:
            from openpyxl import load_workbook

            check_workbook(path)  # never unpack a zip bomb, not even for its header
            workbook = load_workbook(path, read_only=True, data_only=True)
            try:
                row = next(workbook.worksheets[0].iter_rows(max_row=1, values_only=True), ())
            finally:
                workbook.close()
        except Exception:  # a damaged workbook: the loader gives the proper message
            return []
        return [str(v) for v in row if v is not None]
    for encoding in ("utf-8", "cp1252"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the buffer is no encoding error.
            if encoding == "utf-8" and exc.start >= len(head) - 3:
                text = head[: exc.start].decode(encoding)
            else:
                continue
        text = text.removeprefix(codecs.BOM_UTF8.decode("utf-8"))
        try:
            return next(csv.reader(io.StringIO(text), delimiter=";", quotechar='"'), [])
        except csv.Error:
            return []
    return []


def detect_kind(path: Path, config: Config) -> str:
    """'absences' when the header has the absence columns and no Ticket-ID, else 'tickets'."""
    names = {str(h).strip().lower() for h in _header(path)}
    export = config.export
    is_absence = all(
        names & set(export.header_names(f, absence=True)) for f in REQUIRED_ABSENCE_FIELDS
    )
    has_ticket_id = bool(names & set(export.header_names("ticket_id")))
    return "absences" if is_absence and not has_ticket_id else "tickets"


def _save(directory: Path, name: str, content: bytes | BinaryIO) -> Path:
    directory.mkdir()
    path = directory / name
    with open(path, "wb") as out:
        if isinstance(content, bytes | bytearray | memoryview):
            out.write(content)
        else:
            content.seek(0)
            shutil.copyfileobj(content, out, length=1 << 22)
    return path


def load_uploads(
    config: Config,
    uploads: Sequence[Upload],
    kind: str = "auto",
    progress: Progress | None = None,
    *,
    who: Viewer,
) -> list[LoadResult]:
    """Load uploaded files as tickets or absences ('auto': recognised by the header).

    One result per upload, in upload order: files with a wrong extension or too large are
    refused here (`refused` holds the German reason), the others go through
    `etl.load.load_files` in one call (so they become visible together). A failure of the
    whole load raises `UploadFailed`, as does an uploader whose role may not load data.
    Every loaded file is written to the audit log.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind: {kind}")
    if not may(who, "upload"):
        raise UploadFailed("Nur die Administration darf Exporte laden.")
    results: list[LoadResult | None] = [None] * len(uploads)
    with tempfile.TemporaryDirectory(prefix="tc-upload-") as tmp:  # mode 0700
        jobs: dict[str, list[tuple[int, Path]]] = {"tickets": [], "absences": []}
        for i, (name, content) in enumerate(uploads):
            name = safe_name(name)
            path = _save(Path(tmp) / str(i), name, content)
            with open(path, "rb") as fh:
                head = fh.read(HEADER_BYTES)
            refused = check_upload(name, path.stat().st_size, head)
            file_kind = detect_kind(path, config) if kind == "auto" else kind
            if refused:
                results[i] = LoadResult(name, file_kind, refused=refused)
            else:
                jobs[file_kind].append((i, path))
        if jobs["tickets"] or jobs["absences"]:
            loaded = load_in_child(
                config,
                [p for _, p in jobs["tickets"]],
                [p for _, p in jobs["absences"]],
                progress,
            )
            # load_files returns the tickets first, then the absences, each in given order.
            for (i, _), result in zip(jobs["tickets"] + jobs["absences"], loaded, strict=True):
                results[i] = result
            with records.transaction(config) as con:
                for result in loaded:
                    records.audit(con, who.who, "Ladevorgang", f"Upload: {result.summary()}")
    if progress:
        progress("Fertig", 1.0)
    return [r for r in results if r is not None]


def load_in_child(
    config: Config,
    tickets: list[Path],
    absences: list[Path],
    progress: Progress | None = None,
    memory_mb: int = LOAD_MEMORY_MB,
    timeout: float = LOAD_TIMEOUT_SECONDS,
) -> list[LoadResult]:
    """`load_files` in a child process limited to `memory_mb` of address space."""
    # A fresh interpreter (not multiprocessing): Streamlit runs the page as __main__, which
    # a spawned child would run again; and fork would copy the sessions' threads.
    child = subprocess.Popen(
        [sys.executable, "-m", "dashboard.upload_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    child.stdin.write(pickle.dumps((config, tickets, absences, memory_mb)))
    child.stdin.close()
    timer = threading.Timer(timeout, child.kill)  # a load that hangs ends too
    timer.start()
    try:
        for line in child.stdout:
            kind, payload = json.loads(line)
            if kind == "progress" and progress:
                progress(*payload)
            elif kind == "done":
                return [LoadResult(**fields) for fields in payload]
            elif kind == "failed":
                raise UploadFailed(payload)
    finally:
        timer.cancel()
        child.stdout.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    raise UploadFailed(
        f"Der Ladevorgang wurde abgebrochen (mehr als {memory_mb} MB Arbeitsspeicher oder "
        f"länger als {int(timeout // 60)} Minuten); die Daten sind unverändert. Sehr große "
        "Dateien bitte mit `ticket-controlling load` laden."
    )
