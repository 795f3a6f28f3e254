"""Running totals (``cumulative_*`` tables) kept up to date with the daily rollups.

Every write of consultation rollups marks the running totals stale from the first day it changed
(``mark_stale``, in the same transaction as the rollups); ``refresh_cumulatives`` then rewrites, for every key, the
rows from that day to the rollups' last day, starting from the key's row of the day before. A new day costs one row
per key; a correction of a day a month back rewrites a month of rows per key. Up to ``APPEND_DAYS`` days are
written day by day (the day before's row plus the day's sums); longer spans and full builds are computed in arrays
(``array_chunks``; after a bulk load by a child process, ``etl.load.running_ahead``), or for decimal measures by one
window query.
Until a refresh commits, readers see the table as stale and read the daily rollups instead, so a killed run never
leaves wrong totals in use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

import pandas as pd
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Date,
    Integer,
    MetaData,
    Row,
    Select,
    Table,
    and_,
    case,
    delete,
    extract,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)

from etl.load.bulk import DriverRows, driver_chunks, driver_frame, execute_driver_rows
from etl.load.running_arrays import running_rows
from etl.warehouse.schema import (
    HUB_MEASURES,
    WEEKDAY_COLUMNS,
    cumulative_cho_day,
    cumulative_district_day,
    cumulative_hub_district_day,
    cumulative_hub_hour_day,
    cumulative_hub_mode_day,
    cumulative_hub_specialty_day,
    cumulative_spoke_day,
    cumulative_state,
    rollup_cho_day,
    rollup_district_day,
    rollup_facility_day,
    rollup_hub_hour,
    rollup_hub_mode_day,
    rollup_hub_specialty_day,
)

log = logging.getLogger("arogya.etl")


@dataclass(frozen=True)
class Cumulative:
    """A running-total table and the daily rollup it sums: ``keys`` and ``measures`` are column names of both;
    ``activity`` adds the count of days with a consultation and the last such day."""

    table: Table
    source: Table
    keys: tuple[str, ...]
    measures: tuple[str, ...]
    activity: bool = False
    # Measures that are not a column of the source: name -> expression over the source's columns.
    derived: Mapping[str, Callable[[Table], ColumnElement]] = field(default_factory=dict)

    def value(self, name: str) -> ColumnElement:
        return self.derived[name](self.source) if name in self.derived else self.source.c[name]


def _on_weekday(monday_based: int) -> Callable[[Table], ColumnElement]:
    # SQL's day of week counts from Sunday (0); the dashboard's from Monday, as pandas does.
    return lambda src: case((extract("dow", src.c.day) == (monday_based + 1) % 7, src.c.consultations), else_=0)


def _district_measures() -> tuple[str, ...]:
    keys = {c.name for c in cumulative_district_day.primary_key.columns}
    return tuple(c.name for c in cumulative_district_day.columns if c.name not in keys)


CUMULATIVES: tuple[Cumulative, ...] = (
    Cumulative(cumulative_district_day, rollup_district_day, ("district_lgd", "specialty_code", "mode"),
               _district_measures()),
    Cumulative(cumulative_spoke_day, rollup_facility_day, ("spoke_id",), ("consultations",), activity=True),
    Cumulative(cumulative_cho_day, rollup_cho_day, ("cho_id",), ("consultations",), activity=True),
    Cumulative(cumulative_hub_district_day, rollup_facility_day, ("hub_id", "district_lgd"), ("consultations",)),
    Cumulative(cumulative_hub_mode_day, rollup_hub_mode_day, ("hub_id", "mode"), HUB_MEASURES),
    Cumulative(cumulative_hub_specialty_day, rollup_hub_specialty_day, ("hub_id", "mode", "specialty_code"),
               HUB_MEASURES),
    Cumulative(cumulative_hub_hour_day, rollup_hub_hour, ("hub_id", "hour", "mode"), WEEKDAY_COLUMNS,
               derived={name: _on_weekday(i) for i, name in enumerate(WEEKDAY_COLUMNS)}),
)

_temp = MetaData()
calendar = Table("tmp_cumulative_calendar", _temp, Column("day", Date, primary_key=True), prefixes=["TEMPORARY"])


def mark_stale(conn: Connection, first_day: date | None, *, rebuild: bool = False) -> None:
    """Mark every running total stale from ``first_day`` (nothing to do for None), or, with ``rebuild``, to be
    built again in full."""
    s = cumulative_state.c
    if rebuild:
        conn.execute(update(cumulative_state).values(dirty_from=date(1900, 1, 1), built_through=None))
        return
    if first_day is None:
        return
    conn.execute(update(cumulative_state).where(or_(s.dirty_from.is_(None), s.dirty_from > first_day))
                 .values(dirty_from=first_day))


def _as_date(value: object) -> date | None:
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _fill_calendar(conn: Connection, first: date, last: date) -> None:
    calendar.create(conn, checkfirst=True)
    conn.execute(delete(calendar))
    days = [{"day": first + timedelta(days=i)} for i in range((last - first).days + 1)]
    if days:
        conn.execute(insert(calendar), days)


_daily_tables: dict[str, Table] = {}


def _daily_table(spec: Cumulative) -> Table:
    """A temporary table of ``spec``'s daily sums: its keys and day (the primary key, in that order) and measures."""
    name = f"tmp_daily_{spec.table.name}"
    if name not in _daily_tables:
        keys = [Column(k, spec.table.c[k].type, primary_key=True) for k in spec.keys]
        measures = [Column(m, spec.table.c[m].type) for m in spec.measures]
        _daily_tables[name] = Table(name, _temp, *keys, Column("day", Date, primary_key=True), *measures,
                                    prefixes=["TEMPORARY"])
    return _daily_tables[name]


