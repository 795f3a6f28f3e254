"""Scheme metrics against numbers worked out by hand from tests/fixtures/pages4.py.

ABHA numbers created, value / target: August — S1 29/60, S2 12/60, S3 60/60 (Kishanganj), S5 45/60 (Kaimur),
S9 90/60 (Patna); July — S1 50/60, S3 40/60; June — S1 20/60. Hypertension screenings, August: S1 100/120,
S5 60/120. Service packages: S1 (August) 1–6; S3 (August) 1 only, and all twelve in September; S5 (July) all but 11,
and none in June.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from dashboard.data import schemes
from dashboard.data.context import DataContext
from dashboard.data.filters import Filter, Scope
from tests.fixtures.pages4 import build_pages4_warehouse
from tests.fixtures.warehouse_factory import KAIMUR, KISHANGANJ, PATNA, TODAY, reader_engine

AUGUST = Filter(date(2025, 8, 2), TODAY)
FULL = Scope.full()
ABHA = "ABHA_CREATED"


@pytest.fixture(scope="module")
def wh(tmp_path_factory):  # type: ignore[no-untyped-def]
    warehouse = build_pages4_warehouse(tmp_path_factory.mktemp("schemes"))
    yield warehouse
    warehouse.drop()


@pytest.fixture(scope="module")
def ctx(wh):  # type: ignore[no-untyped-def]
    return DataContext(reader_engine(wh))


def test_dash551_catalogue(ctx):  # type: ignore[no-untyped-def]
    cat = schemes.catalogue(ctx, AUGUST, FULL)
    assert list(cat["indicator_code"])[:3] == ["ABHA_CREATED", "PMJAY_CARDS", "NCD_HTN"]
    assert list(cat["indicator_code"])[-1] == "PKG_12" and len(cat) == 21
    rows = cat.set_index("indicator_code")
    # August: 29 + 12 + 60 + 45 + 90 = 236 of 5 × 60 = 300.
    assert rows.loc[ABHA, ["centres", "value", "target"]].tolist() == [5, 236.0, 300.0]
    assert rows.loc[ABHA, "achieved_pct"] == pytest.approx(236 / 3)
    assert rows.loc["NCD_HTN", "achieved_pct"] == pytest.approx(160 / 2.4)
    # Packages reported for August by S1 and S3: package 1 offered by both, package 2 by S1 only.
    assert rows.loc["PKG_01", "achieved_pct"] == 100.0 and rows.loc["PKG_02", "achieved_pct"] == 50.0
    assert rows.loc["PMJAY_CARDS", "centres"] == 0 and rows.loc["PMJAY_CARDS", "achieved_pct"] != 0  # NaN
    table = schemes.catalogue_table(ctx, AUGUST, FULL, {}, "hi").set_index("indicator_code")
    assert table.loc[ABHA, "indicator"] == "आभा संख्या बनाई गई" and table.loc["PKG_01", "package"] == 1


def test_dash552_achievement_by_district_block_and_facility(ctx):  # type: ignore[no-untyped-def]
    district = schemes.achievement(ctx, AUGUST, FULL, ABHA, "district").set_index("key")
    # Kishanganj (29 + 12 + 60) / 180; Kaimur 45 / 60; Patna 90 / 60.
    assert district.loc[KISHANGANJ, "achieved_pct"] == pytest.approx(101 / 1.8)
    assert district.loc[KAIMUR, "achieved_pct"] == 75.0 and district.loc[PATNA, "achieved_pct"] == 150.0
    assert district["rank"].tolist() == [1, 2, 3] and list(district.index) == [PATNA, KAIMUR, KISHANGANJ]
    block = schemes.achievement(ctx, AUGUST, FULL, ABHA, "block").set_index("key")
    assert block.loc[20301, ["value", "target"]].tolist() == [41.0, 120.0]  # S1 + S2
    assert block.loc[20301, "achieved_pct"] == pytest.approx(41 / 1.2)
    facility = schemes.achievement(ctx, AUGUST, FULL, ABHA, "facility").set_index("key")
    assert facility.loc["S2", ["achieved_pct", "gap", "rank"]].tolist() == [20.0, 48.0, 5]
    assert facility.loc["S9", "gap"] == 0.0 and facility.loc["S1", "name_en"] == "HSC Dighalbank"
    table = schemes.achievement_table(ctx, AUGUST, FULL, {"by": "facility", "ind": ABHA}, "en")
    assert table.iloc[-1][["key", "block", "district"]].tolist() == ["S2", "Bahadurganj", "KISHANGANJ"]


def test_dash553_laggards(ctx):  # type: ignore[no-untyped-def]
    frame = schemes.laggards(schemes.achievement(ctx, AUGUST, FULL, ABHA, "facility"))
    # Below 50 %: S2 (20 %), S1 (29/60 = 48.3 %); S5 (75 %) is not.
    assert list(frame["key"]) == ["S2", "S1"]
    assert frame.iloc[1]["achieved_pct"] == pytest.approx(29 / 0.6)
    assert list(schemes.laggards_table(ctx, AUGUST, FULL, {}, "en")["key"]) == ["S2", "S1"]


def test_dash554_monthly_trend(ctx):  # type: ignore[no-untyped-def]
    trend = schemes.monthly(ctx, AUGUST, FULL, ABHA)
    # At least six months to August: March to August, empty months kept.
    assert [m.isoformat() for m in trend["month"]] == ["2025-03-01", "2025-04-01", "2025-05-01", "2025-06-01",
                                                       "2025-07-01", "2025-08-01"]
    pct = trend.set_index("month")["achieved_pct"]
    assert pct[date(2025, 6, 1)] == pytest.approx(100 / 3)  # 20 / 60
    assert pct[date(2025, 7, 1)] == pytest.approx(75.0)  # (50 + 40) / 120
    assert pct[date(2025, 8, 1)] == pytest.approx(236 / 3)
    assert trend["centres"].tolist() == [0, 0, 0, 1, 2, 5]
    assert schemes.trend_start(Filter(date(2024, 4, 1), TODAY)) == date(2024, 4, 1)


def test_dash555_packages_from_the_latest_month(ctx):  # type: ignore[no-untyped-def]
    pk = schemes.packages(ctx, AUGUST, FULL).set_index("facility_id")
    assert sorted(pk.index) == ["S1", "S3", "S5"]
    assert pk.loc["S1", "offered"] == 6 and pk.loc["S1", "month"] == date(2025, 8, 1)
    # S3 reported all twelve in September, after the period: August's report (package 1 only) counts.
    assert pk.loc["S3", "offered"] == 1 and pk.loc["S3", "pkg_01"] == 1 and pk.loc["S3", "pkg_02"] == 0
    # S5's latest report is July (June's empty report is older).
    assert pk.loc["S5", "month"] == date(2025, 7, 1) and pk.loc["S5", "offered"] == 11 and pk.loc["S5", "pkg_11"] == 0
    cov = schemes.package_coverage(schemes.packages(ctx, AUGUST, FULL)).set_index("package")
    assert cov.loc[1, ["reported", "offered", "offered_pct"]].tolist() == [3, 3, 100.0]
    assert cov.loc[7, "offered_pct"] == pytest.approx(100 / 3) and cov.loc[11, "offered_pct"] == 0.0
    september = schemes.packages(ctx, Filter(date(2025, 9, 1), date(2025, 9, 30)), FULL).set_index("facility_id")
    assert september.loc["S3", "offered"] == 12
    names = schemes.package_coverage_table(ctx, AUGUST, FULL, {}, "en")["package_name"].tolist()
    assert names[0] == "1 Pregnancy and childbirth" and len(names) == 12


def test_dash556_period_selects_months(ctx):  # type: ignore[no-untyped-def]
    f = Filter(date(2025, 7, 15), date(2025, 8, 10))  # July and August
    row = schemes.catalogue(ctx, f, FULL).set_index("indicator_code").loc[ABHA]
    assert (row["value"], row["target"]) == (50 + 40 + 236, 420.0)
    june = Filter(date(2025, 6, 1), date(2025, 6, 30))
    assert schemes.catalogue(ctx, june, FULL).set_index("indicator_code").loc[ABHA, "value"] == 20


def test_dash557_scope_and_filters(ctx):  # type: ignore[no-untyped-def]
    kaimur = Scope.districts([KAIMUR])
    assert schemes.catalogue(ctx, AUGUST, kaimur).set_index("indicator_code").loc[ABHA, "value"] == 45
    assert list(schemes.achievement(ctx, AUGUST, kaimur, ABHA, "facility")["key"]) == ["S5"]
    assert list(schemes.packages(ctx, AUGUST, kaimur)["facility_id"]) == ["S5"]
    assert schemes.achievement(ctx, AUGUST.with_(district_lgds=(PATNA,)), kaimur, ABHA).empty
    blocks = schemes.achievement(ctx, AUGUST.with_(block_lgds=(20301,)), FULL, ABHA, "facility")
    assert sorted(blocks["key"]) == ["S1", "S2"]
    assert schemes.catalogue(ctx, AUGUST, Scope())["centres"].sum() == 0


def test_dash558_indicator_choice(ctx):  # type: ignore[no-untyped-def]
    assert schemes.count_indicator(ctx, "NCD_HTN") == "NCD_HTN"
    assert schemes.count_indicator(ctx, "PKG_01") == ABHA  # a flag is not a count indicator
    assert schemes.count_indicator(ctx, "nonsense") == ABHA and schemes.count_indicator(ctx, None) == ABHA
    assert schemes.level_param({"by": "block"}) == "block" and schemes.level_param({"by": "x"}) == "district"


def test_dash559_values_are_bound_parameters(wh):  # type: ignore[no-untyped-def]
    engine = reader_engine(wh)
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    ctx = DataContext(engine)
    f = AUGUST.with_(district_lgds=(KISHANGANJ,), facility_types=("SC",))
    scope = Scope.districts([KISHANGANJ, 987654])
    schemes.catalogue(ctx, f, scope)
    schemes.achievement(ctx, f, scope, ABHA, "facility")
    schemes.monthly(ctx, f, scope, ABHA)
    schemes.packages(ctx, f, scope)
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) >= 5
    for statement in selects:
        assert "987654" not in statement and "ABHA" not in statement and "'SC'" not in statement, statement


def test_dash560_empty_period(ctx):  # type: ignore[no-untyped-def]
    empty = Filter(date(2024, 1, 1), date(2024, 1, 31))
    assert int(schemes.catalogue(ctx, empty, FULL)["centres"].sum()) == 0
    assert schemes.achievement(ctx, empty, FULL, ABHA).empty
    assert schemes.packages(ctx, empty, FULL).empty
    assert int(schemes.monthly(ctx, empty, FULL, ABHA)["centres"].sum()) == 0


def test_dash526_rank_and_order_match_pandas_with_ties_and_missing_values():  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    from dashboard.data.columns import rank_highest_first

    pct = np.array([50.0, np.nan, 120.0, 50.0, 0.0, np.nan, 120.0, 75.5, -0.0])
    expected = pd.Series(pct).rank(method="min", ascending=False).astype("Int64")
    got = pd.Series(rank_highest_first(pct))
    pd.testing.assert_series_equal(got, expected, check_names=False)
    assert got.tolist()[:4] == [4, pd.NA, 1, 4]
    # The sums' arithmetic: no positive target, no %; a negative gap is none to close; a missing sum leaves the gap out.
    frame = pd.DataFrame({"value": [5, None, 30, 2], "value_with_target": [5.0, None, 30.0, None],
                          "target": [10.0, 0.0, 20.0, None]}, dtype=object)
    out = schemes._achieved(frame)
    assert out["achieved_pct"].tolist()[0] == 50.0 and out["achieved_pct"].isna().tolist() == [False, True, False, True]
    assert out["gap"].tolist()[0::2] == [5.0, 0.0] and out["gap"].isna().tolist() == [False, True, False, True]
    assert out["value"].dtype == np.float64 and np.isnan(out["value"].iloc[1])
