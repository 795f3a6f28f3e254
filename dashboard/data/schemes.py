"""Scheme tracking: the indicator catalogue, achievement against target by district, block or facility, the
monthly trend, laggards and the service packages each centre offers. ``fact_scheme_value`` (one row per facility,
indicator and month) and ``dim_scheme_indicator`` only.

The period selects the months it overlaps (a month is in when its first day is on or before the period's last day
and it is not before the month of the period's first day). *Achieved (%)* = 100 × Σ value ÷ Σ target over the rows
that have a target. Count indicators are summed; a flag indicator (unit ``flag``: the twelve service packages, 1 =
offered) gives the share of centres offering it. The service packages a centre offers are read from its latest
month with package flags on or before the period's last day. Mode and specialty filters do not apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Integer, Select, Subquery, case, func, literal, select

from dashboard.data.context import DataContext, cached
from dashboard.data.filters import Filter, Scope
from dashboard.data.hubs import names, pick, read_frame
from dashboard.data.sql import district_clauses, ids_of_types, scope_clause
from dashboard.data.tables import ColumnSpec, TableSpec
from dashboard.i18n import t
from etl.warehouse.schema import dim_block, dim_district, dim_facility, dim_scheme_indicator, fact_scheme_value

fsv = fact_scheme_value
ind = dim_scheme_indicator

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


def _achieved(frame: pd.DataFrame) -> pd.DataFrame:
    for col in ("value", "value_with_target", "target"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    target = frame["target"].where(frame["target"] > 0)
    frame["achieved_pct"] = 100.0 * frame["value_with_target"].fillna(0) / target
    frame["gap"] = (frame["target"] - frame["value_with_target"]).clip(lower=0)
    return frame


@cached
def indicators(ctx: DataContext) -> pd.DataFrame:
    """The indicator dimension: the state's headline indicators first (``INDICATOR_ORDER``), then other counts,
    then the package flags by package."""
    c = ind.c
    with ctx.engine.connect() as conn:
        frame = read_frame(conn, select(c.indicator_code, c.name_en, c.name_hi, c.unit, c.package))
    if frame.empty:
        return frame
    known = {code: i for i, code in enumerate(INDICATOR_ORDER)}
    frame["_flag"] = frame["unit"] == "flag"
    frame["_k"] = [known.get(code, len(known)) for code in frame["indicator_code"]]
    frame["_p"] = pd.to_numeric(frame["package"], errors="coerce").fillna(0)
    frame = frame.sort_values(["_flag", "_k", "_p", "indicator_code"])
    return frame.drop(columns=["_flag", "_k", "_p"]).reset_index(drop=True)


def count_indicator(ctx: DataContext, code: str | None) -> str:
    """``code`` if it is a known count indicator, else the default (or the first count indicator)."""
    frame = indicators(ctx)
    counts = frame[frame["unit"] != "flag"]["indicator_code"].tolist()
    if code in counts:
        return str(code)
    return DEFAULT_INDICATOR if DEFAULT_INDICATOR in counts or not counts else counts[0]


@cached
def catalogue(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """Every indicator with its unit and package, and over the period and filter: centres reporting, value,
    target and % achieved."""
    known = indicators(ctx)
    # Only the catalogue's indicators are shown: naming them lets the (indicator, month) index seek each one.
    codes = [fsv.c.indicator_code.in_(known["indicator_code"].tolist())] if not known.empty else []
    stmt = (select(fsv.c.indicator_code, func.count(fsv.c.facility_id.distinct()).label("centres"), *_sums())
            .where(*scheme_clauses(f, scope), *codes).group_by(fsv.c.indicator_code))
    with ctx.engine.connect() as conn:
        sums = read_frame(conn, stmt)
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


def _named(sums: Subquery, level: str) -> Select:
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


@cached
def achievement(ctx: DataContext, f: Filter, scope: Scope, indicator: str, level: str = "district") -> pd.DataFrame:
    """Value, target and % achieved of ``indicator`` per district, block or facility under the filter, with the
    rank (1 = highest achievement); worst first is the laggards' order."""
    level = level if level in LEVELS else "district"
    keys = [fsv.c[k] for k in LEVEL_KEYS[level]]
    # A facility row is one centre: no distinct count needed.
    centres = literal(1, Integer) if level == "facility" else func.count(fsv.c.facility_id.distinct())
    sums = (select(*keys, centres.label("centres"), *_sums())
            .where(*scheme_clauses(f, scope), fsv.c.indicator_code == indicator).group_by(*keys).subquery("sums"))
    stmt = _named(sums, level)
    with ctx.engine.connect() as conn:
        frame = read_frame(conn, stmt)
    if frame.empty:
        frame = pd.DataFrame(columns=[c.name for c in stmt.selected_columns])
    frame = _achieved(frame)
    frame["centres"] = pd.to_numeric(frame["centres"], errors="coerce").fillna(0).astype("int64")
    frame["name_en"] = frame["name_en"].fillna(frame["key"].astype(str))
    frame["name_hi"] = frame["name_hi"].fillna("")
    frame["rank"] = frame["achieved_pct"].rank(method="min", ascending=False).astype("Int64")
    order = frame.assign(_k=frame["achieved_pct"].fillna(np.inf))
    return order.sort_values(["_k", "name_en"], ascending=[False, True]).drop(columns="_k").reset_index(drop=True)


