"""The scheme page's reads from the scheme rollups (etl.load.scheme_rollups) and in SQL, against the facts path they
replace and against numbers worked out by hand from tests/fixtures/pages4.py (see test_dash_schemes.py), on SQLite
and on PostgreSQL when AROGYA_TEST_DATABASE_URL is set.

ABHA numbers created, by centre and month: S1 June 20/60, July 50/60, August 29/60; S3 July 40/60, August 60/60;
S2 (August) 12/60 in Kishanganj; S5 (August) 45/60 in Kaimur; S9 (August) 90/60 in Patna.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, event, insert, select, text, update

from dashboard.data import schemes
from dashboard.data.context import DataContext
from dashboard.data.filters import Filter, Scope
from etl.load.scheme_rollups import mark_schemes_stale, refresh_scheme_rollups
from etl.warehouse.schema import dim_scheme_indicator, fact_scheme_value, scheme_district_month
from tests.fixtures.pages4 import build_pages4_warehouse
from tests.fixtures.warehouse_factory import KAIMUR, KISHANGANJ, PATNA, TODAY, Warehouse, reader_engine

PG_URL = os.environ.get("AROGYA_TEST_DATABASE_URL", "")
BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres,
                         pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL not set")])]
FULL = Scope.full()
ABHA = "ABHA_CREATED"
AUGUST = Filter(date(2025, 8, 2), TODAY)
SUMMER = Filter(date(2025, 6, 10), TODAY)  # June to August
FILTERS = [AUGUST, SUMMER, Filter(date(2025, 7, 1), date(2025, 8, 10)), Filter(date(2025, 6, 1), date(2025, 6, 30)),
           Filter(date(2025, 9, 1), date(2025, 9, 30)), Filter(date(2024, 1, 1), date(2024, 1, 31)),
           SUMMER.with_(district_lgds=(KISHANGANJ,)), SUMMER.with_(district_lgds=(KAIMUR, PATNA)),
           SUMMER.with_(block_lgds=(20301,)), SUMMER.with_(facility_types=("SC",)),
           SUMMER.with_(facility_ids=("S1", "S3", "S5"))]
SCOPES = [FULL, Scope.districts([KISHANGANJ]), Scope.districts([KAIMUR, PATNA]), Scope()]


def _warehouse(tmp_path_factory: pytest.TempPathFactory, backend: str, name: str) -> Warehouse:
    return build_pages4_warehouse(tmp_path_factory.mktemp(name), PG_URL if backend == "postgres" else None)


@pytest.fixture(scope="module", params=BACKENDS)
def wh(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    warehouse = _warehouse(tmp_path_factory, request.param, "scheme-rollups")
    yield warehouse
    warehouse.drop()


@contextmanager
def stale(wh: Warehouse) -> Iterator[None]:
    """The scheme rollups marked stale (as a load leaves them until the refresh), then refreshed again."""
    with wh.engine.begin() as conn:
        mark_schemes_stale(conn, date(2000, 1, 1))
    try:
        yield
    finally:
        with wh.engine.begin() as conn:
            refresh_scheme_rollups(conn)


def statements(engine: Engine) -> list[str]:
    """The SELECT statements ``engine`` runs from now on (not the inspection of its indexes)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    return seen


def both_ways(wh: Warehouse, read: Callable[[DataContext], Any]) -> tuple[Any, Any, list[str], list[str]]:
    """``read`` from the rollups and from the facts (rollups stale), with the statements each ran."""
    engine = reader_engine(wh)
    seen = statements(engine)
    fresh = read(DataContext(engine))
    from_rollups = list(seen)
    seen.clear()
    with stale(wh):
        facts = read(DataContext(engine))
    return fresh, facts, from_rollups, list(seen)


def same(a: Any, b: Any) -> None:
    if isinstance(a, pd.DataFrame) and a.empty:  # no rows to show: the header is what counts
        assert b.empty and list(a.columns) == list(b.columns)
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b)
    elif isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            same(x, y)
    else:
        assert a == b


@pytest.mark.parametrize("indicator", [ABHA, "NCD_HTN", "PKG_03"])
def test_dash370_sums_from_the_rollups_equal_the_facts(wh: Warehouse, indicator: str) -> None:
    def read(ctx: DataContext) -> list[Any]:
        return [(schemes.catalogue(ctx, f, scope), schemes.achievement(ctx, f, scope, indicator, "district"),
                 schemes.monthly(ctx, f, scope, indicator)) for f in FILTERS for scope in SCOPES]

    fresh, facts, from_rollups, from_facts = both_ways(wh, read)
    for a, b in zip(fresh, facts, strict=True):
        same(a, b)
    assert any("scheme_district_month" in s for s in from_rollups)
    assert not any("scheme_district_month" in s for s in from_facts)


