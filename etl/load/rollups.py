"""Rollup maintenance for exactly the keys a load touched.

A load records which (spoke, day), (district, day) and (CHO, day) keys it changed — both the keys of the new rows
and the old keys of rows it updated, so a corrected row that moved to another day or spoke leaves no stale count —
then each rollup deletes those keys and recomputes them from the layer below in one ``INSERT ... SELECT``.
The facility rollup is built from ``fact_consultation``; the district rollup and the hub load rollups (per hub, day
and mode, and per hub, day, mode and specialty) from the facility rollup.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
)

from etl.load.bulk import execute_rows
from etl.load.cumulative import mark_stale
from etl.warehouse.histogram import WAIT_BUCKET_COLUMNS, WAIT_EDGES
from etl.warehouse.schema import (
    AGE_BANDS,
    CHANNELS,
    HUB_MEASURES,
    OUTCOMES,
    SEXES,
    fact_consultation,
    rollup_cho_day,
    rollup_district_day,
    rollup_facility_day,
    rollup_hub_day,
    rollup_hub_hour,
    rollup_hub_mode_day,
    rollup_hub_specialty_day,
)
from etl.warehouse.upsert import upsert_statement

_temp = MetaData()
touched_spoke = Table("tmp_touched_spoke", _temp, Column("spoke_id", String(40)), Column("day", Date),
                      prefixes=["TEMPORARY"])
touched_district = Table("tmp_touched_district", _temp, Column("district_lgd", Integer), Column("day", Date),
                         prefixes=["TEMPORARY"])
touched_cho = Table("tmp_touched_cho", _temp, Column("cho_id", String(40)), Column("day", Date),
                    prefixes=["TEMPORARY"])
touched_hub = Table("tmp_touched_hub", _temp, Column("hub_id", String(40)), Column("day", Date),
                    prefixes=["TEMPORARY"])
TEMP_TABLES = (touched_spoke, touched_district, touched_cho, touched_hub)

FACILITY_KEYS = ("day", "spoke_id", "hub_id", "mode", "specialty_code")
DISTRICT_KEYS = ("day", "district_lgd", "specialty_code", "mode")
HUB_MODE_KEYS = ("day", "hub_id", "mode")
HUB_SPECIALTY_KEYS = ("day", "hub_id", "mode", "specialty_code")
# The hub load rollups and their keys: both are sums of the facility rollup over its spokes.
HUB_LOAD_ROLLUPS = ((rollup_hub_mode_day, HUB_MODE_KEYS), (rollup_hub_specialty_day, HUB_SPECIALTY_KEYS))


def prepare_temp_tables(conn: Connection) -> None:
    """Create (once per connection) and empty the touched-key tables."""
    for table in TEMP_TABLES:
        table.create(conn, checkfirst=True)
        conn.execute(delete(table))


def _flag(condition) -> object:  # type: ignore[no-untyped-def]
    return func.sum(case((condition, 1), else_=0))


def _measures_from_facts() -> list:
    f = fact_consultation.c
    cols = [func.count().label("consultations")]
    cols += [_flag(f.outcome == o).label(f"n_{o}") for o in OUTCOMES]
    cols += [_flag(f.sex == s).label(f"n_sex_{s.lower()}") for s in SEXES]
    cols += [_flag(f.age.between(lo, hi)).label(f"n_{band}") for band, lo, hi in AGE_BANDS]
    cols += [_flag(f.channel == c).label(f"n_{c}") for c in CHANNELS]
    cols += [
        _flag(f.outside_hours.is_(True)).label("n_outside_hours"),
        func.coalesce(func.sum(f.wait_minutes), 0.0).label("wait_sum"),
        func.count(f.wait_minutes).label("wait_n"),
        func.coalesce(func.sum(f.duration_minutes), 0.0).label("duration_sum"),
        func.count(f.duration_minutes).label("duration_n"),
    ]
    uppers = list(WAIT_EDGES[1:]) + [None]
    for name, lower, upper in zip(WAIT_BUCKET_COLUMNS, WAIT_EDGES, uppers, strict=True):
        condition = f.wait_minutes >= lower if upper is None else and_(f.wait_minutes >= lower, f.wait_minutes < upper)
        cols.append(_flag(condition).label(name))
    return cols


MEASURE_NAMES: tuple[str, ...] = tuple(c.name for c in _measures_from_facts())


def record_touched(conn: Connection, keys: pd.DataFrame) -> None:
    """Add (spoke_id, hub_id, day, district_lgd, cho_id) rows to the touched-key tables."""
    if keys.empty:
        return
    execute_rows(conn, insert(touched_spoke), keys[["spoke_id", "day"]].drop_duplicates())
    execute_rows(conn, insert(touched_district), keys[["district_lgd", "day"]].drop_duplicates())
    execute_rows(conn, insert(touched_cho), keys.loc[keys["cho_id"].notna(), ["cho_id", "day"]].drop_duplicates())
    execute_rows(conn, insert(touched_hub), keys[["hub_id", "day"]].drop_duplicates())


def refresh_touched(conn: Connection) -> None:
    """Recompute every rollup row whose key is in the touched-key tables (distinct keys: duplicates are harmless)."""
    f, r, d, t = fact_consultation.c, rollup_facility_day.c, rollup_district_day.c, touched_spoke.c
    # Facility rollup from the facts.
    # Row-value IN lets both databases find the doomed rows through the (day, spoke_id, ...) primary key.
    conn.execute(delete(rollup_facility_day).where(
        tuple_(r.spoke_id, r.day).in_(select(t.spoke_id, t.day))))
    # Every refresh reads the facts through row-value IN on a (day, key) index, so its cost follows the rows the
    # load touched, never the size of the fact table (a join lets SQLite's planner scan the whole table instead).
    # Each GROUP BY starts with the key, not the day: grouped by the day first, SQLite's planner takes another
    # day-led index for its order and looks up the day alone, reading every fact of each touched day.
    facility_select = (
        select(f.day, f.spoke_id, f.hub_id, f.mode, f.specialty_code,
               func.max(f.district_lgd), func.max(f.block_lgd), func.max(f.hub_district_lgd),
               *_measures_from_facts())
        .where(tuple_(f.spoke_id, f.day).in_(select(t.spoke_id, t.day)))
        .group_by(f.spoke_id, f.day, f.hub_id, f.mode, f.specialty_code)
    )
    conn.execute(insert(rollup_facility_day).from_select(
        [*FACILITY_KEYS, "district_lgd", "block_lgd", "hub_district_lgd", *MEASURE_NAMES], facility_select))

    # District rollup from the facility rollup.
    td = touched_district.c
    conn.execute(delete(rollup_district_day).where(
        tuple_(d.day, d.district_lgd).in_(select(td.day, td.district_lgd))))
    district_select = (
        select(r.day, r.district_lgd, r.specialty_code, r.mode, *[func.sum(r[name]) for name in MEASURE_NAMES])
        .where(tuple_(r.district_lgd, r.day).in_(select(td.district_lgd, td.day)))
        .group_by(r.day, r.district_lgd, r.specialty_code, r.mode)
    )
    conn.execute(insert(rollup_district_day).from_select([*DISTRICT_KEYS, *MEASURE_NAMES], district_select))

    # CHO rollup from the facts.
    tc, c = touched_cho.c, rollup_cho_day.c
    conn.execute(delete(rollup_cho_day).where(tuple_(c.day, c.cho_id).in_(select(tc.day, tc.cho_id))))
    cho_select = (
        select(f.day, f.cho_id, func.max(f.spoke_id), func.max(f.district_lgd), func.count())
        .where(tuple_(f.cho_id, f.day).in_(select(tc.cho_id, tc.day)))
        .group_by(f.cho_id, f.day)
    )
    conn.execute(insert(rollup_cho_day).from_select(
        ["day", "cho_id", "facility_id", "district_lgd", "consultations"], cho_select))

    # Hub rollups from the facts.
    th, hh = touched_hub.c, rollup_hub_hour.c
    conn.execute(delete(rollup_hub_hour).where(tuple_(hh.hub_id, hh.day).in_(select(th.hub_id, th.day))))
    touched_hub_days = tuple_(f.hub_id, f.day).in_(select(th.hub_id, th.day))
    conn.execute(insert(rollup_hub_hour).from_select(
        ["day", "hub_id", "hour", "mode", "hub_district_lgd", "consultations"],
        select(f.day, f.hub_id, f.hour, f.mode, func.max(f.hub_district_lgd), func.count())
        .where(touched_hub_days).group_by(f.hub_id, f.day, f.hour, f.mode)))
    _replace_hub_days(conn)
    # Hub load rollups from the facility rollup (refreshed above), for the touched (hub, day) keys: a corrected row
    # that moved to another hub recorded its old hub too.
    for table, keys in HUB_LOAD_ROLLUPS:
        conn.execute(delete(table).where(tuple_(table.c.hub_id, table.c.day).in_(select(th.hub_id, th.day))))
        conn.execute(insert(table).from_select(
            [*keys, "hub_district_lgd", *HUB_MEASURES],
            select(*[r[k] for k in keys], func.max(r.hub_district_lgd), *[func.sum(r[name]) for name in HUB_MEASURES])
            .where(tuple_(r.hub_id, r.day).in_(select(th.hub_id, th.day))).group_by(*[r[k] for k in keys])))
    for table in TEMP_TABLES:
        conn.execute(delete(table))


def _replace_hub_days(conn: Connection) -> None:
    """Recount ``rollup_hub_day`` from the facts for the pairs in the touched-hub table."""
    f, th, hd = fact_consultation.c, touched_hub.c, rollup_hub_day.c
    conn.execute(delete(rollup_hub_day).where(tuple_(hd.hub_id, hd.day).in_(select(th.hub_id, th.day))))
    conn.execute(insert(rollup_hub_day).from_select(
        ["day", "hub_id", "hub_district_lgd", "consultations", "doctors"],
        select(f.day, f.hub_id, func.max(f.hub_district_lgd), func.count(), func.count(f.doctor_token.distinct()))
        .where(tuple_(f.hub_id, f.day).in_(select(th.hub_id, th.day))).group_by(f.hub_id, f.day)))


def refresh_hub_days(conn: Connection, keys: pd.DataFrame) -> None:
    """Recompute ``rollup_hub_day`` for the (hub_id, day) pairs of ``keys`` from the facts (its doctor count is a
    distinct count, which two batches' rows cannot simply add up to)."""
    prepare_temp_tables(conn)
    execute_rows(conn, insert(touched_hub), keys[["hub_id", "day"]].drop_duplicates())
    _replace_hub_days(conn)
    conn.execute(delete(touched_hub))


# Columns a rollup row takes from the greatest of its facts (SQL's max), not their sum.
GREATEST_COLUMNS = frozenset({"district_lgd", "block_lgd", "hub_district_lgd", "facility_id"})
# Rollups whose every other column is a sum over the facts: rows of new facts add to a stored row of the same key.
ADDITIVE_ROLLUPS = frozenset({rollup_facility_day.name, rollup_district_day.name, rollup_cho_day.name,
                              rollup_hub_hour.name, rollup_hub_mode_day.name, rollup_hub_specialty_day.name})


def additive_merge_statement(conn: Connection, table: Table):  # type: ignore[no-untyped-def]
    """An insert of a batch's rollup rows that, where the key is stored, adds the batch's counts and sums to the
    stored ones and keeps the greatest of the place columns: the rollup of the facts stored plus the batch's, when
    none of the batch's facts was stored before."""
    if table.name not in ADDITIVE_ROLLUPS:
        raise ValueError(f"{table.name} is not a sum over its facts")
    keys = {c.name for c in table.primary_key.columns}

    def merged(stmt):  # type: ignore[no-untyped-def]
        out = {}
        for column in table.columns:
            if column.name in keys:
                continue
            new, stored = stmt.excluded[column.name], table.c[column.name]
            out[column.name] = (case((or_(stored.is_(None), new > stored), new), else_=stored)
                                if column.name in GREATEST_COLUMNS else stored + new)
        return out

    return upsert_statement(conn, table, set_from=merged)


def rebuild_all(conn: Connection) -> None:
    """Recompute every rollup from scratch (used by `arogya etl rebuild-rollups` and tests)."""
    prepare_temp_tables(conn)
    f = fact_consultation.c
    conn.execute(insert(touched_spoke).from_select(["spoke_id", "day"], select(f.spoke_id, f.day).distinct()))
    conn.execute(insert(touched_district).from_select(["district_lgd", "day"],
                                                      select(f.district_lgd, f.day).distinct()))
    conn.execute(insert(touched_cho).from_select(["cho_id", "day"],
                                                 select(f.cho_id, f.day).where(f.cho_id.is_not(None)).distinct()))
    conn.execute(insert(touched_hub).from_select(["hub_id", "day"], select(f.hub_id, f.day).distinct()))
    for table in (rollup_facility_day, rollup_district_day, rollup_cho_day, rollup_hub_hour, rollup_hub_day,
                  rollup_hub_mode_day, rollup_hub_specialty_day):
        conn.execute(delete(table))
    refresh_touched(conn)
    mark_stale(conn, None, rebuild=True)
