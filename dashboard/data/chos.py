"""Community Health Officers: the roster with activity in the period, silent CHOs, distributions, the block or
district comparison, and laptop and training coverage per district. ``rollup_cho_day`` and ``dim_cho`` only.

A CHO is *active on a day* when the CHO-day rollup has a consultation for them that day; *silent* when the last
such day is 7 or more days before the period's last day (or there is none). A laptop counts as issued when its
issue date is on or before the period's last day ("not yet" otherwise). Training is modules completed of 18.
The roster lists CHOs marked active in the master. Mode and specialty filters do not apply: the CHO rollup has
neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.selectable import FromClause

from dashboard.data import cumulative as running
from dashboard.data.activity import cho_last_day, cho_totals_at
from dashboard.data.context import DataContext, cached
from dashboard.data.filters import Filter, Scope
from dashboard.data.hubs import names, pick, plain_records
from dashboard.data.sql import cho_dim_clauses, district_clauses, read_df, scope_clause
from dashboard.data.tables import ColumnSpec, TableSpec
from dashboard.i18n import normalise_lang, t
from etl.warehouse.schema import cumulative_cho_day, dim_block, dim_cho, dim_district, dim_facility, rollup_cho_day

SILENT_DAYS = 7
TRAINING_MODULES = 18
GROUPINGS: tuple[str, ...] = ("district", "block")
DISTRIBUTIONS: tuple[str, ...] = ("consultations", "active_days", "training_modules", "days_silent")
COVERAGE_METRICS: tuple[str, ...] = ("laptop_pct", "training_pct", "fully_trained_pct")
# Never active: the largest key, so those CHOs come first among the silent.
NEVER = 10**9

rcd = rollup_cho_day
cho = dim_cho


# ---------------------------------------------------------------- each CHO's activity in the period, in SQL


@dataclass(frozen=True)
class Activity:
    """The active CHOs under the filter (rows of ``source`` where ``where`` holds), each with the period's
    consultations and active days (0 without any) and the last active day up to the period's end (NULL: never)."""

    source: FromClause
    where: list[ColumnElement[bool]]
    consultations: ColumnElement | None
    active_days: ColumnElement | None
    last_active: ColumnElement


def activity(ctx: DataContext, conn: Connection, f: Filter, scope: Scope, *, totals: bool = True) -> Activity:
    """From the running totals (two rows per CHO) when they are fresh, else from the CHO-day rollup. Without
    ``totals``, the last active day alone (consultations and active days None)."""
    c = cho.c
    at = cho_totals_at(conn, f.end, f.start)
    if at.fresh is not None:
        k = running.key_activity(at.fresh, cumulative_cho_day, "cho_id", cho, c.cho_id, totals=totals)
        return Activity(k.joined, cho_dim_clauses(f, scope), k.consultations, k.active_days, k.last_day)
    # One look-up per CHO (cho_last_day), not a GROUP BY over the whole history.
    last = cho_last_day(ctx, c.cho_id, c.district_lgd, f.end, at)
    if not totals:
        return Activity(cho, cho_dim_clauses(f, scope), None, None, last)
    # (day, cho_id) is the rollup's key: one row per active day, so a plain count is the distinct-day count.
    act = (select(rcd.c.cho_id, func.sum(rcd.c.consultations).label("consultations"),
                  func.count().label("active_days"))
           .where(rcd.c.day >= f.start, rcd.c.day <= f.end, rcd.c.consultations > 0,
                  rcd.c.cho_id.in_(select(c.cho_id).where(*cho_dim_clauses(f, scope)).correlate(None)),
                  scope_clause(rcd.c.district_lgd, scope))
           .group_by(rcd.c.cho_id).subquery("act"))
    return Activity(cho.outerjoin(act, act.c.cho_id == c.cho_id), cho_dim_clauses(f, scope),
                    func.coalesce(act.c.consultations, 0), func.coalesce(act.c.active_days, 0), last)


def silent_clause(last_active: ColumnElement, f: Filter) -> ColumnElement[bool]:
    """Silent at the period's end: never active, or last active 7 or more days before its last day."""
    return or_(last_active.is_(None), last_active <= f.end - timedelta(days=SILENT_DAYS))


