"""The frame around every page: navbar, global filter bar, freshness line.

The frame is built by each page's layout function from the URL, so it comes up in the page's language with the
filters of the link; afterwards the URL-sync callback keeps the controls and the query string in step.
Controls that live in the URL have pattern ids ``{"type": "urlparam", "key": <query key>}`` (``urldate`` for the
two dates), which lets one callback serve every page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.auth.language import remembered_lang, switch_href
from dashboard.auth.ui import admin_links, may_export, may_open, user_menu
from dashboard.data import reference
from dashboard.data.filters import PERIOD_PRESETS, Filter
from dashboard.i18n import format_date, name_of, t
from dashboard.runtime import current_scope, get_runtime
from dashboard.ui.memo import memoised_layout
from dashboard.ui.states import error
from dashboard.urlstate import FILTER_KEYS, ViewState, merge_search, parse_params, to_search
from etl.warehouse.schema import FACILITY_TYPES, MODES

NAV_PAGES: tuple[tuple[str, str, str], ...] = (
    ("overview", "/", "nav.overview"),
    ("compare", "/compare", "nav.compare"),
    ("district", "/district", "nav.district"),
    ("hubs", "/hubs", "nav.hubs"),
    ("chos", "/chos", "nav.chos"),
    ("schemes", "/schemes", "nav.schemes"),
    ("live", "/live", "nav.live"),
)


def url_id(key: str) -> dict[str, str]:
    return {"type": "urlparam", "key": key}


def date_id(key: str) -> dict[str, str]:
    return {"type": "urldate", "key": key}


def page_layout(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a page's layout function so that a change of the query string alone does not rebuild the page: the
    page's callbacks update it in place, and controls keep their focus and state."""

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        try:
            triggered = set(dash.ctx.triggered_prop_ids)
        except Exception:  # noqa: BLE001 - called outside a callback (validation, tests)
            triggered = set()
        if triggered and triggered <= {"_pages_location.search"}:
            return dash.no_update
        return fn(**kwargs)

    return wrapper


def page_title(key: str | None = None) -> Callable[..., str]:
    """A page's browser-tab title in the page's language (Dash calls it with the path's variables only, so the
    language comes from the router's query string, else the remembered one)."""

    def title(**_path_variables: Any) -> str:
        try:
            search = dash.ctx.inputs.get("_pages_location.search")
        except Exception:  # noqa: BLE001 - outside a callback
            search = None
        lang = parse_params(search).get("lang") or remembered_lang()
        return t("app.title", lang) + (f" – {t(key, lang)}" if key else "")

    return title


def search_from_kwargs(kwargs: dict[str, Any]) -> str:
    """The query string Dash pages split into layout keyword arguments, put back together."""
    return "?" + urlencode(kwargs, doseq=True) if kwargs else ""


def nav_search(search: str | None) -> str:
    """The part of a query string that travels between pages: filters and language, not page-only keys."""
    params = parse_params(search)
    return to_search({k: v for k, v in params.items() if k in (*FILTER_KEYS, "lang")})


def lang_href(pathname: str | None, search: str | None, lang: str) -> str:
    """The language switch: ``/lang/<other>`` remembers the choice (cookie, and the user's record) and comes back
    here in the other language."""
    other = "en" if lang == "hi" else "hi"
    here = "/" + (dash.strip_relative_path(pathname or "/") or "")
    return switch_href(other, here + merge_search(search, {"lang": other}))


def skip_link(lang: str) -> html.A:
    """The first focusable element of every page: jumps past the menu and the filters to the content."""
    return html.A(t("a11y.skip", lang), href="#main", id="skip-link", className="skip-link")


def main_area(lang: str, body: list[Any]) -> html.Main:
    # tabIndex -1 lets the skip link move keyboard focus here (not only scroll).
    return html.Main(dbc.Container(body, fluid=True, className="page-body pb-4"), id="main", tabIndex="-1")


