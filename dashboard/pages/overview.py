"""State overview (`/`): KPIs, district choropleth, ranking with sparklines, trend."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, callback, dcc, html, no_update

from dashboard.data import overview as data
from dashboard.data import reference
from dashboard.data.tables import OVERVIEW_COLUMNS, overview_districts
from dashboard.figures import choropleth
from dashboard.figures.trend import sparkline_values, trend_figure
from dashboard.i18n import format_date, t
from dashboard.runtime import current_scope, get_runtime
from dashboard.ui.chart_table import table_view
from dashboard.ui.frame import export_link, frame, page_layout, page_title, search_from_kwargs, url_id
from dashboard.ui.geo import geojson_url, has_boundaries
from dashboard.ui.kpis import kpi_cards
from dashboard.ui.memo import memoised
from dashboard.ui.states import empty, error, error_text, loading, message_figure
from dashboard.ui.widgets import column, export_href, grid, section
from dashboard.urlstate import ViewState

PAGE = "overview"

dash.register_page(__name__, path="/", name="State overview", title=page_title())


def _grid_columns(lang: str) -> list[dict[str, Any]]:
    labels = {c.key: t(c.label, lang) for c in OVERVIEW_COLUMNS}
    kinds = {c.key: c.kind for c in OVERVIEW_COLUMNS}
    shown = ("rank", "district", "consultations", "change_pct", "active_spoke_pct", "per_active_spoke",
             "hubs_serving", "median_wait", "referral_rate", "blocks_breaching")
    cols = [column(key, labels[key], kinds[key], hide=key not in shown) for key in labels]
    for col in cols:
        if col["field"] == "district":
            # A link by mouse and keyboard (Enter on the focused cell): the same as a click on the map.
            col.update(pinned="left", minWidth=150, cellClass="link-cell", cellRenderer="OpenLink",
                       cellRendererParams={"href": dash.get_relative_path("/district/{id}")})
        if col["field"] == "rank":
            col.update(maxWidth=90, pinned="left")
    cols.append({"field": "trend", "headerName": t("col.trend", lang), "cellRenderer": "Sparkline",
                 "sortable": False, "filter": False, "minWidth": 130})
    return cols


@page_layout
def layout(**kwargs: Any) -> Any:
    search = search_from_kwargs(kwargs)
    rt = get_runtime()
    view = rt.view(search)
    lang = view.lang
    metric = view.get("metric", "consultations")
    grain = view.get("grain", "day")
    districts = reference.districts(rt.data, current_scope())
    map_body: list[Any]
    if has_boundaries():
        base = choropleth.base_figure(geojson_url(), districts["district_lgd"])
        graph = dcc.Graph(id="overview-map", figure=base, config={"displayModeBar": False, "scrollZoom": True},
                          className="overview-map")
        map_body = [html.Div([graph, table_view("overview-map", lang)])]
    else:
        map_body = [dbc.Alert(t("state.no_boundaries", lang), color="warning"), html.Div(id="overview-map")]
    metric_options = [{"value": m, "label": t(f"metric.{m}", lang)} for m in choropleth.METRICS]
    grain_options = [{"value": g, "label": t(f"grain.{g}", lang)} for g in data.GRAINS]
    body = [
        dcc.Store(id="overview-ready", data=PAGE),
        html.Div([html.H1(t("overview.title", lang), className="h4 mb-0 me-3"),
                  html.Span(id="overview-period", className="text-muted")],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        loading(html.Div(id="overview-kpis", className="mb-3")),
        dbc.Row([
            dbc.Col(section(t("overview.map", lang), [
                loading(map_body),
                html.Div(id="overview-map-status"),
                html.Small(t("overview.map_hint", lang), className="text-muted map-hint"),
            ], tools=html.Div([dbc.Label(t("metric.label", lang), className="small me-2 mb-0"),
                               dcc.Dropdown(id=url_id("metric"), options=metric_options, value=metric,
                                            clearable=False, searchable=False, style={"minWidth": "260px"})],
                              className="d-flex align-items-center")), lg=7),
            dbc.Col(section(t("overview.trend", lang), [
                loading(dcc.Graph(id="overview-trend", config={"displayModeBar": False})),
                table_view("overview-trend", lang)],
                            tools=dbc.RadioItems(id=url_id("grain"), options=grain_options, value=grain,
                                                 inline=True, className="small")), lg=5),
        ], className="g-3"),
        section(t("overview.ranking", lang), [
            loading(grid("overview-grid", _grid_columns(lang), lang, row_id="district_lgd")),
            html.Div(id="overview-grid-status"),
        ], tools=html.Div([
            export_link("overview-export", lang),
            export_link("overview-dictionary", lang, "export.dictionary"),
            export_link("overview-linelist", lang, "export.linelist"),
        ])),
    ]
    return frame(view, PAGE, "/", search, body)


def _view(search: str | None) -> ViewState:
    return get_runtime().view(search)


@callback(Output("overview-kpis", "children"), Output("overview-period", "children"),
          Input("url", "search"), Input("overview-ready", "data"))
@memoised
def update_kpis(search: str | None, _ready: Any = None) -> tuple[Any, str]:
    view = _view(search)
    lang, f = view.lang, view.filter
    period = t("filter.showing", lang, start=format_date(f.start), end=format_date(f.end), days=f.days)
    try:
        frame_ = data.kpis(get_runtime().data, f, current_scope())
    except Exception as exc:  # noqa: BLE001
        return error(lang, exc, "overview.kpis"), period
    row = frame_.iloc[0].to_dict()
    cards = kpi_cards(row, f.days, lang)
    if row["consultations"] == 0:
        return html.Div([cards, empty(lang)]), period
    return cards, period


@callback(Output("overview-map", "figure"), Output("overview-map-status", "children"),
          Input("url", "search"), Input("overview-ready", "data"))
@memoised
def update_map(search: str | None, _ready: Any = None) -> tuple[Any, Any]:
    """Only the values change: the boundary geometry stays in the browser."""
    if not has_boundaries():
        return no_update, no_update
    view = _view(search)
    try:
        metrics = data.district_metrics(get_runtime().data, view.filter, current_scope())
    except Exception as exc:  # noqa: BLE001
        return no_update, error(view.lang, exc, "overview.map")
    values = choropleth.values(metrics, view.get("metric", "consultations"), view.lang)
    status = empty(view.lang) if int(metrics["consultations"].sum()) == 0 else None
    return choropleth.apply_values(Patch(), values), status


@callback(Output("overview-trend", "figure"), Input("url", "search"), Input("overview-ready", "data"))
@memoised
def update_trend(search: str | None, _ready: Any = None) -> dict[str, Any]:
    view = _view(search)
    grain = view.get("grain", "day")
    try:
        series = data.trend(get_runtime().data, view.filter, current_scope(), grain)
    except Exception as exc:  # noqa: BLE001
        return message_figure(error_text(view.lang, exc, "overview.trend"))
    if series.empty or int(series["consultations"].sum()) == 0:
        return message_figure(t("state.empty", view.lang))
    return trend_figure(series, grain, view.lang)


@callback(Output("overview-grid", "rowData"), Output("overview-grid-status", "children"),
          Input("url", "search"), Input("overview-ready", "data"))
@memoised
def update_grid(search: str | None, _ready: Any = None) -> tuple[list[dict[str, Any]], Any]:
    view = _view(search)
    rt = get_runtime()
    try:
        table = overview_districts(rt.data, view.filter, current_scope(), view.params, view.lang)
        sparks = sparkline_values(data.district_sparklines(rt.data, view.filter, current_scope()))
    except Exception as exc:  # noqa: BLE001
        return [], error(view.lang, exc, "overview.grid")
    records = table.astype(object).where(table.notna(), None).to_dict("records")
    for record in records:
        record["trend"] = sparks.get(int(record["district_lgd"]), [])
    return records, (empty(view.lang) if table.empty or int(table["consultations"].sum()) == 0 else None)


@callback(Output("overview-export", "href"), Output("overview-dictionary", "href"), Output("overview-linelist", "href"),
          Input("url", "search"), Input("overview-ready", "data"))
def update_exports(search: str | None, _ready: Any = None) -> tuple[str, str, str]:
    return (export_href("overview-districts", search), export_href("overview-districts", search, dictionary=True),
            export_href("linelist", search))


@callback(Output("url", "pathname", allow_duplicate=True), Input("overview-map", "clickData"),
          Input("overview-grid", "cellClicked"), prevent_initial_call=True)
def open_district(click: dict | None, cell: dict | None) -> Any:
    lgd = None
    if dash.ctx.triggered_id == "overview-map" and click and click.get("points"):
        lgd = click["points"][0].get("location")
    elif dash.ctx.triggered_id == "overview-grid" and cell and cell.get("colId") == "district":
        lgd = cell.get("rowId")
    if not lgd or not str(lgd).isdigit():
        return no_update
    return dash.get_relative_path(f"/district/{int(lgd)}")
