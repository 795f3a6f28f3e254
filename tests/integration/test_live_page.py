"""The live page through Dash's HTTP endpoint: the first render, refresh ticks that send only what changed (a Patch,
a row transaction, or nothing), outside service hours, acknowledging an alert, the history, the district list, and
the user's scope."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from dashboard.alerts.service import AlertService
from dashboard.figures.live import HUB_TRACE, STATE_COLOURS
from etl.transform.context import now_ist
from etl.warehouse.schema import alert, dim_facility
from tests.auth_helpers import login
from tests.fixtures.live import auth, event, live_app, settle_alerts, token
from tests.fixtures.warehouse_factory import bump_version
from tests.integration.test_dash_callbacks import call, texts

TICK = ["live-interval.n_intervals"]


@pytest.fixture()
def live(tmp_path):  # type: ignore[no-untyped-def]
    app, wh = live_app(tmp_path)
    client = app.server.test_client()
    user = login(client, app, role="state")
    secret = token(wh)
    facilities = ("H1", "H2", "S1", "S2", "S3", "S4")
    reply = client.post("/api/v1/status", json=[event(f, doctors=2 if f[0] == "H" else None, queue=1)
                                                 for f in facilities], headers=auth(secret))
    assert reply.status_code == 200
    app.server.extensions["arogya_alerts"].wait()
    yield app, wh, client, secret, user
    settle_alerts(app)  # not wait(): a tick's debounced evaluation is scheduled 30 s ahead


def page_module():  # type: ignore[no-untyped-def]
    """The live page's module as Dash loaded it (under the pages folder's module name)."""
    import sys

    return next(m for name, m in sys.modules.items() if name.endswith("live") and hasattr(m, "update_history"))


def first(app, client, lgd=203, lang=""):  # type: ignore[no-untyped-def]
    return call(app, client, "live-map.figure", [lgd, None], [None, lang])


def tick(app, client, snapshot, lgd=203, n=1, lang=""):  # type: ignore[no-untyped-def]
    return call(app, client, "live-map.figure", [lgd, n], [snapshot, lang], changed=TICK)


def test_live401_pages_render(live):  # type: ignore[no-untyped-def]
    app, _, client, _, _ = live
    for path in ("/live", "/live/203", "/live?lang=hi"):
        assert client.get(path).status_code == 200
    assert any("/live" in str(page["path"]) for page in __import__("dash").page_registry.values())


def test_live402_first_render(live):  # type: ignore[no-untyped-def]
    app, _, client, _, _ = live
    body = first(app, client)
    figure = body["live-map"]["figure"]
    snapshot = body["live-snapshot"]["data"]
    assert set(snapshot["rows"]) == {"H1", "H2", "S1", "S2", "S3", "S4"}
    h1 = snapshot["pos"]["H1"]
    assert h1[0] == HUB_TRACE and figure["data"][HUB_TRACE]["marker"]["color"][h1[1]] == STATE_COLOURS["serving"]
    rows = {r["facility_id"]: r for r in body["live-table"]["rowData"]}
    assert rows["H1"]["state"] == "serving" and rows["H1"]["doctors_online"] == 2
    assert rows["S1"]["state"] == "serving" and rows["S1"]["queue_length"] == 1  # a spoke with a patient queued
    kpis = texts(body["live-kpis"]["children"])
    assert "Hubs serving" in kpis and "2 of 2" in kpis and "Patients waiting" in kpis
    assert body["live-banner"]["children"] is None  # inside service hours: no notice
    assert "No alerts" in texts(body["live-alerts"]["children"])


def test_live403_a_tick_without_change_sends_nothing(live):  # type: ignore[no-untyped-def]
    app, _, client, _, _ = live
    snapshot = first(app, client)["live-snapshot"]["data"]
    assert tick(app, client, snapshot) in ({}, None) or set(tick(app, client, snapshot)) <= {"live-asof",
                                                                                               "live-snapshot"}


def test_live404_a_tick_sends_only_the_changed_facility(live):  # type: ignore[no-untyped-def]
    app, _, client, secret, _ = live
    snapshot = first(app, client)["live-snapshot"]["data"]
    assert client.post("/api/v1/status", json=event("H2", kind="outage", doctors=0),
                       headers=auth(secret)).status_code == 200
    body = tick(app, client, snapshot)
    patch = body["live-map"]["figure"]
    assert patch["__dash_patch_update"] == "__dash_patch_update"
    trace, index = snapshot["pos"]["H2"]
    colour = [op for op in patch["operations"] if op["location"][-2:] == ["color", index]]
    assert colour and colour[0]["params"]["value"] == STATE_COLOURS["offline"]
    assert colour[0]["location"] == ["data", trace, "marker", "color", index]
    # Besides H2, only its spokes may change (their estimated wait depends on its doctors); H1's are untouched.
    spokes_of_h1 = {snapshot["pos"][s][1] for s in ("S1", "S2")}
    for op in patch["operations"]:
        assert op["location"][1] == trace or op["location"][-1] not in spokes_of_h1, op
    updates = {r["facility_id"]: r for r in body["live-table"]["rowTransaction"]["update"]}
    assert updates["H2"]["state"] == "offline" and set(updates) <= {"H2", "S3", "S4"}
    assert "rowData" not in body.get("live-table", {})
    assert "1 of 2" in texts(body["live-kpis"]["children"])  # hubs serving went down


def test_live405_outside_service_hours_says_so(live):  # type: ignore[no-untyped-def]
    app, wh, client, _, _ = live
    now = now_ist()
    # Both windows lie hours away from now, also if the clock passes noon or midnight during the test (S1 and S2
    # once had 00:00-00:01, which is now for a minute each night).
    (start, end), other = (("13:00", "14:00"), ("15:00", "15:01")) if now.hour < 12 else \
        (("01:00", "02:00"), ("03:00", "03:01"))
    with wh.engine.begin() as conn:
        conn.execute(update(dim_facility).values(service_start=start, service_end=end))
        conn.execute(update(dim_facility).where(dim_facility.c.facility_id.in_(["S1", "S2"])).values(
            service_start=other[0], service_end=other[1]))
    body = first(app, client)
    banner = texts(body["live-banner"]["children"])
    assert "Outside service hours" in banner and f"{start}–{end}" in banner
    states = {r["facility_id"]: r["state"] for r in body["live-table"]["rowData"]}
    assert states["S4"] == "serving"  # still reporting: shown as it is
    hindi = first(app, client, lang="?lang=hi")
    assert "सेवा समय" in texts(hindi["live-banner"]["children"])


def test_live406_silent_facilities_go_offline_in_service_hours(live):  # type: ignore[no-untyped-def]
    app, wh, client, secret, _ = live
    old = event("S4", minutes_ago=40)
    client.post("/api/v1/status", json=old, headers=auth(secret))
    body = first(app, client)
    states = {r["facility_id"]: r["state"] for r in body["live-table"]["rowData"]}
    assert states["S4"] == "serving"  # the newer event of the fixture stays current
    with wh.engine.begin() as conn:
        conn.execute(update(dim_facility).where(dim_facility.c.facility_id == "S3").values(facility_id="S3X",
                                                                                          name="HSC New"))
    bump_version(wh.engine)  # a new facility master comes with a load, and a load bumps the data version
    app.server.extensions["arogya"].data.forget_version()
    body = first(app, client)
    rows = {r["facility_id"]: r for r in body["live-table"]["rowData"]}
    assert rows["S3X"]["state"] == "offline" and rows["S3X"]["last_seen"] == "never"


def test_live407_acknowledge_an_alert(live):  # type: ignore[no-untyped-def]
    app, wh, client, secret, user = live
    client.post("/api/v1/status", json=event("S1", queue=77), headers=auth(secret))
    service: AlertService = app.server.extensions["arogya_alerts"]
    settle_alerts(app)  # the ingest's debounced evaluation is not waited for: the test evaluates now
    service.evaluate()
    body = first(app, client)
    listing = texts(body["live-alerts"]["children"])
    assert "77 patients waiting" in listing and "Acknowledge" in listing
    with wh.engine.connect() as conn:
        alert_id = conn.execute(select(alert.c.alert_id).where(alert.c.facility_id == "S1")).scalar()
    clicks = [{"id": {"type": "live-ack", "alert": alert_id}, "property": "n_clicks", "value": 1}]
    reply = call(app, client, "live-alerts.children@", [clicks], [203, ""],
                 changed=[f'{{"alert":{alert_id},"type":"live-ack"}}.n_clicks'])
    assert f"acknowledged by {user}" in texts(reply["live-alerts"]["children"])
    with wh.engine.connect() as conn:
        row = conn.execute(select(alert.c.acknowledged_at, alert.c.acknowledged_by).where(
            alert.c.alert_id == alert_id)).one()
    assert row.acknowledged_at is not None and row.acknowledged_by == user


def test_live408_history(live, monkeypatch):  # type: ignore[no-untyped-def]
    app, wh, client, secret, _ = live
    frozen = now_ist().replace(microsecond=0)
    monkeypatch.setattr(page_module(), "live_now", lambda: frozen)
    yesterday = frozen - timedelta(days=1)
    base = datetime(yesterday.year, yesterday.month, yesterday.day, 10, 0)
    events = [event("H1", event_id=f"HIST-{m}", event_time=(base + timedelta(minutes=m)).isoformat())
              for m in range(0, 120, 10)]
    assert client.post("/api/v1/status", json=events, headers=auth(secret)).status_code == 200
    body = call(app, client, "live-timeline.figure", [203, yesterday.date().isoformat(), None], ["", None])
    timeline = body["live-timeline"]["figure"]
    serving = timeline["data"][0]
    assert "PHC Bahadurganj" in serving["y"]
    grid = body["live-compliance"]["figure"]["data"][0]
    row = grid["y"].index("PHC Bahadurganj")
    # Served all day and night (test hours 00:00-24:00): online 10:00-12:00 (+ 15 min after the last heartbeat).
    assert grid["z"][row][-2] == pytest.approx(round(100 * 125 / 1440, 1))
    # The next minute's tick with the same history sends nothing.
    key = body["live-history-key"]["data"]
    again = call(app, client, "live-timeline.figure", [203, yesterday.date().isoformat(), 1], ["", key],
                 changed=["live-history-interval.n_intervals"])
    assert again in ({}, None)


def test_live409_district_list(live):  # type: ignore[no-untyped-def]
    app, _, client, _, _ = live
    body = call(app, client, "live-districts.children", [None], ["", None])
    text = texts(body["live-districts"]["children"])
    assert "KISHANGANJ" in text and "2 of 2" in text
    assert call(app, client, "live-districts.children", [1], ["", body["live-districts-key"]["data"]]) in ({}, None)


def test_live410_scope_limits_the_board_and_the_alerts(tmp_path):  # type: ignore[no-untyped-def]
    app, wh = live_app(tmp_path)
    AlertService(wh.settings, lambda: wh.engine).evaluate()  # nothing reported: alerts everywhere
    client = app.server.test_client()
    login(client, app, role="district", districts=[200])
    other = first(app, client, lgd=203)
    assert other["live-table"]["rowData"] == [] and "No alerts" in texts(other["live-alerts"]["children"])
    own = first(app, client, lgd=200)
    assert {r["facility_id"] for r in own["live-table"]["rowData"]} == {"H3", "S5", "S6", "S7", "S8"}
    with wh.engine.connect() as conn:
        foreign = conn.execute(select(alert.c.alert_id).where(alert.c.district_lgd == 203)).scalars().first()
    clicks = [{"id": {"type": "live-ack", "alert": foreign}, "property": "n_clicks", "value": 1}]
    call(app, client, "live-alerts.children@", [clicks], [203, ""],
         changed=[f'{{"alert":{foreign},"type":"live-ack"}}.n_clicks'])
    with wh.engine.connect() as conn:
        assert conn.execute(select(alert.c.acknowledged_at).where(alert.c.alert_id == foreign)).scalar() is None


def test_live411_the_board_is_computed_once_for_all_viewers_and_a_new_status_shows_at_the_next_refresh(
        live, monkeypatch):  # type: ignore[no-untyped-def]
    app, wh, client, secret, _ = live
    module = page_module()
    computed: list[int] = []
    board = module.data.board

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        computed.append(1)
        return board(*args, **kwargs)

    monkeypatch.setattr(module.data, "board", counting)
    frozen = now_ist().replace(microsecond=0)
    monkeypatch.setattr(module, "live_now", lambda: frozen)  # the same minute: only the live version moves
    snapshot = first(app, client)["live-snapshot"]["data"]
    for n in (1, 2):  # other viewers and ticks in the same period: the shared board, nothing changed
        assert first(app, client)["live-snapshot"]["data"]["rows"] == snapshot["rows"]
        assert tick(app, client, snapshot, n=n) in ({}, None)
    assert len(computed) == 1
    # A committed status (the API bumps the live version in its transaction) shows at the very next refresh.
    assert client.post("/api/v1/status", json=event("H2", kind="outage", doctors=0),
                       headers=auth(secret)).status_code == 200
    body = tick(app, client, snapshot, n=3)
    assert body["live-table"]["rowTransaction"]["update"][0]["facility_id"] == "H2"
    assert body["live-table"]["rowTransaction"]["update"][0]["state"] == "offline"
    assert len(computed) == 2
    # What changes with time alone (a facility falling silent turns offline) shows within a minute, with no new status.
    monkeypatch.setattr(module, "live_now", lambda: frozen + timedelta(seconds=module.SHARED_S))
    first(app, client)
    assert len(computed) == 3
