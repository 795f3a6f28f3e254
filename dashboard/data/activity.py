"""Look-ups of activity that walk an index instead of scanning a rollup: the last day a facility or a CHO consulted,
and whether it consulted at all in a period.

Counting distinct spokes (or hubs, or CHOs) over a period with ``COUNT(DISTINCT ...)`` reads every rollup row of the
period; asking, for each facility, "is there a row in the period?" is one index probe per facility (EXISTS stops at
the first row). A rollup row exists only for a key with at least one consultation (the ETL recomputes touched keys
with ``GROUP BY`` over the facts), so row existence is activity; ``consultations > 0`` is kept for clarity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Connection, ScalarSelect, Select, distinct, func, literal, select, true
from sqlalchemy.sql.selectable import FromClause

from dashboard.data import cumulative as running
from dashboard.data.context import DataContext
from dashboard.data.filters import Filter, Scope
from dashboard.data.sql import consult_clauses, district_clauses, facility_dim_clauses
from etl.warehouse.schema import (
    cumulative_cho_day,
    cumulative_spoke_day,
    dim_cho,
    dim_district,
    dim_facility,
    rollup_cho_day,
    rollup_facility_day,
)

rfd = rollup_facility_day
rcd = rollup_cho_day

# Indexes a reader uses when the warehouse has them: name -> (table, leading columns). The dashboard benchmark
# (benchmarks/dashboard.py --add-indexes) can add them.
RECOMMENDED_INDEXES: dict[str, tuple[str, tuple[str, ...]]] = {
    # A CHO's last activity and "active CHOs in the period" while the CHO running totals are stale: one probe per
    # CHO instead of a walk of the district's rows. The warehouse no longer keeps it (migration 0016): each new day
    # wrote one page of it per CHO, a third of an incremental day's load; fresh running totals answer both.
    "ix_rollup_cho_day_cho_day": ("rollup_cho_day", ("cho_id", "day")),
    # "Did hub h serve district d in the period?": one probe per hub and district instead of a scan of the period.
    "ix_rollup_facility_day_hub_district_day": ("rollup_facility_day", ("hub_id", "district_lgd", "day")),
}
CHO_DAY_INDEX = RECOMMENDED_INDEXES["ix_rollup_cho_day_cho_day"]
HUB_DISTRICT_INDEX = RECOMMENDED_INDEXES["ix_rollup_facility_day_hub_district_day"]


def recommended_index_ddl() -> list[str]:
    return [f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)})"
            for name, (table, columns) in RECOMMENDED_INDEXES.items()]


def last_day(column: ColumnElement, facility: ColumnElement, as_of: date,
             *extra: ColumnElement[bool]) -> ScalarSelect:
    """The last day up to ``as_of`` with a consultation where ``column`` (``hub_id``) is ``facility``: one backward
    step along the (hub_id, day) index. Spokes: ``with_spoke_last_day``."""
    return (select(func.max(rfd.c.day))
            .where(column == facility, rfd.c.day <= as_of, rfd.c.consultations > 0, *extra).scalar_subquery())


def spoke_totals_at(conn: Connection, as_of: date) -> running.Span | None:
    """The spoke running totals' rows of ``as_of`` (None while they are stale), for ``with_spoke_last_day``."""
    return running.span(conn, cumulative_spoke_day, as_of, as_of)


def spoke_last_days(as_of: date, *where: ColumnElement[bool]) -> Select:
    """(spoke_id, last_day) for the spokes of the facility rollup's rows under ``where`` (any mode or specialty) up
    to ``as_of``: one pass over those rows, for when the spoke running totals are stale. The rollup keeps no
    spoke-led index (migration 0017): give ``where`` a district so the pass runs along (district_lgd, day)."""
    return (select(rfd.c.spoke_id, func.max(rfd.c.day).label("last_day"))
            .where(rfd.c.day <= as_of, rfd.c.consultations > 0, *where).group_by(rfd.c.spoke_id))


def with_spoke_last_day(source: FromClause, spoke: ColumnElement, as_of: date, totals: running.Span | None,
                        *where: ColumnElement[bool]) -> tuple[FromClause, ColumnElement]:
    """``source`` and the last day with a consultation (any mode or specialty) up to ``as_of`` of its ``spoke``:
    with fresh spoke running totals (``totals``, whose last day is ``as_of``: ``spoke_totals_at``, or the span of a
    period ending on it), the spoke's row of that day, one probe along the (day, spoke_id) key; while they are stale,
    ``spoke_last_days`` under ``where``, outer-joined."""
    if totals is not None:
        cum = cumulative_spoke_day.c
        return source, select(cum.last_day).where(cum.day == totals.end, cum.spoke_id == spoke).scalar_subquery()
    lasts = spoke_last_days(as_of, *where).subquery("lasts")
    return source.outerjoin(lasts, lasts.c.spoke_id == spoke), lasts.c.last_day


