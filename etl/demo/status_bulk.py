"""Status events for many hubs at once (the national scale's 16,000 hubs make some 700,000 events a day): the same
events as ``status.status_events`` (session start, a heartbeat every ten minutes, session end), built as arrays and
written as JSON lines without a Python loop per event. Hubs with an outage go through ``status_events``."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from etl.demo.status import CONNECTIVITY, HEARTBEAT_MINUTES, SERVICE_END, SERVICE_START, Outage, status_events

CHUNK_HUBS = 2_000  # hubs turned into text at a time (bounds the intermediate strings)


def _text(values: np.ndarray) -> pd.Series:
    return pd.Series(values.astype(str), dtype=object)


def _lines(hub: np.ndarray, times: np.ndarray, kind: np.ndarray, docs: np.ndarray, queue: np.ndarray,
           seq: np.ndarray, link: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(event ids, JSON lines) for flat arrays of events."""
    iso = _text(np.datetime_as_string(times, unit="s"))
    compact = iso.str.replace(r"[-:T]", "", regex=True)
    hubs = _text(hub)
    event_id = "EV-" + hubs + "-" + compact + "-" + _text(seq).str.zfill(3)
    line = ('{"event_id": "' + event_id + '", "facility_id": "' + hubs + '", "event_time": "' + iso
            + '+05:30", "kind": "' + _text(kind) + '", "doctors_online": ' + _text(docs) + ', "queue_length": '
            + _text(queue) + ', "connectivity": "' + _text(link) + '"}')
    return event_id.to_numpy(dtype=object), line.to_numpy(dtype=object)


def bulk_status(hub_ids: list[str], day: date, outages: list[Outage], rng: np.random.Generator,
                cutoff: datetime | None) -> pd.DataFrame:
    """One day's events of every hub as a frame (event_id, kind, line), ordered by time, then event id."""
    down = {o.hub_id for o in outages}
    calm = np.array([h for h in hub_ids if h not in down], dtype=object)
    n = len(calm)
    slots = np.arange(SERVICE_START + HEARTBEAT_MINUTES, SERVICE_END, HEARTBEAT_MINUTES)
    doctors = rng.integers(1, 5, n)
    link = np.array(CONNECTIVITY, dtype=object)[rng.choice(len(CONNECTIVITY), n)]
    base = np.datetime64(day.isoformat(), "s")
    minute = np.timedelta64(60, "s")
    start = base + (SERVICE_START + rng.integers(-5, 6, n)) * minute
    beat = base + slots[None, :] * minute + rng.integers(0, 50, (n, len(slots))).astype("timedelta64[s]")
    end = base + (SERVICE_END + rng.integers(0, 10, n)) * minute
    times = np.column_stack([start, beat, end])
    k = times.shape[1]
    kind = np.full((n, k), "heartbeat", dtype=object)
    kind[:, 0], kind[:, -1] = "session_start", "session_end"
    docs = np.maximum(1, doctors[:, None] - (rng.random((n, len(slots))) < 0.2))
    queue = rng.poisson(3 + doctors[:, None], (n, len(slots)))
    docs = np.column_stack([doctors, docs, np.zeros(n, dtype=int)])
    queue = np.column_stack([np.zeros(n, dtype=int), queue, np.zeros(n, dtype=int)])
    seq = np.broadcast_to(np.arange(1, k + 1), (n, k))
    keep = np.ones((n, k), dtype=bool)
    if cutoff is not None:
        keep = times < np.datetime64(cutoff.replace(tzinfo=None).isoformat(timespec="seconds"), "s")
    ids, lines, secs, kinds = [], [], [], []
    for lo in range(0, n, CHUNK_HUBS):
        rows = slice(lo, lo + CHUNK_HUBS)
        m = keep[rows]
        hub = np.broadcast_to(calm[rows, None], m.shape)[m]
        event_id, line = _lines(hub, times[rows][m], kind[rows][m], docs[rows][m], queue[rows][m], seq[rows][m],
                                np.broadcast_to(link[rows, None], m.shape)[m])
        ids.append(event_id)
        lines.append(line)
        secs.append(times[rows][m].astype(np.int64))
        kinds.append(kind[rows][m])
    special = status_events(sorted(down & set(hub_ids)), [day], outages, rng, cutoff)
    if special:
        ids.append(np.array([e["event_id"] for e in special], dtype=object))
        lines.append(np.array([json.dumps(e, ensure_ascii=False) for e in special], dtype=object))
        secs.append(np.array([np.datetime64(e["event_time"][:19], "s").astype(np.int64) for e in special]))
        kinds.append(np.array([e["kind"] for e in special], dtype=object))
    event_id, line, sec, kind_all = (np.concatenate(a) if a else np.array([], dtype=object)
                                     for a in (ids, lines, secs, kinds))
    order = np.argsort(event_id, kind="stable")
    order = order[np.argsort(sec[order], kind="stable")]
    return pd.DataFrame({"event_id": event_id[order], "kind": kind_all[order], "line": line[order]}, dtype=object)


def write_bulk_status(path: Path, events: pd.DataFrame) -> Path:
    lines = events.line.to_numpy()
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for lo in range(0, len(lines), 50_000):
            handle.write("".join(line + "\n" for line in lines[lo : lo + 50_000]))
    return path


def kinds(events: pd.DataFrame) -> dict[str, int]:
    return {k: int(v) for k, v in sorted(Counter(events.kind.tolist()).items())}
