"""Evaluating the rules against the warehouse, keeping the ``alert`` table in step, delivering and acknowledging.

``evaluate`` reads the live state of every facility, compares the conditions that hold with the open alerts (raised,
not cleared), raises the new ones and clears those that stopped holding — inside one write transaction, serialised
across processes (SQLite's write lock; a PostgreSQL advisory lock), so concurrent evaluations never raise an alert
twice. Delivery happens after the commit, outside any transaction: an alert is claimed by bumping its
``delivery_attempts`` where it still has the value read (so two processes never send the same round), sent on each
configured channel not yet done (recorded in ``details.delivery``), and marked ``delivered_at`` once every channel
succeeded. A failed round is retried on a later evaluation after 1, 2, 4, 8 minutes, at most ``MAX_ROUNDS`` rounds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Engine, func, insert, select, update

from dashboard.alerts.delivery import Delivery, DeliveryConfig
from dashboard.alerts.rules import Condition, conditions
from dashboard.alerts.texts import alert_text
from dashboard.data.context import DataContext
from dashboard.data.filters import Scope
from dashboard.data.live import LiveConfig, classify, facilities_status
from etl.load.ledger import bump_live_version
from etl.transform.context import now_ist
from etl.warehouse.schema import alert, dim_district

log = logging.getLogger(__name__)

EXTENSION = "arogya_alerts"
MAX_ROUNDS = 5
ROUND_BACKOFF = timedelta(minutes=1)
INGEST_DEBOUNCE_S = 5.0
TICK_DEBOUNCE_S = 30.0
ADVISORY_LOCK_KEY = 0x41524F47  # "AROG"


@dataclass
class Evaluation:
    raised: list[int] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    open: int = 0


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat() + "+05:30"


class AlertService:
    def __init__(self, settings: object, engine_fn: Callable[[], Engine], *, config: LiveConfig | None = None,
                 delivery: DeliveryConfig | None = None, clock: Callable[[], datetime] = now_ist,
                 sleep: Callable[[float], None] = time.sleep, reader_fn: Callable[[], Engine] | None = None) -> None:
        self.settings = settings
        self._engine_fn = engine_fn
        self._reader_fn = reader_fn or engine_fn
        self.config = config or LiveConfig.from_settings(settings)
        self.delivery_config = delivery or DeliveryConfig.from_settings(settings)
        self.delivery = Delivery(self.delivery_config, sleep=sleep)
        self.clock = clock
        self._last_started = -1e9
        self._running = False
        self._state = threading.Lock()
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    @property
    def engine(self) -> Engine:
        return self._engine_fn()

    @property
    def reader(self) -> Engine:
        """For the reads of the live state (a read-only engine takes no write lock on SQLite)."""
        return self._reader_fn()

    # ------------------------------------------------------------------ evaluation

    def current_conditions(self, now: datetime) -> list[Condition]:
        ctx = DataContext(self.reader, None)
        rows = classify(facilities_status(ctx, Scope.full()), now, self.config)
        with self.reader.connect() as conn:
            names = {int(k): v for k, v in conn.execute(select(dim_district.c.district_lgd, dim_district.c.name_en))}
        return conditions(rows, now, self.config, names)

    def evaluate(self, now: datetime | None = None, *, deliver: bool = True) -> Evaluation:
        now = (now or self.clock()).replace(microsecond=0)
        holding = {c.key: c for c in self.current_conditions(now)}
        result = Evaluation()
        a = alert.c
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
            open_rows = conn.execute(select(a.alert_id, a.kind, a.facility_id, a.district_lgd)
                                     .where(a.cleared_at.is_(None))).all()
            open_keys = {(r.kind, r.facility_id or "", int(r.district_lgd or 0)): int(r.alert_id) for r in open_rows}
            for key, condition in holding.items():
                if key in open_keys:
                    continue
                alert_id = conn.execute(insert(alert).values(
                    kind=condition.kind, facility_id=condition.facility_id, district_lgd=condition.district_lgd,
                    raised_at=now, message=condition.message[:2000], details=condition.details,
                    delivery_attempts=0).returning(a.alert_id)).scalar_one()
                result.raised.append(int(alert_id))
                log.info("alert %s raised: %s", alert_id, condition.message)
            gone = [alert_id for key, alert_id in open_keys.items() if key not in holding]
            if gone:
                conn.execute(update(alert).where(a.alert_id.in_(gone)).values(cleared_at=now))
            result.cleared = gone
            if result.raised or gone:
                bump_live_version(conn)  # the live boards show the district's alerts
        result.open = len(holding)
        if result.raised or result.cleared:
            log.warning("alerts: %s raised, %s cleared, %s open", len(result.raised), len(result.cleared), result.open)
        if deliver:
            delivered, failed = self.deliver_pending(now)
            result.delivered, result.failed = delivered, failed
        return result

    # ------------------------------------------------------------------ delivery

    def payload(self, row: Any) -> dict[str, Any]:
        details = dict(row.details or {})
        details.pop("delivery", None)
        body = {"alert_id": int(row.alert_id), "kind": row.kind, "facility_id": row.facility_id,
                "district_lgd": row.district_lgd, "raised_at": _iso(row.raised_at), "message": row.message,
                "details": details}
        body["text_en"] = alert_text(body, "en")
        body["text_hi"] = alert_text(body, "hi")
        if self.delivery_config.public_url and row.district_lgd is not None:
            body["url"] = f"{self.delivery_config.public_url}/live/{int(row.district_lgd)}"
        return body

    def deliver_pending(self, now: datetime | None = None) -> tuple[list[int], list[int]]:
        """Send the open, undelivered alerts that are due. Returns (delivered, failed) alert ids."""
        channels = self.delivery_config.channels
        if not channels:
            return [], []
        now = now or self.clock()
        a = alert.c
        with self.reader.connect() as conn:
            pending = conn.execute(select(a.alert_id, a.kind, a.facility_id, a.district_lgd, a.raised_at, a.message,
                                          a.details, a.delivery_attempts)
                                   .where(a.delivered_at.is_(None), a.cleared_at.is_(None),
                                          a.delivery_attempts < MAX_ROUNDS).order_by(a.alert_id)).all()
        delivered: list[int] = []
        failed: list[int] = []
        for row in pending:
            details = dict(row.details or {})
            state = dict(details.get("delivery") or {})
            attempts = int(row.delivery_attempts)
            last = state.get("last_attempt")
            if attempts and last and now < datetime.fromisoformat(last) + ROUND_BACKOFF * 2 ** (attempts - 1):
                continue
            state["last_attempt"] = now.isoformat()
            details["delivery"] = state
            with self.engine.begin() as conn:
                claimed = conn.execute(update(alert).where(
                    a.alert_id == row.alert_id, a.delivery_attempts == attempts, a.delivered_at.is_(None))
                    .values(delivery_attempts=attempts + 1, details=details)).rowcount
            if claimed != 1:
                continue  # another process is on it
            todo = tuple(c for c in channels if not state.get(c))
            outcome = self.delivery.send(self.payload(row), todo)
            for channel, ok in outcome.sent.items():
                if ok:
                    state[channel] = now.isoformat()
            if outcome.errors:
                state["errors"] = outcome.errors
            details["delivery"] = state
            done = all(state.get(c) for c in channels)
            with self.engine.begin() as conn:
                conn.execute(update(alert).where(a.alert_id == row.alert_id).values(
                    details=details, delivered_at=now if done else None))
            (delivered if done else failed).append(int(row.alert_id))
        return delivered, failed

    # ------------------------------------------------------------------ acknowledge

    def acknowledge(self, alert_id: int, user: str | None, now: datetime | None = None) -> bool:
        a = alert.c
        with self.engine.begin() as conn:
            count = conn.execute(update(alert).where(a.alert_id == int(alert_id), a.acknowledged_at.is_(None))
                                 .values(acknowledged_at=(now or self.clock()).replace(microsecond=0),
                                         acknowledged_by=(user or "dashboard")[:80])).rowcount
            if count == 1:
                bump_live_version(conn)
        return count == 1

    # ------------------------------------------------------------------ triggers

    def maybe_evaluate(self, min_interval_s: float = TICK_DEBOUNCE_S) -> bool:
        """Start an evaluation in a background thread, at most one every ``min_interval_s`` seconds: a trigger that
        comes sooner (or while one runs) schedules one more run for when the interval is over, so the last change is
        always evaluated. Returns whether a run started now."""
        with self._state:
            return self._start_or_schedule(min_interval_s)

    def _start_or_schedule(self, min_interval_s: float) -> bool:
        """``maybe_evaluate`` with the lock held. The state changes in one hold, so ``wait()`` sees either a timer, or
        a run with its thread started, or nothing to wait for; never a thread that is not started yet."""
        now = time.monotonic()
        due = self._last_started + min_interval_s
        if self._running or now < due:
            if self._timer is None:
                self._timer = threading.Timer(max(due - now, 0.2), self._trailing, args=(min_interval_s,))
                self._timer.daemon = True
                self._timer.start()
            return False
        thread = threading.Thread(target=self._run, name="arogya-alerts", daemon=True)
        thread.start()  # if it cannot start, nothing is marked running
        self._running, self._last_started, self._thread = True, now, thread
        return True

    def _trailing(self, min_interval_s: float) -> None:
        with self._state:  # the timer is gone and its run started (or scheduled again) in one hold: see wait()
            self._timer = None
            self._start_or_schedule(min_interval_s)

    def _run(self) -> None:
        try:
            self.evaluate()
        except Exception:  # noqa: BLE001 - a background evaluation must never take a worker down
            log.exception("alert evaluation failed")
        finally:
            with self._state:
                self._running = False

    def after_ingest(self, _result: object) -> None:
        self.maybe_evaluate(INGEST_DEBOUNCE_S)

    def wait(self, timeout_s: float = 30.0) -> None:
        """Wait for background evaluations, scheduled ones included, to finish (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._state:
                timer, thread, running = self._timer, self._thread, self._running
            if timer is not None:
                timer.join(max(0.0, deadline - time.monotonic()))
            elif running and thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
            else:
                return


def attach_alerts(server: Flask, ingest: Any) -> AlertService:
    """An alert service for the app, sharing the ingest's writer engine; evaluated after every ingest (debounced)."""
    service = AlertService(ingest.settings, lambda: ingest.engine, reader_fn=lambda: ingest.reader)
    server.extensions[EXTENSION] = service
    ingest.on_stored = service.after_ingest
    return service


def get_alerts(server: Flask) -> AlertService | None:
    return server.extensions.get(EXTENSION)
