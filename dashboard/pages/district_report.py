"""The district page's "Review report" control: a month picker (by default the last complete month of the filter
period) and links to the report of the page's district for that month as PDF, PNG and print view
(``dashboard.api.report``), in the page's language. Imported by the district page, which places it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.i18n import t
from dashboard.report.month import ReportMonth, default_month, month_options
from dashboard.runtime import get_runtime
from dashboard.urlstate import ViewState

KINDS: tuple[tuple[str, str], ...] = (("pdf", ".pdf"), ("png", ".png"), ("view", ""))


def report_href(lgd: int, month: str, lang: str, kind: str) -> str:
    """Where the report of district ``lgd`` for ``month`` (YYYY-MM) lives, as ``kind`` (pdf, png or view)."""
    suffix = dict(KINDS)[kind]
    query = {"month": month, "lang": lang}  # always explicit: the report does not guess the language
    return dash.get_relative_path(f"/report/district/{int(lgd)}{suffix}") + "?" + urlencode(query)


def report_panel(view: ViewState, lgd: int) -> html.Div:
    lang = view.lang
    today = get_runtime().today()
    chosen = default_month(view.filter, today)
    options = month_options(today, lang)
    if chosen.code not in {o["value"] for o in options}:
        options.append({"value": chosen.code, "label": chosen.label(lang, today)})
    link = "btn btn-sm btn-outline-primary"
    return html.Div([
        html.Span(t("report.control", lang), className="small fw-semibold me-1", title=t("report.control.hint", lang)),
        dbc.Label(t("report.month", lang), html_for="district-report-month", className="visually-hidden"),
        dcc.Dropdown(id="district-report-month", options=options, value=chosen.code, clearable=False,
                     searchable=False, style={"minWidth": "190px"}, className="small"),
        html.A(t("report.pdf", lang), id="district-report-pdf", href=report_href(lgd, chosen.code, lang, "pdf"),
               download="", className=link, title=t("report.pdf.title", lang)),
        html.A(t("report.png", lang), id="district-report-png", href=report_href(lgd, chosen.code, lang, "png"),
               download="", className=link, title=t("report.png.title", lang)),
        html.A(t("report.view", lang), id="district-report-view", href=report_href(lgd, chosen.code, lang, "view"),
               target="_blank", rel="noopener", className="btn btn-sm btn-link", title=t("report.view.title", lang)),
    ], id="district-report", role="group", **{"aria-label": t("report.control", lang)},
        className="district-report d-flex align-items-center flex-wrap gap-2 mb-2")


def update_report_links(month: str | None, lgd: Any, search: str | None) -> tuple[Any, ...]:
    if not month or lgd is None:
        return no_update, no_update, no_update
    try:
        ReportMonth(int(month[:4]), int(month[5:7]))
    except (TypeError, ValueError):
        return no_update, no_update, no_update
    lang = get_runtime().view(search).lang
    return tuple(report_href(int(lgd), month, lang, kind) for kind, _ in KINDS)


def register_callbacks() -> None:
    """Called by the district page module, which Dash executes once per app (this module is imported only once per
    process, so a decorator here would give the callback to the first app alone)."""
    callback(Output("district-report-pdf", "href"), Output("district-report-png", "href"),
             Output("district-report-view", "href"),
             Input("district-report-month", "value"), State("district-ready", "data"), State("url", "search"),
             prevent_initial_call=True)(update_report_links)
