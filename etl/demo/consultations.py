"""One day of consultations, vectorised: who came (a stable pool of patients per spoke, 57% women, 12% aged 60+),
when (09:00-16:00 IST with a morning peak, a few outside hours), to which hub and specialty, how it went, and the
faulty rows a real export carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from etl.demo.activity import Network, day_factor
from etl.demo.status import Outage

FAULT_KINDS = ("duplicate", "unknown_facility", "end_before_start", "age_out_of_range", "missing_required",
               "date_out_of_range")
FAULT_RATES = (0.006, 0.0035, 0.0035, 0.0035, 0.0045, 0.0035)
REQUIRED = ("consultation_id", "started_at", "spoke_id", "hub_id", "age", "sex")

SPECIALTIES = ("GEN", "OBG", "PED", "DERM", "ENT", "OPH", "ORTH", "PSY", "DENT", "AYUSH")
# Specialty mix by patient group: children (<15), women 15-45, everyone else.
SPECIALTY_MIX = np.array([
    [0.40, 0.00, 0.45, 0.05, 0.04, 0.02, 0.00, 0.00, 0.02, 0.02],
    [0.50, 0.28, 0.00, 0.05, 0.03, 0.03, 0.03, 0.02, 0.03, 0.03],
    [0.68, 0.00, 0.00, 0.05, 0.04, 0.06, 0.08, 0.03, 0.03, 0.03],
])  # fmt: skip
PRIMARY = np.array([s in ("GEN", "OBG", "PED", "AYUSH") for s in SPECIALTIES])
MODES = ("ABHWC", "OPD")
MODE_P = (0.85, 0.15)
CHANNELS = ("video", "audio", "chat")
CHANNEL_P = (0.80, 0.16, 0.04)
OUTCOMES = ("completed", "referred", "abandoned", "no_show")
OUTCOME_P = (0.85, 0.08, 0.04, 0.03)
AGE_BANDS = ((0, 4, 0.07), (5, 14, 0.10), (15, 29, 0.22), (30, 59, 0.49), (60, 100, 0.12))
FEMALE_SHARE = 0.57
OTHER_SHARE = 0.005
OUTSIDE_HOURS_SHARE = 0.015
PATIENT_POOL = 1500
MINUTE = np.timedelta64(1, "m")


@dataclass
class DayBatch:
    """A day's rows in canonical form. ``fault`` is "" for a clean row; ``late`` rows name a facility that only
    arrives in the late-additions file; ``dup`` rows are written twice."""

    day: date
    cols: dict[str, np.ndarray]
    blank: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.cols["consultation_id"])


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a fast, well-spread hash of uint64 values."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _unit(h: np.ndarray) -> np.ndarray:
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _pick(rng: np.random.Generator, p: tuple[float, ...], n: int) -> np.ndarray:
    return np.searchsorted(np.cumsum(p), rng.random(n) * sum(p), side="right").clip(0, len(p) - 1)


def _patients(pid: np.ndarray, salt: int) -> dict[str, np.ndarray]:
    """Stable attributes of each patient: the same patient has the same sex, age and identifiers every visit."""
    base = pid.astype(np.uint64) * np.uint64(16) + np.uint64(salt & 0xFFFF) * np.uint64(1 << 40)
    u = [_unit(_mix(base + np.uint64(k))) for k in range(8)]
    sex = np.where(u[0] < FEMALE_SHARE, "F", np.where(u[0] < 1 - OTHER_SHARE, "M", "O"))
    cum = np.cumsum([b[2] for b in AGE_BANDS])
    band = np.searchsorted(cum, u[1] * cum[-1], side="right").clip(0, len(AGE_BANDS) - 1)
    lo = np.array([b[0] for b in AGE_BANDS])[band]
    hi = np.array([b[1] for b in AGE_BANDS])[band]
    age = lo + np.floor(u[2] * (hi - lo + 1)).astype(int)
    old = band == len(AGE_BANDS) - 1
    age[old] = np.minimum(100, 60 + np.floor(-np.log1p(-u[2][old]) * 9).astype(int))
    h = _mix(base + np.uint64(11))
    return {
        "sex": sex,
        "age": age.astype(np.int64),
        "abha": np.where(u[3] < 0.8, (h % np.uint64(10**12)).astype(np.int64), -1),
        "bhavya": np.where(u[4] < 0.3, (_mix(h) % np.uint64(10**10)).astype(np.int64), -1),
        "phone": np.where(u[5] < 0.3, 6_000_000_000 + (_mix(h + np.uint64(1)) % np.uint64(4 * 10**9)).astype(
            np.int64), -1),
    }


def _start_minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Minutes after midnight IST: a morning peak (most between 09:30 and 12:30) inside 09:00-16:00, and a small
    share before opening or after closing."""
    peak = rng.normal(11 * 60, 62, n)
    flat = rng.uniform(9 * 60, 16 * 60, n)
    minutes = np.where(rng.random(n) < 0.74, peak, flat)
    bad = (minutes < 9 * 60) | (minutes >= 16 * 60)
    minutes[bad] = rng.uniform(9 * 60 + 15, 13 * 60, bad.sum())
    outside = rng.random(n) < OUTSIDE_HOURS_SHARE
    early = rng.random(n) < 0.4
    minutes[outside & early] = rng.uniform(7 * 60 + 30, 9 * 60 - 1, (outside & early).sum())
    minutes[outside & ~early] = rng.uniform(16 * 60, 19 * 60 + 30, (outside & ~early).sum())
    return minutes


