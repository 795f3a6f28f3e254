"""``install``: sign-in, sessions, the guard, page permissions and page-view audit, wired into the Dash app."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

import dash
from dash import html
from sqlalchemy import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import audit
from dashboard.auth import language, views
from dashboard.auth.guard import guard
from dashboard.auth.language import remembered_lang
from dashboard.auth.session import EXTENSION, AuthState, current_principal, get_auth
from etl.settings import Settings

_GUARDED = "__arogya_guarded__"
ROUTER_PATH = "_pages_location.pathname"
ROUTER_SEARCH = "_pages_location.search"


def configure_session_cookie(server: Any, settings: Settings) -> None:
    production = settings.environment == "production"
    server.config.update(
        # "__Host-" makes the browser refuse the cookie unless it is Secure, for this host only and for path "/".
        SESSION_COOKIE_NAME="__Host-arogya_session" if production else "arogya_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=production,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=max(1, settings.session_hours)),
        SESSION_REFRESH_EACH_REQUEST=False,
    )


def install(app: dash.Dash, settings: Settings, engine: Engine, cache: Any = None) -> AuthState:
    """Require sign-in for the whole app. ``engine`` must be writable: it holds ``app_user`` and ``audit_log``."""
    server = app.server
    configure_session_cookie(server, settings)
    if settings.trusted_proxies > 0:
        n = settings.trusted_proxies
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)  # type: ignore
    state = AuthState(settings=settings, engine=engine, cache=cache)
    server.extensions[EXTENSION] = state
    server.register_blueprint(views.blueprint)
    server.register_blueprint(language.blueprint)
    server.register_blueprint(audit.blueprint)
    # First of all before_request functions: nothing runs for a signed-out request but the public routes.
    server.before_request_funcs.setdefault(None, []).insert(0, guard)
    guard_pages()
    return state


def forbidden_layout(lang: str = "en") -> html.Div:
    import dash_bootstrap_components as dbc

    from dashboard.i18n import t

    return html.Div(dbc.Alert([html.H1(t("forbidden.title", lang), className="h5"),
                               html.P(t("forbidden.body", lang))], color="warning", className="m-3"),
                    id="forbidden")


def guard_pages() -> None:
    """Wrap every registered page's layout: refuse a page the user's role may not open, and audit each page view
    (path, query and the user's scope). Idempotent; pages are global to the process."""
    for page in dash.page_registry.values():
        layout = page.get("layout")
        if not callable(layout) or getattr(layout, _GUARDED, False):
            continue
        page["layout"] = _guarded(layout, page)


def _guarded(layout: Any, page: dict[str, Any]) -> Any:
    @functools.wraps(layout)
    def wrapper(**kwargs: Any) -> Any:
        principal = current_principal()
        pathname, search, triggered = _router_inputs()
        path = pathname or page.get("path") or "/"
        if principal is None or not principal.may_open("/" + (dash.strip_relative_path(path) or "")):
            return forbidden_layout(kwargs.get("lang") if kwargs.get("lang") in ("en", "hi") else remembered_lang())
        if principal is not None and (triggered is None or ROUTER_PATH in triggered):
            audit.record(get_auth().engine, "page_view", username=principal.username, scope=principal.scope,
                         detail={"path": path, "search": search or "", "page": page.get("module")})
        return layout(**kwargs)

    setattr(wrapper, _GUARDED, True)
    return wrapper


def _router_inputs() -> tuple[str | None, str | None, set[str] | None]:
    try:
        inputs = dash.ctx.inputs
        triggered = set(dash.ctx.triggered_prop_ids)
    except Exception:  # noqa: BLE001 - outside a callback
        return None, None, None
    return inputs.get(ROUTER_PATH), inputs.get(ROUTER_SEARCH), triggered
