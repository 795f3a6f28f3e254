"""Bearer tokens for the status API and their rate limits.

A token is issued per integration or per facility (``arogya tokens create --name X [--facility F]``), shown once and
stored only as its SHA-256 hash: a token carries 256 random bits, so a plain hash cannot be reversed or guessed, and
unlike an HMAC it needs no key that could be lost (every token would stop working with a new key). A token bound to a
facility may post only that facility's events. Revoking sets ``revoked_at``; the next request with it gets 401.

Rate limit: a token bucket per token, ``rate_limit_per_minute`` requests per minute with a burst of the same size,
kept in Redis when ``AROGYA_CACHE_URL`` is set (shared by every worker) and in the process otherwise. A Redis outage
falls back to the in-process bucket for a while instead of failing requests.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, func, insert, select, update

from etl.transform.context import now_ist
from etl.warehouse.schema import api_token, dim_facility

log = logging.getLogger(__name__)

TOKEN_PREFIX = "arogya_"
DEFAULT_RATE_PER_MINUTE = 600
MAX_NAME = 120


class TokenError(ValueError):
    """A token cannot be created or revoked as asked (the message says why)."""


@dataclass(frozen=True)
class TokenInfo:
    token_id: int
    name: str
    facility_id: str | None
    rate_limit_per_minute: int
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    token_hash: str = ""

    @property
    def bucket(self) -> str:
        """The rate-limit bucket's key: unique to the token even across warehouses sharing one Redis."""
        return f"token:{self.token_hash[:24] or self.token_id}"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def source(self) -> str:
        """What ``fact_status_event.source`` records for events posted with this token."""
        return f"api:{self.token_id}:{self.name}"[:64]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _info(row: Any) -> TokenInfo:
    return TokenInfo(int(row.token_id), row.name, row.facility_id, int(row.rate_limit_per_minute), row.revoked_at,
                     row.last_used_at, row.token_hash)


_COLUMNS = (api_token.c.token_id, api_token.c.name, api_token.c.facility_id, api_token.c.rate_limit_per_minute,
            api_token.c.revoked_at, api_token.c.last_used_at, api_token.c.token_hash)


def create_token(engine: Engine, name: str, facility_id: str | None = None,
                 rate_limit_per_minute: int = DEFAULT_RATE_PER_MINUTE) -> tuple[TokenInfo, str]:
    """Issue a token; returns its record and the token itself (the only time it is available)."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise TokenError(f"a token needs a name of 1-{MAX_NAME} characters")
    if rate_limit_per_minute < 1:
        raise TokenError("the rate limit must be at least 1 request per minute")
    facility_id = (facility_id or "").strip() or None
    token = new_token()
    with engine.begin() as conn:
        if facility_id is not None:
            known = conn.execute(select(dim_facility.c.facility_id).where(
                dim_facility.c.facility_id == facility_id)).first()
            if known is None:
                raise TokenError(f"facility {facility_id!r} is not in the facility master")
        token_id = conn.execute(insert(api_token).values(
            name=name, facility_id=facility_id, token_hash=hash_token(token),
            created_at=now_ist().replace(microsecond=0),
            rate_limit_per_minute=int(rate_limit_per_minute)).returning(api_token.c.token_id)).scalar_one()
    return TokenInfo(int(token_id), name, facility_id, int(rate_limit_per_minute), token_hash=hash_token(token)), token


def list_tokens(engine: Engine) -> list[dict[str, Any]]:
    """Every token (never the token, nor its hash), oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(*_COLUMNS[:-1], api_token.c.created_at).order_by(api_token.c.token_id)).all()
    return [dict(r._mapping) for r in rows]


def revoke_token(engine: Engine, which: str | int) -> list[TokenInfo]:
    """Revoke the token with this id, or every live token with this name. Returns what was revoked."""
    t = api_token.c
    text = str(which).strip()
    condition = t.token_id == int(text) if text.isdigit() else t.name == text
    with engine.begin() as conn:
        rows = conn.execute(select(*_COLUMNS).where(condition)).all()
        if not rows:
            raise TokenError(f"no token with id or name {text!r}")
        live = [r for r in rows if r.revoked_at is None]
        if live:
            conn.execute(update(api_token).where(t.token_id.in_([r.token_id for r in live]))
                         .values(revoked_at=now_ist().replace(microsecond=0)))
    return [_info(r) for r in live]


def lookup(conn: Connection, token: str) -> TokenInfo | None:
    """The record of a presented token (revoked ones included, so the caller can say so), or None."""
    row = conn.execute(select(*_COLUMNS).where(api_token.c.token_hash == hash_token(token))).first()
    return _info(row) if row is not None else None


def mark_used(conn: Connection, token_id: int, when: datetime) -> None:
    conn.execute(update(api_token).where(api_token.c.token_id == token_id).values(last_used_at=when))


def count_live(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(api_token).where(
        api_token.c.revoked_at.is_(None))).scalar() or 0)


# ---------------------------------------------------------------------------- rate limits


class RateLimiter(Protocol):
    def take(self, key: str, per_minute: int, cost: float = 1.0) -> float:
        """Take ``cost`` from the bucket; 0.0 if allowed, else the seconds until it would be."""
        ...


class LocalRateLimiter:
    """Token buckets in this process (one per key), thread-safe."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def take(self, key: str, per_minute: int, cost: float = 1.0) -> float:
        rate = per_minute / 60.0
        capacity = float(per_minute)
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (cost - tokens) / rate


# Atomic token bucket in Redis: KEYS[1] the bucket; ARGV rate/s, capacity, cost, now (s). Returns the wait in ms.
_REDIS_BUCKET = """
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local rate, capacity, cost, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
if now > ts then tokens = math.min(capacity, tokens + (now - ts) * rate) end
local wait = 0
if tokens >= cost then tokens = tokens - cost else wait = math.ceil((cost - tokens) / rate * 1000) end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', math.max(now, ts))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return wait
"""


class RedisRateLimiter:
    """Token buckets in Redis, shared by every worker; falls back to an in-process bucket while Redis is down."""

    def __init__(self, url: str, retry_s: float = 30.0) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._script = self._redis.register_script(_REDIS_BUCKET)
        self._fallback = LocalRateLimiter()
        self._down_until = 0.0
        self._retry_s = retry_s

    def take(self, key: str, per_minute: int, cost: float = 1.0) -> float:
        if time.monotonic() >= self._down_until:
            try:
                wait_ms = self._script(keys=[f"arogya:ratelimit:{key}"],
                                       args=[per_minute / 60.0, per_minute, cost, time.time()])
                return float(wait_ms) / 1000.0
            except Exception as exc:  # noqa: BLE001 - a Redis outage must not stop ingest
                self._down_until = time.monotonic() + self._retry_s
                log.warning("rate limiter: Redis unavailable, using in-process buckets for %ss: %s",
                            self._retry_s, exc)
        return self._fallback.take(key, per_minute, cost)


def make_rate_limiter(cache_url: str) -> RateLimiter:
    # A file:// or simple:// cache has no atomic counters: each worker keeps its own buckets.
    return RedisRateLimiter(cache_url) if cache_url.startswith(("redis://", "rediss://", "unix://")) \
        else LocalRateLimiter()
