"""Shared WHERE-clause builders. Every value is a bound parameter; the scope is applied in every query.

Facility filters on consultation rows: a row matches when its spoke or its hub is one of the chosen facilities (or
of the chosen types). Facility counts (spokes, hubs) count the facilities that are themselves chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Column, ColumnElement, Connection, Select, Table, and_, false, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from dashboard.data.filters import Filter, Scope
from etl.warehouse.histogram import WAIT_BUCKET_COLUMNS
from etl.warehouse.schema import dim_cho, dim_facility, rollup_district_day, rollup_facility_day


def scope_clause(column: ColumnElement, scope: Scope) -> ColumnElement[bool]:
    if scope.all_districts:
        return true()
    if not scope.district_lgds:
        return false()
    return column.in_(sorted(scope.district_lgds))


def district_clauses(column: ColumnElement, f: Filter, scope: Scope) -> list[ColumnElement[bool]]:
    clauses = [scope_clause(column, scope)]
    if f.district_lgds:
        clauses.append(column.in_(f.district_lgds))
    return clauses


def ids_of_types(types: Sequence[str]) -> Select:
    return select(dim_facility.c.facility_id).where(dim_facility.c.facility_type.in_(list(types)))


def day_clauses(day: Column, start: date, end: date) -> list[ColumnElement[bool]]:
    return [day >= start, day <= end]


def consult_table(f: Filter) -> Table:
    return rollup_facility_day if f.needs_facility_rollup else rollup_district_day


def consult_clauses(table: Table, f: Filter, scope: Scope, *, start: date | None = None, end: date | None = None,
                    match: str = "either") -> list[ColumnElement[bool]]:
    """Clauses on a consultation rollup (district or facility) for the filter's period, or ``start``/``end``.

    ``match`` says which end of a consultation a facility filter applies to: "either", "spoke" or "hub".
    """
    c = table.c
    clauses = day_clauses(c.day, start or f.start, end or f.end)
    clauses += district_clauses(c.district_lgd, f, scope)
    if f.modes:
        clauses.append(c.mode.in_(f.modes))
    if f.specialties:
        clauses.append(c.specialty_code.in_(f.specialties))
    if table is rollup_facility_day:
        if f.block_lgds:
            clauses.append(c.block_lgd.in_(f.block_lgds))
        clauses += facility_clauses(c.spoke_id, c.hub_id, f, match)
    elif f.needs_facility_rollup:
        raise ValueError("this filter needs rollup_facility_day")
    return clauses


def facility_clauses(spoke: ColumnElement, hub: ColumnElement, f: Filter, match: str) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    for values, build in ((f.facility_ids, lambda col: col.in_(f.facility_ids)),
                          (f.facility_types, lambda col: col.in_(ids_of_types(f.facility_types)))):
        if not values:
            continue
        if match == "spoke":
            clauses.append(build(spoke))
        elif match == "hub":
            clauses.append(build(hub))
        else:
            clauses.append(or_(build(spoke), build(hub)))
    return clauses


def facility_dim_clauses(f: Filter, scope: Scope) -> list[ColumnElement[bool]]:
    """Facilities (dim_facility rows) under the filter's geography and type, within scope."""
    c = dim_facility.c
    clauses = district_clauses(c.district_lgd, f, scope)
    if f.block_lgds:
        clauses.append(c.block_lgd.in_(f.block_lgds))
    if f.facility_ids:
        clauses.append(c.facility_id.in_(f.facility_ids))
    if f.facility_types:
        clauses.append(c.facility_type.in_(f.facility_types))
    return clauses


def cho_dim_clauses(f: Filter, scope: Scope) -> list[ColumnElement[bool]]:
    """Active CHOs of the filter's districts, blocks, facilities and facility types, in scope."""
    c = dim_cho.c
    clauses = [c.active.is_(True), *district_clauses(c.district_lgd, f, scope)]
    if f.block_lgds:
        clauses.append(c.block_lgd.in_(f.block_lgds))
    if f.facility_ids:
        clauses.append(c.facility_id.in_(f.facility_ids))
    if f.facility_types:
        clauses.append(c.facility_id.in_(ids_of_types(f.facility_types)))
    return clauses


def read_df(conn: Connection, stmt: Select) -> pd.DataFrame:
    """The result of ``stmt`` as a frame. Built from plain tuples: from ``Row`` objects pandas probes each row's
    attributes, several times slower."""
    result = conn.execute(stmt)
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))


def bucket_sums(table: Table) -> list[ColumnElement]:
    from sqlalchemy import func

    return [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in WAIT_BUCKET_COLUMNS]


def all_of(clauses: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return and_(*clauses) if clauses else true()


class codepoints(FunctionElement):  # noqa: N801 - used like a SQL function
    """A text column ordered by code point, as Python sorts strings: SQLite's default (BINARY) order; PostgreSQL's
    "C" collation (its database collation may order by language rules)."""

    inherit_cache = True
    name = "codepoints"


@compiles(codepoints)
def _codepoints_default(element: codepoints, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(codepoints, "postgresql")
def _codepoints_postgresql(element: codepoints, compiler: Any, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)}) COLLATE "C"'
