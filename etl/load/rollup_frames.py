"""The rollups of a batch computed in memory, for the common load: consultations none of which was stored before.

When no rollup has a row for any day of a batch together with its places, no consultation of those keys was loaded
before (the rollups are refreshed in the same transaction as the facts they count), so the aggregate of the batch
*is* each rollup row, and it can be inserted as it stands instead of being read back from the facts through the
indexes (``etl.load.rollups.refresh_touched``); where a key is stored, the batch's sums are added to it
(``etl.load.writers.merge_batch_rollups``). A corrected file takes the SQL refresh. Both paths give the same rows
(``test_etl039``); ``test_etl069`` checks this one against a row-by-row reference.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def _measures(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per consultation, the flags the rollups count and the values they add up (``MEASURE_NAMES``, same order)."""
    wait = pd.to_numeric(rows["wait_minutes"], errors="coerce").astype(float).to_numpy()
    duration = pd.to_numeric(rows["duration_minutes"], errors="coerce").astype(float).to_numpy()
    age = pd.to_numeric(rows["age"], errors="coerce").astype(float).to_numpy()
    columns: dict[str, np.ndarray] = {"consultations": np.ones(len(rows), dtype=bool)}

    def flag(name: str, condition: np.ndarray) -> None:
        columns[name] = np.asarray(condition, dtype=bool)

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
    return columns


@dataclass(frozen=True)
class _Key:
    """A key column factorized: each row's code and the distinct values (a missing value is one of them)."""

    codes: np.ndarray
    values: pd.Index

    @classmethod
    def of(cls, column: pd.Series | pd.Index, *, sort: bool = False) -> _Key:
        codes, values = pd.factorize(column, sort=sort, use_na_sentinel=False)
        return cls(codes, pd.Index(values))


