"""The status ingest API: ``POST /api/v1/status`` (one event or a batch) and ``GET /api/v1/openapi.json``.

A request goes through, in order: the bearer token (401: missing, unknown or revoked), the token's rate limit (429),
the body size (413), the content type (415), JSON syntax (400), the body's shape and batch size (422/413), the JSON
schema of each event (422; ``dashboard.api.openapi``), the facility binding of the token (403), and the status
contract's rules shared with file loads (422: timestamps, the facility master, the 5-minute future limit, duplicate
ids in one batch). Valid events are written by ``etl.load.writers.write_status`` (idempotent by event id; the current
status only moves forward) in one transaction. A database lock (SQLite busy while an ETL load writes, a PostgreSQL
deadlock) is waited for and retried; only after the retries does the client get a 503 with Retry-After — never a
driver error.

Ingest does not bump the data version (that would throw away the dashboard's whole result cache every second): it
bumps the live version (``etl.load.ledger.bump_live_version``) in the same transaction, which only the live board's
briefly cached outputs are keyed on, so a new status shows at the board's next refresh.

Every response under ``/api/v1/`` is JSON, errors included. The API authenticates with its bearer token only: a login
layer in front of the dashboard must let ``/api/v1/`` through (``PUBLIC_PREFIX``), and CSRF protection must exempt it.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from flask import Blueprint, Flask, Response, current_app, has_app_context, jsonify, request
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import RequestEntityTooLarge

from dashboard.api import openapi
from dashboard.api.tokens import RateLimiter, TokenInfo, lookup, make_rate_limiter, mark_used
from dashboard.runtime import EXTENSION as RUNTIME_EXTENSION
from etl.load.ledger import bump_live_version
from etl.load.writers import WriteResult, write_status
from etl.settings import Settings
from etl.transform.context import FACILITY_INDEX_COLUMNS, TransformContext, now_ist
from etl.transform.datasets import status as status_rules
from etl.transform.pseudonym import Pseudonymiser
from etl.transform.validate import FileState
from etl.warehouse.engine import make_engine
from etl.warehouse.schema import dim_district, dim_facility

log = logging.getLogger(__name__)

EXTENSION = "arogya_status"
PUBLIC_PREFIX = "/api/v1/"
MAX_ERRORS_LISTED = 100
FIELDS = [f for f in openapi.EVENT_SCHEMA["properties"]]
WRITE_ATTEMPTS = 4
RETRY_AFTER_S = 5
LAST_USED_EVERY_S = 60.0

blueprint = Blueprint("arogya_status_api", __name__, url_prefix="/api/v1")


class ApiProblem(Exception):
    """A request the API refuses: HTTP status, a short code, a readable message, optional per-event errors."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = errors or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.errors:
            out["errors"] = self.errors[:MAX_ERRORS_LISTED]
            if len(self.errors) > MAX_ERRORS_LISTED:
                out["errors_not_listed"] = len(self.errors) - MAX_ERRORS_LISTED
        return out


@dataclass
class IngestResult:
    received: int
    accepted: int
    duplicates: int
    rejected: list[dict[str, Any]] = field(default_factory=list)
    facilities: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {"received": self.received, "accepted": self.accepted, "duplicates": self.duplicates,
                "rejected": self.rejected[:MAX_ERRORS_LISTED]}


class FacilityMaster:
    """The facility master as the status contract needs it, reloaded every ``ttl_s`` seconds and at once (at most
    every ``miss_reload_s``) when an event names a facility it does not know, so facilities loaded by the ETL a
    moment ago are accepted."""

    def __init__(self, engine_fn: Callable[[], Engine], ttl_s: float = 60.0, miss_reload_s: float = 2.0) -> None:
        self._engine_fn = engine_fn
        self.ttl_s, self.miss_reload_s = ttl_s, miss_reload_s
        self._ctx: TransformContext | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def context(self, now: datetime, *, refresh: bool = False) -> TransformContext:
        with self._lock:
            age = time.monotonic() - self._loaded_at
            if self._ctx is None or age > self.ttl_s or (refresh and age > self.miss_reload_s):
                self._ctx = self._load()
                self._loaded_at = time.monotonic()
            return replace(self._ctx, now=now)

    def _load(self) -> TransformContext:
        with self._engine_fn().connect() as conn:
            rows = conn.execute(select(dim_facility.c.facility_id, *[dim_facility.c[c] for c in
                                                                     FACILITY_INDEX_COLUMNS])).all()
            districts = set(conn.execute(select(dim_district.c.district_lgd)).scalars())
        facilities = pd.DataFrame(rows, columns=["facility_id", *FACILITY_INDEX_COLUMNS]).set_index("facility_id")
        # Status events carry no patient identifiers, so the pseudonymiser is never used: no key is needed here.
        return TransformContext(Pseudonymiser(b"status-events-carry-no-identifiers"), facilities, districts, set(), {})


