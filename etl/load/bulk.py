"""Bulk execution of a Core statement over a DataFrame: the hot path of every load.

SQLAlchemy's per-row parameter processing costs several times more than SQLite's own insert, so a statement is
compiled once from Core (never built from strings) for exactly the frame's columns, the values are converted to what
the driver takes column by column with vectorised pandas, and the rows go to the driver's ``executemany``. SQLite
stores dates and timestamps as ISO text in the same format SQLAlchemy reads back; PostgreSQL takes native objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Connection, Date, DateTime, Float, Insert, Integer

_CHUNK = 50_000
_FETCH = 100_000  # rows per fetch of ``driver_frame``
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
        # A column of days holds few distinct ones (a running total's block: 32 days over millions of rows): each
        # is formatted once and shared, rather than one new string per row.
        codes, days = pd.factorize(values.astype("datetime64[D]"))
        text = np.append(np.datetime_as_string(np.asarray(days, dtype="datetime64[D]"), unit="D").astype(object),
                         None)  # code -1 (NaT) takes the last entry
        return text[codes]
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


@dataclass
class DriverRows:
    """A table's rows already converted for the driver (``column_values``), e.g. by the ETL's reader process;
    ``extra`` names columns whose one value for all rows is appended here (the run id, known only at write time).
    The values are kept column by column and zipped into rows only when executed: a list per column pickles (from
    the reader process to the writer) in about half the time of a list of row tuples."""

    columns: list[str]
    values: list[list[Any]]
    extra: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.values[0]) if self.values else 0


def driver_rows(frame: pd.DataFrame, table: Any, dialect: str) -> DriverRows:
    """``frame`` as driver-ready values for ``table`` on ``dialect`` ("sqlite" or "postgresql")."""
    names = list(frame.columns)
    return DriverRows(names, [column_values(frame[name], table.c[name].type, dialect) for name in names])


def _copy_rows(conn: Connection, table: Any, names: list[str], rows: Iterable[tuple]) -> None:
    """PostgreSQL's COPY of ``rows`` into ``table`` (a partitioned table routes each row to its month)."""
    from psycopg import sql

    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(name) for name in names))
    driver = conn.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(row)


def execute_driver_rows(conn: Connection, statement: Any, prepared: DriverRows, extra: tuple = (), *,
                        counted: bool = False) -> int:
    """Execute ``statement`` once per prepared row, each followed by the values ``extra`` (for ``prepared.extra``).
    On PostgreSQL a plain insert goes through COPY, several times faster than any INSERT. Returns the rows given,
    or with ``counted`` the rows the database changed (an ``ON CONFLICT DO NOTHING`` that met a row another
    transaction committed meanwhile changes none)."""
    if not len(prepared):
        return 0
    names = [*prepared.columns, *prepared.extra]
    columns = [*prepared.values, *([value] * len(prepared) for value in extra)]
    dialect = conn.dialect
    if dialect.name == "postgresql" and _is_plain_insert(statement):
        _copy_rows(conn, statement.table, names, zip(*columns, strict=True))
        return len(prepared)
    compiled = statement.compile(dialect=dialect, column_keys=names)
    params: list[Any]
    if compiled.positiontup is not None:
        # Rows zipped from the columns in the statement's order of parameters (zip runs in C).
        params = list(zip(*[columns[names.index(name)] for name in compiled.positiontup], strict=True))
    else:
        params = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    result = conn.exec_driver_sql(compiled.string, params)
    return int(result.rowcount) if counted else len(prepared)


def driver_chunks(frame: pd.DataFrame, table: Any, dialect: str) -> Iterator[DriverRows]:
    """``frame`` as driver-ready values for ``table``, ``_CHUNK`` rows at a time (one ``executemany`` each)."""
    for start in range(0, len(frame), _CHUNK):
        yield driver_rows(frame.iloc[start:start + _CHUNK], table, dialect)


def execute_rows(conn: Connection, statement: Any, frame: pd.DataFrame, *, counted: bool = False) -> int:
    """Execute ``statement`` (an insert or upsert on one table) once per row of ``frame``; returns the rows given,
    or with ``counted`` the rows changed (``execute_driver_rows``)."""
    return sum(execute_driver_rows(conn, statement, rows, counted=counted)
               for rows in driver_chunks(frame, statement.table, conn.dialect.name))


