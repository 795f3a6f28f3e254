"""Hardening of every response and of the start-up: security headers with a Content Security Policy that the app's
own pages satisfy, generic error pages (no tracebacks), request size limits, safe redirects after sign-in, and the
refusal to run in production with a missing, default or short secret key.

The CSP allows scripts only from this origin plus the hashes of Dash's own inline scripts (``app.csp_hashes()``);
no ``'unsafe-inline'`` for scripts. Styles need ``'unsafe-inline'``: Plotly and the grid set style attributes and
inject ``<style>`` elements at run time. Maps draw in web workers created from ``blob:`` URLs.
"""

from __future__ import annotations

import logging
import re
import secrets
from urllib.parse import urlsplit

import dash
import flask
from flask import Response, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from etl.settings import Settings

log = logging.getLogger(__name__)

MIN_SECRET_LENGTH = 32
KNOWN_DEFAULT_SECRETS = frozenset({
    "", "secret", "secret-key", "secret_key", "secretkey", "changeme", "change-me", "change_me", "please-change-me",
    "default", "dev", "development", "test", "testing", "arogya", "dashboard", "flask", "superset", "password",
    "your-secret-key", "your_secret_key", "thisisasecretkey", "supersecret", "super-secret", "notsecret",
    "insecure", "xxx", "0" * 32, "changethisinproduction",
})
MAX_CONTENT_LENGTH = 2 * 1024 * 1024
MAX_FORM_MEMORY = 64 * 1024
SCRIPT_EVAL = False  # Dash's renderer, dcc, Plotly and the grid run without eval (checked in headless Chromium)


class ConfigurationError(RuntimeError):
    """A setting that makes the app unsafe to start."""


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` is not fit for production, or None."""
    if not key:
        return "AROGYA_SECRET_KEY is not set"
    if key.strip().lower() in KNOWN_DEFAULT_SECRETS:
        return "AROGYA_SECRET_KEY is a well-known default value"
    if len(key) < MIN_SECRET_LENGTH:
        return f"AROGYA_SECRET_KEY is too short ({len(key)} characters; at least {MIN_SECRET_LENGTH})"
    if len(set(key)) < 10:
        return "AROGYA_SECRET_KEY has too few different characters to be random"
    return None


def secret_key(settings: Settings) -> str:
    """The Flask secret key. Production refuses to start without a strong one; development makes a random key per
    process (sessions then end when the server restarts)."""
    if settings.environment == "production":
        problem = secret_key_problem(settings.secret_key)
        if problem:
            raise ConfigurationError(
                f"{problem}. AROGYA_ENV=production needs a random secret of at least {MIN_SECRET_LENGTH} characters, "
                "e.g. AROGYA_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')")
        return settings.secret_key
    if settings.secret_key:
        return settings.secret_key
    return secrets.token_hex(32)


# ---------------------------------------------------------------- redirects

_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site ("/..."), else ``default``: no scheme, no host, no "//" or "/\\"
    (which browsers treat as another host), no control characters. Stops open redirects after sign-in."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return default
    if _CONTROL.search(target) or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


# ---------------------------------------------------------------- headers

def content_security_policy(script_hashes: list[str], *, production: bool) -> str:
    script = ["'self'", *script_hashes]
    if SCRIPT_EVAL:
        script.append("'unsafe-eval'")
    directives = [
        "default-src 'self'",
        f"script-src {' '.join(script)}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "child-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    if production:
        directives.append("upgrade-insecure-requests")
    return "; ".join(directives)


_STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/geo/", "/static/", "/_favicon.ico")


def install(app: dash.Dash, settings: Settings) -> None:
    """Headers on every response, size limits, generic error pages."""
    server = app.server
    production = settings.environment == "production"
    server.config["MAX_CONTENT_LENGTH"] = server.config.get("MAX_CONTENT_LENGTH") or MAX_CONTENT_LENGTH
    server.config["MAX_FORM_MEMORY_SIZE"] = MAX_FORM_MEMORY
    server.config["MAX_FORM_PARTS"] = 100
    hashes: dict[str, object] = {"n": -1, "value": []}

    def script_hashes() -> list[str]:
        # Dash adds inline scripts (e.g. the pages' title updater) on the first request: recompute when they change.
        n = len(getattr(app, "_inline_scripts", []))
        if hashes["n"] != n:
            hashes["value"] = app.csp_hashes()
            hashes["n"] = n
        return hashes["value"]  # type: ignore[return-value]

    @server.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", content_security_policy(script_hashes(), production=production))
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
        if production:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        path = request.path
        if not path.startswith(_STATIC_PREFIXES) and "Cache-Control" not in h:
            h["Cache-Control"] = "no-store"
        return response

    @server.errorhandler(InternalServerError)
    def _server_error(exc: InternalServerError) -> tuple[Response, int]:
        ref = secrets.token_hex(4)
        original = getattr(exc, "original_exception", None)
        log.error("request failed (ref %s): %s %s", ref, request.method, request.path,
                  exc_info=original if original is not None else exc)
        return error_response(500, ref)

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | tuple[Response, int]:
        code = exc.code or 500
        if code < 400 or exc.response is not None:
            return exc.get_response()
        return error_response(code, None, description=exc.description if code < 500 else None)


def error_response(code: int, ref: str | None, description: str | None = None) -> tuple[Response, int]:
    """A short page (or JSON for API and Dash requests) with no internals: code, a generic text, a reference."""
    from dashboard.auth.language import request_lang
    from dashboard.i18n import t

    lang = request_lang()  # ?lang=, else the remembered language (cookie, signed-in user)
    wants_json = (request.path.startswith(("/api/", "/_dash-")) or request.is_json
                  or request.accept_mimetypes.best == "application/json")
    safe_description = description if code in (400, 404, 405, 413, 415, 429) else None
    if wants_json:
        body = {"error": _reason(code), "status": code}
        if ref:
            body["reference"] = ref
        if safe_description:
            body["message"] = safe_description
        return flask.jsonify(body), code
    text = t("error.body", lang, ref=ref) if ref else (safe_description or _reason(code))
    html = (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{code}</title>'
            f'<link rel="stylesheet" href="{request.script_root}/assets/00_bootstrap.min.css"></head>'
            f'<body class="p-4"><h1 class="h4">{code} · {escape(t("error.title", lang))}</h1>'
            f'<p>{escape(text)}</p><p><a href="{request.script_root}/">Arogya</a></p></body></html>')
    return Response(html, status=code, mimetype="text/html"), code


def _reason(code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"