def _transient(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    code = getattr(exc.orig, "sqlstate", None)
    return (code in {"40P01", "40001", "55P03"} or "database is locked" in text or "database is busy" in text
            or "deadlock" in text or "could not serialize" in text)


class StatusIngest:
    """Everything ``POST /api/v1/status`` does, usable without Flask (benchmarks, the demo replayer's tests)."""

    def __init__(self, settings: Settings, engine: Engine | None = None, limiter: RateLimiter | None = None,
                 on_stored: Callable[[IngestResult], None] | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], datetime] = now_ist, reader: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine
        self._reader = reader
        self._engine_lock = threading.Lock()
        self.limiter = limiter or make_rate_limiter(settings.cache_url)
        self.master = FacilityMaster(lambda: self.reader)
        self.on_stored = on_stored
        self.sleep = sleep
        self.clock = clock
        self._last_marked: dict[int, float] = {}

    @property
    def engine(self) -> Engine:
        """The writer engine, opened on first use (the dashboard's own engine is read-only)."""
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    self._engine = make_engine(self.settings, create=False)
        return self._engine

    @engine.setter
    def engine(self, value: Engine) -> None:
        self._engine = value

    @property
    def reader(self) -> Engine:
        """The engine for reads (tokens, the facility master): the dashboard's read-only one when given. On SQLite
        the writer engine begins every transaction with BEGIN IMMEDIATE, so reads there would queue behind writers."""
        if self._reader is None:
            engine = self.engine
            with self._engine_lock:
                if self._reader is None:
                    self._reader = engine if engine.dialect.name != "sqlite" else make_engine(
                        self.settings.with_(database_url=engine.url.render_as_string(hide_password=False)),
                        read_only=True)
        return self._reader

    # ------------------------------------------------------------------ steps

    def authenticate(self, authorization: str | None) -> TokenInfo:
        scheme, _, token = (authorization or "").strip().partition(" ")
        headers = {"WWW-Authenticate": 'Bearer realm="arogya"'}
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiProblem(401, "unauthorized", "send the API token as 'Authorization: Bearer <token>'",
                             headers=headers)
        with self.reader.connect() as conn:
            info = lookup(conn, token.strip())
        if info is None:
            raise ApiProblem(401, "unauthorized", "unknown API token", headers=headers)
        if info.revoked:
            raise ApiProblem(401, "unauthorized", "this token has been revoked", headers=headers)
        return info

    def check_rate(self, token: TokenInfo) -> None:
        wait = self.limiter.take(token.bucket, token.rate_limit_per_minute)
        if wait > 0:
            seconds = max(1, int(np.ceil(wait)))
            raise ApiProblem(429, "rate_limited",
                             f"too many requests for this token ({token.rate_limit_per_minute} a minute); "
                             f"retry in {seconds} s", headers={"Retry-After": str(seconds)})

    @staticmethod
    def parse(body: bytes, content_type: str | None) -> list[Any]:
        """The events of a request body (one event, an array, or {"events": [...]})."""
        if len(body) > openapi.MAX_BODY_BYTES:
            raise ApiProblem(413, "too_large", f"the body is larger than {openapi.MAX_BODY_BYTES:,} bytes")
        mime = (content_type or "").split(";", 1)[0].strip().lower()
        if mime and mime != "application/json" and not mime.endswith("+json"):
            raise ApiProblem(415, "unsupported_media_type",
                             f"send JSON with Content-Type: application/json (got {mime[:60]})")
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ApiProblem(400, "malformed_json", "the body is not UTF-8 text") from None
        if not text.strip():
            raise ApiProblem(400, "malformed_json", "the body is empty; send one event or a batch as JSON")
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise ApiProblem(400, "malformed_json", f"the body is not valid JSON: {str(exc)[:200]}") from None
        if isinstance(data, dict) and "events" in data and not ({"event_id", "facility_id"} & set(data)):
            extra = sorted(set(data) - {"events"})
            if extra:
                raise ApiProblem(422, "invalid_body", f"unknown top-level field {extra[0][:60]!r} beside 'events'")
            data = data["events"]
            if not isinstance(data, list):
                raise ApiProblem(422, "invalid_body", "'events' must be a JSON array of events")
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            raise ApiProblem(422, "invalid_body",
                             "the body must be an event object, an array of events or {\"events\": [...]}")
        if not data:
            raise ApiProblem(422, "invalid_body", "the batch is empty")
        if len(data) > openapi.MAX_EVENTS:
            raise ApiProblem(413, "too_large",
                             f"{len(data):,} events in one request; send at most {openapi.MAX_EVENTS} per request")
        return data

    def validate(self, items: list[Any], token: TokenInfo, now: datetime
                 ) -> tuple[pd.DataFrame, list[dict[str, Any]], int]:
        """(valid rows as ``write_status`` takes them, errors, duplicates within the request)."""
        errors: list[dict[str, Any]] = []
        candidates: list[int] = []
        seen: set[str] = set()
        duplicates = 0
        for index, item in enumerate(items):
            event_id = item.get("event_id") if isinstance(item, dict) else None
            event_id = event_id if isinstance(event_id, str) else None
            problems = openapi.check_event(item)
            if problems:
                errors += [_error(index, event_id, f, code, text) for f, code, text in problems]
                continue
            if token.facility_id is not None and item["facility_id"].strip() != token.facility_id:
                raise ApiProblem(403, "forbidden", f"this token may post only events of facility "
                                                   f"{token.facility_id} (event {index} is for "
                                                   f"{item['facility_id'][:40]!r})")
            fingerprint = json.dumps(item, sort_keys=True)
            if fingerprint in seen:  # the same event twice in one request: idempotent, not an error
                duplicates += 1
                continue
            seen.add(fingerprint)
            candidates.append(index)
        if not candidates:
            return pd.DataFrame(), errors, duplicates
        rows, rule_errors = self._contract(items, candidates, now, refresh=False)
        if any(e["code"] == "unknown_facility" for e in rule_errors):
            rows, rule_errors = self._contract(items, candidates, now, refresh=True)
        errors += rule_errors
        errors.sort(key=lambda e: e["index"])
        return rows, errors, duplicates

    def _contract(self, items: list[Any], indices: list[int], now: datetime, *, refresh: bool
                  ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        raw = pd.DataFrame([{name: _text(items[i].get(name)) for name in FIELDS} for i in indices],
                           columns=FIELDS, dtype=object)
        ctx = self.master.context(now, refresh=refresh)
        validated = status_rules(raw, np.asarray(indices, dtype=np.int64), [""] * len(indices), ctx, FileState())
        errors = []
        for r in validated.rejects.itertuples(index=False):
            index = int(r.row_number)
            event_id = items[index].get("event_id")
            errors.append(_error(index, event_id, None, str(r.reason_code), str(r.reason)))
        return validated.rows.drop(columns=["_row"]), errors

    def store(self, rows: pd.DataFrame, token: TokenInfo, now: datetime) -> WriteResult:
        """Write in one transaction, waiting out locks; a lock never reaches the client as a driver error."""
        mark = time.monotonic() - self._last_marked.get(token.token_id, -LAST_USED_EVERY_S) >= LAST_USED_EVERY_S
        delay = 0.2
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    result = write_status(conn, rows, source=token.source, received_at=pd.Timestamp(now))
                    if result.written:
                        bump_live_version(conn)
                    if mark:
                        mark_used(conn, token.token_id, now.replace(microsecond=0))
                if mark:
                    self._last_marked[token.token_id] = time.monotonic()
                if result.written:
                    _forget_live_version()
                return result
            except DBAPIError as exc:
                if not _transient(exc):
                    if not isinstance(exc, OperationalError):
                        raise
                    log.exception("status ingest: the warehouse is unreachable")
                    raise ApiProblem(503, "unavailable", "the warehouse is unreachable; retry later",
                                     headers={"Retry-After": str(RETRY_AFTER_S * 6)}) from None
                # A lock, a deadlock or a serialisation failure: the transaction was rolled back whole; again.
                log.warning("status ingest: warehouse busy (attempt %s of %s): %s", attempt, WRITE_ATTEMPTS,
                            str(exc.orig)[:120])
                if attempt == WRITE_ATTEMPTS:
                    break
                self.sleep(delay * random.uniform(0.5, 1.5))  # apart, so two retried writers do not meet again
                delay *= 2
        raise ApiProblem(503, "busy", f"the warehouse is busy; nothing was stored, retry in {RETRY_AFTER_S} s",
                         headers={"Retry-After": str(RETRY_AFTER_S)})

    # ------------------------------------------------------------------ the whole request

    def handle(self, authorization: str | None, body: bytes | Callable[[], bytes], content_type: str | None,
               partial: bool = False) -> IngestResult:
        """The whole request. ``body`` may be a callable, read only once the token and the rate limit pass (an
        unauthenticated client costs nothing)."""
        token = self.authenticate(authorization)
        self.check_rate(token)
        items = self.parse(body() if callable(body) else body, content_type)
        now = self.clock()
        rows, errors, duplicates = self.validate(items, token, now)
        if errors and (not partial or rows.empty):
            bad = len({e["index"] for e in errors})
            raise ApiProblem(422, "invalid_events", f"{bad} of {len(items)} events "
                             f"{'is' if bad == 1 else 'are'} invalid; nothing was stored", errors)
        result = self.store(rows, token, now) if not rows.empty else WriteResult(0)
        outcome = IngestResult(len(items), result.written, duplicates + result.ignored, errors,
                               sorted(set(rows["facility_id"])) if not rows.empty else [])
        if self.on_stored is not None and outcome.accepted:
            try:
                self.on_stored(outcome)
            except Exception:  # noqa: BLE001 - alerting must never fail an ingest that was stored
                log.exception("status ingest: the after-store hook failed")
        return outcome


def _forget_live_version() -> None:
    """This process's dashboard re-reads the versions at once (other processes within their version TTL, 1 s)."""
    runtime = current_app.extensions.get(RUNTIME_EXTENSION) if has_app_context() else None
    if runtime is not None:
        runtime.data.forget_version()


def _text(value: object) -> str:
    """A JSON scalar as the contract's text (the schema check has already limited the types)."""
    if value is None:
        return ""
    return str(value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _error(index: int, event_id: Any, field_: str | None, code: str, message: str) -> dict[str, Any]:
    return {"index": index, "event_id": event_id if isinstance(event_id, str) else None, "field": field_,
            "code": code, "message": message}


# ---------------------------------------------------------------------------- Flask


def init_status_api(server: Flask, settings: Settings, engine: Engine | None = None) -> StatusIngest:
    """Register the blueprint and the ingest service on ``server`` (``engine``: a writer engine; default: opened
    from ``settings`` on first use)."""
    runtime = server.extensions.get(RUNTIME_EXTENSION)
    ingest = StatusIngest(settings, engine, reader=runtime.data.engine if runtime is not None else None)
    server.extensions[EXTENSION] = ingest
    server.register_blueprint(blueprint)
    from dashboard.alerts.service import attach_alerts  # alerts are evaluated after every ingest (debounced)

    attach_alerts(server, ingest)
    return ingest


def get_ingest() -> StatusIngest:
    return current_app.extensions[EXTENSION]


def _json(payload: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _problem(problem: ApiProblem) -> Response:
    return _json(problem.body(), problem.status, problem.headers)


def _read_body() -> bytes:
    if request.content_length is not None and request.content_length > openapi.MAX_BODY_BYTES:
        raise ApiProblem(413, "too_large", f"the body is larger than {openapi.MAX_BODY_BYTES:,} bytes")
    try:
        return request.stream.read(openapi.MAX_BODY_BYTES + 1)
    except RequestEntityTooLarge:
        raise ApiProblem(413, "too_large", f"the body is larger than {openapi.MAX_BODY_BYTES:,} bytes") from None


@blueprint.post("/status")
def post_status() -> Response:
    ingest = get_ingest()
    partial = request.args.get("partial", "").strip().lower() in {"1", "true", "yes"}
    try:
        outcome = ingest.handle(request.headers.get("Authorization"), _read_body, request.headers.get("Content-Type"),
                                partial)
    except ApiProblem as problem:
        return _problem(problem)
    return _json(outcome.body(), 200)


@blueprint.route("/status", methods=["GET", "PUT", "PATCH", "DELETE", "TRACE"])
def status_other_methods() -> Response:
    return _json({"error": "method_not_allowed", "message": "use POST to send status events"}, 405,
                 {"Allow": "POST"})


@blueprint.get("/openapi.json")
def openapi_json() -> Response:
    response = _json(openapi.document(request.script_root or "/"), 200)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@blueprint.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(rest: str) -> Response:
    return _json({"error": "not_found", "message": f"no such endpoint: /api/v1/{rest[:80]}; see /api/v1/openapi.json"},
                 404)
