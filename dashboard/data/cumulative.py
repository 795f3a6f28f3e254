"""Period totals from the running-total tables (``cumulative_*``, kept by etl.load.cumulative).

A key's total over a period is its running total at the period's last day minus its running total at the day before
the period: two rows per key, whatever the period's length. Both days are clamped to the last day the table is built
through (nothing happened after it). A table the ETL has marked stale, or never built, is not used: the caller reads
the daily rollups instead (``span`` returns None).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from sqlalchemy import ColumnElement, Connection, Select, String, Table, and_, case, cast, distinct, func, select
from sqlalchemy.sql.expression import Join
from sqlalchemy.sql.selectable import NamedFromClause

from dashboard.data.filters import Filter, Scope
from dashboard.data.sql import district_clauses, facility_dim_clauses, scope_clause
from etl.warehouse.schema import (
    WEEKDAY_COLUMNS,
    cumulative_cho_day,
    cumulative_district_day,
    cumulative_hub_district_day,
    cumulative_hub_hour_day,
    cumulative_spoke_day,
    cumulative_state,
    dim_cho,
    dim_facility,
)


@dataclass(frozen=True)
class Span:
    """The running-total rows that bound a period: ``end`` (totals through its last day) and ``before`` (through the
    day before it)."""

    end: date
    before: date


def as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class State:
    """A running-total table's ``cumulative_state``: built through ``built`` (None: never), stale from ``dirty``."""

    built: date | None
    dirty: date | None

    def span(self, start: date, end: date) -> Span | None:
        """The rows that give the totals of ``start``..``end``, or None when the table is stale or unbuilt."""
        if self.built is None or self.dirty is not None:
            return None
        return Span(end=min(end, self.built), before=min(start - timedelta(days=1), self.built))


def state(conn: Connection, table: Table) -> State:
    s = cumulative_state.c
    row = conn.execute(select(s.built_through, s.dirty_from).where(s.table_name == table.name)).first()
    if row is None:
        return State(None, None)
    return State(None if row.built_through is None else as_date(row.built_through),
                 None if row.dirty_from is None else as_date(row.dirty_from))


def span(conn: Connection, table: Table, start: date, end: date) -> Span | None:
    """The rows of ``table`` that give the totals of ``start``..``end``, or None when the table is stale or unbuilt."""
    return state(conn, table).span(start, end)


@dataclass(frozen=True)
class Pair:
    """``table`` at the period's end (``e``) outer-joined to the same key before it (``s``)."""

    e: NamedFromClause
    s: NamedFromClause
    joined: Join
    at_end: ColumnElement[bool]

    def diff(self, column: str) -> ColumnElement:
        """The period's total of ``column``: at the end less before (0 before the key's first day)."""
        return self.e.c[column] - func.coalesce(self.s.c[column], 0)


@cache
def _aliases(table: Table) -> tuple[NamedFromClause, NamedFromClause]:
    # Made once: an alias of a wide table proxies every column, a few milliseconds a statement otherwise.
    return table.alias("cum_end"), table.alias("cum_before")


@cache
def _period_sums(table: Table, measures: tuple[str, ...]) -> tuple[ColumnElement, ...]:
    """The period's sum of each of ``measures`` over ``pair``'s rows of ``table`` (0 when none), labelled by name.
    Made once per table and measures: they name the aliases, not the period (the pair's join holds its days), and a
    statement over a wide table builds dozens of them."""
    e, s = _aliases(table)
    return tuple(func.coalesce(func.sum(e.c[m] - func.coalesce(s.c[m], 0)), 0).label(m) for m in measures)


def pair(table: Table, sp: Span) -> Pair:
    keys = [c.name for c in table.primary_key.columns if c.name != "day"]
    e, s = _aliases(table)
    joined = e.outerjoin(s, and_(s.c.day == sp.before, *[s.c[k] == e.c[k] for k in keys]))
    return Pair(e=e, s=s, joined=joined, at_end=e.c.day == sp.end)


# ---------------------------------------------------------------- statements over the running totals


