"""Schemes (`/schemes`): the indicator catalogue, achievement against target by district, block or facility, the
monthly trend, laggards, a choropleth of % of target achieved, and the service packages each centre offers.
Definitions: ``dashboard.data.schemes``."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, callback, dcc, html, no_update

from dashboard.data import reference
from dashboard.data import schemes as data
from dashboard.data.hubs import MAX_GRID_ROWS, grid_records
from dashboard.data.tables import ColumnSpec
from dashboard.figures import choropleth
from dashboard.figures import schemes as figures
from dashboard.figures.chos import district_values
from dashboard.i18n import format_date, format_indian, format_pct, name_of, t
from dashboard.runtime import current_scope, get_runtime
from dashboard.ui.chart_table import table_view
from dashboard.ui.frame import export_link, frame, page_layout, page_title, search_from_kwargs, url_id
from dashboard.ui.geo import geojson_url, has_boundaries
from dashboard.ui.memo import memoised
from dashboard.ui.states import capped_note, empty, error, error_alert, error_text, loading, message_figure
from dashboard.ui.widgets import column, export_href, grid, kpi_card, section
from dashboard.urlstate import ViewState

PAGE = "schemes"
GRAPH_CONFIG = {"displayModeBar": False}
HIDDEN_BY_LEVEL = {"district": ("block", "district"), "block": ("block",), "facility": ()}
FLAG_CELL = {"function": "params.value == null ? '–' : (params.value > 0 ? '✓' : '✗')"}

dash.register_page(__name__, path="/schemes", name="Schemes", title=page_title("nav.schemes"))


def _columns(specs: tuple[ColumnSpec, ...], lang: str, hide: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [column(c.key, t(c.label, lang), c.kind, hide=c.key in hide) for c in specs]


def _package_columns(lang: str) -> list[dict[str, Any]]:
    cols = _columns(data.PACKAGE_COLUMNS, lang)
    for col in cols:
        if col["field"].startswith("pkg_"):
            k = int(col["field"][4:])
            col.update(valueFormatter=FLAG_CELL, headerTooltip=t(f"pkg.{k}", lang), maxWidth=70, minWidth=56,
                       cellStyle={"textAlign": "center"})
            col.pop("type", None)
    return cols


def _indicator(view: ViewState) -> str:
    return data.count_indicator(get_runtime().data, view.get("ind"))


@page_layout
def layout(**kwargs: Any) -> Any:
    search = search_from_kwargs(kwargs)
    rt = get_runtime()
    view = rt.view(search)
    lang = view.lang
    indicators = data.indicators(rt.data)
    counts = indicators[indicators["unit"] != "flag"]
    options = [{"value": r.indicator_code, "label": name_of(r, lang)} for r in counts.itertuples()]
    level = data.level_param(view.params)
    if has_boundaries():
        districts = reference.districts(rt.data, current_scope())
        base = choropleth.base_figure(geojson_url(), districts["district_lgd"], height=440)
        map_body: list[Any] = [html.Div([dcc.Graph(id="schemes-map",
                                                   figure=base, config={**GRAPH_CONFIG, "scrollZoom": True}),
                                         table_view("schemes-map", lang)])]
    else:
        map_body = [dbc.Alert(t("state.no_boundaries", lang), color="warning"), html.Div(id="schemes-map")]
    body = [
        dcc.Store(id="schemes-ready", data=PAGE),
        html.Div([html.H1(t("schemes.title", lang), className="h4 mb-0 me-3"),
                  html.Span(id="schemes-period", className="text-muted")],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        html.Div([
            html.Div([dbc.Label(t("schemes.indicator", lang), className="small mb-0"),
                      dcc.Dropdown(id=url_id("ind"), options=options, value=_indicator(view), clearable=False,
                                   style={"minWidth": "320px"})], className="me-3"),
            html.Div([dbc.Label(t("schemes.level", lang), className="small mb-0 d-block"),
                      dbc.RadioItems(id=url_id("by"), value=level, inline=True, className="small",
                                     options=[{"value": v, "label": t(f"schemes.by.{v}", lang)}
                                              for v in data.LEVELS])]),
        ], className="d-flex flex-wrap align-items-end mb-2"),
        loading(html.Div(id="schemes-kpis", className="mb-3")),
        section(t("schemes.catalogue", lang), [
            loading(grid("schemes-catalogue", _columns(data.CATALOGUE_COLUMNS, lang), lang, row_id="indicator_code",
                         height=300)),
            html.Div(id="schemes-catalogue-status"),
            html.Small(t("schemes.catalogue_hint", lang), className="text-muted d-block mt-1"),
        ], tools=html.Div([export_link("schemes-catalogue-export", lang),
                           export_link("schemes-catalogue-dictionary", lang, "export.dictionary")])),
        section(html.Span(id="schemes-achievement-title", children=t("schemes.achievement", lang)), dbc.Row([
            dbc.Col(html.Div([loading(dcc.Graph(id="schemes-achievement-figure", config=GRAPH_CONFIG)),
                              table_view("schemes-achievement-figure", lang)]), lg=5),
            dbc.Col(loading(grid("schemes-achievement",
                                 _columns(data.ACHIEVEMENT_COLUMNS, lang, HIDDEN_BY_LEVEL[level]), lang,
                                 row_id="key", height=420)), lg=7),
        ], className="g-2"), tools=export_link("schemes-achievement-export", lang)),
        dbc.Row([
            dbc.Col(section(t("schemes.map", lang), [loading(map_body), html.Div(id="schemes-map-status")],
                            tools=export_link("schemes-map-export", lang)), lg=6),
            dbc.Col(section(t("schemes.trend", lang), [
                html.Div([loading(dcc.Graph(id="schemes-trend", config=GRAPH_CONFIG)),
                          table_view("schemes-trend", lang)]),
                html.Small(t("schemes.trend_hint", lang, n=data.TREND_MIN_MONTHS), className="text-muted"),
            ], tools=export_link("schemes-trend-export", lang)), lg=6),
        ], className="g-3"),
        section(t("schemes.laggards", lang, pct=int(data.LAGGARD_PCT)), [
            loading(html.Div(id="schemes-laggards-summary", className="small mb-1")),
            loading(grid("schemes-laggards", _columns(data.LAGGARD_COLUMNS, lang), lang, row_id="key", height=340)),
        ], tools=export_link("schemes-laggards-export", lang)),
        section(t("schemes.packages", lang), [
            dbc.Row([
                dbc.Col(html.Div([loading(dcc.Graph(id="schemes-packages-figure", config=GRAPH_CONFIG)),
                                  table_view("schemes-packages-figure", lang)]), lg=5),
                dbc.Col(loading(grid("schemes-packages", _package_columns(lang), lang, row_id="facility_id",
                                     height=380)), lg=7),
            ], className="g-2"),
            html.Div(id="schemes-packages-status"),
            html.Div(id="schemes-packages-error"),
            html.Small(t("schemes.packages_hint", lang), className="text-muted"),
        ], tools=html.Div([export_link("schemes-package-coverage-export", lang, "schemes.export_coverage"),
                           export_link("schemes-packages-export", lang)])),
    ]
    return frame(view, PAGE, "/schemes", search, body)


def _view(search: str | None) -> ViewState:
    return get_runtime().view(search)


def scheme_kpis(catalogue: Any, indicator: str, lang: str) -> dbc.Row:
    counts = catalogue[catalogue["unit"] != "flag"]
    reported = counts[counts["centres"] > 0]
    chosen = catalogue[catalogue["indicator_code"] == indicator]
    row = chosen.iloc[0] if not chosen.empty else None
    behind = int((reported["achieved_pct"] < data.LAGGARD_PCT).sum())
    cards = [
        kpi_card(t("schemes.kpi_indicators", lang), format_indian(len(reported)),
                 t("schemes.kpi_indicators_sub", lang, total=format_indian(len(counts))), "schemes-kpi-indicators"),
        kpi_card(t("schemes.kpi_centres", lang),
                 format_indian(int(catalogue["centres"].max()) if len(catalogue) else 0),
                 t("schemes.kpi_centres_sub", lang), "schemes-kpi-centres"),
        kpi_card(name_of(row.to_dict(), lang) if row is not None else indicator,
                 format_pct(row["achieved_pct"]) if row is not None else "–",
                 t("schemes.kpi_achieved_sub", lang,
                   value=format_indian(row["value"]) if row is not None and row["value"] == row["value"] else "–",
                   target=format_indian(row["target"]) if row is not None and row["target"] == row["target"]
                   else "–"), "schemes-kpi-achieved"),
        kpi_card(t("schemes.kpi_behind", lang), format_indian(behind),
                 t("schemes.kpi_behind_sub", lang, pct=int(data.LAGGARD_PCT)), "schemes-kpi-behind"),
    ]
    return dbc.Row([dbc.Col(card, xs=6, md=3) for card in cards], className="g-2")


@callback(Output("schemes-kpis", "children"), Output("schemes-period", "children"),
          Output("schemes-catalogue", "rowData"), Output("schemes-catalogue-status", "children"),
          Input("url", "search"), Input("schemes-ready", "data"))
@memoised
def update_catalogue(search: str | None, _ready: Any = None) -> tuple[Any, ...]:
    view = _view(search)
    lang, f = view.lang, view.filter
    period = t("schemes.period", lang, start=format_date(data.month_start(f.start))[3:],
               end=format_date(f.end)[3:])
    rt = get_runtime()
    try:
        catalogue = data.catalogue(rt.data, f, current_scope())
        table = data.catalogue_table(rt.data, f, current_scope(), view.params, lang)
        indicator = _indicator(view)
    except Exception as exc:  # noqa: BLE001
        return error(lang, exc, "schemes.catalogue"), period, [], None
    status = empty(lang, "schemes.empty") if int(catalogue["centres"].sum()) == 0 else None
    kpis = scheme_kpis(catalogue, indicator, lang)
    return (html.Div([kpis, status]) if status else kpis), period, grid_records(table), status


def _indicator_label(view: ViewState, indicator: str) -> str:
    names = data.indicators(get_runtime().data)
    match = names[names["indicator_code"] == indicator]
    return name_of(match.iloc[0].to_dict(), view.lang) if not match.empty else indicator


@callback(Output("schemes-achievement-title", "children"), Output("schemes-achievement-figure", "figure"),
          Output("schemes-achievement", "rowData"), Output("schemes-achievement", "columnDefs"),
          Input("url", "search"), Input("schemes-ready", "data"))
@memoised
def update_achievement(search: str | None, _ready: Any = None) -> tuple[Any, ...]:
    """Achievement per district, block or facility: the chart and the table (the laggards come from
    ``update_laggards``)."""
    view = _view(search)
    lang = view.lang
    rt = get_runtime()
    level = data.level_param(view.params)
    try:
        indicator = _indicator(view)
        label = _indicator_label(view, indicator)
        frame_ = data.achievement(rt.data, view.filter, current_scope(), indicator, level)
        table = data.achievement_table(rt.data, view.filter, current_scope(), view.params, lang)
    except Exception as exc:  # noqa: BLE001
        # The chart says it could not be loaded, with the reference of the logged error.
        return t("schemes.achievement", lang), message_figure(error_text(lang, exc, "schemes.achievement")), [], \
            no_update
    columns = _columns(data.ACHIEVEMENT_COLUMNS, lang, HIDDEN_BY_LEVEL[level])
    title = t("schemes.achievement_of", lang, indicator=label, level=t(f"schemes.by.{level}", lang))
    if frame_.empty:
        return title, message_figure(t("schemes.empty", lang)), [], columns
    return title, figures.achievement_figure(frame_, lang, data.LAGGARD_PCT), grid_records(table), columns


@callback(Output("schemes-laggards", "rowData"), Output("schemes-laggards-summary", "children"),
          Input("url", "search"), Input("schemes-ready", "data"))
@memoised
def update_laggards(search: str | None, _ready: Any = None) -> tuple[list, Any]:
    """The centres furthest behind their target (the grid's first rows; the CSV has every row) and how many are
    behind: a callback of its own, beside the achievement's, so that the browser asks for both at once."""
    view = _view(search)
    lang = view.lang
    rt = get_runtime()
    try:
        label = _indicator_label(view, _indicator(view))
        laggards, behind, with_target, centres = data.laggards_grid(rt.data, view.filter, current_scope(),
                                                                    view.params, lang, MAX_GRID_ROWS)
    except Exception as exc:  # noqa: BLE001
        return [], error(lang, exc, "schemes.laggards")
    if not centres:  # no value for the indicator under the filter: the achievement's chart says the same
        return [], empty(lang, "schemes.empty")
    summary = t("schemes.laggards_summary", lang, n=format_indian(behind), of=format_indian(with_target),
                pct=int(data.LAGGARD_PCT), indicator=label)
    status: Any = html.Span(summary, id="schemes-laggards-count")
    if behind > MAX_GRID_ROWS:  # the grid shows the furthest behind; the CSV has every row
        status = html.Div([status, capped_note(MAX_GRID_ROWS, behind, lang)])
    return grid_records(laggards), status


@callback(Output("schemes-map", "figure"), Output("schemes-map-status", "children"),
          Input("url", "search"), Input("schemes-ready", "data"))
@memoised
def update_map(search: str | None, _ready: Any = None) -> tuple[Any, Any]:
    """Only the value layer changes: the boundary geometry stays in the browser."""
    if not has_boundaries():
        return no_update, no_update
    view = _view(search)
    lang = view.lang
    rt = get_runtime()
    try:
        frame_ = data.achievement(rt.data, view.filter, current_scope(), _indicator(view), "district")
    except Exception as exc:  # noqa: BLE001
        return no_update, error(lang, exc, "schemes.map")
    frame_ = frame_.rename(columns={"key": "district_lgd"})
    extra = [t("schemes.map_extra", lang, value=format_indian(v, 0), target=format_indian(g, 0))
             for v, g in zip(frame_["value"], frame_["target"], strict=True)]
    values = district_values(frame_.assign(extra=extra), "achieved_pct", t("col.achieved_pct", lang), lang,
                             extra="extra", zmax=max(100.0, float(frame_["achieved_pct"].max()))
                             if frame_["achieved_pct"].notna().any() else 100.0)
    status = empty(lang, "schemes.empty") if frame_.empty else None
    return choropleth.apply_values(Patch(), values), status


@callback(Output("schemes-trend", "figure"), Input("url", "search"), Input("schemes-ready", "data"))
@memoised
def update_trend(search: str | None, _ready: Any = None) -> dict[str, Any]:
    view = _view(search)
    try:
        monthly = data.monthly(get_runtime().data, view.filter, current_scope(), _indicator(view))
    except Exception as exc:  # noqa: BLE001
        return message_figure(error_text(view.lang, exc, "schemes.trend"))
    if int(monthly["centres"].sum()) == 0:
        return message_figure(t("schemes.empty", view.lang))
    return figures.trend_figure(monthly, view.lang)


@callback(Output("schemes-packages-figure", "figure"), Output("schemes-packages-status", "children"),
          Input("url", "search"), Input("schemes-ready", "data"))
@memoised
def update_packages(search: str | None, _ready: Any = None) -> tuple[Any, Any]:
    """The share of centres offering each package, and the note under the centres' grid (how many; none)."""
    view = _view(search)
    lang = view.lang
    try:
        coverage, centres = data.package_view(get_runtime().data, view.filter, current_scope(), lang)
    except Exception as exc:  # noqa: BLE001
        message = error_text(lang, exc, "schemes.packages")
        return message_figure(message), error_alert(message)
    if not centres:
        return message_figure(t("schemes.no_packages", lang)), empty(lang, "schemes.no_packages")
    note = capped_note(MAX_GRID_ROWS, centres, lang) if centres > MAX_GRID_ROWS else None
    return figures.package_figure(coverage, lang), note


@callback(Output("schemes-packages", "rowData"), Output("schemes-packages-error", "children"),
          Input("url", "search"), Input("schemes-ready", "data"))
@memoised
def update_package_centres(search: str | None, _ready: Any = None) -> tuple[list, Any]:
    """The centres' package flags (the grid's first rows): a callback of its own beside the chart's, so that the
    browser asks for both at once."""
    view = _view(search)
    try:
        rows = data.packages_grid(get_runtime().data, view.filter, current_scope(), view.lang, MAX_GRID_ROWS)
    except Exception as exc:  # noqa: BLE001
        return [], error(view.lang, exc, "schemes.package_centres")
    return grid_records(rows), None


EXPORTS: tuple[tuple[str, str], ...] = (
    ("schemes-catalogue-export", "schemes-catalogue"), ("schemes-achievement-export", "schemes-achievement"),
    ("schemes-map-export", "schemes-districts"), ("schemes-trend-export", "schemes-trend"),
    ("schemes-laggards-export", "schemes-laggards"), ("schemes-packages-export", "schemes-packages"),
    ("schemes-package-coverage-export", "schemes-package-coverage"),
)


@callback(*[Output(id_, "href") for id_, _ in EXPORTS], Output("schemes-catalogue-dictionary", "href"),
          Input("url", "search"), Input("schemes-ready", "data"))
def update_exports(search: str | None, _ready: Any = None) -> tuple[str, ...]:
    return (*[export_href(name, search) for _, name in EXPORTS],
            export_href("schemes-catalogue", search, dictionary=True))
