"""Bulk execution of a Core statement over a DataFrame: the hot path of every load.

SQLAlchemy's per-row parameter processing costs several times more than SQLite's own insert, so a statement is
compiled once from Core (never built from strings) for exactly the frame's columns, the values are converted to what
the driver takes column by column with vectorised pandas, and the rows go to the driver's ``executemany``. SQLite
stores dates and timestamps as ISO text in the same format SQLAlchemy reads back; PostgreSQL takes native objects.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Connection, Date, DateTime, Float, Insert, Integer

_CHUNK = 50_000
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
SQLITE_DATE = "%Y-%m-%d"


def _none_where(values: np.ndarray, missing: np.ndarray) -> list[Any]:
    out = values.astype(object)
    out[missing] = None
    return out.tolist()


def _sqlite_text(stamps: pd.Series, with_time: bool) -> np.ndarray:
    """Timestamps as SQLite's ISO text (``SQLITE_DATETIME`` or ``SQLITE_DATE``), formatted by numpy in one pass
    (``strftime`` formats value by value)."""
    values = stamps.to_numpy(dtype="datetime64[us]")
    if not with_time:
        return np.datetime_as_string(values, unit="D").astype(object)
    iso = np.datetime_as_string(values, unit="us")  # 2025-08-01T09:30:00.000000
    return np.array([text[:10] + " " + text[11:] for text in iso.tolist()], dtype=object)


def column_values(series: pd.Series, column_type: Any, dialect: str) -> list[Any]:
    """Driver-ready values for one column; missing values become None."""
    if isinstance(column_type, (DateTime, Date)):
        stamps = pd.to_datetime(series)
        missing = stamps.isna().to_numpy()
        if dialect == "sqlite" and stamps.dt.tz is None:
            return _none_where(_sqlite_text(stamps, isinstance(column_type, DateTime)), missing)
        if dialect == "sqlite":
            fmt = SQLITE_DATETIME if isinstance(column_type, DateTime) else SQLITE_DATE
            return _none_where(stamps.dt.strftime(fmt).to_numpy(dtype=object), missing)
        if isinstance(column_type, DateTime):
            return _none_where(np.asarray(stamps.dt.to_pydatetime(), dtype=object), missing)
        return _none_where(np.asarray(stamps.dt.date, dtype=object), missing)
    if isinstance(column_type, Boolean):
        missing = series.isna().to_numpy()
        ints = series.fillna(False).astype(bool).to_numpy()
        return _none_where(ints.astype(int) if dialect == "sqlite" else ints, missing)
    if isinstance(column_type, Integer):
        if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
            return series.to_numpy().tolist()  # a plain numpy integer column: nothing can be missing
        numbers = pd.to_numeric(series, errors="coerce")
        missing = numbers.isna().to_numpy()
        return _none_where(numbers.fillna(0).astype(np.int64).to_numpy(), missing)
    if isinstance(column_type, Float):
        numbers = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
        return _none_where(numbers, np.isnan(numbers))
    missing = pd.isna(series).to_numpy()
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty"):
        values = np.array([str(v) for v in values], dtype=object)
    return _none_where(values, missing)


def _is_plain_insert(statement: Any) -> bool:
    return isinstance(statement, Insert) and getattr(statement, "_post_values_clause", None) is None


def _copy_rows(conn: Connection, table: Any, frame: pd.DataFrame) -> int:
    """PostgreSQL's COPY of the frame into ``table`` (a partitioned table routes each row to its month)."""
    from psycopg import sql

    names = list(frame.columns)
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(name) for name in names))
    driver = conn.connection.driver_connection
    with driver.cursor() as cursor:
        for start in range(0, len(frame), _CHUNK):
            part = frame.iloc[start:start + _CHUNK]
            columns = [column_values(part[name], table.c[name].type, "postgresql") for name in names]
            with cursor.copy(copy_sql) as copy:
                for row in zip(*columns, strict=True):
                    copy.write_row(row)
    return len(frame)


def execute_rows(conn: Connection, statement: Any, frame: pd.DataFrame) -> int:
    """Execute ``statement`` (an insert or upsert on one table) once per row of ``frame``; on PostgreSQL a plain
    insert goes through COPY, several times faster than any INSERT."""
    if frame.empty:
        return 0
    table = statement.table
    dialect = conn.dialect
    if dialect.name == "postgresql" and _is_plain_insert(statement):
        return _copy_rows(conn, table, frame)
    compiled = statement.compile(dialect=dialect, column_keys=list(frame.columns))
    positional = compiled.positiontup is not None
    order = list(compiled.positiontup) if positional else list(frame.columns)
    for start in range(0, len(frame), _CHUNK):
        part = frame.iloc[start:start + _CHUNK]
        columns = [column_values(part[name], table.c[name].type, dialect.name) for name in order]
        if positional:
            params: list[Any] = list(zip(*columns, strict=True))
        else:
            params = [dict(zip(order, row, strict=True)) for row in zip(*columns, strict=True)]
        conn.exec_driver_sql(compiled.string, params)
    return len(frame)