def _one_row_per_key_and_day(spec: Cumulative) -> bool:
    """Whether ``spec``'s source holds one row per key and day (its primary key is the keys and the day)."""
    return {c.name for c in spec.source.primary_key.columns} == {*spec.keys, "day"}


def _daily_sums(spec: Cumulative, first: date, last: date) -> Select:
    """``spec``'s keys, day and measures summed per key and day, for the days from ``first`` to ``last`` with a
    consultation."""
    src = spec.source
    keys = [src.c[k] for k in spec.keys]
    in_range = [src.c.day >= first, src.c.day <= last, src.c.consultations > 0]
    if _one_row_per_key_and_day(spec):  # the rollup's rows are the daily sums: no GROUP BY (a sort of every row)
        return select(*keys, src.c.day, *[spec.value(m).label(m) for m in spec.measures]).where(*in_range)
    return (select(*keys, src.c.day, *[func.sum(spec.value(m)).label(m) for m in spec.measures])
            .where(*in_range).group_by(*keys, src.c.day))


def _rewrite(conn: Connection, spec: Cumulative, first: date, last: date, base_day: date | None,
             ahead: RowsAhead | None = None) -> None:
    """Replace ``spec``'s rows from ``first`` to ``last``: per key, the row of ``base_day`` (the day before
    ``first``; None when building from scratch) plus the running sums of the daily rollup from ``first``."""
    cum = spec.table
    conn.execute(delete(cum).where(cum.c.day >= first))
    if first > last:
        return
    appending = base_day is not None and (last - first).days < APPEND_DAYS
    if _in_arrays(spec, first, last, base_day):
        _rewrite_in_arrays(conn, ArrayRewrite(cum.name, first, last, base_day), ahead)
        return
    _fill_calendar(conn, first, last)
    # The daily sums once, into a temporary table keyed like the running totals: the keys and the running sums
    # both read them (as a subquery the source's wide rows were grouped twice).
    daily = _daily_table(spec)
    daily.create(conn, checkfirst=True)
    conn.execute(delete(daily))
    conn.execute(insert(daily).from_select([*spec.keys, "day", *spec.measures], _daily_sums(spec, first, last)))
    if appending:
        for day in (first + timedelta(days=i) for i in range((last - first).days + 1)):
            _append_day(conn, spec, daily, day)
        return
    firsts = [select(*[daily.c[k] for k in spec.keys], func.min(daily.c.day).label("first_day"))
              .group_by(*[daily.c[k] for k in spec.keys])]
    base = None
    if base_day is not None:
        carried = [cum.c[m] for m in spec.measures] + ([cum.c.active_days, cum.c.last_day] if spec.activity else [])
        base = select(*[cum.c[k] for k in spec.keys], *carried).where(cum.c.day == base_day).subquery("base")
        firsts.append(select(*[base.c[k] for k in spec.keys], literal(first, Date).label("first_day")))
    every = union_all(*firsts).subquery("every")
    keys = (select(*[every.c[k] for k in spec.keys], func.min(every.c.first_day).label("first_day"))
            .group_by(*[every.c[k] for k in spec.keys]).subquery("keys"))
    joined = keys.join(calendar, calendar.c.day >= keys.c.first_day)
    joined = joined.outerjoin(daily, and_(daily.c.day == calendar.c.day,
                                          *[daily.c[k] == keys.c[k] for k in spec.keys]))
    if base is not None:
        joined = joined.outerjoin(base, and_(*[base.c[k] == keys.c[k] for k in spec.keys]))
    window = {"partition_by": [keys.c[k] for k in spec.keys], "order_by": calendar.c.day, "rows": (None, 0)}

    def running(value, carried):  # type: ignore[no-untyped-def]
        total = func.sum(func.coalesce(value, 0)).over(**window)
        return total if base is None else func.coalesce(carried, 0) + total

    columns = [running(daily.c[m], base.c[m] if base is not None else None).label(m) for m in spec.measures]
    names = list(spec.measures)
    if spec.activity:
        active = case((daily.c.consultations > 0, 1), else_=0)
        last_seen = func.max(daily.c.day).over(**window)
        columns += [running(active, base.c.active_days if base is not None else None).label("active_days"),
                    (last_seen if base is None else func.coalesce(last_seen, base.c.last_day)).label("last_day")]
        names += ["active_days", "last_day"]
    stmt = select(calendar.c.day, *[keys.c[k] for k in spec.keys], *columns).select_from(joined)
    conn.execute(insert(cum).from_select(["day", *spec.keys, *names], stmt))


