"""Alerts: evaluation against the warehouse (raise once, clear when over), delivery to a local webhook receiver and a
local SMTP server (with retries), evaluation after an ingest, concurrent evaluations, the CLI."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from arogya_cli import main
from dashboard.alerts.delivery import DeliveryConfig
from dashboard.alerts.service import MAX_ROUNDS, AlertService
from dashboard.api.status import StatusIngest
from etl.transform.context import now_ist
from etl.warehouse.engine import make_engine
from etl.warehouse.schema import alert, dim_facility
from tests.fixtures.live import (
    SmtpReceiver,
    WebhookReceiver,
    auth,
    event,
    live_app,
    live_warehouse,
    token,
)


def post(wh, *events, secret=None):  # type: ignore[no-untyped-def]
    ingest = StatusIngest(wh.settings, wh.engine)
    return ingest.handle(f"Bearer {secret or token(wh, 'alerts-test')}", json.dumps(list(events)).encode(),
                         "application/json")


def healthy(wh) -> None:  # type: ignore[no-untyped-def]
    """Every facility reports: hubs with doctors and a short queue, spokes quiet."""
    post(wh, *[event(f, doctors=2 if f.startswith("H") else None, queue=1)
               for f in ("H1", "H2", "H3", "H4", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9")])


def alerts(wh, open_only: bool = True) -> list:  # type: ignore[no-untyped-def]
    a = alert.c
    stmt = select(a.alert_id, a.kind, a.facility_id, a.district_lgd, a.cleared_at, a.delivered_at,
                  a.delivery_attempts, a.details).order_by(a.alert_id)
    if open_only:
        stmt = stmt.where(a.cleared_at.is_(None))
    with wh.engine.connect() as conn:
        return conn.execute(stmt).all()


def service(wh, **delivery) -> AlertService:  # type: ignore[no-untyped-def]
    return AlertService(wh.settings, lambda: wh.engine, delivery=DeliveryConfig(**delivery),
                        sleep=lambda s: None)


def test_live301_raise_once_and_clear(tmp_path):  # type: ignore[no-untyped-def]
    wh = live_warehouse(tmp_path)
    svc = service(wh)
    # Nothing has reported: every hub is offline in its (all-day) service hours, no district has a hub serving.
    first = svc.evaluate()
    kinds = sorted((r.kind, r.facility_id or str(r.district_lgd)) for r in alerts(wh))
    assert kinds == [("district_no_hub", "200"), ("district_no_hub", "203"), ("district_no_hub", "212"),
                     ("hub_offline", "H1"), ("hub_offline", "H2"), ("hub_offline", "H3"), ("hub_offline", "H4")]
    assert len(first.raised) == 7
    assert svc.evaluate().raised == []  # still true: nothing new
    healthy(wh)
    second = svc.evaluate()
    assert sorted(second.cleared) == sorted(first.raised) and alerts(wh) == []
    # A queue above the threshold and an outage report.
    post(wh, event("S5", queue=35), event("H3", kind="outage", doctors=0))
    third = svc.evaluate()
    assert sorted((r.kind, r.facility_id or str(r.district_lgd)) for r in alerts(wh)) == [
        ("district_no_hub", "200"), ("hub_offline", "H3"), ("queue_high", "S5")]
    assert len(third.raised) == 3
    details = {r.kind: r.details for r in alerts(wh)}
    assert details["hub_offline"]["reason"] == "outage" and details["queue_high"]["queue"] == 35


def test_live302_webhook_delivery_is_retried_until_it_succeeds(tmp_path):  # type: ignore[no-untyped-def]
    wh = live_warehouse(tmp_path)
    healthy(wh)
    post(wh, event("S1", queue=40))
    with WebhookReceiver(fail_first=2) as hook:
        svc = service(wh, webhook_url=hook.url, webhook_secret="s3cret", retries=3, backoff_s=0.01,
                      public_url="https://arogya.example")
        result = svc.evaluate()
        assert len(result.raised) == 1 and result.delivered == result.raised
        assert len(hook.requests) == 3  # two HTTP 500s, then success
        headers, body = hook.requests[-1]
    assert body["kind"] == "queue_high" and body["facility_id"] == "S1" and body["details"]["queue"] == 40
    assert body["alert_id"] == result.raised[0] and body["raised_at"].endswith("+05:30")
    assert "40" in body["text_en"] and "प्रतीक्षा" in body["text_hi"]
    assert body["url"] == "https://arogya.example/live/203"
    signature = hmac.new(b"s3cret", json.dumps(body, ensure_ascii=False).encode(), hashlib.sha256).hexdigest()
    assert headers["X-Arogya-Signature"] == f"sha256={signature}"
    assert headers["X-Arogya-Alert-Id"] == str(body["alert_id"])
    row = alerts(wh)[0]
    assert row.delivered_at is not None and row.delivery_attempts == 1
    # Delivered alerts are not sent again.
    assert svc.evaluate().delivered == []


def test_live303_email_through_smtp(tmp_path):  # type: ignore[no-untyped-def]
    wh = live_warehouse(tmp_path)
    healthy(wh)
    post(wh, event("H2", kind="outage", doctors=0))
    with SmtpReceiver() as smtp:
        svc = service(wh, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_from="alerts@arogya.test",
                      email_to=("cs.kishanganj@example.in", "dpc@example.in"))
        result = svc.evaluate()
        assert result.delivered == result.raised and len(result.raised) == 1
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "cs.kishanganj@example.in, dpc@example.in"
    assert message["Subject"].startswith("[Arogya] Hub DH Kishanganj (H2) is offline")
    text = message.get_content()
    assert "reported an outage" in text and "हब DH Kishanganj (H2)" in text
    assert smtp.envelopes[0][1] == ["<cs.kishanganj@example.in>", "<dpc@example.in>"]


def test_live304_failed_delivery_backs_off_between_rounds_and_gives_up(tmp_path):  # type: ignore[no-untyped-def]
    wh = live_warehouse(tmp_path)
    healthy(wh)
    post(wh, event("S2", queue=50))
    clock = [now_ist().replace(microsecond=0)]
    with WebhookReceiver(fail_first=1000) as hook:
        svc = AlertService(wh.settings, lambda: wh.engine, sleep=lambda s: None, clock=lambda: clock[0],
                           delivery=DeliveryConfig(webhook_url=hook.url, retries=1, backoff_s=0.01))
        result = svc.evaluate()
        assert result.failed == result.raised and len(hook.requests) == 2
        assert svc.evaluate().failed == []  # too soon for the next round
        attempts = []
        for _ in range(MAX_ROUNDS + 2):
            clock[0] += timedelta(minutes=20)
            svc.evaluate()
            attempts.append(alerts(wh)[0].delivery_attempts)
        assert attempts[-1] == MAX_ROUNDS and alerts(wh)[0].delivered_at is None
        assert "HTTP 500" in alerts(wh)[0].details["delivery"]["errors"]["webhook"]


def test_live310_a_permanent_refusal_is_not_retried(tmp_path):  # type: ignore[no-untyped-def]
    wh = live_warehouse(tmp_path)
    healthy(wh)
    post(wh, event("S3", queue=60))
    with WebhookReceiver(status_after=404) as hook:
        svc = service(wh, webhook_url=hook.url, retries=3)
        assert len(svc.evaluate().failed) == 1 and len(hook.requests) == 1


def test_live305_concurrent_evaluations_raise_each_alert_once(tmp_path):  # type: ignore[no-untyped-def]
    wh = live_warehouse(tmp_path)
    engines = [make_engine(wh.settings) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def run(engine):  # type: ignore[no-untyped-def]
        try:
            svc = AlertService(wh.settings, lambda: engine, delivery=DeliveryConfig())
            barrier.wait()
            svc.evaluate()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    keys = [(r.kind, r.facility_id, r.district_lgd) for r in alerts(wh, open_only=False)]
    assert len(keys) == len(set(keys)) == 7


def test_live306_an_ingest_triggers_an_evaluation(tmp_path):  # type: ignore[no-untyped-def]
    app, wh = live_app(tmp_path)
    client = app.server.test_client()
    secret = token(wh)
    facilities = ("H1", "H2", "H3", "H4", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9")
    assert client.post("/api/v1/status", json=[event(f) for f in facilities], headers=auth(secret)).status_code == 200
    svc = app.server.extensions["arogya_alerts"]
    svc.wait()
    assert alerts(wh) == []
    assert client.post("/api/v1/status", json=event("H4", kind="outage", doctors=0),
                       headers=auth(secret)).status_code == 200
    svc.wait()  # the debounced evaluation after the ingest (scheduled for the end of the interval)
    assert sorted((r.kind, r.facility_id or str(r.district_lgd)) for r in alerts(wh)) == [
        ("district_no_hub", "212"), ("hub_offline", "H4")]


def test_live307_alerts_run_command(tmp_path, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    wh = live_warehouse(tmp_path)
    monkeypatch.setenv("AROGYA_DATABASE_URL", wh.settings.database_url)
    monkeypatch.setenv("AROGYA_DATA_DIR", str(tmp_path))
    assert main(["alerts", "run"]) == 0
    assert "7 open, 7 raised" in capsys.readouterr().out
    assert main(["alerts", "run"]) == 0
    assert "7 open, 0 raised" in capsys.readouterr().out


def test_live308_facility_hours_decide_what_is_offline(tmp_path):  # type: ignore[no-untyped-def]
    wh = live_warehouse(tmp_path)
    now = now_ist()
    closed = "0000000"
    with wh.engine.begin() as conn:
        conn.execute(update(dim_facility).where(dim_facility.c.district_lgd != 203).values(service_days=closed))
    svc = service(wh)
    svc.evaluate(now)
    assert sorted((r.kind, r.facility_id or str(r.district_lgd)) for r in alerts(wh)) == [
        ("district_no_hub", "203"), ("hub_offline", "H1"), ("hub_offline", "H2")]


@pytest.mark.parametrize("channel", ["webhook", "email"])
def test_live309_unreachable_channel_is_a_failure_not_a_crash(tmp_path, channel):  # type: ignore[no-untyped-def]
    wh = live_warehouse(tmp_path)
    healthy(wh)
    post(wh, event("S1", queue=99))
    config = {"webhook_url": "http://127.0.0.1:9/hook"} if channel == "webhook" else {
        "smtp_host": "127.0.0.1", "smtp_port": 9, "email_to": ("x@example.in",)}
    svc = service(wh, retries=1, backoff_s=0.01, timeout_s=1, **config)
    result = svc.evaluate()
    assert result.failed == result.raised and alerts(wh)[0].delivered_at is None


def test_live311_wait_never_joins_an_evaluation_that_is_not_started(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A trigger publishes its evaluation thread and starts it; a wait() that runs in between must not find the
    thread unstarted (joining it raises). The thread's start is held back to open that window wide."""
    import types

    from dashboard.alerts import service as service_module

    starting = threading.Event()

    class SlowStart(threading.Thread):
        def start(self) -> None:
            starting.set()
            threading.Event().wait(0.3)
            super().start()

    monkeypatch.setattr(service_module, "threading", types.SimpleNamespace(
        Lock=threading.Lock, Timer=threading.Timer, Thread=SlowStart))
    svc = service(live_warehouse(tmp_path))
    monkeypatch.setattr(svc, "evaluate", lambda: None)
    errors: list[BaseException] = []

    def waiter() -> None:
        starting.wait(5)
        try:
            svc.wait(5)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    watcher = threading.Thread(target=waiter)
    watcher.start()
    assert svc.maybe_evaluate(0.0)
    watcher.join(10)
    svc.wait(5)
    assert errors == []
