"""XLSX reader: openpyxl in read-only, values-only mode, one sheet, streamed in chunks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from openpyxl import load_workbook

from etl.sources.base import FileRejected, RawChunk, clean_headers, field_count_problem, frame_from_rows

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"


def cell_text(value: Any) -> str:
    """A cell value as text: ISO dates, "12" for a whole float, "" for an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, dt.datetime):
        value = _round_second(value)
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.replace(tzinfo=None).isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        stamp = _round_second(dt.datetime.combine(dt.date(2000, 1, 1), value.replace(tzinfo=None)))
        return stamp.time().isoformat(timespec="seconds")
    if isinstance(value, dt.timedelta):
        seconds = round(value.total_seconds())
        sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
        return f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return str(value)


def number_text(value: float) -> str:
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _round_second(value: dt.datetime) -> dt.datetime:
    # Excel stores times as fractions of a day; 10:30 can come back as 10:29:59.999999.
    if value.microsecond >= 500_000:
        value += dt.timedelta(seconds=1)
    return value.replace(microsecond=0)


def read_xlsx(path: Path, *, sheet: str | None = None, chunk_rows: int = 50_000) -> Iterator[RawChunk]:
    """Chunks of one worksheet: the first one, or ``sheet`` (matched exactly, else ignoring case and spaces).

    The header is the first non-empty row; row numbers are sheet row numbers.
    """
    try:
        wb = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # noqa: BLE001 - zipfile, XML and openpyxl errors all mean the same here
        with open(path, "rb") as fh:
            if fh.read(4) == _OLE2_MAGIC:
                raise FileRejected("the file is an old Excel 97-2003 workbook (.xls); save it as .xlsx") from None
        raise FileRejected(f"the workbook cannot be opened (truncated or corrupt?): {_describe(exc)}") from None
    try:
        ws = _pick_sheet(wb, sheet)
    except FileRejected:
        wb.close()
        raise
    return _rows(wb, ws, max(1, chunk_rows))


def _pick_sheet(wb: Any, sheet: str | None) -> Any:
    if not wb.worksheets:
        raise FileRejected("the workbook has no worksheets")
    if sheet is None:
        return wb.worksheets[0]
    names = [ws.title for ws in wb.worksheets]
    if sheet in names:
        return wb[sheet]
    loose = {name.strip().casefold(): name for name in names}
    if sheet.strip().casefold() in loose:
        return wb[loose[sheet.strip().casefold()]]
    raise FileRejected(f"sheet '{sheet}' not found; the workbook has: {', '.join(names)}")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _width(values: list[str]) -> int:
    for i in range(len(values) - 1, -1, -1):
        if values[i] != "":
            return i + 1
    return 0


def _rows(wb: Any, ws: Any, chunk_rows: int) -> Iterator[RawChunk]:
    headers: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    problems: list[str] = []
    seen = 0
    try:
        ws.reset_dimensions()  # some exporters write a wrong <dimension>, which would cut rows off
        for number, raw in enumerate(ws.iter_rows(values_only=True), start=1):
            values = [cell_text(v) for v in raw]
            width = _width(values)
            if width == 0 or not any(v.strip() for v in values):
                continue
            if headers is None:
                headers = clean_headers(values[:width])
                continue
            m = len(headers)
            problem = field_count_problem(width, m, last=False) if width > m else ""
            values = values[:m] if len(values) >= m else values + [""] * (m - len(values))
            rows.append(values)
            numbers.append(number)
            problems.append(problem)
            if len(rows) >= chunk_rows:
                seen += len(rows)
                yield RawChunk(frame_from_rows(headers, rows), np.asarray(numbers, dtype=np.int64), problems)
                rows, numbers, problems = [], [], []
    except Exception as exc:  # noqa: BLE001 - a corrupt part of the zip or its XML
        raise FileRejected(f"the workbook is corrupt and cannot be read to the end: {_describe(exc)}") from None
    finally:
        wb.close()
    if headers is None:
        raise FileRejected(f"the sheet '{ws.title}' is empty")
    if rows:
        seen += len(rows)
        yield RawChunk(frame_from_rows(headers, rows), np.asarray(numbers, dtype=np.int64), problems)
    if seen == 0:
        raise FileRejected("the file has a header but no data rows")