def navbar(view: ViewState, active: str, pathname: str, search: str) -> dbc.Navbar:
    lang = view.lang
    links = [
        dbc.NavItem(dcc.Link(t(key, lang), href=dash.get_relative_path(path) + nav_search(search),
                             id=f"nav-{name}", className="nav-link" + (" active" if name == active else "")))
        for name, path, key in NAV_PAGES if may_open(path)  # menus show only what the role may use
    ] + admin_links(lang, active)
    # The switch stays in sight on a phone (beside the menu toggler); on a wide screen it is the last item.
    switch = html.A(t("nav.language", lang), id="nav-lang", href=lang_href(pathname, search, lang),
                    title=t("nav.language.title", lang), className="btn btn-sm btn-outline-light ms-auto me-2 "
                    "me-lg-0 order-lg-last", lang="hi" if lang == "en" else "en",
                    hrefLang="hi" if lang == "en" else "en")
    return dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand([html.Span(t("app.title", lang), className="fw-bold me-2"),
                             html.Small(t("app.tagline", lang), className="text-white-50 d-none d-md-inline")],
                            href=dash.get_relative_path("/") + nav_search(search)),
            switch,
            html.Button(html.Span(className="navbar-toggler-icon"), id="nav-toggle", className="navbar-toggler",
                        type="button", n_clicks=0, **{"aria-label": t("a11y.menu", lang), "aria-expanded": "false",
                                                      "aria-controls": "nav-collapse"}),
            dbc.Collapse([
                dbc.Nav(links, navbar=True, className="me-auto"),
                user_menu(lang),
            ], id="nav-collapse", navbar=True, is_open=False),
        ], fluid=True),
        color="primary", dark=True, expand="lg", className="mb-2", id="navbar",
    )


def _options(pairs: list[tuple[Any, str]]) -> list[dict[str, Any]]:
    return [{"value": value, "label": label} for value, label in pairs]


