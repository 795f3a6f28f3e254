"""Community Health Officers (`/chos`): roster with activity, silent CHOs, distributions, the block or district
comparison, and laptop and training coverage per district on the overview's choropleth. Definitions:
``dashboard.data.chos``."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, callback, dcc, html, no_update

from dashboard.data import chos as data
from dashboard.data import reference
from dashboard.data.hubs import MAX_GRID_ROWS, grid_records
from dashboard.data.tables import ColumnSpec
from dashboard.figures import choropleth
from dashboard.figures import chos as figures
from dashboard.i18n import format_date, format_indian, format_pct, format_short, t
from dashboard.runtime import current_scope, get_runtime
from dashboard.ui.chart_table import table_view
from dashboard.ui.frame import export_link, frame, page_layout, page_title, search_from_kwargs, url_id
from dashboard.ui.geo import geojson_url, has_boundaries
from dashboard.ui.memo import memoised
from dashboard.ui.states import capped_note, empty, error, error_alert, error_text, loading, message_figure
from dashboard.ui.widgets import column, export_href, grid, kpi_card, section
from dashboard.urlstate import ViewState

PAGE = "chos"
GRAPH_CONFIG = {"displayModeBar": False}

dash.register_page(__name__, path="/chos", name="CHOs", title=page_title("nav.chos"))


def _columns(specs: tuple[ColumnSpec, ...], lang: str) -> list[dict[str, Any]]:
    return [column(c.key, t(c.label, lang), c.kind) for c in specs]


def coverage_metric(view: ViewState) -> str:
    raw = view.get("cov", "")
    return raw if raw in data.COVERAGE_METRICS else data.COVERAGE_METRICS[0]


@page_layout
def layout(**kwargs: Any) -> Any:
    search = search_from_kwargs(kwargs)
    rt = get_runtime()
    view = rt.view(search)
    lang = view.lang
    by = data.grouping(view.filter, view.get("by"))
    dist = data.distribution_measure(view.params)
    cov = coverage_metric(view)
    roster_columns = _columns(data.ROSTER_COLUMNS, lang)
    roster_columns[1].update(pinned="left", minWidth=150)
    if has_boundaries():
        districts = reference.districts(rt.data, current_scope())
        base = choropleth.base_figure(geojson_url(), districts["district_lgd"], height=460)
        map_body: list[Any] = [html.Div([dcc.Graph(id="chos-map", figure=base,
                                         config={**GRAPH_CONFIG, "scrollZoom": True}), table_view("chos-map", lang)])]
    else:
        map_body = [dbc.Alert(t("state.no_boundaries", lang), color="warning"), html.Div(id="chos-map")]
    body = [
        dcc.Store(id="chos-ready", data=PAGE),
        html.Div([html.H1(t("chos.title", lang), className="h4 mb-0 me-3"),
                  html.Span(id="chos-period", className="text-muted")],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        loading(html.Div(id="chos-kpis", className="mb-3")),
        section(t("chos.roster", lang), [
            loading(grid("chos-roster", roster_columns, lang, row_id="cho_id", height=400)),
            html.Div(id="chos-roster-status"),
            html.Div(id="chos-roster-error"),
            html.Small(t("chos.roster_hint", lang), className="text-muted d-block mt-1"),
        ], tools=html.Div([export_link("chos-roster-export", lang),
                           export_link("chos-roster-dictionary", lang, "export.dictionary")])),
        dbc.Row([
            dbc.Col(section(t("chos.silent", lang), [
                loading(grid("chos-silent", _columns(data.SILENT_COLUMNS, lang), lang, row_id="cho_id", height=340)),
                html.Div(id="chos-silent-status"),
                html.Div(id="chos-silent-error"),
            ], tools=export_link("chos-silent-export", lang)), lg=6),
            dbc.Col(section(t("chos.distribution", lang), html.Div([loading(dcc.Graph(id="chos-dist",
                                                                                      config=GRAPH_CONFIG)),
                                                                    table_view("chos-dist", lang)]),
                            tools=html.Div([
                                dcc.Dropdown(id=url_id("dist"), value=dist, clearable=False, searchable=False,
                                             options=[{"value": m, "label": t(f"chos.dist.{m}", lang)}
                                                      for m in data.DISTRIBUTIONS], style={"minWidth": "220px"}),
                                export_link("chos-dist-export", lang)], className="d-flex align-items-center")),
                    lg=6),
        ], className="g-3"),
        section(t("chos.compare", lang), dbc.Row([
            dbc.Col(html.Div([loading(dcc.Graph(id="chos-compare-figure", config=GRAPH_CONFIG)),
                              table_view("chos-compare-figure", lang)]), lg=5),
            dbc.Col(loading(grid("chos-compare", _columns(data.COMPARE_COLUMNS, lang), lang, row_id="key",
                                 height=560)), lg=7),
        ], className="g-2"), tools=html.Div([
            dbc.RadioItems(id=url_id("by"), value=by, inline=True, className="small",
                           options=[{"value": g, "label": t(f"chos.by.{g}", lang)} for g in data.GROUPINGS]),
            export_link("chos-compare-export", lang)], className="d-flex align-items-center")),
        section(t("chos.coverage", lang), dbc.Row([
            dbc.Col([loading(map_body), html.Div(id="chos-map-status")], lg=7),
            dbc.Col(loading(grid("chos-coverage", _columns(data.COVERAGE_COLUMNS, lang), lang, row_id="district_lgd",
                                 height=460)), lg=5),
        ], className="g-2"), tools=html.Div([
            dcc.Dropdown(id=url_id("cov"), value=cov, clearable=False, searchable=False,
                         options=[{"value": m, "label": t(f"col.{m}", lang)} for m in data.COVERAGE_METRICS],
                         style={"minWidth": "240px"}),
            export_link("chos-coverage-export", lang)], className="d-flex align-items-center")),
    ]
    return frame(view, PAGE, "/chos", search, body)


def _view(search: str | None) -> ViewState:
    return get_runtime().view(search)


def cho_kpis(totals: data.Totals, lang: str) -> dbc.Row:
    n, active, laptops = totals.chos, totals.active, totals.laptops
    cards = [
        kpi_card(t("chos.kpi_chos", lang), format_short(active, lang),
                 t("chos.kpi_chos_sub", lang, active=format_indian(active), total=format_indian(n)), "chos-kpi-active"),
        kpi_card(t("chos.kpi_silent", lang), format_indian(totals.silent), t("chos.kpi_silent_sub", lang),
                 "chos-kpi-silent"),
        kpi_card(t("chos.kpi_per_cho", lang), format_indian(totals.consultations / n, 1) if n else "–",
                 t("chos.kpi_per_cho_sub", lang, n=format_indian(totals.consultations)), "chos-kpi-per-cho"),
        kpi_card(t("chos.kpi_laptops", lang), format_pct(100.0 * laptops / n) if n else "–",
                 t("chos.kpi_laptops_sub", lang, n=format_indian(laptops), total=format_indian(n)),
                 "chos-kpi-laptops"),
        kpi_card(t("chos.kpi_training", lang),
                 format_indian(totals.training_mean, 1) if totals.training_mean is not None else "–",
                 t("chos.kpi_training_sub", lang, n=format_indian(totals.fully)), "chos-kpi-training"),
    ]
    return dbc.Row([dbc.Col(card, xs=6, md=4, xl=True) for card in cards], className="g-2")


@callback(Output("chos-kpis", "children"), Output("chos-period", "children"),
          Output("chos-roster-status", "children"), Output("chos-silent-status", "children"),
          Output("chos-dist", "figure"), Output("chos-compare-figure", "figure"), Output("chos-compare", "rowData"),
          Input("url", "search"), Input("chos-ready", "data"))
@memoised
def update_chos(search: str | None, _ready: Any = None) -> tuple[Any, ...]:
    """KPIs, the distribution and the comparison from the sums per district or block, and the notes under the
    roster and the silent CHOs (their totals); the lists themselves come from ``update_cho_lists``."""
    view = _view(search)
    lang, f = view.lang, view.filter
    period = t("filter.showing", lang, start=format_date(f.start), end=format_date(f.end), days=f.days)
    rt = get_runtime()
    scope = current_scope()
    measure = data.distribution_measure(view.params)
    try:
        summary = data.summary(rt.data, f, scope, data.grouping(f, view.get("by")), measure)
        totals = summary.totals
        if totals.chos:
            dist = data.distribution_view(summary.distribution, lang)
            compare_rows = data.compare_view(summary.compare, lang)
    except Exception as exc:  # noqa: BLE001
        message = error_text(lang, exc, "chos.summary")
        failed = message_figure(message)
        return error_alert(message), period, None, None, failed, failed, []
    if not totals.chos:
        blank = message_figure(t("chos.none", lang))
        return empty(lang, "chos.none"), period, empty(lang, "chos.none"), None, blank, blank, []
    status: Any = empty(lang, "chos.no_activity") if totals.consultations == 0 else None
    if totals.chos > MAX_GRID_ROWS:
        status = html.Div([status, capped_note(MAX_GRID_ROWS, totals.chos, lang)])
    silent_status = capped_note(MAX_GRID_ROWS, totals.silent, lang) if totals.silent > MAX_GRID_ROWS else None
    dist_figure = figures.distribution_figure(dist, list(dist["range"]), t(f"chos.dist.{measure}", lang), lang)
    return (cho_kpis(totals, lang), period, status, silent_status, dist_figure,
            figures.compare_figure(summary.compare, lang), grid_records(compare_rows))


@callback(Output("chos-roster", "rowData"), Output("chos-silent", "rowData"), Output("chos-roster-error", "children"),
          Output("chos-silent-error", "children"), Input("url", "search"), Input("chos-ready", "data"))
@memoised
def update_cho_lists(search: str | None, _ready: Any = None) -> tuple[list, list, Any, Any]:
    """The first rows of the roster and of the silent CHOs: a callback of their own, so that the browser asks for
    them alongside the summary (another worker computes them) and the KPIs and charts do not wait for them."""
    view = _view(search)
    rt = get_runtime()
    scope = current_scope()
    try:
        return (data.roster_grid(rt.data, view.filter, scope, view.lang, MAX_GRID_ROWS),
                data.silent_grid(rt.data, view.filter, scope, view.lang, MAX_GRID_ROWS), None, None)
    except Exception as exc:  # noqa: BLE001
        message = error_text(view.lang, exc, "chos.lists")  # under both grids, one reference
        return [], [], error_alert(message), error_alert(message)


COVERAGE_DECIMALS = {"laptop_pct": 1, "training_pct": 1, "fully_trained_pct": 1}


@callback(Output("chos-map", "figure"), Output("chos-coverage", "rowData"), Output("chos-map-status", "children"),
          Input("url", "search"), Input("chos-ready", "data"))
@memoised
def update_coverage(search: str | None, _ready: Any = None) -> tuple[Any, list, Any]:
    """Laptop and training coverage per district: the choropleth's value layer (a Patch) and its table."""
    view = _view(search)
    lang = view.lang
    rt = get_runtime()
    try:
        frame_ = data.coverage(rt.data, view.filter, current_scope())
        table = data.coverage_table(rt.data, view.filter, current_scope(), view.params, lang)
    except Exception as exc:  # noqa: BLE001
        return no_update, [], error(lang, exc, "chos.coverage")
    status = empty(lang, "chos.none") if int(frame_["chos"].sum()) == 0 else None
    if not has_boundaries():
        return no_update, grid_records(table), status
    metric = coverage_metric(view)
    extra = [t("chos.map_extra", lang, chos=format_indian(n), laptops=format_indian(lp))
             for n, lp in zip(frame_["chos"], frame_["laptops"], strict=True)]
    values = figures.district_values(frame_.assign(extra=extra), metric, t(f"col.{metric}", lang), lang,
                                     decimals=COVERAGE_DECIMALS[metric], zmax=100.0, extra="extra")
    return choropleth.apply_values(Patch(), values), grid_records(table), status


EXPORTS: tuple[tuple[str, str], ...] = (
    ("chos-roster-export", "chos-roster"), ("chos-silent-export", "chos-silent"),
    ("chos-dist-export", "chos-distribution"), ("chos-compare-export", "chos-compare"),
    ("chos-coverage-export", "chos-coverage"),
)


@callback(*[Output(id_, "href") for id_, _ in EXPORTS], Output("chos-roster-dictionary", "href"),
          Input("url", "search"), Input("chos-ready", "data"))
def update_exports(search: str | None, _ready: Any = None) -> tuple[str, ...]:
    return (*[export_href(name, search) for _, name in EXPORTS], export_href("chos-roster", search, dictionary=True))
