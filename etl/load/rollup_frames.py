"""The rollups of a batch computed in pandas, for the common load: consultations none of which was stored before.

When no rollup has a row for any day of a batch together with its places, no consultation of those keys was loaded
before (the rollups are refreshed in the same transaction as the facts they count), so the aggregate of the batch
*is* each rollup row, and it can be inserted as it stands instead of being read back from the facts through the
indexes (``etl.load.rollups.refresh_touched``); where a key is stored, the batch's sums are added to it
(``etl.load.writers.merge_batch_rollups``). A corrected file takes the SQL refresh. Both paths give the same rows
(``tests/unit/test_etl_rollup_frames.py``).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from etl.load.rollups import DISTRICT_KEYS, FACILITY_KEYS, HUB_MODE_KEYS, HUB_SPECIALTY_KEYS, MEASURE_NAMES
from etl.warehouse.histogram import WAIT_BUCKET_COLUMNS, WAIT_EDGES
from etl.warehouse.schema import (
    AGE_BANDS,
    CHANNELS,
    HUB_MEASURES,
    OUTCOMES,
    SEXES,
    rollup_cho_day,
    rollup_district_day,
    rollup_facility_day,
    rollup_hub_day,
    rollup_hub_hour,
    rollup_hub_mode_day,
    rollup_hub_specialty_day,
)

ROLLUP_TABLES = (rollup_facility_day, rollup_district_day, rollup_cho_day, rollup_hub_hour, rollup_hub_day,
                 rollup_hub_mode_day, rollup_hub_specialty_day)


def days_of(rows: pd.DataFrame) -> list[date]:
    return sorted({stamp.date() for stamp in pd.to_datetime(rows["day"]).dropna().unique()})


def _measures(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per consultation with the 0/1 flags and sums the rollups add up (``MEASURE_NAMES``, same order)."""
    wait = pd.to_numeric(rows["wait_minutes"], errors="coerce").astype(float).to_numpy()
    duration = pd.to_numeric(rows["duration_minutes"], errors="coerce").astype(float).to_numpy()
    age = pd.to_numeric(rows["age"], errors="coerce").astype(float).to_numpy()
    columns: dict[str, np.ndarray] = {"consultations": np.ones(len(rows), dtype=np.int64)}

    def flag(name: str, condition: np.ndarray) -> None:
        columns[name] = condition.astype(np.int64)

    # Text columns compared as category codes: one pass over the strings per column, not one per value.
    outcome = pd.Categorical(rows["outcome"], categories=OUTCOMES).codes
    sex = pd.Categorical(rows["sex"], categories=SEXES).codes
    channel = pd.Categorical(rows["channel"], categories=CHANNELS).codes
    for i, o in enumerate(OUTCOMES):
        flag(f"n_{o}", outcome == i)
    for i, s in enumerate(SEXES):
        flag(f"n_sex_{s.lower()}", sex == i)
    for band, lo, hi in AGE_BANDS:
        flag(f"n_{band}", (age >= lo) & (age <= hi))
    for i, c in enumerate(CHANNELS):
        flag(f"n_{c}", channel == i)
    flag("n_outside_hours", rows["outside_hours"].fillna(False).astype(bool).to_numpy())
    columns["wait_sum"] = np.where(np.isnan(wait), 0.0, wait)
    flag("wait_n", ~np.isnan(wait))
    columns["duration_sum"] = np.where(np.isnan(duration), 0.0, duration)
    flag("duration_n", ~np.isnan(duration))
    uppers = list(WAIT_EDGES[1:]) + [None]
    with np.errstate(invalid="ignore"):
        for name, lower, upper in zip(WAIT_BUCKET_COLUMNS, WAIT_EDGES, uppers, strict=True):
            flag(name, (wait >= lower) if upper is None else (wait >= lower) & (wait < upper))
    assert tuple(columns) == MEASURE_NAMES
    return pd.DataFrame(columns, index=rows.index)


def batch_rollups(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every rollup's rows for ``rows`` (fact rows as ``write_consultations`` writes them), by table name."""
    facts = rows.copy()
    facts["day"] = pd.to_datetime(facts["day"])
    measures = _measures(facts)
    keyed = pd.concat([facts[list(FACILITY_KEYS)], facts[["district_lgd", "block_lgd", "hub_district_lgd"]]
                       .apply(pd.to_numeric, errors="coerce"), measures], axis=1)
    by_facility = keyed.groupby(list(FACILITY_KEYS), sort=False, dropna=False)
    facility = pd.concat([by_facility[["district_lgd", "block_lgd", "hub_district_lgd"]].max(),
                          by_facility[list(MEASURE_NAMES)].sum()], axis=1).reset_index()
    district = (facility.groupby(list(DISTRICT_KEYS), sort=False, dropna=False)[list(MEASURE_NAMES)].sum()
                .reset_index())
    hub_load = {}
    for table, keys in ((rollup_hub_mode_day, HUB_MODE_KEYS), (rollup_hub_specialty_day, HUB_SPECIALTY_KEYS)):
        by_hub = facility.groupby(list(keys), sort=False, dropna=False)
        hub_load[table.name] = pd.concat([by_hub[["hub_district_lgd"]].max(), by_hub[list(HUB_MEASURES)].sum()],
                                         axis=1).reset_index()
    # The greatest spoke id per CHO and day (SQL's max) by sorting: a groupby max of text runs in Python per group.
    with_cho = facts[facts["cho_id"].notna()].sort_values(["day", "cho_id", "spoke_id"], kind="stable")
    cho = (with_cho.assign(district_lgd=pd.to_numeric(with_cho["district_lgd"], errors="coerce"))
           .groupby(["day", "cho_id"], sort=False)
           .agg(district_lgd=("district_lgd", "max"), consultations=("consultation_id", "size")).reset_index())
    greatest_spoke = with_cho.drop_duplicates(["day", "cho_id"], keep="last")[["day", "cho_id", "spoke_id"]]
    cho = cho.merge(greatest_spoke.rename(columns={"spoke_id": "facility_id"}), on=["day", "cho_id"], how="left")
    hubs = facts.assign(hub_district_lgd=pd.to_numeric(facts["hub_district_lgd"], errors="coerce"))
    hub_hour = (hubs.groupby(["day", "hub_id", "hour", "mode"], sort=False, dropna=False)
                .agg(hub_district_lgd=("hub_district_lgd", "max"), consultations=("consultation_id", "size"))
                .reset_index())
    hub_day = (hubs.groupby(["day", "hub_id"], sort=False, dropna=False)
               .agg(hub_district_lgd=("hub_district_lgd", "max"), consultations=("consultation_id", "size"),
                    doctors=("doctor_token", "nunique")).reset_index())
    return {
        rollup_facility_day.name: facility,
        rollup_district_day.name: district,
        rollup_cho_day.name: cho,
        rollup_hub_hour.name: hub_hour,
        rollup_hub_day.name: hub_day,
        **hub_load,
    }
