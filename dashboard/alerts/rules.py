"""The alert rules: pure functions from the classified live state of every facility to the conditions that hold.

- ``hub_offline``: a hub inside its service hours is offline (no status for ``offline_minutes``, never reported, or
  its last event is an outage);
- ``queue_high``: a reachable facility reports a queue longer than ``queue_threshold``;
- ``district_no_hub``: a district whose hubs are inside service hours has none of them serving (all idle or offline).

A condition is identified by (kind, facility, district): it raises one alert when it starts to hold and clears it when
it stops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from dashboard.data.live import LiveConfig

KINDS: tuple[str, ...] = ("hub_offline", "queue_high", "district_no_hub")


@dataclass(frozen=True)
class Condition:
    kind: str
    facility_id: str | None
    district_lgd: int | None
    message: str  # English, for the webhook, e-mail and the log; the page builds its own from ``details``
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.kind, self.facility_id or "", int(self.district_lgd or 0))


def _minutes(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(max(0.0, float(value)))


def conditions(rows: pd.DataFrame, now: datetime, config: LiveConfig,
               district_names: dict[int, str] | None = None) -> list[Condition]:
    """Conditions that hold in ``rows`` (``dashboard.data.live.classify`` output, any number of districts)."""
    if rows.empty:
        return []
    names = district_names or {}
    out: list[Condition] = []
    hubs = rows[rows["role"] == "hub"]
    for r in hubs[hubs["in_hours"] & (hubs["state"] == "offline")].itertuples(index=False):
        since = _minutes(r.minutes_since)
        if r.kind == "outage" and since is not None and since <= config.offline_minutes:
            why, reason = f"reported an outage {since} min ago", "outage"
        elif since is None:
            why, reason = "has not reported any status", "never"
        else:
            why, reason = f"has sent no status for {since} min", "silent"
        out.append(Condition("hub_offline", r.facility_id, int(r.district_lgd),
                             f"Hub {r.name} ({r.facility_id}) is offline during service hours: {why}",
                             {"name": r.name, "reason": reason, "minutes": since,
                              "last_seen": None if pd.isna(r.event_time) else str(r.event_time)}))
    queue = pd.to_numeric(rows["queue_length"], errors="coerce")
    long = rows[rows["fresh"] & (queue > config.queue_threshold)]
    for r in long.itertuples(index=False):
        q = int(r.queue_length)
        out.append(Condition("queue_high", r.facility_id, int(r.district_lgd),
                             f"{q} patients waiting at {r.name} ({r.facility_id}), above the threshold of "
                             f"{config.queue_threshold}",
                             {"name": r.name, "queue": q, "threshold": config.queue_threshold}))
    open_hubs = hubs[hubs["in_hours"]]
    for lgd, group in open_hubs.groupby("district_lgd"):
        if (group["state"] == "serving").any():
            continue
        name = names.get(int(lgd), str(lgd))
        idle = int((group["state"] == "idle").sum())
        offline = int((group["state"] == "offline").sum())
        out.append(Condition("district_no_hub", None, int(lgd),
                             f"No hub is serving in {name} district: {idle} idle, {offline} offline",
                             {"name": name, "idle": idle, "offline": offline, "hubs": len(group)}))
    return out
