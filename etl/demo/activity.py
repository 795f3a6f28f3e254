"""Who is busy and who is quiet: per-spoke consultation rates (busy and quiet hubs, districts, spokes), the days
each spoke is live, idle spokes, CHO absences, and the day-of-week and seasonal pattern."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from etl.demo.chos import Roster
from etl.demo.facilities import Master
from etl.demo.geography import LON_SCALE

# Relative volume Monday..Sunday: Sundays run at about 40% of a weekday.
WEEKDAY_FACTOR = (1.08, 1.03, 1.0, 1.0, 0.97, 0.9, 0.4)
# Nationally one district's Monday rush is another's quiet day: working days are flatter, so that the busiest day
# stays near the published peak (510,702) while an ordinary working day is about 500,000.
NATIONAL_WEEKDAY_FACTOR = (1.02, 1.01, 1.0, 1.0, 0.99, 0.96, 0.4)
DAY_NOISE = 0.04
HOLIDAYS = {(1, 26), (8, 15), (10, 2)}
HOLIDAY_FACTOR = 0.3
TREND_PER_YEAR = 0.15  # a year before the end, volume was this much lower
IDLE_RECENT_SHARE = 0.02  # no consultation in the last 8-26 days
IDLE_LONG_SHARE = 0.01  # none in the last 31-200 days
VACANT_FACTOR = 0.5
LATE_FACTOR = 3.0  # the late additions are busy, so their rows show up every day
NEVER = 10**7


@dataclass
class Network:
    """Arrays indexed by spoke (and by hub), everything a day's generation needs."""

    spoke_ids: np.ndarray
    spoke_district: np.ndarray
    spoke_block: np.ndarray  # block names
    spoke_cho: np.ndarray  # "" where vacant
    spoke_late: np.ndarray
    spoke_hub: np.ndarray  # index into hub_ids: the assigned hub
    spoke_dh: np.ndarray  # the district hospital of the spoke's district
    spoke_mc: np.ndarray  # the nearest medical college
    rate: np.ndarray  # expected consultations on an ordinary weekday at the end of the period
    live_from: np.ndarray  # date ordinals
    silent_from: np.ndarray
    gap_start: np.ndarray
    gap_end: np.ndarray
    hub_ids: np.ndarray
    hub_late: np.ndarray
    idle_designed: dict[str, list[str]]
    spoke_state: np.ndarray | None = None  # state LGD code per spoke
    spoke_global: np.ndarray | None = None  # in a subset: each spoke's index in the whole network
    district_prefix: dict[int, str] = field(default_factory=dict)  # facility id prefix where not "BR<lgd>"
    profile: tuple[float, ...] = WEEKDAY_FACTOR

    def active(self, day: date) -> np.ndarray:
        o = day.toordinal()
        gap = (o >= self.gap_start) & (o < self.gap_end)
        return (o >= self.live_from) & (o < self.silent_from) & ~gap

    def global_index(self, s: np.ndarray) -> np.ndarray:
        return s if self.spoke_global is None else self.spoke_global[s]

    def subset(self, idx: np.ndarray) -> Network:
        """The spokes ``idx`` only (hubs unchanged, so hub indices stay valid)."""
        per_spoke = {name: getattr(self, name)[idx] for name in _SPOKE_FIELDS if getattr(self, name) is not None}
        return replace(self, **per_spoke, spoke_global=self.global_index(np.asarray(idx)))


_SPOKE_FIELDS = ("spoke_ids", "spoke_district", "spoke_block", "spoke_cho", "spoke_late", "spoke_hub", "spoke_dh",
                 "spoke_mc", "rate", "live_from", "silent_from", "gap_start", "gap_end", "spoke_state")


def day_factor(day: date, end: date, rng: np.random.Generator,
               profile: tuple[float, ...] = WEEKDAY_FACTOR) -> float:
    f = profile[day.weekday()]
    if (day.month, day.day) in HOLIDAYS:
        f *= HOLIDAY_FACTOR
    f *= 1.0 - TREND_PER_YEAR * min((end - day).days, 365) / 365
    return float(f * np.exp(rng.normal(0, DAY_NOISE)))


def _ordinal(values) -> np.ndarray:
    return np.array([v.toordinal() if v is not None and v == v else 0 for v in values], dtype=np.int64)


