"""`arogya demo --live`: status heartbeats for the demo facilities, posted through the real HTTP API, so the live
board moves.

Every facility sends a session start, then a heartbeat every ``heartbeat_s`` seconds (spread over the refresh ticks
so the load is even): hubs with 1-4 doctors online and a queue that wanders, spokes with a small queue while a
consultation is on. A script of faults runs on top, timed from the start (in "scenario seconds", divided by
``speed`` for quick tests): one hub reports an outage and recovers, one falls silent for longer than the offline
threshold and comes back, one hub's queue climbs above the alert threshold, and one district loses every doctor for a
few minutes (no hub serving). Event times are the real current time (IST); nothing is backdated.

The token is the caller's (the CLI creates one and revokes it afterwards): this module only speaks HTTP.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import requests
from sqlalchemy import Engine, select

from etl.transform.context import now_ist
from etl.warehouse.schema import dim_facility

CONNECTIVITY = ("broadband", "4G", "4G", "VSAT")
MAX_BATCH = 500


@dataclass(frozen=True)
class Fault:
    kind: str  # outage | silent | queue_spike | no_doctors
    target: str | int  # facility id, or district LGD code for no_doctors
    start_s: float
    end_s: float


@dataclass
class ReplayStats:
    posted: int = 0
    accepted: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)


def demo_facilities(engine: Engine, district_lgds: list[int] | None = None) -> pd.DataFrame:
    f = dim_facility.c
    stmt = select(f.facility_id, f.role, f.district_lgd).order_by(f.facility_id)
    if district_lgds:
        stmt = stmt.where(f.district_lgd.in_(district_lgds))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).all(), columns=["facility_id", "role", "district_lgd"])


def plan_faults(facilities: pd.DataFrame, rng: np.random.Generator, offline_minutes: int) -> list[Fault]:
    """The scripted faults (scenario seconds from the start)."""
    hubs = facilities[facilities["role"] == "hub"]
    if hubs.empty:
        return []
    ids = list(hubs["facility_id"])
    picks = [ids[i] for i in rng.choice(len(ids), min(3, len(ids)), replace=False)]
    silent = (offline_minutes + 3) * 60
    faults = [Fault("outage", picks[0], 60, 60 + 6 * 60)]
    if len(picks) > 1:
        faults.append(Fault("silent", picks[1], 120, 120 + silent))
    if len(picks) > 2:
        faults.append(Fault("queue_spike", picks[2], 180, 180 + 5 * 60))
    per_district = hubs.groupby("district_lgd").size().sort_values(kind="stable")
    faults.append(Fault("no_doctors", int(per_district.index[0]), 240, 240 + 5 * 60))
    return faults


class Replayer:
    def __init__(self, base_url: str, token: str, facilities: pd.DataFrame, *, heartbeat_s: float = 60.0,
                 tick_s: float = 5.0, speed: float = 1.0, seed: int = 20250801, offline_minutes: int = 15,
                 queue_threshold: int = 20, clock: Callable[[], datetime] = now_ist,
                 session: requests.Session | None = None, timeout_s: float = 30.0) -> None:
        self.url = base_url.rstrip("/") + "/api/v1/status"
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.facilities = facilities.reset_index(drop=True)
        self.heartbeat_s, self.tick_s, self.speed = heartbeat_s, tick_s, max(speed, 1e-6)
        self.rng = np.random.default_rng(seed)
        self.queue_threshold = queue_threshold
        self.clock = clock
        self.http = session or requests.Session()
        self.timeout_s = timeout_s
        self.faults = plan_faults(self.facilities, self.rng, offline_minutes)
        n = len(self.facilities)
        self.is_hub = (self.facilities["role"] == "hub").to_numpy()
        self.doctors = np.where(self.is_hub, self.rng.integers(1, 5, n), 0)
        self.queue = np.where(self.is_hub, self.rng.integers(0, 8, n), 0)
        self.link = self.rng.integers(0, len(CONNECTIVITY), n)
        slots = max(1, int(round(heartbeat_s / tick_s)))
        self.slot = self.rng.integers(0, slots, n)
        self.slots = slots
        self.started = False
        self.down: set[str] = set()  # facilities in an outage or silent right now
        self.stats = ReplayStats(faults=list(self.faults))

    # ------------------------------------------------------------------ events

    def _event(self, i: int, kind: str, when: datetime) -> dict:
        fid = str(self.facilities.at[i, "facility_id"])
        return {"event_id": f"LIVE-{fid}-{uuid.uuid4().hex[:16]}", "facility_id": fid,
                "event_time": when.strftime("%Y-%m-%dT%H:%M:%S") + "+05:30", "kind": kind,
                "doctors_online": int(self.doctors[i]), "queue_length": int(self.queue[i]),
                "connectivity": CONNECTIVITY[int(self.link[i])]}

    def _active(self, elapsed_s: float) -> list[Fault]:
        scenario = elapsed_s * self.speed
        return [f for f in self.faults if f.start_s <= scenario < f.end_s]

    def _walk(self) -> None:
        n = len(self.facilities)
        step = self.rng.integers(-2, 3, n)
        self.queue = np.where(self.is_hub, np.clip(self.queue + step, 0, 15),
                              np.where(self.rng.random(n) < 0.3, self.rng.integers(0, 4, n), 0))
        self.doctors = np.where(self.is_hub, np.clip(self.doctors + (self.rng.random(n) < 0.1)
                                                     * self.rng.integers(-1, 2, n), 1, 6),
                                (self.queue > 0).astype(int))

    def tick(self, number: int, elapsed_s: float) -> list[dict]:
        """The events of one tick."""
        now = self.clock().replace(microsecond=0)
        self._walk()
        active = self._active(elapsed_s)
        ids = self.facilities["facility_id"]
        index = {fid: i for i, fid in enumerate(ids)}
        events: list[dict] = []
        faulted: set[int] = set()
        for fault in active:
            if fault.kind == "queue_spike" and fault.target in index:
                i = index[str(fault.target)]
                self.queue[i] = self.queue_threshold + 10 + int(self.rng.integers(0, 5))
            elif fault.kind == "no_doctors":
                for i in np.flatnonzero(self.is_hub & (self.facilities["district_lgd"] == fault.target).to_numpy()):
                    self.doctors[i] = 0
        now_down = {str(f.target) for f in active if f.kind in ("outage", "silent")}
        for fid in now_down - self.down:  # a fault starts
            i = index[fid]
            faulted.add(i)
            fault = next(f for f in active if str(f.target) == fid)
            if fault.kind == "outage":
                events.append(self._event(i, "outage", now))
        for fid in self.down - now_down:  # a fault ends
            i = index[fid]
            faulted.add(i)
            events.append(self._event(i, "recovery", now))
        self.down = now_down
        if not self.started:
            events += [self._event(i, "session_start", now) for i in range(len(ids))
                       if str(ids[i]) not in self.down and i not in faulted]
            self.started = True
        else:
            due = np.flatnonzero(self.slot == number % self.slots)
            spiking = {index[str(f.target)] for f in active if f.kind in ("queue_spike",) and f.target in index}
            district_off = {int(f.target) for f in active if f.kind == "no_doctors"}
            extra = set(spiking) | {int(i) for i in np.flatnonzero(
                self.is_hub & self.facilities["district_lgd"].isin(district_off).to_numpy())}
            for i in sorted(set(due.tolist()) | extra):
                if str(ids[i]) in self.down or i in faulted:
                    continue
                events.append(self._event(i, "heartbeat", now))
        return events

    # ------------------------------------------------------------------ HTTP

    def post(self, events: list[dict]) -> None:
        for start in range(0, len(events), MAX_BATCH):
            batch = events[start:start + MAX_BATCH]
            for attempt in range(5):
                try:
                    reply = self.http.post(self.url, json=batch, headers=self.headers, timeout=self.timeout_s)
                except requests.RequestException as exc:
                    self.stats.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    time.sleep(min(2 ** attempt, 10))
                    continue
                self.stats.requests += 1
                if reply.status_code == 429 or reply.status_code >= 500:
                    time.sleep(float(reply.headers.get("Retry-After", 2 ** attempt)))
                    continue
                if reply.status_code != 200:
                    self.stats.errors.append(f"HTTP {reply.status_code}: {reply.text[:200]}")
                    break
                self.stats.posted += len(batch)
                self.stats.accepted += int(reply.json().get("accepted", 0))
                break

    def run(self, duration_s: float | None = None, on_tick: Callable[[int, ReplayStats], None] | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> ReplayStats:
        """Post ticks until ``duration_s`` (wall-clock) passes or ``should_stop()``; Ctrl+C stops it too."""
        started = time.monotonic()
        number = 0
        try:
            while not should_stop():
                elapsed = time.monotonic() - started
                if duration_s is not None and elapsed >= duration_s:
                    break
                self.post(self.tick(number, elapsed))
                if on_tick is not None:
                    on_tick(number, self.stats)
                number += 1
                next_at = started + number * self.tick_s
                time.sleep(max(0.0, next_at - time.monotonic()))
        except KeyboardInterrupt:
            pass
        return self.stats
