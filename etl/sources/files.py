"""Readers for the drop folder: one entry point, ``read_file``, for every accepted format.

``read_file`` checks what it can before returning (existence of a supported extension, encoding and binary content
of text files, the header and the first chunk), so most file-level problems raise ``FileRejected`` from the call
itself. A few can only show up later, while iterating: a corrupt part deep inside an XLSX, a file that changed
while it was read, a CSV field longer than the csv module's limit in a file that needed the slow path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from etl.sources.base import DATASETS, FileRejected, RawChunk
from etl.sources.delimited import read_delimited
from etl.sources.jsonrecords import read_json_array, read_json_lines
from etl.sources.landing import LandingFile, detect_dataset, list_landing_files
from etl.sources.xlsx import read_xlsx

__all__ = [
    "DATASETS",
    "FileRejected",
    "LandingFile",
    "RawChunk",
    "SUPPORTED_EXTENSIONS",
    "detect_dataset",
    "file_sha256",
    "list_landing_files",
    "read_file",
]

_TEXT = {".csv": None, ".txt": None, ".tsv": "\t"}
_XLSX = {".xlsx", ".xlsm"}
_JSON = {".json"}
_JSONL = {".jsonl", ".ndjson"}
SUPPORTED_EXTENSIONS: tuple[str, ...] = (*_TEXT, *sorted(_XLSX), *_JSON, *sorted(_JSONL))
_MAGIC = {
    b"PK\x03\x04": "an Excel workbook or another zip archive",
    b"\xd0\xcf\x11\xe0": "an old Excel 97-2003 workbook (.xls)",
}


def read_file(path: Path, *, sheet: str | None = None, chunk_rows: int = 50_000) -> Iterator[RawChunk]:
    """Chunks of at most ``chunk_rows`` rows of a CSV/TXT/TSV, XLSX, JSON array or JSON lines file.

    Raises ``FileRejected`` (before returning, when it can be detected up front) for a file that cannot be loaded
    at all; rows that are merely malformed come back with a reason in ``RawChunk.problems``. Operating-system
    errors (the file vanished, permission denied) propagate as ``OSError``.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        shown = f"'{ext}'" if ext else "(no extension)"
        raise FileRejected(f"unsupported file type {shown}; expected one of {', '.join(SUPPORTED_EXTENSIONS)}")
    if path.stat().st_size == 0:
        raise FileRejected("the file is empty (0 bytes)")
    if ext in _XLSX:
        chunks = read_xlsx(path, sheet=sheet, chunk_rows=chunk_rows)
    else:
        _refuse_known_binary(path)
        if ext in _TEXT:
            chunks = read_delimited(path, delimiter=_TEXT[ext], chunk_rows=chunk_rows)
        elif ext in _JSON:
            chunks = read_json_array(path, chunk_rows=chunk_rows)
        else:
            chunks = read_json_lines(path, chunk_rows=chunk_rows)
    first = next(chunks, None)  # runs the header and first-chunk checks now, not at the caller's first next()
    if first is None:  # pragma: no cover - every reader raises instead
        raise FileRejected("the file has no data rows")
    return _resume(first, chunks)


def _resume(first: RawChunk, rest: Iterator[RawChunk]) -> Iterator[RawChunk]:
    yield first
    yield from rest


def _refuse_known_binary(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(8)
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise FileRejected(f"the file looks binary, not text: it is {what}; check the file name extension")


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
