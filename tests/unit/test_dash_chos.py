"""CHO metrics against numbers worked out by hand from tests/fixtures/pages4.py (August 2025, to Sunday 31-08).

CHO (spoke, block): days with consultations, laptop, modules —
  C1 (S1, 20301): 30-08 ×2; laptop 01-05-2024; 18.     C2 (S2, 20301): 31-08; no laptop; 12.
  C3 (S3, 20302): 10-08, 25-08; laptop 15-09-2025 (after the period: not yet); 6.
  C4 (S4, 20303): never; laptop 01-03-2023; 18.        C5 (S5, Kaimur 20001): 31-08 (and 25-07); laptop 31-08-2025; 9.
  C6 (S7, Kaimur 20002): 20-08; no laptop; 0.          C7 (S9, Patna): 02-08 (and 30-07); laptop 10-01-2024; 15.
  C8 (S6): inactive — never listed.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from dashboard.data import chos
from dashboard.data.context import DataContext
from dashboard.data.filters import Filter, Scope
from tests.fixtures.pages4 import build_pages4_warehouse
from tests.fixtures.warehouse_factory import KAIMUR, KISHANGANJ, PATNA, TODAY, reader_engine

AUGUST = Filter(date(2025, 8, 2), TODAY)
FULL = Scope.full()


@pytest.fixture(scope="module")
def wh(tmp_path_factory):  # type: ignore[no-untyped-def]
    warehouse = build_pages4_warehouse(tmp_path_factory.mktemp("chos"))
    yield warehouse
    warehouse.drop()


@pytest.fixture(scope="module")
def ctx(wh):  # type: ignore[no-untyped-def]
    return DataContext(reader_engine(wh))


def roster(ctx, f: Filter = AUGUST, scope: Scope = FULL):  # type: ignore[no-untyped-def]
    return chos.roster(ctx, f, scope).set_index("cho_id")


def distribution(ctx, measure: str):  # type: ignore[no-untyped-def]
    return chos.summary(ctx, AUGUST, FULL, "district", measure).distribution


def test_dash531_roster(ctx):  # type: ignore[no-untyped-def]
    r = roster(ctx)
    assert sorted(r.index) == ["C1", "C2", "C3", "C4", "C5", "C6", "C7"]  # C8 is inactive
    assert r.loc["C1", ["active_days", "consultations", "days_silent"]].tolist() == [1, 2, 1]
    assert r.loc["C1", "last_active"] == date(2025, 8, 30) and r.loc["C1", "facility_name"] == "HSC Dighalbank"
    assert r.loc["C3", ["active_days", "consultations", "days_silent"]].tolist() == [2, 2, 6]
    # C5's July day is outside the period but not its last activity.
    assert r.loc["C5", ["active_days", "consultations", "days_silent"]].tolist() == [1, 1, 0]
    assert r.loc["C4", "active_days"] == 0 and r.loc["C4", "last_active"] is None
    assert r.loc["C1", "joined_on"] == date(2023, 1, 1)


def test_dash532_laptops_as_of_the_period_end(ctx):  # type: ignore[no-untyped-def]
    r = roster(ctx)
    assert r.loc["C5", "laptop_on"] == date(2025, 8, 31)  # issued on the last day: counts
    assert r.loc["C3", "laptop_on"] is None and not r.loc["C3", "has_laptop"]  # issued 15-09-2025: not yet
    assert r.loc["C2", "laptop_on"] is None
    table = chos.roster_table(ctx, AUGUST, FULL, {}, "en").set_index("cho_id")
    assert table.loc["C3", "laptop"] == "not yet" and table.loc["C1", "laptop"] == date(2024, 5, 1)
    assert table.loc["C1", "training_modules"] == 18 and table.loc["C6", "training_modules"] == 0
    hindi = chos.roster_table(ctx, AUGUST, FULL, {}, "hi").set_index("cho_id")
    assert hindi.loc["C2", "laptop"] == "अभी नहीं" and hindi.loc["C1", "block"] == "बहादुरगंज"
    # A later period sees C3's laptop.
    assert roster(ctx, Filter(date(2025, 9, 1), date(2025, 9, 30))).loc["C3", "has_laptop"]


def test_dash533_silent_chos(ctx):  # type: ignore[no-untyped-def]
    # Silent 7+ days: C4 (never), C7 (29 days: 02-08), C6 (11 days: 20-08). C3 (6 days) is not.
    table = chos.silent_table(ctx, AUGUST, FULL, {}, "en")
    assert list(table["cho_id"]) == ["C4", "C7", "C6"]
    assert [r["cho_id"] for r in chos.silent_grid(ctx, AUGUST, FULL, "en", 500)] == ["C4", "C7", "C6"]
    assert table.iloc[1][["cho", "facility", "district", "days_silent"]].tolist() == [
        "Anil Kumar", "HSC Phulwari", "PATNA", 29]


def test_dash534_laptop_and_training_coverage_per_district(ctx):  # type: ignore[no-untyped-def]
    cov = chos.coverage(ctx, AUGUST, FULL).set_index("district_lgd")
    assert sorted(cov.index) == [KAIMUR, KISHANGANJ, PATNA]  # districts with CHOs
    # Kishanganj: C1..C4; laptops C1, C4 (C3's comes later) → 50 %; modules 18+12+6+18 = 54 → 13.5 → 75 %;
    # all 18 modules: C1, C4 → 50 %.
    assert cov.loc[KISHANGANJ, ["chos", "laptops", "fully"]].tolist() == [4, 2, 2]
    assert cov.loc[KISHANGANJ, ["laptop_pct", "training_mean", "training_pct", "fully_trained_pct"]].tolist() == [
        50.0, 13.5, 75.0, 50.0]
    # Kaimur: C5 (laptop 31-08, 9 modules), C6 (none, 0) — C8 is inactive.
    assert cov.loc[KAIMUR, ["chos", "laptop_pct", "training_mean"]].tolist() == [2, 50.0, 4.5]
    assert cov.loc[PATNA, ["laptop_pct", "training_pct"]].tolist() == [100.0, pytest.approx(1500 / 18)]
    # A district the filter names is listed even without CHOs, with no percentages.
    araria = chos.coverage(ctx, AUGUST.with_(district_lgds=(188, KAIMUR)), FULL).set_index("district_lgd")
    assert araria.loc[188, "chos"] == 0 and araria.loc[188, "laptop_pct"] != araria.loc[188, "laptop_pct"]  # NaN


def test_dash535_block_and_district_comparison(ctx):  # type: ignore[no-untyped-def]
    by_district = chos.summary(ctx, AUGUST, FULL, "district", "").compare.set_index("key")
    # Kishanganj: 4 CHOs, 3 active, 1 silent (C4), 2 + 1 + 2 consultations, active days (1 + 1 + 2 + 0) / 4.
    assert by_district.loc[KISHANGANJ, ["chos", "chos_active", "chos_silent", "consultations"]].tolist() == [4, 3, 1, 5]
    assert by_district.loc[KISHANGANJ, ["per_cho", "active_days_mean"]].tolist() == [1.25, 1.0]
    assert list(by_district.index) == [KISHANGANJ, KAIMUR, PATNA]  # most consultations first
    by_block = chos.summary(ctx, AUGUST.with_(district_lgds=(KISHANGANJ,)), FULL, "block", "").compare.set_index("key")
    assert by_block.loc[20301, ["chos", "consultations", "per_cho", "laptop_pct", "training_mean"]].tolist() == [
        2, 3, 1.5, 50.0, 15.0]
    assert by_block.loc[20303, ["chos_silent", "fully_trained_pct"]].tolist() == [1, 100.0]
    assert chos.grouping(AUGUST, "") == "district"
    assert chos.grouping(AUGUST.with_(district_lgds=(KISHANGANJ,)), "") == "block"
    assert chos.grouping(AUGUST.with_(district_lgds=(KISHANGANJ,)), "district") == "district"


def test_dash536_distributions(ctx):  # type: ignore[no-untyped-def]
    modules = distribution(ctx, "training_modules").set_index("low")["chos"]
    assert len(modules) == 19 and modules[18] == 2 and modules[0] == 1 and int(modules.sum()) == 7
    consultations = distribution(ctx, "consultations")
    # Values 2, 1, 2, 0, 1, 1, 1 → one bin per value 0, 1, 2.
    assert consultations["chos"].tolist() == [1, 4, 2]
    silent = distribution(ctx, "days_silent").set_index("low")["chos"]
    # Bins [0,1) [1,3) [3,7) [7,14) [14,30) [30,60) [60,…): 0, 0 (C2, C5) · 1 (C1) · 6 (C3) · 11 (C6) · 29 (C7) ·
    # never (C4, counted in the last bin).
    assert silent.tolist() == [2, 1, 1, 1, 1, 0, 1]
    table = chos.distribution_table(ctx, AUGUST, FULL, {"dist": "days_silent"}, "en")
    assert table["range"].tolist()[-1] == "60 or more (or never)" and table["range"].tolist()[1] == "1–2"


def test_dash537_filters_and_scope(ctx):  # type: ignore[no-untyped-def]
    assert sorted(roster(ctx, AUGUST, Scope.districts([KAIMUR])).index) == ["C5", "C6"]
    assert roster(ctx, AUGUST.with_(district_lgds=(PATNA,)), Scope.districts([KAIMUR])).empty
    assert list(roster(ctx, AUGUST.with_(facility_ids=("S1",))).index) == ["C1"]
    assert sorted(roster(ctx, AUGUST.with_(block_lgds=(20301,))).index) == ["C1", "C2"]
    assert list(chos.coverage(ctx, AUGUST, Scope.districts([PATNA]))["district_lgd"]) == [PATNA]
    assert chos.roster(ctx, AUGUST, Scope()).empty


def test_dash538_empty_period(ctx):  # type: ignore[no-untyped-def]
    r = roster(ctx, Filter(date(2024, 1, 1), date(2024, 1, 31)))
    assert len(r) == 7 and int(r["consultations"].sum()) == 0 and bool(r["silent"].all())


def test_dash539_values_are_bound_parameters(wh):  # type: ignore[no-untyped-def]
    engine = reader_engine(wh)
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    ctx = DataContext(engine)
    f = AUGUST.with_(district_lgds=(KISHANGANJ,), block_lgds=(20301,), facility_ids=("S1",))
    scope = Scope.districts([KISHANGANJ, 987654])
    chos.roster(ctx, f, scope)
    chos.coverage(ctx, f, scope)
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 4  # the roster asks first whether the CHO running totals are fresh, then reads once
    for by in chos.GROUPINGS:
        for measure in chos.DISTRIBUTIONS:
            chos.summary(ctx, f, scope, by, measure)
    chos.roster_grid(ctx, f, scope, "en", 1)
    chos.silent_grid(ctx, f, scope, "en", 1)
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    for statement in selects:
        assert "987654" not in statement and "'S1'" not in statement and "2025-08" not in statement, statement