# Running totals whose measures are all whole numbers are rewritten in arrays (etl.load.running_arrays) rather than
# by the window query; tests turn this off to hold the window query to the same reference.
ARRAY_BUILD = True


def _integer_measures(spec: Cumulative) -> bool:
    """Whether every measure of ``spec`` is a whole number (sums of floats are left to the database, whose order of
    addition the arrays would not repeat)."""
    return all(isinstance(spec.table.c[m].type, Integer) for m in spec.measures)


def _in_arrays(spec: Cumulative, first: date, last: date, base_day: date | None) -> bool:
    """Whether ``_rewrite`` computes these rows in arrays: a build, or a rewrite longer than ``APPEND_DAYS``, of
    whole numbers."""
    appending = base_day is not None and (last - first).days < APPEND_DAYS
    return first <= last and not appending and ARRAY_BUILD and _integer_measures(spec)


@dataclass(frozen=True)
class ArrayRewrite:
    """A rewrite of running-total table ``table_name`` computed in arrays: its rows from ``first`` to ``last``,
    carried on from those of ``base_day`` (None: from nothing)."""

    table_name: str
    first: date
    last: date
    base_day: date | None

    @property
    def spec(self) -> Cumulative:
        return next(spec for spec in CUMULATIVES if spec.table.name == self.table_name)