def laggards(frame: pd.DataFrame, threshold: float = LAGGARD_PCT) -> pd.DataFrame:
    """Rows of ``achievement`` below ``threshold`` % of target, the furthest behind first."""
    if frame.empty:
        return frame
    out = frame[frame["achieved_pct"] < threshold]
    return out.sort_values(["achieved_pct", "gap", "name_en"], ascending=[True, False, True]).reset_index(drop=True)


def trend_start(f: Filter) -> date:
    """The trend shows the period's months, and at least the ``TREND_MIN_MONTHS`` months to its last month."""
    return min(month_start(f.start), months_back(f.end, TREND_MIN_MONTHS - 1))


@cached
def monthly(ctx: DataContext, f: Filter, scope: Scope, indicator: str) -> pd.DataFrame:
    """Value, target and % achieved of ``indicator`` per month (see ``trend_start``), months without data kept."""
    first = trend_start(f)
    stmt = (select(fsv.c.month, func.count(fsv.c.facility_id.distinct()).label("centres"), *_sums())
            .where(*scheme_clauses(f, scope, first_month=first), fsv.c.indicator_code == indicator)
            .group_by(fsv.c.month))
    with ctx.engine.connect() as conn:
        frame = read_frame(conn, stmt)
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


@cached
def packages(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """One row per centre under the filter with package flags: its latest month with flags on or before the period's
    last day (looking back at most a year), ``pkg_01`` … ``pkg_12`` (1 offered, 0 not, missing when not reported)
    and the number offered. The pivot runs in SQL: one row per centre and month crosses the wire."""
    # The flag indicators of each package from the (cached) catalogue: the pivot tests codes, with no join.
    known = indicators(ctx)
    flag_rows = known[known["unit"] == "flag"] if not known.empty else known
    package_of = {str(code): int(p) for code, p in zip(flag_rows.get("indicator_code", []),
                                                       pd.to_numeric(flag_rows.get("package", pd.Series(dtype=float)),
                                                                     errors="coerce"), strict=True) if p == p}
    flags = sorted(str(code) for code in flag_rows.get("indicator_code", []))
    package_cols = [f"pkg_{k:02d}" for k in range(1, PACKAGES + 1)]
    info = ["facility_id", "name", "facility_type", "district_lgd", "district_en", "district_hi", "block_lgd",
            "block_en", "block_hi", "month"]
    if not flags:
        return pd.DataFrame(columns=[*info, *package_cols, "offered"])
    clauses = scheme_clauses(f, scope, first_month=months_back(f.end, PACKAGE_LOOKBACK_MONTHS - 1))
    pivot = []
    for k, col in enumerate(package_cols, start=1):
        codes = [code for code, p in package_of.items() if p == k]
        offered = case((fsv.c.value > 0, 1), else_=0)
        pivot.append((func.max(case((fsv.c.indicator_code.in_(codes), offered))) if codes
                      else func.max(literal(None, Integer))).label(col))
    # The pivot per centre and month straight from the covering (indicator, month) index (no table row is read),
    # then each centre's latest month is kept: at most one row per centre and month of the window crosses the wire.
    stmt = (select(fsv.c.facility_id, fsv.c.month, *pivot)
            .where(fsv.c.indicator_code.in_(flags), *clauses).group_by(fsv.c.facility_id, fsv.c.month))
    fac = dim_facility.c
    # Names of every facility in scope (a plain read of the master), merged to the centres found.
    names = (select(fac.facility_id, fac.name, fac.facility_type, fac.district_lgd,
                    dim_district.c.name_en.label("district_en"), dim_district.c.name_hi.label("district_hi"),
                    fac.block_lgd, dim_block.c.name_en.label("block_en"), dim_block.c.name_hi.label("block_hi"))
             .select_from(dim_facility.outerjoin(dim_district, dim_district.c.district_lgd == fac.district_lgd)
                          .outerjoin(dim_block, dim_block.c.block_lgd == fac.block_lgd))
             .where(scope_clause(fac.district_lgd, scope)))
    with ctx.engine.connect() as conn:
        wide = read_frame(conn, stmt)
        if wide.empty:
            return pd.DataFrame(columns=[*info, *package_cols, "offered"])
        meta = read_frame(conn, names)
    wide = wide.sort_values(["facility_id", "month"]).drop_duplicates("facility_id", keep="last")
    out = wide.merge(meta, on="facility_id", how="left")[[*info, *package_cols]]
    out["month"] = pd.Series(pd.to_datetime(out["month"].astype(str).str.slice(0, 10), format="%Y-%m-%d").dt.date
                             .to_numpy(dtype=object), index=out.index, dtype="object")
    for col in package_cols:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("Int64")
    out["offered"] = out[package_cols].fillna(0).sum(axis=1).astype("int64")
    return out.sort_values(["district_en", "block_en", "name"], na_position="last").reset_index(drop=True)


def package_coverage(frame: pd.DataFrame) -> pd.DataFrame:
    """Per package 1..12: centres reporting it, centres offering it and the share offering."""
    rows = []
    for k in range(1, PACKAGES + 1):
        col = f"pkg_{k:02d}"
        values = frame[col].dropna() if not frame.empty else pd.Series(dtype="Int64")
        reported, offered = int(len(values)), int((values > 0).sum())
        rows.append({"package": k, "reported": reported, "offered": offered,
                     "offered_pct": 100.0 * offered / reported if reported else np.nan})
    return pd.DataFrame(rows)


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
def laggards_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    frame = laggards(achievement(ctx, f, scope, count_indicator(ctx, params.get("ind")), "facility"))
    return pick(_achievement_labels(frame, "facility", lang), LAGGARD_COLUMNS)


@cached
def trend_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    return pick(monthly(ctx, f, scope, count_indicator(ctx, params.get("ind"))), TREND_COLUMNS)


@cached
def packages_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    frame = packages(ctx, f, scope).copy()
    frame["facility"] = frame["name"].fillna(frame["facility_id"]) if not frame.empty else frame["name"]
    frame["block"] = names(frame, lang, "block_en", "block_hi")
    frame["district"] = names(frame, lang, "district_en", "district_hi")
    return pick(frame, PACKAGE_COLUMNS)


@cached
def package_coverage_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str],
                           lang: str) -> pd.DataFrame:
    frame = package_coverage(packages(ctx, f, scope))
    frame["package_name"] = [t(f"pkg.{k}", lang) for k in frame["package"]]
    return pick(frame, PACKAGE_COVERAGE_COLUMNS)


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
