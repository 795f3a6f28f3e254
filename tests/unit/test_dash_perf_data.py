"""Data-layer performance work: one computation per view for concurrent callbacks, cache keys that ignore how an
argument was passed, queries that probe indexes instead of scanning rollups, and identical results with and without
the indexes recommended for the warehouse. No timings are asserted (the machine is shared)."""

from __future__ import annotations

import os
import threading
import time
from datetime import date, timedelta

import pandas as pd
import pytest
from cachelib import SimpleCache
from sqlalchemy import event, text

from dashboard.data import chos, district, hubs, overview
from dashboard.data import cumulative as running
from dashboard.data.activity import CHO_DAY_INDEX, HUB_DISTRICT_INDEX, recommended_index_ddl
from dashboard.data.context import DataContext, cached
from dashboard.data.filters import Filter, Scope
from etl.load.cumulative import mark_stale, refresh_cumulatives
from etl.warehouse.schema import cumulative_spoke_day
from tests.fixtures.warehouse_factory import KAIMUR, KISHANGANJ, PATNA, TODAY, build_warehouse, reader_engine

AUGUST = Filter(date(2025, 8, 2), TODAY)
FULL = Scope.full()
# The indexes recommended for the warehouse (see benchmarks/dashboard.py's report); the dashboard uses them when
# present. Written here exactly as the migration would create them.
RECOMMENDED_DDL = (
    "CREATE INDEX ix_rollup_cho_day_cho_day ON rollup_cho_day (cho_id, day)",
    "CREATE INDEX ix_rollup_facility_day_hub_district_day ON rollup_facility_day (hub_id, district_lgd, day)",
)
ROLLUPS = ("rollup_facility_day", "rollup_district_day", "rollup_cho_day")
PG_URL = os.environ.get("AROGYA_TEST_DATABASE_URL", "")
BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres,
                         pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL not set")])]


@pytest.fixture(scope="module")
def wh(tmp_path_factory):  # type: ignore[no-untyped-def]
    warehouse = build_warehouse(tmp_path_factory.mktemp("perf"))
    yield warehouse
    warehouse.drop()


def test_dash310_concurrent_misses_compute_once(wh):  # type: ignore[no-untyped-def]
    calls: list[int] = []
    start = threading.Barrier(4)

    @cached
    def slow(ctx: DataContext, x: int) -> pd.DataFrame:
        calls.append(x)
        time.sleep(0.2)  # keeps the other callers waiting on the same computation
        return pd.DataFrame({"x": [x]})

    ctx = DataContext(reader_engine(wh), SimpleCache())
    results: list[pd.DataFrame] = []

    def caller() -> None:
        start.wait()
        results.append(slow(ctx, 7))

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [7] and len(results) == 4
    assert all(r["x"].tolist() == [7] for r in results)
    results[1].loc[0, "x"] = 99  # a caller's copy is its own
    assert slow(ctx, 7)["x"].tolist() == [7]
    assert not ctx._flights


def test_dash311_cache_key_binds_defaults(wh):  # type: ignore[no-untyped-def]
    calls: list[str] = []

    @cached
    def series(ctx: DataContext, f: Filter, grain: str = "day") -> int:
        calls.append(grain)
        return len(calls)

    ctx = DataContext(reader_engine(wh), SimpleCache())
    assert series(ctx, AUGUST) == series(ctx, AUGUST, "day") == series(ctx, AUGUST, grain="day") == 1
    assert series(ctx, AUGUST, "week") == 2 and calls == ["day", "week"]


def test_dash326_one_request_reads_a_cached_result_once(wh):  # type: ignore[no-untyped-def]
    """Within one request a cached result already seen is not fetched (and unpickled) again; each caller still gets
    its own copy. Outside a request every call goes to the cache."""
    from flask import Flask

    calls: list[int] = []

    @cached
    def frame(ctx: DataContext, x: int) -> pd.DataFrame:
        calls.append(x)
        return pd.DataFrame({"x": [x, x + 1]})

    class Counting(SimpleCache):
        gets = 0

        def get(self, key):  # type: ignore[no-untyped-def]
            Counting.gets += 1
            return super().get(key)

    ctx = DataContext(reader_engine(wh), Counting())
    with Flask(__name__).test_request_context("/"):
        first = frame(ctx, 3)
        gets = Counting.gets
        second, third = frame(ctx, 3), frame(ctx, 3)
        assert Counting.gets == gets and calls == [3]
        second.loc[0, "x"] = 99  # a copy of its own
        assert third["x"].tolist() == [3, 4] and first["x"].tolist() == [3, 4]
    with Flask(__name__).test_request_context("/"):  # a new request reads the cache again
        assert frame(ctx, 3)["x"].tolist() == [3, 4] and Counting.gets == gets + 1
    frame(ctx, 3)
    assert Counting.gets == gets + 2 and calls == [3]


