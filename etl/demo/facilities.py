"""The demo facility master: Bihar's hubs (district hospitals, PHC hubs, medical colleges) and spokes (sub-centre
Arogya Mandirs), calibrated to the published counts (Kishanganj 11 hubs and 230 spokes; every Kaimur block with at
least two spokes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from etl.demo.geography import KAIMUR, KISHANGANJ, LON_SCALE, District, district_area_deg2, points_near
from etl.warehouse.reference import BIHAR_STATE_LGD

KISHANGANJ_HUBS = 11  # district hospital + 10 PHC hubs
KISHANGANJ_SPOKES = 230
MEDICAL_COLLEGES: dict[int, str] = {
    212: "Patna Medical College Hospital",
    195: "Darbhanga Medical College Hospital",
    192: "Jawaharlal Nehru Medical College Hospital, Bhagalpur",
    196: "Anugrah Narayan Magadh Medical College Hospital, Gaya",
    208: "Sri Krishna Medical College Hospital, Muzaffarpur",
    209: "Vardhman Institute of Medical Sciences, Pawapuri",
    214: "Government Medical College Hospital, Purnia",
    218: "Government Medical College, Chhapra",
}
CROSS_DISTRICT_SPOKES = 10
LATE_SPOKES = 5
PHC_SPOKE_SHARE = 0.03
NEW_SPOKE_SHARE = 0.02  # go live during the period

COLUMNS = ("facility_id", "name", "facility_type", "role", "district_lgd", "block_lgd", "block_name",
           "block_name_hi", "lat", "lon", "hub_id", "operational_since", "service_start", "service_end",
           "service_days")


@dataclass
class Master:
    """All facilities, one row each. ``late`` rows are only in the late-additions file; ``broken`` rows break
    the contract (they are written to the main file and must be quarantined)."""

    frame: pd.DataFrame  # COLUMNS + tier, late, broken, block_number, hq (bool)
    short_block: int  # the one block (outside Kaimur) with fewer than two spokes
    cross_district: list[str]  # spokes whose hub lies in another district
    broken: list[dict[str, str]]  # facility_id, reason

    @property
    def hubs(self) -> pd.DataFrame:
        f = self.frame
        return f[(f.role == "hub") & ~f.broken]

    @property
    def spokes(self) -> pd.DataFrame:
        f = self.frame
        return f[(f.role == "spoke") & ~f.broken]


def _rand_date(rng: np.random.Generator, lo: date, hi: date, n: int) -> list[date]:
    span = max(0, (hi - lo).days)
    return [lo + timedelta(days=int(k)) for k in rng.integers(0, span + 1, n)]


def _spokes_per_block(d: District, rng: np.random.Generator) -> np.ndarray:
    n = d.n_blocks
    if d.district_lgd == KISHANGANJ:
        weights = rng.gamma(4.0, 1.0, n)
        return 2 + rng.multinomial(KISHANGANJ_SPOKES - 2 * n, weights / weights.sum())
    rate = rng.uniform(13.0, 21.0)
    return np.maximum(2, rng.poisson(rate * rng.gamma(6.0, 1 / 6.0, n)))


def build_master(districts: list[District], rng: np.random.Generator, start: date, end: date) -> Master:
    """Hubs and spokes for every district, spokes assigned to the nearest hub of their district (a handful to a
    nearer hub across the district line), plus the late additions and a few broken rows."""
    per_block = {d.district_lgd: _spokes_per_block(d, rng) for d in districts}
    eligible = [d for d in districts if d.district_lgd not in (KAIMUR, KISHANGANJ)]
    short_d = eligible[int(rng.integers(len(eligible)))]
    short_i = int(rng.integers(short_d.n_blocks))
    per_block[short_d.district_lgd][short_i] = 1
    short_block = short_d.blocks[short_i].block_lgd

    rows: list[dict] = []
    for d in districts:
        rows += district_rows(d, per_block[d.district_lgd], rng, start, end)
    frame = pd.DataFrame(rows)
    frame["late"] = False
    frame["broken"] = False
    cross = _assign_hubs(frame, rng)

    late_d = next(d for d in eligible[int(rng.integers(len(eligible))):] + eligible if d is not short_d)
    late_rows = _late_rows(late_d, rng, start)
    broken_rows, broken = _broken_rows(districts, rng, start)
    frame = pd.concat([frame, pd.DataFrame(late_rows), pd.DataFrame(broken_rows)], ignore_index=True)
    for col in ("late", "broken", "hq"):
        frame[col] = frame[col].fillna(False).astype(bool)
    return Master(frame, short_block, cross, broken)


def _base_row(d: District, block_idx: int, **values: object) -> dict:
    b = d.blocks[block_idx]
    return {"state_lgd": d.state_lgd, "district_lgd": d.district_lgd, "block_lgd": b.block_lgd, "block_name": b.name_en,
            "block_name_hi": b.name_hi, "block_number": b.number, "service_start": "09:00", "service_end": "16:00",
            "service_days": "1111111", "hub_id": "", "hq": False, **values}


def district_rows(d: District, spokes: np.ndarray, rng: np.random.Generator, start: date, end: date, *,
                  n_phc: int | None = None, college: str | None = None) -> list[dict]:
    """One district's hubs (district hospital, a medical college if ``college`` names one, ``n_phc`` PHC hubs)
    and ``spokes[i]`` spokes in block i. Bihar's districts take their hub counts and colleges from the tables
    above; other states' callers pass them."""
    lgd, n = d.district_lgd, d.n_blocks
    bihar = d.state_lgd == BIHAR_STATE_LGD
    if bihar:
        college = MEDICAL_COLLEGES.get(lgd)
    block_scale = np.sqrt(district_area_deg2(d) / n)
    hq = d.hq_block
    if n_phc is None:
        n_phc = KISHANGANJ_HUBS - 1 if lgd == KISHANGANJ else max(1, round(n * rng.uniform(0.55, 0.8)))
    perm = rng.permutation(n)
    phc_blocks = list(perm[: min(n_phc, n)]) + list(rng.integers(0, n, max(0, n_phc - n)))
    hub_blocks = [hq] + ([hq] if college else []) + phc_blocks
    spreads = [0.08 * block_scale] * (len(hub_blocks) - n_phc) + [0.3 * block_scale] * n_phc
    pts = points_near(d, np.array(hub_blocks), np.array(spreads), rng)
    hub_since = _rand_date(rng, date(2020, 11, 1), date(2021, 12, 31), len(hub_blocks))
    rows: list[dict] = []
    k = 0
    prefix = d.prefix
    dh_name = (f"Sadar Hospital {d.blocks[hq].name_en}" if lgd in (KAIMUR, KISHANGANJ) else f"Sadar Hospital {d.title}"
               ) if bihar else f"District Hospital {d.title}"
    rows.append(_base_row(d, hq, facility_id=f"{prefix}H001", name=dh_name, facility_type="DH", role="hub",
                          tier="district", hq=True))
    if college:
        rows.append(_base_row(d, hq, facility_id=f"{prefix}H002", name=college, facility_type="MC", role="hub",
                              tier="specialty"))
    seen: dict[int, int] = {}
    for bi in phc_blocks:
        seen[bi] = seen.get(bi, 0) + 1
        bname = d.blocks[bi].name_en
        name = f"PHC {bname}" if seen[bi] == 1 else f"APHC {bname} {seen[bi] - 1}"
        rows.append(_base_row(d, bi, facility_id=f"{prefix}H{len(rows) + 1:03d}", name=name, facility_type="PHC",
                              role="hub", tier="phc"))
    for row, p, since in zip(rows, pts, hub_since, strict=True):
        row.update(lon=float(p[0]), lat=float(p[1]), operational_since=since)

    spoke_block = np.repeat(np.arange(n), spokes)
    m = len(spoke_block)
    pts = points_near(d, spoke_block, np.full(m, 0.42 * block_scale), rng)
    is_phc = rng.random(m) < PHC_SPOKE_SHARE
    since = _rand_date(rng, date(2021, 4, 1), max(date(2021, 4, 2), start - timedelta(days=45)), m)
    new = rng.random(m) < NEW_SPOKE_SHARE
    for j in range(m):
        bi = int(spoke_block[j])
        k += 1
        bname = d.blocks[bi].name_en
        typ = "PHC" if is_phc[j] else "SC"
        op = since[j]
        if new[j]:
            op = start + timedelta(days=int(rng.integers(0, max(1, (end - start).days - 1))))
        rows.append(_base_row(d, bi, facility_id=f"{prefix}S{k:04d}", name=f"AAM-{'APHC' if is_phc[j] else 'HSC'} "
                              f"{bname} {k:03d}", facility_type=typ, role="spoke", tier="",
                              lon=float(pts[j, 0]), lat=float(pts[j, 1]), operational_since=op))
    return rows


