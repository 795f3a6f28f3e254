"""Monthly RANGE partitions of the consultation fact table and the rollups, on PostgreSQL only.

Each table in ``PARTITIONED_TABLES`` is partitioned by month on its ``day`` column, with one partition per month
(``fact_consultation_p202611`` holds November 2026) and a DEFAULT partition (``fact_consultation_default``), so an
insert never fails for want of a partition. A primary key of a partitioned table must contain the partition key:
the rollups' keys already start with ``day``; the fact table's key becomes ``(consultation_id, day)``, so its upsert
conflicts on both columns (``conflict_columns``) and the loader deletes the stored row of a consultation whose
corrected day moved (``etl.load.corrections``).

SQLite is never partitioned; every function here is a no-op there. DDL cannot take bound parameters: the only
values spliced into it are table names from the fixed list below (quoted) and month bounds formatted from ``date``
objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd
from sqlalchemy import Connection, Engine, func, select, text

PARTITION_COLUMN = "day"
PARTITIONED_TABLES: tuple[str, ...] = (
    "fact_consultation",
    "rollup_facility_day",
    "rollup_district_day",
    "rollup_cho_day",
    "rollup_hub_hour",
    "rollup_hub_day",
)
MONTHS_AHEAD = 3  # partitions the migration creates beyond the current month
PARTITION_LOCK_KEY = 0x4172_6F67_7970  # transaction advisory lock serialising partition DDL


def is_postgres(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "postgresql"


def conflict_columns(dialect_name: str, table_name: str, primary_key: Iterable[str]) -> list[str]:
    """The upsert conflict target: the primary key, plus the partition column on PostgreSQL when the key lacks it."""
    keys = list(primary_key)
    if dialect_name == "postgresql" and table_name in PARTITIONED_TABLES and PARTITION_COLUMN not in keys:
        keys.append(PARTITION_COLUMN)
    return keys


def month_start(value: date) -> date:
    return date(value.year, value.month, 1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def partition_name(table_name: str, month: date) -> str:
    return f"{table_name}_p{month:%Y%m}"


def default_partition_name(table_name: str) -> str:
    return f"{table_name}_default"


def _months_of(days: Iterable[object]) -> list[date]:
    series = days if isinstance(days, pd.Series) else pd.Series(list(days), dtype=object)
    stamps = pd.to_datetime(series, errors="coerce").dropna()
    return sorted(date(p.year, p.month, 1) for p in stamps.dt.to_period("M").unique())


def _q(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def existing_partitions(conn: Connection) -> dict[str, set[str]]:
    """Partition names per partitioned table (empty sets for tables that are not partitioned)."""
    rows = conn.execute(text(
        "SELECT parent.relname, child.relname FROM pg_inherits i "
        "JOIN pg_class parent ON parent.oid = i.inhparent JOIN pg_class child ON child.oid = i.inhrelid "
        "JOIN pg_namespace n ON n.oid = parent.relnamespace "
        "WHERE n.nspname = current_schema() AND parent.relname = ANY(:names)"),
        {"names": list(PARTITIONED_TABLES)}).all()
    found: dict[str, set[str]] = {name: set() for name in PARTITIONED_TABLES}
    for parent, child in rows:
        found[parent].add(child)
    return found


def is_partitioned(conn: Connection, table_name: str) -> bool:
    return bool(conn.execute(text(
        "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname = :name"),
        {"name": table_name}).first())


def _attach_month(conn: Connection, table_name: str, month: date, *, has_default: bool = True) -> None:
    """Add one month's partition. Built beside the table and attached, which needs only a SHARE UPDATE EXCLUSIVE
    lock on the parent (``CREATE TABLE ... PARTITION OF`` would block every reader); rows of that month already
    sitting in the DEFAULT partition move into it first, as ATTACH requires."""
    part, table, default = (_q(conn, partition_name(table_name, month)), _q(conn, table_name),
                            _q(conn, default_partition_name(table_name)))
    column = _q(conn, PARTITION_COLUMN)
    lo, hi = month.isoformat(), next_month(month).isoformat()
    conn.execute(text(f"CREATE TABLE {part} (LIKE {table} INCLUDING DEFAULTS)"))
    if has_default:
        conn.execute(text(
            f"WITH moved AS (DELETE FROM {default} WHERE {column} >= :lo AND {column} < :hi RETURNING *) "
            f"INSERT INTO {part} SELECT * FROM moved"), {"lo": month, "hi": next_month(month)})
    conn.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {part} FOR VALUES FROM ('{lo}') TO ('{hi}')"))


def _ensure(conn: Connection, months: list[date]) -> list[str]:
    present = existing_partitions(conn)
    wanted = [(t, m) for t in PARTITIONED_TABLES for m in months
              if present[t] and partition_name(t, m) not in present[t]]
    if not wanted:
        return []
    # Two loaders (or a loader and a migration) must not both create the same month: take the lock, look again.
    conn.execute(select(func.pg_advisory_xact_lock(PARTITION_LOCK_KEY)))
    present = existing_partitions(conn)
    created = []
    for table_name, month in wanted:
        if partition_name(table_name, month) not in present[table_name]:
            # A deployment may drop the DEFAULT partition (it makes PostgreSQL lock more when adding a month).
            _attach_month(conn, table_name, month,
                          has_default=default_partition_name(table_name) in present[table_name])
            created.append(partition_name(table_name, month))
    return created


def ensure_month_partitions(bind: Engine | Connection, days: Iterable[object]) -> list[str]:
    """Create the monthly partitions (of every partitioned table) for the months of ``days`` that lack one; return
    the names created. Idempotent; a no-op on SQLite and on tables that are not partitioned. Given an engine it
    commits in a short transaction of its own, before the caller's batch."""
    if not is_postgres(bind):
        return []
    months = _months_of(days)
    if not months:
        return []
    if isinstance(bind, Connection):
        return _ensure(bind, months)
    with bind.begin() as conn:
        return _ensure(conn, months)


