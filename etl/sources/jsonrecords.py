"""JSON readers: a JSON array of objects (parsed whole) and JSON lines (streamed, one object per line)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from etl.sources.base import FileRejected, RawChunk, clean_headers, frame_from_columns
from etl.sources.text import detect_encoding, open_utf8, read_text, scan_text
from etl.sources.xlsx import number_text

NOT_AN_OBJECT = "line is not a JSON object"


def json_text(value: Any) -> str:
    """A JSON value as cell text: null -> "", 12 and 12.0 -> "12", nested values as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value)
    return json.dumps(value, ensure_ascii=False)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


class _Columns:
    """Column names: the union of keys, in order of first appearance; only ever grows."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self._known: set[str] = set()

    def add(self, records: Iterable[dict | None]) -> None:
        for record in records:
            if record is None:
                continue
            for key in record:
                if key not in self._known:
                    self._known.add(key)
                    self.keys.append(key)

    def chunk(self, records: list[dict | None], numbers: list[int], problems: list[str]) -> RawChunk:
        if not self.keys:
            frame = frame_from_columns(["value"], [[""] * len(records)])
            return RawChunk(frame, np.asarray(numbers, dtype=np.int64), problems)
        keys, width = self.keys, len(self.keys)
        blank = [None] * width
        rows = []
        for r in records:
            if r is None:
                rows.append(blank)
            elif len(r) == width and list(r) == keys:  # the usual case: same keys, same order
                rows.append(list(r.values()))
            else:
                rows.append([r.get(k) for k in keys])
        columns = [[v if type(v) is str else json_text(v) for v in col] for col in zip(*rows, strict=True)]
        frame = frame_from_columns(clean_headers(keys), columns)
        return RawChunk(frame, np.asarray(numbers, dtype=np.int64), problems)


def records_chunk(records: list[Any], first_row: int = 1) -> RawChunk:
    """Records received from an API as one chunk: the same cell text and problems as a JSON array file."""
    objects = [item if isinstance(item, dict) else None for item in records]
    columns = _Columns()
    columns.add(objects)
    problems = ["" if r is not None else "element is not a JSON object" for r in objects]
    return columns.chunk(objects, list(range(first_row, first_row + len(objects))), problems)


def read_json_array(path: Path, *, chunk_rows: int = 50_000) -> Iterator[RawChunk]:
    """A ``.json`` file: the top level must be an array of objects; row numbers are 1-based element indexes."""
    with open(path, "rb") as fh:
        enc = detect_encoding(fh.read(4096))
    end = scan_text(path, enc)
    try:
        data = json.loads(read_text(path, enc, end))
    except json.JSONDecodeError as exc:
        raise FileRejected(f"the file is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise FileRejected("the file is not usable JSON: it is nested too deeply") from None
    if not isinstance(data, list):
        what = _kind(data)
        if isinstance(data, dict):
            what += f" (keys: {', '.join(list(map(str, data))[:8])})"
        raise FileRejected(f"a .json file must hold an array of objects; its top level is {what}")
    if not data:
        raise FileRejected("the JSON array is empty: the file has no data rows")
    if not any(isinstance(item, dict) for item in data):
        raise FileRejected(f"the JSON array holds no objects (its first element is {_kind(data[0])})")
    return _array_chunks(data, max(1, chunk_rows))


def _array_chunks(data: list[Any], chunk_rows: int) -> Iterator[RawChunk]:
    columns = _Columns()
    columns.add(item for item in data if isinstance(item, dict))
    for start in range(0, len(data), chunk_rows):
        part = data[start : start + chunk_rows]
        records = [item if isinstance(item, dict) else None for item in part]
        problems = ["" if r is not None else "element is not a JSON object" for r in records]
        yield columns.chunk(records, list(range(start + 1, start + 1 + len(part))), problems)


def read_json_lines(path: Path, *, chunk_rows: int = 50_000) -> Iterator[RawChunk]:
    """A ``.jsonl`` / ``.ndjson`` file, streamed. Columns are the keys of the first chunk; keys first seen later
    are appended, so a later chunk can have more columns than an earlier one (never fewer)."""
    with open(path, "rb") as fh:
        enc = detect_encoding(fh.read(4096))
    end = scan_text(path, enc)
    text = io.TextIOWrapper(io.BufferedReader(open_utf8(path, enc, end)), encoding="utf-8")
    try:
        lines = _parsed_lines(text)
        first = next(lines, None)
        if first is None:  # pragma: no cover - scan_text refuses whitespace-only files
            raise FileRejected("the file has no data rows")
        number, record, problem = first
        if record is None:
            raise FileRejected(f"line {number}: {problem}; a .jsonl file holds one JSON object per line")
    except BaseException:
        text.close()
        raise
    return _line_chunks(text, first, lines, max(1, chunk_rows))


def _parsed_lines(text: io.TextIOWrapper) -> Iterator[tuple[int, dict | None, str]]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"line is not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        except RecursionError:
            yield number, None, "line is not usable JSON (nested too deeply)"
            continue
        if isinstance(value, dict):
            yield number, value, ""
        else:
            yield number, None, f"{NOT_AN_OBJECT} (it is {_kind(value)})"


def _line_chunks(
    text: io.TextIOWrapper, first: tuple[int, dict | None, str], lines: Iterator[tuple[int, dict | None, str]],
    chunk_rows: int,
) -> Iterator[RawChunk]:  # fmt: skip
    columns = _Columns()
    records: list[dict | None] = []
    numbers: list[int] = []
    problems: list[str] = []
    try:
        for number, record, problem in _prepend(first, lines):
            records.append(record)
            numbers.append(number)
            problems.append(problem)
            if len(records) >= chunk_rows:
                columns.add(records)
                yield columns.chunk(records, numbers, problems)
                records, numbers, problems = [], [], []
        if records:
            columns.add(records)
            yield columns.chunk(records, numbers, problems)
    except UnicodeDecodeError as exc:  # only if the file changed after the up-front scan
        raise FileRejected(f"the file changed while it was being read ({exc.reason})") from None
    finally:
        text.close()


def _prepend(first: tuple[int, dict | None, str], rest: Iterator[tuple[int, dict | None, str]]) -> Iterator:
    yield first
    yield from rest