def _assign_hubs(frame: pd.DataFrame, rng: np.random.Generator) -> list[str]:
    """Each spoke to the nearest PHC hub or district hospital of its own district; then a handful of border
    spokes to a nearer hub of the neighbouring district. Returns those spokes' ids."""
    hubs = frame[(frame.role == "hub") & (frame.tier != "specialty")]
    spokes = frame[frame.role == "spoke"]
    hxy = np.column_stack([hubs.lon.to_numpy() * LON_SCALE, hubs.lat.to_numpy()])
    sxy = np.column_stack([spokes.lon.to_numpy() * LON_SCALE, spokes.lat.to_numpy()])
    dist = np.sqrt(((sxy[:, None, :] - hxy[None, :, :]) ** 2).sum(-1))
    same = spokes.district_lgd.to_numpy()[:, None] == hubs.district_lgd.to_numpy()[None, :]
    own = np.where(same, dist, np.inf)
    other = np.where(same, np.inf, dist)
    own_best = own.argmin(axis=1)
    other_best = other.argmin(axis=1)
    ratio = other[np.arange(len(spokes)), other_best] / own[np.arange(len(spokes)), own_best]
    hub_ids = hubs.facility_id.to_numpy()
    chosen = hub_ids[own_best].copy()
    cross_idx = np.argsort(ratio, kind="stable")[:CROSS_DISTRICT_SPOKES]
    chosen[cross_idx] = hub_ids[other_best[cross_idx]]
    frame.loc[spokes.index, "hub_id"] = chosen
    return [str(x) for x in spokes.facility_id.to_numpy()[cross_idx]]