def _active_in(e: NamedFromClause, sp: Span) -> ColumnElement[bool]:
    """A key of an activity table (spokes, CHOs) consulted in the period: its last day up to the period's end falls
    after the day before the period. One row per key, no look at the row before the period."""
    return e.c.last_day > sp.before


def _kind_clauses(e: NamedFromClause, f: Filter) -> list[ColumnElement[bool]]:
    """The filter's modes and specialties on the running-total rows, each where the table keeps it (the hourly hub
    totals have no specialty: that filter does not apply to the heatmap)."""
    clauses = []
    if f.modes and "mode" in e.c:
        clauses.append(e.c.mode.in_(f.modes))
    if f.specialties and "specialty_code" in e.c:
        clauses.append(e.c.specialty_code.in_(f.specialties))
    return clauses


def by_consultation_kind(f: Filter) -> bool:
    """Whether the filter narrows consultations by mode or specialty, which only the district totals keep."""
    return bool(f.modes or f.specialties)


def district_sums(sp: Span, f: Filter, scope: Scope, measures: tuple[str, ...], *, per_district: bool) -> Select:
    """Sums of ``measures`` over the period (per district when ``per_district``), any filter of district, mode and
    specialty; facility filters need the facility rollup (not here)."""
    p = pair(cumulative_district_day, sp)
    e = p.e.c
    where = [p.at_end, *district_clauses(e.district_lgd, f, scope), *_kind_clauses(p.e, f)]
    sums = _period_sums(cumulative_district_day, measures)
    if per_district:
        return select(e.district_lgd, *sums).select_from(p.joined).where(*where).group_by(e.district_lgd)
    return select(*sums).select_from(p.joined).where(*where)


def active_spokes(sp: Span, f: Filter, scope: Scope, *, per_district: bool = False) -> Select:
    """Spokes of the facility master under the filter with a consultation in the period (no mode or specialty
    filter: the spoke totals are over all of them)."""
    c = dim_facility.c
    e = _aliases(cumulative_spoke_day)[0]
    source = dim_facility.join(e, and_(e.c.spoke_id == c.facility_id, e.c.day == sp.end))
    where = [c.role == "spoke", *facility_dim_clauses(f, scope), _active_in(e, sp)]
    if per_district:
        return (select(c.district_lgd, func.count().label("spokes_active")).select_from(source).where(*where)
                .group_by(c.district_lgd))
    return select(func.count().label("spokes_active")).select_from(source).where(*where)


def hubs_filterable(f: Filter) -> bool:
    """Whether serving hubs can come from the (hub, district) totals: no mode, specialty, block or facility
    filter."""
    return not (by_consultation_kind(f) or f.block_lgds or f.facility_ids or f.facility_types)


def serving_hubs(sp: Span, f: Filter, scope: Scope, *, per_district: bool = False) -> Select:
    """Hubs that answered a consultation of a spoke of the filter's districts in the period (per district)."""
    p = pair(cumulative_hub_district_day, sp)
    e = p.e.c
    where = [p.at_end, *district_clauses(e.district_lgd, f, scope), p.diff("consultations") > 0]
    if per_district:
        return (select(e.district_lgd, func.count().label("hubs_serving")).select_from(p.joined).where(*where)
                .group_by(e.district_lgd))
    return select(func.count(distinct(e.hub_id)).label("hubs_serving")).select_from(p.joined).where(*where)


def chos_filterable(f: Filter) -> bool:
    """Whether active CHOs can be counted from the CHO totals: no block or facility filter (those apply to where
    the CHO consulted)."""
    return not (f.block_lgds or f.facility_ids or f.facility_types)


def active_chos(sp: Span, f: Filter, scope: Scope) -> Select:
    """CHOs of the filter's districts with a consultation in the period."""
    c = dim_cho.c
    e = _aliases(cumulative_cho_day)[0]
    source = dim_cho.join(e, and_(e.c.cho_id == c.cho_id, e.c.day == sp.end))
    return (select(func.count().label("chos_active")).select_from(source)
            .where(*district_clauses(c.district_lgd, f, scope), _active_in(e, sp)))