def consulted(column: ColumnElement, facility: ColumnElement, clauses: list[ColumnElement[bool]]) -> ColumnElement:
    """EXISTS a facility rollup row where ``column`` is ``facility`` under ``clauses`` (which hold the period)."""
    # SELECT 1, not SELECT *, and no "consultations > 0" (a row exists only for a key with a consultation): SQLite
    # then answers the probe from the index that leads with ``column``, covering, without reading the row.
    return select(literal(1)).where(column == facility, *clauses).exists()


def cho_has_index(ctx: DataContext) -> bool:
    return ctx.has_index(*CHO_DAY_INDEX)


@dataclass(frozen=True)
class ChoTotals:
    """The CHO running totals at a day, for ``cho_last_day``: ``fresh`` when they are up to date (their row of the
    day answers), else ``settled``, the last day up to it through which their rows are still right (a load marked
    them stale from the day after), or None when they cannot help."""

    fresh: running.Span | None
    settled: date | None = None


# A stale span longer than this is not read day by day (see ``cho_last_day``).
SETTLED_DAYS_MAX = 92


def cho_totals_at(conn: Connection, as_of: date, start: date | None = None) -> ChoTotals:
    """The CHO running totals' rows of ``as_of`` (``fresh`` spans ``start``..``as_of``, by default the day alone),
    or the last day they are still right (see ``ChoTotals``): one read of their state."""
    st = running.state(conn, cumulative_cho_day)
    fresh = st.span(start or as_of, as_of)
    if fresh is not None or st.built is None:
        return ChoTotals(fresh)
    assert st.dirty is not None  # built and not fresh: stale
    settled = min(as_of, st.built, st.dirty - timedelta(days=1))
    return ChoTotals(None, settled if (as_of - settled).days <= SETTLED_DAYS_MAX else None)


def cho_last_day(ctx: DataContext, cho: ColumnElement, district: ColumnElement, as_of: date,
                 totals: ChoTotals) -> ColumnElement:
    """A CHO's last day with a consultation up to ``as_of`` (wherever the CHO consulted). With fresh CHO running
    totals (``totals``, from ``cho_totals_at``): their row of the day, one probe along the (day, cho_id) key. With a
    (cho_id, day) index on the CHO rollup: one backward probe. With stale totals: the last of the rollup's rows
    after the settled day (one probe per day along the (day, cho_id) key) or else the totals' row of that day.
    Without any of those (totals never built or stale for months): the CHO's district walked backwards along
    (district_lgd, day), which misses days the CHO consulted at a facility of another district."""
    cum = cumulative_cho_day.c
    if totals.fresh is not None:
        return select(cum.last_day).where(cum.day == totals.fresh.end, cum.cho_id == cho).scalar_subquery()
    clauses = [rcd.c.cho_id == cho, rcd.c.day <= as_of, rcd.c.consultations > 0]
    if cho_has_index(ctx):
        return select(func.max(rcd.c.day)).where(*clauses).scalar_subquery()
    if totals.settled is not None:
        settled = totals.settled
        stale_days = [settled + timedelta(days=i) for i in range(1, (as_of - settled).days + 1)]
        recent = (select(func.max(rcd.c.day)).where(rcd.c.cho_id == cho, rcd.c.day.in_(stale_days),
                                                     rcd.c.consultations > 0).scalar_subquery())
        before = select(cum.last_day).where(cum.day == settled, cum.cho_id == cho).scalar_subquery()
        return func.coalesce(recent, before)
    return select(func.max(rcd.c.day)).where(*clauses, rcd.c.district_lgd == district).scalar_subquery()


# Up to this many districts, reading their rows along (district_lgd, day) and counting distinct hubs beats probing
# every hub (a hub that serves none of them is probed through all its rows of the period).
FEW_DISTRICTS = 4


def rows_are_few(f: Filter, scope: Scope) -> bool:
    """Whether the filter or the scope narrows the rows to a few districts (read through (district_lgd, day)), so that
    a plain ``COUNT(DISTINCT ...)`` over them is cheap."""
    if f.district_lgds:
        return len(f.district_lgds) <= FEW_DISTRICTS
    return not scope.all_districts and len(scope.district_lgds) <= FEW_DISTRICTS


def district_by_district(f: Filter, scope: Scope) -> ColumnElement[bool]:
    """The facility rollup's rows of the filter's districts (every district when none), as an IN list on the
    district: SQLite then reads a period district by district along the (district_lgd, day, ...) index, which
    carries the hub, spoke, consultations, mode and specialty, instead of the wide rows along the day-led key."""
    d = dim_district.c
    return rfd.c.district_lgd.in_(select(d.district_lgd).where(*district_clauses(d.district_lgd, f, scope)))