# ---------------------------------------------------------------------------- migration


def _index_definitions(conn: Connection, table_name: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of every index of the table except its primary key."""
    return [tuple(r) for r in conn.execute(text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "WHERE i.schemaname = current_schema() AND i.tablename = :name AND i.indexname NOT IN ("
        "  SELECT conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "  JOIN pg_namespace n ON n.oid = t.relnamespace "
        "  WHERE n.nspname = current_schema() AND t.relname = :name AND c.contype = 'p') "
        "ORDER BY i.indexname"), {"name": table_name}).all()]


def _primary_key(conn: Connection, table_name: str) -> tuple[str, list[str]]:
    row = conn.execute(text(
        "SELECT c.conname, array_agg(a.attname ORDER BY k.ord) FROM pg_constraint c "
        "JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
        "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
        "WHERE n.nspname = current_schema() AND t.relname = :name AND c.contype = 'p' GROUP BY c.conname"),
        {"name": table_name}).one()
    return row[0], list(row[1])


def _rebuild(conn: Connection, table_name: str, *, partitioned: bool, primary_key: list[str],
             today: date) -> None:
    """Replace ``table_name`` by a partitioned (or, going back, a plain) copy holding the same rows, the same
    columns, defaults and indexes, and ``primary_key``."""
    table, old = _q(conn, table_name), _q(conn, f"{table_name}_unpartitioned")
    pk_name, _ = _primary_key(conn, table_name)
    indexes = _index_definitions(conn, table_name)
    for name, _definition in indexes:
        conn.execute(text(f"DROP INDEX {_q(conn, name)}"))
    conn.execute(text(f"ALTER TABLE {table} RENAME TO {old}"))
    conn.execute(text(f"ALTER TABLE {old} RENAME CONSTRAINT {_q(conn, pk_name)} TO {_q(conn, pk_name + '_old')}"))
    column = _q(conn, PARTITION_COLUMN)
    clause = f" PARTITION BY RANGE ({column})" if partitioned else ""
    conn.execute(text(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS){clause}"))
    keys = ", ".join(_q(conn, c) for c in primary_key)
    conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {_q(conn, pk_name)} PRIMARY KEY ({keys})"))
    if partitioned:
        conn.execute(text(f"CREATE TABLE {_q(conn, default_partition_name(table_name))} PARTITION OF {table} DEFAULT"))
        first, last = conn.execute(text(f"SELECT min({column}), max({column}) FROM {old}")).one()
        current = month_start(today)
        horizon = current
        for _ in range(MONTHS_AHEAD):
            horizon = next_month(horizon)
        months = set(months_between(current, horizon))
        if first is not None:
            months |= set(months_between(first, last))
        for month in sorted(months):
            _attach_month(conn, table_name, month)
    conn.execute(text(f"INSERT INTO {table} SELECT * FROM {old}"))
    conn.execute(text(f"DROP TABLE {old}"))
    for _name, definition in indexes:
        conn.execute(text(definition))
    conn.execute(text(f"ANALYZE {table}"))


def partition_tables(conn: Connection, today: date | None = None) -> list[str]:
    """Migration step: turn every table of ``PARTITIONED_TABLES`` that is still a plain table into a monthly
    partitioned one (data kept, months of the data plus the current month and ``MONTHS_AHEAD`` created, and a
    DEFAULT partition). Returns the tables converted; a no-op on SQLite."""
    if not is_postgres(conn):
        return []
    conn.execute(select(func.pg_advisory_xact_lock(PARTITION_LOCK_KEY)))
    converted = []
    for table_name in PARTITIONED_TABLES:
        if is_partitioned(conn, table_name):
            continue
        _, keys = _primary_key(conn, table_name)
        if PARTITION_COLUMN not in keys:
            keys.append(PARTITION_COLUMN)
        _rebuild(conn, table_name, partitioned=True, primary_key=keys, today=today or date.today())
        converted.append(table_name)
    return converted


def unpartition_tables(conn: Connection, primary_keys: dict[str, list[str]]) -> None:
    """Downgrade step: plain tables again, with the primary keys given (the present key for tables not named)."""
    if not is_postgres(conn):
        return
    for table_name in PARTITIONED_TABLES:
        if is_partitioned(conn, table_name):
            keys = primary_keys.get(table_name) or _primary_key(conn, table_name)[1]
            _rebuild(conn, table_name, partitioned=False, primary_key=keys, today=date.today())
