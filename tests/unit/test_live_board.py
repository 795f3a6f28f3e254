"""The live board's pure parts: state classification, service hours, waits, the hub timeline and compliance, the
alert rules, the OpenAPI schema checks, token hashing and the rate limiter."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from dashboard.alerts.rules import conditions
from dashboard.api import openapi
from dashboard.api.tokens import LocalRateLimiter, hash_token, new_token
from dashboard.data.live import LiveConfig, classify, compliance, event_state, in_service_hours, timeline
from dashboard.figures.live import STATE_COLOURS, compliance_grid, live_map, state_timeline
from etl.contracts.catalog import STATUS

CFG = LiveConfig(offline_minutes=15, queue_threshold=20)
NOON = datetime(2025, 8, 29, 12, 0)  # a Friday
NIGHT = datetime(2025, 8, 29, 21, 0)


def facility(fid: str, role: str = "hub", *, minutes_ago: float | None = 2, kind: str = "heartbeat",
             doctors: int | None = 2, queue: int | None = 3, district: int = 203, hub_id: str | None = None,
             start: str = "09:00", end: str = "16:00", days: str = "1111111", now: datetime = NOON) -> dict:
    return {
        "facility_id": fid, "name": f"Facility {fid}", "facility_type": "PHC" if role == "hub" else "SC",
        "role": role, "district_lgd": district, "block_lgd": 1, "lat": 26.0, "lon": 87.0, "hub_id": hub_id,
        "service_start": start, "service_end": end, "service_days": days, "block_en": "B", "block_hi": "ब",
        "event_time": None if minutes_ago is None else now - timedelta(minutes=minutes_ago),
        "kind": None if minutes_ago is None else kind, "doctors_online": doctors, "queue_length": queue,
        "connectivity": "4G", "received_at": None,
    }


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def states(rows: pd.DataFrame, now: datetime = NOON) -> dict[str, str]:
    out = classify(rows, now, CFG)
    return dict(zip(out["facility_id"], out["state"], strict=True))


def test_live001_states_inside_service_hours():  # type: ignore[no-untyped-def]
    rows = frame(
        facility("SERVING"),
        facility("NODOCTOR", doctors=0),
        facility("ENDED", kind="session_end"),
        facility("OUTAGE", kind="outage", minutes_ago=1),
        facility("STALE", minutes_ago=16),
        facility("NEVER", minutes_ago=None),
        facility("UNKNOWN_DOCTORS", doctors=None),
        facility("SPOKE_BUSY", "spoke", doctors=None, queue=2, hub_id="SERVING"),
        facility("SPOKE_QUIET", "spoke", doctors=None, queue=0, hub_id="SERVING"),
    )
    assert states(rows) == {
        "SERVING": "serving", "NODOCTOR": "idle", "ENDED": "idle", "OUTAGE": "offline", "STALE": "offline",
        "NEVER": "offline", "UNKNOWN_DOCTORS": "serving", "SPOKE_BUSY": "serving", "SPOKE_QUIET": "idle",
    }


def test_live002_outside_service_hours_nothing_is_offline():  # type: ignore[no-untyped-def]
    rows = frame(facility("LATE", now=NIGHT), facility("GONE", minutes_ago=300, now=NIGHT),
                 facility("NEVER", minutes_ago=None, now=NIGHT), facility("DOWN", kind="outage", now=NIGHT))
    assert states(rows, NIGHT) == {"LATE": "serving", "GONE": "off_hours", "NEVER": "off_hours",
                                   "DOWN": "off_hours"}


def test_live003_service_hours_and_days_per_facility():  # type: ignore[no-untyped-def]
    rows = frame(facility("A"), facility("EARLY", start="06:00", end="11:00"),
                 facility("NOT_FRIDAY", days="1111011"), facility("BLANK", start=None, end=None, days=None))
    assert list(in_service_hours(rows, NOON)) == [True, False, False, True]
    # 16:00 is the end: a facility is closed from 16:00 on.
    assert list(in_service_hours(rows.iloc[:1], NOON.replace(hour=16))) == [False]
    assert list(in_service_hours(rows.iloc[:1], NOON.replace(hour=9))) == [True]


def test_live004_offline_threshold_is_configurable():  # type: ignore[no-untyped-def]
    rows = frame(facility("A", minutes_ago=20))
    assert states(rows) == {"A": "offline"}
    assert classify(rows, NOON, LiveConfig(offline_minutes=30))["state"].tolist() == ["serving"]
    assert LiveConfig.from_settings(object()).offline_minutes == 15
    assert LiveConfig.from_settings(type("S", (), {"live_refresh_s": 2})()).refresh_s == 10  # at most every 10 s


def test_live005_estimated_wait():  # type: ignore[no-untyped-def]
    rows = frame(facility("H", doctors=2, queue=6), facility("S", "spoke", doctors=None, queue=3, hub_id="H"),
                 facility("X", minutes_ago=40, queue=9))
    out = classify(rows, NOON, CFG, {"H": 10.0}).set_index("facility_id")
    assert out.at["H", "wait_minutes"] == 30  # 6 patients × 10 min / 2 doctors
    assert out.at["S", "wait_minutes"] == 15  # 3 patients × 10 min / the hub's 2 doctors
    assert math.isnan(out.at["X", "wait_minutes"])  # offline: no estimate


def test_live006_event_state_table():  # type: ignore[no-untyped-def]
    s = event_state(pd.Series(["heartbeat", "outage", "session_end", "recovery"]), pd.Series([1, 5, 5, 0]),
                    pd.Series([0, 0, 0, 0]), pd.Series(["hub"] * 4))
    assert s.tolist() == ["serving", "offline", "idle", "idle"]


HUBS = pd.DataFrame([{"facility_id": "H1", "name": "Hub one", "facility_type": "PHC", "service_start": "09:00",
                      "service_end": "16:00", "service_days": "1111111"}])


def ev(when: str, kind: str = "heartbeat", doctors: int = 2) -> dict:
    return {"facility_id": "H1", "event_time": pd.Timestamp(f"2025-08-29 {when}"), "kind": kind,
            "doctors_online": doctors, "queue_length": 0}


def test_live007_timeline_segments():  # type: ignore[no-untyped-def]
    events = pd.DataFrame([
        ev("08:58"),  # before the window, still fresh at 09:00 (until 09:13)
        ev("09:10"), ev("09:20"),  # then silent after 09:20 → offline from 09:35
        ev("10:00", "outage"), ev("10:30", "recovery", 0),  # outage 10:00-10:30, then idle (no doctors) until 10:45
        ev("11:00", doctors=3),  # serving until 11:15, then offline to the end of the window
    ])
    day = date(2025, 8, 29)
    seg = timeline(HUBS, events, [day], datetime(2025, 8, 29, 12, 0), CFG)
    got = [(a.strftime("%H:%M"), b.strftime("%H:%M"), s) for a, b, s in zip(seg["start"], seg["end"], seg["state"],
                                                                             strict=True)]
    assert got == [("09:00", "09:35", "serving"), ("09:35", "10:30", "offline"), ("10:30", "10:45", "idle"),
                   ("10:45", "11:00", "offline"), ("11:00", "11:15", "serving"), ("11:15", "12:00", "offline")]
    table = compliance(seg)
    row = table.iloc[0]
    assert (row.service_minutes, row.serving_minutes, row.idle_minutes, row.offline_minutes) == (180, 50, 15, 115)
    assert row.online_pct == pytest.approx(round(100 * 65 / 180, 1))
    assert row.first_online == pd.Timestamp("2025-08-29 09:00")


def test_live008_timeline_day_not_served_and_no_events():  # type: ignore[no-untyped-def]
    hubs = HUBS.assign(service_days="1111011")  # not on Fridays
    assert timeline(hubs, pd.DataFrame([ev("10:00")]), [date(2025, 8, 29)], NOON, CFG).empty
    seg = timeline(HUBS, pd.DataFrame(), [date(2025, 8, 28)], NOON, CFG)
    assert seg["state"].tolist() == ["offline"] and seg["start"].iloc[0].hour == 9 and seg["end"].iloc[0].hour == 16


def test_live009_alert_rules():  # type: ignore[no-untyped-def]
    rows = classify(frame(
        facility("H_OK", district=1), facility("H_SILENT", minutes_ago=40, district=1),
        facility("H_NEVER", minutes_ago=None, district=1), facility("H_DOWN", kind="outage", district=1),
        facility("H_IDLE", doctors=0, district=2), facility("S_QUEUE", "spoke", queue=25, district=2),
        facility("S_BORDER", "spoke", queue=20, district=2),
    ), NOON, CFG)
    found = {(c.kind, c.facility_id or c.district_lgd) for c in conditions(rows, NOON, CFG, {2: "Kaimur"})}
    assert found == {("hub_offline", "H_SILENT"), ("hub_offline", "H_NEVER"), ("hub_offline", "H_DOWN"),
                     ("queue_high", "S_QUEUE"), ("district_no_hub", 2)}
    by_id = {c.facility_id: c for c in conditions(rows, NOON, CFG) if c.kind == "hub_offline"}
    assert by_id["H_DOWN"].details["reason"] == "outage" and by_id["H_NEVER"].details["reason"] == "never"
    assert "40 min" in by_id["H_SILENT"].message
    # At night nothing is raised for silent hubs or districts.
    night = classify(frame(facility("H", minutes_ago=None, now=NIGHT)), NIGHT, CFG)
    assert conditions(night, NIGHT, CFG) == []


def test_live010_schema_is_built_from_the_contract():  # type: ignore[no-untyped-def]
    schema = openapi.EVENT_SCHEMA
    assert set(schema["properties"]) == {f.name for f in STATUS.fields}
    assert schema["required"] == list(STATUS.required)
    assert schema["properties"]["kind"]["enum"] == ["heartbeat", "session_start", "session_end", "outage", "recovery"]
    props = schema["properties"]
    assert props["event_id"]["maxLength"] == 64 and props["facility_id"]["maxLength"] == 40
    doc = openapi.document()
    body = doc["paths"]["/api/v1/status"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["oneOf"][1]["maxItems"] == openapi.MAX_EVENTS
    assert {"200", "400", "401", "403", "413", "415", "422", "429", "503"} <= set(
        doc["paths"]["/api/v1/status"]["post"]["responses"])


@pytest.mark.parametrize(("item", "codes"), [
    ({"event_id": "e", "facility_id": "F", "event_time": "2025-08-29T10:00:00", "kind": "heartbeat"}, []),
    ({"event_id": "e", "facility_id": "F", "event_time": "t", "kind": "heartbeat", "doctors_online": None}, []),
    ({"facility_id": "F", "event_time": "t", "kind": "heartbeat"}, ["missing_field"]),
    ({"event_id": 7, "facility_id": "F", "event_time": "t", "kind": "heartbeat"}, ["bad_type"]),
    ({"event_id": "e", "facility_id": "F", "event_time": "t", "kind": "ping"}, ["bad_value"]),
    ({"event_id": "e", "facility_id": "F", "event_time": "t", "kind": "heartbeat", "queue_length": 2.5},
     ["bad_type"]),
    ({"event_id": "e", "facility_id": "F", "event_time": "t", "kind": "heartbeat", "queue_length": True},
     ["bad_type"]),
    ({"event_id": "e", "facility_id": "F", "event_time": "t", "kind": "heartbeat", "queue_length": -1},
     ["negative_value"]),
    ({"event_id": "e", "facility_id": "F", "event_time": "t", "kind": "heartbeat", "doctors_online": 10**9},
     ["out_of_range"]),
    ({"event_id": "e" * 65, "facility_id": "F", "event_time": "t", "kind": "heartbeat"}, ["too_long"]),
    ({"event_id": "e", "facility_id": "F", "event_time": "t", "kind": "heartbeat", "colour": "red"},
     ["unknown_field"]),
    (["not", "an", "object"], ["not_an_object"]),
])
def test_live011_event_checks(item, codes):  # type: ignore[no-untyped-def]
    assert [code for _, code, _ in openapi.check_event(item)] == codes


def test_live012_tokens_are_random_and_hashed():  # type: ignore[no-untyped-def]
    a, b = new_token(), new_token()
    assert a != b and a.startswith("arogya_") and len(a) > 40
    assert len(hash_token(a)) == 64 and hash_token(a) != hash_token(b) and a not in hash_token(a)


def test_live013_token_bucket():  # type: ignore[no-untyped-def]
    now = [0.0]
    limiter = LocalRateLimiter(clock=lambda: now[0])
    assert all(limiter.take("t", 6) == 0 for _ in range(6))  # a burst of a minute's worth
    wait = limiter.take("t", 6)
    assert wait == pytest.approx(10.0)  # 6 a minute: one every 10 s
    now[0] = 10.0
    assert limiter.take("t", 6) == 0 and limiter.take("t", 6) > 0
    assert limiter.take("other", 6) == 0  # buckets are per key


def test_live014_figures():  # type: ignore[no-untyped-def]
    rows = classify(frame(facility("H1"), facility("S1", "spoke", queue=0, doctors=None, hub_id="H1"),
                          facility("S2", "spoke", minutes_ago=None, hub_id="H1")), NOON, CFG)
    figure, positions = live_map(rows, None, 203, "hi")
    assert positions == {"S1": [1, 0], "S2": [1, 1], "H1": [3, 0]}
    assert figure["data"][1]["marker"]["color"] == [STATE_COLOURS["idle"], STATE_COLOURS["offline"]]
    assert figure["data"][3]["marker"]["color"] == [STATE_COLOURS["serving"]]
    assert "ऑफ़लाइन" in figure["data"][1]["text"][1]
    assert all(trace["type"] in ("scattermap", "choroplethmap") for trace in figure["data"])
    assert figure["layout"]["map"]["style"] == "white-bg"  # no tiles
    seg = timeline(HUBS, pd.DataFrame([ev("09:00")]), [date(2025, 8, 29)], NOON, CFG)
    tl = state_timeline(seg, date(2025, 8, 29), "en")
    assert [t_["name"] for t_ in tl["data"]] == ["Serving", "Idle", "Offline"]
    assert tl["data"][0]["x"] == [15 * 60 * 1000]
    grid = compliance_grid(compliance(seg), [date(2025, 8, 28), date(2025, 8, 29)], "en")
    assert grid["data"][0]["z"] == [[None, pytest.approx(round(100 * 15 / 180, 1))]]
