"""Scheme rollups (``scheme_district_month`` with ``scheme_moved_facility``, and ``scheme_package_month``) kept up to
date with ``fact_scheme_value``.

Every write of scheme values marks both stale from the first month it wrote (``mark_schemes_stale``, in the same
transaction); ``refresh_scheme_rollups`` then rewrites their rows from that month on. Until a refresh commits,
readers see a table as stale and read the facts instead, so a killed run never leaves wrong sums in use.

A row's previous month reported (``prev_month``) is looked up in the facts' primary key (facility, indicator,
month), so the months before the first one changed are not read again; a load can change the previous month only of
rows at or after the months it wrote. A facility found in two places (an indicator's rows in two districts, or a
month's package flags in two districts or blocks: it moved between loads) joins ``scheme_moved_facility``; both
rollups leave it out (``scheme_district_month`` is rebuilt without it, readers skip its package rows) and readers
take it from the facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import (
    Column,
    Connection,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from etl.warehouse.schema import (
    PACKAGE_FLAG_COLUMNS,
    dim_scheme_indicator,
    fact_scheme_value,
    scheme_district_month,
    scheme_moved_facility,
    scheme_package_month,
    scheme_rollup_state,
)

DISTRICT_MONTH = scheme_district_month.name
PACKAGE_MONTH = scheme_package_month.name
ROLLUPS: tuple[str, ...] = (DISTRICT_MONTH, PACKAGE_MONTH)
# dirty_from of a table never built (with built_through NULL): stale from before any month.
UNBUILT = date(1900, 1, 1)

fsv = fact_scheme_value
_temp = MetaData()
# The fact rows being rewritten, each with its previous month reported.
staged = Table("tmp_scheme_rows", _temp, Column("facility_id", String(40)), Column("indicator_code", String(40)),
               Column("month", Date), Column("district_lgd", Integer), Column("value", Float),
               Column("target", Float), Column("prev_month", Date), prefixes=["TEMPORARY"])


def mark_schemes_stale(conn: Connection, first_month: date | None, *, rebuild: bool = False) -> None:
    """Mark the scheme rollups stale from ``first_month`` (nothing to do for None), or, with ``rebuild``, to be
    built again in full."""
    s = scheme_rollup_state.c
    if rebuild:
        conn.execute(update(scheme_rollup_state).values(built_through=None, dirty_from=UNBUILT))
        return
    if first_month is None:
        return
    conn.execute(update(scheme_rollup_state).where(or_(s.dirty_from.is_(None), s.dirty_from > first_month))
                 .values(dirty_from=first_month))


def package_map(conn: Connection) -> dict[str, int | None]:
    """The flag indicators (unit ``flag``) with their service package (None: none)."""
    c = dim_scheme_indicator.c
    rows = conn.execute(select(c.indicator_code, c.package).where(c.unit == "flag"))
    return {str(code): None if package is None else int(package) for code, package in rows}


def package_signature(packages: Mapping[str, int | None]) -> str:
    """The indicator -> package map as text, to tell whether ``scheme_package_month`` was built with the current one."""
    return ",".join(f"{code}:{'' if packages[code] is None else packages[code]}" for code in sorted(packages))


def package_pivot(packages: Mapping[str, int | None]) -> list:
    """``pkg_01`` … ``pkg_12`` over fact rows: 1 when one of the package's flags is above 0, 0 when reported and not
    offered, NULL when none of its flags was reported."""
    offered = case((fsv.c.value > 0, 1), else_=0)
    columns = []
    for k, name in enumerate(PACKAGE_FLAG_COLUMNS, start=1):
        codes = sorted(code for code, p in packages.items() if p == k)
        columns.append((func.max(case((fsv.c.indicator_code.in_(codes), offered))) if codes
                        else func.max(literal(None, Integer))).label(name))
    return columns


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _latest_month(conn: Connection, codes: list[str]) -> date | None:
    # One seek of the (indicator, month) index per indicator, not a scan of the facts.
    months = [conn.execute(select(func.max(fsv.c.month)).where(fsv.c.indicator_code == code)).scalar()
              for code in codes]
    found = [_as_date(m) for m in months if m is not None]
    return max(found) if found else None


def _stage(conn: Connection, codes: list[str], first: date | None) -> None:
    staged.create(conn, checkfirst=True)
    conn.execute(delete(staged))
    q = fsv.alias("q")
    # The month itself when the facility never reported the indicator before.
    prev = func.coalesce(select(func.max(q.c.month))
                         .where(q.c.facility_id == fsv.c.facility_id, q.c.indicator_code == fsv.c.indicator_code,
                                q.c.month < fsv.c.month).scalar_subquery(), fsv.c.month)
    since = [fsv.c.month >= first] if first is not None else []
    conn.execute(insert(staged).from_select(
        ["facility_id", "indicator_code", "month", "district_lgd", "value", "target", "prev_month"],
        select(fsv.c.facility_id, fsv.c.indicator_code, fsv.c.month, fsv.c.district_lgd, fsv.c.value,
               fsv.c.target, prev).where(fsv.c.indicator_code.in_(codes), *since)))


def _record(conn: Connection, found: set[str]) -> bool:
    """Add ``found`` to scheme_moved_facility; whether any was new."""
    known = set(conn.execute(select(scheme_moved_facility.c.facility_id)).scalars())
    new = sorted(found - known)
    if new:
        conn.execute(insert(scheme_moved_facility), [{"facility_id": f} for f in new])
    return bool(new)


def _district_movers(conn: Connection) -> set[str]:
    """Facilities of the staged rows whose previous row of the same indicator lies in another district."""
    p, s = fsv.alias("p"), staged.c
    return set(conn.execute(
        select(s.facility_id).distinct()
        .select_from(staged.join(p, and_(p.c.facility_id == s.facility_id, p.c.indicator_code == s.indicator_code,
                                         p.c.month == s.prev_month)))
        .where(p.c.district_lgd != s.district_lgd)).scalars())


def _package_movers(conn: Connection, flags: list[str], first: date | None) -> set[str]:
    """Facilities with a month (from ``first``) whose package flags lie in two districts or blocks."""
    if not flags:
        return set()
    since = [fsv.c.month >= first] if first is not None else []
    blocks = func.count(fsv.c.block_lgd)
    two_places = or_(func.min(fsv.c.district_lgd) != func.max(fsv.c.district_lgd),
                     func.min(fsv.c.block_lgd) != func.max(fsv.c.block_lgd), and_(blocks > 0, blocks < func.count()))
    months = (select(fsv.c.facility_id).where(fsv.c.indicator_code.in_(flags), *since)
              .group_by(fsv.c.facility_id, fsv.c.month).having(two_places).subquery("months"))
    return set(conn.execute(select(months.c.facility_id).distinct()).scalars())


def _write_district_month(conn: Connection, first: date | None) -> None:
    """Replace the rows from ``first`` (all with None) with the staged rows' sums, movers left out."""
    t = scheme_district_month
    conn.execute(delete(t).where(t.c.month >= first) if first is not None else delete(t))
    s = staged.c
    with_target = case((s.target.is_not(None), s.value), else_=0)
    keys = [s.indicator_code, s.month, s.district_lgd, s.prev_month]
    conn.execute(insert(t).from_select(
        ["indicator_code", "month", "district_lgd", "prev_month", "facilities", "value", "value_with_target",
         "target"],
        select(*keys, func.count(), func.sum(s.value), func.sum(with_target), func.sum(s.target))
        .where(s.facility_id.not_in(select(scheme_moved_facility.c.facility_id))).group_by(*keys)))
    conn.execute(delete(staged))


