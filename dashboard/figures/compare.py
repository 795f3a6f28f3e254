"""Aligned small multiples for the comparison page: one bar panel per measure, districts in the same order and
colours in every panel, so the eye can run along a row."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.figures.choropleth import format_metric
from dashboard.figures.common import CATEGORY_COLOURS, FONT

COLUMNS = 3


def measure_panels(table: pd.DataFrame, districts: list[str], labels: dict[str, str], height_per_row: int = 190,
                   ) -> dict[str, Any]:
    """``table``: the side-by-side table (a row per measure, a value column per district name)."""
    measures = list(table["measure"]) if not table.empty else []
    rows = max(1, -(-len(measures) // COLUMNS))
    gap_x, gap_y = 0.06, 0.3 / rows
    width = (1 - gap_x * (COLUMNS - 1)) / COLUMNS
    height = (1 - gap_y * (rows - 1)) / rows
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {
        "font": FONT, "height": rows * height_per_row + 40, "margin": {"l": 40, "r": 10, "t": 30, "b": 30},
        "showlegend": True, "legend": {"orientation": "h", "y": -0.08}, "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)", "annotations": [], "bargap": 0.25,
    }
    colours = {name: CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)] for i, name in enumerate(districts)}
    for i, measure in enumerate(measures):
        row, col = divmod(i, COLUMNS)
        suffix = "" if i == 0 else str(i + 1)
        x0 = col * (width + gap_x)
        y1 = 1 - row * (height + gap_y)
        layout[f"xaxis{suffix}"] = {"domain": [x0, x0 + width], "anchor": f"y{suffix}", "showticklabels": False,
                                    "categoryorder": "array", "categoryarray": districts}
        layout[f"yaxis{suffix}"] = {"domain": [y1 - height, y1], "anchor": f"x{suffix}", "rangemode": "tozero",
                                    "gridcolor": "#e9ecef", "tickfont": {"size": 10}}
        layout["annotations"].append({"text": f"<b>{labels.get(measure, measure)}</b>", "x": x0, "y": y1,
                                      "xref": "paper", "yref": "paper", "xanchor": "left", "yanchor": "bottom",
                                      "showarrow": False, "font": {"size": 11}})
        values = table.loc[table["measure"] == measure]
        for name in districts:
            value = values[name].iloc[0] if name in values and not values.empty else None
            value = None if value is None or pd.isna(value) else float(value)
            data.append({"type": "bar", "x": [name], "y": [value], "name": name, "legendgroup": name,
                         "showlegend": i == 0, "marker": {"color": colours[name]},
                         "xaxis": f"x{suffix}", "yaxis": f"y{suffix}",
                         "hovertemplate": f"{name}: {format_metric(measure, value)}<extra></extra>"})
    return {"data": data, "layout": layout}
