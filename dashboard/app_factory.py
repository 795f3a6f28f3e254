"""Build the Dash app: settings → engine, cache, pages, frame callbacks, API blueprint."""

from __future__ import annotations

import logging
from pathlib import Path

import dash
import flask
from dash import dcc, html
from flask_caching import Cache
from sqlalchemy import Engine

from dashboard import security, unavailable
from dashboard.api import blueprint
from dashboard.api.report import blueprint as report_blueprint
from dashboard.api.status import init_status_api
from dashboard.auth import setup as auth_setup
from dashboard.compression import compress_config
from dashboard.data.context import DataContext
from dashboard.i18n import t
from dashboard.runtime import EXTENSION, Runtime
from dashboard.ui import sync
from etl.settings import PROJECT_ROOT, Settings
from etl.warehouse.engine import make_engine

log = logging.getLogger(__name__)

PAGES_DIR = Path(__file__).resolve().parent / "pages"
ASSETS_DIR = PROJECT_ROOT / "assets"


def cache_config(settings: Settings) -> dict[str, object]:
    """Redis when ``AROGYA_CACHE_URL`` is redis://... (shared by all workers and hosts; short socket timeouts so a
    Redis outage costs milliseconds, not seconds, before the cache is bypassed); a folder of files when it is
    file:///path (shared by the workers of one host: gunicorn on SQLite without Redis); else (empty or simple://)
    an in-process cache."""
    if settings.cache_url.startswith("simple://"):
        return {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": settings.cache_timeout_s,
                "CACHE_THRESHOLD": 2000}
    if settings.cache_url.startswith("file://"):
        folder = Path(settings.cache_url.removeprefix("file://"))
        folder.mkdir(parents=True, exist_ok=True)
        return {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(folder), "CACHE_THRESHOLD": 20_000,
                "CACHE_DEFAULT_TIMEOUT": settings.cache_timeout_s}
    if settings.cache_url:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": settings.cache_url,
            "CACHE_DEFAULT_TIMEOUT": settings.cache_timeout_s,
            "CACHE_KEY_PREFIX": "arogya:",
            "CACHE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    return {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": settings.cache_timeout_s, "CACHE_THRESHOLD": 2000}


def _secret_key(settings: Settings) -> str:
    # Production refuses a missing, well-known or short key (dashboard.security); development makes a random one.
    return security.secret_key(settings)


def shell() -> html.Div:
    """The app-wide layout: the URL (source of truth for the view) and the page container."""
    return html.Div([dcc.Location(id="url", refresh="callback-nav"), dash.page_container], id="app-shell")


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               auth_engine: Engine | None = None) -> dash.Dash:
    """The dashboard for ``settings`` (default: from the environment). ``engine`` overrides the read-only warehouse
    engine (tests point it at an isolated schema); ``auth_engine`` the writable one for users and the audit log."""
    settings = settings or Settings.from_env()
    server = flask.Flask("dashboard")
    server.config["SECRET_KEY"] = _secret_key(settings)
    server.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    server.config.update(compress_config())  # read by flask-compress when Dash turns it on (compress=True below)

    cache = Cache(config=cache_config(settings))
    cache.init_app(server)
    with server.app_context():
        backend = cache.cache
    data = DataContext(engine or make_engine(settings, read_only=True), backend, settings.cache_timeout_s,
                       suppression_k=settings.suppression_k)
    server.extensions[EXTENSION] = Runtime(settings=settings, data=data)
    server.register_blueprint(blueprint)
    server.register_blueprint(report_blueprint)  # the district review report (print view, PDF, PNG)
    init_status_api(server, settings)  # POST /api/v1/status (bearer token), its OpenAPI document, alerts

    @server.get("/geo/<path:name>")
    def geo(name: str) -> flask.Response:
        # Boundary files are large and change only with a release: let the browser keep them.
        return flask.send_from_directory(settings.geo_dir, name, max_age=86400, mimetype="application/geo+json")

    app = dash.Dash(
        "dashboard",
        server=server,
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        compress=True,
        external_stylesheets=[],
        external_scripts=[],
        suppress_callback_exceptions=True,
        title=t("app.title", "en"),
        update_title=None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = shell
    _lang_on_html(app)
    security.install(app, settings)
    auth = auth_setup.install(app, settings, auth_engine or make_engine(settings, create=False), backend)
    unavailable.install(server, [data.engine, auth.engine])  # 503 when the database cannot answer
    sync.register(app)
    _claim_page_callbacks(app)
    return app


def _lang_on_html(app: dash.Dash) -> None:
    """``<html lang>`` of the page shell in the request's language (URL, else the remembered one), so the browser
    and screen readers treat Hindi as Hindi from the first paint (assets/a11y.js keeps it in step afterwards)."""
    from dashboard.auth.language import request_lang

    interpolate = app.interpolate_index

    def with_lang(**kwargs: object) -> str:
        return interpolate(**kwargs).replace("<html>", f'<html lang="{request_lang()}">', 1)

    app.interpolate_index = with_lang  # type: ignore[method-assign]


def _claim_page_callbacks(app: dash.Dash) -> None:
    """Pages register their callbacks with the global ``dash.callback``; Dash hands them to the first app that
    serves a request. Claim them now, so that several apps in one process (tests) each get their own."""
    from dash import _callback

    for key in list(_callback.GLOBAL_CALLBACK_MAP):
        app.callback_map[key] = _callback.GLOBAL_CALLBACK_MAP.pop(key)
    app._callback_list.extend(_callback.GLOBAL_CALLBACK_LIST)
    _callback.GLOBAL_CALLBACK_LIST.clear()
