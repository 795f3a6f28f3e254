"""Dimension look-ups for the filter bar and labels, and the freshness line."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from dashboard.data.context import DataContext, cached
from dashboard.data.filters import Scope
from dashboard.data.sql import read_df, scope_clause
from etl.warehouse.schema import dim_block, dim_district, dim_facility, dim_specialty, dim_state, etl_run


@cached
def states(ctx: DataContext, scope: Scope) -> pd.DataFrame:
    """States that hold at least one district the scope allows."""
    visible = select(dim_district.c.state_lgd).where(scope_clause(dim_district.c.district_lgd, scope))
    stmt = (select(dim_state.c.state_lgd, dim_state.c.name_en, dim_state.c.name_hi)
            .where(dim_state.c.state_lgd.in_(visible)).order_by(dim_state.c.name_en))
    with ctx.engine.connect() as conn:
        return read_df(conn, stmt)


@cached
def districts(ctx: DataContext, scope: Scope, state_lgds: tuple[int, ...] = ()) -> pd.DataFrame:
    c = dim_district.c
    stmt = select(c.district_lgd, c.census2011, c.state_lgd, c.name_en, c.name_hi).where(
        scope_clause(c.district_lgd, scope))
    if state_lgds:
        stmt = stmt.where(c.state_lgd.in_(state_lgds))
    with ctx.engine.connect() as conn:
        return read_df(conn, stmt.order_by(c.name_en))


@cached
def blocks(ctx: DataContext, scope: Scope, district_lgds: tuple[int, ...]) -> pd.DataFrame:
    c = dim_block.c
    stmt = select(c.block_lgd, c.district_lgd, c.name_en, c.name_hi).where(scope_clause(c.district_lgd, scope))
    if district_lgds:
        stmt = stmt.where(c.district_lgd.in_(district_lgds))
    with ctx.engine.connect() as conn:
        return read_df(conn, stmt.order_by(c.name_en))


@cached
def facilities(ctx: DataContext, scope: Scope, district_lgds: tuple[int, ...],
               block_lgds: tuple[int, ...] = ()) -> pd.DataFrame:
    """Facilities of the given districts (never the whole state: a facility list is offered per district)."""
    c = dim_facility.c
    stmt = select(c.facility_id, c.name, c.facility_type, c.role, c.district_lgd, c.block_lgd).where(
        scope_clause(c.district_lgd, scope), c.district_lgd.in_(district_lgds))
    if block_lgds:
        stmt = stmt.where(c.block_lgd.in_(block_lgds))
    with ctx.engine.connect() as conn:
        return read_df(conn, stmt.order_by(c.name))


@cached
def specialties(ctx: DataContext) -> pd.DataFrame:
    c = dim_specialty.c
    with ctx.engine.connect() as conn:
        return read_df(conn, select(c.specialty_code, c.name_en, c.name_hi).order_by(c.name_en))


@cached
def freshness(ctx: DataContext) -> pd.DataFrame:
    """When each dataset was last loaded (runs with status ``loaded``)."""
    c = etl_run.c
    stmt = (select(c.dataset, func.max(c.finished_at).label("last_loaded"))
            .where(c.status == "loaded", c.dataset.is_not(None)).group_by(c.dataset).order_by(c.dataset))
    with ctx.engine.connect() as conn:
        return read_df(conn, stmt)
