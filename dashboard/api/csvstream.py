"""CSV written as a stream of text chunks: UTF-8 with a BOM (so Excel shows Hindi), numbers as plain numbers."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

import pandas as pd

from dashboard.data.filters import Filter

BOM = "\ufeff"


def _cell(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return int(value) if value.is_integer() else round(value, 4)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def _rows_text(rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def frame_rows(frame: pd.DataFrame) -> list[list[object]]:
    return [[None if pd.isna(v) else v for v in row] for row in frame.astype(object).itertuples(index=False)]


def stream_csv(header: Sequence[str], chunks: Iterable[pd.DataFrame]) -> Iterator[str]:
    yield BOM + _rows_text([header])
    for chunk in chunks:
        if not chunk.empty:
            yield _rows_text(frame_rows(chunk))


def stream_rows(header: Sequence[str], batches: Iterable[list[tuple]]) -> Iterator[str]:
    """Rows straight from the database: csv writes None as empty and dates/times via str() (ISO 8601)."""
    yield BOM + _rows_text([header])
    for batch in batches:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(batch)
        yield buffer.getvalue()


def read_back(text: str) -> list[list[str]]:
    """Parse a CSV this module wrote (tests and tools)."""
    return list(csv.reader(io.StringIO(text.removeprefix(BOM))))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60]


def export_filename(name: str, f: Filter, generated: date, extra: str = "") -> str:
    """e.g. ``arogya_overview-districts_d203-200_ABHWC_2025-08-02_to_2025-08-31_on_2025-08-31.csv``."""
    parts = ["arogya", name]
    if extra:
        parts.append(extra)
    parts.append("d" + "-".join(str(d) for d in f.district_lgds) if f.district_lgds else "all-districts")
    if f.block_lgds:
        parts.append("b" + "-".join(str(b) for b in f.block_lgds[:5]))
    if f.facility_ids:
        parts.append("f" + "-".join(f.facility_ids[:3]))
    for values in (f.facility_types, f.modes, f.specialties):
        if values:
            parts.append("-".join(values[:4]))
    parts.append(f"{f.start.isoformat()}_to_{f.end.isoformat()}")
    parts.append(f"on_{generated.isoformat()}")
    return "_".join(_slug(p) for p in parts) + ".csv"
