"""XLSX reader: one sheet, streamed in chunks.

openpyxl (read-only, values only) opens the workbook: the sheets, the shared strings, the styles that make a number
a date and the date epoch. The sheet's rows are then read straight from its XML here, cell by cell exactly as
openpyxl's ``iter_rows(values_only=True)`` gives them: its own reader builds objects per cell and per inline
string, and takes 1.5 to 3 times as long on the demo's workbooks (``tests/unit/test_sources_xlsx_fast.py`` compares
both on many workbooks). A sheet openpyxl hands over in another form is read through ``iter_rows``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import iterparse

import numpy as np
from openpyxl import load_workbook
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.xml.constants import SHEET_MAIN_NS

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


_ROW, _VALUE, _INLINE = (f"{{{SHEET_MAIN_NS}}}{tag}" for tag in ("row", "v", "is"))
_DIGITS = "0123456789"
_columns: dict[str, int] = {}


def _column(coordinate: str) -> int:
    """The column number of a cell reference ("AB12" -> 28)."""
    letters = coordinate.rstrip(_DIGITS)
    column = _columns.get(letters)
    if column is None:
        column = _columns[letters] = column_index_from_string(letters)
    return column


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _inline_text(node: Any) -> str:
    """An inline string's text as openpyxl's ``Text.content``: its plain ``<t>``, then every run's ``<t>``."""
    plain: str | None = None
    runs: list[str] = []
    for child in node:
        tag = _local(child.tag)
        if tag == "t":
            plain = child.text
        elif tag == "r":
            text = None
            for part in child:
                if _local(part.tag) == "t":
                    text = part.text
            if text is not None:
                runs.append(text)
    return "".join(runs) if plain is None else plain + "".join(runs)


class _SheetValues:
    """A read-only worksheet's rows as ``(row number, values)``, parsed from its XML the way openpyxl parses a cell
    (``WorkSheetParser.parse_cell``) and pads a row (``ReadOnlyWorksheet._get_row``); rows without cells are left
    out (the reader skips empty rows anyway)."""

    def __init__(self, wb: Any, ws: Any) -> None:
        self.strings = ws._shared_strings
        self.source = ws._get_source
        self.dates = wb._date_formats
        self.durations = wb._timedelta_formats
        self.epoch = wb.epoch

    def value(self, cell: Any) -> Any:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            child = cell.find(_INLINE)
            return None if child is None else _inline_text(child)
        text = cell.findtext(_VALUE, None) or None
        if text is None:
            return None
        if kind == "n":
            number: Any = float(text) if "." in text or "E" in text or "e" in text else int(text)
            style = cell.get("s", 0)
            style = int(style) if style else 0
            if style in self.dates:
                try:
                    return from_excel(number, self.epoch, timedelta=style in self.durations)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return number
        if kind == "s":
            return self.strings[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return from_ISO8601(text)
        return text  # "str" (a formula's text) and "e" (an error such as #N/A)

    def rows(self) -> Iterator[tuple[int, tuple]]:
        expected, number = 1, 0
        with self.source() as source:
            for _, element in iterparse(source):
                if element.tag != _ROW:
                    continue
                given = element.get("r")
                if given is None:
                    number += 1
                else:
                    try:
                        number = int(given)
                    except ValueError:
                        as_float = float(given)
                        if not as_float.is_integer():
                            raise ValueError(f"{given} is not a valid row number") from None
                        number = int(as_float)
                cells: list[tuple[int, Any]] = []
                column = 0
                for cell in element:
                    reference = cell.get("r")
                    column = _column(reference) if reference else column + 1
                    cells.append((column, self.value(cell)))
                element.clear()  # what is left of a row is an empty element: a million rows stay well below 100 MB
                if number < expected:  # a row out of order: openpyxl passes it over
                    continue
                expected = number + 1
                if not cells:
                    continue
                values: list[Any] = [None] * cells[-1][0]
                width = len(values)
                for at, value in cells:
                    if 1 <= at <= width:
                        values[at - 1] = value
                yield number, tuple(values)


def _sheet_rows(wb: Any, ws: Any) -> Iterator[tuple[int, tuple]]:
    ws.reset_dimensions()  # some exporters write a wrong <dimension>, which would cut rows off
    try:
        sheet = _SheetValues(wb, ws)
    except AttributeError:  # not a read-only sheet as openpyxl 3.1 hands it over: its own reader
        return enumerate(ws.iter_rows(values_only=True), start=1)
    return sheet.rows()


def _rows(wb: Any, ws: Any, chunk_rows: int) -> Iterator[RawChunk]:
    headers: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    problems: list[str] = []
    seen = 0
    try:
        for number, raw in _sheet_rows(wb, ws):
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
