"""Small building blocks: KPI cards, grids with Indian number formatting, section cards."""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

from dashboard.i18n import t

# AG Grid formats in the browser; en-IN gives Indian digit grouping (1,23,45,678).
INDIAN_INT = {"function": "params.value == null ? '–' : Number(params.value).toLocaleString('en-IN')"}
INDIAN_1DP = {"function": "params.value == null ? '–' : Number(params.value).toLocaleString('en-IN', "
                          "{minimumFractionDigits: 1, maximumFractionDigits: 1})"}
PCT_1DP = {"function": "params.value == null ? '–' : Number(params.value).toLocaleString('en-IN', "
                       "{minimumFractionDigits: 1, maximumFractionDigits: 1}) + '%'"}
# No String() in dash-ag-grid's expression parser (see getRowId below): concatenate.
DATE_DMY = {"function": "params.value ? ('' + params.value).slice(0, 10).split('-').reverse().join('-') : '–'"}
FORMATTERS = {"int": INDIAN_INT, "float": INDIAN_1DP, "pct": PCT_1DP, "date": DATE_DMY}


def kpi_card(title: str, value: str, sub: str = "", id_: str | None = None) -> dbc.Card:
    body = [html.Div(title, className="kpi-title small text-muted"), html.Div(value, className="kpi-value")]
    if sub:
        body.append(html.Div(sub, className="kpi-sub small text-muted"))
    return dbc.Card(dbc.CardBody(body), className="kpi-card h-100", id=id_ or "")


def section(title: Any, body: Any, tools: Any = None, id_: str | None = None) -> dbc.Card:
    header = html.Div([html.H2(title, className="h6 mb-0 me-auto"), tools] if tools is not None else
                      [html.H2(title, className="h6 mb-0")], className="d-flex align-items-center flex-wrap gap-2")
    kwargs = {"id": id_} if id_ else {}
    return dbc.Card([dbc.CardHeader(header), dbc.CardBody(body)], className="mb-3 section", **kwargs)


def column(field: str, label: str, kind: str = "text", **extra: Any) -> dict[str, Any]:
    # The full header as a tooltip too: on a phone a long (Hindi) header is cut short.
    col: dict[str, Any] = {"field": field, "headerName": label, "headerTooltip": label, "sortable": True,
                           "resizable": True}
    if kind in FORMATTERS:
        col["valueFormatter"] = FORMATTERS[kind]
        col["type"] = "rightAligned"
        if kind == "date":
            col.pop("type")
    col.update(extra)
    return col


def grid(id_: str, columns: list[dict[str, Any]], lang: str, row_id: str | None = None, height: int = 420,
         **extra: Any) -> dag.AgGrid:
    options: dict[str, Any] = {
        "localeText": {"noRowsToShow": t("state.empty_rows", lang), "loadingOoo": t("state.loading", lang)},
        "animateRows": False,
        "suppressCellFocus": False,
    }
    kwargs: dict[str, Any] = {}
    if row_id:
        # dash-ag-grid evaluates this with a safe expression parser that has no String(): concatenate instead.
        kwargs["getRowId"] = f"'' + params.data.{row_id}"
    return dag.AgGrid(
        id=id_, columnDefs=columns, rowData=[],
        defaultColDef={"minWidth": 80, "filter": True, "wrapHeaderText": True, "autoHeaderHeight": True},
        dashGridOptions=options, columnSize="responsiveSizeToFit", style={"height": f"{height}px"},
        **kwargs, **extra,
    )


def export_href(name: str, search: str | None, *, dictionary: bool = False) -> str:
    """The URL of a CSV export (or of its data dictionary) under the view's filters (``search``)."""
    path = f"/api/export/dictionary/{name}.csv" if dictionary else f"/api/export/{name}.csv"
    return dash.get_relative_path(path) + (search or "")
