"""The sign-in and sign-out pages: a small server-rendered form (no script, only the app's own stylesheet), a form
token against cross-site posts, a per-address rate limit, and the per-account lock-out after repeated failures."""

from __future__ import annotations

import hmac
from datetime import timedelta
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template_string, request, session, url_for

from dashboard import audit
from dashboard.auth import users
from dashboard.auth.language import request_lang, set_cookie
from dashboard.auth.passwords import burn_time, hash_password, needs_rehash, verify_password
from dashboard.auth.session import (
    csrf_token,
    current_principal,
    end_session,
    get_auth,
    session_principal,
    start_session,
)
from dashboard.i18n import normalise_lang, t
from dashboard.security import safe_next

blueprint = Blueprint("arogya_auth", __name__)

PAGE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{{ title }}</title>
<link rel="icon" type="image/x-icon" href="{{ root }}/_favicon.ico">
<link rel="stylesheet" href="{{ root }}/assets/00_bootstrap.min.css">
<link rel="stylesheet" href="{{ root }}/assets/arogya.css">
</head>
<body class="bg-light">
<main class="container">
<div class="row justify-content-center mt-5">
<div class="col-12 col-sm-9 col-md-6 col-lg-4">
<h1 class="h4 mb-3">{{ heading }}</h1>
{% if message %}<div class="alert alert-{{ kind }}" role="alert" id="login-message">{{ message }}</div>{% endif %}
<form method="post" action="{{ action }}" id="{{ form_id }}">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
{% if form_id == "login-form" %}
<input type="hidden" name="next" value="{{ next }}">
<div class="mb-3">
<label class="form-label" for="username">{{ t("login.username", lang) }}</label>
<input class="form-control" id="username" name="username" autocomplete="username" autocapitalize="none"
 spellcheck="false" required maxlength="80" autofocus value="{{ username }}">
</div>
<div class="mb-3">
<label class="form-label" for="password">{{ t("login.password", lang) }}</label>
<input class="form-control" id="password" name="password" type="password" autocomplete="current-password"
 required maxlength="1024">
</div>
<button class="btn btn-primary w-100" type="submit" id="login-submit">{{ t("login.submit", lang) }}</button>
{% else %}
<button class="btn btn-primary" type="submit" id="logout-submit">{{ t("logout.button", lang) }}</button>
{% endif %}
</form>
<p class="mt-3 small"><a href="{{ other_lang_href }}" lang="{{ other_lang }}">{{ t("login.language", lang) }}</a></p>
</div>
</div>
</main>
</body>
</html>
"""


def _lang() -> str:
    return normalise_lang(request_lang(form=True))


def _render(*, lang: str, status: int = 200, message: str = "", kind: str = "danger", username: str = "",
            next_: str = "/", form: str = "login") -> Response:
    other = "en" if lang == "hi" else "hi"
    endpoint = "arogya_auth.login" if form == "login" else "arogya_auth.logout"
    query = {"lang": lang} if lang != "en" else {}
    other_query = {"lang": other, **({"next": next_} if form == "login" and next_ != "/" else {})}
    body = render_template_string(
        PAGE, t=t, lang=lang, other_lang=other, root=request.script_root, message=message, kind=kind,
        title=t("login.title" if form == "login" else "logout.confirm", lang),
        heading=t("login.title" if form == "login" else "logout.confirm", lang),
        action=url_for(endpoint) + ("?" + urlencode(query) if query else ""), csrf=csrf_token(), next=next_,
        username=username, form_id=f"{form}-form",
        other_lang_href=url_for(endpoint) + "?" + urlencode(other_query))
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _form_token_ok() -> bool:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    return bool(sent and expected) and hmac.compare_digest(str(sent), str(expected))


def _after_login_target(next_: str, language: str) -> str:
    target = safe_next(next_)
    if language == "hi" and "lang=" not in target:
        target += ("&" if "?" in target else "?") + "lang=hi"
    return request.script_root + target


@blueprint.get("/login")
def login() -> Response:
    lang = _lang()
    next_ = safe_next(request.args.get("next"))
    if session_principal() is not None:
        return redirect(request.script_root + next_, code=302)
    message = t("login.session_ended", lang) if request.args.get("ended") else ""
    if request.args.get("out"):
        message = t("login.signed_out", lang)
    response = _render(lang=lang, next_=next_, message=message, kind="info")
    # A language chosen here (the page's switch link says ?lang=) is remembered for the next visit too.
    return set_cookie(response, lang) if request.args.get("lang") == lang else response


@blueprint.post("/login")
def login_post() -> Response:
    auth = get_auth()
    settings = auth.settings
    lang = _lang()
    next_ = safe_next(request.form.get("next"))
    username = users.normalise_username(request.form.get("username", ""))[:80]
    password = request.form.get("password", "")
    if not _form_token_ok():
        return _render(lang=lang, status=400, message=t("login.expired", lang), username=username, next_=next_)
    address = request.remote_addr or "unknown"
    attempts, limit = auth.hit(f"login:{address}"), max(1, settings.login_rate_per_minute)
    if attempts > limit:
        if attempts == limit + 1:  # the first refusal of a burst is audited, not each one of a flood
            audit.record(auth.engine, "login_failed", username=username,
                         detail={"reason": "rate_limited", "address": address})
        return _render(lang=lang, status=429, message=t("login.rate_limited", lang), username=username, next_=next_)
    failed = t("login.failed", lang, n=settings.login_max_failures, minutes=settings.login_lockout_minutes)
    user = users.get_user(auth.engine, username=username) if username else None
    reason = None
    if user is None:
        burn_time(password)
        reason = "unknown_user"
    elif not user.active:
        burn_time(password)
        reason = "disabled"
    elif user.locked():
        burn_time(password)
        reason = "locked"
    elif not verify_password(password, user.password_hash):
        after = users.record_failure(auth.engine, user, settings.login_max_failures,
                                     timedelta(minutes=settings.login_lockout_minutes))
        reason = "locked_now" if after.locked() else "wrong_password"
    if reason is not None or user is None:
        audit.record(auth.engine, "login_failed", username=username or None,
                     detail={"reason": reason, "address": address})
        return _render(lang=lang, status=401, message=failed, username=username, next_=next_)
    users.record_success(auth.engine, user, hash_password(password) if needs_rehash(user.password_hash) else None)
    auth.forget(user.user_id)
    principal = auth.principal(user.user_id)
    if principal is None:  # disabled in the instant between the check and now
        return _render(lang=lang, status=401, message=failed, username=username, next_=next_)
    start_session(principal)
    audit.record(auth.engine, "login", username=principal.username, scope=principal.scope,
                 detail={"address": address, "role": principal.role})
    return redirect(_after_login_target(next_, principal.language), code=302)


@blueprint.get("/logout")
def logout_page() -> Response:
    return _render(lang=_lang(), form="logout")


@blueprint.post("/logout")
def logout() -> Response:
    lang = _lang()
    if not _form_token_ok():
        return _render(lang=lang, form="logout", status=400, message=t("login.expired", lang))
    principal = current_principal() or session_principal()
    if principal is not None:
        audit.record(get_auth().engine, "logout", username=principal.username, scope=principal.scope)
    end_session()
    query = {"out": "1", **({"lang": lang} if lang != "en" else {})}
    return redirect(url_for("arogya_auth.login") + "?" + urlencode(query), code=302)
