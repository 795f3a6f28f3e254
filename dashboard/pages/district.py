"""The Civil Surgeon's district page (`/district/<lgd>`, or `/district?district=<lgd>`): facility map with hub→spoke
links, block table with the two-spokes rule, idle spokes, silent CHOs, and a facility's detail on click."""

from __future__ import annotations

import re
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.boundaries.store import blocks_version
from dashboard.data import district as data
from dashboard.data import overview, reference
from dashboard.data.tables import (
    BLOCK_COLUMNS,
    FACILITY_COLUMNS,
    IDLE_COLUMNS,
    SILENT_COLUMNS,
    ColumnSpec,
    district_blocks,
    district_facilities,
    district_idle,
    district_silent,
)
from dashboard.data.tables import (
    records as grid_records,
)
from dashboard.figures.facility_map import daily_bars, facility_map
from dashboard.i18n import format_date, format_indian, name_of, t
from dashboard.pages.district_blocks import block_layer, boundary_panel, register_callbacks
from dashboard.pages.district_report import register_callbacks as register_report_callbacks
from dashboard.pages.district_report import report_panel
from dashboard.runtime import current_scope, get_runtime
from dashboard.ui.chart_table import table_view
from dashboard.ui.frame import export_link, frame, page_layout, page_title, search_from_kwargs, url_id
from dashboard.ui.geo import geojson_url, has_boundaries
from dashboard.ui.kpis import kpi_cards
from dashboard.ui.memo import memoised
from dashboard.ui.states import empty, error, loading
from dashboard.ui.widgets import column, export_href, grid, section
from dashboard.urlstate import ViewState, merge_search

PAGE = "district"
PATH_RE = re.compile(r"^district/(\d+)$")

dash.register_page(__name__, path_template="/district/<lgd>", name="District", title=page_title("nav.district"))
register_callbacks()  # the block boundary upload
register_report_callbacks()  # the review report's links follow its month picker


def district_of(pathname: str | None, view: ViewState) -> int | None:
    """The page's district: from the path, else the first district of the filter."""
    match = PATH_RE.match(dash.strip_relative_path(pathname or "") or "")
    if match:
        return int(match.group(1))
    return view.filter.district_lgds[0] if view.filter.district_lgds else None


def _district_row(lgd: int | None) -> dict[str, Any] | None:
    if lgd is None:
        return None
    frame_ = reference.districts(get_runtime().data, current_scope())
    match = frame_[frame_["district_lgd"] == lgd]
    return None if match.empty else match.iloc[0].to_dict()


def _columns(specs: tuple[ColumnSpec, ...], lang: str, **per_field: dict[str, Any]) -> list[dict[str, Any]]:
    return [column(c.key, t(c.label, lang), c.kind, **per_field.get(c.key, {})) for c in specs]


def _chooser(lang: str, value: int | None = None) -> html.Div:
    options = [{"value": int(r.district_lgd), "label": name_of(r, lang)}
               for r in reference.districts(get_runtime().data, current_scope()).itertuples()]
    return html.Div([dbc.Label(t("district.choose", lang), className="small mb-0"),
                     dcc.Dropdown(id="district-choose", options=options, value=value, clearable=False)],
                    style={"maxWidth": "360px"}, className="mb-3")


# A facility's name opens its details (as a click on its map point does), by mouse or by Enter on the focused cell.
FACILITY_LINK = {"cellRenderer": "OpenLink", "cellClass": "link-cell",
                 "cellRendererParams": {"href": "#district-detail"}}


