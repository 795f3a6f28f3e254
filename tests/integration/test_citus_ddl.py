"""docs/citus.sql against the real schema: every table has exactly one Citus call, every distributed table's keys
contain its distribution column once the file's key changes are applied (PostgreSQL)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from etl.warehouse.engine import make_engine
from etl.warehouse.migrate import upgrade
from etl.warehouse.schema import metadata
from tests.conftest import PG_URL, make_settings, reset_postgres

CITUS_SQL = Path(__file__).resolve().parents[2] / "docs" / "citus.sql"
REFERENCE = re.compile(r"create_reference_table\('(\w+)'\)")
DISTRIBUTED = re.compile(r"create_distributed_table\('(\w+)',\s*'(\w+)'(?:,\s*colocate_with\s*=>\s*'(\w+)')?\)")


def statements() -> list[str]:
    body = "\n".join(line.split("--", 1)[0] for line in CITUS_SQL.read_text(encoding="utf-8").splitlines())
    return [s.strip() for s in body.split(";") if s.strip()]


def plain_statements() -> list[str]:
    """The plain-PostgreSQL part: everything before CREATE EXTENSION citus."""
    out = []
    for statement in statements():
        if statement.upper().startswith("CREATE EXTENSION"):
            return out
        out.append(statement)
    raise AssertionError("docs/citus.sql has no CREATE EXTENSION citus")


def reference_tables() -> list[str]:
    return [m.group(1) for s in statements() for m in REFERENCE.finditer(s)]


def distributed_tables() -> dict[str, tuple[str, str | None]]:
    found = [m.groups() for s in statements() for m in DISTRIBUTED.finditer(s)]
    tables = {name: (column, colocate) for name, column, colocate in found}
    assert len(tables) == len(found), "a table is distributed twice"
    return tables


def test_citus001_every_table_has_exactly_one_call() -> None:
    reference, distributed = reference_tables(), distributed_tables()
    named = reference + list(distributed)
    assert len(named) == len(set(named)), "a table is named twice"
    assert set(named) == set(metadata.tables), (
        f"missing: {sorted(set(metadata.tables) - set(named))}; unknown: {sorted(set(named) - set(metadata.tables))}")
    for name, (column, colocate) in distributed.items():
        table = metadata.tables[name]
        assert column in table.c, f"{name} has no column {column}"
        assert not table.c[column].nullable, f"{name}.{column} may be NULL: Citus rejects NULL distribution values"
        if colocate and colocate != "none":
            other_column = distributed[colocate][0]
            assert type(table.c[column].type) is type(metadata.tables[colocate].c[other_column].type), (name, colocate)


def _unique_keys(conn, table_name: str) -> list[tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    """Every unique index (primary keys and unique constraints included) of a table, with its columns."""
    return [(name, list(columns)) for name, columns in conn.execute(text(
        "SELECT i.relname, array_agg(a.attname ORDER BY k.ord) FROM pg_index x "
        "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
        "WHERE n.nspname = current_schema() AND t.relname = :t AND x.indisunique GROUP BY i.relname"),
        {"t": table_name})]


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL is not set")
def test_citus002_distributed_keys_contain_the_distribution_column(tmp_path: Path) -> None:
    engine = make_engine(make_settings(tmp_path, PG_URL))
    reset_postgres(engine)
    upgrade(engine)
    existing = set(inspect(engine).get_table_names())
    named = set(reference_tables()) | set(distributed_tables())
    assert named <= existing, f"not in the warehouse: {sorted(named - existing)}"
    with engine.connect() as conn:
        with conn.begin() as transaction:
            for statement in plain_statements():
                conn.execute(text(statement))
            for name, (column, _) in distributed_tables().items():
                keys = _unique_keys(conn, name)
                assert keys, f"{name} has no primary key"
                for index, columns in keys:
                    assert column in columns, f"{name}: unique index {index} {columns} lacks {column}"
            transaction.rollback()
        # Without the file's key changes the check would fail: it is not vacuous.
        lacking = [name for name, (column, _) in distributed_tables().items()
                   if any(column not in cols for _, cols in _unique_keys(conn, name))]
    engine.dispose()
    assert "fact_consultation" in lacking and "fact_status_event" in lacking
