"""Signing test clients in the way a browser does: a real account in ``app_user`` and a real POST of the sign-in form
(with its form token). There is no switch that turns sign-in off.

    client = app.server.test_client()
    login(client, app, role="district", districts=[203])
"""

from __future__ import annotations

import re
import uuid
import weakref
from collections.abc import Sequence
from typing import Any

from dashboard.auth import users
from dashboard.auth.session import EXTENSION

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def auth_engine(app: Any):  # type: ignore[no-untyped-def]
    return app.server.extensions[EXTENSION].engine


def make_user(app: Any, *, role: str = "analyst", districts: Sequence[int] = (), states: Sequence[str] = ("*",),
              username: str | None = None, password: str | None = None) -> tuple[str, str]:
    """A new account (all districts unless ``districts``/``states`` say otherwise); returns (username, password)."""
    name = username or f"{role}-{uuid.uuid4().hex[:10]}"
    if districts and states == ("*",):
        states = ()
    _, password = users.add_user(auth_engine(app), name, role, districts=list(districts), states=list(states),
                                 password=password)
    return name, password


def form_token(client: Any, path: str = "/login") -> str:
    page = client.get(path)
    match = _TOKEN.search(page.get_data(as_text=True))
    assert match, f"no form token on {path}: {page.status_code}"
    return match.group(1)


def post_login(client: Any, username: str, password: str, next_: str = "/") -> Any:
    token = form_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": next_})


# One real sign-in per app and kind of user; later clients get a copy of that session's cookie (scrypt is slow on
# purpose, and the per-address sign-in rate limit would otherwise trip in a long test module).
_SESSIONS: weakref.WeakKeyDictionary[Any, dict[tuple, tuple[str, str]]] = weakref.WeakKeyDictionary()


def session_cookie_name(app: Any) -> str:
    return app.server.config["SESSION_COOKIE_NAME"]


def login(client: Any, app: Any, *, role: str = "analyst", districts: Sequence[int] = (),
          states: Sequence[str] = ("*",), username: str | None = None, fresh: bool = False) -> str:
    """Sign ``client`` in as a user of ``role`` seeing ``districts``/``states`` (all districts by default); returns
    the username. The account is created on first use; ``fresh`` forces a new account and a real sign-in."""
    key = (role, tuple(districts), tuple(states), username)
    known = _SESSIONS.setdefault(app.server, {})
    if not fresh and key in known:
        name, cookie = known[key]
        client.set_cookie(session_cookie_name(app), cookie)
        return name
    name, password = make_user(app, role=role, districts=districts, states=states, username=username)
    response = post_login(client, name, password)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    cookie = client.get_cookie(session_cookie_name(app))
    assert cookie is not None
    known[key] = (name, cookie.value)
    return name


def logged_in_client(app: Any, **kwargs: Any) -> Any:
    client = app.server.test_client()
    login(client, app, **kwargs)
    return client


def browser_login(page: Any, base_url: str, username: str, password: str, next_: str = "/") -> None:
    """Sign a Playwright ``page`` in through the form (then it is on ``next_``)."""
    from urllib.parse import quote

    page.goto(f"{base_url}/login?next={quote(next_)}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url(lambda url: "/login" not in url)