def _per_cho(a: Activity, f: Filter) -> Select:
    """One row per CHO: district, block, training modules, laptop (1: issued by the period's end), last active day
    and, when ``a`` has them, consultations and active days."""
    c = cho.c
    laptop = case((and_(c.laptop_issued_on.is_not(None), c.laptop_issued_on <= f.end), 1), else_=0)
    columns = [c.district_lgd, c.block_lgd, c.training_modules, laptop.label("laptop"),
               a.last_active.label("last_active")]
    if a.consultations is not None and a.active_days is not None:
        columns += [a.consultations.label("consultations"), a.active_days.label("active_days")]
    return select(*columns).select_from(a.source).where(*a.where)


def _count_where(condition: ColumnElement[bool]) -> ColumnElement:
    return func.sum(case((condition, 1), else_=0))


# ---------------------------------------------------------------- the roster, CHO by CHO

# The roster's order: district, then name.
ROSTER_ORDER = (dim_district.c.name_en, cho.c.name, cho.c.cho_id)
# What ``_roster_rows`` reads per CHO, in order.
ROSTER_FIELDS = ("cho_id", "name", "facility_id", "facility_name", "facility_type", "district_lgd", "district_en",
                 "district_hi", "block_lgd", "block_en", "block_hi", "joined_on", "laptop_issued_on",
                 "training_modules", "consultations", "active_days", "last_active")


def _roster_rows(ctx: DataContext, f: Filter, scope: Scope, *, limit: int | None = None,
                 silent_only: bool = False) -> list[Row]:
    """Active CHOs under the filter in the roster's order (the first ``limit``; only the silent ones with
    ``silent_only``, their consultations and active days not read: NULL): ``ROSTER_FIELDS``, dates as ISO text."""
    c = cho.c
    with ctx.engine.connect() as conn:
        a = activity(ctx, conn, f, scope, totals=not silent_only)
        columns = [c.cho_id, c.name, c.facility_id, dim_facility.c.name.label("facility_name"),
                   dim_facility.c.facility_type, c.district_lgd, dim_district.c.name_en.label("district_en"),
                   dim_district.c.name_hi.label("district_hi"), c.block_lgd, dim_block.c.name_en.label("block_en"),
                   dim_block.c.name_hi.label("block_hi"), cast(c.joined_on, String).label("joined_on"),
                   cast(c.laptop_issued_on, String).label("laptop_issued_on"), c.training_modules]
        columns += [(null() if a.consultations is None else a.consultations).label("consultations"),
                    (null() if a.active_days is None else a.active_days).label("active_days")]
        stmt = (select(*columns, cast(a.last_active, String).label("last_active"))
                .select_from(a.source.outerjoin(dim_facility, dim_facility.c.facility_id == c.facility_id)
                             .outerjoin(dim_district, dim_district.c.district_lgd == c.district_lgd)
                             .outerjoin(dim_block, dim_block.c.block_lgd == c.block_lgd))
                .where(*a.where).order_by(*ROSTER_ORDER))
        if silent_only:
            stmt = stmt.where(silent_clause(a.last_active, f))
        if limit is not None:
            # The first ids from the master alone: the activity is then read for those CHOs only.
            first = (select(c.cho_id).select_from(cho.outerjoin(dim_district,
                                                               dim_district.c.district_lgd == c.district_lgd))
                     .where(*cho_dim_clauses(f, scope)).order_by(*ROSTER_ORDER).limit(limit).correlate(None))
            stmt = stmt.where(c.cho_id.in_(first))
        return list(conn.execute(stmt).all())


def _day(text: str | None) -> date | None:
    """A date from ISO text as the query cast it (None when missing or unreadable)."""
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _days_silent(f: Filter, last_active: date | None) -> int | None:
    return None if last_active is None else (f.end - last_active).days


def _laptop_on(f: Filter, issued: date | None) -> date | None:
    """The laptop's issue date when it is on or before the period's last day."""
    return issued if issued is not None and issued <= f.end else None


