"""The remembered language: a long-lived cookie in every browser, and ``app_user.language`` for a signed-in user.

Which language a request is shown in, first match wins:
1. ``?lang=`` in the URL (a shared link keeps its language);
2. the signed-in user's ``app_user.language`` (so her choice follows her to any browser; re-read every
   ``AROGYA_AUTH_RECHECK_S`` seconds like the rest of her account);
3. the ``arogya_lang`` cookie (the last choice made in this browser: the sign-in page and error pages use it);
4. English.

The switch is a plain link to ``/lang/<code>?next=<path>``: it works without script and by keyboard, stores the
choice on the user and in the cookie, and sends the browser back to ``next`` (a path on this site). Like every route
but the public ones it needs a session; the sign-in page's own switch (``/login?lang=hi``) sets the cookie itself.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, has_request_context, redirect, request

from dashboard.i18n import DEFAULT_LANG, LANGS

COOKIE = "arogya_lang"
# Browsers cap cookie lifetimes at 400 days.
COOKIE_MAX_AGE_S = 400 * 24 * 3600

blueprint = Blueprint("arogya_lang", __name__)


def cookie_lang() -> str | None:
    """The language stored in this browser's cookie, if any (and valid)."""
    if not has_request_context():
        return None
    value = request.cookies.get(COOKIE)
    return value if value in LANGS else None


def remembered_lang() -> str:
    """The language to use when the URL does not say: the signed-in user's, else this browser's cookie, else
    English."""
    from dashboard.auth.session import current_principal

    principal = current_principal()
    if principal is not None and principal.language in LANGS:
        return principal.language
    return cookie_lang() or DEFAULT_LANG


def request_lang(*, form: bool = False) -> str:
    """The language of the current request: ``?lang=`` (or, with ``form``, a posted ``lang`` field) if valid, else
    the remembered one. Error pages leave ``form`` off: parsing a refused body there would fail again."""
    if has_request_context():
        explicit = request.args.get("lang") or (request.form.get("lang") if form else None)
        if explicit in LANGS:
            return str(explicit)
    return remembered_lang()


def set_cookie(response: Response, lang: str) -> Response:
    secure = request.is_secure if has_request_context() else False
    response.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE_S, path="/", samesite="Lax", httponly=True,
                        secure=secure)
    return response


def switch_href(lang: str, next_: str) -> str:
    """The link that switches to ``lang`` and comes back to ``next_`` (a path with its query string)."""
    import dash

    return dash.get_relative_path(f"/lang/{lang}") + "?" + urlencode({"next": next_})


@blueprint.get("/lang/<code>")
def switch(code: str) -> Response:
    from dashboard.auth import users
    from dashboard.auth.session import get_auth, session_principal
    from dashboard.security import safe_next
    from dashboard.urlstate import merge_search

    if code not in LANGS:
        response = Response(f"unknown language {code!r}; use one of {', '.join(LANGS)}", status=400,
                            mimetype="text/plain")
        return response
    target = safe_next(request.args.get("next"))
    path, _, query = target.partition("?")
    # The target's own ?lang= would win over the cookie: make it say the new language (or nothing, for English).
    target = path + merge_search(query, {"lang": code})
    principal = session_principal()
    if principal is not None and principal.language != code:
        auth = get_auth()
        users.set_language(auth.engine, principal.username, code)
        auth.forget(principal.user_id)
    response = redirect(request.script_root + target, code=303)
    response.headers["Cache-Control"] = "no-store"
    return set_cookie(response, code)
