"""The national facility master and CHO roster.

Bihar is built exactly as at state scale (same random streams, so the same facilities, Kishanganj's 11 hubs and 230
spokes, Kaimur's blocks, the one block with a single spoke, the late additions and the broken rows). Every other
district of the boundary file gets:

- spokes: the national total (175,000 by default) less Bihar's, shared in proportion to the population proxy
  (``etl.demo.india``), at least two in every block (largest-remainder rounding, so the total is exact);
- hubs: its district hospital, a PHC hub for about every 11.5 spokes (15,731 hubs served 115,234 spokes in 2023,
  so the national ratio comes out near 1 : 11) and a medical college in each state's most populous district and
  in about a third of the others;
- spokes assigned to the nearest hub of their own district, and in each state a couple of border spokes to a
  nearer hub across the district line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import shapely

from etl.demo.chos import Roster, build_roster
from etl.demo.facilities import Master, build_master, district_rows
from etl.demo.geography import LON_SCALE, District, load_districts
from etl.demo.india import STATES, DistrictInfo, district_infos, layout_district, sq_dist
from etl.warehouse.reference import BIHAR_STATE_LGD

SPOKES_PER_PHC_HUB = 11.5
COLLEGE_SHARE = 0.33
CROSS_DISTRICT_PER_STATE = 2


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


@dataclass
class NationalMaster:
    master: Master
    districts: list[District]  # Bihar's first (reference order), then the other states' by state and census code
    states: list[int]  # state LGD codes, Bihar first


def apportion(total: int, weights: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    """Whole numbers, each at least its ``minimum``, summing to ``total``, the rest shared by ``weights``
    (largest remainder)."""
    extra = int(total) - int(minimum.sum())
    if extra < 0:
        raise ValueError(f"{total:,} spokes cannot give every block two: at least {int(minimum.sum()):,} needed")
    raw = extra * weights / weights.sum()
    base = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - base), kind="stable")
    base[order[: extra - int(base.sum())]] += 1
    return minimum.astype(np.int64) + base


def spoke_targets(infos: list[DistrictInfo], total: int) -> np.ndarray:
    """Spokes per district (``infos`` outside Bihar) summing to ``total``."""
    blocks = np.array([i.blocks for i in infos])
    return apportion(total, np.array([i.population for i in infos]), 2 * blocks)


def _spokes_per_block(n_blocks: int, spokes: int, rng: np.random.Generator) -> np.ndarray:
    weights = rng.gamma(4.0, 1.0, n_blocks)
    return 2 + rng.multinomial(spokes - 2 * n_blocks, weights / weights.sum())


def _state_frame(infos: list[DistrictInfo], targets: np.ndarray, seed: int, start: date,
                 end: date) -> tuple[pd.DataFrame, list[District], list[str]]:
    state = infos[0].state_lgd
    pick = _rng(seed, 13, state)
    top = int(np.argmax([i.population for i in infos]))
    colleges = (pick.random(len(infos)) < COLLEGE_SHARE) | (np.arange(len(infos)) == top)
    rows: list[dict] = []
    districts: list[District] = []
    for info, spokes, college in zip(infos, targets, colleges, strict=True):
        rng = _rng(seed, 12, info.census2011)
        d = layout_district(info, rng)
        per_block = _spokes_per_block(d.n_blocks, int(spokes), rng)
        n_phc = max(1, round(int(spokes) / SPOKES_PER_PHC_HUB))
        name = f"Government Medical College {d.title}" if college else None
        rows += district_rows(d, per_block, rng, start, end, n_phc=n_phc, college=name)
        districts.append(d)
    frame = pd.DataFrame(rows)
    cross = assign_state_hubs(frame, districts, CROSS_DISTRICT_PER_STATE if len(infos) > 1 else 0)
    return frame, districts, cross


def _xy(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack([frame.lon.to_numpy() * LON_SCALE, frame.lat.to_numpy()])


def assign_state_hubs(frame: pd.DataFrame, districts: list[District], n_cross: int,
                      border_candidates: int = 5) -> list[str]:
    """As ``facilities.assign_hubs``, but district by district (a state has up to 30,000 spokes and 2,500 hubs):
    each spoke to the nearest PHC hub or district hospital of its district; then, among the few spokes of each
    district nearest its border, the ``n_cross`` with the most to gain go to a nearer hub across the line."""
    hubs = frame[(frame.role == "hub") & (frame.tier != "specialty")]
    spokes = frame[frame.role == "spoke"]
    hub_ids = hubs.facility_id.to_numpy()
    hxy, sxy = _xy(hubs), _xy(spokes)
    h_district, s_district = hubs.district_lgd.to_numpy(), spokes.district_lgd.to_numpy()
    chosen = np.empty(len(spokes), dtype=object)
    candidates: list[np.ndarray] = []
    polygons = {d.district_lgd: d.polygon for d in districts}
    for lgd, idx in pd.Series(np.arange(len(spokes))).groupby(s_district).indices.items():
        own = np.flatnonzero(h_district == lgd)
        chosen[idx] = hub_ids[own[sq_dist(sxy[idx], hxy[own]).argmin(axis=1)]]
        pts = spokes.iloc[idx]
        edge = shapely.distance(polygons[lgd].boundary, shapely.points(pts.lon.to_numpy(), pts.lat.to_numpy()))
        candidates.append(idx[np.argsort(edge, kind="stable")[:border_candidates]])
    cross: list[str] = []
    if n_cross and candidates:
        cand = np.concatenate(candidates)
        d2 = sq_dist(sxy[cand], hxy)
        same = s_district[cand][:, None] == h_district[None, :]
        own_best = np.where(same, d2, np.inf).min(axis=1)
        other = np.where(same, np.inf, d2)
        other_best = other.argmin(axis=1)
        ratio = other[np.arange(len(cand)), other_best] / np.maximum(own_best, 1e-12)
        for j in np.argsort(ratio, kind="stable")[:n_cross]:
            if np.isfinite(ratio[j]):
                chosen[cand[j]] = hub_ids[other_best[j]]
                cross.append(str(spokes.facility_id.iloc[cand[j]]))
    frame.loc[spokes.index, "hub_id"] = chosen
    return cross


def build_national_master(seed: int, start: date, end: date, spokes_total: int,
                          progress=None) -> NationalMaster:  # type: ignore[no-untyped-def]
    """Bihar as at state scale plus every other state; ``progress(done, total)`` after each state."""
    bihar_districts = load_districts(_rng(seed, 1))
    bihar = build_master(bihar_districts, _rng(seed, 2), start, end)
    f = bihar.frame
    n_bihar = int(((f.role == "spoke") & ~f.broken & ~f.late).sum())
    others = [i for i in district_infos() if i.state_lgd != BIHAR_STATE_LGD]
    targets = spoke_targets(others, spokes_total - n_bihar)
    states = sorted({i.state_lgd for i in others})
    frames, districts, cross = [bihar.frame], list(bihar_districts), list(bihar.cross_district)
    for k, state in enumerate(states):
        idx = [j for j, i in enumerate(others) if i.state_lgd == state]
        frame, ds, c = _state_frame([others[j] for j in idx], targets[idx], seed, start, end)
        frame["late"] = False
        frame["broken"] = False
        frames.append(frame)
        districts += ds
        cross += c
        if progress is not None:
            progress(k + 1, len(states))
    combined = pd.concat(frames, ignore_index=True)
    for col in ("late", "broken", "hq"):
        combined[col] = combined[col].fillna(False).astype(bool)
    master = Master(combined, bihar.short_block, cross, bihar.broken)
    return NationalMaster(master, districts, [BIHAR_STATE_LGD, *states])


def build_national_roster(master: Master, states: list[int], seed: int, start: date,
                          end: date) -> tuple[Roster, dict[int, Roster]]:
    """One roster per state (Bihar's as at state scale, ids ``BRCHO00001``; the others ``UPCHO00001``...) and
    all of them together."""
    spokes = master.spokes
    spokes = spokes[~spokes.late]
    by_state: dict[int, Roster] = {}
    for state in states:
        ids = spokes[spokes.state_lgd == state].facility_id.tolist()
        rng = _rng(seed, 3) if state == BIHAR_STATE_LGD else _rng(seed, 3, state)
        by_state[state] = build_roster(ids, rng, start, end, id_prefix=f"{STATES[state][0]}CHO")
    frame = pd.concat([r.frame for r in by_state.values()], ignore_index=True)
    vacant = [v for r in by_state.values() for v in r.vacant]
    return Roster(frame, vacant), by_state
