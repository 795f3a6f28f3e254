"""Sign-in over HTTP: every route but the public ones refuses a signed-out request, sessions end when they must
(sign-out, expiry, a disabled account, a new password), lock-out and rate limit, and the form token."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from dashboard.app_factory import create_app
from dashboard.auth import users
from dashboard.auth.guard import is_public
from dashboard.auth.session import EXTENSION
from tests.auth_helpers import form_token, login, make_user, post_login, session_cookie_name
from tests.fixtures.warehouse_factory import build_warehouse, reader_engine

PUBLIC_RULES = {"/login", "/healthz", "/assets/<path:filename>", "/_favicon.ico", "/static/<path:filename>"}


@pytest.fixture(scope="module")
def wh(tmp_path_factory):  # type: ignore[no-untyped-def]
    wh = build_warehouse(tmp_path_factory.mktemp("sec-access"))
    yield wh
    wh.drop()


def make_app(wh, **changes):  # type: ignore[no-untyped-def]
    settings = wh.settings.with_(**{"auth_recheck_s": 0, "login_rate_per_minute": 1000, **changes})
    return create_app(settings, engine=reader_engine(wh), auth_engine=wh.engine)


@pytest.fixture(scope="module")
def app(wh):  # type: ignore[no-untyped-def]
    return make_app(wh)


def sample_url(rule: str) -> str:
    values = {"package_name": "dash", "fingerprinted_path": "dash-renderer/build/dash_renderer.min.js",
              "name": "overview-districts", "filename": "arogya.css", "path": "district/203"}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        return values.get(name, "x")

    return re.sub(r"<([^>]+)>", fill, rule)


def test_sec101_every_route_refuses_signed_out_requests(app):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    client.get("/login")  # the first request registers Dash's page router
    checked = 0
    for rule in app.server.url_map.iter_rules():
        if rule.rule in PUBLIC_RULES or rule.rule.startswith("/api/v1"):
            continue
        url = sample_url(rule.rule)
        for method in sorted((rule.methods or set()) | {"GET", "POST"}):
            if method in ("OPTIONS", "HEAD"):
                continue
            response = client.open(url, method=method, json={} if method != "GET" else None)
            assert response.status_code in (302, 401), (method, url, response.status_code)
            if response.status_code == 302:
                assert method == "GET" and "/login?next=" in response.headers["Location"]
            checked += 1
    assert checked >= 20


def test_sec102_public_routes_are_exactly_the_expected_ones(app):  # type: ignore[no-untyped-def]
    public = {r.rule for r in app.server.url_map.iter_rules()
              if is_public(sample_url(r.rule), r.endpoint) and not r.rule.startswith("/api/v1")}
    assert public <= PUBLIC_RULES
    client = app.server.test_client()
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/assets/arogya.css").status_code == 200
    assert client.get("/_favicon.ico").status_code == 200
    if any(r.rule == "/api/v1/openapi.json" for r in app.server.url_map.iter_rules()):
        assert client.get("/api/v1/openapi.json").status_code == 200
    if any(r.rule.startswith("/api/v1/status") for r in app.server.url_map.iter_rules()):
        # Token-authenticated: no session needed, the API's own bearer check answers.
        assert client.post("/api/v1/status", json={}).status_code == 401


def test_sec103_sign_in_and_out(app):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    name, password = make_user(app, role="state", states=["10"])
    response = post_login(client, name, password, next_="/compare?cmp=203,200")
    assert response.status_code == 302 and response.headers["Location"] == "/compare?cmp=203,200"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # development
    assert client.get("/").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    token = form_token(client, "/logout")
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302 and "/login" in out.headers["Location"]
    assert client.get("/").status_code == 302
    assert client.get("/_dash-layout").status_code == 401


def test_sec104_logout_kills_a_copied_cookie(app):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    login(client, app, role="analyst", fresh=True)
    stolen = client.get_cookie(session_cookie_name(app)).value
    client.post("/logout", data={"csrf_token": form_token(client, "/logout")})
    replay = app.server.test_client()
    replay.set_cookie(session_cookie_name(app), stolen)
    assert replay.get("/_dash-layout").status_code == 401


def test_sec105_sign_in_needs_the_form_token(app):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    name, password = make_user(app)
    response = client.post("/login", data={"username": name, "password": password, "next": "/"})
    assert response.status_code == 400
    assert client.get("/_dash-layout").status_code == 401
    logout = app.server.test_client()
    login(logout, app, fresh=True)
    assert logout.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert logout.get("/_dash-layout").status_code == 200


def test_sec106_lock_out_after_repeated_failures(wh):  # type: ignore[no-untyped-def]
    app = make_app(wh, login_max_failures=3, login_lockout_minutes=15)
    client = app.server.test_client()
    name, password = make_user(app)
    for _ in range(3):
        assert post_login(client, name, "wrong-password-123").status_code == 401
    user = users.get_user(wh.engine, username=name)
    assert user.locked() and user.failed_logins == 0
    refused = post_login(client, name, password)  # the right password, but locked
    assert refused.status_code == 401 and "locked" in refused.get_data(as_text=True)
    assert client.get("/_dash-layout").status_code == 401
    # When the lock runs out, the right password works and the counter is back at zero.
    with wh.engine.begin() as conn:
        from sqlalchemy import update

        from etl.warehouse.schema import app_user
        conn.execute(update(app_user).where(app_user.c.username == name)
                     .values(locked_until=users.utcnow() - timedelta(seconds=1)))
    assert post_login(client, name, password).status_code == 302
    assert client.get("/_dash-layout").status_code == 200


def test_sec107_unknown_and_disabled_users_get_the_same_answer(app, wh):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    unknown = post_login(client, "nobody-at-all", "whatever-password")
    name, password = make_user(app)
    users.set_active(wh.engine, name, False)
    disabled = post_login(client, name, password)
    assert unknown.status_code == disabled.status_code == 401
    message = re.compile(r'id="login-message">([^<]*)<')
    assert message.search(unknown.get_data(as_text=True)).group(1) == \
        message.search(disabled.get_data(as_text=True)).group(1)


def test_sec108_rate_limit_per_address(wh):  # type: ignore[no-untyped-def]
    app = make_app(wh, login_rate_per_minute=3, login_max_failures=100)
    middle = (time.time() // 60) * 60 + 30  # all attempts in one window: the test must not depend on the minute
    app.server.extensions[EXTENSION].clock = lambda: middle
    client = app.server.test_client()
    name, password = make_user(app)
    codes = [post_login(client, name, "wrong-password-123").status_code for _ in range(4)]
    assert codes[:3] == [401, 401, 401] and codes[3] == 429
    assert post_login(client, name, password).status_code == 429  # even the right password waits


def test_sec703_rate_window_edge_counts_the_previous_window(wh):  # type: ignore[no-untyped-def]
    """Two attempts just before a minute ends and two just after it are four in the sliding minute: the share of
    the previous window is rounded up, so a burst across the edge is not let through."""
    from dashboard.auth.session import AuthState

    edge = (time.time() // 60 + 1) * 60
    times = iter([edge - 1.0, edge - 0.5, edge + 0.3, edge + 0.6])
    state = AuthState(settings=wh.settings, engine=wh.engine, clock=lambda: next(times))
    assert [state.hit("login:10.0.0.9") for _ in range(4)] == [1, 2, 3, 4]


def test_sec109_disabled_user_session_stops_at_once(app, wh):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    name = login(client, app, role="district", districts=[203], fresh=True)
    assert client.get("/_dash-layout").status_code == 200
    users.set_active(wh.engine, name, False)  # as `arogya users disable` does, from another process
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/").status_code == 302
    users.set_active(wh.engine, name, True)
    assert client.get("/_dash-layout").status_code == 401  # the session was ended, not paused


def test_sec110_disabled_user_within_the_recheck_interval(wh):  # type: ignore[no-untyped-def]
    app = make_app(wh, auth_recheck_s=1)
    client = app.server.test_client()
    name = login(client, app, fresh=True)
    assert client.get("/_dash-layout").status_code == 200
    users.set_active(wh.engine, name, False)
    time.sleep(1.1)
    assert client.get("/_dash-layout").status_code == 401


def test_sec111_password_reset_ends_sessions(app, wh):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    name = login(client, app, fresh=True)
    users.reset_password(wh.engine, name)
    assert client.get("/_dash-layout").status_code == 401


def test_sec112_session_expires_after_the_configured_hours(wh):  # type: ignore[no-untyped-def]
    app = make_app(wh, session_hours=8)
    client = app.server.test_client()
    login(client, app, fresh=True)
    assert client.get("/_dash-layout").status_code == 200
    with client.session_transaction() as session:
        session["iat"] = int(time.time()) - 8 * 3600 - 5
    page = client.get("/district/203")
    assert page.status_code == 302 and "ended=1" in page.headers["Location"]  # "your session has ended"
    assert client.get("/_dash-layout").status_code == 401


def test_sec113_no_open_redirect_after_sign_in(app):  # type: ignore[no-untyped-def]
    name, password = make_user(app)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
                   "http:/evil.example", " /x", "/\r\nLocation: https://evil.example"):
        client = app.server.test_client()
        response = post_login(client, name, password, next_=target)
        assert response.status_code == 302
        assert response.headers["Location"] == "/", target


def test_sec114_sign_in_page_shows_no_secrets_and_keeps_next(app):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    response = client.get("/district/203?period=last7")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="next" value="/district/203?period=last7"' in body
    assert "<script" not in body and "javascript:" not in body.lower()
    assert page.headers["Cache-Control"] == "no-store"


def test_sec115_user_with_no_scope_sees_nothing(app):  # type: ignore[no-untyped-def]
    from tests.integration.test_dash_callbacks import AUGUST, call

    client = app.server.test_client()
    login(client, app, role="analyst", districts=[], states=[])
    rows = call(app, client, "overview-grid.rowData", [AUGUST])["overview-grid"]["rowData"]
    assert rows == []
    export = client.get("/api/export/linelist.csv" + AUGUST)
    assert export.status_code == 200 and export.get_data(as_text=True).count("\n") == 1  # the header only