def district_body(view: ViewState, lgd: int | None, search: str) -> list[Any]:
    lang = view.lang
    row = _district_row(lgd)
    if row is None:
        notice = [dbc.Alert(t("district.unknown", lang, lgd=lgd), color="warning")] if lgd is not None else []
        return [*notice, _chooser(lang)]
    links_on = view.get("links", "") == "1"
    back = dcc.Link(t("district.back", lang), href=dash.get_relative_path("/") + merge_search(search, {"lgd": None}),
                    className="small")
    block_cols = _columns(BLOCK_COLUMNS, lang, rule={"cellRenderer": "RuleFlag"})
    return [
        dcc.Store(id="district-ready", data=lgd),
        html.Div([back]),
        html.Div([html.H1(t("district.title", lang, name=name_of(row, lang)), className="h4 mb-0 me-3"),
                  html.Span(id="district-period", className="text-muted")],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        report_panel(view, lgd),
        loading(html.Div(id="district-kpis", className="mb-3")),
        dbc.Row([
            dbc.Col(section(t("district.map", lang), [
                html.Div([loading(dcc.Graph(id="district-map", config={"displayModeBar": False, "scrollZoom": True})),
                          table_view("district-map", lang)]),
                html.Div(id="district-map-status"),
                html.Small(t("district.map_hint", lang), className="text-muted map-hint d-block"),
                html.Div(id="district-summary", className="small mt-1"),
                boundary_panel(lang, lgd),
            ], tools=dbc.Checklist(id=url_id("links"), options=[{"label": t("district.links", lang), "value": "1"}],
                                   value=["1"] if links_on else [], switch=True, className="small")), lg=8),
            dbc.Col(section(t("col.facility", lang),
                            loading(html.Div(html.P(t("facility.hint", lang), className="text-muted"),
                                             id="district-detail", className="facility-detail"))), lg=4),
        ], className="g-3"),
        section(t("district.blocks", lang), loading(grid("district-blocks", block_cols, lang, row_id="block_lgd",
                                                         height=300)),
                tools=html.Div([export_link("district-blocks-export", lang),
                                export_link("district-linelist", lang, "export.linelist")])),
        dbc.Row([
            dbc.Col(section(t("district.idle", lang), loading(grid("district-idle", _columns(IDLE_COLUMNS, lang), lang,
                                                                   row_id="facility_id", height=300)),
                            tools=export_link("district-idle-export", lang)), lg=6),
            dbc.Col(section(t("district.silent", lang), loading(grid("district-silent", _columns(SILENT_COLUMNS, lang),
                                                                     lang, row_id="cho_id", height=300)),
                            tools=export_link("district-silent-export", lang)), lg=6),
        ], className="g-3"),
        section(t("district.map", lang), loading(grid("district-facilities", _columns(FACILITY_COLUMNS, lang,
                                                                                      facility=FACILITY_LINK),
                                                      lang, row_id="facility_id", height=360)),
                tools=export_link("district-facilities-export", lang)),
    ]


@page_layout
def layout(lgd: str | None = None, **kwargs: Any) -> Any:
    search = search_from_kwargs(kwargs)
    view = get_runtime().view(search)
    district = int(lgd) if lgd and str(lgd).isdigit() else None
    return frame(view, PAGE, f"/district/{lgd}", search, district_body(view, district, search))


@page_layout
def index_layout(**kwargs: Any) -> Any:
    search = search_from_kwargs(kwargs)
    view = get_runtime().view(search)
    district = view.filter.district_lgds[0] if view.filter.district_lgds else None
    return frame(view, PAGE, "/district", search, district_body(view, district, search))


dash.register_page(f"{__name__}_index", path="/district", name="District", title=page_title("nav.district"),
                   layout=index_layout)


def _context(search: str | None, pathname: str | None) -> tuple[ViewState, int | None]:
    view = get_runtime().view(search)
    return view, district_of(pathname, view)


def _blocks_version(search: str | None, pathname: str | None) -> str | None:
    """The uploaded block file's version: the map is drawn anew when a district's blocks are uploaded or removed."""
    lgd = _context(search, pathname)[1]
    return None if lgd is None else blocks_version(get_runtime().settings.geo_dir, lgd)


def _records(frame_: pd.DataFrame) -> list[dict[str, Any]]:
    return grid_records(frame_)


@callback(Output("district-kpis", "children"), Output("district-period", "children"),
          Input("url", "search"), Input("district-ready", "data"), State("url", "pathname"))
@memoised
def update_kpis(search: str | None, _ready: Any, pathname: str | None) -> tuple[Any, str]:
    view, lgd = _context(search, pathname)
    f = view.filter
    period = t("filter.showing", view.lang, start=format_date(f.start), end=format_date(f.end), days=f.days)
    if lgd is None:
        return None, period
    try:
        row = overview.kpis(get_runtime().data, f.with_(district_lgds=(lgd,)), current_scope()).iloc[0].to_dict()
    except Exception as exc:  # noqa: BLE001
        return error(view.lang, exc, "district.kpis"), period
    cards = kpi_cards(row, f.days, view.lang)
    return (html.Div([cards, empty(view.lang)]) if row["consultations"] == 0 else cards), period


@callback(Output("district-map", "figure"), Output("district-map-status", "children"),
          Output("district-summary", "children"),
          Input("url", "search"), Input("district-ready", "data"), Input("district-boundary-version", "data"),
          State("url", "pathname"))
@memoised(key=lambda search, _ready, _blocks, pathname: _blocks_version(search, pathname))
def update_map(search: str | None, _ready: Any, _blocks: Any, pathname: str | None) -> tuple[Any, Any, Any]:
    view, lgd = _context(search, pathname)
    if lgd is None:
        return no_update, None, None
    rt = get_runtime()
    lang = view.lang
    try:
        facilities = data.facilities(rt.data, view.filter, current_scope(), lgd)
        show_links = view.get("links", "") == "1"
        links = data.links(rt.data, view.filter, current_scope(), lgd) if show_links else pd.DataFrame()
        blocks_url, block_lgds = block_layer(lgd)
    except Exception as exc:  # noqa: BLE001
        return no_update, error(lang, exc, "district.map"), None
    geo = geojson_url() if has_boundaries() else None
    figure = facility_map(facilities, links, geo, lgd, lang, show_links, blocks_url=blocks_url, block_lgds=block_lgds)
    hubs = int((facilities["role"] == "hub").sum()) if not facilities.empty else 0
    summary = t("district.summary", lang, n=format_indian(len(facilities)), hubs=format_indian(hubs),
                spokes=format_indian(len(facilities) - hubs))
    status = empty(lang, "state.empty_facilities") if facilities.empty else (
        empty(lang) if int(facilities["consultations"].sum()) == 0 else None)
    return figure, status, html.Span(summary, id="district-summary-text")


@callback(Output("district-blocks", "rowData"), Output("district-idle", "rowData"),
          Output("district-silent", "rowData"), Output("district-facilities", "rowData"),
          Input("url", "search"), Input("district-ready", "data"), State("url", "pathname"))
@memoised
def update_tables(search: str | None, _ready: Any, pathname: str | None) -> tuple[list, list, list, list]:
    view, lgd = _context(search, pathname)
    if lgd is None:
        return [], [], [], []
    rt = get_runtime()
    params = {**view.params, "lgd": str(lgd)}
    args = (rt.data, view.filter, current_scope(), params, view.lang)
    blocks = district_blocks(*args)  # a cached frame: not changed in place
    blocks = blocks.assign(breach=[v == t("col.rule_breach", view.lang) for v in blocks["rule"]])
    return (_records(blocks), _records(district_idle(*args)), _records(district_silent(*args)),
            _records(district_facilities(*args)))


@callback(Output("district-blocks-export", "href"), Output("district-idle-export", "href"),
          Output("district-silent-export", "href"), Output("district-facilities-export", "href"),
          Output("district-linelist", "href"),
          Input("url", "search"), Input("district-ready", "data"), State("url", "pathname"))
def update_exports(search: str | None, _ready: Any, pathname: str | None) -> tuple[str, ...]:
    view, lgd = _context(search, pathname)
    query = merge_search(search, {"lgd": lgd})
    linelist = merge_search(search, {"district": [lgd] if lgd else None})
    return (*[export_href(name, query) for name in ("district-blocks", "district-idle-spokes",
                                                     "district-silent-chos", "district-facilities")],
            export_href("linelist", linelist))


def facility_panel(detail: data.FacilityDetail, view: ViewState) -> list[Any]:
    lang = view.lang
    info = detail.info.iloc[0]
    is_hub = info["role"] == "hub"
    partners = detail.partners
    partner_items = [html.Li(f"{r.name} ({r.partner_id}): {format_indian(r.consultations)}"
                             + (" ★" if r.assigned else "")) for r in partners.itertuples()] or [
        html.Li(t("facility.none", lang))]
    cho_items = [html.Li(f"{r.name} ({r.cho_id}) · {t('col.last_active', lang)}: "
                         f"{format_date(r.last_active) if pd.notna(r.last_active) else t('never', lang)}")
                 for r in detail.chos.itertuples()] or [html.Li(t("facility.none", lang))]
    total = int(detail.daily["consultations"].sum())
    parts: list[Any] = [
        html.H3(t("facility.title", lang, name=info["name"], type=info["facility_type"],
                  role=t(f"role.{info['role']}", lang)), className="h6"),
        html.Div(f"{t('col.block', lang)}: {name_of(info.to_dict(), lang, 'block_en', 'block_hi')}",
                 className="small text-muted"),
        html.Div(t("facility.last30", lang, date=format_date(view.filter.end)), className="small mt-2"),
        html.Div(t("facility.total", lang, n=format_indian(total)), className="fw-semibold",
                 id="district-detail-total"),
        dcc.Graph(id="district-detail-daily", figure=daily_bars(detail.daily, lang), config={"displayModeBar": False}),
        table_view("district-detail-daily", lang),
    ]
    if not is_hub:
        hub = info["hub_name"] or info["hub_id"] or t("facility.none", lang)
        parts.append(html.Div(f"{t('facility.its_hub', lang)}: {hub}", className="small"))
    parts += [html.Div(t("facility.its_spokes" if is_hub else "facility.partners", lang), className="small mt-2"),
              html.Ul(partner_items, className="small partner-list"),
              html.Div(t("facility.its_cho", lang), className="small"), html.Ul(cho_items, className="small")]
    return parts


@callback(Output("district-detail", "children"), Input("district-map", "clickData"),
          State("url", "search"), State("url", "pathname"), prevent_initial_call=True)
@memoised
def show_facility(click: dict | None, search: str | None, pathname: str | None) -> Any:
    view, lgd = _context(search, pathname)
    points = (click or {}).get("points") or []
    facility_id = points[0].get("customdata") if points else None
    if not facility_id or not isinstance(facility_id, str):
        return no_update
    try:
        detail = data.facility_detail(get_runtime().data, view.filter, current_scope(), facility_id)
    except Exception as exc:  # noqa: BLE001
        return error(view.lang, exc, "district.facility")
    if not detail.found:
        return dbc.Alert(t("facility.unknown", view.lang, id=facility_id), color="warning")
    return facility_panel(detail, view)


@callback(Output("district-detail", "children", allow_duplicate=True), Input("district-facilities", "cellClicked"),
          State("url", "search"), State("url", "pathname"), prevent_initial_call=True)
def show_facility_from_table(cell: dict | None, search: str | None, pathname: str | None) -> Any:
    """The facility table's keyboard and mouse way to what a click on the map shows (a facility's details)."""
    if not cell or cell.get("colId") != "facility" or not cell.get("rowId"):
        return no_update
    return show_facility({"points": [{"customdata": str(cell["rowId"])}]}, search, pathname)


@callback(Output("url", "pathname", allow_duplicate=True), Input("district-choose", "value"),
          prevent_initial_call=True)
def choose_district(lgd: int | None) -> Any:
    return dash.get_relative_path(f"/district/{int(lgd)}") if lgd else no_update
