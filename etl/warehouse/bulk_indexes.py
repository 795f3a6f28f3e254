"""Secondary indexes of the consultation fact and its rollups, set aside during a bulk load and built again after.

The rollups' secondary indexes lead with a facility, district or CHO and end with the day: a new day's rows land on
nearly every leaf page of each, and each commit rewrites most of the index. The fact table's lead with the day
(migration 0008) and are appended to, but still in no order within the day. On a warehouse of millions of
consultations the indexes, not the rows, set the pace of a load, so for an initial load (or one larger than what is
stored) it is far cheaper to insert into the tables with only their primary keys, which a new day appends to, and to
sort each index once at the end (``CREATE INDEX``). One index stays (``KEPT``).

The indexes are always put back: at the end of the load, and at the start of every later run in case a load was
killed before it could (``restore_indexes`` is a cheap no-op when they are all there). Dropping and creating them
from the schema's own ``Index`` objects keeps their names and columns those the migrations made.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, Index, func, inspect, select, text

from etl.warehouse.schema import (
    fact_consultation,
    rollup_cho_day,
    rollup_facility_day,
    rollup_hub_day,
    rollup_hub_hour,
)

log = logging.getLogger("arogya.etl")

BULK_TABLES = (fact_consultation, rollup_facility_day, rollup_cho_day, rollup_hub_hour, rollup_hub_day)
# Kept through a bulk load: led by the day (migration 0008), a chronological load appends to it; and the doctors of a
# (hub, day) that several files share (a national export's state files) are counted again from the facts along it.
KEPT = frozenset({"ix_fact_consultation_day_hub"})


def bulk_indexes() -> list[Index]:
    """The secondary indexes set aside during a bulk load, in a stable order."""
    return sorted((ix for table in BULK_TABLES for ix in table.indexes if ix.name not in KEPT),
                  key=lambda ix: str(ix.name))


def _present(engine: Engine) -> set[str]:
    inspector = inspect(engine)
    return {str(ix["name"]) for table in BULK_TABLES for ix in inspector.get_indexes(table.name)}


def missing_indexes(engine: Engine) -> list[str]:
    """Names of the bulk-load indexes the warehouse lacks now."""
    present = _present(engine)
    return [str(ix.name) for ix in bulk_indexes() if ix.name not in present]


def drop_indexes(engine: Engine) -> list[str]:
    """Drop the bulk-load indexes that exist; returns their names."""
    present = _present(engine)
    dropped = []
    with engine.begin() as conn:
        for ix in bulk_indexes():
            if ix.name in present:
                ix.drop(conn)
                dropped.append(str(ix.name))
    return dropped


def restore_indexes(engine: Engine) -> list[str]:
    """Create every bulk-load index that is missing (one transaction each); returns the names created.

    On SQLite the query planner's statistics of a rebuilt index are refreshed as well, so the dashboard's plans
    do not change because a load went the bulk way."""
    missing = set(missing_indexes(engine))
    created = []
    for ix in bulk_indexes():
        if ix.name not in missing:
            continue
        with engine.begin() as conn:
            ix.create(conn)
        created.append(str(ix.name))
    if created and engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            has_stats = conn.execute(text(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")).first()
            if has_stats:
                for name in created:
                    conn.execute(text("ANALYZE " + _quoted(name)))
    if created:
        log.info("rebuilt %d indexes after a bulk load: %s", len(created), ", ".join(created))
    return created


def _quoted(name: str) -> str:
    # Index names come from the schema module, never from input; quoting keeps them identifiers all the same.
    return '"' + name.replace('"', '""') + '"'


def stored_consultations(engine: Engine) -> int:
    """How many consultations the warehouse holds."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(fact_consultation)).scalar() or 0)
