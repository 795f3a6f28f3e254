"""The CHO page's sums, counts and lists taken in SQL (``chos.summary``, ``roster_grid``, ``silent_grid``, the
tables) against the pandas computation over the full roster that the page used before, on SQLite and PostgreSQL,
with the running totals fresh and stale, for filters, scopes and periods before, inside, across and after the data
(tests/fixtures/pages4.py: laptops and training vary, one CHO inactive)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from dashboard.data import chos
from dashboard.data import cumulative as running
from dashboard.data.context import DataContext
from dashboard.data.filters import Filter, Scope
from dashboard.data.hubs import grid_records, names, pick
from dashboard.i18n import t
from etl.load.cumulative import mark_stale, refresh_cumulatives
from etl.warehouse.schema import cumulative_cho_day
from tests.fixtures.pages4 import build_pages4_warehouse
from tests.fixtures.warehouse_factory import KAIMUR, KISHANGANJ, TODAY, reader_engine
from tests.unit.test_dash_perf_data import BACKENDS, PG_URL

AUGUST = Filter(date(2025, 8, 2), TODAY)
VIEWS = {
    "august": (AUGUST, Scope.full()),
    "kishanganj": (AUGUST.with_(district_lgds=(KISHANGANJ,)), Scope.full()),
    "kaimur-scope": (AUGUST, Scope.districts([KAIMUR])),
    "block": (AUGUST.with_(block_lgds=(20301,)), Scope.full()),
    "before": (Filter(date(2024, 1, 1), date(2024, 1, 31)), Scope.full()),
    "across": (Filter(date(2025, 7, 20), date(2025, 8, 15)), Scope.full()),
    "one-day": (Filter(TODAY, TODAY), Scope.full()),
    "seven-days-silent": (Filter(date(2025, 8, 1), date(2025, 8, 17)), Scope.full()),  # C3 last on 10-08
    "after": (Filter(TODAY + timedelta(days=3), TODAY + timedelta(days=30)), Scope.full()),
    "none": (AUGUST, Scope()),
}


# ---------------------------------------------------------------- the pandas computation the page used before


def old_silent(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[frame["silent"]] if not frame.empty else frame
    if out.empty:
        return out
    key = out["days_silent"].fillna(10**9).astype("int64")
    return out.assign(_k=key).sort_values(["_k", "name"], ascending=[False, True]).drop(columns="_k").reset_index(
        drop=True)


def old_compare(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    key, en, hi = ("block_lgd", "block_en", "block_hi") if by == "block" else ("district_lgd", "district_en",
                                                                               "district_hi")
    columns = ["key", "name_en", "name_hi", "chos", "chos_active", "chos_silent", "consultations", "per_cho",
               "active_days_mean", "laptop_pct", "training_mean", "training_pct", "fully_trained_pct"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    work = frame.assign(key=frame[key].fillna(-1).astype("int64"), name_en=frame[en].fillna("–"),
                        name_hi=frame[hi].fillna(""), is_active=frame["active_days"] > 0)
    out = (work.groupby(["key", "name_en", "name_hi"], as_index=False, dropna=False)
           .agg(chos=("cho_id", "count"), chos_active=("is_active", "sum"), chos_silent=("silent", "sum"),
                consultations=("consultations", "sum"), active_days_mean=("active_days", "mean"),
                laptops=("has_laptop", "sum"), training_mean=("training_modules", "mean"),
                fully=("fully_trained", "sum")))
    for col in ("chos", "chos_active", "chos_silent", "consultations", "laptops", "fully"):
        out[col] = out[col].astype("int64")
    out["per_cho"] = out["consultations"] / out["chos"]
    out["laptop_pct"] = 100.0 * out["laptops"] / out["chos"]
    out["training_pct"] = 100.0 * out["training_mean"] / chos.TRAINING_MODULES
    out["fully_trained_pct"] = 100.0 * out["fully"] / out["chos"]
    return out.sort_values(["consultations", "name_en"], ascending=[False, True])[columns].reset_index(drop=True)


def old_distribution(frame: pd.DataFrame, measure: str) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=["low", "high", "chos"])
    if measure == "training_modules":
        values = frame["training_modules"].astype("int64")
        counts = values.value_counts().reindex(range(chos.TRAINING_MODULES + 1), fill_value=0)
        return pd.DataFrame({"low": counts.index, "high": counts.index, "chos": counts.to_numpy()})
    if measure == "days_silent":
        values = frame["days_silent"].fillna(10**6).astype("int64")
        edges = [0, 1, 3, 7, 14, 30, 60, 10**9]
    else:
        values = frame[measure].astype("int64")
        edges = chos._integer_bins(int(values.max()) if len(values) else 0)
    counts = np.histogram(values, bins=edges)[0]
    return pd.DataFrame({"low": edges[:-1], "high": [e - 1 for e in edges[1:]], "chos": counts.astype("int64")})


def old_labelled(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["cho"] = frame["name"]
    frame["facility"] = frame["facility_name"].fillna(frame["facility_id"])
    frame["block"] = names(frame, lang, "block_en", "block_hi")
    frame["district"] = names(frame, lang, "district_en", "district_hi")
    frame["laptop"] = [v if v is not None else t("not_yet", lang) for v in frame["laptop_on"]]
    return frame


def old_kpis(frame: pd.DataFrame) -> chos.Totals:
    if frame.empty:
        return chos.Totals()
    return chos.Totals(chos=len(frame), active=int((frame["active_days"] > 0).sum()), silent=int(frame["silent"].sum()),
                       consultations=int(frame["consultations"].sum()), laptops=int(frame["has_laptop"].sum()),
                       fully=int(frame["fully_trained"].sum()), training_mean=float(frame["training_modules"].mean()))


# ---------------------------------------------------------------- the comparison


def _same(new: pd.DataFrame, old: pd.DataFrame, what: str) -> None:
    if old.empty:  # the same header (the comparison adds the sums it comes from)
        assert new.empty and set(old.columns) <= set(new.columns), what
        return
    new = new[list(old.columns)]
    pd.testing.assert_frame_equal(new.reset_index(drop=True), old.reset_index(drop=True), check_dtype=False,
                                  check_exact=True, obj=what)


def _check_views(ctx: DataContext, state: str) -> None:
    for name, (f, scope) in VIEWS.items():
        full = chos.roster(ctx, f, scope)
        for by in chos.GROUPINGS:
            for measure in chos.DISTRIBUTIONS:
                what = f"{state}/{name}/{by}/{measure}"
                got = chos.summary(ctx, f, scope, by, measure)
                _same(got.compare, old_compare(full, by), f"compare {what}")
                _same(got.distribution, old_distribution(full, measure), f"distribution {what}")
                assert got.totals == old_kpis(full), what
        for lang in ("en", "hi"):
            what = f"{state}/{name}/{lang}"
            roster_table = pick(old_labelled(full, lang), chos.ROSTER_COLUMNS)
            silent_table = pick(old_labelled(old_silent(full), lang), chos.SILENT_COLUMNS)
            _same(chos.roster_table(ctx, f, scope, {}, lang), roster_table, f"roster {what}")
            _same(chos.silent_table(ctx, f, scope, {}, lang), silent_table, f"silent {what}")
            assert chos.roster_grid(ctx, f, scope, lang, 3) == grid_records(roster_table, 3), what
            assert chos.silent_grid(ctx, f, scope, lang, 2) == grid_records(silent_table, 2), what


@pytest.mark.parametrize("backend", BACKENDS)
def test_dash348_sums_and_lists_in_sql_match_the_pandas_roster(tmp_path, backend):  # type: ignore[no-untyped-def]
    wh = build_pages4_warehouse(tmp_path, PG_URL if backend == "postgres" else None)
    try:
        with wh.engine.begin() as conn:
            refresh_cumulatives(conn)
        ctx = DataContext(reader_engine(wh))
        with ctx.engine.connect() as conn:
            assert running.span(conn, cumulative_cho_day, AUGUST.start, AUGUST.end) is not None
        _check_views(ctx, "fresh")
        with wh.engine.begin() as conn:
            mark_stale(conn, date(2025, 8, 2))
        with ctx.engine.connect() as conn:
            assert running.span(conn, cumulative_cho_day, AUGUST.start, AUGUST.end) is None
        _check_views(ctx, "stale")
    finally:
        wh.drop()


def test_dash349_hand_computed_sums_and_bins(tmp_path):  # type: ignore[no-untyped-def]
    """The SQL sums and bins against numbers worked out by hand (see tests/unit/test_dash_chos.py's doc)."""
    wh = build_pages4_warehouse(tmp_path)
    try:
        ctx = DataContext(reader_engine(wh))
        got = chos.summary(ctx, AUGUST, Scope.full(), "district", "days_silent")
        # 7 active CHOs; 6 consulted in August (not C4); silent C4, C6, C7; consultations 2+1+2+0+1+1+1;
        # laptops by 31-08: C1, C4, C5, C7; modules 18+12+6+18+9+0+15 = 78; all 18: C1, C4.
        assert got.totals == chos.Totals(chos=7, active=6, silent=3, consultations=8, laptops=4, fully=2,
                                         training_mean=78 / 7)
        # Days silent 1 (C1), 0 (C2, C5), 6 (C3), 11 (C6), 29 (C7), never (C4).
        assert got.distribution["chos"].tolist() == [2, 1, 1, 1, 1, 0, 1]
        kishanganj = got.compare.set_index("key").loc[KISHANGANJ]
        # Laptops C1, C4 of 4; modules 18 + 12 + 6 + 18 = 54; all 18: C1, C4.
        assert kishanganj[["chos", "chos_active", "chos_silent", "consultations", "laptop_pct", "training_mean",
                           "fully_trained_pct"]].tolist() == [4, 3, 1, 5, 50.0, 13.5, 50.0]
        active = chos.summary(ctx, AUGUST, Scope.full(), "district", "active_days").distribution
        assert active["chos"].tolist() == [1, 5, 1]  # active days 0 (C4), 1 (five CHOs), 2 (C3)
    finally:
        wh.drop()
