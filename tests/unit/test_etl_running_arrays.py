"""Running totals built in arrays (etl.load.running_arrays) against a plain per-key, per-day reference."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.load.running_arrays import running_rows

FIRST = date(2025, 8, 1)
KEYS = ["hub_id", "hour"]
MEASURES = ["consultations", "female"]


def _reference(daily: pd.DataFrame, base: pd.DataFrame | None, first: date, last: date,
               activity: bool) -> pd.DataFrame:
    """Per key, one row a day from its first day: base plus the sums so far, counted the slow, obvious way."""
    state: dict[tuple, dict] = {}
    if base is not None:
        for row in base.to_dict("records"):
            state[(row["hub_id"], row["hour"])] = {
                **{m: row[m] for m in MEASURES},
                "active_days": row.get("active_days", 0),
                "last_day": date.fromisoformat(row["last_day"]) if pd.notna(row["last_day"]) else None,
            }
    by_day: dict[date, list[dict]] = {}
    for row in daily.to_dict("records"):
        by_day.setdefault(date.fromisoformat(row["day"]), []).append(row)
    out = []
    day = first
    while day <= last:
        for row in by_day.get(day, []):
            key = (row["hub_id"], row["hour"])
            entry = state.setdefault(key, {**{m: 0 for m in MEASURES}, "active_days": 0, "last_day": None})
            for m in MEASURES:
                entry[m] += row[m]
            entry["active_days"] += 1
            entry["last_day"] = day
        for key in sorted(state):
            entry = state[key]
            record = {"day": day, "hub_id": key[0], "hour": key[1], **{m: entry[m] for m in MEASURES}}
            if activity:
                record["active_days"] = entry["active_days"]
                record["last_day"] = entry["last_day"]
            out.append(record)
        day += timedelta(days=1)
    return pd.DataFrame(out)


def _built(daily: pd.DataFrame, base: pd.DataFrame | None, first: date, last: date, activity: bool,
           block_days: int) -> pd.DataFrame:
    blocks = list(running_rows(daily, base, KEYS, MEASURES, activity, first, last, block_days=block_days))
    if not blocks:
        return pd.DataFrame()
    built = pd.concat(blocks, ignore_index=True)
    built["day"] = [pd.Timestamp(d).date() for d in built["day"]]
    if activity:
        built["last_day"] = [None if pd.isna(d) else pd.Timestamp(d).date() for d in built["last_day"]]
    return built


daily_rows = st.lists(
    st.tuples(st.sampled_from(["H02", "H01", "H10"]), st.integers(0, 3), st.integers(0, 9),
              st.integers(1, 40), st.integers(0, 40)),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(rows=daily_rows, span=st.integers(1, 9), block_days=st.integers(1, 4), activity=st.booleans(),
       with_base=st.booleans())
def test_etl065_running_rows_match_per_key_sums(rows: list[tuple], span: int, block_days: int, activity: bool,
                                                with_base: bool) -> None:
    """Every key has a row on each day from its first (from the first day when it has a base row), holding its base
    plus the sums so far, the days it was active and the last of them; across blocks of any width, in (day, key)
    order."""
    last = FIRST + timedelta(days=span - 1)
    seen = {}
    for hub, hour, offset, consultations, female in rows:
        if offset < span:  # the daily sums hold one row per key and day, inside the range
            seen[(hub, hour, offset)] = (consultations, min(female, consultations))
    daily = pd.DataFrame(
        [{"hub_id": hub, "hour": hour, "day": (FIRST + timedelta(days=offset)).isoformat(),
          "consultations": c, "female": f} for (hub, hour, offset), (c, f) in seen.items()],
        columns=["hub_id", "hour", "day", *MEASURES])
    base = None
    if with_base:
        base = pd.DataFrame([
            {"hub_id": "H01", "hour": 2, "consultations": 7, "female": 3, "active_days": 4,
             "last_day": "2025-07-20"},
            {"hub_id": "H05", "hour": 0, "consultations": 1, "female": 0, "active_days": 1, "last_day": None},
        ])
    expected = _reference(daily, base, FIRST, last, activity)
    built = _built(daily, base, FIRST, last, activity, block_days)
    if expected.empty:
        assert built.empty
        return
    assert list(built.columns) == list(expected.columns)
    assert built.to_dict("records") == expected.to_dict("records")
