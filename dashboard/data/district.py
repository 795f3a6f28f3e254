"""The Civil Surgeon's district page: facilities with their activity, hub→spoke links, blocks, idle spokes,
silent CHOs and one facility's detail. Rollups and dimensions only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import Select, case, distinct, func, or_, select, true

from dashboard.data import cumulative as running
from dashboard.data.activity import (
    cho_has_index,
    cho_last_day,
    cho_totals_at,
    last_day,
    spoke_totals_at,
    with_spoke_last_day,
)
from dashboard.data.context import DataContext, cached
from dashboard.data.filters import Filter, Scope
from dashboard.data.overview import SPOKES_PER_BLOCK_MIN
from dashboard.data.sql import facility_dim_clauses, read_df, scope_clause
from etl.warehouse.schema import (
    cumulative_hub_mode_day,
    cumulative_spoke_day,
    dim_block,
    dim_cho,
    dim_facility,
    rollup_cho_day,
    rollup_facility_day,
)

IDLE_DAYS = 7
DETAIL_DAYS = 30

rfd = rollup_facility_day
fac = dim_facility


def _activity_clauses(f: Filter, scope: Scope, start: date, end: date) -> list:
    """Rows in [start, end] within scope, under the mode and specialty filters (geography is applied by caller)."""
    clauses = [rfd.c.day >= start, rfd.c.day <= end, scope_clause(rfd.c.district_lgd, scope), rfd.c.consultations > 0]
    if f.modes:
        clauses.append(rfd.c.mode.in_(f.modes))
    if f.specialties:
        clauses.append(rfd.c.specialty_code.in_(f.specialties))
    return clauses


def _district_filter(f: Filter, lgd: int) -> Filter:
    return f.with_(district_lgds=(lgd,))


def _district_ids(fd: Filter, scope: Scope) -> Select:
    """Ids of the district's facilities under the filter's geography and type, within scope."""
    return select(fac.c.facility_id).where(*facility_dim_clauses(fd, scope))


@cached
def facilities(ctx: DataContext, f: Filter, scope: Scope, lgd: int) -> pd.DataFrame:
    """Every facility of the district under the filter, with consultations in the period (a spoke's as spoke, a
    hub's as hub), its last consultation and its CHO count.

    The sums come from the running totals, or read only the district's facilities' rows, along (district_lgd, day)
    for spokes and (hub_id, day) for hubs. A spoke's last day is its running-total row of the period's last day (one
    pass over the district's rows while those are stale), a hub's a backward look-up along (hub_id, day)."""
    fd = _district_filter(f, lgd)
    ids = _district_ids(fd, scope)
    hub = fac.alias("hub")
    # The district's spokes' rows along (district_lgd, day): a row carries its spoke's district.
    as_spoke = (select(rfd.c.spoke_id.label("facility_id"), func.sum(rfd.c.consultations).label("n"))
                .where(*_activity_clauses(f, scope, f.start, f.end), rfd.c.district_lgd == lgd,
                       rfd.c.spoke_id.in_(ids))
                .group_by(rfd.c.spoke_id).subquery())
    as_hub = (select(rfd.c.hub_id.label("facility_id"), func.sum(rfd.c.consultations).label("n"))
              .where(*_activity_clauses(f, scope, f.start, f.end), rfd.c.hub_id.in_(ids))
              .group_by(rfd.c.hub_id).subquery())
    in_scope = scope_clause(rfd.c.district_lgd, scope)
    chos = (select(dim_cho.c.facility_id, func.count().label("chos"))
            .where(dim_cho.c.active.is_(True), dim_cho.c.facility_id.in_(ids))
            .group_by(dim_cho.c.facility_id).subquery())
    source = (fac.outerjoin(dim_block, dim_block.c.block_lgd == fac.c.block_lgd)
              .outerjoin(hub, hub.c.facility_id == fac.c.hub_id))
    with ctx.engine.connect() as conn:
        totals = running.span(conn, cumulative_spoke_day, f.start, f.end)
        sp = None if running.by_consultation_kind(f) else totals
        if sp is not None:  # a spoke's sum and last day: its two running-total rows
            as_spoke = running.activity(sp, cumulative_spoke_day, "spoke_id", ids, iso_text=False).subquery()
            as_spoke = select(as_spoke.c.key.label("facility_id"), as_spoke.c.consultations.label("n"),
                              as_spoke.c.last_day).subquery()
            spoke_last = as_spoke.c.last_day
        else:  # the last day is over every mode and specialty: the totals keep it while they are fresh
            source, spoke_last = with_spoke_last_day(source, fac.c.facility_id, f.end, totals,
                                                     rfd.c.district_lgd == lgd, in_scope)
        hub_sp = (running.span(conn, cumulative_hub_mode_day, f.start, f.end)
                  if scope.all_districts and not f.specialties else None)
        if hub_sp is not None:  # a hub's sum over all spokes (the scope hides none): two rows per hub and mode
            sums = running.hub_totals(hub_sp, cumulative_hub_mode_day, f, ids, ("consultations",), "hub_id")
            sums = sums.subquery()
            as_hub = select(sums.c.hub_id.label("facility_id"), sums.c.consultations.label("n")).subquery()
        stmt = (
            select(fac.c.facility_id, fac.c.name, fac.c.facility_type, fac.c.role, fac.c.block_lgd,
                   dim_block.c.name_en.label("block_en"), dim_block.c.name_hi.label("block_hi"), fac.c.lat,
                   fac.c.lon, fac.c.hub_id, hub.c.name.label("hub_name"),
                   as_spoke.c.n.label("n_spoke"), as_hub.c.n.label("n_hub"),
                   case((fac.c.role == "hub", last_day(rfd.c.hub_id, fac.c.facility_id, f.end, in_scope)),
                        else_=spoke_last).label("last_consultation"),
                   func.coalesce(chos.c.chos, 0).label("chos"))
            .select_from(source.outerjoin(as_spoke, as_spoke.c.facility_id == fac.c.facility_id)
                         .outerjoin(as_hub, as_hub.c.facility_id == fac.c.facility_id)
                         .outerjoin(chos, chos.c.facility_id == fac.c.facility_id))
            .where(*facility_dim_clauses(fd, scope))
            .order_by(fac.c.role, fac.c.name)
        )
        frame = read_df(conn, stmt)
    hub_rows = frame["role"] == "hub"
    frame["consultations"] = (frame["n_hub"].where(hub_rows, frame["n_spoke"])).fillna(0).astype("int64")
    last = frame.pop("last_consultation")
    frame["last_consultation"] = pd.Series([_as_date(v) for v in last], index=frame.index, dtype="object")
    return frame.drop(columns=["n_spoke", "n_hub"])


@cached
def links(ctx: DataContext, f: Filter, scope: Scope, lgd: int) -> pd.DataFrame:
    """Hub→spoke pairs with consultations in the period where the spoke or the hub lies in the district."""
    spoke, hub = fac.alias("spoke"), fac.alias("hub")
    in_district = select(fac.c.facility_id).where(fac.c.district_lgd == lgd)
    stmt = (
        select(rfd.c.spoke_id, rfd.c.hub_id, func.sum(rfd.c.consultations).label("consultations"),
               spoke.c.lat.label("spoke_lat"), spoke.c.lon.label("spoke_lon"),
               hub.c.lat.label("hub_lat"), hub.c.lon.label("hub_lon"))
        .select_from(rfd.join(spoke, spoke.c.facility_id == rfd.c.spoke_id)
                     .join(hub, hub.c.facility_id == rfd.c.hub_id))
        .where(*_activity_clauses(f, scope, f.start, f.end),
               # A row carries its spoke's district: the district's spokes along (district_lgd, day).
               or_(rfd.c.district_lgd == lgd, rfd.c.hub_id.in_(in_district)))
        .group_by(rfd.c.spoke_id, rfd.c.hub_id, spoke.c.lat, spoke.c.lon, hub.c.lat, hub.c.lon)
        .order_by(rfd.c.hub_id, rfd.c.spoke_id)
    )
    with ctx.engine.connect() as conn:
        return read_df(conn, stmt)


@cached
def block_table(ctx: DataContext, f: Filter, scope: Scope, lgd: int) -> pd.DataFrame:
    """One row per block: spokes (all, the rule counts configuration), active spokes and consultations in the
    period, CHOs, and whether the block breaks the at-least-two-spokes rule."""
    blocks = select(dim_block.c.block_lgd).where(dim_block.c.district_lgd == lgd)
    spokes = (select(fac.c.block_lgd, func.count().label("spokes"))
              .where(fac.c.role == "spoke", fac.c.block_lgd.in_(blocks)).group_by(fac.c.block_lgd).subquery())
    # The district's rows of the period, along (district_lgd, day).
    activity = (select(rfd.c.block_lgd, func.sum(rfd.c.consultations).label("consultations"),
                       func.count(distinct(rfd.c.spoke_id)).label("spokes_active"))
                .where(*_activity_clauses(f, scope, f.start, f.end), rfd.c.district_lgd == lgd)
                .group_by(rfd.c.block_lgd))
    chos = (select(dim_cho.c.block_lgd, func.count().label("chos"))
            .where(dim_cho.c.active.is_(True), dim_cho.c.district_lgd == lgd).group_by(dim_cho.c.block_lgd).subquery())
    b = dim_block.c

    def stmt(per_block: Select) -> Select:
        act = per_block.subquery("activity")
        out = (
            select(b.block_lgd, b.name_en, b.name_hi, func.coalesce(spokes.c.spokes, 0).label("spokes"),
                   func.coalesce(act.c.spokes_active, 0).label("spokes_active"),
                   func.coalesce(act.c.consultations, 0).label("consultations"),
                   func.coalesce(chos.c.chos, 0).label("chos"))
            .select_from(dim_block.outerjoin(spokes, spokes.c.block_lgd == b.block_lgd)
                         .outerjoin(act, act.c.block_lgd == b.block_lgd)
                         .outerjoin(chos, chos.c.block_lgd == b.block_lgd))
            .where(b.district_lgd == lgd, scope_clause(b.district_lgd, scope))
            .order_by(b.name_en)
        )
        return out.where(b.block_lgd.in_(f.block_lgds)) if f.block_lgds else out

    with ctx.engine.connect() as conn:
        sp = None if running.by_consultation_kind(f) else running.span(conn, cumulative_spoke_day, f.start, f.end)
        frame = read_df(conn, stmt(running.block_activity(sp, scope, lgd) if sp is not None else activity))
    for col in ("spokes", "spokes_active", "consultations", "chos"):
        frame[col] = frame[col].astype("int64")
    frame["breach"] = frame["spokes"] < SPOKES_PER_BLOCK_MIN
    return frame


def _as_date(value: object) -> date | None:
    """A day read from a computed column (a scalar subquery may come back as text on SQLite) as a ``date``."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _days_since(last: pd.Series, as_of: date) -> pd.Series:
    return pd.Series([None if pd.isna(v) else (as_of - v).days for v in last], index=last.index, dtype="Int64")


@cached
def idle_spokes(ctx: DataContext, f: Filter, scope: Scope, lgd: int, days: int = IDLE_DAYS) -> pd.DataFrame:
    """Spokes with no consultation (any mode, any specialty) in the ``days`` days ending on the filter's last day."""
    as_of = f.end
    fd = _district_filter(f, lgd)
    source = fac.outerjoin(dim_block, dim_block.c.block_lgd == fac.c.block_lgd)
    with ctx.engine.connect() as conn:
        source, spoke_last = with_spoke_last_day(source, fac.c.facility_id, as_of, spoke_totals_at(conn, as_of),
                                                 rfd.c.district_lgd == lgd)
        spokes = (
            select(fac.c.facility_id, fac.c.name, fac.c.facility_type, fac.c.block_lgd,
                   dim_block.c.name_en.label("block_en"), dim_block.c.name_hi.label("block_hi"), fac.c.hub_id,
                   spoke_last.label("last_consultation"))
            .select_from(source)
            .where(fac.c.role == "spoke", *facility_dim_clauses(fd, scope))
            .subquery()
        )
        last = spokes.c.last_consultation
        stmt = select(spokes).where(or_(last.is_(None), last <= as_of - timedelta(days=days)))
        frame = read_df(conn, stmt)
    frame["last_consultation"] = pd.Series([_as_date(v) for v in frame["last_consultation"]], index=frame.index,
                                           dtype="object")
    frame["days_idle"] = _days_since(frame["last_consultation"], as_of)
    return _never_first(frame, "days_idle")


@cached
def silent_chos(ctx: DataContext, f: Filter, scope: Scope, lgd: int, days: int = IDLE_DAYS) -> pd.DataFrame:
    """Active CHOs of the district with no activity for ``days`` days or more up to the filter's last day."""
    as_of = f.end
    c = dim_cho.c
    where = [c.active.is_(True), c.district_lgd == lgd, scope_clause(c.district_lgd, scope)]
    with ctx.engine.connect() as conn:
        totals = cho_totals_at(conn, as_of)
        if totals.fresh is not None or totals.settled is not None or cho_has_index(ctx):
            # Probes per CHO: its running-total row (and the days since, when stale), or along (cho_id, day).
            chos = (select(c.cho_id, c.name, c.facility_id, c.block_lgd,
                           cho_last_day(ctx, c.cho_id, c.district_lgd, as_of, totals).label("last_active"))
                    .where(*where).subquery())
        else:
            # One pass over the district's CHO rows up to the day along (district_lgd, day), grouped per CHO.
            a = rollup_cho_day.c
            last = (select(a.cho_id, func.max(a.day).label("last_active"))
                    .where(a.district_lgd == lgd, a.day <= as_of, a.consultations > 0).group_by(a.cho_id)
                    .subquery())
            chos = (select(c.cho_id, c.name, c.facility_id, c.block_lgd, last.c.last_active)
                    .select_from(dim_cho.outerjoin(last, last.c.cho_id == c.cho_id)).where(*where).subquery())
        stmt = (
            select(chos.c.cho_id, chos.c.name, chos.c.facility_id, fac.c.name.label("facility_name"),
                   chos.c.block_lgd, dim_block.c.name_en.label("block_en"), dim_block.c.name_hi.label("block_hi"),
                   chos.c.last_active)
            .select_from(chos.outerjoin(fac, fac.c.facility_id == chos.c.facility_id)
                         .outerjoin(dim_block, dim_block.c.block_lgd == chos.c.block_lgd))
            .where(or_(chos.c.last_active.is_(None), chos.c.last_active <= as_of - timedelta(days=days)))
        )
        if f.block_lgds:
            stmt = stmt.where(chos.c.block_lgd.in_(f.block_lgds))
        if f.facility_ids:
            stmt = stmt.where(chos.c.facility_id.in_(f.facility_ids))
        frame = read_df(conn, stmt)
    frame["last_active"] = pd.Series([_as_date(v) for v in frame["last_active"]], index=frame.index, dtype="object")
    frame["days_silent"] = _days_since(frame["last_active"], as_of)
    return _never_first(frame, "days_silent")


def _never_first(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    key = frame[column].fillna(10**9).astype("int64")
    return frame.assign(_k=key).sort_values(["_k", "name"], ascending=[False, True]).drop(columns="_k").reset_index(
        drop=True)


@dataclass(frozen=True)
class FacilityDetail:
    info: pd.DataFrame
    daily: pd.DataFrame
    partners: pd.DataFrame
    chos: pd.DataFrame

    @property
    def found(self) -> bool:
        return not self.info.empty


@cached
def facility_detail(ctx: DataContext, f: Filter, scope: Scope, facility_id: str,
                    days: int = DETAIL_DAYS) -> FacilityDetail:
    """A facility's last ``days`` days to the filter's last day: daily consultations, its hub or spokes, its CHOs."""
    end = f.end
    start = end - timedelta(days=days - 1)
    hub = fac.alias("hub")
    with ctx.engine.connect() as conn:
        info = read_df(conn, select(fac.c.facility_id, fac.c.name, fac.c.facility_type, fac.c.role,
                                    fac.c.district_lgd, fac.c.block_lgd, dim_block.c.name_en.label("block_en"),
                                    dim_block.c.name_hi.label("block_hi"), fac.c.hub_id,
                                    hub.c.name.label("hub_name"), fac.c.service_start, fac.c.service_end)
                       .select_from(fac.outerjoin(dim_block, dim_block.c.block_lgd == fac.c.block_lgd)
                                    .outerjoin(hub, hub.c.facility_id == fac.c.hub_id))
                       .where(fac.c.facility_id == facility_id, scope_clause(fac.c.district_lgd, scope)))
        if info.empty:
            empty = pd.DataFrame()
            return FacilityDetail(info, empty, empty, empty)
        is_hub = info.loc[0, "role"] == "hub"
        me, other = (rfd.c.hub_id, rfd.c.spoke_id) if is_hub else (rfd.c.spoke_id, rfd.c.hub_id)
        # A spoke's rows along (district_lgd, day) (they carry its district); a hub's along (hub_id, day).
        mine = [me == facility_id] if is_hub else [rfd.c.district_lgd == int(info.loc[0, "district_lgd"]),
                                                   me == facility_id]
        daily = read_df(conn, select(rfd.c.day, func.sum(rfd.c.consultations).label("consultations"))
                        .where(*_activity_clauses(f, scope, start, end), *mine).group_by(rfd.c.day))
        partner = fac.alias("partner")
        used = read_df(conn, select(other.label("partner_id"), func.sum(rfd.c.consultations).label("consultations"))
                       .where(*_activity_clauses(f, scope, start, end), *mine).group_by(other))
        assigned_clause = (fac.c.hub_id == facility_id) if is_hub else (
            fac.c.facility_id == (info.loc[0, "hub_id"] or ""))
        assigned = read_df(conn, select(fac.c.facility_id.label("partner_id")).where(
            assigned_clause, scope_clause(fac.c.district_lgd, scope) if is_hub else true()))
        ids = sorted(set(used["partner_id"]) | set(assigned["partner_id"]))
        names = read_df(conn, select(partner.c.facility_id.label("partner_id"), partner.c.name, partner.c.facility_type,
                                     partner.c.district_lgd).where(partner.c.facility_id.in_(ids)))
        cho_last = cho_last_day(ctx, dim_cho.c.cho_id, dim_cho.c.district_lgd, end, cho_totals_at(conn, end))
        chos = read_df(conn, select(dim_cho.c.cho_id, dim_cho.c.name, dim_cho.c.training_modules,
                                    dim_cho.c.laptop_issued_on, dim_cho.c.active, cho_last.label("last_active"))
                       .where(dim_cho.c.facility_id == facility_id).order_by(dim_cho.c.name))
        chos["last_active"] = pd.Series([_as_date(v) for v in chos["last_active"]], index=chos.index,
                                        dtype="object")
    days_index = pd.DataFrame({"day": pd.date_range(start, end, freq="D").date})
    if not daily.empty:
        daily["day"] = pd.to_datetime(daily["day"]).dt.date
    daily = days_index.merge(daily, on="day", how="left").fillna({"consultations": 0})
    daily["consultations"] = daily["consultations"].astype("int64")
    partners = names.merge(used, on="partner_id", how="left").fillna({"consultations": 0})
    partners["consultations"] = partners["consultations"].astype("int64")
    partners["assigned"] = partners["partner_id"].isin(set(assigned["partner_id"]))
    partners = partners.sort_values(["consultations", "name"], ascending=[False, True]).reset_index(drop=True)
    return FacilityDetail(info, daily, partners, chos)