def activity(sp: Span, table: Table, key: str, ids: Select, *, iso_text: bool = True) -> Select:
    """Per key of ``ids`` (spoke_id or cho_id of ``table``): consultations and active days in the period, and the
    last day with a consultation up to its end (ISO text, or the date column with ``iso_text`` false)."""
    p = pair(table, sp)
    last = cast(p.e.c.last_day, String) if iso_text else p.e.c.last_day
    return (select(p.e.c[key].label("key"), p.diff("consultations").label("consultations"),
                   p.diff("active_days").label("active_days"), last.label("last_day"))
            .select_from(p.joined).where(p.at_end, p.e.c[key].in_(ids)))


@dataclass(frozen=True)
class KeyActivity:
    """A dimension left-joined to its keys' running totals (``joined``), and per row: consultations and active days
    in the period (0 for a key without totals; None when not asked for) and the last day with a consultation up to
    its end (NULL: none)."""

    joined: Join
    consultations: ColumnElement | None
    active_days: ColumnElement | None
    last_day: ColumnElement


def key_activity(sp: Span, table: Table, key: str, dimension: NamedFromClause, key_column: ColumnElement, *,
                 totals: bool = True) -> KeyActivity:
    """What ``activity`` gives per key, as columns of ``dimension`` (whose ``key_column`` is ``key`` of ``table``),
    for statements that aggregate, filter or order them in SQL. Without ``totals``, the last day alone: one
    running-total row per key."""
    e, s = _aliases(table)
    joined = dimension.outerjoin(e, and_(e.c[key] == key_column, e.c.day == sp.end))
    if not totals:
        return KeyActivity(joined=joined, consultations=None, active_days=None, last_day=e.c.last_day)
    joined = joined.outerjoin(s, and_(s.c[key] == e.c[key], s.c.day == sp.before))
    consultations = func.coalesce(e.c.consultations - func.coalesce(s.c.consultations, 0), 0)
    active_days = func.coalesce(e.c.active_days - func.coalesce(s.c.active_days, 0), 0)
    return KeyActivity(joined=joined, consultations=consultations, active_days=active_days, last_day=e.c.last_day)


def hub_totals(sp: Span, table: Table, f: Filter, hub_ids: Select, measures: tuple[str, ...], by: str,
               label: str | None = None) -> Select:
    """Sums of ``measures`` over the period for the hubs of ``hub_ids``, grouped by ``by`` (``hub_id`` or
    ``specialty_code``; its column named ``label`` when given), from a hub running-total table (per hub and mode, or
    per hub, mode and specialty: mode and specialty filters apply where the table has them)."""
    p = pair(table, sp)
    e = p.e.c
    where = [p.at_end, e.hub_id.in_(hub_ids), *_kind_clauses(p.e, f)]
    key = e[by] if label is None else e[by].label(label)
    return select(key, *_period_sums(table, measures)).select_from(p.joined).where(*where).group_by(e[by])


def hour_weekday(sp: Span, f: Filter, hub_ids: Select) -> Select:
    """Per hour of day: consultations in the period by weekday (``weekday_0`` = Monday) for the hubs of
    ``hub_ids``, mode filter applied (the table has no specialty)."""
    p = pair(cumulative_hub_hour_day, sp)
    e = p.e.c
    where = [p.at_end, e.hub_id.in_(hub_ids), *_kind_clauses(p.e, f)]
    return (select(e.hour, *_period_sums(cumulative_hub_hour_day, WEEKDAY_COLUMNS)).select_from(p.joined)
            .where(*where).group_by(e.hour))


def block_activity(sp: Span, scope: Scope, lgd: int) -> Select:
    """Per block of district ``lgd``: consultations of its spokes in the period and how many consulted."""
    c = dim_facility.c
    p = pair(cumulative_spoke_day, sp)
    source = dim_facility.join(p.joined, and_(p.e.c.spoke_id == c.facility_id, p.at_end))
    active = func.sum(case((_active_in(p.e, sp), 1), else_=0))
    return (select(c.block_lgd, func.sum(p.diff("consultations")).label("consultations"),
                   active.label("spokes_active"))
            .select_from(source).where(c.role == "spoke", c.district_lgd == lgd, scope_clause(c.district_lgd, scope))
            .group_by(c.block_lgd))
