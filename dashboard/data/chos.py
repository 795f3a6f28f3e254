"""Community Health Officers: the roster with activity in the period, silent CHOs, distributions, the block or
district comparison, and laptop and training coverage per district. ``rollup_cho_day`` and ``dim_cho`` only.

A CHO is *active on a day* when the CHO-day rollup has a consultation for them that day; *silent* when the last
such day is 7 or more days before the period's last day (or there is none). A laptop counts as issued when its
issue date is on or before the period's last day ("not yet" otherwise). Training is modules completed of 18.
The roster lists CHOs marked active in the master. Mode and specialty filters do not apply: the CHO rollup has
neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import String, and_, case, cast, func, select

from dashboard.data import cumulative as running
from dashboard.data.activity import cho_last_day
from dashboard.data.context import DataContext, cached
from dashboard.data.filters import Filter, Scope
from dashboard.data.hubs import iso_dates, names, pick, read_frame
from dashboard.data.sql import cho_dim_clauses, district_clauses, scope_clause
from dashboard.data.tables import ColumnSpec, TableSpec
from dashboard.i18n import t
from etl.warehouse.schema import cumulative_cho_day, dim_block, dim_cho, dim_district, dim_facility, rollup_cho_day

SILENT_DAYS = 7
TRAINING_MODULES = 18
GROUPINGS: tuple[str, ...] = ("district", "block")
DISTRIBUTIONS: tuple[str, ...] = ("consultations", "active_days", "training_modules", "days_silent")
COVERAGE_METRICS: tuple[str, ...] = ("laptop_pct", "training_pct", "fully_trained_pct")

rcd = rollup_cho_day
cho = dim_cho


def _days_between(later: date, earlier: pd.Series) -> pd.Series:
    return pd.Series([None if v is None or pd.isna(v) else (later - v).days for v in earlier], index=earlier.index,
                     dtype="Int64")


def _as_date(value: object) -> date | None:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):  # what the driver returns for a Date column: no conversion
        return value
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


@cached
def roster(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """One row per active CHO under the filter: facility, block, district, joined on, active days and
    consultations in the period, last active day up to the period's end, days silent, laptop (issued by the end of
    the period), training modules."""
    c = cho.c
    ids = select(c.cho_id).where(*cho_dim_clauses(f, scope))
    dims = (
        select(c.cho_id, c.name, c.facility_id, dim_facility.c.name.label("facility_name"),
               dim_facility.c.facility_type, c.district_lgd, dim_district.c.name_en.label("district_en"),
               dim_district.c.name_hi.label("district_hi"), c.block_lgd, dim_block.c.name_en.label("block_en"),
               dim_block.c.name_hi.label("block_hi"), cast(c.joined_on, String).label("joined_on"),
               cast(c.laptop_issued_on, String).label("laptop_issued_on"), c.training_modules)
        .select_from(cho.outerjoin(dim_facility, dim_facility.c.facility_id == c.facility_id)
                     .outerjoin(dim_district, dim_district.c.district_lgd == c.district_lgd)
                     .outerjoin(dim_block, dim_block.c.block_lgd == c.block_lgd))
        .where(*cho_dim_clauses(f, scope))
        .order_by(dim_district.c.name_en, c.name, c.cho_id)
    )
    # (day, cho_id) is the rollup's key: one row per active day, so a plain count is the distinct-day count.
    activity = (select(rcd.c.cho_id, func.sum(rcd.c.consultations).label("consultations"),
                       func.count().label("active_days"))
                .where(rcd.c.day >= f.start, rcd.c.day <= f.end, rcd.c.consultations > 0, rcd.c.cho_id.in_(ids),
                       scope_clause(rcd.c.district_lgd, scope))
                .group_by(rcd.c.cho_id))
    # One backward probe along (cho_id, day) per CHO, not a GROUP BY over the whole history.
    last = (select(c.cho_id, cast(cho_last_day(ctx, c.cho_id, c.district_lgd, f.end), String).label("last_active"))
            .where(*cho_dim_clauses(f, scope)))
    with ctx.engine.connect() as conn:
        frame = read_frame(conn, dims)
        sp = running.span(conn, cumulative_cho_day, f.start, f.end)
        if sp is not None:  # two running-total rows per CHO instead of the CHO's rollup rows of the period
            totals = read_frame(conn, running.activity(sp, cumulative_cho_day, "cho_id", ids)).rename(
                columns={"key": "cho_id", "last_day": "last_active"})
            act = totals[["cho_id", "consultations", "active_days"]] if not totals.empty else totals
            latest = totals[["cho_id", "last_active"]] if not totals.empty else totals
        else:
            act = read_frame(conn, activity)
            latest = read_frame(conn, last)
    latest = latest[latest["last_active"].notna()] if not latest.empty else latest
    if act.empty:
        act = pd.DataFrame(columns=["cho_id", "consultations", "active_days"])
    if latest.empty:
        latest = pd.DataFrame(columns=["cho_id", "last_active"])
    frame = frame.merge(act, on="cho_id", how="left").merge(latest, on="cho_id", how="left")
    for col in ("consultations", "active_days", "training_modules"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0).astype("int64")
    for col in ("last_active", "joined_on", "laptop_issued_on"):
        frame[col] = iso_dates(frame[col])  # ISO text from the query: one vectorised parse
    frame["days_silent"] = _days_between(f.end, frame["last_active"])
    frame["silent"] = frame["days_silent"].isna() | (frame["days_silent"].fillna(0) >= SILENT_DAYS)
    frame["has_laptop"] = pd.Series([v is not None and v <= f.end for v in frame["laptop_issued_on"]],
                                    index=frame.index, dtype="bool")
    frame["laptop_on"] = pd.Series([v if ok else None for v, ok in zip(frame["laptop_issued_on"], frame["has_laptop"],
                                                                       strict=True)], index=frame.index,
                                   dtype="object")
    frame["fully_trained"] = frame["training_modules"] >= TRAINING_MODULES
    return frame


def silent(frame: pd.DataFrame) -> pd.DataFrame:
    """CHOs of ``roster`` silent for 7 days or more (never active first, then the longest silent)."""
    out = frame[frame["silent"]] if not frame.empty else frame
    if out.empty:
        return out
    key = out["days_silent"].fillna(10**9).astype("int64")
    return out.assign(_k=key).sort_values(["_k", "name"], ascending=[False, True]).drop(columns="_k").reset_index(
        drop=True)


def grouping(f: Filter, requested: str) -> str:
    """District comparison by default; by block when asked, or when the filter holds exactly one district."""
    if requested in GROUPINGS:
        return requested
    return "block" if len(f.district_lgds) == 1 else "district"


def compare(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per district or block: CHOs, active CHOs (any activity in the period), silent, consultations, per CHO,
    mean active days, laptop and training coverage."""
    key, en, hi = ("block_lgd", "block_en", "block_hi") if by == "block" else ("district_lgd", "district_en",
                                                                               "district_hi")
    columns = ["key", "name_en", "name_hi", "chos", "chos_active", "chos_silent", "consultations", "per_cho",
               "active_days_mean", "laptop_pct", "training_mean", "training_pct", "fully_trained_pct"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    work = frame.assign(key=frame[key].fillna(-1).astype("int64"), name_en=frame[en].fillna("–"),
                        name_hi=frame[hi].fillna(""), is_active=frame["active_days"] > 0)
    out = (work.groupby(["key", "name_en", "name_hi"], as_index=False, dropna=False)
           .agg(chos=("cho_id", "count"), chos_active=("is_active", "sum"), chos_silent=("silent", "sum"),
                consultations=("consultations", "sum"), active_days_mean=("active_days", "mean"),
                laptops=("has_laptop", "sum"), training_mean=("training_modules", "mean"),
                fully=("fully_trained", "sum")))
    for col in ("chos", "chos_active", "chos_silent", "consultations", "laptops", "fully"):
        out[col] = out[col].astype("int64")
    out["per_cho"] = out["consultations"] / out["chos"]
    out["laptop_pct"] = 100.0 * out["laptops"] / out["chos"]
    out["training_pct"] = 100.0 * out["training_mean"] / TRAINING_MODULES
    out["fully_trained_pct"] = 100.0 * out["fully"] / out["chos"]
    return out.sort_values(["consultations", "name_en"], ascending=[False, True])[columns].reset_index(drop=True)


def distribution(frame: pd.DataFrame, measure: str) -> pd.DataFrame:
    """How many CHOs have each value (or each bin) of ``measure``: columns low, high, label, chos."""
    measure = measure if measure in DISTRIBUTIONS else DISTRIBUTIONS[0]
    if frame.empty:
        return pd.DataFrame(columns=["low", "high", "chos"])
    if measure == "training_modules":
        values = frame["training_modules"].astype("int64")
        counts = values.value_counts().reindex(range(TRAINING_MODULES + 1), fill_value=0)
        return pd.DataFrame({"low": counts.index, "high": counts.index, "chos": counts.to_numpy()})
    if measure == "days_silent":
        # Never active counts in the last bin.
        values = frame["days_silent"].fillna(10**6).astype("int64")
        edges = [0, 1, 3, 7, 14, 30, 60, 10**9]
    else:
        values = frame[measure].astype("int64")
        top = int(values.max()) if len(values) else 0
        edges = _integer_bins(top)
    counts = np.histogram(values, bins=edges)[0]
    return pd.DataFrame({"low": edges[:-1], "high": [e - 1 for e in edges[1:]], "chos": counts.astype("int64")})


def _integer_bins(top: int, target: int = 12) -> list[int]:
    """Bin edges [0, w, 2w, …] of whole-number width covering 0..top in about ``target`` bins."""
    width = max(1, -(-(top + 1) // target))
    for nice in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if nice >= width:
            width = nice
            break
    return list(range(0, top + width + 1, width))


@cached
def coverage(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """Per district in scope (and in the filter) that has active CHOs — or that the filter names: active CHOs,
    laptops issued by the period's end, mean training modules and fully trained CHOs, with percentages (none for a
    named district without CHOs)."""
    c = cho.c
    laptop = case((and_(c.laptop_issued_on.is_not(None), c.laptop_issued_on <= f.end), 1), else_=0)
    full = case((c.training_modules >= TRAINING_MODULES, 1), else_=0)
    stmt = (select(c.district_lgd, func.count().label("chos"), func.sum(laptop).label("laptops"),
                   func.sum(c.training_modules).label("training_sum"), func.sum(full).label("fully"))
            .where(*cho_dim_clauses(f, scope)).group_by(c.district_lgd))
    d = dim_district.c
    with ctx.engine.connect() as conn:
        base = read_frame(conn, select(d.district_lgd, d.census2011, d.name_en, d.name_hi)
                       .where(*district_clauses(d.district_lgd, f, scope)).order_by(d.name_en))
        counts = read_frame(conn, stmt)
    if counts.empty:
        counts = pd.DataFrame(columns=["district_lgd", "chos", "laptops", "training_sum", "fully"])
    counts["district_lgd"] = counts["district_lgd"].astype("int64")
    frame = base.merge(counts, on="district_lgd", how="left")
    for col in ("chos", "laptops", "training_sum", "fully"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0).astype("int64")
    has = frame["chos"].where(frame["chos"] > 0).astype("float64")
    frame["training_mean"] = frame["training_sum"] / has
    frame["laptop_pct"] = 100.0 * frame["laptops"] / has
    frame["training_pct"] = 100.0 * frame["training_mean"] / TRAINING_MODULES
    frame["fully_trained_pct"] = 100.0 * frame["fully"] / has
    keep = (frame["chos"] > 0) | frame["district_lgd"].isin(f.district_lgds)
    return frame[keep].reset_index(drop=True)


# ---------------------------------------------------------------- the tables behind the views (grids and CSV)
# Cached as labelled: a warm grid update or export is a cache read. The key holds the query's parameters and language.

ROSTER_COLUMNS = (
    ColumnSpec("cho_id", "col.cho_id", "code", "CHO identifier."),
    ColumnSpec("cho", "col.cho", "text", "CHO name."),
    ColumnSpec("facility_id", "col.facility_id", "code", "Facility the CHO is posted at."),
    ColumnSpec("facility", "col.facility", "text", "Facility name."),
    ColumnSpec("block", "col.block", "text", "Block name."),
    ColumnSpec("district", "col.district", "text", "District name."),
    ColumnSpec("joined_on", "col.joined_on", "date", "Day the CHO joined."),
    ColumnSpec("active_days", "col.active_days", "int", "Days in the period with at least one consultation."),
    ColumnSpec("consultations", "col.consultations", "int", "Consultations by the CHO in the period."),
    ColumnSpec("last_active", "col.last_active", "date", "Last day with a consultation up to the period's end "
               "(empty: never)."),
    ColumnSpec("days_silent", "col.days_silent", "int", "Days from the last activity to the period's last day."),
    ColumnSpec("laptop", "col.laptop", "date", "Day the laptop was issued, or 'not yet' (as of the period's end)."),
    ColumnSpec("training_modules", "col.training_modules", "int", "Training modules completed, of 18."),
)

SILENT_COLUMNS = (
    ColumnSpec("cho_id", "col.cho_id", "code", "CHO identifier."),
    ColumnSpec("cho", "col.cho", "text", "CHO name."),
    ColumnSpec("facility", "col.facility", "text", "Facility the CHO is posted at."),
    ColumnSpec("block", "col.block", "text", "Block name."),
    ColumnSpec("district", "col.district", "text", "District name."),
    ColumnSpec("last_active", "col.last_active", "date", "Last day with a consultation (empty: never)."),
    ColumnSpec("days_silent", "col.days_silent", "int", "Days since the last activity (empty: never)."),
)

COMPARE_COLUMNS = (
    ColumnSpec("key", "col.lgd_code", "code", "District or block LGD code."),
    ColumnSpec("name", "col.area", "text", "District or block."),
    ColumnSpec("chos", "col.chos", "int", "Active CHOs in the master."),
    ColumnSpec("chos_active", "col.chos_active", "int", "CHOs with at least one consultation in the period."),
    ColumnSpec("chos_silent", "col.chos_silent", "int", "CHOs silent for 7 days or more at the period's end."),
    ColumnSpec("consultations", "col.consultations", "int", "Consultations by the CHOs in the period."),
    ColumnSpec("per_cho", "col.per_cho", "float", "Consultations per CHO."),
    ColumnSpec("active_days_mean", "col.active_days_mean", "float", "Mean active days per CHO."),
    ColumnSpec("laptop_pct", "col.laptop_pct", "pct", "CHOs with a laptop issued by the period's end (%)."),
    ColumnSpec("training_mean", "col.training_mean", "float", "Mean training modules completed (of 18)."),
    ColumnSpec("fully_trained_pct", "col.fully_trained_pct", "pct", "CHOs who completed all 18 modules (%)."),
)

COVERAGE_COLUMNS = (
    ColumnSpec("district_lgd", "col.district_lgd", "code", "District code in the Local Government Directory."),
    ColumnSpec("district", "col.district", "text", "District name."),
    ColumnSpec("chos", "col.chos", "int", "Active CHOs in the master."),
    ColumnSpec("laptops", "col.laptops", "int", "CHOs with a laptop issued by the period's end."),
    ColumnSpec("laptop_pct", "col.laptop_pct", "pct", "Laptops as a percentage of CHOs."),
    ColumnSpec("training_mean", "col.training_mean", "float", "Mean training modules completed (of 18)."),
    ColumnSpec("training_pct", "col.training_pct", "pct", "Mean modules completed as a percentage of 18."),
    ColumnSpec("fully", "col.fully_trained", "int", "CHOs who completed all 18 modules."),
    ColumnSpec("fully_trained_pct", "col.fully_trained_pct", "pct", "Those as a percentage of CHOs."),
)

DISTRIBUTION_COLUMNS = (
    ColumnSpec("range", "col.range", "text", "Value or range of values (both ends included)."),
    ColumnSpec("chos", "col.chos", "int", "CHOs with a value in the range."),
)


def _labelled(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["cho"] = frame["name"]
    frame["facility"] = frame["facility_name"].fillna(frame["facility_id"])
    frame["block"] = names(frame, lang, "block_en", "block_hi")
    frame["district"] = names(frame, lang, "district_en", "district_hi")
    frame["laptop"] = [v if v is not None else t("not_yet", lang) for v in frame["laptop_on"]]
    return frame


@cached
def roster_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    return pick(_labelled(roster(ctx, f, scope), lang), ROSTER_COLUMNS)


@cached
def silent_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    return pick(_labelled(silent(roster(ctx, f, scope)), lang), SILENT_COLUMNS)


@cached
def compare_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    frame = compare(roster(ctx, f, scope), grouping(f, params.get("by", "")))
    frame["name"] = names(frame, lang, "name_en", "name_hi")
    return pick(frame, COMPARE_COLUMNS)


@cached
def coverage_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    frame = coverage(ctx, f, scope).copy()
    frame["district"] = names(frame, lang, "name_en", "name_hi")
    return pick(frame, COVERAGE_COLUMNS)


def distribution_measure(params: Mapping[str, str]) -> str:
    raw = params.get("dist", "")
    return raw if raw in DISTRIBUTIONS else DISTRIBUTIONS[0]


def range_label(low: int, high: int, lang: str) -> str:
    if high >= 10**8:
        return t("chos.range_open", lang, low=low)
    return str(low) if low == high else f"{low}–{high}"


@cached
def distribution_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str],
                       lang: str) -> pd.DataFrame:
    frame = distribution(roster(ctx, f, scope), distribution_measure(params))
    frame["range"] = [range_label(int(a), int(b), lang) for a, b in zip(frame["low"], frame["high"], strict=True)]
    return pick(frame, DISTRIBUTION_COLUMNS)


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("chos-roster", ROSTER_COLUMNS, roster_table),
        TableSpec("chos-silent", SILENT_COLUMNS, silent_table),
        TableSpec("chos-compare", COMPARE_COLUMNS, compare_table),
        TableSpec("chos-coverage", COVERAGE_COLUMNS, coverage_table),
        TableSpec("chos-distribution", DISTRIBUTION_COLUMNS, distribution_table),
    )
}