def generate_day(net: Network, day: date, end: date, rng: np.random.Generator, *, salt: int,
                 outages: list[Outage] = (), cutoff: datetime | None = None, id_prefix: str | None = None) -> DayBatch:
    """The day's consultations, sorted by start time, faults applied. Ids are ``id_prefix`` (default
    ``ESN<yyyymmdd>``) and a serial."""
    lam = net.rate * day_factor(day, end, rng, net.profile) * net.active(day)
    s = np.repeat(np.arange(len(lam)), rng.poisson(lam))
    n = len(s)
    pid = net.global_index(s).astype(np.int64) * 4096 + rng.integers(0, PATIENT_POOL, n)
    pat = _patients(pid, salt)
    group = np.where(pat["age"] < 15, 0, np.where((pat["sex"] == "F") & (pat["age"] <= 45), 1, 2))
    cum = np.cumsum(SPECIALTY_MIX, axis=1)
    spec = (rng.random(n)[:, None] >= cum[group]).sum(axis=1).clip(0, len(SPECIALTIES) - 1)
    r = rng.random(n)
    primary = PRIMARY[spec]
    hub = np.where(primary, np.where(r < 0.9, net.spoke_hub[s], net.spoke_dh[s]),
                   np.where(r < 0.3, net.spoke_hub[s], np.where(r < 0.75, net.spoke_dh[s], net.spoke_mc[s])))
    outcome = _pick(rng, OUTCOME_P, n)
    day0 = np.datetime64(day.isoformat(), "s")
    start = day0 + (np.floor(_start_minutes(rng, n) * 60).astype(np.int64)).astype("timedelta64[s]")
    wait = np.round(np.minimum(240, rng.lognormal(np.log(8), 0.889, n)), 1)
    duration = np.minimum(20, 3 + rng.gamma(2.0, 2.6, n))
    end_t = start + np.round(duration * 60).astype(np.int64).astype("timedelta64[s]")
    end_t[outcome == OUTCOMES.index("no_show")] = np.datetime64("NaT")

    keep = np.ones(n, dtype=bool)
    for o in outages:
        if o.start.date() != day:
            continue
        h = np.flatnonzero(net.hub_ids == o.hub_id)
        o_end = np.datetime64(o.end.isoformat(), "s") if o.end else day0 + np.timedelta64(1, "D")
        keep &= ~(np.isin(hub, h) & (start >= np.datetime64(o.start.isoformat(), "s")) & (start < o_end))
    if cutoff is not None:
        last = np.where(np.isnat(end_t), start, end_t)
        keep &= last < np.datetime64(cutoff.replace(tzinfo=None).isoformat(timespec="seconds"), "s")
    order = np.flatnonzero(keep)[np.argsort(start[keep], kind="stable")]
    s, hub, spec, outcome, start, end_t, wait = s[order], hub[order], spec[order], outcome[order], start[order], \
        end_t[order], wait[order]
    pat = {k: v[order] for k, v in pat.items()}
    n = len(s)
    prefix = id_prefix or f"ESN{day:%Y%m%d}"
    ids = np.array([f"{prefix}{i:06d}" for i in range(1, n + 1)], dtype=object)
    doctor = np.array([f"{h}-DR{k}" for h, k in zip(net.hub_ids[hub], rng.integers(1, 5, n), strict=True)],
                      dtype=object)
    cols: dict[str, np.ndarray] = {
        "consultation_id": ids,
        "started_at": start,
        "ended_at": end_t,
        "spoke_id": net.spoke_ids[s].copy(),
        "hub_id": net.hub_ids[hub].copy(),
        "district_lgd": net.spoke_district[s],
        "block": net.spoke_block[s],
        "cho_id": net.spoke_cho[s],
        "doctor_id": doctor,
        "age": pat["age"].copy(),
        "sex": pat["sex"],
        "specialty": np.array(SPECIALTIES, dtype=object)[spec],
        "mode": np.array(MODES, dtype=object)[_pick(rng, MODE_P, n)],
        "channel": np.array(CHANNELS, dtype=object)[_pick(rng, CHANNEL_P, n)],
        "outcome": np.array(OUTCOMES, dtype=object)[outcome],
        "wait_minutes": wait,
        "abha": pat["abha"],
        "bhavya": pat["bhavya"],
        "phone": pat["phone"],
        "spoke_idx": s,
        "late": net.spoke_late[s] | net.hub_late[hub],
        "outside_hours": (start - day0 < np.timedelta64(9, "h")) | (start - day0 >= np.timedelta64(16, "h")),
    }
    batch = DayBatch(day, cols)
    apply_faults(batch, rng, net.district_prefix)
    return batch