@dataclass(frozen=True)
class _Groups:
    """Rows grouped by keys, the groups numbered in order of first appearance (pandas' ``groupby(sort=False)``) or,
    with ``sort``, in the keys' order. Each text column is factorized once per batch and the groups are built from
    the codes; sums are ``bincount``, maxima ``ufunc.at``, so nothing sorts the rows. Pandas' groupby costs about as
    much per key and aggregate as this does for a whole rollup."""

    codes: np.ndarray  # each row's group
    keys: dict[str, pd.Index]  # each key's value per group

    @classmethod
    def of(cls, keys: dict[str, _Key], *, sort: bool = False) -> _Groups:
        rows = len(next(iter(keys.values())).codes)
        codes, count = np.zeros(rows, dtype=np.int64), 0
        for key in keys.values():
            codes, distinct = pd.factorize(codes * len(key.values) + key.codes, sort=sort)
            count = len(distinct)
        first = np.full(count, rows, dtype=np.int64)
        np.minimum.at(first, codes, np.arange(rows))
        return cls(codes, {name: key.values.take(key.codes[first]) for name, key in keys.items()})

    def __len__(self) -> int:
        return len(next(iter(self.keys.values())))

    def key(self, name: str) -> _Key:
        """Key ``name`` of each group, as a key of the grouped rows (to group them again, more coarsely)."""
        return _Key.of(self.keys[name])

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Per group, the sum of ``values``: whole numbers (or 0/1 flags) stay whole; decimals are added by pandas'
        compensated sum, to the same last digit as before (``bincount`` adds them plainly)."""
        if values.dtype.kind == "b":
            return np.bincount(self.codes[values], minlength=len(self))
        if values.dtype.kind in "iu":
            return np.bincount(self.codes, weights=values, minlength=len(self)).round().astype(np.int64)
        return pd.Series(values).groupby(self.codes).sum().to_numpy()

    def sizes(self) -> np.ndarray:
        return np.bincount(self.codes, minlength=len(self))

    def maximum(self, values: pd.Series | np.ndarray) -> pd.Series:
        """Per group, the greatest of ``values`` (numbers), missing ones skipped; missing where all are."""
        numbers = pd.to_numeric(pd.Series(values), errors="coerce").astype(float).to_numpy()
        greatest = np.full(len(self), np.nan)
        np.fmax.at(greatest, self.codes, numbers)
        return pd.Series(greatest).astype("Int64")

    def frame(self, **columns: object) -> pd.DataFrame:
        return pd.DataFrame({**self.keys, **columns})


def _summed(groups: _Groups, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: groups.sum(column) for name, column in values.items()}


def batch_rollups(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every rollup's rows for ``rows`` (fact rows as ``write_consultations`` writes them), by table name. Rows of
    a group are in the order of its first consultation, as pandas' ``groupby(sort=False)`` gives them."""
    facts = rows.reset_index(drop=True)
    facts = facts.assign(day=pd.to_datetime(facts["day"]))
    key = {name: _Key.of(facts[name]) for name in ("day", "spoke_id", "hub_id", "mode", "specialty_code", "hour")}
    by_facility = _Groups.of({name: key[name] for name in FACILITY_KEYS})
    facility = by_facility.frame(
        **{name: by_facility.maximum(facts[name]) for name in ("district_lgd", "block_lgd", "hub_district_lgd")},
        **_summed(by_facility, _measures(facts)))
    # The coarser rollups group the facility rollup's rows, as the SQL refresh does.
    facility_key = {name: by_facility.key(name) for name in FACILITY_KEYS}
    facility_key["district_lgd"] = _Key.of(facility["district_lgd"])
    by_district = _Groups.of({name: facility_key[name] for name in DISTRICT_KEYS})
    district = by_district.frame(**_summed(by_district, _columns(facility, MEASURE_NAMES)))
    hub_load = {}
    for table, keys in ((rollup_hub_mode_day, HUB_MODE_KEYS), (rollup_hub_specialty_day, HUB_SPECIALTY_KEYS)):
        by_hub = _Groups.of({name: facility_key[name] for name in keys})
        hub_load[table.name] = by_hub.frame(hub_district_lgd=by_hub.maximum(facility["hub_district_lgd"]),
                                            **_summed(by_hub, _columns(facility, HUB_MEASURES)))
    by_hour = _Groups.of({name: key[name] for name in ("day", "hub_id", "hour", "mode")})
    by_hub_day = _Groups.of({name: key[name] for name in ("day", "hub_id")})
    return {
        rollup_facility_day.name: facility,
        rollup_district_day.name: district,
        rollup_cho_day.name: _cho_rollup(facts),
        rollup_hub_hour.name: by_hour.frame(hub_district_lgd=by_hour.maximum(facts["hub_district_lgd"]),
                                            consultations=by_hour.sizes()),
        rollup_hub_day.name: by_hub_day.frame(hub_district_lgd=by_hub_day.maximum(facts["hub_district_lgd"]),
                                              consultations=by_hub_day.sizes(),
                                              doctors=_distinct_per_group(by_hub_day, facts["doctor_token"])),
        **hub_load,
    }


def _columns(frame: pd.DataFrame, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {name: frame[name].to_numpy() for name in names}


def _cho_rollup(facts: pd.DataFrame) -> pd.DataFrame:
    """Per CHO and day, in that order: consultations, the district, and the greatest spoke id (text order, as
    SQL's max)."""
    with_cho = facts[facts["cho_id"].notna() & facts["day"].notna()].reset_index(drop=True)
    by_cho = _Groups.of({"day": _Key.of(with_cho["day"], sort=True), "cho_id": _Key.of(with_cho["cho_id"], sort=True)},
                        sort=True)
    spoke_rank, spokes = pd.factorize(with_cho["spoke_id"], sort=True)
    greatest = np.full(len(by_cho), -1, dtype=np.int64)
    np.maximum.at(greatest, by_cho.codes, spoke_rank)
    named = np.append(np.asarray(spokes, dtype=object), None)  # -1 (no spoke id) takes the last entry
    return by_cho.frame(district_lgd=by_cho.maximum(with_cho["district_lgd"]), consultations=by_cho.sizes(),
                        facility_id=named[greatest])


def _distinct_per_group(groups: _Groups, values: pd.Series) -> np.ndarray:
    """Per group, how many distinct values it holds (a missing value is none)."""
    value, _ = pd.factorize(values)
    named = value >= 0
    width = max(int(value.max(initial=-1)) + 1, 1)
    pairs = np.unique(groups.codes[named] * width + value[named])
    return np.bincount(pairs // width, minlength=len(groups))
