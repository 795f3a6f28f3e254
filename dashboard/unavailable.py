"""A database that cannot answer gives a short, friendly 503 (HTML for pages, JSON for the API and Dash callbacks)
within the database timeouts, never a traceback, a 500 or a worker that hangs until gunicorn kills it.

"Cannot answer" means: no connection (refused, unreachable within ``AROGYA_DB_CONNECT_TIMEOUT``), a connection cut
mid-request, a statement cancelled by ``AROGYA_DB_STATEMENT_TIMEOUT``, no free pooled connection in time, or a
SQLite file that cannot be opened or stays locked past its busy timeout. Programming errors stay 500s.

Pages catch their data errors and show an error card, so a failure inside a callback does not reach Flask: a
``handle_error`` listener on the engines marks the request instead, and the response is replaced by the 503.
After a failed connection attempt an engine fails further attempts at once for ``RETRY_S`` seconds (one request
per worker pays the connect timeout, the others answer at once), then tries again: recovery needs no restart.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable
from typing import Any

import flask
from flask import Response, g, has_request_context, request
from sqlalchemy import Engine, event
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

RETRY_S = 2.0
RETRY_AFTER_HEADER = "5"
_FLAG = "arogya_db_unavailable"
_LISTENING = "_arogya_unavailable_listener"
_STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/geo/", "/static/", "/_favicon.ico")
# sqlite3 raises OperationalError for SQL mistakes too: only these messages mean the file cannot be used now.
_SQLITE_UNAVAILABLE = ("unable to open database file", "database is locked", "disk i/o error",
                       "database table is locked", "database unavailable")
# PostgreSQL SQLSTATE classes/codes that mean "not now": connection exception, operator intervention (shutdown,
# cannot connect now, query cancelled by statement_timeout), too many connections.
_PG_UNAVAILABLE_PREFIXES = ("08",)
_PG_UNAVAILABLE_CODES = {"57014", "57P01", "57P02", "57P03", "53300", "53400"}


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (a SQLAlchemy or driver exception) means the database cannot answer right now."""
    if exc is None:
        return False
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection free within the pool timeout
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        return is_database_unavailable(exc.orig) if exc.orig is not None else False
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc).lower()
        return any(part in message for part in _SQLITE_UNAVAILABLE)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    if isinstance(exc, psycopg.InterfaceError):
        return True
    if isinstance(exc, psycopg.OperationalError):
        code = getattr(exc, "sqlstate", None)
        # No SQLSTATE: the failure happened below SQL (refused, timed out, connection lost).
        return code is None or code.startswith(_PG_UNAVAILABLE_PREFIXES) or code in _PG_UNAVAILABLE_CODES
    return False


class _ConnectGate:
    """Per engine and process: after a failed connection attempt, fail new attempts at once for ``RETRY_S``."""

    def __init__(self) -> None:
        self.failed_at = 0.0
        self.lock = threading.Lock()

    def closed(self) -> bool:
        return time.monotonic() - self.failed_at < RETRY_S

    def fail(self) -> None:
        with self.lock:
            self.failed_at = time.monotonic()

    def reset(self) -> None:
        self.failed_at = 0.0


def watch_engine(engine: Engine) -> None:
    """Mark the current request when ``engine`` reports an unavailable database, and gate its reconnects.
    Idempotent (tests share engines between apps)."""
    if getattr(engine, _LISTENING, False):
        return
    gate = _ConnectGate()
    dbapi = engine.dialect.loaded_dbapi

    @event.listens_for(engine, "do_connect")
    def _gated_connect(_dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
        if gate.closed():
            refused = dbapi.OperationalError("database unavailable: the last connection attempt failed moments ago")
            refused._arogya_gated = True  # type: ignore[attr-defined]  # does not re-arm the gate
            raise refused
        return None  # go on and connect as usual

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_conn: Any, _record: Any) -> None:
        gate.reset()

    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        if context.is_pre_ping:  # a stale pooled connection; the pool reconnects and reports a failure to do so
            return
        original = context.original_exception
        if not (is_database_unavailable(original) or context.is_disconnect):
            return
        if context.connection is None and not getattr(original, "_arogya_gated", False):
            gate.fail()  # a real connection attempt failed (refused, timed out, file missing)
        if has_request_context() and not getattr(g, _FLAG, None):
            setattr(g, _FLAG, str(original)[:200] or type(original).__name__)

    setattr(engine, _LISTENING, True)


def _wants_json() -> bool:
    return (request.path.startswith(("/api/", "/_dash-", "/healthz")) or request.is_json
            or request.accept_mimetypes.best == "application/json")


def unavailable_response() -> Response:
    """The 503: JSON for the API and Dash's requests, a short page otherwise; with Retry-After."""
    from markupsafe import escape

    from dashboard.i18n import t

    lang = "hi" if request.args.get("lang") == "hi" else "en"
    if _wants_json():
        response = flask.jsonify({"error": "Service Unavailable", "status": 503,
                                  "message": t("error.unavailable", lang)})
        response.status_code = 503
    else:
        html = (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>503</title>'
                f'<meta http-equiv="refresh" content="{RETRY_AFTER_HEADER}">'
                f'<link rel="stylesheet" href="{request.script_root}/assets/00_bootstrap.min.css"></head>'
                f'<body class="p-4"><h1 class="h4">503 · {escape(t("error.unavailable_title", lang))}</h1>'
                f'<p>{escape(t("error.unavailable", lang))}</p>'
                f'<p><a href="{request.script_root}/">Arogya</a></p></body></html>')
        response = Response(html, status=503, mimetype="text/html")
    response.headers["Retry-After"] = RETRY_AFTER_HEADER
    response.headers["Cache-Control"] = "no-store"
    return response


def install(server: flask.Flask, engines: Iterable[Engine]) -> None:
    """503 for an unavailable database on every route of ``server``, whose requests use ``engines``."""
    for engine in engines:
        watch_engine(engine)

    @server.errorhandler(sa_exc.SQLAlchemyError)
    def _database_error(exc: sa_exc.SQLAlchemyError) -> Response:
        if not is_database_unavailable(exc):
            raise exc  # a 500, through the generic handler (dashboard.security)
        log.warning("database unavailable: %s %s answered 503: %s", request.method, request.path,
                    str(getattr(exc, "orig", exc))[:200])
        return unavailable_response()

    @server.after_request
    def _caught_database_error(response: Response) -> Response:
        reason = getattr(g, _FLAG, None)
        if not reason or response.status_code >= 400 or request.path.startswith(_STATIC_PREFIXES):
            return response
        # A page or callback caught the error and rendered an error card: answer what it could not say.
        log.warning("database unavailable: %s %s answered 503: %s", request.method, request.path, reason)
        return unavailable_response()