def _write_package_month(conn: Connection, packages: Mapping[str, int | None], first: date | None) -> None:
    """Replace the rows from ``first`` (all with None) with the flags pivoted per month and facility, movers left
    out (one place per row)."""
    t = scheme_package_month
    conn.execute(delete(t).where(t.c.month >= first) if first is not None else delete(t))
    if not packages:
        return
    since = [fsv.c.month >= first] if first is not None else []
    keys = [fsv.c.month, fsv.c.facility_id]
    conn.execute(insert(t).from_select(
        ["month", "facility_id", "district_lgd", "block_lgd", *PACKAGE_FLAG_COLUMNS],
        select(*keys, func.min(fsv.c.district_lgd), func.min(fsv.c.block_lgd), *package_pivot(packages))
        .where(fsv.c.indicator_code.in_(sorted(packages)), *since,
               fsv.c.facility_id.not_in(select(scheme_moved_facility.c.facility_id)))
        .group_by(*keys)))


def refresh_scheme_rollups(conn: Connection) -> list[str]:
    """Bring every stale or unbuilt scheme rollup up to date with the facts. Returns the tables rewritten."""
    s = scheme_rollup_state.c
    states = {row.table_name: row for row in conn.execute(select(scheme_rollup_state))}
    codes = sorted(conn.execute(select(dim_scheme_indicator.c.indicator_code)).scalars())
    packages = package_map(conn)
    signature = package_signature(packages)
    stale: dict[str, date | None] = {}  # table -> the first month to rewrite (None: every month)
    for name in ROLLUPS:
        state = states.get(name)
        other_map = name == PACKAGE_MONTH and state is not None and state.packages != signature
        if state is not None and state.dirty_from is None and not other_map:
            continue
        full = state is None or state.built_through is None or other_map
        stale[name] = None if full else _as_date(state.dirty_from).replace(day=1)
    if not stale:
        return []
    if len(stale) == len(ROLLUPS) and all(first is None for first in stale.values()):
        conn.execute(delete(scheme_moved_facility))  # found again from every month
    moved = False
    if DISTRICT_MONTH in stale:
        _stage(conn, codes, stale[DISTRICT_MONTH])
        moved = _record(conn, _district_movers(conn))
    if PACKAGE_MONTH in stale:
        moved = _record(conn, _package_movers(conn, sorted(packages), stale[PACKAGE_MONTH])) or moved
    if moved and (DISTRICT_MONTH not in stale or stale[DISTRICT_MONTH] is not None):
        # A new mover's rows of earlier months are in scheme_district_month's sums: rebuilt without it.
        stale[DISTRICT_MONTH] = None
        _stage(conn, codes, None)
        _record(conn, _district_movers(conn))
    if DISTRICT_MONTH in stale:
        _write_district_month(conn, stale[DISTRICT_MONTH])
    if PACKAGE_MONTH in stale:
        _write_package_month(conn, packages, stale[PACKAGE_MONTH])
    latest = _latest_month(conn, codes)
    for name in stale:
        values = {"built_through": latest, "dirty_from": None,
                  "packages": signature if name == PACKAGE_MONTH else None}
        if name in states:
            conn.execute(update(scheme_rollup_state).where(s.table_name == name).values(**values))
        else:
            conn.execute(insert(scheme_rollup_state).values(table_name=name, **values))
    return list(stale)