def driver_frame(conn: Connection, statement: Any, columns: list[str]) -> pd.DataFrame:
    """The rows of ``statement`` as the driver returns them, without SQLAlchemy's processing of each value (on
    SQLite dates stay ISO text; PostgreSQL's driver gives dates): a read of millions of rows for arrays.

    The rows are fetched ``_FETCH`` at a time, and a column of text or dates (keys, days) becomes a Categorical
    (sorted categories) as it arrives: the state demo's largest daily sums, 4.7 million rows held as Python tuples
    at once, took 1.2 GB; as codes they take a few bytes a row."""
    result = conn.execute(statement)
    chunks: list[list[np.ndarray | None]] = []
    lookups: list[dict[Any, int] | None] = [None] * len(columns)
    try:
        cursor = result.cursor
        while cursor is not None:
            rows = cursor.fetchmany(_FETCH)
            if not rows:
                break
            # Column by column (zip is C): pandas' own conversion of a list of tuples is several times slower.
            chunks.append([_fetched_column(values, lookups, i, columns[i])
                           for i, values in enumerate(zip(*rows, strict=True))])
    finally:
        result.close()
    if not chunks:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
    # Whole numbers (the measures) go straight into one 2-D block, which the frame takes as it stands: a later
    # ``frame[measures].to_numpy()`` is then a view, not another copy of them all.
    whole = [i for i in range(len(columns))
             if lookups[i] is None and all(chunk[i].dtype == np.int64 for chunk in chunks)]  # type: ignore[union-attr]
    in_block = set(whole)
    block = np.empty((len(whole), sum(len(chunk[0]) for chunk in chunks)), dtype=np.int64)  # type: ignore[arg-type]
    for j, i in enumerate(whole):
        at = 0
        for chunk in chunks:
            part = chunk[i]
            assert part is not None
            block[j, at:at + len(part)] = part
            at += len(part)
            chunk[i] = None  # each fetched piece is let go once copied
    frame = pd.DataFrame(block.T, columns=[columns[i] for i in whole], copy=False)
    for i, name in enumerate(columns):
        if i in in_block:
            continue
        parts = [chunk[i] for chunk in chunks]
        for chunk in chunks:
            chunk[i] = None
        lookup = lookups[i]
        if lookup is None:
            frame[name] = np.concatenate(parts) if len(parts) > 1 else parts[0]
            continue
        # Chunks read before the column's first text or date held none (all missing): code -1.
        if any(part.dtype != np.int32 and not pd.isna(part).all() for part in parts):  # type: ignore[union-attr]
            raise _mixed(name)
        codes = np.concatenate([part if part.dtype == np.int32 else np.full(len(part), -1, dtype=np.int32)
                                for part in parts])
        categories = sorted(lookup)  # the keys' order, which running totals sort their rows by
        rank = np.empty(len(categories), dtype=np.int32)
        rank[[lookup[value] for value in categories]] = np.arange(len(categories), dtype=np.int32)
        frame[name] = pd.Categorical.from_codes(np.where(codes < 0, -1, rank[np.maximum(codes, 0)]),
                                                categories=categories)
    return frame[columns]  # in the statement's order (pandas copies nothing for this)


def _fetched_column(values: tuple, lookups: list[dict[Any, int] | None], i: int, name: str) -> np.ndarray:
    """One fetched column: numbers as an array of values; text and dates as int32 codes into ``lookups[i]``
    (missing: -1), from the first chunk that holds one. A column of one SQL type never mixes the two; one that did
    would raise rather than lose values."""
    lookup = lookups[i]
    if lookup is None:
        present = next((v for v in values if v is not None), None)
        if not isinstance(present, (str, date)):
            return np.array(values)
        lookup = lookups[i] = {}
    codes, uniques = pd.factorize(np.array(values, dtype=object))
    distinct = uniques.tolist()
    kinds = {type(value) for value in distinct}
    if lookup:
        kinds.add(type(next(iter(lookup))))
    if len(kinds) > 1 or not kinds <= {str, date, datetime}:
        raise _mixed(name)
    table = np.array([lookup.setdefault(value, len(lookup)) for value in distinct], dtype=np.int32)
    return np.where(codes < 0, -1, table[np.maximum(codes, 0)] if len(table) else -1).astype(np.int32)


def _mixed(name: str) -> TypeError:
    return TypeError(f"column {name} mixes text or dates with other values; cannot read it as one kind")
