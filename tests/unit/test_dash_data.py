"""Data functions against the small warehouse, with numbers worked out by hand from its consultation list."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from dashboard.data import district, overview, reference
from dashboard.data.context import DataContext
from dashboard.data.filters import Filter, Scope
from dashboard.data.tables import TABLES, build_table
from tests.fixtures.warehouse_factory import (
    KAIMUR,
    KISHANGANJ,
    PATNA,
    TODAY,
    build_warehouse,
    bump_version,
    reader_engine,
)

AUGUST = Filter(date(2025, 8, 2), TODAY)
FULL = Scope.full()


@pytest.fixture(scope="module")
def wh(tmp_path_factory):  # type: ignore[no-untyped-def]
    warehouse = build_warehouse(tmp_path_factory.mktemp("data"))
    yield warehouse
    warehouse.drop()


@pytest.fixture(scope="module")
def ctx(wh):  # type: ignore[no-untyped-def]
    return DataContext(reader_engine(wh))


def kpi(ctx, f: Filter, scope: Scope = FULL) -> dict:  # type: ignore[no-untyped-def]
    return overview.kpis(ctx, f, scope).iloc[0].to_dict()


def test_dash021_state_kpis(ctx):  # type: ignore[no-untyped-def]
    row = kpi(ctx, AUGUST)
    assert row["consultations"] == 9 and row["prev_consultations"] == 2 and row["change_pct"] == pytest.approx(350)
    assert (row["spokes_active"], row["spokes_total"]) == (7, 9)
    assert row["hubs_serving"] == 3 and (row["chos_active"], row["chos_total"]) == (6, 7)
    # Waits 1, 3, 7, 12, 20, 25, 40, 2 → buckets [0,2):1 [2,5):2 [5,10):1 [10,15):1 [20,30):2 [30,45):1;
    # the 4th of 8 values ends the [5,10) bucket → 10.
    assert row["median_wait"] == pytest.approx(10.0)


def test_dash022_hub_median_wait_from_histogram(ctx):  # type: ignore[no-untyped-def]
    # Hub H1 answered three consultations with waits 1, 3 and 7 minutes: one in each of the buckets [0,2), [2,5)
    # and [5,10). The median (rank 1.5 of 3) lies half-way through [2,5): 3.5.
    row = kpi(ctx, AUGUST.with_(facility_ids=("H1",)))
    assert row["consultations"] == 3 and row["median_wait"] == pytest.approx(3.5)


def test_dash023_filters_by_mode_specialty_type_block(ctx):  # type: ignore[no-untyped-def]
    assert kpi(ctx, AUGUST.with_(modes=("OPD",)))["consultations"] == 3
    assert kpi(ctx, AUGUST.with_(specialties=("GEN",)))["consultations"] == 5
    assert kpi(ctx, AUGUST.with_(block_lgds=(20301,)))["consultations"] == 3
    # The district hospital H2 as either end: K4, K5 (S3→H2) and Patna's P2 (S9→H2) in August.
    assert kpi(ctx, AUGUST.with_(facility_types=("DH",)))["consultations"] == 3
    assert kpi(ctx, AUGUST.with_(district_lgds=(KAIMUR,)))["spokes_total"] == 4


def test_dash024_empty_period(ctx):  # type: ignore[no-untyped-def]
    row = kpi(ctx, Filter(date(2024, 1, 1), date(2024, 1, 31)))
    assert row["consultations"] == 0 and row["median_wait"] != row["median_wait"]  # NaN


def test_dash025_scope_denies_other_districts(ctx):  # type: ignore[no-untyped-def]
    kaimur = Scope.districts([KAIMUR])
    assert kpi(ctx, AUGUST, kaimur)["consultations"] == 3
    # Asking for a district outside the scope gives nothing, not the district.
    assert kpi(ctx, AUGUST.with_(district_lgds=(KISHANGANJ,)), kaimur)["consultations"] == 0
    metrics = overview.district_metrics(ctx, AUGUST, kaimur)
    assert list(metrics["district_lgd"]) == [KAIMUR]
    nobody = Scope()
    assert kpi(ctx, AUGUST, nobody)["consultations"] == 0 and kpi(ctx, AUGUST, nobody)["spokes_total"] == 0
    assert overview.district_metrics(ctx, AUGUST, nobody).empty
    assert reference.districts(ctx, nobody).empty
    assert district.facilities(ctx, AUGUST, kaimur, KISHANGANJ).empty
    assert not district.facility_detail(ctx, AUGUST, kaimur, "H1").found
    for name in TABLES:
        assert build_table(name, ctx, AUGUST, nobody, {"lgd": str(KISHANGANJ), "cmp": "203,200"}, "en").empty or \
            name == "compare-districts"


def test_dash026_district_metrics(ctx):  # type: ignore[no-untyped-def]
    m = overview.district_metrics(ctx, AUGUST, FULL).set_index("district_lgd")
    assert len(m) == 38
    k = m.loc[KISHANGANJ]
    assert (k["consultations"], k["n_referred"], k["spokes_active"], k["spokes_total"]) == (5, 1, 3, 4)
    # 1 of 5 referred: a small count (k = 5), so the rate is withheld (dashboard.privacy.suppression).
    assert k["per_active_spoke"] == pytest.approx(5 / 3) and pd.isna(k["referral_rate"])
    assert (k["blocks_total"], k["blocks_breaching"]) == (3, 2) and k["rank"] == 1
    assert m.loc[KAIMUR, "blocks_breaching"] == 0 and m.loc[PATNA, "blocks_breaching"] == 1
    assert m.loc[KAIMUR, "change_pct"] == pytest.approx(200.0)


def test_dash027_trend_and_sparklines(ctx):  # type: ignore[no-untyped-def]
    daily = overview.trend(ctx, AUGUST, FULL, "day")
    assert len(daily) == 30 * 2 and daily["consultations"].sum() == 9
    monthly = overview.trend(ctx, Filter(date(2025, 7, 1), TODAY), FULL, "month")
    assert dict(monthly.groupby("period")["consultations"].sum()) == {date(2025, 7, 1): 2, date(2025, 8, 1): 9}
    sparks = overview.district_sparklines(ctx, AUGUST, FULL)
    assert sparks[sparks["district_lgd"] == KISHANGANJ]["consultations"].tolist()[-2:] == [2, 1]


def test_dash028_district_page_data(ctx):  # type: ignore[no-untyped-def]
    fac = district.facilities(ctx, AUGUST, FULL, KISHANGANJ).set_index("facility_id")
    assert fac.loc["H2", "consultations"] == 3  # S3's two and Patna's S9
    assert fac.loc["S4", "consultations"] == 0 and fac.loc["S4", "last_consultation"] is None
    blocks = district.block_table(ctx, AUGUST, FULL, KISHANGANJ).set_index("block_lgd")
    assert list(blocks["breach"].sort_index()) == [False, True, True]
    assert list(district.idle_spokes(ctx, AUGUST, FULL, KAIMUR)["facility_id"]) == ["S8", "S7"]
    assert list(district.silent_chos(ctx, AUGUST, FULL, KAIMUR)["days_silent"]) == [11]
    # As of 27 August S3 (last consultation 25 August) is not idle; S1 and S2 had not consulted yet, S4 never does.
    idle = district.idle_spokes(ctx, AUGUST.with_(end=date(2025, 8, 27)), FULL, KISHANGANJ)
    assert list(idle["facility_id"]) == ["S1", "S4", "S2"]  # never-consulted first, then by name
    links = district.links(ctx, AUGUST, FULL, KISHANGANJ)
    assert set(zip(links["spoke_id"], links["hub_id"], strict=True)) == {("S1", "H1"), ("S2", "H1"), ("S3", "H2"),
                                                                         ("S9", "H2")}
    detail = district.facility_detail(ctx, AUGUST, FULL, "S1")
    assert detail.daily["consultations"].sum() == 2 and list(detail.partners["partner_id"]) == ["H1"]
    assert list(detail.chos["cho_id"]) == ["C1"]


class FlakyCache:
    """A cache backend that fails like an unreachable Redis."""

    def __init__(self) -> None:
        self.calls = 0

    def get(self, key: str):  # type: ignore[no-untyped-def]
        self.calls += 1
        raise ConnectionError("redis down")

    def set(self, key: str, value, timeout=None):  # type: ignore[no-untyped-def]
        self.calls += 1
        raise ConnectionError("redis down")


def test_dash029_cache_outage_is_bypassed(wh, caplog):  # type: ignore[no-untyped-def]
    flaky = FlakyCache()
    ctx = DataContext(reader_engine(wh), flaky, version_ttl_s=0)
    assert kpi(ctx, AUGUST)["consultations"] == 9
    assert kpi(ctx, AUGUST)["consultations"] == 9
    assert flaky.calls == 1  # after the first failure the cache is skipped for a while
    assert "cache unavailable" in caplog.text


def test_dash030_cache_is_keyed_by_data_version_and_scope(wh):  # type: ignore[no-untyped-def]
    from cachelib import SimpleCache

    cache = SimpleCache()
    ctx = DataContext(reader_engine(wh), cache, version_ttl_s=0)
    overview.kpis(ctx, AUGUST, FULL)
    hits_before = len(cache._cache)
    overview.kpis(ctx, AUGUST, FULL)
    assert len(cache._cache) == hits_before  # served from the cache
    overview.kpis(ctx, AUGUST, Scope.districts([KAIMUR]))
    assert len(cache._cache) == hits_before + 1  # another scope, another entry
    bump_version(wh.engine)
    overview.kpis(ctx, AUGUST, FULL)
    assert len(cache._cache) == hits_before + 2  # a load invalidates: new version, new key
