"""What the page frame shows of the signed-in user: which menu entries, the admin links, the sign-out form."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard.auth.roles import AUDIT, EXPORT, EXPORT_LINELIST
from dashboard.auth.session import can, csrf_token, current_principal
from dashboard.i18n import t

ADMIN_PAGES: tuple[tuple[str, str, str], ...] = (
    ("admin-audit", "/admin/audit", "nav.audit"),
)


def may_open(path: str) -> bool:
    principal = current_principal()
    return principal is not None and principal.may_open(path)


def may_export(kind: str = "table") -> bool:
    return can(EXPORT_LINELIST if kind == "linelist" else EXPORT)


def admin_links(lang: str, active: str) -> list[Any]:
    """Nav items for the admin pages the user may open."""
    import dash_bootstrap_components as dbc
    from dash import dcc

    return [dbc.NavItem(dcc.Link(t(key, lang), href=dash.get_relative_path(path), id=f"nav-{name}",
                                 className="nav-link" + (" active" if name == active else "")))
            for name, path, key in ADMIN_PAGES if can(AUDIT) and may_open(path)]


def user_menu(lang: str) -> html.Div | None:
    """Who is signed in, and a sign-out button (a real form post with the session's form token)."""
    principal = current_principal()
    if principal is None:
        return None
    role = t(f"userrole.{principal.role}", lang)
    return html.Div([
        html.Small(t("nav.user", lang, user=principal.username, role=role), className="text-white-50 me-2 d-none "
                   "d-lg-inline", id="nav-user"),
        html.Form([
            # The submit button carries the form token (html has no hidden input component).
            html.Button(t("logout.button", lang), type="submit", id="nav-logout", name="csrf_token",
                        value=csrf_token(), className="btn btn-sm btn-outline-light"),
        ], method="POST", action=dash.get_relative_path("/logout") + ("?lang=hi" if lang == "hi" else ""),
            className="d-inline m-0"),
    ], className="d-flex align-items-center me-2", id="nav-user-menu")
