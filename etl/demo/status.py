"""Status events for the live board: hub heartbeats every few minutes in service hours on the last day or two,
session start and end, and a few outages (one still open at the end)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

HEARTBEAT_MINUTES = 10
SERVICE_START = 9 * 60
SERVICE_END = 16 * 60
CONNECTIVITY = ("broadband", "4G", "4G", "VSAT")


@dataclass(frozen=True)
class Outage:
    hub_id: str
    start: datetime
    end: datetime | None  # None: still down at the end of the data

    def covers(self, when: datetime) -> bool:
        return when >= self.start and (self.end is None or when < self.end)


def plan_outages(hub_ids: list[str], days: list[date], rng: np.random.Generator) -> list[Outage]:
    """Four hubs lose service: two on the day before the last, one on the last day (recovered) and one that is
    still down at the end."""
    if not days:
        return []
    picks = rng.choice(len(hub_ids), 4, replace=False)
    last, prev = days[-1], days[-2] if len(days) > 1 else days[-1]

    def at(d: date, minutes: int) -> datetime:
        return datetime(d.year, d.month, d.day) + timedelta(minutes=minutes)

    return [
        Outage(hub_ids[picks[0]], at(prev, 11 * 60 + 10), at(prev, 13 * 60 + 40)),
        Outage(hub_ids[picks[1]], at(prev, 9 * 60 + 45), at(prev, 12 * 60 + 5)),
        Outage(hub_ids[picks[2]], at(last, 10 * 60 + 20), at(last, 12 * 60 + 5)),
        Outage(hub_ids[picks[3]], at(last, 9 * 60 + 50), None),
    ]


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "+05:30"


def status_events(hub_ids: list[str], days: list[date], outages: list[Outage], rng: np.random.Generator,
                  cutoff: datetime | None) -> list[dict]:
    """Events in time order per hub; nothing at or after ``cutoff`` (the current time when the data ends today)."""
    by_hub = {o.hub_id: o for o in outages}
    events: list[dict] = []
    doctors = rng.integers(1, 5, len(hub_ids))
    link = rng.choice(len(CONNECTIVITY), len(hub_ids))
    for d in days:
        base = datetime(d.year, d.month, d.day)
        for h, hub in enumerate(hub_ids):
            outage = by_hub.get(hub)
            conn = CONNECTIVITY[link[h]]
            seq = 0

            def add(t: datetime, kind: str, docs: int | None, queue: int | None, _hub: str = hub,
                    _conn: str = conn) -> None:
                nonlocal seq
                if cutoff is not None and t >= cutoff:
                    return
                seq += 1
                events.append({"event_id": f"EV-{_hub}-{t:%Y%m%d%H%M%S}-{seq:03d}", "facility_id": _hub,
                               "event_time": _iso(t), "kind": kind, "doctors_online": docs, "queue_length": queue,
                               "connectivity": _conn})

            jitter = int(rng.integers(-5, 6))
            add(base + timedelta(minutes=SERVICE_START + jitter), "session_start", int(doctors[h]), 0)
            down = done = False
            for minute in range(SERVICE_START + HEARTBEAT_MINUTES, SERVICE_END, HEARTBEAT_MINUTES):
                t = base + timedelta(minutes=minute, seconds=int(rng.integers(0, 50)))
                if outage is not None and outage.start.date() == d and not done:
                    if not down and t >= outage.start:
                        add(outage.start, "outage", 0, None)
                        down = True
                    if down and outage.end is not None and t >= outage.end:
                        add(outage.end, "recovery", int(doctors[h]), int(rng.integers(3, 12)))
                        down, done = False, True
                if down:
                    continue
                add(t, "heartbeat", int(max(1, doctors[h] - (rng.random() < 0.2))), int(rng.poisson(3 + doctors[h])))
            if not down:
                add(base + timedelta(minutes=SERVICE_END + int(rng.integers(0, 10))), "session_end", 0, 0)
    events.sort(key=lambda e: (e["event_time"], e["event_id"]))
    return events


def write_status(path: Path, events: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for e in events:
            handle.write(json.dumps(e, ensure_ascii=False) + "\n")
    return path