def active_spokes(f: Filter, scope: Scope, *, per_district: bool = False) -> Select:
    """Spokes of the facility master under the filter with a consultation in the period (per district when
    ``per_district``): the distinct spokes of the period's facility-rollup rows. The rollup keeps no spoke-led index
    to probe per spoke (migration 0017); its day-led key holds the spoke, mode and specialty, and its
    (district_lgd, day) index the same, so the pass reads an index, not the wide rows."""
    c = dim_facility.c
    # No "consultations > 0": a rollup row exists only for a key with a consultation, and the column would make
    # SQLite read every row instead of the index.
    consulted = (select(rfd.c.spoke_id).where(*consult_clauses(rfd, f, scope, match="spoke"),
                                              district_by_district(f, scope)).distinct().subquery("consulted"))
    source = dim_facility.join(consulted, consulted.c.spoke_id == c.facility_id)
    where = [c.role == "spoke", *facility_dim_clauses(f, scope)]
    if per_district:
        return (select(c.district_lgd, func.count().label("spokes_active")).select_from(source).where(*where)
                .group_by(c.district_lgd))
    return select(func.count().label("spokes_active")).select_from(source).where(*where)


def hub_district_index(ctx: DataContext) -> bool:
    return ctx.has_index(*HUB_DISTRICT_INDEX)


def _hub_candidates(f: Filter) -> list[ColumnElement[bool]]:
    """Facility-master clauses on the hubs that may count (a facility filter applies to the hub end)."""
    c = dim_facility.c
    where = [c.role == "hub"]
    if f.facility_ids:
        where.append(c.facility_id.in_(f.facility_ids))
    if f.facility_types:
        where.append(c.facility_type.in_(f.facility_types))
    return where


def serving_hubs(ctx: DataContext, f: Filter, scope: Scope) -> Select:
    """Hubs that answered a consultation under the filter in the period: one EXISTS probe per hub along
    (hub_id, day), or (hub_id, district_lgd, day) when that index exists; a count of distinct hubs over the rows when
    they are a few districts' and that index is missing."""
    clauses = consult_clauses(rfd, f, scope, match="hub")
    if not hub_district_index(ctx) and (rows_are_few(f, scope) or f.block_lgds):
        return select(func.count(distinct(rfd.c.hub_id)).label("hubs_serving")).where(*clauses,
                                                                                      rfd.c.consultations > 0)
    c = dim_facility.c
    return select(func.count().label("hubs_serving")).select_from(dim_facility).where(
        *_hub_candidates(f), consulted(rfd.c.hub_id, c.facility_id, clauses))


def serving_hubs_by_district(ctx: DataContext, f: Filter, scope: Scope) -> Select:
    """Per district (of the consulting spoke): the hubs that answered a consultation under the filter in the period.
    On SQLite with a (hub_id, district_lgd, day) index, one EXISTS probe per hub and district; otherwise a count of
    distinct (district, hub) pairs over the period's rows (the facility rollup has no other index that answers "did
    hub h serve district d")."""
    clauses = consult_clauses(rfd, f, scope, match="hub")
    # PostgreSQL turns the per-hub probes into a sort of every row of the period (it expects a million distinct
    # pairs where there are some 17,000): 10.5 s for the national overview, where hashing the pairs takes 3 s.
    if ctx.engine.dialect.name == "postgresql" or not hub_district_index(ctx):
        # Distinct (district, hub) pairs first: a few hundred, where GROUP BY district with COUNT(DISTINCT hub)
        # would sort every row of the period by district.
        pairs = (select(rfd.c.district_lgd, rfd.c.hub_id).where(*clauses, rfd.c.consultations > 0).distinct()
                 .subquery("pairs"))
        return (select(pairs.c.district_lgd, func.count().label("hubs_serving")).group_by(pairs.c.district_lgd))
    d, h = dim_district.c, dim_facility.c
    return (select(d.district_lgd, func.count().label("hubs_serving"))
            .select_from(dim_district.join(dim_facility, true()))
            .where(*district_clauses(d.district_lgd, f, scope), *_hub_candidates(f),
                   consulted(rfd.c.hub_id, h.facility_id, [rfd.c.district_lgd == d.district_lgd, *clauses]))
            .group_by(d.district_lgd))


def active_chos(ctx: DataContext, f: Filter, scope: Scope, clauses: list[ColumnElement[bool]]) -> Select:
    """CHOs with a consultation under ``clauses`` (on the CHO rollup, holding the period): one EXISTS probe per CHO
    when the rollup has a (cho_id, day) index, else a count of distinct CHOs over the period's rows."""
    c = dim_cho.c
    if not cho_has_index(ctx):
        # Of the CHOs of the filter's districts (their own, as with the index; a CHO's rows carry the district where
        # the CHO consulted).
        return select(func.count(distinct(rcd.c.cho_id)).label("chos_active")).where(
            *clauses, rcd.c.cho_id.in_(select(c.cho_id).where(*district_clauses(c.district_lgd, f, scope))))
    return select(func.count().label("chos_active")).select_from(dim_cho).where(
        *district_clauses(c.district_lgd, f, scope),
        select(literal(1)).where(rcd.c.cho_id == c.cho_id, *clauses).exists())
