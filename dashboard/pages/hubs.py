"""Hubs & spokes (`/hubs`): hub load and capacity, specialty and channel mix, the hour × weekday load, service-hours
compliance, spoke activity (idle spokes, spokes assigned across a district border) and a district's hub→spoke
network. Definitions: ``dashboard.data.hubs``."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard.data import hubs as data
from dashboard.data import reference
from dashboard.data.hubs import grid_records
from dashboard.data.tables import ColumnSpec
from dashboard.figures import hubs as figures
from dashboard.i18n import format_date, format_indian, format_pct, format_short, name_of, t
from dashboard.runtime import current_scope, get_runtime
from dashboard.ui.chart_table import table_view
from dashboard.ui.frame import export_link, frame, page_layout, page_title, search_from_kwargs, url_id
from dashboard.ui.geo import geojson_url, has_boundaries
from dashboard.ui.memo import memoised
from dashboard.ui.states import capped_note, empty, error, error_alert, error_text, loading, message_figure
from dashboard.ui.widgets import column, export_href, grid, kpi_card, section
from dashboard.urlstate import ViewState

PAGE = "hubs"
GRAPH_CONFIG = {"displayModeBar": False}
LOAD_SHOWN = ("load_rank", "hub", "district", "spokes_assigned", "consultations", "per_serving_hour", "wait_p50",
              "wait_p90", "abandoned_pct", "no_show_pct", "referral_pct", "doctors_per_day")

dash.register_page(__name__, path="/hubs", name="Hubs & spokes", title=page_title("nav.hubs"))


def _columns(specs: tuple[ColumnSpec, ...], lang: str, shown: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    return [column(c.key, t(c.label, lang), c.kind, hide=shown is not None and c.key not in shown) for c in specs]


@page_layout
def layout(**kwargs: Any) -> Any:
    search = search_from_kwargs(kwargs)
    view = get_runtime().view(search)
    lang = view.lang
    idle = data.idle_window(view.params)
    idle_options = [{"label": t(f"hubs.idle_{d}", lang), "value": str(d)} for d in data.IDLE_WINDOWS]
    load_columns = _columns(data.HUB_COLUMNS, lang, LOAD_SHOWN)
    load_columns[0].update(pinned="left", maxWidth=90)
    body = [
        dcc.Store(id="hubs-ready", data=PAGE),
        html.Div([html.H1(t("hubs.title", lang), className="h4 mb-0 me-3"),
                  html.Span(id="hubs-period", className="text-muted")],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        loading(html.Div(id="hubs-kpis", className="mb-3")),
        section(t("hubs.load", lang), [
            loading(grid("hubs-grid", load_columns, lang, row_id="facility_id", height=380)),
            html.Div(id="hubs-grid-status"),
            html.Small(t("hubs.load_hint", lang), className="text-muted d-block mt-1"),
        ], tools=html.Div([export_link("hubs-load-export", lang),
                           export_link("hubs-load-dictionary", lang, "export.dictionary")])),
        dbc.Row([
            dbc.Col(section(t("hubs.capacity", lang), [
                html.Div([loading(dcc.Graph(id="hubs-capacity", config=GRAPH_CONFIG)),
                          table_view("hubs-capacity", lang)]),
                html.Small(t("hubs.capacity_hint", lang), className="text-muted"),
            ]), lg=5),
            dbc.Col(section(t("hubs.specialty", lang), html.Div([loading(dcc.Graph(id="hubs-specialty",
                                                                                   config=GRAPH_CONFIG)),
                                                                 table_view("hubs-specialty", lang)]),
                            tools=export_link("hubs-specialty-export", lang)), lg=4),
            dbc.Col(section(t("hubs.channel", lang), html.Div([loading(dcc.Graph(id="hubs-channel",
                                                                                 config=GRAPH_CONFIG)),
                                                               table_view("hubs-channel", lang)]),
                            tools=export_link("hubs-channel-export", lang)), lg=3),
        ], className="g-3"),
        section(t("hubs.heatmap", lang), [
            html.Div([loading(dcc.Graph(id="hubs-heatmap", config=GRAPH_CONFIG)), table_view("hubs-heatmap", lang)]),
            html.Small(t("hubs.heatmap_hint", lang), className="text-muted"),
        ], tools=export_link("hubs-heatmap-export", lang)),
        section(t("hubs.service", lang), [
            loading(grid("hubs-service", _columns(data.SERVICE_COLUMNS, lang), lang, row_id="facility_id",
                         height=320)),
            html.Small(t("hubs.service_hint", lang), className="text-muted d-block mt-1"),
        ], tools=export_link("hubs-service-export", lang)),
        section(t("hubs.spokes", lang), [
            loading(html.Div(id="hubs-spokes-summary", className="mb-2")),
            loading(grid("hubs-spokes", _columns(data.SPOKE_COLUMNS, lang), lang, row_id="facility_id", height=360)),
        ], tools=export_link("hubs-spokes-export", lang)),
        dbc.Row([
            dbc.Col(section(t("hubs.idle", lang), [loading(grid("hubs-idle", _columns(data.IDLE_COLUMNS, lang),
                                                                lang, row_id="facility_id", height=320)),
                                                   html.Div(id="hubs-idle-status")],
                            tools=html.Div([dbc.RadioItems(id=url_id("idle"), options=idle_options, value=str(idle),
                                                           inline=True, className="small d-inline-block"),
                                            export_link("hubs-idle-export", lang)],
                                           className="d-flex align-items-center")), lg=7),
            dbc.Col(section(t("hubs.cross", lang), loading(grid("hubs-cross", _columns(data.CROSS_COLUMNS, lang),
                                                                lang, row_id="facility_id", height=320)),
                            tools=export_link("hubs-cross-export", lang)), lg=5),
        ], className="g-3"),
        section(t("hubs.network", lang), [
            html.Div(id="hubs-network-status"),
            dbc.Row([
                dbc.Col(html.Div([loading(dcc.Graph(id="hubs-network-map",
                                                    config={**GRAPH_CONFIG, "scrollZoom": True})),
                                  table_view("hubs-network-map", lang)]),
                        lg=7),
                dbc.Col(loading(grid("hubs-network", _columns(data.NETWORK_COLUMNS, lang), lang, height=520)),
                        lg=5),
            ], className="g-2"),
            html.Small(t("hubs.network_hint", lang), className="text-muted"),
        ], tools=export_link("hubs-network-export", lang)),
    ]
    return frame(view, PAGE, "/hubs", search, body)


def _view(search: str | None) -> ViewState:
    return get_runtime().view(search)


def _number(value: Any, decimals: int = 1, unit: str = "") -> str:
    if value is None or value != value:
        return "–"
    return f"{format_indian(value, decimals)}{unit}"


def hub_kpis(totals: dict[str, Any], lang: str) -> dbc.Row:
    minutes = f" {t('unit.minutes', lang)}"
    cards = [
        kpi_card(t("hubs.kpi_hubs", lang), format_short(totals["hubs_serving"], lang),
                 t("hubs.kpi_hubs_sub", lang, total=format_indian(totals["hubs"])), "hubs-kpi-hubs"),
        kpi_card(t("hubs.kpi_consultations", lang), format_short(totals["consultations"], lang),
                 t("hubs.kpi_consultations_sub", lang), "hubs-kpi-consultations"),
        kpi_card(t("hubs.kpi_per_hour", lang), _number(totals["per_serving_hour"]), t("hubs.kpi_per_hour_sub", lang),
                 "hubs-kpi-per-hour"),
        kpi_card(t("hubs.kpi_wait", lang), _number(totals["wait_p50"], 1, minutes),
                 t("hubs.kpi_wait_sub", lang, p90=_number(totals["wait_p90"], 1, minutes)), "hubs-kpi-wait"),
        kpi_card(t("hubs.kpi_abandoned", lang), format_pct(totals["abandoned_pct"]),
                 t("hubs.kpi_abandoned_sub", lang, pct=format_pct(totals["no_show_pct"]),
                   ref=format_pct(totals["referral_pct"])), "hubs-kpi-abandoned"),
        kpi_card(t("hubs.kpi_doctors", lang), _number(totals["doctors_per_day"]), t("hubs.kpi_doctors_sub", lang),
                 "hubs-kpi-doctors"),
        kpi_card(t("hubs.kpi_missed", lang), format_indian(totals["missed_days"]),
                 t("hubs.kpi_missed_sub", lang, n=format_indian(totals["n_outside_hours"]),
                   pct=format_pct(totals["outside_pct"])), "hubs-kpi-missed"),
    ]
    return dbc.Row([dbc.Col(card, xs=6, md=4, xl=True) for card in cards], className="g-2")


@callback(Output("hubs-kpis", "children"), Output("hubs-period", "children"), Output("hubs-grid", "rowData"),
          Output("hubs-grid-status", "children"), Output("hubs-capacity", "figure"), Output("hubs-channel", "figure"),
          Output("hubs-service", "rowData"), Input("url", "search"), Input("hubs-ready", "data"))
@memoised
def update_hubs(search: str | None, _ready: Any = None) -> tuple[Any, ...]:
    """Hub load, capacity, channel mix and service-hours compliance: all from one cached ``hub_load``."""
    view = _view(search)
    lang, f = view.lang, view.filter
    period = t("filter.showing", lang, start=format_date(f.start), end=format_date(f.end), days=f.days)
    rt = get_runtime()
    args = (rt.data, f, current_scope(), view.params, lang)
    try:
        hubs = data.hub_load(rt.data, f, current_scope())
        load = data.hubs_grid(rt.data, f, current_scope(), lang, LOAD_SHOWN)
        service = data.service_table(*args)
    except Exception as exc:  # noqa: BLE001
        message = error_text(lang, exc, "hubs.load")
        failed = message_figure(message)
        return error_alert(message), period, [], None, failed, failed, []
    totals = data.hub_totals(hubs)
    if hubs.empty:
        blank = message_figure(t("hubs.none", lang))
        return empty(lang, "hubs.none"), period, [], empty(lang, "hubs.none"), blank, blank, []
    status = empty(lang) if totals["consultations"] == 0 else None
    kpis = hub_kpis(totals, lang)
    if status is not None:
        kpis = html.Div([kpis, empty(lang)])
    no_data = message_figure(t("state.empty", lang))
    capacity = figures.capacity_figure(hubs, lang) if totals["consultations"] else no_data
    channel = figures.channel_figure(data.channel_mix(hubs), lang) if totals["consultations"] else no_data
    return kpis, period, grid_records(load), status, capacity, channel, grid_records(service)


@callback(Output("hubs-specialty", "figure"), Input("url", "search"), Input("hubs-ready", "data"))
@memoised
def update_specialty(search: str | None, _ready: Any = None) -> dict[str, Any]:
    view = _view(search)
    try:
        mix = data.specialty_mix(get_runtime().data, view.filter, current_scope())
    except Exception as exc:  # noqa: BLE001
        return message_figure(error_text(view.lang, exc, "hubs.specialty"))
    if mix.empty:
        return message_figure(t("state.empty", view.lang))
    return figures.specialty_figure(mix, view.lang)


@callback(Output("hubs-heatmap", "figure"), Input("url", "search"), Input("hubs-ready", "data"))
@memoised
def update_heatmap(search: str | None, _ready: Any = None) -> dict[str, Any]:
    view = _view(search)
    rt = get_runtime()
    try:
        cells = data.hour_weekday(rt.data, view.filter, current_scope())
        windows = data.service_windows(rt.data, view.filter, current_scope())
    except Exception as exc:  # noqa: BLE001
        return message_figure(error_text(view.lang, exc, "hubs.heatmap"))
    if int(cells["consultations"].sum()) == 0:
        return message_figure(t("state.empty", view.lang))
    return figures.heatmap_figure(cells, view.lang, figures.modal_window(windows))


def spoke_summary(counts: dict[str, int], lang: str) -> html.Div:
    idle7, idle30, cross = counts["idle_7"], counts["idle_30"], counts["cross_district"]
    items = [
        (t("hubs.sum_spokes", lang, n=format_indian(counts["spokes"]), active=format_indian(counts["active"])),
         "secondary", "hubs-sum-spokes"),
        (t("hubs.sum_idle7", lang, n=format_indian(idle7)), "danger" if idle7 else "success", "hubs-sum-idle7"),
        (t("hubs.sum_idle30", lang, n=format_indian(idle30)), "danger" if idle30 else "success", "hubs-sum-idle30"),
        (t("hubs.sum_cross", lang, n=format_indian(cross)), "warning" if cross else "success", "hubs-sum-cross"),
    ]
    return html.Div([dbc.Badge(text, color=colour, className="me-2 p-2 fw-normal", id=id_)
                     for text, colour, id_ in items])


@callback(Output("hubs-spokes-summary", "children"), Output("hubs-spokes", "rowData"), Output("hubs-idle", "rowData"),
          Output("hubs-idle-status", "children"), Output("hubs-cross", "rowData"), Input("url", "search"),
          Input("hubs-ready", "data"))
@memoised
def update_spokes(search: str | None, _ready: Any = None) -> tuple[Any, list, list, Any, list]:
    """Spoke counts and the first rows of the spoke table, idle spokes (7 or 30 days, from the URL) and
    cross-district assignments, from one ``spoke_overview``; the CSV exports have every row."""
    view = _view(search)
    window = data.idle_window(view.params)
    try:
        overview = data.spoke_overview(get_runtime().data, view.filter, current_scope(), window, view.lang)
    except Exception as exc:  # noqa: BLE001
        return error(view.lang, exc, "hubs.spokes"), [], [], None, []
    counts = overview.counts
    if counts["spokes"] == 0:
        return empty(view.lang, "state.empty_facilities"), [], [], None, []
    summary: Any = spoke_summary(counts, view.lang)
    if counts["spokes"] > data.MAX_GRID_ROWS:
        summary = html.Div([summary, capped_note(data.MAX_GRID_ROWS, counts["spokes"], view.lang)])
    idle_total = counts[f"idle_{window}"]
    idle_status = capped_note(data.MAX_GRID_ROWS, idle_total, view.lang) if idle_total > data.MAX_GRID_ROWS else None
    return summary, overview.top, overview.idle, idle_status, overview.cross


@callback(Output("hubs-network-map", "figure"), Output("hubs-network", "rowData"),
          Output("hubs-network-status", "children"), Input("url", "search"), Input("hubs-ready", "data"))
@memoised
def update_network(search: str | None, _ready: Any = None) -> tuple[Any, list, Any]:
    view = _view(search)
    lang = view.lang
    lgd = data.network_district(view.filter)
    if lgd is None:
        note = t("hubs.network_pick", lang)
        return message_figure(note), [], dbc.Alert(note, color="info", className="py-2")
    rt = get_runtime()
    try:
        net = data.network(rt.data, view.filter, current_scope(), lgd)
        table = data.network_table(rt.data, view.filter, current_scope(), view.params, lang)
        districts = reference.districts(rt.data, current_scope())
    except Exception as exc:  # noqa: BLE001
        message = error_text(lang, exc, "hubs.network")
        return message_figure(message), [], error_alert(message)
    match = districts[districts["district_lgd"] == lgd]
    if match.empty or net.empty:
        note = t("district.unknown", lang, lgd=lgd)
        return message_figure(note), [], dbc.Alert(note, color="warning", className="py-2")
    name = name_of(match.iloc[0].to_dict(), lang)
    geo = geojson_url() if has_boundaries() else None
    figure = figures.network_figure(net.pairs, net.nodes, geo, lgd, lang)
    hubs_n = int(((net.nodes["role"] == "hub") & net.nodes["in_district"]).sum())
    summary = t("hubs.network_summary", lang, name=name, hubs=format_indian(hubs_n),
                pairs=format_indian(len(net.pairs)),
                other=format_indian(int((~net.pairs["assigned"]).sum()) if not net.pairs.empty else 0))
    status: list[Any] = [html.Div(summary, className="small mb-1", id="hubs-network-summary")]
    if net.pairs.empty:
        status.append(empty(lang))
    return figure, grid_records(table), status


EXPORTS: tuple[tuple[str, str], ...] = (
    ("hubs-load-export", "hubs-load"), ("hubs-service-export", "hubs-service"),
    ("hubs-specialty-export", "hubs-specialties"), ("hubs-channel-export", "hubs-channels"),
    ("hubs-heatmap-export", "hubs-hour-weekday"), ("hubs-spokes-export", "hubs-spokes"),
    ("hubs-idle-export", "hubs-idle-spokes"), ("hubs-cross-export", "hubs-cross-district"),
    ("hubs-network-export", "hubs-network"),
)


@callback(*[Output(id_, "href") for id_, _ in EXPORTS], Output("hubs-load-dictionary", "href"),
          Input("url", "search"), Input("hubs-ready", "data"))
def update_exports(search: str | None, _ready: Any = None) -> tuple[str, ...]:
    return (*[export_href(name, search) for _, name in EXPORTS], export_href("hubs-load", search, dictionary=True))
