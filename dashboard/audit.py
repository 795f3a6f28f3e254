"""The audit log: who signed in, viewed which page with which scope, and exported what (filters and row count).

Append-only: this module only inserts, and deletes nothing but rows older than the retention (at least 365 days,
``AROGYA_AUDIT_RETENTION_DAYS``), through ``purge`` (`arogya audit purge`). A failed audit write is logged as an error
and never breaks the page that caused it. Times are naive UTC; the admin page shows them in IST.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pandas as pd
from flask import Blueprint, Response, abort, request, stream_with_context
from sqlalchemy import Engine, delete, func, insert, select

from dashboard.data.filters import Filter, Scope
from etl.warehouse.schema import audit_log

log = logging.getLogger(__name__)

MIN_RETENTION_DAYS = 365
ACTIONS: tuple[str, ...] = ("login", "logout", "login_failed", "page_view", "export", "audit_export",
                            "user_add", "user_disable", "user_enable", "user_reset", "user_scope", "audit_purge")
T = TypeVar("T")
_INSERT = insert(audit_log)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def scope_text(scope: Scope | None) -> str | None:
    return None if scope is None else scope.cache_token()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def record(engine: Engine, action: str, *, username: str | None, scope: Scope | None = None,
           detail: Mapping[str, Any] | None = None, at: datetime | None = None) -> bool:
    """Append one entry; True if it was written."""
    row = {"at": at or utcnow(), "username": (username or None) and str(username)[:80], "action": action[:40],
           "scope": scope_text(scope), "detail": _jsonable(dict(detail or {}))}
    try:
        with engine.begin() as conn:
            conn.execute(_INSERT, row)  # one prepared statement with bound parameters: a page view costs little
    except Exception:  # noqa: BLE001 - the audit must not take the dashboard down, but it must be noticed
        log.exception("audit write failed: %s %s", action, username)
        return False
    return True


def filter_detail(f: Filter, params: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A filter (and the page's own query keys) as the audit log keeps it."""
    detail: dict[str, Any] = {k: v for k, v in asdict(f).items() if v not in ((), None)}
    if params:
        detail["params"] = {k: v for k, v in params.items()}
    return _jsonable(detail)


def counted(chunks: Iterable[T], size: Callable[[T], int], done: Callable[[int, bool], None]) -> Iterator[T]:
    """Pass ``chunks`` through, adding up ``size(chunk)``; call ``done(rows, complete)`` once at the end, also when
    the download is abandoned part-way (then ``complete`` is False)."""
    rows, complete = 0, False
    try:
        for chunk in chunks:
            rows += size(chunk)
            yield chunk
        complete = True
    finally:
        done(rows, complete)


def export_recorder(table: str, f: Filter, params: Mapping[str, str] | None, filename: str,
                    ) -> Callable[[int, bool], None]:
    """A callback for ``counted``: records the signed-in user's export of ``table`` under ``f`` with its row count."""
    from dashboard.auth.session import current_principal, get_auth

    engine = get_auth().engine
    principal = current_principal()
    username = principal.username if principal is not None else None
    scope = principal.scope if principal is not None else Scope()

    def done(rows: int, complete: bool) -> None:
        record(engine, "export", username=username, scope=scope,
               detail={"table": table, "filters": filter_detail(f, params), "rows": rows, "complete": complete,
                       "file": filename})

    return done


def purge(engine: Engine, retention_days: int, now: datetime | None = None) -> int:
    """Delete entries older than the retention (never less than 365 days); returns how many."""
    days = max(MIN_RETENTION_DAYS, int(retention_days))
    cutoff = (now or utcnow()) - timedelta(days=days)
    with engine.begin() as conn:
        return int(conn.execute(delete(audit_log).where(audit_log.c.at < cutoff)).rowcount or 0)


def read(engine: Engine, *, username: str | None = None, action: str | None = None, start: date | None = None,
         end: date | None = None, limit: int | None = 1000) -> pd.DataFrame:
    """Entries, newest first (columns audit_id, at, username, action, scope, detail)."""
    c = audit_log.c
    stmt = select(c.audit_id, c.at, c.username, c.action, c.scope, c.detail)
    if username:
        stmt = stmt.where(c.username == username)
    if action:
        stmt = stmt.where(c.action == action)
    if start:
        stmt = stmt.where(c.at >= datetime.combine(start, datetime.min.time()) - IST_OFFSET)
    if end:
        stmt = stmt.where(c.at < datetime.combine(end + timedelta(days=1), datetime.min.time()) - IST_OFFSET)
    stmt = stmt.order_by(c.at.desc(), c.audit_id.desc())
    if limit:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["audit_id", "at", "username", "action", "scope", "detail"])


def usernames(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(select(audit_log.c.username).where(audit_log.c.username.is_not(None))
                                           .group_by(audit_log.c.username).order_by(audit_log.c.username))]


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar() or 0)


IST_OFFSET = timedelta(hours=5, minutes=30)


def to_ist(value: datetime | None) -> datetime | None:
    return None if value is None else value + IST_OFFSET


# ---------------------------------------------------------------- the admin's CSV export

blueprint = Blueprint("arogya_audit", __name__)
CSV_COLUMNS = ("audit_id", "at_utc", "at_ist", "username", "action", "scope", "detail")


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def query_args(args: Mapping[str, str]) -> dict[str, Any]:
    action = args.get("action") or None
    return {"username": (args.get("user") or None), "action": action if action in ACTIONS else None,
            "start": _day(args.get("from")), "end": _day(args.get("to"))}


@blueprint.get("/admin/audit.csv")
def export_audit() -> Response:
    from dashboard.api.csvstream import stream_csv
    from dashboard.auth.roles import AUDIT
    from dashboard.auth.session import current_principal, get_auth

    principal = current_principal()
    if principal is None or not principal.can(AUDIT):
        abort(403)
    engine = get_auth().engine
    filters = query_args(request.args)
    frame = read(engine, limit=None, **filters)
    out = pd.DataFrame({
        "audit_id": frame["audit_id"], "at_utc": frame["at"], "at_ist": [to_ist(v) for v in frame["at"]],
        "username": frame["username"], "action": frame["action"], "scope": frame["scope"],
        "detail": [json.dumps(v, ensure_ascii=False, sort_keys=True) if v is not None else "" for v in frame["detail"]],
    })
    record(engine, "audit_export", username=principal.username, scope=principal.scope,
           detail={"filters": {k: v for k, v in filters.items() if v}, "rows": len(out)})
    name = f"arogya_audit-log_on_{utcnow().date().isoformat()}.csv"
    response = Response(stream_with_context(stream_csv(list(CSV_COLUMNS), [out])), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
