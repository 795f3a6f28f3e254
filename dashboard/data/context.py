"""What every data function gets first: the read-only engine and the result cache.

Results are cached under (function, arguments, filter, scope, data version). The ETL bumps ``data_version`` in the
same transaction as every load, so a load invalidates every web process's cache without the ETL knowing about the
dashboard. A cache that fails (e.g. Redis down) is logged and bypassed; the page still renders from the database.

Callbacks of one view ask for the same result at the same moment (the browser fires them together): a miss is
computed once per process while the other callers wait for it ("single flight"), instead of once per callback.
Cached results are shared: treat them as read-only.

Within one request (a Dash callback), a result already read or computed is kept in the request's context and handed
out again as a copy: a callback that reads a frame and several tables built on it unpickles that frame once, not once
per table.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol, TypeVar

from flask import g, has_request_context
from sqlalchemy import Engine, select
from sqlalchemy import inspect as sa_inspect

from dashboard.data.filters import Filter, Scope
from etl.load.ledger import LIVE_VERSION_ID
from etl.warehouse.schema import data_version

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Flight:
    """One computation in progress; callers of the same key queue on its lock and take its value."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    callers: int = 0
    done: bool = False
    value: Any = None


class CacheBackend(Protocol):
    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any, timeout: int | None = None) -> Any: ...


@dataclass
class DataContext:
    engine: Engine
    cache: CacheBackend | None = None
    timeout_s: int = 300
    # How long a read of data_version is trusted; keeps one cheap query off most cached calls.
    version_ttl_s: float = 1.0
    # After a cache failure, skip the cache this long instead of paying a timeout on every call.
    cache_retry_s: float = 30.0
    # Small-cell threshold for patient breakdowns (dashboard.privacy.suppression; AROGYA_SUPPRESSION_K).
    suppression_k: int = 5
    _version: tuple[float, int, int] | None = field(default=None, init=False, repr=False)
    _cache_down_until: float = field(default=0.0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _flights: dict[str, _Flight] = field(default_factory=dict, init=False, repr=False)
    _indexes: dict[str, list[tuple[str, ...]]] = field(default_factory=dict, init=False, repr=False)

    def data_version(self) -> int:
        return self._versions()[0]

    def live_version(self) -> int:
        """The count of committed changes of the live state (status ingest, alerts; ``etl.load.ledger``), read with
        the data version in one query and trusted as long."""
        return self._versions()[1]

    def _versions(self) -> tuple[int, int]:
        now = time.monotonic()
        cached = self._version
        if cached is not None and now - cached[0] < self.version_ttl_s:
            return cached[1], cached[2]
        c = data_version.c
        with self.engine.connect() as conn:
            rows = dict(conn.execute(select(c.id, c.version).where(c.id.in_((1, LIVE_VERSION_ID)))).all())
        version, live = int(rows.get(1) or 0), int(rows.get(LIVE_VERSION_ID) or 0)
        self._version = (now, version, live)
        return version, live

    def forget_version(self) -> None:
        self._version = None

    def has_index(self, table: str, columns: tuple[str, ...]) -> bool:
        """Whether the warehouse has an index on ``table`` whose leading columns are ``columns`` (read once per
        process: an index comes with a migration, and a migration with a restart)."""
        known = self._indexes.get(table)
        if known is None:
            try:
                found = sa_inspect(self.engine).get_indexes(table)
            except Exception as exc:  # noqa: BLE001 - a missing table or a driver quirk means "no index"
                log.debug("cannot list the indexes of %s: %s", table, exc)
                found = []
            known = [tuple(str(c) for c in ix.get("column_names") or () if c) for ix in found]
            self._indexes[table] = known
        return any(ix[: len(columns)] == columns for ix in known)

    def cache_get(self, key: str) -> tuple[bool, Any]:
        if self.cache is None or time.monotonic() < self._cache_down_until:
            return False, None
        try:
            value = self.cache.get(key)
        except Exception as exc:  # noqa: BLE001 - any backend failure must not break a page
            self._cache_failed(exc)
            return False, None
        return value is not None, value

    def cache_set(self, key: str, value: Any) -> None:
        if self.cache is None or time.monotonic() < self._cache_down_until:
            return
        try:
            self.cache.set(key, value, timeout=self.timeout_s)
        except Exception as exc:  # noqa: BLE001
            self._cache_failed(exc)

    def memoise(self, name: str, parts: tuple[Any, ...], compute: Callable[[], tuple[Any, bool]]) -> Any:
        """The value ``compute`` makes for ``parts`` (filters and scopes by their cache tokens, the rest by repr)
        under the current data version: from the cache when there, else computed once per process while concurrent
        callers of the same key wait for it. ``compute`` returns ``(value, keep)``; a value it does not want kept
        (an error message, say) is returned but not cached."""
        if self.cache is None:
            return compute()[0]
        key = _key(name, self.data_version(), parts, {})
        seen = _request_values()
        if seen is not None and key in seen:
            return copy.deepcopy(seen[key])
        hit, value = self.cache_get(key)
        if hit:
            if seen is not None:
                seen[key] = value
            return value
        flight = self.join_flight(key)
        try:
            with flight.lock:
                if flight.done:  # computed by another caller while this one waited: a copy of its value
                    return copy.deepcopy(flight.value)
                hit, value = self.cache_get(key)
                if not hit:
                    value, keep = compute()
                    if not keep:
                        return value
                    self.cache_set(key, value)
                flight.value, flight.done = value, True
                if seen is not None:
                    seen[key] = value
                return value
        finally:
            self.leave_flight(key, flight)

    def join_flight(self, key: str) -> _Flight:
        with self._lock:
            flight = self._flights.setdefault(key, _Flight())
            flight.callers += 1
            return flight

    def leave_flight(self, key: str, flight: _Flight) -> None:
        with self._lock:
            flight.callers -= 1
            if flight.callers == 0 and self._flights.get(key) is flight:
                del self._flights[key]

    def _cache_failed(self, exc: BaseException) -> None:
        with self._lock:
            self._cache_down_until = time.monotonic() + self.cache_retry_s
        log.warning("cache unavailable, reading the database directly for %ss: %s", self.cache_retry_s, exc)


def _request_values() -> dict[str, Any] | None:
    """The results this request has already seen, by cache key (None outside a request)."""
    if not has_request_context():
        return None
    if "arogya_results" not in g:
        g.arogya_results = {}
    return g.arogya_results


def _key(name: str, version: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    parts = [a.cache_token() if isinstance(a, Filter | Scope) else repr(a) for a in args]
    parts += [f"{k}={v.cache_token() if isinstance(v, Filter | Scope) else repr(v)}" for k, v in sorted(kwargs.items())]
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
    return f"arogya:{name}:v{version}:{digest}"


def cached(fn: Callable[P, R]) -> Callable[P, R]:
    """Cache a data function whose first argument is a ``DataContext``. The scope is part of the key (it is an
    argument), so two users with different scopes never share an entry. Arguments are bound to the signature
    with defaults applied, so ``f(ctx, x)`` and ``f(ctx, x, grain="day")`` share one entry when "day" is the
    default."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        ctx = args[0]
        if not isinstance(ctx, DataContext) or ctx.cache is None:
            return fn(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return ctx.memoise(name, tuple(bound.arguments.values())[1:], lambda: (fn(*args, **kwargs), True))

    return wrapper
