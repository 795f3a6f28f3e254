"""A batch's rollups computed from its fact rows (etl.load.rollup_frames) against a plain row-by-row reference."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.load.rollup_frames import batch_rollups
from etl.load.rollups import MEASURE_NAMES
from etl.warehouse.histogram import WAIT_BUCKET_COLUMNS, WAIT_EDGES
from etl.warehouse.schema import AGE_BANDS, CHANNELS, HUB_MEASURES, MODES, OUTCOMES, SEXES

FIRST_DAY = datetime(2025, 8, 1)
# Places as the transform gives them: a spoke's district and block and a hub's district come from the facility
# master, so they follow the facility; a block or a hub's district may be unknown.
SPOKES = {"S1": (201, 11), "S2": (201, None), "S10": (202, 12), "S9": (202, 13)}
HUBS = {"H1": 201, "H2": None, "H10": 202}
SPECIALTIES = ("GEN", "OBG", "PED")

fact = st.fixed_dictionaries({
    "day": st.integers(0, 2),
    "hour": st.integers(8, 10),
    "spoke_id": st.sampled_from(sorted(SPOKES)),
    "hub_id": st.sampled_from(sorted(HUBS)),
    "cho_id": st.sampled_from([None, "C1", "C2", "C10"]),
    "doctor_token": st.sampled_from([None, "d1", "d2", "d3"]),
    "specialty_code": st.sampled_from(SPECIALTIES),
    "mode": st.sampled_from(MODES),
    "channel": st.sampled_from(CHANNELS),
    "outcome": st.sampled_from(OUTCOMES),
    "wait_minutes": st.one_of(st.none(), st.sampled_from([0.0, 1.9, 2.0, 7.3, 45.0, 179.9, 180.0, 250.5])),
    "duration_minutes": st.one_of(st.none(), st.floats(0, 30, allow_nan=False).map(lambda v: round(v, 2))),
    "age": st.sampled_from([0, 4, 5, 14, 15, 29, 30, 59, 60, 120]),
    "sex": st.sampled_from(SEXES),
    "outside_hours": st.booleans(),
})


def _facts(drawn: list[dict]) -> pd.DataFrame:
    """Fact rows with the column types the transform gives them (``etl.transform.datasets.consultations``)."""
    rows = pd.DataFrame(drawn)
    day = pd.Series([FIRST_DAY + timedelta(days=d) for d in rows["day"]], dtype="datetime64[us]")
    facts = pd.DataFrame({
        "consultation_id": [f"C{i}" for i in range(len(rows))],
        "started_at": day + pd.to_timedelta(rows["hour"], unit="h"),
        "day": day,
        "hour": rows["hour"].astype(int),
        "spoke_id": rows["spoke_id"].astype(object),
        "hub_id": rows["hub_id"].astype(object),
        "district_lgd": rows["spoke_id"].map(lambda s: SPOKES[s][0]).astype(int),
        "block_lgd": rows["spoke_id"].map(lambda s: SPOKES[s][1]).astype("Int64"),
        "hub_district_lgd": rows["hub_id"].map(HUBS).astype("Int64"),
        "cho_id": rows["cho_id"].astype(object),
        "doctor_token": rows["doctor_token"].astype(object),
        "specialty_code": rows["specialty_code"].astype("str"),
        "mode": rows["mode"].astype(object),
        "channel": rows["channel"].astype(object),
        "outcome": rows["outcome"].astype(object),
        "wait_minutes": rows["wait_minutes"].astype(float),
        "duration_minutes": rows["duration_minutes"].astype(float),
        "age": rows["age"].astype(int),
        "sex": rows["sex"].astype(object),
        "outside_hours": rows["outside_hours"].astype(bool),
    })
    facts.index = pd.RangeIndex(len(rows)) * 3 + 7  # labels that are not positions, as after the rules drop rows
    return facts


def _measures(r: dict) -> dict[str, float]:
    wait, duration = r["wait_minutes"], r["duration_minutes"]
    m: dict[str, float] = {"consultations": 1}
    m.update({f"n_{o}": int(r["outcome"] == o) for o in OUTCOMES})
    m.update({f"n_sex_{s.lower()}": int(r["sex"] == s) for s in SEXES})
    m.update({f"n_{band}": int(lo <= r["age"] <= hi) for band, lo, hi in AGE_BANDS})
    m.update({f"n_{c}": int(r["channel"] == c) for c in CHANNELS})
    m["n_outside_hours"] = int(r["outside_hours"])
    m["wait_sum"] = 0.0 if wait is None else wait
    m["wait_n"] = int(wait is not None)
    m["duration_sum"] = 0.0 if duration is None else duration
    m["duration_n"] = int(duration is not None)
    for i, name in enumerate(WAIT_BUCKET_COLUMNS):
        upper = WAIT_EDGES[i + 1] if i + 1 < len(WAIT_EDGES) else math.inf
        m[name] = int(wait is not None and WAIT_EDGES[i] <= wait < upper)
    assert tuple(m) == MEASURE_NAMES
    return m


def _greatest(*values: object) -> object:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _reference(drawn: list[dict]) -> dict[str, dict[tuple, dict]]:
    """Each rollup as {key: values}, one fact at a time."""
    out: dict[str, dict[tuple, dict]] = {name: {} for name in (
        "rollup_facility_day", "rollup_district_day", "rollup_cho_day", "rollup_hub_hour", "rollup_hub_day",
        "rollup_hub_mode_day", "rollup_hub_specialty_day")}
    doctors: dict[tuple, set] = {}

    def add(table: str, key: tuple, sums: dict, greatest: dict) -> None:
        entry = out[table].setdefault(key, {})
        for name, value in sums.items():
            entry[name] = entry.get(name, 0) + value
        for name, value in greatest.items():
            entry[name] = _greatest(entry.get(name), value)

    for r in drawn:
        day = (FIRST_DAY + timedelta(days=r["day"])).date()
        district, block = SPOKES[r["spoke_id"]]
        hub_district = HUBS[r["hub_id"]]
        m = _measures(r)
        hub_m = {name: m[name] for name in HUB_MEASURES}
        add("rollup_facility_day", (day, r["spoke_id"], r["hub_id"], r["mode"], r["specialty_code"]), m,
            {"district_lgd": district, "block_lgd": block, "hub_district_lgd": hub_district})
        add("rollup_district_day", (day, district, r["specialty_code"], r["mode"]), m, {})
        if r["cho_id"] is not None:
            add("rollup_cho_day", (day, r["cho_id"]), {"consultations": 1},
                {"district_lgd": district, "facility_id": r["spoke_id"]})
        add("rollup_hub_hour", (day, r["hub_id"], r["hour"], r["mode"]), {"consultations": 1},
            {"hub_district_lgd": hub_district})
        add("rollup_hub_day", (day, r["hub_id"]), {"consultations": 1}, {"hub_district_lgd": hub_district})
        doctors.setdefault((day, r["hub_id"]), set()).update({r["doctor_token"]} - {None})
        add("rollup_hub_mode_day", (day, r["hub_id"], r["mode"]), hub_m, {"hub_district_lgd": hub_district})
        add("rollup_hub_specialty_day", (day, r["hub_id"], r["mode"], r["specialty_code"]), hub_m,
            {"hub_district_lgd": hub_district})
    for key, names in doctors.items():
        out["rollup_hub_day"][key]["doctors"] = len(names)
    return out


KEYS = {
    "rollup_facility_day": ("day", "spoke_id", "hub_id", "mode", "specialty_code"),
    "rollup_district_day": ("day", "district_lgd", "specialty_code", "mode"),
    "rollup_cho_day": ("day", "cho_id"),
    "rollup_hub_hour": ("day", "hub_id", "hour", "mode"),
    "rollup_hub_day": ("day", "hub_id"),
    "rollup_hub_mode_day": ("day", "hub_id", "mode"),
    "rollup_hub_specialty_day": ("day", "hub_id", "mode", "specialty_code"),
}


def _plain(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_dicts(frame: pd.DataFrame, keys: tuple[str, ...]) -> dict[tuple, dict]:
    records = [{name: _plain(v) for name, v in row.items()} for row in frame.astype(object).to_dict("records")]
    out = {tuple(r[k] for k in keys): {n: v for n, v in r.items() if n not in keys} for r in records}
    assert len(out) == len(records), "a key appears twice"
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(fact, min_size=1, max_size=60))
def test_etl069_batch_rollups_equal_a_row_by_row_reference(drawn: list[dict]) -> None:
    frames = batch_rollups(_facts(drawn))
    expected = _reference(drawn)
    assert set(frames) == set(expected)
    for table, keys in KEYS.items():
        got = _as_dicts(frames[table], keys)
        assert set(got) == set(expected[table]), table
        for key, want in expected[table].items():
            assert set(got[key]) == set(want), (table, key)
            for name, value in want.items():
                if isinstance(value, float):
                    assert math.isclose(got[key][name], value, rel_tol=1e-12, abs_tol=1e-9), (table, key, name)
                else:
                    assert got[key][name] == value, (table, key, name, got[key][name], value)


def test_etl069_rollup_rows_come_in_the_order_of_their_first_consultation() -> None:
    """Facility rows in the order their key first appears among the facts; CHO rows by day, then CHO id."""
    base = {"hour": 9, "hub_id": "H1", "doctor_token": "d1", "specialty_code": "GEN", "mode": "OPD",
            "channel": "video", "outcome": "completed", "wait_minutes": 5.0, "duration_minutes": 6.0, "age": 30,
            "sex": "F", "outside_hours": False}
    drawn = [
        {**base, "day": 1, "spoke_id": "S9", "cho_id": "C2"},
        {**base, "day": 0, "spoke_id": "S10", "cho_id": "C10"},
        {**base, "day": 1, "spoke_id": "S1", "cho_id": "C1"},
        {**base, "day": 0, "spoke_id": "S2", "cho_id": "C10"},
    ]
    frames = batch_rollups(_facts(drawn))
    facility = frames["rollup_facility_day"]
    assert list(facility["spoke_id"].drop_duplicates()) == ["S9", "S10", "S1", "S2"]
    cho = frames["rollup_cho_day"]
    assert [(d.day, c) for d, c in zip(cho["day"], cho["cho_id"], strict=True)] == [
        (1, "C10"), (2, "C1"), (2, "C2")]
    assert list(cho["facility_id"]) == ["S2", "S1", "S9"]  # "S2" > "S10" as text, as SQL's max compares them


def test_etl069_a_cho_row_needs_a_day_and_names_no_spoke_it_does_not_know() -> None:
    """Rows the transform never gives (no day, no spoke id), kept out of the CHO rollup as SQL's GROUP BY and max
    would: no row without a day, and no spoke id when none is known."""
    base = {"hour": 9, "hub_id": "H1", "doctor_token": "d1", "specialty_code": "GEN", "mode": "OPD",
            "channel": "video", "outcome": "completed", "wait_minutes": 5.0, "duration_minutes": 6.0, "age": 30,
            "sex": "F", "outside_hours": False}
    facts = _facts([{**base, "day": 0, "spoke_id": "S1", "cho_id": "C1"},
                    {**base, "day": 1, "spoke_id": "S1", "cho_id": "C2"},
                    {**base, "day": 2, "spoke_id": "S1", "cho_id": "C3"}])
    facts.loc[facts.index[1], "day"] = pd.NaT
    facts["spoke_id"] = facts["spoke_id"].astype(object)
    facts.loc[facts.index[2], "spoke_id"] = None
    cho = batch_rollups(facts)["rollup_cho_day"]
    assert list(cho["cho_id"]) == ["C1", "C3"]
    assert [None if pd.isna(v) else v for v in cho["facility_id"]] == ["S1", None]
