"""State overview: KPIs, per-district metrics for the map and ranking, trends. Rollups only."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Select, Table, case, distinct, func, select

from dashboard.data import cumulative as running
from dashboard.data.activity import (
    active_chos,
    active_spokes,
    rows_are_few,
    serving_hubs,
    serving_hubs_by_district,
)
from dashboard.data.columns import rank_highest_first, ratio
from dashboard.data.context import DataContext, cached
from dashboard.data.filters import Filter, Scope
from dashboard.data.sql import (
    bucket_sums,
    cho_dim_clauses,
    consult_clauses,
    consult_table,
    district_clauses,
    facility_dim_clauses,
    ids_of_types,
    read_df,
)
from dashboard.privacy.suppression import suppress_rates
from etl.warehouse.histogram import WAIT_BUCKET_COLUMNS, percentiles_from_count_rows
from etl.warehouse.schema import (
    cumulative_cho_day,
    cumulative_district_day,
    cumulative_hub_district_day,
    cumulative_spoke_day,
    dim_block,
    dim_cho,
    dim_district,
    dim_facility,
    rollup_cho_day,
    rollup_district_day,
    rollup_facility_day,
)

GRAINS: tuple[str, ...] = ("day", "week", "month")
SPOKES_PER_BLOCK_MIN = 2

DISTRICT_METRICS: tuple[str, ...] = (
    "consultations", "per_active_spoke", "active_spoke_pct", "median_wait", "referral_rate", "blocks_breaching",
)


def _cho_clauses(f: Filter, scope: Scope) -> list:
    c = rollup_cho_day.c
    clauses = [c.day >= f.start, c.day <= f.end, c.consultations > 0, *district_clauses(c.district_lgd, f, scope)]
    if f.block_lgds:
        clauses.append(c.cho_id.in_(select(dim_cho.c.cho_id).where(dim_cho.c.block_lgd.in_(f.block_lgds))))
    if f.facility_ids:
        clauses.append(c.facility_id.in_(f.facility_ids))
    if f.facility_types:
        clauses.append(c.facility_id.in_(ids_of_types(f.facility_types)))
    return clauses


def _same_rows_for_spokes_and_hubs(f: Filter) -> bool:
    """Without facility filters, active spokes and serving hubs come from the same rows: one scan serves both."""
    return not (f.facility_ids or f.facility_types)


def _spoke_dim_clauses(f: Filter, scope: Scope) -> list:
    return [dim_facility.c.role == "spoke", *facility_dim_clauses(f, scope)]


@cached
def kpis(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """One row: consultations (and in the previous period of equal length), spokes, hubs, CHOs, median wait."""
    table = consult_table(f)
    rfd = rollup_facility_day
    prev = f.previous()
    with ctx.engine.connect() as conn:
        now, before = _spans(conn, cumulative_district_day, f, prev, table is rollup_district_day)
        if now is not None and before is not None:
            measures = ("consultations", *WAIT_BUCKET_COLUMNS)
            current = conn.execute(running.district_sums(now, f, scope, measures, per_district=False)).one()
            previous = conn.execute(running.district_sums(before, f, scope, ("consultations",),
                                                          per_district=False)).scalar()
        else:
            current = conn.execute(
                select(func.coalesce(func.sum(table.c.consultations), 0), *bucket_sums(table))
                .where(*consult_clauses(table, f, scope))).one()
            previous = conn.execute(
                select(func.coalesce(func.sum(table.c.consultations), 0))
                .where(*consult_clauses(table, f, scope, start=prev.start, end=prev.end))).scalar()
        spokes_total = conn.execute(select(func.count()).select_from(dim_facility)
                                    .where(*_spoke_dim_clauses(f, scope))).scalar()
        spokes_span, _ = _spans(conn, cumulative_spoke_day, f, None, not running.by_consultation_kind(f))
        hubs_span, _ = _spans(conn, cumulative_hub_district_day, f, None, running.hubs_filterable(f))
        # Distinct spokes, hubs and CHOs: two running-total rows per facility or CHO; else index probes per
        # facility or CHO, not a scan of the period's rows.
        if spokes_span is not None and hubs_span is not None:
            spokes_active = conn.execute(running.active_spokes(spokes_span, f, scope)).scalar()
            hubs_serving = conn.execute(running.serving_hubs(hubs_span, f, scope)).scalar()
        elif rows_are_few(f, scope) and _same_rows_for_spokes_and_hubs(f):
            spokes_active, hubs_serving = conn.execute(
                select(func.count(distinct(rfd.c.spoke_id)), func.count(distinct(rfd.c.hub_id)))
                .where(*consult_clauses(rfd, f, scope), rfd.c.consultations > 0)).one()
        else:
            spokes_active = conn.execute(active_spokes(f, scope)).scalar()
            hubs_serving = conn.execute(serving_hubs(ctx, f, scope)).scalar()
        chos_total = conn.execute(select(func.count()).select_from(dim_cho).where(*cho_dim_clauses(f, scope))).scalar()
        chos_span, _ = _spans(conn, cumulative_cho_day, f, None, running.chos_filterable(f))
        if chos_span is not None:
            chos_active = conn.execute(running.active_chos(chos_span, f, scope)).scalar()
        else:
            chos_active = conn.execute(active_chos(ctx, f, scope, _cho_clauses(f, scope))).scalar()
    row = {
        "consultations": int(current[0] or 0),
        "prev_consultations": int(previous or 0),
        "spokes_total": int(spokes_total or 0),
        "spokes_active": int(spokes_active or 0),
        "hubs_serving": int(hubs_serving or 0),
        "chos_total": int(chos_total or 0),
        "chos_active": int(chos_active or 0),
        "median_wait": percentiles_from_count_rows(np.array([current[1:]], dtype=np.float64), 50)[0],
    }
    frame = pd.DataFrame([row])
    consultations, previous = frame["consultations"].to_numpy(), frame["prev_consultations"].to_numpy()
    frame["change_pct"] = ratio(consultations - previous, previous)
    frame["active_spoke_pct"] = ratio(frame["spokes_active"].to_numpy(), frame["spokes_total"].to_numpy())
    return frame


def _spans(conn: Connection, table: Table, f: Filter, prev: Filter | None, usable: bool
           ) -> tuple[running.Span | None, running.Span | None]:
    """The running-total spans of the period (and of ``prev``) in ``table``, or None when the filter needs another
    table (``usable`` false) or the running totals are stale."""
    if not usable:
        return None, None
    now = running.span(conn, table, f.start, f.end)
    if now is None or prev is None:
        return now, None
    return now, running.span(conn, table, prev.start, prev.end)


@cached
def district_metrics(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """One row per district in scope (and in the filter's districts): the map metrics and the ranking columns."""
    table = consult_table(f)
    prev = f.previous()
    d = dim_district.c
    with ctx.engine.connect() as conn:
        now, before_span = _spans(conn, cumulative_district_day, f, prev, table is rollup_district_day)
        spokes_span, _ = _spans(conn, cumulative_spoke_day, f, None, not running.by_consultation_kind(f))
        hubs_span, _ = _spans(conn, cumulative_hub_district_day, f, None, running.hubs_filterable(f))
        # Every part is aggregated in the database and joined to the districts there: one statement, one result.
        if now is not None and before_span is not None:
            cur = running.district_sums(now, f, scope, ("consultations", "n_referred", *WAIT_BUCKET_COLUMNS),
                                        per_district=True).subquery("cur")
            before = running.district_sums(before_span, f, scope, ("consultations",), per_district=True)
            before = before.with_only_columns(before.selected_columns.district_lgd,
                                              before.selected_columns.consultations.label("prev_consultations"),
                                              maintain_column_froms=True).subquery("before")
        else:
            cur = (select(table.c.district_lgd, func.sum(table.c.consultations).label("consultations"),
                          func.sum(table.c.n_referred).label("n_referred"), *bucket_sums(table))
                   .where(*consult_clauses(table, f, scope)).group_by(table.c.district_lgd).subquery("cur"))
            before = (select(table.c.district_lgd, func.sum(table.c.consultations).label("prev_consultations"))
                      .where(*consult_clauses(table, f, scope, start=prev.start, end=prev.end))
                      .group_by(table.c.district_lgd).subquery("before"))
        # Active spokes and serving hubs: two running-total rows per spoke or (hub, district); else one index
        # probe per spoke, and see serving_hubs_by_district.
        active = (running.active_spokes(spokes_span, f, scope, per_district=True) if spokes_span is not None
                  else active_spokes(f, scope, per_district=True)).subquery("active")
        hubs = (running.serving_hubs(hubs_span, f, scope, per_district=True) if hubs_span is not None
                else serving_hubs_by_district(ctx, f, scope)).subquery("hubs")
        spokes = (select(dim_facility.c.district_lgd, func.count().label("spokes_total"))
                  .where(*_spoke_dim_clauses(f, scope)).group_by(dim_facility.c.district_lgd).subquery("spokes"))
        blocks = _block_stats(f, scope).subquery("blocks")
        parts = (cur, before, active, hubs, spokes, blocks)
        joined = dim_district
        for part in parts:
            joined = joined.outerjoin(part, part.c.district_lgd == d.district_lgd)
        stmt = (select(d.district_lgd, d.census2011, d.name_en, d.name_hi,
                       *[c for part in parts for c in part.c if c.name != "district_lgd"])
                .select_from(joined).where(*district_clauses(d.district_lgd, f, scope)).order_by(d.name_en))
        result = conn.execute(stmt)
        keys = list(result.keys())
        rows = [tuple(row) for row in result.fetchall()]
    return _metrics_frame(keys, rows, ctx.suppression_k)


_METRIC_COUNTS = frozenset({"consultations", "n_referred", "prev_consultations", "spokes_active", "hubs_serving",
                            "spokes_total", "blocks_total", "blocks_breaching"})


def _metrics_frame(keys: list[str], rows: list[tuple], k: int) -> pd.DataFrame:
    """``district_metrics``' frame from its statement's rows: the counts (NULL: 0), the median wait from the
    summed histogram, the rates and the rank, most consultations first (then by name). Built from whole columns:
    on a state's few dozen districts, pandas' cost per operation is most of the work."""
    values = dict(zip(keys, (list(c) for c in zip(*rows, strict=True)), strict=True)) if rows \
        else {key: [] for key in keys}
    counts = {name: np.array([v or 0 for v in values[name]], dtype=np.int64) for name in _METRIC_COUNTS}
    waits = np.array([[v or 0 for v in values[name]] for name in WAIT_BUCKET_COLUMNS], dtype=np.float64).T
    consultations, referred = counts["consultations"], counts["n_referred"]
    previous, active = counts["prev_consultations"], counts["spokes_active"]

    derived = {
        "median_wait": percentiles_from_count_rows(waits, 50),
        "per_active_spoke": ratio(consultations, active, 1.0),
        "active_spoke_pct": ratio(active, counts["spokes_total"]),
        # An outcome split of patients: withheld where referred or not-referred is a small count (1..k-1).
        "referral_rate": np.where(suppress_rates(referred, consultations, k), np.nan, ratio(referred, consultations)),
        "change_pct": ratio(consultations - previous, previous),
        "rank": np.asarray(rank_highest_first(consultations.astype(np.float64)), dtype=np.int64),
    }
    names = values["name_en"]
    order = sorted(range(len(rows)), key=lambda i: (derived["rank"][i], names[i]))
    frame = pd.DataFrame({key: [values[key][i] for i in order] for key in keys
                          if key not in _METRIC_COUNTS and key not in WAIT_BUCKET_COLUMNS})
    frame["district_lgd"] = frame["district_lgd"].astype("int64")
    for key in keys:  # the counts in the statement's order, then what is worked out from them
        if key in _METRIC_COUNTS:
            frame[key] = counts[key][order]
    for key, column in derived.items():
        frame[key] = column[order]
    return frame[[key for key in keys if key not in WAIT_BUCKET_COLUMNS] + list(derived)]


def _block_stats(f: Filter, scope: Scope) -> Select:
    """Per district: blocks, and blocks with fewer than two spokes (the rule counts the facility master)."""
    spoke_counts = (select(dim_facility.c.block_lgd, func.count().label("spokes"))
                    .where(dim_facility.c.role == "spoke").group_by(dim_facility.c.block_lgd).subquery())
    b = dim_block.c
    clauses = district_clauses(b.district_lgd, f, scope)
    if f.block_lgds:
        clauses.append(b.block_lgd.in_(f.block_lgds))
    breach = case((func.coalesce(spoke_counts.c.spokes, 0) < SPOKES_PER_BLOCK_MIN, 1), else_=0)
    return (select(b.district_lgd, func.count().label("blocks_total"), func.sum(breach).label("blocks_breaching"))
            .select_from(dim_block.outerjoin(spoke_counts, spoke_counts.c.block_lgd == b.block_lgd))
            .where(*clauses).group_by(b.district_lgd))


def spark_grain(f: Filter) -> str:
    return "day" if f.days <= 45 else "week"


def _bucket_start(days: pd.Series, grain: str) -> pd.Series:
    stamps = pd.to_datetime(days)
    if grain == "week":
        stamps = stamps - pd.to_timedelta(stamps.dt.day_of_week, unit="D")
    elif grain == "month":
        stamps = stamps.dt.to_period("M").dt.start_time
    return stamps.dt.date


def _bucket_index(f: Filter, grain: str) -> list:
    days = pd.Series(pd.date_range(f.start, f.end, freq="D").date)
    return sorted(set(_bucket_start(days, grain)))


def district_sparklines(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """Consultations per district per day (or week for long periods), zeros filled: one sparkline per district."""
    return district_series(ctx, f, scope, spark_grain(f))


@cached
def district_series(ctx: DataContext, f: Filter, scope: Scope, grain: str = "week") -> pd.DataFrame:
    """Consultations per district per day, week or month (columns district_lgd, bucket, consultations)."""
    grain = grain if grain in GRAINS else "week"
    table = consult_table(f)
    with ctx.engine.connect() as conn:
        daily = read_df(conn, select(table.c.district_lgd, table.c.day,
                                     func.sum(table.c.consultations).label("consultations"))
                        .where(*consult_clauses(table, f, scope)).group_by(table.c.district_lgd, table.c.day))
    if daily.empty:
        return pd.DataFrame(columns=["district_lgd", "bucket", "consultations"])
    # A few thousand (district, day) sums at most: summed into buckets in plain Python, one frame built at the end.
    start_of = {day: _bucket_of(day, grain) for day in _days(f.start, f.end)}
    sums: dict[tuple[int, date], int] = {}
    for lgd, day, n in daily.itertuples(index=False, name=None):
        key = (int(lgd), start_of.get(_as_day(day)) or _bucket_of(_as_day(day), grain))
        sums[key] = sums.get(key, 0) + int(n or 0)
    buckets = sorted(set(start_of.values()))
    districts = sorted({lgd for lgd, _ in sums})
    cells = [(lgd, bucket) for lgd in districts for bucket in buckets]
    return pd.DataFrame({"district_lgd": pd.Series([lgd for lgd, _ in cells], dtype="int64"),
                         "bucket": pd.Series([bucket for _, bucket in cells], dtype="object"),
                         "consultations": pd.Series([sums.get(cell, 0) for cell in cells], dtype="int64")})


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _as_day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _bucket_of(day: date, grain: str) -> date:
    """The first day of ``day``'s bucket: itself, its week's Monday or its month's first day."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


@cached
def trend(ctx: DataContext, f: Filter, scope: Scope, grain: str = "day") -> pd.DataFrame:
    """Consultations per period start (day, Monday of the week, or first of the month) and mode, zeros filled."""
    grain = grain if grain in GRAINS else "day"
    table = consult_table(f)
    with ctx.engine.connect() as conn:
        daily = read_df(conn, select(table.c.day, table.c.mode, func.sum(table.c.consultations).label("consultations"))
                        .where(*consult_clauses(table, f, scope)).group_by(table.c.day, table.c.mode))
    if daily.empty:
        return pd.DataFrame(columns=["period", "mode", "consultations"])
    daily["period"] = _bucket_start(daily["day"], grain)
    summed = daily.groupby(["period", "mode"], as_index=False)["consultations"].sum()
    full = pd.MultiIndex.from_product([_bucket_index(f, grain), sorted(summed["mode"].unique())],
                                      names=["period", "mode"])
    out = summed.set_index(["period", "mode"]).reindex(full, fill_value=0).reset_index()
    out["consultations"] = out["consultations"].astype("int64")
    return out


def window(f: Filter, days: int) -> Filter:
    """The ``days`` days ending on the filter's last day."""
    return f.with_(start=f.end - timedelta(days=days - 1))


def finite(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)
