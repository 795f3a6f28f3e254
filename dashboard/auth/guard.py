"""The check in front of every route: a request that is not public needs a valid session.

Public: the sign-in page, ``/healthz``, the static assets (``/assets/``, the favicon) and the token-authenticated
status API under ``/api/v1/`` (its own bearer check; ``dashboard.api.status.PUBLIC_PREFIX``). Everything else — Dash's
layout, dependencies and callbacks, the component bundles, pages, exports, boundary files — answers a signed-out
request with a redirect to the sign-in page (a page a browser opens) or 401 (anything else).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, g, jsonify, redirect, request, session, url_for

from dashboard.auth.roles import Principal
from dashboard.auth.session import PRINCIPAL_ATTR, session_principal

PUBLIC_ENDPOINTS = frozenset({
    "arogya_auth.login", "arogya_auth.login_post", "arogya_api.healthz", "_dash_assets.static", "static",
})
PUBLIC_PREFIXES: tuple[str, ...] = ("/assets/", "/api/v1/")
PUBLIC_PATHS = frozenset({"/_favicon.ico", "/healthz", "/login", "/api/v1"})
# Requests a browser makes as a page load; the rest (XHR, API, downloads of data) get 401 instead of a redirect.
_MACHINE_PREFIXES = ("/_dash-", "/_reload-hash", "/api/", "/geo/", "/_alive")


def is_public(path: str, endpoint: str | None, rule: str | None = None) -> bool:
    """Whether ``path`` (routed to ``endpoint`` by the URL rule ``rule``) needs no session. A public prefix counts
    only when the route that answers is itself under that prefix (no "/assets/../" tricks)."""
    if endpoint in PUBLIC_ENDPOINTS:
        return True
    if path in PUBLIC_PATHS:
        return True
    prefix = next((p for p in PUBLIC_PREFIXES if path.startswith(p)), None)
    return prefix is not None and (rule is None or rule.startswith(prefix) or rule == prefix.rstrip("/"))


def _wants_page() -> bool:
    if request.method not in ("GET", "HEAD") or request.path.startswith(_MACHINE_PREFIXES):
        return False
    return request.headers.get("X-Requested-With") != "XMLHttpRequest"


def refuse_signed_out() -> Response:
    ended = "uid" in session
    if ended:  # an expired or invalidated session; a signed-out visitor keeps her sign-in form token
        session.clear()
    if _wants_page():
        target = request.path + (("?" + request.query_string.decode("utf-8", "replace")) if request.query_string
                                 else "")
        query = {"next": target, **({"ended": "1"} if ended else {})}
        lang = request.args.get("lang")
        if lang in ("en", "hi"):
            query["lang"] = lang
        return redirect(url_for("arogya_auth.login") + "?" + urlencode(query), code=302)
    response = jsonify(error="login required", status=401)
    response.status_code = 401
    return response


def guard() -> Response | None:
    """``before_request``: sets ``g.arogya_principal`` for a valid session, refuses a missing or invalid one."""
    path = request.path
    if is_public(path, request.endpoint, request.url_rule.rule if request.url_rule is not None else None):
        return None
    principal = session_principal()
    if principal is None:
        return refuse_signed_out()
    setattr(g, PRINCIPAL_ATTR, principal)
    if path.startswith("/_dash-update-component") and request.method == "POST" and not request.is_json:
        # Dash posts JSON; a form post from another site could not. (With SameSite=Lax this is belt and braces.)
        response = jsonify(error="callbacks take JSON", status=415)
        response.status_code = 415
        return response
    if _wants_page() and not principal.may_open(path):
        return forbidden(principal)
    return None


def forbidden(principal: Principal | None = None) -> Response:
    from dashboard.security import error_response

    response, _ = error_response(403, None, description=None)
    return response