def nearest(points: np.ndarray, targets: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Index of the nearest of ``targets`` for each of ``points`` (both (n, 2)), in chunks to bound memory."""
    out = np.empty(len(points), dtype=np.int64)
    for lo in range(0, len(points), chunk):
        out[lo:lo + chunk] = ((points[lo:lo + chunk, None, :] - targets[None]) ** 2).sum(-1).argmin(axis=1)
    return out


def _rates(weight: np.ndarray, state: np.ndarray, weekday_target: float | dict[int, float]) -> np.ndarray:
    """Each spoke's share of the weekday target (of its state's target when targets are given per state)."""
    if not isinstance(weekday_target, dict):
        return weekday_target * weight / weight.sum()
    rate = np.zeros(len(weight))
    for code, target in weekday_target.items():
        mask = state == code
        rate[mask] = target * weight[mask] / weight[mask].sum()
    return rate


def build_network(master: Master, roster: Roster, end: date, weekday_target: float | dict[int, float],
                  rng: np.random.Generator, profile: tuple[float, ...] = WEEKDAY_FACTOR,
                  district_prefix: dict[int, str] | None = None) -> Network:
    """``weekday_target``: one number for all spokes, or a target per state LGD code (national scale)."""
    f = master.frame
    hubs = f[(f.role == "hub") & ~f.broken].reset_index(drop=True)
    spokes = f[(f.role == "spoke") & ~f.broken].reset_index(drop=True)
    hub_pos = {h: i for i, h in enumerate(hubs.facility_id)}
    dh = {int(r.district_lgd): hub_pos[r.facility_id] for r in hubs[hubs.facility_type == "DH"].itertuples()}
    mcs = hubs[hubs.facility_type == "MC"]
    sxy = np.column_stack([spokes.lon * LON_SCALE, spokes.lat])
    mxy = np.column_stack([mcs.lon * LON_SCALE, mcs.lat])
    mc_idx = np.array([hub_pos[h] for h in mcs.facility_id])[nearest(sxy, mxy)]
    state = spokes.state_lgd.to_numpy().astype(np.int64)

    n = len(spokes)
    hub_factor = rng.lognormal(0, 0.3, len(hubs))
    districts = np.unique(spokes.district_lgd)
    district_factor = dict(zip(districts.tolist(), rng.lognormal(0, 0.2, len(districts)).tolist(), strict=True))
    spoke_hub = np.array([hub_pos[h] for h in spokes.hub_id])
    cho = roster.by_facility()
    spoke_cho = np.array([cho.get(s, "") for s in spokes.facility_id], dtype=object)
    weight = (
        rng.lognormal(0, 0.4, n)
        * hub_factor[spoke_hub]
        * np.array([district_factor[d] for d in spokes.district_lgd.tolist()])
        * np.where(spokes.facility_type == "PHC", 1.6, 1.0)
        * np.where(spoke_cho == "", VACANT_FACTOR, 1.0)
        * np.where(spokes.late.to_numpy(), LATE_FACTOR, 1.0)
    )
    weight = np.maximum(weight, 0.45 * np.median(weight))
    rate = _rates(weight, state, weekday_target)

    end_o = end.toordinal()
    silent = np.full(n, NEVER, dtype=np.int64)
    late = spokes.late.to_numpy()
    u = rng.random(n)
    recent = (u < IDLE_RECENT_SHARE) & ~late
    long_idle = (u >= IDLE_RECENT_SHARE) & (u < IDLE_RECENT_SHARE + IDLE_LONG_SHARE) & ~late
    silent[recent] = end_o - rng.integers(8, 27, recent.sum()) + 1
    silent[long_idle] = end_o - rng.integers(31, 201, long_idle.sum()) + 1
    gap_start = np.zeros(n, dtype=np.int64)
    gap_end = np.zeros(n, dtype=np.int64)
    pos = {s: i for i, s in enumerate(spokes.facility_id)}
    for r in roster.frame.itertuples():
        i = pos[r.facility_id]
        if r.left_on is not None and r.left_on == r.left_on:
            silent[i] = min(silent[i], r.left_on.toordinal())
        if r.gap_start is not None and r.gap_start == r.gap_start:
            gap_start[i], gap_end[i] = r.gap_start.toordinal(), r.gap_end.toordinal()
    ids = spokes.facility_id.to_numpy()
    return Network(
        spoke_ids=ids.astype(object),
        spoke_district=spokes.district_lgd.to_numpy().astype(np.int64),
        spoke_block=spokes.block_name.to_numpy().astype(object),
        spoke_cho=spoke_cho,
        spoke_late=late,
        spoke_hub=spoke_hub,
        spoke_dh=np.array([dh[d] for d in spokes.district_lgd.tolist()]),
        spoke_mc=mc_idx,
        rate=rate,
        live_from=_ordinal(spokes.operational_since),
        silent_from=silent,
        gap_start=gap_start,
        gap_end=gap_end,
        hub_ids=hubs.facility_id.to_numpy().astype(object),
        hub_late=hubs.late.to_numpy(),
        idle_designed={"recent_8_26_days": sorted(ids[recent].tolist()),
                       "long_31_200_days": sorted(ids[long_idle].tolist())},
        spoke_state=state,
        district_prefix=district_prefix or {},
        profile=profile,
    )
