"""Scheme tracking: the indicator catalogue, achievement against target by district, block or facility, the
monthly trend, laggards and the service packages each centre offers. ``fact_scheme_value`` (one row per facility,
indicator and month) and ``dim_scheme_indicator`` only.

The period selects the months it overlaps (a month is in when its first day is on or before the period's last day
and it is not before the month of the period's first day). *Achieved (%)* = 100 × Σ value ÷ Σ target over the rows
that have a target. Count indicators are summed; a flag indicator (unit ``flag``: the twelve service packages, 1 =
offered) gives the share of centres offering it. The service packages a centre offers are read from its latest
month with package flags on or before the period's last day. Mode and specialty filters do not apply.

Sums by indicator, district or month come from ``scheme_district_month`` and the package flags from
``scheme_package_month`` (kept by the ETL, etl.load.scheme_rollups) whenever their state says they are up to date
and the filter needs no finer grain (block, facility or facility type); otherwise, and for block and facility
breakdowns, from the facts. Both give the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    CTE,
    ColumnElement,
    CompoundSelect,
    Connection,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)

from dashboard.data.columns import rank_highest_first
from dashboard.data.context import DataContext, cached
from dashboard.data.filters import Filter, Scope
from dashboard.data.hubs import names, pick
from dashboard.data.sql import district_clauses, ids_of_types, read_df, scope_clause
from dashboard.data.tables import ColumnSpec, TableSpec
from dashboard.i18n import t
from etl.load.scheme_rollups import DISTRICT_MONTH, PACKAGE_MONTH, package_pivot, package_signature
from etl.warehouse.schema import (
    PACKAGE_FLAG_COLUMNS,
    dim_block,
    dim_district,
    dim_facility,
    dim_scheme_indicator,
    fact_scheme_value,
    scheme_district_month,
    scheme_moved_facility,
    scheme_package_month,
    scheme_rollup_state,
)

fsv = fact_scheme_value
ind = dim_scheme_indicator
sdm = scheme_district_month

LEVELS: tuple[str, ...] = ("district", "block", "facility")
DEFAULT_INDICATOR = "ABHA_CREATED"
INDICATOR_ORDER: tuple[str, ...] = ("ABHA_CREATED", "PMJAY_CARDS", "NCD_HTN", "NCD_DM", "NCD_ORAL", "NCD_BREAST",
                                    "NCD_CERVICAL", "WELLNESS", "FOOTFALL")
LAGGARD_PCT = 50.0
TREND_MIN_MONTHS = 6
PACKAGES = 12
PACKAGE_LOOKBACK_MONTHS = 12


def month_start(day: date) -> date:
    return day.replace(day=1)


def months_back(day: date, n: int) -> date:
    """First day of the month ``n`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def scheme_clauses(f: Filter, scope: Scope, *, first_month: date | None = None) -> list[ColumnElement[bool]]:
    """Rows of the period's months (or from ``first_month``) in the filter's geography and facility types."""
    clauses = [fsv.c.month >= (first_month or month_start(f.start)), fsv.c.month <= f.end,
               *district_clauses(fsv.c.district_lgd, f, scope)]
    if f.block_lgds:
        clauses.append(fsv.c.block_lgd.in_(f.block_lgds))
    if f.facility_ids:
        clauses.append(fsv.c.facility_id.in_(f.facility_ids))
    if f.facility_types:
        clauses.append(fsv.c.facility_id.in_(ids_of_types(f.facility_types)))
    return clauses


def _sums() -> list:
    with_target = case((fsv.c.target.is_not(None), fsv.c.value), else_=0)
    return [func.sum(fsv.c.value).label("value"), func.sum(with_target).label("value_with_target"),
            func.sum(fsv.c.target).label("target")]


def _floats(values: pd.Series) -> np.ndarray:
    """A column of sums as float64, missing (and unreadable) values as NaN."""
    try:
        return values.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _achieved(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s sums as floats, with % achieved (none without a positive target) and the gap to the target."""
    value, with_target, target = (_floats(frame[col]) for col in ("value", "value_with_target", "target"))
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(target > 0, 100.0 * np.nan_to_num(with_target, nan=0.0) / target, np.nan)
    gap = target - with_target
    frame["value"], frame["value_with_target"], frame["target"] = value, with_target, target
    frame["achieved_pct"] = pct
    frame["gap"] = np.where(gap < 0, 0.0, gap)  # a missing gap stays missing
    return frame


def _named_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Centres as whole numbers, and a name for every row (the key where the master has none)."""
    centres = frame["centres"]
    if not (isinstance(centres.dtype, np.dtype) and centres.dtype.kind in "iu"):
        centres = pd.to_numeric(centres, errors="coerce").fillna(0)
    frame["centres"] = centres.astype("int64")
    frame["name_en"] = frame["name_en"].fillna(frame["key"].astype(str))
    frame["name_hi"] = frame["name_hi"].fillna("")
    return frame


@dataclass(frozen=True)
class Rollups:
    """Which scheme rollups a reader may use now."""

    district_month: bool = False
    # Some facility was found in two places (scheme_moved_facility): the rollups leave it out, the facts add it.
    moved: bool = False
    # The indicator -> package map scheme_package_month was built with (None: stale or never built).
    packages: str | None = None


def rollups(ctx: DataContext, conn: Connection) -> Rollups:
    """The scheme rollups' state as a reader sees it now: one that a load has made stale is not used, nor any on a
    warehouse not yet at revision 0013 (its index on the package flags tells)."""
    if not ctx.has_index(scheme_package_month.name, ("facility_id", "month")):
        return Rollups()
    s = scheme_rollup_state.c
    fresh = {row.table_name: row.packages for row in
             conn.execute(select(s.table_name, s.packages).where(s.dirty_from.is_(None)))}
    moved = conn.execute(select(scheme_moved_facility.c.facility_id).limit(1)).first() is not None
    return Rollups(district_month=DISTRICT_MONTH in fresh, moved=moved, packages=fresh.get(PACKAGE_MONTH))


def by_district(f: Filter) -> bool:
    """Whether the filter can be answered per district (no block, facility or facility-type filter)."""
    return not (f.block_lgds or f.facility_ids or f.facility_types)


def _rollup_sums(keys: tuple[str, ...], f: Filter, scope: Scope, codes: list[str], first: date,
                 moved: bool) -> Select:
    """Centres and sums per ``keys`` (columns of scheme_district_month and of the facts: indicator_code, month,
    district_lgd) over the months from ``first`` to the period's end, as the facts give them."""
    t = sdm.c
    if "month" in keys:  # one month a group: each row of it is a centre
        centres = func.sum(t.facilities)
    else:  # a centre is counted in its first month of the period: it never reported before, or before the period
        centres = func.sum(case((or_(t.prev_month == t.month, t.prev_month < first), t.facilities), else_=0))
    stmt = (select(*[t[k] for k in keys], centres.label("centres"), func.sum(t.value).label("value"),
                   func.sum(t.value_with_target).label("value_with_target"), func.sum(t.target).label("target"))
            .where(t.month >= first, t.month <= f.end, *district_clauses(t.district_lgd, f, scope),
                   t.indicator_code.in_(codes))
            .group_by(*[t[k] for k in keys]))
    if not moved:
        return stmt
    # The facilities the rollup leaves out (found in two places), from the facts.
    movers = (select(*[fsv.c[k] for k in keys], func.count(fsv.c.facility_id.distinct()).label("centres"), *_sums())
              .where(*scheme_clauses(f, scope, first_month=first), fsv.c.indicator_code.in_(codes),
                     fsv.c.facility_id.in_(select(scheme_moved_facility.c.facility_id)))
              .group_by(*[fsv.c[k] for k in keys]))
    both = union_all(stmt, movers).subquery("both")
    return (select(*[both.c[k] for k in keys], *[func.sum(both.c[m]).label(m) for m in
                                                 ("centres", "value", "value_with_target", "target")])
            .group_by(*[both.c[k] for k in keys]))


@cached
def indicators(ctx: DataContext) -> pd.DataFrame:
    """The indicator dimension: the state's headline indicators first (``INDICATOR_ORDER``), then other counts,
    then the package flags by package."""
    c = ind.c
    with ctx.engine.connect() as conn:
        result = conn.execute(select(c.indicator_code, c.name_en, c.name_hi, c.unit, c.package))
        columns, rows = list(result.keys()), [tuple(row) for row in result.fetchall()]
    known = {code: i for i, code in enumerate(INDICATOR_ORDER)}

    def order(row: tuple) -> tuple[bool, int, float, str]:
        code, unit, package = row[0], row[3], row[4]
        return unit == "flag", known.get(code, len(known)), 0.0 if package is None else float(package), code

    # Sorted as plain tuples: a handful of rows, where pandas' per-call overhead would dominate.
    return pd.DataFrame(sorted(rows, key=order), columns=columns)


@dataclass(frozen=True)
class IndicatorCodes:
    """The catalogue's codes as plain values (cheap to hand out again within a request)."""

    every: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    # The flag indicators with their service package (None: none).
    packages: tuple[tuple[str, int | None], ...] = ()


@cached
def indicator_codes(ctx: DataContext) -> IndicatorCodes:
    frame = indicators(ctx)
    if frame.empty:
        return IndicatorCodes()
    rows = list(zip(frame["indicator_code"], frame["unit"], frame["package"], strict=True))
    return IndicatorCodes(every=tuple(str(code) for code, _, _ in rows),
                          counts=tuple(str(code) for code, unit, _ in rows if unit != "flag"),
                          packages=tuple((str(code), None if p is None or p != p else int(p))
                                         for code, unit, p in rows if unit == "flag"))


def count_indicator(ctx: DataContext, code: str | None) -> str:
    """``code`` if it is a known count indicator, else the default (or the first count indicator)."""
    counts = indicator_codes(ctx).counts
    if code in counts:
        return str(code)
    return DEFAULT_INDICATOR if DEFAULT_INDICATOR in counts or not counts else counts[0]


def _known(ctx: DataContext, code: str) -> bool:
    """Whether ``code`` is in the catalogue (the scheme rollups hold the catalogue's indicators only)."""
    return code in indicator_codes(ctx).every


@cached
def catalogue(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """Every indicator with its unit and package, and over the period and filter: centres reporting, value,
    target and % achieved."""
    known = indicators(ctx)
    codes = known["indicator_code"].tolist()
    with ctx.engine.connect() as conn:
        ready = rollups(ctx, conn)
        if ready.district_month and codes and by_district(f):
            stmt = _rollup_sums(("indicator_code",), f, scope, codes, month_start(f.start), ready.moved)
        else:
            # Only the catalogue's indicators are shown: naming them lets the (indicator, month) index seek each one.
            where = [fsv.c.indicator_code.in_(codes)] if codes else []
            stmt = (select(fsv.c.indicator_code, func.count(fsv.c.facility_id.distinct()).label("centres"), *_sums())
                    .where(*scheme_clauses(f, scope), *where).group_by(fsv.c.indicator_code))
        sums = read_df(conn, stmt)
    if sums.empty:
        sums = pd.DataFrame(columns=["indicator_code", "centres", "value", "value_with_target", "target"])
    frame = known.merge(sums, on="indicator_code", how="left")
    frame["centres"] = pd.to_numeric(frame["centres"], errors="coerce").fillna(0).astype("int64")
    frame["package"] = pd.to_numeric(frame["package"], errors="coerce").astype("Int64")
    return _achieved(frame)


# Per level: the fact columns a breakdown groups by (the key first), and the names joined to each group after the
# sums (a join per group, not per fact row).
LEVEL_KEYS: dict[str, tuple[str, ...]] = {"district": ("district_lgd",), "block": ("block_lgd", "district_lgd"),
                                          "facility": ("facility_id", "block_lgd", "district_lgd")}


def _named(sums: Subquery | CTE, level: str) -> Select:
    """The breakdown's rows of ``sums`` (its level keys, then centres and the sums) with their names."""
    s, fac, blk, dis = sums.c, dim_facility.c, dim_block.c, dim_district.c
    measures = [s.centres, s.value, s.value_with_target, s.target]
    source = sums.outerjoin(dim_district, dis.district_lgd == s.district_lgd)
    if level == "facility":
        source = (source.outerjoin(dim_facility, fac.facility_id == s.facility_id)
                  .outerjoin(dim_block, blk.block_lgd == s.block_lgd))
        cols = [s.facility_id.label("key"), fac.name.label("name_en"), fac.name.label("name_hi"), fac.facility_type,
                s.block_lgd, blk.name_en.label("block_en"), blk.name_hi.label("block_hi"), s.district_lgd,
                dis.name_en.label("district_en"), dis.name_hi.label("district_hi")]
    elif level == "block":
        source = source.outerjoin(dim_block, blk.block_lgd == s.block_lgd)
        cols = [s.block_lgd.label("key"), blk.name_en, blk.name_hi, s.district_lgd,
                dis.name_en.label("district_en"), dis.name_hi.label("district_hi")]
    else:
        cols = [s.district_lgd.label("key"), dis.name_en, dis.name_hi, dis.census2011]
    return select(*cols, *measures).select_from(source)


def _fact_sums(f: Filter, scope: Scope, indicator: str, level: str) -> Select:
    keys = [fsv.c[k] for k in LEVEL_KEYS[level]]
    # A facility row is one centre: no distinct count needed.
    centres = literal(1, Integer) if level == "facility" else func.count(fsv.c.facility_id.distinct())
    return (select(*keys, centres.label("centres"), *_sums())
            .where(*scheme_clauses(f, scope), fsv.c.indicator_code == indicator).group_by(*keys))


def _text_order(expr: ColumnElement, dialect: str) -> ColumnElement:
    """``expr`` compared by code point, as pandas sorts text (a PostgreSQL database's collation may not)."""
    return expr.collate("C") if dialect == "postgresql" else expr


@cached
def achievement(ctx: DataContext, f: Filter, scope: Scope, indicator: str, level: str = "district") -> pd.DataFrame:
    """Value, target and % achieved of ``indicator`` per district, block or facility under the filter, with the
    rank (1 = highest achievement); worst first is the laggards' order."""
    level = level if level in LEVELS else "district"
    with ctx.engine.connect() as conn:
        ready = rollups(ctx, conn)
        if level == "district" and ready.district_month and by_district(f) and _known(ctx, indicator):
            sums = _rollup_sums(("district_lgd",), f, scope, [indicator], month_start(f.start), ready.moved)
        else:
            sums = _fact_sums(f, scope, indicator, level)
        stmt = _named(sums.subquery("sums"), level)
        frame = read_df(conn, stmt)
    if frame.empty:
        frame = pd.DataFrame(columns=[c.name for c in stmt.selected_columns])
    frame = _named_rows(_achieved(frame))
    pct = frame["achieved_pct"].to_numpy()
    frame["rank"] = rank_highest_first(pct)
    # Rows without a target first, then the highest achievement, then by name; equal rows keep the database's order.
    highest_first, name = np.where(np.isnan(pct), -np.inf, -pct).tolist(), frame["name_en"].tolist()
    order = sorted(range(len(frame)), key=lambda i: (highest_first[i], name[i]))
    return frame.take(order).reset_index(drop=True)


def laggards(frame: pd.DataFrame, threshold: float = LAGGARD_PCT) -> pd.DataFrame:
    """Rows of ``achievement`` below ``threshold`` % of target, the furthest behind first."""
    if frame.empty:
        return frame
    out = frame[frame["achieved_pct"] < threshold]
    return out.sort_values(["achieved_pct", "gap", "name_en"], ascending=[True, False, True]).reset_index(drop=True)


def _facility_pct(n: Subquery) -> tuple[ColumnElement, ColumnElement]:
    """``_achieved``'s % achieved and gap as SQL over named facility sums (the same arithmetic, so the same
    doubles)."""
    pct = literal(100.0) * func.coalesce(n.c.value_with_target, 0) / case((n.c.target > 0, n.c.target))
    gap = n.c.target - n.c.value_with_target
    return pct, case((gap < 0, 0), else_=gap)


def _laggard_frame(ctx: DataContext, f: Filter, scope: Scope, indicator: str,
                   limit: int | None) -> tuple[pd.DataFrame, int, int, int]:
    """``laggards(achievement(..., "facility"))``, or its first ``limit`` rows, filtered and ordered in SQL; with the
    number of laggards, of centres with a target and of centres with a value (counted over every centre in the same
    query)."""
    # The facility sums once (materialised): counted over every centre, then the laggards named and ordered.
    sums = _fact_sums(f, scope, indicator, "facility").cte("sums").prefix_with("MATERIALIZED")
    pct_all, _ = _facility_pct(sums)
    behind_n = select(func.count(case((pct_all < LAGGARD_PCT, 1)))).correlate(None).scalar_subquery()
    with_target_n = select(func.count(case((sums.c.target > 0, 1)))).correlate(None).scalar_subquery()
    centres_n = select(func.count()).select_from(sums).correlate(None).scalar_subquery()
    # Only the laggards are named (a small share of the centres): the names are looked up for those rows alone.
    behind = select(sums).where(pct_all < LAGGARD_PCT).subquery("behind")
    n = _named(behind, "facility").subquery("named")
    pct, gap = _facility_pct(n)
    name = func.coalesce(n.c.name_en, n.c.key)
    dialect = ctx.engine.dialect.name
    # achievement's rows come in facility order, then by name; laggards keeps that order among equals.
    stmt = (select(n, behind_n.label("behind_"), with_target_n.label("with_target_"), centres_n.label("centres_"))
            .order_by(pct, gap.desc(), _text_order(name, dialect), _text_order(n.c.key, dialect),
                      n.c.block_lgd.nulls_first(), n.c.district_lgd.nulls_first()).limit(limit))
    with ctx.engine.connect() as conn:
        frame = read_df(conn, stmt)
        if frame.empty:  # no laggard row to carry the counts of centres
            counts = conn.execute(select(with_target_n, centres_n)).one()
            behind, with_target, centres = 0, int(counts[0] or 0), int(counts[1] or 0)
            frame = pd.DataFrame(columns=[c.name for c in stmt.selected_columns if not c.name.endswith("_")])
        else:
            behind, with_target, centres = (int(frame[k].iloc[0]) for k in ("behind_", "with_target_", "centres_"))
            frame = frame.drop(columns=["behind_", "with_target_", "centres_"])
    return _named_rows(_achieved(frame)), behind, with_target, centres


def trend_start(f: Filter) -> date:
    """The trend shows the period's months, and at least the ``TREND_MIN_MONTHS`` months to its last month."""
    return min(month_start(f.start), months_back(f.end, TREND_MIN_MONTHS - 1))


@cached
def monthly(ctx: DataContext, f: Filter, scope: Scope, indicator: str) -> pd.DataFrame:
    """Value, target and % achieved of ``indicator`` per month (see ``trend_start``), months without data kept."""
    first = trend_start(f)
    with ctx.engine.connect() as conn:
        ready = rollups(ctx, conn)
        if ready.district_month and by_district(f) and _known(ctx, indicator):
            stmt = _rollup_sums(("month",), f, scope, [indicator], first, ready.moved)
        else:
            stmt = (select(fsv.c.month, func.count(fsv.c.facility_id.distinct()).label("centres"), *_sums())
                    .where(*scheme_clauses(f, scope, first_month=first), fsv.c.indicator_code == indicator)
                    .group_by(fsv.c.month))
        frame = read_df(conn, stmt)
    months = []
    m = first
    while m <= f.end:
        months.append(m)
        m = months_back(m, -1)
    base = pd.DataFrame({"month": months})
    if frame.empty:
        frame = pd.DataFrame(columns=["month", "centres", "value", "value_with_target", "target"])
    frame["month"] = [pd.Timestamp(v).date() for v in frame["month"]]
    out = base.merge(frame, on="month", how="left")
    out["centres"] = pd.to_numeric(out["centres"], errors="coerce").fillna(0).astype("int64")
    return _achieved(out)


def _flag_packages(ctx: DataContext) -> dict[str, int | None]:
    """The flag indicators of the (cached) catalogue with their package (None: none)."""
    return dict(indicator_codes(ctx).packages)


def _latest_flags(ctx: DataContext, conn: Connection, f: Filter, scope: Scope,
                  package_of: dict[str, int | None]) -> Select | CompoundSelect:
    """Per centre under the filter: its latest month with package flags in the window to the period's last day, and
    ``pkg_01`` … ``pkg_12`` then. From the pivoted flags (one row per centre and month) when they are up to date,
    else pivoted here from the covering (indicator, month) index (the pivot tests codes, with no join)."""
    first = months_back(f.end, PACKAGE_LOOKBACK_MONTHS - 1)
    ready = rollups(ctx, conn)
    movers = select(scheme_moved_facility.c.facility_id)
    parts = []
    if ready.packages == package_signature(package_of):
        pm, later = scheme_package_month.alias("pm"), scheme_package_month.alias("later")
        newer = (select(later.c.month).where(later.c.facility_id == pm.c.facility_id, later.c.month > pm.c.month,
                                             later.c.month <= f.end, *_package_month_clauses(later.c, f, scope))
                 .exists())
        left_out = [pm.c.facility_id.not_in(movers)] if ready.moved else []
        parts.append(select(pm.c.facility_id, pm.c.month, *[pm.c[col] for col in PACKAGE_FLAG_COLUMNS])
                     .where(pm.c.month >= first, pm.c.month <= f.end, *_package_month_clauses(pm.c, f, scope),
                            *left_out, ~newer))
        if not ready.moved:
            return parts[0]
    # The centres the pivoted flags leave out (all of them when those are stale), from the facts.
    only = [fsv.c.facility_id.in_(movers)] if parts else []
    by_month = (select(fsv.c.facility_id, fsv.c.month, *package_pivot(package_of))
                .where(fsv.c.indicator_code.in_(sorted(package_of)), *scheme_clauses(f, scope, first_month=first),
                       *only)
                .group_by(fsv.c.facility_id, fsv.c.month)).subquery("by_month")
    newest = func.row_number().over(partition_by=by_month.c.facility_id, order_by=by_month.c.month.desc())
    ranked = select(by_month, newest.label("newest")).subquery("ranked")
    parts.append(select(*[c for c in ranked.c if c.name != "newest"]).where(ranked.c.newest == 1))
    return union_all(*parts) if len(parts) > 1 else parts[0]


PACKAGE_INFO = ["facility_id", "name", "facility_type", "district_lgd", "district_en", "district_hi", "block_lgd",
                "block_en", "block_hi", "month"]


def _package_rows(ctx: DataContext, latest: Subquery | CTE, scope: Scope, limit: int | None) -> Select:
    """The centres of ``latest`` with their names, by district, block and name (the first ``limit``)."""
    fac, dis, blk = dim_facility.c, dim_district.c, dim_block.c
    dialect = ctx.engine.dialect.name
    # Names from the master where the facility is in scope (its current district), as the grid shows them.
    source = (latest.outerjoin(dim_facility, and_(fac.facility_id == latest.c.facility_id,
                                                  scope_clause(fac.district_lgd, scope)))
              .outerjoin(dim_district, dis.district_lgd == fac.district_lgd)
              .outerjoin(dim_block, blk.block_lgd == fac.block_lgd))
    return (select(latest.c.facility_id, fac.name, fac.facility_type, fac.district_lgd,
                   dis.name_en.label("district_en"), dis.name_hi.label("district_hi"), fac.block_lgd,
                   blk.name_en.label("block_en"), blk.name_hi.label("block_hi"), latest.c.month,
                   *[latest.c[col] for col in PACKAGE_FLAG_COLUMNS])
            .select_from(source)
            .order_by(*[_text_order(c, dialect).nulls_last() for c in (dis.name_en, blk.name_en, fac.name)],
                      _text_order(latest.c.facility_id, dialect))
            .limit(limit))


def _package_counts(latest: Subquery | CTE) -> Select:
    """The number of centres, then per package the centres reporting it and offering it."""
    counts = [func.count().label("centres")]
    for col in PACKAGE_FLAG_COLUMNS:
        counts += [func.count(latest.c[col]).label(f"{col}_reported"),
                   func.count(case((latest.c[col] > 0, 1))).label(f"{col}_offered")]
    return select(*counts).select_from(latest)


def _package_frame(out: pd.DataFrame) -> pd.DataFrame:
    if out.empty:
        return pd.DataFrame(columns=[*PACKAGE_INFO, *PACKAGE_FLAG_COLUMNS, "offered"])
    out = out[[*PACKAGE_INFO, *PACKAGE_FLAG_COLUMNS]].copy()
    out["month"] = pd.Series(pd.to_datetime(out["month"].astype(str).str.slice(0, 10), format="%Y-%m-%d").dt.date
                             .to_numpy(dtype=object), index=out.index, dtype="object")
    # The flags as the query gives them (0, 1 or NULL), read as one array: NULL stays missing, offered counts the 1s.
    flags = out[list(PACKAGE_FLAG_COLUMNS)].to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(flags)
    whole = np.where(missing, 0, flags).astype(np.int64)
    for j, col in enumerate(PACKAGE_FLAG_COLUMNS):
        out[col] = pd.arrays.IntegerArray(whole[:, j], missing[:, j])
    out["offered"] = whole.sum(axis=1)
    return out


def _summary(counts: list[int]) -> tuple[pd.DataFrame, int]:
    """The coverage and the number of centres from ``_package_counts``' row."""
    pairs = [(int(counts[2 * k - 1] or 0), int(counts[2 * k] or 0)) for k in range(1, PACKAGES + 1)]
    return _coverage(pairs), int(counts[0] or 0)


PACKAGE_INFO = ["facility_id", "name", "facility_type", "district_lgd", "district_en", "district_hi", "block_lgd",
                "block_en", "block_hi", "month"]


@cached
def packages(ctx: DataContext, f: Filter, scope: Scope, limit: int | None = None) -> pd.DataFrame:
    """One row per centre under the filter with package flags (the first ``limit`` rows: what a grid shows): its
    latest month with flags on or before the period's last day (looking back at most a year), ``pkg_01`` …
    ``pkg_12`` (1 offered, 0 not, missing when not reported) and the number offered; by district, block and name.
    The latest month, the names and the order come from SQL: only the rows returned cross the wire."""
    package_of = _flag_packages(ctx)
    if not package_of:
        return _package_frame(pd.DataFrame())
    with ctx.engine.connect() as conn:
        latest = _latest_flags(ctx, conn, f, scope, package_of).subquery("latest")
        return _package_frame(read_df(conn, _package_rows(ctx, latest, scope, limit)))


@cached
def package_summary(ctx: DataContext, f: Filter, scope: Scope) -> tuple[pd.DataFrame, int]:
    """``package_coverage(packages(...))`` and the number of centres with package flags, summed in SQL."""
    package_of = _flag_packages(ctx)
    if not package_of:
        return _summary([0] * (1 + 2 * PACKAGES))
    with ctx.engine.connect() as conn:
        latest = _latest_flags(ctx, conn, f, scope, package_of).subquery("latest")
        return _summary(list(conn.execute(_package_counts(latest)).one()))


def _package_month_clauses(pm: Any, f: Filter, scope: Scope) -> list[ColumnElement[bool]]:
    """``scheme_clauses``' geography and facility filters on scheme_package_month's columns ``pm``."""
    clauses = district_clauses(pm.district_lgd, f, scope)
    if f.block_lgds:
        clauses.append(pm.block_lgd.in_(f.block_lgds))
    if f.facility_ids:
        clauses.append(pm.facility_id.in_(f.facility_ids))
    if f.facility_types:
        clauses.append(pm.facility_id.in_(ids_of_types(f.facility_types)))
    return clauses


def package_coverage(frame: pd.DataFrame) -> pd.DataFrame:
    """Per package 1..12: centres reporting it, centres offering it and the share offering."""
    counts = []
    for k in range(1, PACKAGES + 1):
        values = frame[f"pkg_{k:02d}"].dropna() if not frame.empty else pd.Series(dtype="Int64")
        counts.append((int(len(values)), int((values > 0).sum())))
    return _coverage(counts)


def _coverage(counts: list[tuple[int, int]]) -> pd.DataFrame:
    """The coverage frame from (centres reporting, centres offering) per package, 1 first."""
    return pd.DataFrame([{"package": k, "reported": reported, "offered": offered,
                          "offered_pct": 100.0 * offered / reported if reported else np.nan}
                         for k, (reported, offered) in enumerate(counts, start=1)])


# ---------------------------------------------------------------- the tables behind the views (grids and CSV)
# Cached as labelled: a warm grid update or export is a cache read. The key holds the query's parameters and language.

CATALOGUE_COLUMNS = (
    ColumnSpec("indicator_code", "col.indicator_code", "code", "Indicator code."),
    ColumnSpec("indicator", "col.indicator", "text", "Indicator."),
    ColumnSpec("unit", "col.unit", "text", "count (summed) or flag (1 = yes; shown as the share of centres)."),
    ColumnSpec("package", "col.package", "code", "Service package (1-12) the indicator belongs to, if any."),
    ColumnSpec("centres", "col.centres", "int", "Centres reporting the indicator in the period."),
    ColumnSpec("value", "col.value", "float", "Sum of the reported values."),
    ColumnSpec("target", "col.target", "float", "Sum of the targets."),
    ColumnSpec("achieved_pct", "col.achieved_pct", "pct", "100 x value / target, over rows with a target."),
)

ACHIEVEMENT_COLUMNS = (
    ColumnSpec("rank", "col.rank", "int", "Rank by % of target achieved (1 = highest)."),
    ColumnSpec("key", "col.code", "code", "District or block LGD code, or facility identifier."),
    ColumnSpec("name", "col.name", "text", "District, block or facility."),
    ColumnSpec("block", "col.block", "text", "Block (facility rows)."),
    ColumnSpec("district", "col.district", "text", "District (block and facility rows)."),
    ColumnSpec("centres", "col.centres", "int", "Centres reporting the indicator in the period."),
    ColumnSpec("value", "col.value", "float", "Sum of the reported values."),
    ColumnSpec("target", "col.target", "float", "Sum of the targets."),
    ColumnSpec("achieved_pct", "col.achieved_pct", "pct", "100 x value / target."),
    ColumnSpec("gap", "col.gap", "float", "Target not yet reached (0 when met)."),
)

LAGGARD_COLUMNS = tuple(c for c in ACHIEVEMENT_COLUMNS if c.key not in {"rank", "centres"})

TREND_COLUMNS = (
    ColumnSpec("month", "col.month", "date", "First day of the month."),
    ColumnSpec("centres", "col.centres", "int", "Centres reporting the indicator in the month."),
    ColumnSpec("value", "col.value", "float", "Sum of the reported values."),
    ColumnSpec("target", "col.target", "float", "Sum of the targets."),
    ColumnSpec("achieved_pct", "col.achieved_pct", "pct", "100 x value / target."),
)

PACKAGE_COLUMNS = (
    ColumnSpec("facility_id", "col.facility_id", "code", "Centre identifier."),
    ColumnSpec("facility", "col.facility", "text", "Centre name."),
    ColumnSpec("block", "col.block", "text", "Block."),
    ColumnSpec("district", "col.district", "text", "District."),
    ColumnSpec("month", "col.month", "date", "Month the package flags were reported (the latest)."),
    *(ColumnSpec(f"pkg_{k:02d}", f"pkg.short.{k}", "int", f"1 if service package {k} is offered, 0 if not.")
      for k in range(1, PACKAGES + 1)),
    ColumnSpec("offered", "col.offered", "int", "Packages offered, of 12."),
)

PACKAGE_COVERAGE_COLUMNS = (
    ColumnSpec("package", "col.package", "code", "Service package number."),
    ColumnSpec("package_name", "col.package_name", "text", "Service package."),
    ColumnSpec("reported", "col.centres", "int", "Centres that reported the package flag."),
    ColumnSpec("offered", "col.offering", "int", "Centres offering the package."),
    ColumnSpec("offered_pct", "col.offered_pct", "pct", "Share of reporting centres offering it."),
)


def level_param(params: Mapping[str, str]) -> str:
    raw = params.get("by", "")
    return raw if raw in LEVELS else LEVELS[0]


@cached
def catalogue_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    frame = catalogue(ctx, f, scope).copy()
    frame["indicator"] = names(frame, lang, "name_en", "name_hi")
    frame["unit"] = [t(f"unit.{u}", lang) for u in frame["unit"]]
    return pick(frame, CATALOGUE_COLUMNS)


def _achievement_labels(frame: pd.DataFrame, level: str, lang: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["name"] = names(frame, lang, "name_en", "name_hi")
    frame["block"] = names(frame, lang, "block_en", "block_hi") if level == "facility" else ""
    frame["district"] = names(frame, lang, "district_en", "district_hi") if level != "district" else frame["name"]
    frame["key"] = frame["key"].astype(str) if not frame.empty else frame["key"]
    return frame


@cached
def achievement_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str],
                      lang: str) -> pd.DataFrame:
    level = level_param(params)
    frame = achievement(ctx, f, scope, count_indicator(ctx, params.get("ind")), level)
    return pick(_achievement_labels(frame, level, lang), ACHIEVEMENT_COLUMNS)


@cached
def districts_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    frame = achievement(ctx, f, scope, count_indicator(ctx, params.get("ind")), "district")
    return pick(_achievement_labels(frame, "district", lang), ACHIEVEMENT_COLUMNS)


@cached
def laggards_grid(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str,
                  limit: int | None) -> tuple[pd.DataFrame, int, int, int]:
    """The laggards table's first ``limit`` rows (what a grid shows), the number of laggards, of centres with a
    target and of centres with a value (none: nothing to show)."""
    frame, behind, with_target, centres = _laggard_frame(ctx, f, scope, count_indicator(ctx, params.get("ind")),
                                                         limit)
    return pick(_achievement_labels(frame, "facility", lang), LAGGARD_COLUMNS), behind, with_target, centres


@cached
def laggards_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    return laggards_grid(ctx, f, scope, params, lang, None)[0]


@cached
def trend_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    return pick(monthly(ctx, f, scope, count_indicator(ctx, params.get("ind"))), TREND_COLUMNS)


def _package_labels(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["facility"] = frame["name"].fillna(frame["facility_id"]) if not frame.empty else frame["name"]
    frame["block"] = names(frame, lang, "block_en", "block_hi")
    frame["district"] = names(frame, lang, "district_en", "district_hi")
    return pick(frame, PACKAGE_COLUMNS)


def _coverage_labels(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["package_name"] = [t(f"pkg.{k}", lang) for k in frame["package"]]
    return pick(frame, PACKAGE_COVERAGE_COLUMNS)


@cached
def packages_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    return _package_labels(packages(ctx, f, scope), lang)


@cached
def package_coverage_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str],
                           lang: str) -> pd.DataFrame:
    return _coverage_labels(package_summary(ctx, f, scope)[0], lang)


def _pivoted(ctx: DataContext) -> bool:
    """Whether the package-month rollup is fresh for the flags the catalogue defines."""
    with ctx.engine.connect() as conn:
        return rollups(ctx, conn).packages == package_signature(_flag_packages(ctx))


@cached
def package_view(ctx: DataContext, f: Filter, scope: Scope, lang: str) -> tuple[pd.DataFrame, int]:
    """What the packages chart and its note show: the coverage table and the number of centres with package flags
    (summed in SQL from the fresh rollup; else from pivoting the facts)."""
    if _pivoted(ctx):
        coverage, centres = package_summary(ctx, f, scope)
    else:
        every = packages(ctx, f, scope)
        coverage, centres = package_coverage(every), len(every)
    return _coverage_labels(coverage, lang), centres


@cached
def packages_grid(ctx: DataContext, f: Filter, scope: Scope, lang: str, limit: int) -> pd.DataFrame:
    """The packages table's first ``limit`` rows (what a grid shows; the CSV has every row)."""
    return _package_labels(packages(ctx, f, scope, limit), lang)


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("schemes-catalogue", CATALOGUE_COLUMNS, catalogue_table),
        TableSpec("schemes-achievement", ACHIEVEMENT_COLUMNS, achievement_table),
        TableSpec("schemes-districts", ACHIEVEMENT_COLUMNS, districts_table),
        TableSpec("schemes-laggards", LAGGARD_COLUMNS, laggards_table),
        TableSpec("schemes-trend", TREND_COLUMNS, trend_table),
        TableSpec("schemes-packages", PACKAGE_COLUMNS, packages_table),
        TableSpec("schemes-package-coverage", PACKAGE_COVERAGE_COLUMNS, package_coverage_table),
    )
}
