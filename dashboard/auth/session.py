"""The signed-in user of a request.

The Flask session cookie (signed with the secret key; HttpOnly, SameSite=Lax, Secure in production) holds only the
user's id, a tag of the password hash, the sign-in time, a session id and the form token. Everything else is read
from ``app_user`` on the server and trusted for ``AROGYA_AUTH_RECHECK_S`` seconds, so disabling a user, changing
her scope or resetting her password takes effect within seconds in every process. A session ends after
``AROGYA_SESSION_HOURS`` from sign-in, however active, and at sign-out (its id is revoked in the shared cache).
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app, g, has_request_context, session
from sqlalchemy import Engine

from dashboard.auth import users
from dashboard.auth.passwords import fingerprint
from dashboard.auth.roles import Principal, resolve_scope
from dashboard.data.filters import Scope
from etl.settings import Settings

log = logging.getLogger(__name__)

EXTENSION = "arogya_auth"
PRINCIPAL_ATTR = "arogya_principal"


@dataclass
class AuthState:
    """Per-app auth state: settings, the engine for users and the audit log (writable), the shared cache."""

    settings: Settings
    engine: Engine
    cache: Any = None  # a cachelib backend (Redis in production) for rate limits and revoked sessions
    clock: Callable[[], float] = field(default=time.time, repr=False)  # the rate windows' clock (tests pin it)
    _principals: dict[int, tuple[float, Principal | None]] = field(default_factory=dict, init=False, repr=False)
    _local: dict[str, tuple[float, int]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def lifetime(self) -> timedelta:
        return timedelta(hours=max(1, self.settings.session_hours))

    # ------------------------------------------------------------ users

    def principal(self, user_id: int) -> Principal | None:
        """The user as a Principal (None if missing or disabled), from a cache of a few seconds."""
        now = time.monotonic()
        ttl = max(0, self.settings.auth_recheck_s)
        with self._lock:
            hit = self._principals.get(user_id)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        user = users.get_user(self.engine, user_id=user_id)
        principal = None
        if user is not None and user.active:
            mapping = users.districts_of_states(self.engine, user.states)
            principal = Principal(user_id=user.user_id, username=user.username, role=user.role,
                                  scope=resolve_scope(user.districts, user.states, mapping), language=user.language,
                                  password_tag=fingerprint(user.password_hash))
        with self._lock:
            if len(self._principals) > 10_000:
                self._principals.clear()
            self._principals[user_id] = (now, principal)
        return principal

    def forget(self, user_id: int | None = None) -> None:
        with self._lock:
            if user_id is None:
                self._principals.clear()
            else:
                self._principals.pop(user_id, None)

    # ------------------------------------------------------------ shared counters and flags

    def _cache_call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.cache is None:
            raise LookupError("no cache")
        try:
            return getattr(self.cache, method)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - fall back to this process's memory
            log.warning("auth cache unavailable (%s); using this process's memory", exc)
            raise LookupError("cache failed") from exc

    def hit(self, key: str, window_s: int = 60) -> int:
        """Count one event under ``key``; returns the events of the last ``window_s`` seconds (a sliding window
        estimated from the current and the previous fixed window, as shared counters in the cache)."""
        now = self.clock()
        window = int(now // window_s)
        current = self._count(f"arogya:rate:{key}:{window}", window_s, add=True)
        previous = self._count(f"arogya:rate:{key}:{window - 1}", window_s, add=False)
        weight = 1.0 - (now - window * window_s) / window_s
        return current + math.ceil(previous * weight)  # rounded up: a part of an event still counts against a limit

    def _count(self, bucket: str, window_s: int, *, add: bool) -> int:
        try:
            if add:
                self._cache_call("add", bucket, 0, timeout=window_s * 2)
                value = self._cache_call("inc", bucket)
            else:
                value = self._cache_call("get", bucket)
            if value is not None or not add:
                return int(value or 0)
        except LookupError:
            pass
        now = time.time()
        with self._lock:
            self._local = {k: v for k, v in self._local.items() if v[0] > now}
            expires, n = self._local.get(bucket, (now + window_s * 2, 0))
            if add:
                n += 1
                self._local[bucket] = (expires, n)
            return n

    def revoke(self, sid: str) -> None:
        key = f"arogya:revoked:{sid}"
        seconds = int(self.lifetime.total_seconds())
        with self._lock:
            self._local[key] = (time.time() + seconds, 1)
        try:
            self._cache_call("set", key, 1, timeout=seconds)
        except LookupError:
            pass

    def revoked(self, sid: str) -> bool:
        key = f"arogya:revoked:{sid}"
        with self._lock:
            local = self._local.get(key)
        if local is not None and local[0] > time.time():
            return True
        try:
            return bool(self._cache_call("get", key))
        except LookupError:
            return False


def get_auth() -> AuthState:
    return current_app.extensions[EXTENSION]


# ---------------------------------------------------------------- the session cookie

def start_session(principal: Principal) -> None:
    """A fresh session for ``principal`` (after a successful sign-in): nothing of the old session survives."""
    session.clear()
    session.permanent = True
    session["uid"] = principal.user_id
    session["pwt"] = principal.password_tag
    session["iat"] = int(time.time())
    session["sid"] = secrets.token_urlsafe(18)
    session["csrf"] = secrets.token_urlsafe(24)


def end_session() -> None:
    sid = session.get("sid")
    if sid:
        get_auth().revoke(str(sid))
    session.clear()


def session_principal() -> Principal | None:
    """Who the current request's session belongs to, or None (no session, expired, revoked, user disabled or
    password changed since)."""
    uid, iat, sid = session.get("uid"), session.get("iat"), session.get("sid")
    if not isinstance(uid, int) or not isinstance(iat, int) or not sid:
        return None
    auth = get_auth()
    age = time.time() - iat
    if age < -300 or age > auth.lifetime.total_seconds():
        return None
    if auth.revoked(str(sid)):
        return None
    principal = auth.principal(uid)
    if principal is None or principal.password_tag != session.get("pwt"):
        return None
    return principal


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def current_principal() -> Principal | None:
    """The signed-in user of this request (set by the guard), or None outside a request or when signed out."""
    if not has_request_context():
        return None
    return g.get(PRINCIPAL_ATTR)


def current_scope() -> Scope:
    """The signed-in user's scope; nobody signed in, no districts (deny by default)."""
    principal = current_principal()
    return principal.scope if principal is not None else Scope()


def can(permission: str) -> bool:
    principal = current_principal()
    return principal is not None and principal.can(permission)


def require(permission: str) -> Principal:
    """The signed-in user if she has ``permission``; else the request ends with 401 (signed out) or 403."""
    from flask import abort

    principal = current_principal()
    if principal is None:
        abort(401)
    if not principal.can(permission):
        abort(403)
    return principal
