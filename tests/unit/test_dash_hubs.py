"""Hub and spoke metrics against numbers worked out by hand from tests/fixtures/pages4.py (August 2025: the 30 days
02-08 to 31-08; 31-08-2025 is a Sunday).

Hubs in August (consultation: day, clock, wait, outcome, doctor):
  H1 (09:00–16:00, every day): K1 30-08 10:00 w1 doc-a; K2 30-08 17:30 w3 referred doc-b; K3 31-08 08:15 w7 doc-a.
  H2 (09:00–14:00, Mon–Sat): P2 02-08 (Sat) 13:00 w2 doc-d; K5 10-08 (Sun) no-show doc-c; K4 25-08 (Mon) 11:00 w12.
  H3 (10:00–16:00, every day): A3 20-08 09:30 w40 referred doc-e; A1 31-08 10:30 w20 doc-e; A2 31-08 15:00 w25
      doc-f; X1 31-08 11:00 w50 abandoned doc-f.
  H4: nothing in August.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from dashboard.data import hubs
from dashboard.data.context import DataContext
from dashboard.data.filters import Filter, Scope
from etl.warehouse.histogram import WAIT_EDGES, percentile_from_counts, percentiles_from_count_rows
from tests.fixtures.pages4 import build_pages4_warehouse
from tests.fixtures.warehouse_factory import KAIMUR, KISHANGANJ, PATNA, TODAY, reader_engine

AUGUST = Filter(date(2025, 8, 2), TODAY)
FULL = Scope.full()


@pytest.fixture(scope="module")
def wh(tmp_path_factory):  # type: ignore[no-untyped-def]
    warehouse = build_pages4_warehouse(tmp_path_factory.mktemp("hubs"))
    yield warehouse
    warehouse.drop()


@pytest.fixture(scope="module")
def ctx(wh):  # type: ignore[no-untyped-def]
    # The metric arithmetic on a tiny fixture: small-cell suppression off (k=1 hides nothing); test_dash540 checks
    # that the default k withholds these small outcome splits.
    return DataContext(reader_engine(wh), suppression_k=1)


def by_hub(ctx, f: Filter = AUGUST, scope: Scope = FULL) -> dict:  # type: ignore[no-untyped-def]
    return {r["facility_id"]: r for r in hubs.hub_load(ctx, f, scope).to_dict("records")}


def test_dash501_service_calendar():  # type: ignore[no-untyped-def]
    assert hubs.window_hours("09:00", "16:00") == 7.0
    assert hubs.window_hours("10:00", "14:30") == 4.5
    assert hubs.window_hours("16:00", "09:00") == 0.0 and hubs.window_hours("9h", "x") == 0.0
    days = hubs.scheduled_dates("1111110", AUGUST.start, AUGUST.end)
    # 30 days minus the Sundays 3, 10, 17, 24 and 31 August.
    assert len(days) == 25 and all(d.weekday() != 6 for d in days)
    assert len(hubs.scheduled_dates("1111111", AUGUST.start, AUGUST.end)) == 30


def test_dash502_hub_wait_percentiles_from_the_histogram(ctx):  # type: ignore[no-untyped-def]
    h = by_hub(ctx)
    # H1: waits 1, 3 and 7 → one in each of [0,2), [2,5), [5,10). p50: rank 1.5 of 3 lies half-way through [2,5)
    # → 3.5. p90: rank 2.7 lies 0.7 of the way through [5,10) → 8.5.
    assert h["H1"]["wait_p50"] == pytest.approx(3.5) and h["H1"]["wait_p90"] == pytest.approx(8.5)
    # H2: waits 2 and 12 (the no-show has none): p50 rank 1.0 ends [2,5) → 5.0; p90 rank 1.8 → 10 + 0.8·5 = 14.
    assert h["H2"]["wait_p50"] == pytest.approx(5.0) and h["H2"]["wait_p90"] == pytest.approx(14.0)
    # H3: 20, 25 in [20,30); 40 in [30,45); 50 in [45,60). p50 rank 2 ends [20,30) → 30; p90 rank 3.6 → 45 + 0.6·15.
    assert h["H3"]["wait_p50"] == pytest.approx(30.0) and h["H3"]["wait_p90"] == pytest.approx(54.0)
    assert h["H4"]["wait_p50"] != h["H4"]["wait_p50"]  # no consultations: NaN


@given(st.lists(st.lists(st.integers(0, 10**6), min_size=len(WAIT_EDGES), max_size=len(WAIT_EDGES)), min_size=1,
                max_size=20), st.sampled_from([0, 1, 25, 50, 90, 99.5, 100]))
@settings(max_examples=200, deadline=None)
def test_dash528_wait_percentiles_by_row_are_the_one_row_rule(rows, q):  # type: ignore[no-untyped-def]
    """Hub load reads its percentiles for all hubs at once: the same floats as the one-histogram rule, row by row
    (empty rows, zeros between counts, one bucket holding everything)."""
    got = percentiles_from_count_rows(np.array(rows), q).tolist()
    want = [percentile_from_counts(row, q) for row in rows]
    assert [None if v != v else v for v in got] == want


def test_dash503_consultations_per_serving_hour(ctx):  # type: ignore[no-untyped-def]
    h = by_hub(ctx)
    # H1: 7-hour window; served 30-08 and 31-08 (both service days) → 14 serving hours. Of 3 consultations K2
    # (17:30) and K3 (08:15) are outside the hours → 1 inside → 1/14.
    assert (h["H1"]["serving_days"], h["H1"]["serving_hours"], h["H1"]["in_hours"]) == (2, 14.0, 1)
    assert h["H1"]["per_serving_hour"] == pytest.approx(1 / 14)
    # H2: 5-hour window, Monday to Saturday. Served 02-08 (Sat), 10-08 (a Sunday: not a service day) and 25-08 →
    # 2 serving days, 10 hours; K5 on the Sunday is outside → 2 inside → 0.2.
    assert (h["H2"]["days_served"], h["H2"]["serving_days"], h["H2"]["serving_hours"]) == (3, 2, 10.0)
    assert h["H2"]["per_serving_hour"] == pytest.approx(0.2)
    # H3: 6-hour window; served 20-08 and 31-08 → 12 hours; A3 at 09:30 is before 10:00 → 3 of 4 inside → 0.25.
    assert h["H3"]["serving_hours"] == 12.0 and h["H3"]["per_serving_hour"] == pytest.approx(0.25)
    assert h["H4"]["serving_hours"] == 0.0 and h["H4"]["per_serving_hour"] != h["H4"]["per_serving_hour"]


def test_dash504_abandoned_no_show_and_referral_rates(ctx):  # type: ignore[no-untyped-def]
    h = by_hub(ctx)
    assert h["H3"]["abandoned_pct"] == pytest.approx(25.0)  # X1 of 4
    assert h["H2"]["no_show_pct"] == pytest.approx(100 / 3)  # K5 of 3
    assert h["H1"]["referral_pct"] == pytest.approx(100 / 3) and h["H3"]["referral_pct"] == pytest.approx(25.0)
    assert h["H1"]["abandoned_pct"] == 0.0 and h["H1"]["no_show_pct"] == 0.0


def test_dash505_doctors_serving_per_day(ctx):  # type: ignore[no-untyped-def]
    h = by_hub(ctx)
    # H1: 30-08 doc-a and doc-b (2), 31-08 doc-a (1) → 1.5. H2: one doctor on each of 3 days → 1.0.
    # H3: 20-08 doc-e (1), 31-08 doc-e and doc-f (2) → 1.5.
    assert (h["H1"]["doctors_per_day"], h["H2"]["doctors_per_day"], h["H3"]["doctors_per_day"]) == (1.5, 1.0, 1.5)


def test_dash506_capacity_ranks_load_against_own_spoke_count(ctx):  # type: ignore[no-untyped-def]
    frame = hubs.hub_load(ctx, AUGUST, FULL)
    assert list(frame["facility_id"]) == ["H3", "H2", "H1", "H4"]  # 0.25, 0.2, 1/14, none
    assert list(frame["load_rank"].astype("float").fillna(0).astype(int)) == [1, 2, 3, 0]
    h = by_hub(ctx)
    # H3 is assigned S5, S6, S7 (S8 was moved to Patna's H4); H4 has S9 and S8.
    assert (h["H3"]["spokes_assigned"], h["H4"]["spokes_assigned"], h["H1"]["spokes_assigned"]) == (3, 2, 2)
    assert h["H3"]["per_assigned_spoke"] == pytest.approx(4 / 3)
    # H2 answered its own S3 and Patna's S9 (a distinct count: its own query, for the CSV of hub load).
    served = dict(zip(*hubs.spokes_served(ctx, AUGUST, FULL).to_dict("list").values(), strict=True))
    assert served["H2"] == 2 and "H4" not in served
    table = hubs.hubs_table(ctx, AUGUST, FULL, {}, "en").set_index("facility_id")
    assert (table.loc["H2", "spokes_served"], table.loc["H4", "spokes_served"]) == (2, 0)


def test_dash507_pooled_totals(ctx):  # type: ignore[no-untyped-def]
    totals = hubs.hub_totals(hubs.hub_load(ctx, AUGUST, FULL), k=1)
    assert (totals["hubs"], totals["hubs_serving"], totals["consultations"]) == (4, 3, 10)
    # Inside the hours 1 + 2 + 3 = 6 over 14 + 10 + 12 = 36 serving hours.
    assert totals["per_serving_hour"] == pytest.approx(6 / 36)
    # Waits 1, 2, 3, 7, 12, 20, 25, 40, 50: p50 rank 4.5 lies half-way through [10,15) → 12.5; p90 rank 8.1 lies
    # 0.1 through [45,60) → 46.5.
    assert totals["wait_p50"] == pytest.approx(12.5) and totals["wait_p90"] == pytest.approx(46.5)
    assert totals["abandoned_pct"] == pytest.approx(10.0) and totals["no_show_pct"] == pytest.approx(10.0)
    # Doctor-days 3 + 3 + 3 over 2 + 3 + 2 days served.
    assert totals["doctors_per_day"] == pytest.approx(9 / 7)
    # Service days not served: H1 30 − 2, H2 25 − 2, H3 30 − 2, H4 30.
    assert totals["missed_days"] == 109
    assert totals["n_outside_hours"] == 4 and totals["outside_pct"] == pytest.approx(40.0)


def test_dash508_outside_hours_and_days_not_served(ctx):  # type: ignore[no-untyped-def]
    h = by_hub(ctx)
    assert (h["H1"]["n_outside_hours"], h["H2"]["n_outside_hours"], h["H3"]["n_outside_hours"]) == (2, 1, 1)
    assert (h["H1"]["missed_days"], h["H2"]["missed_days"], h["H3"]["missed_days"], h["H4"]["missed_days"]) == (
        28, 23, 28, 30)
    # H2 served Saturday 02-08; Sunday 03-08 is no service day; Monday 04-08 is the first day it failed to serve.
    assert h["H2"]["missed_dates"].startswith("04-08-2025, 05-08-2025")
    assert "10-08-2025" not in h["H2"]["missed_dates"] and h["H2"]["missed_dates"].endswith(" …")
    table = hubs.service_table(ctx, AUGUST, FULL, {}, "en")
    assert list(table["facility_id"])[0] == "H4"  # most days not served first
    assert table.loc[table["facility_id"] == "H2", "service_days"].item() == "Mon, Tue, Wed, Thu, Fri, Sat"
    assert table.loc[table["facility_id"] == "H1", "service_hours"].item() == "09:00–16:00"


def test_dash523_days_served_and_the_dates_missed(ctx):  # type: ignore[no-untyped-def]
    # Days served come summed per hub; the dates are read only for hubs with a missed day or a weekday schedule.
    h = by_hub(ctx)
    assert (h["H1"]["days_served"], h["H1"]["serving_days"]) == (2, 2)
    assert h["H1"]["missed_dates"].startswith("02-08-2025, 03-08-2025") and "30-08-2025" not in h["H1"]["missed_dates"]
    assert (h["H4"]["days_served"], h["H4"]["serving_days"]) == (0, 0) and pd.isna(h["H4"]["doctors_per_day"])
    assert h["H4"]["missed_dates"].startswith("02-08-2025, 03-08-2025") and h["H4"]["missed_dates"].endswith(" …")
    # H2 answered on Sunday 10-08, not one of its service days: a day served, not a serving day, nothing missed.
    sunday = by_hub(ctx, Filter(date(2025, 8, 10), date(2025, 8, 10)))["H2"]
    assert (sunday["days_served"], sunday["serving_days"], sunday["scheduled_days"], sunday["missed_days"],
            sunday["missed_dates"]) == (1, 0, 0, 0, "")
    # H1 served both days of 30-31 August: nothing missed, no dates.
    weekend = by_hub(ctx, Filter(date(2025, 8, 30), date(2025, 8, 31)))["H1"]
    assert (weekend["serving_days"], weekend["missed_days"], weekend["missed_dates"]) == (2, 0, "")


def test_dash509_mode_filter_keeps_serving_days(ctx):  # type: ignore[no-untyped-def]
    h = by_hub(ctx, AUGUST.with_(modes=("OPD",)))
    # OPD at H2: P2 and K4, both inside the hours; serving days come from any consultation → still 10 hours.
    assert h["H2"]["consultations"] == 2 and h["H2"]["per_serving_hour"] == pytest.approx(0.2)
    # OPD at H3: only A3, outside the hours → 0 per serving hour.
    assert h["H3"]["consultations"] == 1 and h["H3"]["per_serving_hour"] == 0.0


def test_dash510_channel_and_specialty_mix(ctx):  # type: ignore[no-untyped-def]
    channels = hubs.channel_mix(hubs.hub_load(ctx, AUGUST, FULL)).set_index("channel")
    assert channels.loc["video", "consultations"] == 8 and channels.loc["audio", "share_pct"] == pytest.approx(10)
    assert channels.loc["chat", "consultations"] == 1  # P2
    mix = hubs.specialty_mix(ctx, AUGUST, FULL)
    assert mix.iloc[0]["specialty_code"] == "GEN" and mix.iloc[0]["consultations"] == 6
    assert mix.iloc[0]["referral_pct"] == pytest.approx(100 / 6)  # K2
    assert set(mix["specialty_code"]) == {"GEN", "PED", "OBG", "DERM", "ENT"} and int(mix["consultations"].sum()) == 10


def test_dash511_hour_by_weekday(ctx):  # type: ignore[no-untyped-def]
    cells = hubs.hour_weekday(ctx, AUGUST, FULL)
    assert len(cells) == 7 * 24 and int(cells["consultations"].sum()) == 10
    cell = cells.set_index(["weekday", "hour"])["consultations"]
    assert cell[(6, 10)] == 2  # Sundays 10:00–10:59: K5 (10-08) and A1 (31-08)
    assert (cell[(5, 17)], cell[(6, 8)], cell[(0, 11)], cell[(2, 9)]) == (1, 1, 1, 1)
    opd = hubs.hour_weekday(ctx, AUGUST.with_(modes=("OPD",)), FULL).set_index(["weekday", "hour"])["consultations"]
    assert int(opd.sum()) == 3 and opd[(0, 11)] == 1 and opd[(5, 13)] == 1 and opd[(2, 9)] == 1
    windows = hubs.service_windows(ctx, AUGUST, FULL)
    assert windows.iloc[0][["service_start", "service_end", "hubs"]].tolist() == ["09:00", "16:00", 2]


def test_dash512_spoke_activity(ctx):  # type: ignore[no-untyped-def]
    spokes = hubs.spoke_activity(ctx, AUGUST, FULL).set_index("facility_id")
    assert spokes.loc["S1", ["consultations", "active_days", "per_active_day", "days_since"]].tolist() == [2, 1, 2.0, 1]
    assert spokes.loc["S3", ["consultations", "active_days", "per_active_day", "days_since"]].tolist() == [2, 2, 1.0, 6]
    assert spokes.loc["S9", "last_consultation"] == date(2025, 8, 2) and spokes.loc["S9", "days_since"] == 29
    assert spokes.loc["S4", "consultations"] == 0 and spokes.loc["S4", "last_consultation"] is None
    assert spokes.loc["S1", "cho_names"] == "Asha Kumari" and spokes.loc["S6", "cho_names"] == ""
    # The last consultation ignores the mode filter; the period's counts do not.
    opd = hubs.spoke_activity(ctx, AUGUST.with_(modes=("OPD",)), FULL).set_index("facility_id")
    assert opd.loc["S3", "consultations"] == 1 and opd.loc["S3", "last_consultation"] == date(2025, 8, 25)


def test_dash524_no_spoke_under_a_mode_filter(ctx):  # type: ignore[no-untyped-def]
    # A mode filter reads the spokes through spoke_activity (the running totals keep no mode); with no spoke under
    # the filter that must be an empty view, not an error (it once failed to join an empty CHO list).
    nothing = AUGUST.with_(modes=("OPD",), facility_types=("DH",))
    assert hubs.spoke_activity(ctx, nothing, FULL).empty
    overview = hubs.spoke_overview(ctx, nothing, FULL, 7, "en")
    assert overview.counts["spokes"] == 0 and overview.top == [] and overview.idle == []


def test_dash513_idle_spokes_7_and_30_days(ctx):  # type: ignore[no-untyped-def]
    spokes = hubs.spoke_activity(ctx, AUGUST, FULL)
    # Never: S8 (HSC Hatta), S4 (HSC Kochadhaman), by name; then S9 (29 days), S7 (11 days). S3 (6 days) is not.
    assert list(hubs.idle_spokes(spokes, 7)["facility_id"]) == ["S8", "S4", "S9", "S7"]
    # S9's 02-08 is the first day of the 30 days ending 31-08: not idle for 30 days.
    assert list(hubs.idle_spokes(spokes, 30)["facility_id"]) == ["S8", "S4"]
    table = hubs.idle_table(ctx, AUGUST, FULL, {"idle": "7"}, "en").set_index("facility_id")
    assert table.loc["S4", ["block", "cho", "hub_id"]].tolist() == ["Kochadhaman", "Sunita Kumari", "H2"]
    assert table.loc["S7", "days_since"] == 11 and table.loc["S8", "cho"] == ""
    assert hubs.idle_window({"idle": "30"}) == 30 and hubs.idle_window({"idle": "5"}) == 7


def test_dash514_spokes_assigned_across_a_district_border(ctx):  # type: ignore[no-untyped-def]
    table = hubs.cross_table(ctx, AUGUST, FULL, {}, "en")
    assert table[["facility_id", "hub_id", "hub_district"]].values.tolist() == [["S8", "H4", "PATNA"]]


def test_dash515_network_of_a_district(ctx):  # type: ignore[no-untyped-def]
    net = hubs.network(ctx, AUGUST, FULL, KISHANGANJ)
    pairs = {(r.hub_id, r.spoke_id): (r.consultations, r.assigned) for r in net.pairs.itertuples()}
    # Patna's S9 consulted Kishanganj's district hospital once, though assigned to H4.
    assert pairs == {("H1", "S1"): (2, True), ("H1", "S2"): (1, True), ("H2", "S3"): (2, True),
                     ("H2", "S9"): (1, False)}
    nodes = net.nodes.set_index("facility_id")
    assert set(nodes.index) == {"H1", "H2", "S1", "S2", "S3", "S4", "S9"}
    assert not nodes.loc["S9", "in_district"] and nodes.loc["S4", "consultations"] == 0
    assert nodes.loc["H2", "consultations"] == 3
    table = hubs.network_table(ctx, AUGUST.with_(district_lgds=(KISHANGANJ,)), FULL, {}, "en")
    assert table.loc[table["spoke_id"] == "S9", ["hub", "spoke_district", "assigned"]].values.tolist() == [
        ["DH Kishanganj", "PATNA", "no"]]
    assert hubs.network_table(ctx, AUGUST, FULL, {}, "en").empty  # no district chosen


def test_dash516_scope_in_sql(ctx):  # type: ignore[no-untyped-def]
    kaimur = Scope.districts([KAIMUR])
    assert list(hubs.hub_load(ctx, AUGUST, kaimur)["facility_id"]) == ["H3"]
    assert sorted(hubs.spoke_activity(ctx, AUGUST, kaimur)["facility_id"]) == ["S5", "S6", "S7", "S8"]
    assert hubs.network(ctx, AUGUST, kaimur, KISHANGANJ).empty
    # Asking for a district outside the scope gives nothing.
    assert hubs.hub_load(ctx, AUGUST.with_(district_lgds=(KISHANGANJ,)), kaimur).empty
    # A hub's load is the hub's: Kishanganj's H2 counts the consultation it answered for Patna's S9.
    assert by_hub(ctx, AUGUST, Scope.districts([KISHANGANJ]))["H2"]["consultations"] == 3
    # Patna's user sees S9's consultation with H2 in Patna's network, but not Kishanganj's hubs.
    patna = Scope.districts([PATNA])
    assert list(hubs.network(ctx, AUGUST, patna, PATNA).pairs["hub_id"]) == ["H2"]
    assert list(hubs.hub_load(ctx, AUGUST, patna)["facility_id"]) == ["H4"]
    assert hubs.hub_load(ctx, AUGUST, Scope()).empty  # deny by default


def test_dash517_empty_period(ctx):  # type: ignore[no-untyped-def]
    empty = Filter(date(2024, 1, 1), date(2024, 1, 31))
    frame = hubs.hub_load(ctx, empty, FULL)
    # Every scheduled day is a day not served: 31 for H1, H3, H4; 27 for H2 (January 2024 has four Sundays).
    assert len(frame) == 4 and int(frame["consultations"].sum()) == 0 and int(frame["missed_days"].sum()) == 120
    totals = hubs.hub_totals(frame)
    assert totals["per_serving_hour"] is None and totals["wait_p50"] is None
    assert int(hubs.hour_weekday(ctx, empty, FULL)["consultations"].sum()) == 0
    assert hubs.specialty_mix(ctx, empty, FULL).empty
    assert hubs.network(ctx, empty, FULL, KISHANGANJ).pairs.empty


def test_dash518_tables_and_labels(ctx):  # type: ignore[no-untyped-def]
    load = hubs.hubs_table(ctx, AUGUST, FULL, {}, "hi")
    assert list(load.columns) == [c.key for c in hubs.HUB_COLUMNS]
    assert load.iloc[0]["district"] == "कैमूर (भभुआ)"
    assert hubs.service_days_text("1111111", "hi") == "हर दिन"
    assert list(hubs.channel_table(ctx, AUGUST, FULL, {}, "hi")["channel"]) == ["वीडियो", "ऑडियो", "चैट"]
    assert hubs.heatmap_table(ctx, AUGUST, FULL, {}, "en").iloc[0].tolist() == ["Monday", 0, 0]
    assert set(hubs.TABLES) >= {"hubs-load", "hubs-service", "hubs-idle-spokes", "hubs-network"}


def test_dash519_values_are_bound_parameters(wh):  # type: ignore[no-untyped-def]
    """Every value of the filter and the scope reaches the database as a bound parameter, never in the SQL."""
    engine = reader_engine(wh)
    seen: list[tuple[str, object]] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, params, context, many: seen.append((statement, params)))
    ctx = DataContext(engine)
    f = AUGUST.with_(district_lgds=(KISHANGANJ,), modes=("OPD",), specialties=("GEN",))
    scope = Scope.districts([KISHANGANJ, 987654])
    hubs.hub_load(ctx, f, scope)
    hubs.spoke_activity(ctx, f, scope)
    hubs.specialty_mix(ctx, f, scope)
    hubs.hour_weekday(ctx, f, scope)
    hubs.network(ctx, f, scope, KISHANGANJ)
    assert len(seen) >= 10
    for statement, _ in seen:
        assert "987654" not in statement and "'OPD'" not in statement and "2025-08" not in statement, statement
    assert any(987654 in (params if isinstance(params, tuple | list) else tuple(params.values()))
               for _, params in seen)


def test_dash520_results_are_cached(wh):  # type: ignore[no-untyped-def]
    class Memory(dict):  # type: ignore[type-arg]
        def set(self, key, value, timeout=None):  # type: ignore[no-untyped-def]
            self[key] = value

    engine = reader_engine(wh)
    calls: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: calls.append(args[2]))
    ctx = DataContext(engine, Memory())
    first = hubs.hub_load(ctx, AUGUST, FULL)
    count = len(calls)
    second = hubs.hub_load(ctx, AUGUST, FULL)
    assert len(calls) == count and first.equals(second)
    hubs.hub_load(ctx, AUGUST, Scope.districts([KAIMUR]))  # another scope: another entry
    assert len(calls) > count


def test_dash521_grid_records():  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"id": ["a", "b", "c"], "n": pd.array([1, None, 3], dtype="Int64"),
                          "x": [1.5, np.nan, 2.0], "day": [date(2025, 8, 1), None, date(2025, 8, 3)]})
    assert hubs.grid_records(frame) == [
        {"id": "a", "n": 1, "x": 1.5, "day": "2025-08-01"},
        {"id": "b", "n": None, "x": None, "day": None},
        {"id": "c", "n": 3, "x": 2.0, "day": "2025-08-03"},
    ]
    assert [r["id"] for r in hubs.grid_records(frame, 2)] == ["a", "b"]
    assert hubs.grid_records(frame.iloc[0:0]) == []
    assert list(hubs.names(pd.DataFrame({"name_en": ["X", "Y"], "name_hi": ["एक्स", None]}), "hi")) == ["एक्स", "Y"]


def test_dash522_idle_counts_only_spokes_open_for_the_whole_window(tmp_path):  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from etl.warehouse.schema import dim_facility

    warehouse = build_pages4_warehouse(tmp_path)
    with warehouse.engine.begin() as conn:
        # S4 (never consulted) opened on 28-08: three days before the period's end.
        conn.execute(update(dim_facility).where(dim_facility.c.facility_id == "S4")
                     .values(operational_since=date(2025, 8, 28)))
        # S8 (never consulted) opened on 20-08: open for the last 7 days, not for the last 30.
        conn.execute(update(dim_facility).where(dim_facility.c.facility_id == "S8")
                     .values(operational_since=date(2025, 8, 20)))
    spokes = hubs.spoke_activity(DataContext(reader_engine(warehouse)), AUGUST, FULL)
    assert list(hubs.idle_spokes(spokes, 7)["facility_id"]) == ["S8", "S9", "S7"]
    assert list(hubs.idle_spokes(spokes, 30)["facility_id"]) == []
    warehouse.drop()


def test_dash525_a_spoke_with_two_chos_lists_both_by_name(tmp_path):  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from etl.warehouse.schema import dim_cho

    warehouse = build_pages4_warehouse(tmp_path)
    with warehouse.engine.begin() as conn:
        conn.execute(insert(dim_cho), [{"cho_id": "C9", "name": "Anita Devi", "facility_id": "S1",
                                        "district_lgd": KISHANGANJ, "training_modules": 3, "active": True}])
    ctx = DataContext(reader_engine(warehouse))
    # The grid rows (one row per spoke and CHO in the query, folded here) and the CSV frame agree.
    rows = hubs.spoke_overview(ctx, AUGUST, FULL, 7, "en").top
    spokes = hubs.spoke_activity(ctx, AUGUST, FULL).set_index("facility_id")
    assert sorted(r["facility_id"] for r in rows) == sorted(spokes.index)  # each spoke once
    top = {r["facility_id"]: r for r in rows}
    assert top["S1"]["cho"] == "Anita Devi, Asha Kumari" and top["S1"]["consultations"] == 2
    assert spokes.loc["S1", "cho_names"] == "Anita Devi, Asha Kumari"
    warehouse.drop()


def test_dash540_small_outcome_splits_are_withheld_with_the_default_k(wh):  # type: ignore[no-untyped-def]
    h = {r["facility_id"]: r for r in hubs.hub_load(DataContext(reader_engine(wh)), AUGUST, FULL).to_dict("records")}
    # H3: 1 abandoned of 4 — both sides of the split (1 and 3) are below k=5, so the rate is withheld.
    assert pd.isna(h["H3"]["abandoned_pct"])
    assert pd.isna(h["H1"]["referral_pct"]) and h["H1"]["consultations"] == 3  # operational counts stay
    totals = hubs.hub_totals(pd.DataFrame(list(h.values())))
    assert totals["abandoned_pct"] is None and totals["consultations"] == 10


def test_dash527_names_fall_back_to_english_and_blank():  # type: ignore[no-untyped-def]
    import numpy as np

    from dashboard.data.hubs import names

    frame = pd.DataFrame({"name_en": ["Dighalbank", None, 203, np.nan], "name_hi": ["दिघलबैंक", "", None, "कोचाधामन"]},
                         index=[7, 8, 9, 10])
    assert names(frame, "en").tolist() == ["Dighalbank", "", "203", ""]
    hindi = names(frame, "hi")
    assert hindi.tolist() == ["दिघलबैंक", "", "203", "कोचाधामन"] and list(hindi.index) == [7, 8, 9, 10]
    assert names(frame.iloc[0:0], "hi").empty