def apply_faults(batch: DayBatch, rng: np.random.Generator, prefixes: dict[int, str] | None = None) -> None:
    """Turn a few percent of the clean rows into the faults a real export carries (one fault per row).
    ``prefixes``: facility id prefix per district, where it is not ``BR<district LGD>``."""
    prefixes = prefixes or {}
    c = batch.cols
    n = batch.n
    fault = np.full(n, "", dtype=object)
    eligible = ~c["late"]
    pick = np.searchsorted(np.cumsum(FAULT_RATES), rng.random(n), side="right")
    for k, kind in enumerate(FAULT_KINDS):
        fault[(pick == k) & eligible] = kind
    c["fault"] = fault
    c["dup"] = fault == "duplicate"

    idx = np.flatnonzero(fault == "unknown_facility")
    for j, i in enumerate(idx):
        d = c["district_lgd"][i]
        prefix = prefixes.get(int(d)) or f"BR{d}"
        if j % 2 == 0:
            c["spoke_id"][i] = f"{prefix}S8{rng.integers(0, 1000):03d}"
        else:
            c["hub_id"][i] = f"{prefix}H8{rng.integers(0, 100):02d}"

    idx = np.flatnonzero(fault == "end_before_start")
    c["outcome"][idx] = "completed"
    c["ended_at"][idx] = c["started_at"][idx] - rng.integers(2, 90, len(idx)) * MINUTE

    idx = np.flatnonzero(fault == "age_out_of_range")
    c["age"][idx] = rng.choice(np.array([-1, 121, 130, 150, 200, 999]), len(idx))

    idx = np.flatnonzero(fault == "missing_required")
    which = rng.integers(0, len(REQUIRED), len(idx))
    for k, name in enumerate(REQUIRED):
        mask = np.zeros(n, dtype=bool)
        mask[idx[which == k]] = True
        batch.blank[name] = mask

    idx = np.flatnonzero(fault == "date_out_of_range")
    future = rng.random(len(idx)) < 0.5
    years = np.where(future, rng.integers(3, 7, len(idx)), -rng.integers(batch.day.year - 2018, batch.day.year - 2011,
                                                                           len(idx)))
    shift = (years * 365).astype("timedelta64[D]").astype("timedelta64[s]")
    c["started_at"][idx] = c["started_at"][idx] + shift
    c["ended_at"][idx] = c["ended_at"][idx] + shift