def _late_rows(d: District, rng: np.random.Generator, start: date) -> list[dict]:
    """A new PHC hub and its first spokes whose master rows arrive only after their consultations."""
    lgd = d.district_lgd
    bi = int(rng.integers(d.n_blocks))
    block_scale = np.sqrt(district_area_deg2(d) / d.n_blocks)
    pts = points_near(d, np.full(LATE_SPOKES + 1, bi), np.full(LATE_SPOKES + 1, 0.3 * block_scale), rng)
    bname = d.blocks[bi].name_en
    hub_id = f"BR{lgd}H901"
    since = start - timedelta(days=1)
    rows = [_base_row(d, bi, facility_id=hub_id, name=f"PHC {bname} (New)", facility_type="PHC", role="hub",
                      tier="phc", late=True, lon=float(pts[0, 0]), lat=float(pts[0, 1]), operational_since=since)]
    for k in range(LATE_SPOKES):
        rows.append(_base_row(d, bi, facility_id=f"BR{lgd}S{9001 + k}", name=f"AAM-HSC {bname} New {k + 1}",
                              facility_type="SC", role="spoke", tier="", late=True, hub_id=hub_id,
                              lon=float(pts[k + 1, 0]), lat=float(pts[k + 1, 1]), operational_since=since))
    return rows


def _broken_rows(districts: list[District], rng: np.random.Generator, start: date) -> tuple[list[dict], list[dict]]:
    d = districts[int(rng.integers(len(districts)))]
    p = points_near(d, np.zeros(3, dtype=int), np.full(3, 0.05), rng)
    since = start - timedelta(days=200)
    rows = [
        _base_row(d, 0, facility_id="BR999S0001", name="AAM-HSC Unknown District 001", facility_type="SC",
                  role="spoke", tier="", broken=True, lon=float(p[0, 0]), lat=float(p[0, 1]), operational_since=since),
        _base_row(d, 0, facility_id=f"BR{d.district_lgd}S7001", name=f"AAM-HSC {d.blocks[0].name_en} 7001",
                  facility_type="", role="spoke", tier="", broken=True, lon=float(p[1, 0]), lat=float(p[1, 1]),
                  operational_since=since),
        _base_row(d, 0, facility_id=f"BR{d.district_lgd}S7002", name=f"AAM-HSC {d.blocks[0].name_en} 7002",
                  facility_type="SC", role="nodal", tier="", broken=True, lon=float(p[2, 0]), lat=float(p[2, 1]),
                  operational_since=since),
    ]
    rows[0]["district_lgd"] = 999
    rows[0]["block_lgd"] = 99901
    reasons = [
        {"facility_id": rows[0]["facility_id"], "reason": "unknown district LGD code 999"},
        {"facility_id": rows[1]["facility_id"], "reason": "missing facility type"},
        {"facility_id": rows[2]["facility_id"], "reason": "invalid role 'nodal'"},
    ]
    return rows, reasons