def roster(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """One row per active CHO under the filter: facility, block, district, joined on, active days and
    consultations in the period, last active day up to the period's end, days silent, laptop (issued by the end of
    the period), training modules."""
    rows = [(*r[:11], _day(r.joined_on), _day(r.laptop_issued_on), int(r.training_modules or 0),
             int(r.consultations or 0), int(r.active_days or 0), _day(r.last_active))
            for r in _roster_rows(ctx, f, scope)]
    frame = pd.DataFrame(rows, columns=list(ROSTER_FIELDS))
    for col in ("consultations", "active_days", "training_modules"):
        frame[col] = frame[col].astype("int64")
    for i, col in ((11, "joined_on"), (12, "laptop_issued_on"), (16, "last_active")):  # dates or None, not NaN
        frame[col] = pd.Series([row[i] for row in rows], index=frame.index, dtype="object")
    frame["days_silent"] = pd.Series([_days_silent(f, v) for v in frame["last_active"]], index=frame.index,
                                     dtype="Int64")
    frame["silent"] = frame["days_silent"].isna() | (frame["days_silent"].fillna(0) >= SILENT_DAYS)
    frame["has_laptop"] = pd.Series([v is not None and v <= f.end for v in frame["laptop_issued_on"]],
                                    index=frame.index, dtype="bool")
    frame["laptop_on"] = pd.Series([_laptop_on(f, v) for v in frame["laptop_issued_on"]], index=frame.index,
                                   dtype="object")
    frame["fully_trained"] = frame["training_modules"] >= TRAINING_MODULES
    return frame


def grouping(f: Filter, requested: str) -> str:
    """District comparison by default; by block when asked, or when the filter holds exactly one district."""
    if requested in GROUPINGS:
        return requested
    return "block" if len(f.district_lgds) == 1 else "district"


# ---------------------------------------------------------------- sums over the CHOs, in SQL

COMPARE_FRAME_COLUMNS = ["key", "name_en", "name_hi", "chos", "chos_active", "chos_silent", "consultations",
                         "per_cho", "active_days_mean", "laptop_pct", "training_mean", "training_pct",
                         "fully_trained_pct"]
GROUP_SUMS = ("chos", "chos_active", "chos_silent", "consultations", "active_days", "laptops", "training_sum", "fully")
# The column of ``_per_cho`` each distribution counts.
MEASURE_COLUMNS = {"consultations": "consultations", "active_days": "active_days",
                   "training_modules": "training_modules", "days_silent": "last_active"}


@dataclass(frozen=True)
class Totals:
    """The whole roster's figures (the page's KPIs)."""

    chos: int = 0
    active: int = 0
    silent: int = 0
    consultations: int = 0
    laptops: int = 0
    fully: int = 0
    training_mean: float | None = None


@dataclass(frozen=True)
class Summary:
    """One view's comparison (per district or block, most consultations first: CHOs, active CHOs, silent,
    consultations, per CHO, mean active days, laptop and training coverage), distribution (how many CHOs have each
    value or bin of the measure: low, high, chos) and totals."""

    compare: pd.DataFrame
    distribution: pd.DataFrame
    totals: Totals


@cached
def summary(ctx: DataContext, f: Filter, scope: Scope, by: str, measure: str) -> Summary:
    """The comparison per district or block (``by``) and the distribution of ``measure``, from one statement: each
    CHO's activity is read once (a common table expression), summed per district or block and counted per value of
    the measure (binned here)."""
    measure = measure if measure in DISTRIBUTIONS else DISTRIBUTIONS[0]
    dim, key_name = (dim_block, "block_lgd") if by == "block" else (dim_district, "district_lgd")
    with ctx.engine.connect() as conn:
        per = _per_cho(activity(ctx, conn, f, scope), f).cte("per_cho").c
        key = per[key_name]
        sums = (select(key.label("key"), func.count().label("chos"),
                       _count_where(per.active_days > 0).label("chos_active"),
                       _count_where(silent_clause(per.last_active, f)).label("chos_silent"),
                       func.sum(per.consultations).label("consultations"),
                       func.sum(per.active_days).label("active_days"), func.sum(per.laptop).label("laptops"),
                       func.sum(per.training_modules).label("training_sum"),
                       _count_where(per.training_modules >= TRAINING_MODULES).label("fully"))
                .group_by(key).subquery("sums"))
        groups = (select(literal_column("0").label("part"), sums.c.key, null().label("value"), dim.c.name_en,
                         dim.c.name_hi, *[sums.c[name] for name in GROUP_SUMS])
                  .select_from(sums.outerjoin(dim, dim.c[key_name] == sums.c.key)))
        measured = per[MEASURE_COLUMNS[measure]]
        # Grouped by the value itself (a sort of numbers, or of days), written as text: a number, or a day.
        values = (select(literal_column("1"), null(), cast(measured, String), null(), null(), func.count(),
                         *[null()] * (len(GROUP_SUMS) - 1))
                  .group_by(measured))
        rows = conn.execute(union_all(groups, values)).all()
    per_group = sorted(((-1 if k is None else int(k), "–" if en is None else en, "" if hi is None else hi,
                         *(int(v or 0) for v in rest)) for part, k, _, en, hi, *rest in rows if part == 0),
                       key=lambda g: g[0])
    return Summary(_compare_frame(per_group),
                   _distribution_frame([(v, int(n)) for part, _, v, _, _, n, *_ in rows if part == 1], measure, f),
                   _totals(per_group))


def _compare_frame(sums: list[tuple]) -> pd.DataFrame:
    """The comparison from the sums per group (key, names, ``GROUP_SUMS``), in the order of their keys."""
    if not sums:
        return pd.DataFrame(columns=COMPARE_FRAME_COLUMNS)
    out = []
    # A stable sort: most consultations, then by name, then by key.
    for key, en, hi, chos, active, silent, consultations, active_days, laptops, training, fully in sorted(
            sums, key=lambda g: (-g[6], g[1])):
        training_mean = training / chos
        out.append((key, en, hi, chos, active, silent, consultations, consultations / chos, active_days / chos,
                    100.0 * laptops / chos, training_mean, 100.0 * training_mean / TRAINING_MODULES,
                    100.0 * fully / chos))
    return pd.DataFrame(out, columns=COMPARE_FRAME_COLUMNS)


def _totals(sums: list[tuple]) -> Totals:
    """The sums per group added up: the same whichever the grouping."""
    if not sums:
        return Totals()
    chos, active, silent, consultations, _, laptops, training, fully = (sum(g[i] for g in sums) for i in range(3, 11))
    return Totals(chos=chos, active=active, silent=silent, consultations=consultations, laptops=laptops, fully=fully,
                  training_mean=training / chos)


def _distribution_frame(counts: Sequence[tuple[str | None, int]], measure: str, f: Filter) -> pd.DataFrame:
    """``counts`` (value as text, CHOs) binned: a bin per training module, fixed bins of days silent (never
    active in the last), about 12 bins of whole-number width otherwise."""
    if not counts:
        return pd.DataFrame(columns=["low", "high", "chos"])
    if measure == "training_modules":
        per_value = dict.fromkeys(range(TRAINING_MODULES + 1), 0)
        for text, n in counts:
            if text is not None and int(text) in per_value:
                per_value[int(text)] += n
        return pd.DataFrame({"low": list(per_value), "high": list(per_value), "chos": list(per_value.values())},
                            dtype="int64")
    if measure == "days_silent":
        days = [_days_silent(f, _day(text)) for text, _ in counts]
        values = np.array([10**6 if d is None else d for d in days], dtype="int64")
        edges = [0, 1, 3, 7, 14, 30, 60, 10**9]
    else:
        values = np.array([0 if text is None else int(text) for text, _ in counts], dtype="int64")
        edges = _integer_bins(int(values.max()))
    weights = np.array([n for _, n in counts], dtype="int64")
    binned = np.histogram(np.repeat(values, weights), bins=edges)[0]
    return pd.DataFrame({"low": edges[:-1], "high": [e - 1 for e in edges[1:]], "chos": binned.astype("int64")})


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
        base = read_df(conn, select(d.district_lgd, d.census2011, d.name_en, d.name_hi)
                       .where(*district_clauses(d.district_lgd, f, scope)).order_by(d.name_en))
        counts = read_df(conn, stmt)
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
# The small ones are cached as labelled: a warm export is a cache read. The grids read only the rows they show.

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


def _name(en: object, hi: object, hindi: bool) -> str:
    """A name in the page's language: the Hindi one where asked for and present, else the English one."""
    english = "" if en is None else str(en)
    if not hindi:
        return english
    return english if hi is None or str(hi) == "" else str(hi)


def _roster_values(rows: Sequence[Row], f: Filter, lang: str) -> list[tuple[object, ...]]:
    """Roster rows as ``ROSTER_COLUMNS`` show them."""
    hindi = normalise_lang(lang) == "hi"
    not_yet = t("not_yet", lang)
    out = []
    for (cho_id, name, facility_id, facility_name, _, _, district_en, district_hi, _, block_en, block_hi, joined_on,
         laptop_issued_on, training_modules, consultations, active_days, last_active) in rows:
        last = _day(last_active)
        laptop = _laptop_on(f, _day(laptop_issued_on))
        out.append((cho_id, name, facility_id, facility_id if facility_name is None else facility_name,
                    _name(block_en, block_hi, hindi), _name(district_en, district_hi, hindi), _day(joined_on),
                    int(active_days or 0), int(consultations or 0), last, _days_silent(f, last),
                    not_yet if laptop is None else laptop, int(training_modules or 0)))
    return out


def _silent_values(rows: Sequence[Row], f: Filter, lang: str) -> list[tuple[object, ...]]:
    """The silent CHOs of ``rows`` (in the roster's order) as ``SILENT_COLUMNS`` show them: never active first,
    then the longest silent, then by name (a stable sort: ties keep the roster's order)."""
    hindi = normalise_lang(lang) == "hi"
    out = []
    for (cho_id, name, facility_id, facility_name, _, _, district_en, district_hi, _, block_en, block_hi, _, _, _, _, _,
         last_active) in rows:
        last = _day(last_active)
        days = _days_silent(f, last)
        if days is None or days >= SILENT_DAYS:
            out.append((cho_id, name, facility_id if facility_name is None else facility_name,
                        _name(block_en, block_hi, hindi), _name(district_en, district_hi, hindi), last, days))
    return sorted(out, key=lambda v: (-(NEVER if v[6] is None else v[6]), v[1]))


def _table(values: list[tuple[object, ...]], columns: tuple[ColumnSpec, ...]) -> pd.DataFrame:
    keys = [c.key for c in columns]
    if not values:
        return pd.DataFrame(columns=keys)
    frame = pd.DataFrame(values, columns=keys)
    frame["days_silent"] = frame["days_silent"].astype("Int64")
    return frame


@cached
def roster_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    return _table(_roster_values(_roster_rows(ctx, f, scope), f, lang), ROSTER_COLUMNS)


@cached
def roster_grid(ctx: DataContext, f: Filter, scope: Scope, lang: str, limit: int) -> list[dict[str, object]]:
    """The first ``limit`` rows of ``roster_table`` as grid rows, read without the rest."""
    rows = _roster_rows(ctx, f, scope, limit=limit)
    return plain_records([c.key for c in ROSTER_COLUMNS], _roster_values(rows, f, lang))


@cached
def silent_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    return _table(_silent_values(_roster_rows(ctx, f, scope, silent_only=True), f, lang), SILENT_COLUMNS)


@cached
def silent_grid(ctx: DataContext, f: Filter, scope: Scope, lang: str, limit: int) -> list[dict[str, object]]:
    """The first ``limit`` rows of ``silent_table`` as grid rows."""
    rows = _roster_rows(ctx, f, scope, silent_only=True)
    return plain_records([c.key for c in SILENT_COLUMNS], _silent_values(rows, f, lang)[:limit])


@cached
def compare_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    return compare_view(summary(ctx, f, scope, grouping(f, params.get("by", "")), distribution_measure(params))
                        .compare, lang)


def compare_view(compare: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A summary's comparison as ``COMPARE_COLUMNS`` show it."""
    if compare.empty:
        return pd.DataFrame(columns=[c.key for c in COMPARE_COLUMNS])
    hindi = normalise_lang(lang) == "hi"
    label = [_name(en, hi, hindi) for en, hi in zip(compare["name_en"], compare["name_hi"], strict=True)]
    return pd.DataFrame({c.key: label if c.key == "name" else compare[c.key].to_numpy() for c in COMPARE_COLUMNS})


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
    return distribution_view(summary(ctx, f, scope, grouping(f, params.get("by", "")), distribution_measure(params))
                             .distribution, lang)


def distribution_view(distribution: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A summary's distribution as ``DISTRIBUTION_COLUMNS`` show it."""
    if distribution.empty:
        return pd.DataFrame(columns=[c.key for c in DISTRIBUTION_COLUMNS])
    labels = [range_label(int(a), int(b), lang) for a, b in zip(distribution["low"], distribution["high"], strict=True)]
    return pd.DataFrame({"range": labels, "chos": distribution["chos"].to_numpy()})


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
