"""``INSERT ... ON CONFLICT`` from each dialect: one code path for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from etl.warehouse.partitions import conflict_columns


def _dialect_insert(conn: Connection, table: Table):  # type: ignore[no-untyped-def]
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upsert is not implemented for {conn.dialect.name}")


def upsert_statement(conn: Connection, table: Table, update_columns: Sequence[str] | None = None,
                     do_nothing: bool = False, where: Callable[[Any], Any] | None = None,
                     set_from: Callable[[Any], dict[str, Any]] | None = None):  # type: ignore[no-untyped-def]
    """An insert that updates ``update_columns`` (default: every non-key column) when the primary key exists
    (on PostgreSQL's partitioned tables, the key plus the partition column: see ``etl.warehouse.partitions``).

    ``where`` receives the statement (for ``stmt.excluded``) and returns a condition the update must meet;
    ``set_from`` receives it and returns the update's column expressions (instead of taking the new values)."""
    stmt = _dialect_insert(conn, table)
    keys = conflict_columns(conn.dialect.name, table.name, [c.name for c in table.primary_key.columns])
    if do_nothing:
        return stmt.on_conflict_do_nothing(index_elements=keys)
    if set_from is not None:
        return stmt.on_conflict_do_update(index_elements=keys, set_=set_from(stmt),
                                          where=where(stmt) if where is not None else None)
    columns = update_columns if update_columns is not None else [c.name for c in table.columns if c.name not in keys]
    if not columns:
        return stmt.on_conflict_do_nothing(index_elements=keys)
    return stmt.on_conflict_do_update(index_elements=keys, set_={name: stmt.excluded[name] for name in columns},
                                      where=where(stmt) if where is not None else None)


def upsert(conn: Connection, table: Table, rows: Iterable[dict[str, Any]],
           update_columns: Sequence[str] | None = None, do_nothing: bool = False) -> int:
    """Upsert ``rows`` (dicts keyed by column name); returns how many were sent."""
    batch = list(rows)
    if not batch:
        return 0
    conn.execute(upsert_statement(conn, table, update_columns, do_nothing), batch)
    return len(batch)