def test_dash371_centres_of_a_period_are_counted_once(wh: Warehouse) -> None:
    t = scheme_district_month.c
    with wh.engine.connect() as conn:
        rows = conn.execute(select(t.month, t.prev_month, t.facilities, t.value, t.target).where(
            t.indicator_code == ABHA, t.district_lgd == KISHANGANJ).order_by(t.month, t.prev_month)).all()
    as_date = schemes.month_start
    got = [(as_date(date.fromisoformat(str(m)[:10])), as_date(date.fromisoformat(str(p)[:10])), n, v, g)
           for m, p, n, v, g in rows]
    jun, jul, aug = date(2025, 6, 1), date(2025, 7, 1), date(2025, 8, 1)
    # A facility's first report carries its own month; later ones the month it last reported before.
    assert got == [(jun, jun, 1, 20.0, 60.0), (jul, jun, 1, 50.0, 60.0), (jul, jul, 1, 40.0, 60.0),
                   (aug, jul, 2, 89.0, 120.0), (aug, aug, 1, 12.0, 60.0)]
    ctx = DataContext(reader_engine(wh))
    summer = schemes.catalogue(ctx, SUMMER, FULL).set_index("indicator_code").loc[ABHA]
    assert (summer["centres"], summer["value"], summer["target"]) == (5, 346.0, 480.0)  # S1, S2, S3, S5, S9
    july_on = schemes.achievement(ctx, Filter(date(2025, 7, 1), TODAY), FULL, ABHA).set_index("key")
    assert july_on.loc[KISHANGANJ, ["centres", "value", "target"]].tolist() == [3, 191.0, 300.0]
    assert schemes.monthly(ctx, SUMMER, FULL, ABHA)["centres"].tolist()[-3:] == [1, 2, 5]


def test_dash372_packages_from_the_pivot_equal_the_facts(wh: Warehouse) -> None:
    def read(ctx: DataContext) -> list[Any]:
        out = []
        for f in [*FILTERS, AUGUST.with_(block_lgds=(20302,))]:
            for scope in SCOPES:
                rows = schemes.packages(ctx, f, scope)
                summary = schemes.package_summary(ctx, f, scope)
                # The SQL summary is the coverage of every row; a limit gives the first rows.
                same(summary, (schemes.package_coverage(rows), len(rows)))
                same(schemes.packages(ctx, f, scope, 2), rows.head(2))
                # The page's chart and grid: the same coverage and count, and the table's first rows.
                view = schemes.package_view(ctx, f, scope, "hi")
                same(view, (schemes.package_coverage_table(ctx, f, scope, {}, "hi"), len(rows)))
                grid = schemes.packages_grid(ctx, f, scope, "hi", 2)
                same(grid, schemes.packages_table(ctx, f, scope, {}, "hi").head(2))
                out.append((rows, summary, view, grid))
        return out

    fresh, facts, from_rollups, from_facts = both_ways(wh, read)
    for a, b in zip(fresh, facts, strict=True):
        same(a, b)
    assert any("scheme_package_month" in s for s in from_rollups)
    assert not any("scheme_package_month" in s for s in from_facts)
    ctx = DataContext(reader_engine(wh))
    # S1 (Kishanganj, Bahadurganj), S3 (Kishanganj, Thakurganj), S5 (Kaimur): by district, block and name.
    assert schemes.packages(ctx, AUGUST, FULL)["facility_id"].tolist() == ["S5", "S1", "S3"]
    coverage, centres = schemes.package_summary(ctx, AUGUST, FULL)
    assert centres == 3 and coverage.set_index("package").loc[7, ["reported", "offered"]].tolist() == [3, 1]