class RowsAhead(Protocol):
    """Rows of array rewrites computed elsewhere (etl.load.running_ahead)."""

    def chunks(self, rewrite: ArrayRewrite) -> Iterator[DriverRows] | None:
        """The driver rows of ``rewrite``, or None when they were not computed for exactly that rewrite; raises
        ``RowsAheadFailed`` while handing them out if they cannot all be."""


class RowsAheadFailed(RuntimeError):
    pass


@dataclass
class ArrayInputs:
    """What a rewrite in arrays reads: the daily sums of its days and, carrying on, the rows of its base day."""

    daily: pd.DataFrame
    base: pd.DataFrame | None


def array_inputs(conn: Connection, rewrite: ArrayRewrite) -> ArrayInputs:
    spec, cum = rewrite.spec, rewrite.spec.table
    daily = driver_frame(conn, _daily_sums(spec, rewrite.first, rewrite.last), [*spec.keys, "day", *spec.measures])
    base = None
    if rewrite.base_day is not None:
        carried = [*spec.measures, *(["active_days", "last_day"] if spec.activity else [])]
        base = driver_frame(conn, select(*[cum.c[name] for name in (*spec.keys, *carried)])
                            .where(cum.c.day == rewrite.base_day), [*spec.keys, *carried])
    return ArrayInputs(daily, base)


def array_chunks(inputs: ArrayInputs, rewrite: ArrayRewrite, dialect: str) -> Iterator[DriverRows]:
    """``rewrite``'s rows from its ``inputs``, ready for ``dialect``'s driver, a block of days at a time in the
    table's key order (no database access)."""
    spec = rewrite.spec
    blocks = running_rows(inputs.daily, inputs.base, list(spec.keys), list(spec.measures), spec.activity,
                          rewrite.first, rewrite.last)
    del inputs  # held by ``running_rows`` only until it has them as arrays: a caller that keeps none frees them
    for block in blocks:
        yield from driver_chunks(block, spec.table, dialect)


def _rewrite_in_arrays(conn: Connection, rewrite: ArrayRewrite, ahead: RowsAhead | None) -> None:
    """``_rewrite``'s rows computed in arrays, here or (``ahead``) by another process while this one wrote."""
    cum = rewrite.spec.table
    statement = insert(cum)
    computed = ahead.chunks(rewrite) if ahead is not None else None
    if computed is not None:
        try:
            for rows in computed:
                execute_driver_rows(conn, statement, rows)
            return
        except RowsAheadFailed as exc:
            log.warning("running totals of %s computed in this process instead: %s", cum.name, exc)
            conn.execute(delete(cum).where(cum.c.day >= rewrite.first))
    for rows in array_chunks(array_inputs(conn, rewrite), rewrite, conn.dialect.name):
        execute_driver_rows(conn, statement, rows)


# Up to this many days after the last built one are appended day by day (each row: the key's row of the day before
# plus the day's sums); a longer rewrite computes the running sums in arrays, or for decimal measures by one window
# query (``_rewrite``).
APPEND_DAYS = 31


def _append_day(conn: Connection, spec: Cumulative, daily: Table, day: date) -> None:
    """Write ``spec``'s rows of ``day`` from those of the day before and the day's sums (``daily``): every key of
    the day before, carried and added to; then the keys the day brings first. No window, no calendar: a row per key
    (the sort a window needs is most of a one-day rewrite's cost)."""
    cum = spec.table
    before = cum.alias("before")
    sums = daily.alias("sums")
    on_day = [sums.c.day == day, *[sums.c[k] == before.c[k] for k in spec.keys]]
    names = ["day", *spec.keys, *spec.measures]
    carried = [before.c[m] + func.coalesce(sums.c[m], 0) for m in spec.measures]
    fresh = [sums.c[m] for m in spec.measures]
    if spec.activity:
        names += ["active_days", "last_day"]
        active = case((sums.c.consultations > 0, 1), else_=0)
        carried += [before.c.active_days + active, func.coalesce(sums.c.day, before.c.last_day)]
        fresh += [active, sums.c.day]
    kept = (select(literal(day, Date), *[before.c[k] for k in spec.keys], *carried)
            .select_from(before.outerjoin(sums, and_(*on_day)))
            .where(before.c.day == day - timedelta(days=1)))
    conn.execute(insert(cum).from_select(names, kept))
    known = select(before.c.day).where(before.c.day == day - timedelta(days=1),
                                       *[before.c[k] == sums.c[k] for k in spec.keys])
    first_seen = select(literal(day, Date), *[sums.c[k] for k in spec.keys], *fresh).where(
        sums.c.day == day, ~known.exists())
    conn.execute(insert(cum).from_select(names, first_seen))


