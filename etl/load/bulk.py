"""Bulk execution of a Core statement over a DataFrame, with values converted to what each column type takes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Connection, Date, DateTime, Float, Integer, Table

_CHUNK = 20_000


def _column_values(series: pd.Series, column_type: Any) -> list[Any]:
    """Python values for one column; missing values become None."""
    if isinstance(column_type, DateTime):
        stamps = pd.to_datetime(series)
        values = stamps.dt.to_pydatetime() if hasattr(stamps, "dt") else stamps
        return [None if v is pd.NaT or v is None else v for v in np.asarray(values, dtype=object)]
    if isinstance(column_type, Date):
        if pd.api.types.is_datetime64_any_dtype(series):
            return [None if pd.isna(v) else v for v in series.dt.date.tolist()]
        return [None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT else v for v in series]
    if isinstance(column_type, Boolean):
        return [None if pd.isna(v) else bool(v) for v in series.tolist()]
    if isinstance(column_type, Integer):
        numbers = pd.to_numeric(series, errors="coerce").astype("Int64")
        return [None if v is pd.NA else int(v) for v in numbers.tolist()]
    if isinstance(column_type, Float):
        numbers = pd.to_numeric(series, errors="coerce").astype(float)
        return [None if np.isnan(v) else float(v) for v in numbers.tolist()]
    return [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)
            for v in series.tolist()]


def frame_records(table: Table, frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = {name: _column_values(frame[name], table.c[name].type) for name in frame.columns}
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def execute_rows(conn: Connection, statement: Any, frame: pd.DataFrame) -> int:
    """Execute ``statement`` (an insert/upsert on one table) once per row of ``frame``, in chunks."""
    if frame.empty:
        return 0
    table = statement.table
    for start in range(0, len(frame), _CHUNK):
        conn.execute(statement, frame_records(table, frame.iloc[start:start + _CHUNK]))
    return len(frame)
