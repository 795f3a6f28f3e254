"""Headers, error pages, size limits and the production start."""

from __future__ import annotations

import json

import dash
import pytest

from dashboard.app_factory import create_app
from dashboard.security import ConfigurationError
from tests.auth_helpers import logged_in_client, login
from tests.fixtures.warehouse_factory import build_warehouse, reader_engine
from tests.integration.test_dash_callbacks import AUGUST, call

STRONG_KEY = "k3y-" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEF"


@pytest.fixture(scope="module")
def wh(tmp_path_factory):  # type: ignore[no-untyped-def]
    wh = build_warehouse(tmp_path_factory.mktemp("sec-hardening"))
    yield wh
    wh.drop()


@pytest.fixture(scope="module")
def app(wh):  # type: ignore[no-untyped-def]
    return create_app(wh.settings.with_(login_rate_per_minute=1000), engine=reader_engine(wh), auth_engine=wh.engine)


@pytest.fixture(scope="module")
def prod_app(wh):  # type: ignore[no-untyped-def]
    settings = wh.settings.with_(environment="production", secret_key=STRONG_KEY, login_rate_per_minute=1000)
    return create_app(settings, engine=reader_engine(wh), auth_engine=wh.engine)


def test_sec301_security_headers_on_every_kind_of_response(app):  # type: ignore[no-untyped-def]
    client = logged_in_client(app)
    for url in ("/login", "/", "/_dash-layout", "/api/export/overview-districts.csv" + AUGUST, "/healthz",
                "/assets/arogya.css"):
        response = client.get(url)
        h = response.headers
        csp = h["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, url
        script = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script and "*" not in script
        assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "same-origin"
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/assets/arogya.css").headers.get("Cache-Control", "")


def test_sec302_csp_allows_exactly_dashs_inline_scripts(app):  # type: ignore[no-untyped-def]
    import base64
    import hashlib
    import re

    client = logged_in_client(app)
    client.get("/")  # the first request adds the pages' inline title script
    page = client.get("/")
    html = page.get_data(as_text=True)
    csp = page.headers["Content-Security-Policy"]
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", html, re.S)
    inline = [s for s in inline if "alert(\"Dash v2.7+" not in s]  # inside an IE-only comment, never run
    assert inline
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def https_login(app, username: str, password: str):  # type: ignore[no-untyped-def]
    """A client signed in over https (a production session cookie is Secure, so plain http would not send it)."""
    import re

    client = app.server.test_client()
    page = client.get("/login", base_url="https://localhost")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    reply = client.post("/login", base_url="https://localhost",
                        data={"username": username, "password": password, "csrf_token": token, "next": "/"})
    assert reply.status_code == 302
    return client, reply


def test_sec303_production_cookie_hsts_and_generic_errors(prod_app, monkeypatch):  # type: ignore[no-untyped-def]
    from tests.auth_helpers import make_user

    name, password = make_user(prod_app)
    client, response = https_login(prod_app, name, password)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-arogya_session=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert "max-age=31536000" in client.get("/login").headers["Strict-Transport-Security"]
    # A callback that fails inside: the answer tells nothing of the failure.
    import dashboard.pages.overview as overview

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals: /srv/arogya/db password=hunter2")

    monkeypatch.setattr(overview.data, "kpis", broken)
    monkeypatch.setattr(overview, "kpi_cards", broken)
    prod_app.server.testing = False
    try:
        key = next(k for k in prod_app.callback_map if "overview-kpis.children" in k)
        spec = prod_app.callback_map[key]
        body = {"output": key, "outputs": [{"id": "overview-kpis", "property": "children"},
                                           {"id": "overview-period", "property": "children"}],
                "inputs": [{"id": d["id"], "property": d["property"], "value": AUGUST if i == 0 else None}
                           for i, d in enumerate(spec["inputs"])], "changedPropIds": ["url.search"]}
        reply = client.post("/_dash-update-component", json=body, base_url="https://localhost")
    finally:
        prod_app.server.testing = True
    text = reply.get_data(as_text=True)
    assert reply.status_code in (200, 500), text[:300]
    assert "hunter2" not in text and "Traceback" not in text and "/srv/" not in text


def test_sec304_unhandled_error_page_is_generic(wh):  # type: ignore[no-untyped-def]
    from tests.auth_helpers import make_user

    settings = wh.settings.with_(environment="production", secret_key=STRONG_KEY)
    app = create_app(settings, engine=reader_engine(wh), auth_engine=wh.engine)
    server = app.server

    @server.get("/__boom_for_test")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals: password=hunter2")

    name, password = make_user(app)
    client, _ = https_login(app, name, password)
    server.testing = False
    try:
        reply = client.get("/__boom_for_test", base_url="https://localhost")
        api = client.get("/__boom_for_test", base_url="https://localhost", headers={"Accept": "application/json"})
    finally:
        server.testing = True
    text = reply.get_data(as_text=True)
    assert reply.status_code == 500 and "hunter2" not in text and "Traceback" not in text
    assert "Something went wrong" in text and "reference" in text
    assert api.status_code == 500 and set(api.get_json()) == {"error", "status", "reference"}


def test_sec305_request_size_limit(app):  # type: ignore[no-untyped-def]
    client = logged_in_client(app)
    big = {"output": "x", "outputs": [], "inputs": [{"id": "x", "property": "y", "value": "a" * (3 * 1024 * 1024)}]}
    reply = client.post("/_dash-update-component", data=json.dumps(big), content_type="application/json")
    assert reply.status_code == 413
    assert client.post("/login", data={"username": "x" * (3 * 1024 * 1024), "password": "y"}).status_code == 413


def test_sec306_callbacks_take_json_only(app):  # type: ignore[no-untyped-def]
    client = logged_in_client(app)
    reply = client.post("/_dash-update-component", data={"output": "overview-kpis.children"})
    assert reply.status_code == 415


@pytest.mark.parametrize("key", ["", "changeme", "secret", "dev", "short-key-123", "a" * 40, "test"])
def test_sec307_production_refuses_weak_secret_keys(wh, key):  # type: ignore[no-untyped-def]
    settings = wh.settings.with_(environment="production", secret_key=key)
    with pytest.raises(ConfigurationError, match="AROGYA_SECRET_KEY"):
        create_app(settings, engine=reader_engine(wh), auth_engine=wh.engine)


def test_sec308_production_serve_refuses_a_missing_key(monkeypatch, capsys):  # type: ignore[no-untyped-def]
    from arogya_cli import main

    monkeypatch.setenv("AROGYA_ENV", "production")
    monkeypatch.delenv("AROGYA_SECRET_KEY", raising=False)
    assert main(["serve"]) == 2
    assert "AROGYA_SECRET_KEY is not set" in capsys.readouterr().err
    monkeypatch.setenv("AROGYA_SECRET_KEY", STRONG_KEY)
    assert main(["serve", "--debug"]) == 2


def test_sec309_no_javascript_links_in_any_page(app):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    login(client, app, role="admin")
    client.get("/")
    for page in dash.page_registry.values():
        path = page["path"] if "path_template" not in page or not page["path_template"] else "/district/203"
        body = call(app, client, "_pages_content.children", [path, AUGUST])
        raw = json.dumps(body).lower().replace("\\u0000", "")
        assert "javascript:" not in raw.replace(" ", ""), path