@dataclass(frozen=True)
class _Plan:
    """What a refresh does to one running-total table: with ``last`` None (an empty source) it empties it; else,
    after emptying it if ``clear``, it rewrites ``first``..``last`` carried on from ``base_day``'s rows (None: from
    nothing) and drops any row after ``last``."""

    last: date | None
    first: date | None = None
    base_day: date | None = None
    clear: bool = False


def _plan(conn: Connection, spec: Cumulative, state: Row | None) -> _Plan | None:
    """The refresh ``spec`` needs, or None when it is up to date (``state``: its ``cumulative_state`` row)."""
    built, dirty = (_as_date(state.built_through), _as_date(state.dirty_from)) if state else (None, None)
    last = _as_date(conn.execute(select(func.max(spec.source.c.day))).scalar())
    if state is not None and dirty is None and built == last and (built is not None or last is None):
        return None
    if last is None:
        return _Plan(None)
    earliest = _as_date(conn.execute(select(func.min(spec.source.c.day))).scalar())
    assert earliest is not None
    if built is None:
        return _Plan(last, earliest)
    # Rows after the old last day are written too (a new day, or days with no consultation since).
    first = min(dirty or built + timedelta(days=1), built + timedelta(days=1))
    if first <= earliest:  # nothing before it to start from: built again in full
        return _Plan(last, earliest, clear=True)
    return _Plan(last, first, first - timedelta(days=1))


def _plans(conn: Connection) -> list[tuple[Cumulative, Row | None, _Plan]]:
    states = {row.table_name: row for row in conn.execute(select(cumulative_state))}
    out = []
    for spec in CUMULATIVES:
        state = states.get(spec.table.name)
        plan = _plan(conn, spec, state)
        if plan is not None:
            out.append((spec, state, plan))
    return out


def array_rewrites(conn: Connection) -> list[ArrayRewrite]:
    """The rewrites in arrays a refresh would do now, in the order it does them."""
    return [ArrayRewrite(spec.table.name, plan.first, plan.last, plan.base_day)
            for spec, _, plan in _plans(conn)
            if plan.last is not None and plan.first is not None
            and _in_arrays(spec, plan.first, plan.last, plan.base_day)]


def refresh_cumulatives(conn: Connection, ahead: RowsAhead | None = None) -> list[str]:
    """Bring every stale or unbuilt running total up to the rollups' last day, with the rows of array rewrites
    from ``ahead`` where it computed them. Returns the tables rewritten."""
    s = cumulative_state.c
    done = []
    for spec, state, plan in _plans(conn):
        name = spec.table.name
        if plan.last is None or plan.clear:
            conn.execute(delete(spec.table))
        if plan.last is not None and plan.first is not None:
            _rewrite(conn, spec, plan.first, plan.last, plan.base_day, ahead)
            conn.execute(delete(spec.table).where(spec.table.c.day > plan.last))
        values = {"built_through": plan.last, "dirty_from": None}
        if state is None:
            conn.execute(insert(cumulative_state).values(table_name=name, **values))
        else:
            conn.execute(update(cumulative_state).where(s.table_name == name).values(**values))
        done.append(name)
    return done