def test_dash373_laggards_in_sql_equal_the_frame_they_replace(wh: Warehouse) -> None:
    ctx = DataContext(reader_engine(wh))
    for f in FILTERS:
        for scope in SCOPES:
            for indicator in (ABHA, "NCD_HTN"):
                centres = schemes.achievement(ctx, f, scope, indicator, "facility")
                expected = schemes.laggards(centres)
                frame, behind, with_target, with_value = schemes._laggard_frame(ctx, f, scope, indicator, None)
                same(frame, expected.drop(columns="rank") if "rank" in expected else expected)
                assert (behind, with_target, with_value) == (len(expected), int(centres["achieved_pct"].notna().sum()),
                                                             len(centres))
                head = schemes._laggard_frame(ctx, f, scope, indicator, 1)
                same(head, (frame.head(1), behind, with_target, with_value))
    grid, behind, with_target, with_value = schemes.laggards_grid(ctx, AUGUST, FULL, {}, "en", 500)
    same(grid, schemes.laggards_table(ctx, AUGUST, FULL, {}, "en"))
    assert grid["key"].tolist() == ["S2", "S1"] and (behind, with_target, with_value) == (2, 5, 5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dash374_a_facility_found_in_two_places_is_read_from_the_facts(
        backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """S9's July value was loaded when it lay in Kaimur (it is in Patna since), and S5's July package flags half
    before and half after a move to another block: both are left out of the rollups and read from the facts."""
    warehouse = _warehouse(tmp_path_factory, backend, "scheme-movers")
    try:
        f = fact_scheme_value.c
        with warehouse.engine.begin() as conn:
            conn.execute(insert(fact_scheme_value), [
                {"facility_id": "S9", "indicator_code": ABHA, "month": date(2025, 7, 1), "value": 30, "target": 60,
                 "district_lgd": KAIMUR, "block_lgd": 20001, "run_id": 1}])
            conn.execute(update(fact_scheme_value).where(
                f.facility_id == "S5", f.month == date(2025, 7, 1),
                f.indicator_code.in_([f"PKG_{k:02d}" for k in range(7, 13)])).values(block_lgd=20002))
            mark_schemes_stale(conn, date(2025, 7, 1))
            refresh_scheme_rollups(conn)

        def read(ctx: DataContext) -> list[Any]:
            return [(schemes.catalogue(ctx, f_, scope), schemes.achievement(ctx, f_, scope, ABHA, "district"),
                     schemes.monthly(ctx, f_, scope, ABHA), schemes.packages(ctx, f_, scope),
                     schemes.package_summary(ctx, f_, scope))
                    for f_ in (*FILTERS, AUGUST.with_(block_lgds=(20002,))) for scope in SCOPES]

        fresh, facts, from_rollups, _ = both_ways(warehouse, read)
        for a, b in zip(fresh, facts, strict=True):
            same(a, b)
        assert any("scheme_moved_facility" in s for s in from_rollups)
        ctx = DataContext(reader_engine(warehouse))
        july_on = Filter(date(2025, 7, 1), TODAY)
        abha = schemes.catalogue(ctx, july_on, FULL).set_index("indicator_code").loc[ABHA]
        assert (abha["centres"], abha["value"]) == (5, 356.0)  # S9 once, though in two districts
        by_district = schemes.achievement(ctx, july_on, FULL, ABHA).set_index("key")["centres"]
        assert (by_district[KAIMUR], by_district[PATNA]) == (2, 1)
        s5 = schemes.packages(ctx, AUGUST, Scope.districts([KAIMUR])).iloc[0]
        assert (s5["facility_id"], s5["offered"]) == ("S5", 11)
    finally:
        warehouse.drop()


def test_dash375_another_package_map_is_read_from_the_facts_until_the_refresh(wh: Warehouse) -> None:
    c = dim_scheme_indicator.c
    engine = reader_engine(wh)
    seen = statements(engine)
    try:
        with wh.engine.begin() as conn:
            conn.execute(update(dim_scheme_indicator).where(c.indicator_code == "PKG_02").values(package=1))
        ctx = DataContext(engine)
        s3 = schemes.packages(ctx, AUGUST, FULL).set_index("facility_id").loc["S3"]
        assert not any("scheme_package_month" in s for s in seen)
        assert (s3["pkg_01"], s3["pkg_02"] is pd.NA, s3["offered"]) == (1, True, 1)
        with wh.engine.begin() as conn:
            assert refresh_scheme_rollups(conn) == ["scheme_package_month"]
        seen.clear()
        same(schemes.packages(ctx, AUGUST, FULL).set_index("facility_id").loc["S3"], s3)
        assert any("scheme_package_month" in s for s in seen)
    finally:
        with wh.engine.begin() as conn:
            conn.execute(update(dim_scheme_indicator).where(c.indicator_code == "PKG_02").values(package=2))
            refresh_scheme_rollups(conn)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dash376_a_warehouse_before_revision_0013_reads_the_facts(
        backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    warehouse = _warehouse(tmp_path_factory, backend, "scheme-0012")
    try:
        def read(ctx: DataContext) -> list[Any]:
            return [(schemes.catalogue(ctx, f, FULL), schemes.achievement(ctx, f, FULL, ABHA), schemes.monthly(
                ctx, f, FULL, ABHA), schemes.packages(ctx, f, FULL), schemes.package_summary(ctx, f, FULL))
                for f in (AUGUST, SUMMER)]

        with_rollups = read(DataContext(reader_engine(warehouse)))
        with warehouse.engine.begin() as conn:
            for name in ("scheme_rollup_state", "scheme_package_month", "scheme_moved_facility",
                         "scheme_district_month"):
                conn.execute(text(f"DROP TABLE {name}"))
        for a, b in zip(with_rollups, read(DataContext(reader_engine(warehouse))), strict=True):
            same(a, b)
    finally:
        warehouse.drop()
