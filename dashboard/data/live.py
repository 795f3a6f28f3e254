"""The live state of the service: every facility's current status classified as serving / idle / offline, and the
history of hub states (a timeline per hub and day, and service-hours compliance).

States, for a facility at time ``now`` (IST):
- ``offline``: inside its service hours and either no event for ``offline_minutes`` (or never) or its last event
  is an outage;
- ``idle``: reachable (an event within ``offline_minutes``, not an outage) but not serving: its session ended, a hub
  with no doctor online, a spoke with no consultation going on;
- ``serving``: reachable and in a session — a hub with doctors online (or not saying how many), a spoke with a doctor
  connected or patients in its queue;
- ``off_hours``: outside its service hours (default 09:00–16:00 IST, every day; the facility master may say
  otherwise) and not reachable — never "offline" at night.
A facility that reports while outside its hours shows what it reports (a hub working late is serving).

The current status is read uncached on every call (one row per facility, by primary key): ingest does not bump the
data version, so a cached read would go stale. The estimated wait uses each hub's mean consultation length over the
last 30 days from the rollups (cached like every rollup read).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, select

from dashboard.data.context import DataContext, cached
from dashboard.data.filters import Scope
from dashboard.data.sql import read_df, scope_clause
from etl.warehouse.schema import current_status, dim_block, dim_district, dim_facility, fact_status_event
from etl.warehouse.schema import rollup_facility_day as rfd

STATES: tuple[str, ...] = ("serving", "idle", "offline", "off_hours")
DEFAULT_OFFLINE_MINUTES = 15
DEFAULT_QUEUE_THRESHOLD = 20
DEFAULT_REFRESH_S = 10
DEFAULT_MINUTES_PER_PATIENT = 8.0
DEFAULT_HOURS = ("09:00", "16:00")
HISTORY_DAYS = 7


@dataclass(frozen=True)
class LiveConfig:
    """Thresholds of the live board and the alerts. ``from_settings`` reads the ``live_*`` settings when the settings
    object has them (AROGYA_LIVE_OFFLINE_MINUTES, AROGYA_LIVE_QUEUE_THRESHOLD, AROGYA_LIVE_REFRESH_S), else the
    defaults here."""

    offline_minutes: int = DEFAULT_OFFLINE_MINUTES
    queue_threshold: int = DEFAULT_QUEUE_THRESHOLD
    refresh_s: int = DEFAULT_REFRESH_S
    minutes_per_patient: float = DEFAULT_MINUTES_PER_PATIENT

    @classmethod
    def from_settings(cls, settings: object) -> LiveConfig:
        return cls(
            offline_minutes=max(1, int(getattr(settings, "live_offline_minutes", DEFAULT_OFFLINE_MINUTES))),
            queue_threshold=max(1, int(getattr(settings, "live_queue_threshold", DEFAULT_QUEUE_THRESHOLD))),
            # The board refreshes at most every 10 s.
            refresh_s=max(DEFAULT_REFRESH_S, int(getattr(settings, "live_refresh_s", DEFAULT_REFRESH_S))),
        )


FACILITY_COLUMNS = ["facility_id", "name", "facility_type", "role", "district_lgd", "block_lgd", "lat", "lon",
                    "hub_id", "service_start", "service_end", "service_days"]
STATUS_COLUMNS = ["event_time", "kind", "doctors_online", "queue_length", "connectivity", "received_at"]


def facilities_status(ctx: DataContext, scope: Scope, district_lgds: Iterable[int] = ()) -> pd.DataFrame:
    """Facilities in scope (of ``district_lgds`` when given) with their block names and current status (uncached)."""
    f, s, b = dim_facility.c, current_status.c, dim_block.c
    stmt = (select(*[f[c] for c in FACILITY_COLUMNS], b.name_en.label("block_en"), b.name_hi.label("block_hi"),
                   *[s[c] for c in STATUS_COLUMNS])
            .select_from(dim_facility.outerjoin(current_status, s.facility_id == f.facility_id)
                         .outerjoin(dim_block, b.block_lgd == f.block_lgd))
            .where(scope_clause(f.district_lgd, scope)))
    lgds = sorted({int(x) for x in district_lgds})
    if lgds:
        stmt = stmt.where(f.district_lgd.in_(lgds))
    with ctx.engine.connect() as conn:
        return read_df(conn, stmt.order_by(f.district_lgd, f.role, f.name))


def outside_hub_doctors(ctx: DataContext, frame: pd.DataFrame) -> dict[str, float]:
    """Doctors online at the hubs the spokes of ``frame`` are assigned to but that are not in ``frame`` (another
    district's hub), for the spokes' estimated wait."""
    hub_ids = sorted(set(frame["hub_id"].dropna()) - set(frame["facility_id"])) if not frame.empty else []
    if not hub_ids:
        return {}
    s = current_status.c
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(s.facility_id, s.doctors_online).where(s.facility_id.in_(hub_ids))).all()
    return {str(fid): float(d) for fid, d in rows if d is not None}


def _clock(values: pd.Series, default: str) -> pd.Series:
    text = values.fillna(default).astype(str).str.slice(0, 5)
    return text.where(text.str.match(r"^\d\d:\d\d$"), default)


def in_service_hours(frame: pd.DataFrame, now: datetime) -> pd.Series:
    """Whether ``now`` is inside each facility's service hours and days."""
    if frame.empty:
        return pd.Series([], dtype=bool)
    clock = now.strftime("%H:%M")
    start = _clock(frame["service_start"], DEFAULT_HOURS[0])
    end = _clock(frame["service_end"], DEFAULT_HOURS[1])
    days = frame["service_days"].fillna("1111111").astype(str).str.pad(7, fillchar="1")
    served_today = days.str.slice(now.weekday(), now.weekday() + 1) == "1"
    return (served_today & (start <= clock) & (clock < end)).astype(bool)


def event_state(kind: pd.Series, doctors: pd.Series, queue: pd.Series, role: pd.Series) -> pd.Series:
    """The state an event reports, ignoring its age: offline (outage), idle or serving (see the module doc)."""
    doctors = pd.to_numeric(doctors, errors="coerce")
    queue = pd.to_numeric(queue, errors="coerce")
    hub = role.astype(str) == "hub"
    hub_serving = doctors.isna() | (doctors > 0)
    spoke_serving = (doctors.fillna(0) > 0) | (queue.fillna(0) > 0)
    serving = np.where(hub, hub_serving, spoke_serving)
    state = np.where(serving, "serving", "idle")
    state = np.where(kind.astype(str) == "session_end", "idle", state)
    state = np.where(kind.astype(str) == "outage", "offline", state)
    return pd.Series(state, index=kind.index, dtype=object)


def classify(frame: pd.DataFrame, now: datetime, config: LiveConfig,
             minutes_per_patient: dict[str, float] | None = None,
             other_hubs: dict[str, float] | None = None) -> pd.DataFrame:
    """Add ``in_hours``, ``fresh``, ``minutes_since``, ``state`` and ``wait_minutes`` (estimated) to a frame from
    ``facilities_status`` (``other_hubs``: doctors online at hubs outside the frame, see ``outside_hub_doctors``)."""
    out = frame.copy()
    if out.empty:
        for name, dtype in (("in_hours", bool), ("fresh", bool), ("minutes_since", float), ("state", object),
                            ("wait_minutes", float)):
            out[name] = pd.Series([], dtype=dtype)
        return out
    when = pd.to_datetime(out["event_time"])
    minutes = (pd.Timestamp(now) - when).dt.total_seconds() / 60.0
    out["minutes_since"] = minutes
    out["in_hours"] = in_service_hours(out, now)
    out["fresh"] = (when.notna() & (minutes <= config.offline_minutes)).astype(bool)
    reported = event_state(out["kind"], out["doctors_online"], out["queue_length"], out["role"])
    state = np.where(out["fresh"], reported, "offline")
    # Outside service hours nothing is "offline": a facility not reachable then is simply closed.
    state = np.where((state == "offline") & ~out["in_hours"].to_numpy(dtype=bool), "off_hours", state)
    out["state"] = pd.Series(state, index=out.index, dtype=object)
    out["wait_minutes"] = _waits(out, other_hubs or {}, minutes_per_patient or {}, config)
    return out


def _waits(out: pd.DataFrame, other_hubs: dict[str, float], per_patient: dict[str, float],
           config: LiveConfig) -> pd.Series:
    """Estimated wait of a patient joining the queue now: queue × mean consultation minutes / doctors online (a
    spoke's patients wait for its hub's doctors). None where the facility is not reachable."""
    doctors = pd.to_numeric(out["doctors_online"], errors="coerce")
    queue = pd.to_numeric(out["queue_length"], errors="coerce").fillna(0)
    hub_doctors = {**other_hubs, **dict(zip(out["facility_id"], doctors, strict=True))}
    serving_hub = out["hub_id"].where(out["role"] != "hub", out["facility_id"])
    used = doctors.where(out["role"] == "hub", serving_hub.map(hub_doctors))
    used = used.where(used.notna() & (used > 0), 1.0)
    minutes = serving_hub.map(per_patient).fillna(config.minutes_per_patient).astype(float)
    wait = (queue * minutes / used.astype(float)).round(0)
    return wait.where(out["fresh"] & out["state"].isin(["serving", "idle"])).astype(float)


@cached
def minutes_per_patient(ctx: DataContext, scope: Scope, district_lgd: int, today: date) -> dict[str, float]:
    """Mean consultation minutes per hub serving the district's spokes, over the 30 days to ``today``."""
    stmt = (select(rfd.c.hub_id, func.sum(rfd.c.duration_sum).label("total"), func.sum(rfd.c.duration_n).label("n"))
            .where(rfd.c.district_lgd == district_lgd, scope_clause(rfd.c.district_lgd, scope),
                   rfd.c.day >= today - timedelta(days=30), rfd.c.day <= today)
            .group_by(rfd.c.hub_id))
    with ctx.engine.connect() as conn:
        frame = read_df(conn, stmt)
    frame = frame[pd.to_numeric(frame["n"], errors="coerce").fillna(0) > 0]
    return {str(r.hub_id): round(float(r.total) / float(r.n), 2) for r in frame.itertuples()}


@dataclass
class LiveBoard:
    district_lgd: int
    rows: pd.DataFrame  # classified facilities_status rows
    now: datetime
    in_service: bool  # any facility of the district inside its service hours now
    hours: tuple[str, str]  # the district's usual service hours (most common among its facilities)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for role in ("hub", "spoke"):
            part = self.rows[self.rows["role"] == role]
            out[f"{role}_total"] = len(part)
            for state in STATES:
                out[f"{role}_{state}"] = int((part["state"] == state).sum())
        fresh = self.rows[self.rows["fresh"]] if not self.rows.empty else self.rows
        hubs = fresh[fresh["role"] == "hub"] if not fresh.empty else fresh
        out["doctors_online"] = int(pd.to_numeric(hubs["doctors_online"], errors="coerce").fillna(0).sum()) \
            if not hubs.empty else 0
        out["queue"] = int(pd.to_numeric(fresh["queue_length"], errors="coerce").fillna(0).sum()) \
            if not fresh.empty else 0
        return out


def board(ctx: DataContext, scope: Scope, district_lgd: int, now: datetime, config: LiveConfig,
          today: date | None = None) -> LiveBoard:
    frame = facilities_status(ctx, scope, [district_lgd])
    per_patient = minutes_per_patient(ctx, scope, district_lgd, today or now.date()) if not frame.empty else {}
    rows = classify(frame, now, config, per_patient, outside_hub_doctors(ctx, frame))
    hours = DEFAULT_HOURS
    if not rows.empty:
        pairs = (_clock(rows["service_start"], DEFAULT_HOURS[0]) + "-" + _clock(rows["service_end"],
                                                                               DEFAULT_HOURS[1])).mode()
        hours = tuple(pairs.iloc[0].split("-")) if not pairs.empty else DEFAULT_HOURS  # type: ignore[assignment]
    return LiveBoard(district_lgd, rows, now, bool(rows["in_hours"].any()) if not rows.empty else False, hours)


def district_summary(ctx: DataContext, scope: Scope, now: datetime, config: LiveConfig) -> pd.DataFrame:
    """Per district in scope: hubs and spokes by state, doctors online, patients waiting (for the state view)."""
    rows = classify(facilities_status(ctx, scope), now, config)
    c = dim_district.c
    with ctx.engine.connect() as conn:
        names = read_df(conn, select(c.district_lgd, c.name_en, c.name_hi).where(scope_clause(c.district_lgd, scope)))
    if rows.empty:
        return names.iloc[0:0].assign(hubs=0, hubs_serving=0, hubs_offline=0, spokes=0, spokes_serving=0,
                                      spokes_offline=0, doctors_online=0, queue=0, in_service=False)
    rows["is_hub"] = rows["role"] == "hub"
    rows["doctors"] = pd.to_numeric(rows["doctors_online"], errors="coerce").fillna(0).where(
        rows["fresh"] & rows["is_hub"], 0)
    rows["queued"] = pd.to_numeric(rows["queue_length"], errors="coerce").fillna(0).where(rows["fresh"], 0)
    grouped = rows.groupby("district_lgd").apply(lambda g: pd.Series({
        "hubs": int(g["is_hub"].sum()),
        "hubs_serving": int((g["is_hub"] & (g["state"] == "serving")).sum()),
        "hubs_offline": int((g["is_hub"] & (g["state"] == "offline")).sum()),
        "spokes": int((~g["is_hub"]).sum()),
        "spokes_serving": int((~g["is_hub"] & (g["state"] == "serving")).sum()),
        "spokes_offline": int((~g["is_hub"] & (g["state"] == "offline")).sum()),
        "doctors_online": int(g["doctors"].sum()),
        "queue": int(g["queued"].sum()),
        "in_service": bool(g["in_hours"].any()),
    }), include_groups=False).reset_index()
    return names.merge(grouped, on="district_lgd", how="inner").sort_values("name_en").reset_index(drop=True)


# ---------------------------------------------------------------------------- history


def hub_events(ctx: DataContext, scope: Scope, district_lgd: int, start: datetime, end: datetime) -> pd.DataFrame:
    """Status events of the district's hubs between ``start`` and ``end`` (IST)."""
    e, f = fact_status_event.c, dim_facility.c
    stmt = (select(e.facility_id, e.event_time, e.kind, e.doctors_online, e.queue_length)
            .select_from(fact_status_event.join(dim_facility, f.facility_id == e.facility_id))
            .where(and_(f.district_lgd == district_lgd, f.role == "hub", scope_clause(f.district_lgd, scope),
                        e.event_time >= start, e.event_time <= end))
            .order_by(e.facility_id, e.event_time, e.event_id))
    with ctx.engine.connect() as conn:
        return read_df(conn, stmt)


def district_hubs(ctx: DataContext, scope: Scope, district_lgd: int) -> pd.DataFrame:
    f = dim_facility.c
    stmt = (select(f.facility_id, f.name, f.facility_type, f.service_start, f.service_end, f.service_days)
            .where(f.district_lgd == district_lgd, f.role == "hub", scope_clause(f.district_lgd, scope))
            .order_by(f.name))
    with ctx.engine.connect() as conn:
        return read_df(conn, stmt)


def _window(hub: pd.Series, day: date, now: datetime) -> tuple[datetime, datetime] | None:
    days = str(hub["service_days"] or "1111111").ljust(7, "1")
    if days[day.weekday()] != "1":
        return None
    start_s = _clock(pd.Series([hub["service_start"]]), DEFAULT_HOURS[0]).iloc[0]
    end_s = _clock(pd.Series([hub["service_end"]]), DEFAULT_HOURS[1]).iloc[0]
    base = datetime(day.year, day.month, day.day)
    start = base + timedelta(hours=int(start_s[:2]), minutes=int(start_s[3:]))
    end = min(base + timedelta(hours=int(end_s[:2]), minutes=int(end_s[3:])), now)
    return (start, end) if end > start else None


def timeline(hubs: pd.DataFrame, events: pd.DataFrame, days: list[date], now: datetime,
             config: LiveConfig) -> pd.DataFrame:
    """State segments per hub and day inside service hours: each event's state lasts until the next event, or for
    ``offline_minutes`` (then offline); an outage lasts until the next event; before the first event, offline."""
    columns = ["facility_id", "name", "day", "start", "end", "state"]
    if hubs.empty:
        return pd.DataFrame(columns=columns)
    ev = events.copy()
    if not ev.empty:
        ev["event_time"] = pd.to_datetime(ev["event_time"])
        ev["state"] = event_state(ev["kind"], ev["doctors_online"], ev["queue_length"],
                                  pd.Series("hub", index=ev.index))
    by_hub = {fid: g for fid, g in ev.groupby("facility_id")} if not ev.empty else {}
    fresh = timedelta(minutes=config.offline_minutes)
    segments: list[tuple] = []
    for _, hub in hubs.iterrows():
        hub_ev = by_hub.get(hub["facility_id"])
        times = hub_ev["event_time"].tolist() if hub_ev is not None else []
        states = hub_ev["state"].tolist() if hub_ev is not None else []
        stamps = np.array(times, dtype="datetime64[us]")
        for day in days:
            window = _window(hub, day, now)
            if window is None:
                continue
            start, end = window
            # From the last event before the window (it may still be fresh at its start) to the window's end.
            lo = int(np.searchsorted(stamps, np.datetime64(start), "left")) if times else 0
            known: list[tuple[datetime, datetime, str]] = []
            for i in range(max(lo - 1, 0), len(times)):
                t = times[i]
                if t >= end:
                    break
                if states[i] == "offline":
                    continue
                nxt = times[i + 1] if i + 1 < len(times) else end
                a, b = max(t, start), min(nxt, t + fresh, end)
                if b > a:
                    known.append((a, b, states[i]))
            pieces: list[tuple[datetime, datetime, str]] = []
            cursor = start
            for a, b, state in known:
                if a > cursor:
                    pieces.append((cursor, a, "offline"))
                pieces.append((a, b, state))
                cursor = b
            if cursor < end:
                pieces.append((cursor, end, "offline"))
            merged: list[list] = []
            for a, b, state in pieces:
                if merged and merged[-1][2] == state and merged[-1][1] == a:
                    merged[-1][1] = b
                else:
                    merged.append([a, b, state])
            segments += [(hub["facility_id"], hub["name"], day, a, b, state) for a, b, state in merged]
    return pd.DataFrame(segments, columns=columns)


def compliance(segments: pd.DataFrame) -> pd.DataFrame:
    """Per hub and day: minutes of service hours so far, minutes serving / idle / offline, the share online
    (serving or idle) and the first time it came online."""
    columns = ["facility_id", "name", "day", "service_minutes", "serving_minutes", "idle_minutes", "offline_minutes",
               "online_pct", "first_online"]
    if segments.empty:
        return pd.DataFrame(columns=columns)
    seg = segments.copy()
    seg["minutes"] = (pd.to_datetime(seg["end"]) - pd.to_datetime(seg["start"])).dt.total_seconds() / 60.0
    table = seg.pivot_table(index=["facility_id", "name", "day"], columns="state", values="minutes", aggfunc="sum",
                            fill_value=0.0)
    for state in ("serving", "idle", "offline"):
        if state not in table.columns:
            table[state] = 0.0
    out = table[["serving", "idle", "offline"]].rename(columns=lambda s: f"{s}_minutes").reset_index()
    out.columns.name = None
    out["service_minutes"] = out[["serving_minutes", "idle_minutes", "offline_minutes"]].sum(axis=1)
    online = out["serving_minutes"] + out["idle_minutes"]
    out["online_pct"] = (100.0 * online / out["service_minutes"].where(out["service_minutes"] > 0)).round(1)
    first = seg[seg["state"] != "offline"].groupby(["facility_id", "day"])["start"].min().rename("first_online")
    out = out.merge(first.reset_index(), on=["facility_id", "day"], how="left")
    for name in ("serving_minutes", "idle_minutes", "offline_minutes", "service_minutes"):
        out[name] = out[name].round(0).astype(int)
    return out[columns].sort_values(["name", "day"]).reset_index(drop=True)


def history(ctx: DataContext, scope: Scope, district_lgd: int, days: list[date], now: datetime,
            config: LiveConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(timeline segments, compliance) of the district's hubs over ``days``."""
    hubs = district_hubs(ctx, scope, district_lgd)
    if hubs.empty or not days:
        return timeline(hubs, pd.DataFrame(), [], now, config), compliance(pd.DataFrame())
    start = datetime(min(days).year, min(days).month, min(days).day) - timedelta(minutes=config.offline_minutes)
    end = datetime(max(days).year, max(days).month, max(days).day) + timedelta(days=1)
    events = hub_events(ctx, scope, district_lgd, start, min(end, now + timedelta(minutes=5)))
    # A day on which no hub of the district reported anything is a day without a status feed, not a day every hub
    # was down: it is left out rather than shown as 0% online.
    reported = set(pd.to_datetime(events["event_time"]).dt.date) if not events.empty else set()
    if reported:
        reported.add(now.date())  # the feed is running: silence today is real
    segments = timeline(hubs, events, [d for d in days if d in reported], now, config)
    return segments, compliance(segments)