def district_options(lang: str, state_lgds: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    frame = reference.districts(get_runtime().data, current_scope(), tuple(state_lgds))
    return _options([(int(r.district_lgd), name_of(r, lang)) for r in frame.itertuples()])


def block_options(lang: str, district_lgds: tuple[int, ...]) -> list[dict[str, Any]]:
    if not district_lgds:
        return []
    frame = reference.blocks(get_runtime().data, current_scope(), tuple(district_lgds))
    return _options([(int(r.block_lgd), name_of(r, lang)) for r in frame.itertuples()])


def facility_options(district_lgds: tuple[int, ...], block_lgds: tuple[int, ...]) -> list[dict[str, Any]]:
    if not district_lgds:
        return []
    frame = reference.facilities(get_runtime().data, current_scope(), tuple(district_lgds), tuple(block_lgds))
    return _options([(r.facility_id, f"{r.name} ({r.facility_type}, {r.facility_id})") for r in frame.itertuples()])


def _dropdown(key: str, lang: str, options: list[dict[str, Any]], value: Any, multi: bool = True,
              **kwargs: Any) -> html.Div:
    return html.Div([
        dbc.Label(t(f"filter.{key}", lang), className="small mb-0"),
        dcc.Dropdown(id=url_id(_URL_KEY.get(key, key)), options=options, value=value, multi=multi,
                     placeholder=t("filter.all", lang), **kwargs),
    ], className=f"filter filter-{key}")


_URL_KEY = {"facility_type": "ftype"}


def filter_bar(view: ViewState) -> Any:
    """The global filter bar of ``view``. The same for every user of the same scope and view, and rebuilt on every
    page view otherwise (a few hundred components and option lists): kept in the result cache
    (``memoised_layout``)."""
    return _kept_filter_bar(view.lang, view.period, view.filter, tuple(view.states))


@memoised_layout
def _kept_filter_bar(lang: str, period: str, f: Filter, states: tuple[int, ...]) -> html.Div:
    return build_filter_bar(ViewState(period=period, filter=f, lang=lang, states=states))


def build_filter_bar(view: ViewState) -> html.Div:
    lang, f = view.lang, view.filter
    data = get_runtime().data
    scope = current_scope()
    states = reference.states(data, scope)
    specialties = reference.specialties(data)
    period_options = _options([(p, t(f"period.{p}", lang)) for p in PERIOD_PRESETS])
    date_kwargs = {"display_format": "DD-MM-YYYY", "first_day_of_week": 1, "clearable": False}
    toggle = html.Button([t("filter.toggle", lang), html.Span(f" ({active_filters(view)})" if active_filters(view)
                                                               else "", className="filter-count")],
                         id="filter-toggle", type="button", n_clicks=0, className="btn btn-sm btn-outline-secondary "
                         "d-md-none", **{"aria-expanded": "false", "aria-controls": "filter-collapse"})
    return html.Div(dbc.Container([toggle, dbc.Collapse(
        html.Div([
            html.Div([dbc.Label(t("filter.period", lang), className="small mb-0"),
                      dcc.Dropdown(id=url_id("period"), options=period_options, value=view.period,
                                   clearable=False, searchable=False)], className="filter filter-period"),
            html.Div([dbc.Label(t("filter.from", lang), className="small mb-0"),
                      dcc.DatePickerSingle(id=date_id("from"), date=f.start.isoformat(), **date_kwargs)],
                     className="filter filter-date"),
            html.Div([dbc.Label(t("filter.to", lang), className="small mb-0"),
                      dcc.DatePickerSingle(id=date_id("to"), date=f.end.isoformat(), **date_kwargs)],
                     className="filter filter-date"),
            _dropdown("state", lang, _options([(int(r.state_lgd), name_of(r, lang)) for r in states.itertuples()]),
                      view.states[0] if view.states else None, multi=False),
            _dropdown("district", lang, district_options(lang, view.states), list(f.district_lgds)),
            _dropdown("block", lang, block_options(lang, f.district_lgds), list(f.block_lgds)),
            _dropdown("facility", lang, facility_options(f.district_lgds, f.block_lgds), list(f.facility_ids)),
            _dropdown("facility_type", lang, _options([(x, t(f"ftype.{x}", lang)) for x in FACILITY_TYPES]),
                      list(f.facility_types)),
            _dropdown("mode", lang, _options([(x, t(f"mode.{x}", lang)) for x in MODES]), list(f.modes)),
            _dropdown("specialty", lang, _options([(r.specialty_code, name_of(r, lang))
                                                    for r in specialties.itertuples()]), list(f.specialties)),
        ], className="filter-bar d-flex flex-wrap gap-2 align-items-end", role="search",
            **{"aria-label": t("filter.region", lang)}),
        id="filter-collapse", is_open=False, className="filter-collapse")],
    fluid=True), className="filter-bar-wrap bg-light border-bottom py-2 mb-2", id="filter-bar")


def active_filters(view: ViewState) -> int:
    """How many geography/type/mode/specialty filters are set (shown on the phone's folded filter button)."""
    f = view.filter
    return sum(1 for values in (view.states, f.district_lgds, f.block_lgds, f.facility_ids, f.facility_types,
                                f.modes, f.specialties) if values)


@memoised_layout
def freshness(lang: str) -> html.Div:
    try:
        frame = reference.freshness(get_runtime().data)
    except Exception as exc:  # noqa: BLE001 - the page must still render
        return html.Div(error(lang, exc, "freshness"), id="freshness")
    if frame.empty:
        text = t("fresh.never", lang)
    else:
        items = [t("fresh.item", lang, dataset=t(f"dataset.{r.dataset}", lang), when=format_date(r.last_loaded))
                 for r in frame.itertuples()]
        text = f"{t('fresh.label', lang)} " + " · ".join(items)
    return html.Div(html.Small(text, className="text-muted"), id="freshness", className="freshness")


def frame(view: ViewState, active: str, pathname: str, search: str, body: list[Any]) -> html.Div:
    return html.Div([
        skip_link(view.lang),
        navbar(view, active, pathname, search),
        filter_bar(view),
        main_area(view.lang, [freshness(view.lang), *body]),
    ], lang=view.lang, className=f"page page-{active}")


def bare_frame(view: ViewState, active: str, pathname: str, search: str, body: list[Any]) -> html.Div:
    """The frame without the filter bar (pages whose content is not filtered by period and place)."""
    return html.Div([skip_link(view.lang), navbar(view, active, pathname, search), main_area(view.lang, body)],
                    lang=view.lang, className=f"page page-{active}")


def export_link(id_: str, lang: str, key: str = "export.csv") -> html.A:
    # Hidden for a role without the export right (the export routes refuse it on the server anyway).
    allowed = may_export("linelist" if key == "export.linelist" else "table") or key == "export.dictionary"
    return html.A(t(key, lang), id=id_, href="#", className="btn btn-sm btn-outline-secondary ms-2 export-link",
                  title=t("export.title", lang), download="", hidden=not allowed)
