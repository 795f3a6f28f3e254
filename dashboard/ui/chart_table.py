"""The "table view" under a chart: its text alternative. A closed <details> whose body assets/a11y.js fills, when
opened, with the data the chart is drawing (categories and series, or the map's districts and values), so it always
matches the chart, including after in-place (Patch) updates, and costs nothing until someone opens it."""

from __future__ import annotations

from dash import html

from dashboard.i18n import t


def table_view(graph_id: str, lang: str) -> html.Details:
    """The table view of the ``dcc.Graph`` with id ``graph_id`` (a string id)."""
    return html.Details([
        html.Summary(t("a11y.table_view", lang)),
        html.Div(className="table-view-body table-view-scroll", id=f"{graph_id}-table"),
    ], className="table-view", id=f"{graph_id}-table-view", **{
        "data-graph": graph_id, "data-name": t("a11y.col.name", lang), "data-value": t("a11y.col.value", lang),
        "data-date": t("a11y.col.date", lang),
        "data-empty": t("state.empty_rows", lang)})