def test_dash312_district_page_callbacks_share_one_facility_query(wh):  # type: ignore[no-untyped-def]
    """The map and the tables of the district page ask for the same facilities at once: one query."""
    from dashboard.data.tables import district_facilities

    ctx = DataContext(reader_engine(wh), SimpleCache())
    statements: list[str] = []
    event.listen(ctx.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    start = threading.Barrier(2)
    out: list[object] = []

    def map_callback() -> None:
        start.wait()
        out.append(district.facilities(ctx, AUGUST, FULL, KISHANGANJ))

    def table_callback() -> None:
        start.wait()
        out.append(district_facilities(ctx, AUGUST, FULL, {"lgd": str(KISHANGANJ)}, "en"))

    threads = [threading.Thread(target=map_callback), threading.Thread(target=table_callback)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(out) == 2
    assert sum("FROM dim_facility" in s and "last_consultation" in s for s in statements) == 1


# ---------------------------------------------------------------- query plans (SQLite)


def _statements(ctx: DataContext, run) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(ctx.engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(ctx.engine, "before_cursor_execute", capture)
    return seen


def _plans(ctx: DataContext, statements: list[tuple[str, object]]) -> list[tuple[str, list[str]]]:
    out = []
    with ctx.engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, parameters in statements:
            rows = raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            out.append((statement, [str(r[-1]) for r in rows]))
    return out


def _views(ctx: DataContext) -> None:
    for f in (AUGUST, AUGUST.with_(modes=("OPD",)), AUGUST.with_(district_lgds=(KAIMUR,))):
        overview.kpis(ctx, f, FULL)
        overview.district_metrics(ctx, f, FULL)
    district.facilities(ctx, AUGUST, FULL, KISHANGANJ)
    district.block_table(ctx, AUGUST, FULL, KISHANGANJ)
    district.idle_spokes(ctx, AUGUST, FULL, KISHANGANJ)
    district.silent_chos(ctx, AUGUST, FULL, KAIMUR)
    district.facility_detail(ctx, AUGUST, FULL, "S1")


def test_dash313_no_query_scans_a_rollup(wh):  # type: ignore[no-untyped-def]
    ctx = DataContext(reader_engine(wh))
    plans = _plans(ctx, _statements(ctx, lambda: _views(ctx)))
    assert len(plans) > 20
    for statement, lines in plans:
        for line in lines:
            assert not any(line.startswith(f"SCAN {t}") or f"SCAN {t} " in line for t in ROLLUPS), (line, statement)


def test_dash314_state_views_read_the_district_rollup(wh):  # type: ignore[no-untyped-def]
    """Consultation sums of state-level views come from the district running totals (or, when those are stale,
    rollup_district_day); the facility rollup is only probed per facility (spoke and hub indexes) or read for the
    hubs per district."""
    ctx = DataContext(reader_engine(wh))

    def views():  # type: ignore[no-untyped-def]
        return overview.kpis(ctx, AUGUST, FULL), overview.district_metrics(ctx, AUGUST, FULL)

    running_sql = " ".join(s for s, _ in _statements(ctx, views))
    assert "cumulative_district_day" in running_sql and "cumulative_spoke_day" in running_sql
    assert "rollup_district_day" not in running_sql and "rollup_facility_day" not in running_sql
    with wh.engine.begin() as conn:
        mark_stale(conn, date(2025, 8, 20))
    try:
        statements = _statements(ctx, views)
    finally:
        with wh.engine.begin() as conn:
            refresh_cumulatives(conn)
    sql = " ".join(s for s, _ in statements)
    assert "cumulative_district_day" not in sql.split("FROM cumulative_state")[-1]
    assert "sum(rollup_district_day.consultations)" in sql and "sum(rollup_facility_day" not in sql
    for statement, lines in _plans(ctx, statements):
        for line in lines:
            if "rollup_facility_day" in line and "USING" in line:
                indexes = ("district_day", "hub_day", "hub_district_day", "sqlite_autoindex")
                assert any(ix in line for ix in indexes), (line, statement)


# ---------------------------------------------------------------- recommended indexes


def _results(ctx: DataContext) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    filters = {
        "aug": AUGUST, "opd": AUGUST.with_(modes=("OPD",)), "gen": AUGUST.with_(specialties=("GEN",)),
        "kaimur": AUGUST.with_(district_lgds=(KAIMUR,)), "dh": AUGUST.with_(facility_types=("DH",)),
        "h1": AUGUST.with_(facility_ids=("H1",)), "block": AUGUST.with_(block_lgds=(20301,)),
        "two": AUGUST.with_(district_lgds=(KAIMUR, KISHANGANJ)),
    }
    scopes = {"full": FULL, "kaimur": Scope.districts([KAIMUR]), "three": Scope.districts([KAIMUR, KISHANGANJ, PATNA])}
    for fname, f in filters.items():
        for sname, scope in scopes.items():
            out[f"kpis/{fname}/{sname}"] = overview.kpis(ctx, f, scope)
            out[f"metrics/{fname}/{sname}"] = overview.district_metrics(ctx, f, scope)
    for lgd in (KAIMUR, KISHANGANJ, PATNA):
        for end in (date(2025, 8, 20), TODAY):
            out[f"silent/{lgd}/{end}"] = district.silent_chos(ctx, AUGUST.with_(end=end), FULL, lgd)
    for facility in ("S1", "S4", "H2"):
        out[f"detail/{facility}"] = district.facility_detail(ctx, AUGUST, FULL, facility).chos
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_dash315_recommended_indexes_change_plans_not_results(tmp_path, backend):  # type: ignore[no-untyped-def]
    assert [ddl.replace(" IF NOT EXISTS", "") for ddl in recommended_index_ddl()] == list(RECOMMENDED_DDL)
    wh = build_warehouse(tmp_path, PG_URL if backend == "postgres" else None)
    try:
        # Migration 0004 creates the indexes; drop them to compare a warehouse without them.
        with wh.engine.begin() as conn:
            for name in ("ix_rollup_cho_day_cho_day", "ix_rollup_facility_day_hub_district_day"):
                conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
        before_ctx = DataContext(reader_engine(wh))
        assert not before_ctx.has_index(*CHO_DAY_INDEX) and not before_ctx.has_index(*HUB_DISTRICT_INDEX)
        before = _results(before_ctx)
        with wh.engine.begin() as conn:
            for ddl in RECOMMENDED_DDL:
                conn.execute(text(ddl))
        after_ctx = DataContext(reader_engine(wh))
        assert after_ctx.has_index(*CHO_DAY_INDEX) and after_ctx.has_index(*HUB_DISTRICT_INDEX)
        after = _results(after_ctx)
        assert before.keys() == after.keys()
        for key in before:
            pd.testing.assert_frame_equal(before[key], after[key], check_dtype=False, obj=key)
        if backend == "postgres":
            return
        # With the indexes, the facility rollup is never read by a day range alone, but for the state's active
        # spokes under a mode or specialty filter: the distinct spokes of the period's entries of its day-led key
        # (no spoke-led index to probe, migration 0017), which holds the spoke, mode and specialty (covering).
        plans = _plans(after_ctx, _statements(after_ctx, lambda: _views(after_ctx)))
        for statement, lines in plans:
            for line in lines:
                assert "rollup_facility_day USING INDEX sqlite_autoindex" not in line, (line, statement)
                if "SELECT DISTINCT rollup_facility_day.spoke_id" not in statement:
                    assert "rollup_facility_day USING COVERING INDEX sqlite_autoindex" not in line, (line, statement)
    finally:
        wh.drop()


def _overview_frames(name: str, overview: hubs.SpokeOverview) -> dict[str, pd.DataFrame]:
    return {f"{name}/counts": pd.DataFrame([overview.counts]), f"{name}/top": pd.DataFrame(overview.top),
            f"{name}/idle": pd.DataFrame(overview.idle), f"{name}/cross": pd.DataFrame(overview.cross)}


def _period_results(ctx: DataContext) -> dict[str, pd.DataFrame]:
    out = _results(ctx)
    periods = {"july": Filter(date(2025, 7, 1), date(2025, 7, 31)), "mid": Filter(date(2025, 8, 10), date(2025, 8, 20)),
               "one": Filter(TODAY, TODAY), "later": Filter(TODAY + timedelta(days=3), TODAY + timedelta(days=9)),
               "long": Filter(date(2025, 6, 1), TODAY + timedelta(days=5))}
    for name, f in periods.items():
        for sname, scope in {"full": FULL, "kaimur": Scope.districts([KAIMUR])}.items():
            out[f"p-kpis/{name}/{sname}"] = overview.kpis(ctx, f, scope)
            out[f"p-metrics/{name}/{sname}"] = overview.district_metrics(ctx, f, scope)
            out[f"p-spokes/{name}/{sname}"] = hubs.spoke_activity(ctx, f, scope)
            out.update(_overview_frames(f"p-overview/{name}/{sname}", hubs.spoke_overview(ctx, f, scope, 7, "en")))
            out[f"p-roster/{name}/{sname}"] = chos.roster(ctx, f, scope)
            out[f"p-hubs/{name}/{sname}"] = hubs.hub_load(ctx, f, scope)
            out[f"p-mix/{name}/{sname}"] = hubs.specialty_mix(ctx, f, scope)
            out[f"p-heat/{name}/{sname}"] = hubs.hour_weekday(ctx, f, scope)
            for lgd in (KAIMUR, KISHANGANJ):
                out[f"p-fac/{name}/{sname}/{lgd}"] = district.facilities(ctx, f, scope, lgd)
                out[f"p-blocks/{name}/{sname}/{lgd}"] = district.block_table(ctx, f, scope, lgd)
    for fname, f in {"opd": AUGUST.with_(modes=("OPD",)), "gen": AUGUST.with_(specialties=("GEN",)),
                     "both": AUGUST.with_(modes=("ABHWC",), specialties=("GEN", "OBG")),
                     "h1": AUGUST.with_(facility_ids=("H1",)), "kaimur": AUGUST.with_(district_lgds=(KAIMUR,))}.items():
        out[f"hubs/{fname}"] = hubs.hub_load(ctx, f, FULL)
        out[f"mix/{fname}"] = hubs.specialty_mix(ctx, f, Scope.districts([KAIMUR, KISHANGANJ]))
        out[f"heat/{fname}"] = hubs.hour_weekday(ctx, f, FULL)
        out[f"fac/{fname}"] = district.facilities(ctx, f, FULL, KISHANGANJ)
        out[f"blocks/{fname}"] = district.block_table(ctx, f, FULL, KISHANGANJ)
    for fname, f in {"aug": AUGUST, "opd": AUGUST.with_(modes=("OPD",)), "block": AUGUST.with_(block_lgds=(20301,)),
                     "s1": AUGUST.with_(facility_ids=("S1",))}.items():
        out[f"spokes/{fname}"] = hubs.spoke_activity(ctx, f, FULL)
        for idle in hubs.IDLE_WINDOWS:
            for limit in (2, 500):
                out.update(_overview_frames(f"overview/{fname}/{idle}/{limit}",
                                            hubs.spoke_overview(ctx, f, FULL, idle, "hi", limit)))
        out[f"roster/{fname}"] = chos.roster(ctx, f, FULL)
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_dash318_running_totals_change_speed_not_results(tmp_path, backend):  # type: ignore[no-untyped-def]
    """Every view that reads the running totals gives what the daily rollups give (the totals marked stale), for
    filters of place, mode, specialty and facility, scopes, and periods before, inside, across and after the data."""
    wh = build_warehouse(tmp_path, PG_URL if backend == "postgres" else None)
    try:
        ctx = DataContext(reader_engine(wh))
        with ctx.engine.connect() as conn:
            assert running.span(conn, cumulative_spoke_day, AUGUST.start, AUGUST.end) is not None
        fresh = _period_results(ctx)
        with wh.engine.begin() as conn:
            mark_stale(conn, date(2025, 8, 2))
        with ctx.engine.connect() as conn:
            assert running.span(conn, cumulative_spoke_day, AUGUST.start, AUGUST.end) is None
        stale = _period_results(ctx)
        assert fresh.keys() == stale.keys()
        for key in fresh:
            pd.testing.assert_frame_equal(fresh[key], stale[key], check_dtype=False, obj=key)
    finally:
        wh.drop()


def test_dash316_kpis_match_a_plain_count(wh):  # type: ignore[no-untyped-def]
    """The probe-per-facility counts equal COUNT(DISTINCT ...) over the rollup rows."""
    ctx = DataContext(reader_engine(wh))
    with wh.engine.connect() as conn:
        spokes, hubs = conn.execute(text(
            "SELECT count(DISTINCT spoke_id), count(DISTINCT hub_id) FROM rollup_facility_day "
            "WHERE day BETWEEN :s AND :e AND consultations > 0"), {"s": AUGUST.start, "e": AUGUST.end}).one()
        chos = conn.execute(text("SELECT count(DISTINCT cho_id) FROM rollup_cho_day WHERE day BETWEEN :s AND :e "
                                 "AND consultations > 0"), {"s": AUGUST.start, "e": AUGUST.end}).scalar()
    row = overview.kpis(ctx, AUGUST, FULL).iloc[0]
    assert (row["spokes_active"], row["hubs_serving"], row["chos_active"]) == (spokes, hubs, chos)


def test_dash317_records_match_the_pandas_conversion():  # type: ignore[no-untyped-def]
    from dashboard.data.tables import records

    frame = pd.DataFrame({
        "code": ["S1", "S2", None], "n": [3, 0, 7], "rate": [12.5, float("nan"), 0.0],
        "days": pd.array([4, None, 0], dtype="Int64"), "last": [date(2025, 8, 30), None, date(2025, 8, 1)],
        "breach": [True, False, True],
    })
    slow = frame.astype(object).where(frame.notna(), None).to_dict("records")
    slow = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in slow]
    fast = records(frame)
    assert fast == slow
    assert [type(v) for v in fast[0].values()] == [str, int, float, int, str, bool]
    assert fast[1]["rate"] is None and fast[1]["days"] is None and fast[1]["last"] is None and fast[2]["code"] is None
    assert records(frame.iloc[:0]) == []


def test_dash319_settled_process_leaves_the_built_app_out_of_gc_walks(wh):  # type: ignore[no-untyped-def]
    """`settle_process` (called by `arogya serve` and each gunicorn worker) moves what exists into the permanent
    generation and collects young objects less often; objects made afterwards are still collected."""
    import gc
    import weakref

    from dashboard.runtime import SERVING_GC_THRESHOLDS, settle_process

    ctx = DataContext(reader_engine(wh))
    overview.kpis(ctx, AUGUST, FULL)
    thresholds = gc.get_threshold()
    try:
        frozen = settle_process()
        # frozen objects can still be freed by their reference counts (a thread of another test ending), so the
        # count may only fall a little; a collection that unfroze them would empty it
        assert frozen >= gc.get_freeze_count() > max(1000, frozen - 1000)
        assert gc.get_threshold() == SERVING_GC_THRESHOLDS != thresholds

        class Node:
            pass

        node = Node()
        node.me = node  # type: ignore[attr-defined]
        gone = weakref.ref(node)
        del node
        kept = [[] for _ in range(SERVING_GC_THRESHOLDS[0] + 1)]  # enough new containers for a young collection
        assert gone() is None and kept  # the cycle was collected without an explicit gc.collect()
        gc.collect()
        assert frozen >= gc.get_freeze_count() > frozen - 1000  # a collection neither unfreezes nor walks them
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_dash530_district_series_match_a_pandas_groupby(wh, grain):  # type: ignore[no-untyped-def]
    """The series summed in plain Python equal pandas' group-by of the same rollup rows, zeros filled."""
    ctx = DataContext(reader_engine(wh))
    f = Filter(date(2025, 7, 28), TODAY)
    got = overview.district_series(ctx, f, FULL, grain)
    with ctx.engine.connect() as conn:
        rows = pd.DataFrame(conn.execute(text(
            "SELECT district_lgd, day, consultations FROM rollup_district_day WHERE day BETWEEN :a AND :b"),
            {"a": f.start.isoformat(), "b": f.end.isoformat()}).all(), columns=["district_lgd", "day", "n"])
    stamps = pd.to_datetime(rows["day"].astype(str).str.slice(0, 10))
    if grain == "week":
        stamps = stamps - pd.to_timedelta(stamps.dt.day_of_week, unit="D")
    elif grain == "month":
        stamps = stamps.dt.to_period("M").dt.start_time
    rows["bucket"] = stamps.dt.date
    summed = rows.groupby(["district_lgd", "bucket"])["n"].sum()
    days = pd.Series(pd.date_range(f.start, f.end, freq="D"))
    if grain == "week":
        days = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    elif grain == "month":
        days = days.dt.to_period("M").dt.start_time
    buckets = sorted(set(days.dt.date))
    full = pd.MultiIndex.from_product([sorted(rows["district_lgd"].unique()), buckets],
                                      names=["district_lgd", "bucket"])
    want = summed.reindex(full, fill_value=0).rename("consultations").reset_index()
    assert len(got) == len(want) > 0 and got["consultations"].sum() == want["consultations"].sum()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)


# ---------------------------------------------------------------- running totals fresh and stale


def _fresh_and_stale(wh, views):  # type: ignore[no-untyped-def]
    """``views(ctx)`` with the running totals fresh, then marked stale (and refreshed again after): each run's
    frames and the SELECT statements it ran, as one string."""
    out = []
    for stale in (False, True):
        if stale:
            with wh.engine.begin() as conn:
                mark_stale(conn, date(2025, 8, 1))
        try:
            frames: dict[str, pd.DataFrame] = {}
            ctx = DataContext(reader_engine(wh))
            sql = " ".join(s for s, _ in _statements(ctx, lambda ctx=ctx, frames=frames: frames.update(views(ctx))))
        finally:
            if stale:
                with wh.engine.begin() as conn:
                    refresh_cumulatives(conn)
        out += [frames, sql]
    return tuple(out)


def _assert_same(fresh: dict[str, pd.DataFrame], stale: dict[str, pd.DataFrame]) -> None:
    assert fresh.keys() == stale.keys()
    for key in fresh:
        pd.testing.assert_frame_equal(fresh[key], stale[key], check_dtype=False, obj=key)


def test_dash345_cho_last_active_from_the_running_totals_equals_the_rollups(wh):  # type: ignore[no-untyped-def]
    """The district page's silent CHOs and a facility's CHOs take the last active day from the CHO running totals
    (the warehouse keeps no CHO-led index of the CHO rollup, migration 0016); with the totals stale, from the
    rollup: the same days."""

    def views(ctx: DataContext) -> dict[str, pd.DataFrame]:
        out = {}
        for lgd in (KAIMUR, KISHANGANJ, PATNA):
            for end in (date(2025, 8, 3), date(2025, 8, 20), TODAY):
                out[f"silent/{lgd}/{end}"] = district.silent_chos(ctx, AUGUST.with_(end=end), FULL, lgd)
        for facility in ("S1", "S4", "H2"):
            out[f"detail/{facility}"] = district.facility_detail(ctx, AUGUST, FULL, facility).chos
        return out

    fresh, fresh_sql, stale, stale_sql = _fresh_and_stale(wh, views)
    assert "cumulative_cho_day" in fresh_sql and "rollup_cho_day" not in fresh_sql
    assert any(frame["last_active"].notna().any() for frame in fresh.values())
    assert "rollup_cho_day" in stale_sql
    _assert_same(fresh, stale)


def test_dash346_spoke_last_days_and_activity_from_the_running_totals_equal_the_rollups(wh):  # type: ignore[no-untyped-def]
    """The facility rollup keeps no spoke-led index (migration 0017): a spoke's last day comes from the spoke
    running totals (under a mode or specialty filter too: it is over every kind), its period activity from them or
    from the district's rows, and active spokes from the distinct spokes of the period's rows. With the totals
    stale, from the rollup: the same values."""
    opd = AUGUST.with_(modes=("OPD",))

    def views(ctx: DataContext) -> dict[str, pd.DataFrame]:
        out = {}
        for name, f in (("aug", AUGUST), ("opd", opd), ("gen", AUGUST.with_(specialties=("GEN",)))):
            for lgd in (KAIMUR, KISHANGANJ):
                out[f"facilities/{name}/{lgd}"] = district.facilities(ctx, f, FULL, lgd)
                out[f"idle/{name}/{lgd}"] = district.idle_spokes(ctx, f, FULL, lgd)
                out[f"links/{name}/{lgd}"] = district.links(ctx, f, FULL, lgd)
            out[f"spokes/{name}"] = hubs.spoke_activity(ctx, f, FULL)
            out[f"kpis/{name}"] = overview.kpis(ctx, f, FULL)
            out[f"metrics/{name}"] = overview.district_metrics(ctx, f, FULL)
        for facility in ("S1", "S4", "H2"):
            out[f"detail/{facility}"] = district.facility_detail(ctx, opd, FULL, facility).daily
        return out

    fresh, fresh_sql, stale, stale_sql = _fresh_and_stale(wh, views)
    assert "cumulative_spoke_day.last_day" in fresh_sql
    assert "rollup_facility_day.spoke_id = dim_facility.facility_id" not in fresh_sql  # no probe per spoke
    assert fresh["spokes/opd"]["last_consultation"].notna().any()
    assert "cumulative_spoke_day.last_day" not in stale_sql.split("FROM cumulative_state")[-1]
    _assert_same(fresh, stale)


def test_dash347_a_transferred_chos_last_day_and_activity_hold_while_the_totals_are_stale(wh):  # type: ignore[no-untyped-def]
    """A CHO's rollup rows carry the district where the CHO consulted. C1 consulted at S1 (Kishanganj); moved in
    the master to S9 (Patna), C1's last active day must stay the same whether the CHO running totals are fresh or
    stale (the stale path reads the totals up to the day before the load's first day, then the days since), and the
    overview counts C1 as active only where the master puts C1 (as it does with a (cho_id, day) index)."""
    with wh.engine.begin() as conn:
        conn.execute(text("UPDATE dim_cho SET facility_id = 'S9', district_lgd = :p, block_lgd = 21201 "
                          "WHERE cho_id = 'C1'"), {"p": PATNA})

    def views(ctx: DataContext) -> dict[str, pd.DataFrame]:
        out = {f"silent/{lgd}": district.silent_chos(ctx, AUGUST, FULL, lgd) for lgd in (PATNA, KISHANGANJ)}
        out["detail/S9"] = district.facility_detail(ctx, AUGUST, FULL, "S9").chos
        out["roster"] = chos.roster(ctx, AUGUST, FULL)
        return out

    try:
        fresh, _, stale, stale_sql = _fresh_and_stale(wh, views)
        _assert_same(fresh, stale)
        assert "cumulative_cho_day" in stale_sql.split("FROM cumulative_state")[-1]  # the settled day's rows
        c1 = fresh["roster"].set_index("cho_id").loc["C1"]
        assert c1["last_active"] is not None and c1["consultations"] > 0
        kishanganj_sc = AUGUST.with_(district_lgds=(KISHANGANJ,), facility_types=("SC",))
        without_index = overview.kpis(DataContext(reader_engine(wh)), kishanganj_sc, FULL)
        with wh.engine.begin() as conn:
            conn.execute(text(RECOMMENDED_DDL[0]))
        try:
            with_index = overview.kpis(DataContext(reader_engine(wh)), kishanganj_sc, FULL)
        finally:
            with wh.engine.begin() as conn:
                conn.execute(text("DROP INDEX ix_rollup_cho_day_cho_day"))
        assert int(without_index.loc[0, "chos_active"]) == int(with_index.loc[0, "chos_active"])
        assert int(without_index.loc[0, "chos_active"]) <= int(without_index.loc[0, "chos_total"])
    finally:
        with wh.engine.begin() as conn:
            conn.execute(text("UPDATE dim_cho SET facility_id = 'S1', district_lgd = :k, block_lgd = 20301 "
                              "WHERE cho_id = 'C1'"), {"k": KISHANGANJ})
