"""District comparison (`/compare`): 2–6 districts side by side, each with its rank among all districts."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard.data import overview, reference
from dashboard.data.tables import COMPARE_COLUMNS, MAX_COMPARE, compare_districts, compare_ids
from dashboard.figures.compare import measure_panels
from dashboard.figures.trend import district_lines
from dashboard.i18n import format_date, name_of, t
from dashboard.runtime import current_scope, get_runtime
from dashboard.ui.chart_table import table_view
from dashboard.ui.frame import export_link, frame, page_layout, page_title, search_from_kwargs, url_id
from dashboard.ui.memo import memoised
from dashboard.ui.states import error_alert, error_text, loading, message_figure
from dashboard.ui.widgets import INDIAN_1DP, export_href, grid, section

PAGE = "compare"

dash.register_page(__name__, path="/compare", name="Compare districts", title=page_title("nav.compare"))


@page_layout
def layout(**kwargs: Any) -> Any:
    search = search_from_kwargs(kwargs)
    rt = get_runtime()
    view = rt.view(search)
    lang = view.lang
    options = [{"value": int(r.district_lgd), "label": name_of(r, lang)}
               for r in reference.districts(rt.data, current_scope()).itertuples()]
    body = [
        dcc.Store(id="compare-ready", data=PAGE),
        html.Div([html.H1(t("compare.title", lang), className="h4 mb-0 me-3"),
                  html.Span(id="compare-period", className="text-muted")],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        html.Div([dbc.Label(t("compare.pick", lang), className="small mb-0"),
                  dcc.Dropdown(id=url_id("cmp"), options=options, value=compare_ids(view.params), multi=True,
                               placeholder=t("compare.pick", lang))], className="mb-2", style={"maxWidth": "720px"}),
        html.Div(id="compare-status"),
        section(t("compare.trend", lang), html.Div([loading(dcc.Graph(id="compare-trend",
                                                                      config={"displayModeBar": False})),
                                                    table_view("compare-trend", lang)])),
        section(t("compare.metrics", lang), [
            html.Div([loading(dcc.Graph(id="compare-panels", config={"displayModeBar": False})),
                      table_view("compare-panels", lang)]),
            loading(grid("compare-grid", [], lang, row_id="measure", height=380)),
        ], tools=html.Div([export_link("compare-export", lang),
                           export_link("compare-dictionary", lang, "export.dictionary")])),
    ]
    return frame(view, PAGE, "/compare", search, body)


def _grid_columns(columns: list[str], lang: str) -> list[dict[str, Any]]:
    known = {c.key: t(c.label, lang) for c in COMPARE_COLUMNS}
    rank_suffix = f" · {t('col.rank', lang)}"
    defs: list[dict[str, Any]] = []
    for key in columns:
        if key == "measure":
            continue
        col: dict[str, Any] = {"field": key, "headerName": known.get(key, key), "resizable": True}
        if key == "label":
            col.update(pinned="left", minWidth=220)
        elif key.endswith(rank_suffix):
            col.update(type="rightAligned", maxWidth=150,
                       valueFormatter={"function": "params.value == null ? '–' : params.value + ' / ' + "
                                                   "params.data.of"})
        elif key != "of":
            col.update(type="rightAligned", valueFormatter=INDIAN_1DP)
        else:
            col.update(hide=True)
        defs.append(col)
    return defs


@callback(Output("compare-period", "children"), Output("compare-status", "children"),
          Output("compare-trend", "figure"), Output("compare-panels", "figure"), Output("compare-grid", "rowData"),
          Output("compare-grid", "columnDefs"), Input("url", "search"), Input("compare-ready", "data"))
@memoised
def update_compare(search: str | None, _ready: Any = None) -> tuple[Any, ...]:
    rt = get_runtime()
    view = rt.view(search)
    lang, f = view.lang, view.filter
    period = t("filter.showing", lang, start=format_date(f.start), end=format_date(f.end), days=f.days)
    raw = [p for p in (view.get("cmp") or "").split(",") if p]
    chosen = compare_ids(view.params)
    if len(chosen) < 2:
        blank = message_figure(t("compare.need_two", lang))
        return period, dbc.Alert(t("compare.need_two", lang), color="info"), blank, blank, [], []
    status = dbc.Alert(t("compare.too_many", lang), color="warning") if len(raw) > MAX_COMPARE else None
    try:
        table = compare_districts(rt.data, f, current_scope(), view.params, lang)
        series = overview.district_series(rt.data, f.with_(district_lgds=tuple(chosen), block_lgds=(),
                                                           facility_ids=()), current_scope(), "week")
        names_frame = reference.districts(rt.data, current_scope())
    except Exception as exc:  # noqa: BLE001
        message = error_text(lang, exc, "compare")
        failed = message_figure(message)
        return period, error_alert(message), failed, failed, [], []
    names = {int(r.district_lgd): name_of(r, lang) for r in names_frame.itertuples() if int(r.district_lgd) in chosen}
    ordered = {lgd: names[lgd] for lgd in chosen if lgd in names}
    trend = district_lines(series, ordered, lang) if not series.empty else message_figure(t("state.empty", lang))
    district_names = [c for c in table.columns if c not in {"measure", "label", "of"}
                      and not c.endswith(f" · {t('col.rank', lang)}")]
    labels = dict(zip(table["measure"], table["label"], strict=True))
    panels = measure_panels(table, district_names, labels)
    records = table.astype(object).where(table.notna(), None).to_dict("records")
    return period, status, trend, panels, records, _grid_columns(list(table.columns), lang)


@callback(Output("compare-export", "href"), Output("compare-dictionary", "href"), Input("url", "search"),
          Input("compare-ready", "data"))
def update_exports(search: str | None, _ready: Any = None) -> tuple[str, str]:
    return export_href("compare-districts", search), export_href("compare-districts", search, dictionary=True)
