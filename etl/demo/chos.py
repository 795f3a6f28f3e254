"""Community Health Officers: one per spoke (a few spokes vacant), with joining dates, laptops, training, and the
absences a Civil Surgeon should notice (CHOs who left, CHOs silent for weeks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from etl.demo.names import staff_names

VACANT_SHARE = 0.02
LAPTOP_SHARE = 0.65
LEFT_SHARE = 0.006
GAP_SHARE = 0.025
TRAINING_MODULES = 18


@dataclass
class Roster:
    frame: pd.DataFrame  # cho_id, name, facility_id, joined_on, laptop_issued_on, training_modules, active,
    # left_on, gap_start, gap_end (dates or None; a gap is [start, end) and may run past the period)
    vacant: list[str]  # spoke ids without a CHO

    def by_facility(self) -> dict[str, str]:
        return dict(zip(self.frame.facility_id, self.frame.cho_id, strict=True))


def build_roster(spoke_ids: list[str], rng: np.random.Generator, start: date, end: date,
                 id_prefix: str = "BRCHO") -> Roster:
    n = len(spoke_ids)
    vacant_mask = rng.random(n) < VACANT_SHARE
    posted = [s for s, v in zip(spoke_ids, vacant_mask, strict=True) if not v]
    m = len(posted)
    names = staff_names(rng, m)
    latest_join = max(date(2019, 7, 1), start - timedelta(days=60))
    joined = [date(2019, 6, 1) + timedelta(days=int(k)) for k in rng.integers(0, (latest_join - date(2019, 6, 1)).days,
                                                                            m)]
    has_laptop = rng.random(m) < LAPTOP_SHARE
    laptop: list[date | None] = []
    for j, ok in zip(joined, has_laptop, strict=True):
        lo = max(j + timedelta(days=30), date(2022, 1, 15))
        hi = max(lo, end - timedelta(days=10))
        laptop.append(lo + timedelta(days=int(rng.integers(0, (hi - lo).days + 1))) if ok else None)
    skill = rng.beta(2.2, 1.4, m)
    modules = rng.binomial(TRAINING_MODULES, skill)
    left = rng.random(m) < LEFT_SHARE
    left_on = [end - timedelta(days=int(rng.integers(20, 121))) if x else None for x in left]
    gap = (rng.random(m) < GAP_SHARE) & ~left
    gap_len = rng.integers(14, 43, m)
    gap_end_back = rng.integers(-15, 46, m)
    gap_end = [end - timedelta(days=int(b)) + timedelta(days=1) if g else None
               for g, b in zip(gap, gap_end_back, strict=True)]
    gap_start = [e - timedelta(days=int(k)) if e else None for e, k in zip(gap_end, gap_len, strict=True)]
    frame = pd.DataFrame({
        "cho_id": [f"{id_prefix}{k:05d}" for k in range(1, m + 1)],
        "name": names,
        "facility_id": posted,
        "joined_on": joined,
        "laptop_issued_on": laptop,
        "training_modules": modules.astype(int),
        "active": ~left,
        "left_on": left_on,
        "gap_start": gap_start,
        "gap_end": gap_end,
    })  # fmt: skip
    return Roster(frame, [s for s, v in zip(spoke_ids, vacant_mask, strict=True) if v])


def ddmmyyyy(values: list[date | None]) -> list[str]:
    return [v.strftime("%d-%m-%Y") if v else "" for v in values]
