"""The audit log for administrators (`/admin/audit`): sign-ins, page views and exports, newest first, filtered by
user, action and dates, with a CSV export. Other roles get neither the page nor its data (checked on the server in
the layout and in every callback)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard import audit
from dashboard.auth.roles import AUDIT
from dashboard.auth.session import can, get_auth
from dashboard.i18n import format_date, t
from dashboard.runtime import get_runtime
from dashboard.ui.frame import bare_frame, page_layout, page_title, search_from_kwargs
from dashboard.ui.states import error
from dashboard.ui.widgets import column, grid, section

PAGE = "admin-audit"
LIMIT = 1000

dash.register_page(__name__, path="/admin/audit", name="Audit log", title=page_title("nav.audit"))


def _columns(lang: str) -> list[dict[str, Any]]:
    return [
        column("at", t("audit.col.at", lang), minWidth=150, maxWidth=180),
        column("username", t("audit.col.username", lang), maxWidth=180),
        column("action", t("audit.col.action", lang), maxWidth=150),
        column("scope", t("audit.col.scope", lang), maxWidth=180),
        column("detail", t("audit.col.detail", lang), minWidth=300, wrapText=False),
    ]


@page_layout
def layout(**kwargs: Any) -> Any:
    search = search_from_kwargs(kwargs)
    view = get_runtime().view(search)
    lang = view.lang
    if not can(AUDIT):
        return html.Div(dbc.Alert(t("forbidden.body", lang), color="warning"), id="admin-audit-forbidden")
    auth = get_auth()
    names = audit.usernames(auth.engine)
    everyone = t("audit.all", lang)
    controls = html.Div([
        html.Div([dbc.Label(t("audit.user", lang), className="small mb-0"),
                  dcc.Dropdown(id="admin-audit-user", options=[{"value": n, "label": n} for n in names],
                               placeholder=everyone)], className="filter", style={"minWidth": "200px"}),
        html.Div([dbc.Label(t("audit.action", lang), className="small mb-0"),
                  dcc.Dropdown(id="admin-audit-action", options=[{"value": a, "label": t(f"audit.action.{a}", lang)}
                                                                        for a in audit.ACTIONS],
                               placeholder=everyone)], className="filter", style={"minWidth": "200px"}),
        html.Div([dbc.Label(t("filter.period", lang), className="small mb-0"),
                  dcc.DatePickerRange(id="admin-audit-dates", display_format="DD-MM-YYYY", first_day_of_week=1,
                                      clearable=True)], className="filter"),
    ], className="d-flex flex-wrap gap-2 align-items-end mb-2")
    body = [
        html.H1(t("audit.title", lang), className="h4"),
        html.P(t("audit.hint", lang, days=max(audit.MIN_RETENTION_DAYS, auth.settings.audit_retention_days)),
               className="text-muted small"),
        controls,
        section(t("audit.title", lang), [grid("admin-audit-grid", _columns(lang), lang, row_id="audit_id", height=560),
                                         html.Div(id="admin-audit-status", className="small text-muted mt-1")],
                tools=html.A(t("audit.export", lang), id="admin-audit-export", href="#", download="",
                             className="btn btn-sm btn-outline-secondary")),
        dcc.Store(id="admin-audit-lang", data=lang),
    ]
    return bare_frame(view, PAGE, "/admin/audit", search, body)


def _detail(value: Any) -> str:
    if value in (None, "", {}):
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@callback(Output("admin-audit-grid", "rowData"), Output("admin-audit-status", "children"),
          Output("admin-audit-export", "href"),
          Input("admin-audit-user", "value"), Input("admin-audit-action", "value"),
          Input("admin-audit-dates", "start_date"), Input("admin-audit-dates", "end_date"),
          Input("admin-audit-lang", "data"))
def update_audit(user: str | None, action: str | None, start: str | None, end: str | None,
                 lang: str | None) -> tuple[list[dict[str, Any]], Any, str]:
    lang = lang or "en"
    if not can(AUDIT):
        return [], t("forbidden.body", lang), "#"
    args = {k: v for k, v in {"user": user, "action": action, "from": (start or "")[:10],
                              "to": (end or "")[:10]}.items() if v}
    try:
        frame = audit.read(get_auth().engine, limit=LIMIT, **audit.query_args(args))
    except Exception as exc:  # noqa: BLE001
        return [], error(lang, exc, "audit"), "#"
    rows = [{"audit_id": int(r.audit_id), "at": format_date(audit.to_ist(r.at)), "username": r.username or "",
             "action": t(f"audit.action.{r.action}", lang), "scope": r.scope or "", "detail": _detail(r.detail)}
            for r in frame.itertuples()]
    href = dash.get_relative_path("/admin/audit.csv") + ("?" + urlencode(args) if args else "")
    return rows, t("audit.shown", lang, n=len(rows), limit=LIMIT), href
