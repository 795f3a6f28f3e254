"""Time series: the consultation trend by mode, and per-district lines for the comparison page."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.figures.common import CATEGORY_COLOURS, base_layout, indian_axis
from dashboard.i18n import format_date, format_indian, t

BAR_MODES = {"ABHWC": CATEGORY_COLOURS[0], "OPD": CATEGORY_COLOURS[1]}


def trend_figure(frame: pd.DataFrame, grain: str, lang: str, height: int = 320) -> dict[str, Any]:
    """Stacked bars of consultations per day/week/month, one colour per consultation mode."""
    data = []
    totals = frame.groupby("period")["consultations"].sum() if not frame.empty else pd.Series(dtype="int64")
    for mode in sorted(frame["mode"].unique()) if not frame.empty else []:
        part = frame[frame["mode"] == mode].sort_values("period")
        data.append({
            "type": "bar", "name": t(f"mode.{mode}", lang),
            "x": [p.isoformat() for p in part["period"]], "y": [int(v) for v in part["consultations"]],
            "marker": {"color": BAR_MODES.get(mode, CATEGORY_COLOURS[2])},
            "text": [f"{format_date(p)}: {format_indian(v)}" for p, v in zip(part["period"], part["consultations"],
                                                                              strict=True)],
            "hovertemplate": "%{text}<extra>%{fullData.name}</extra>", "textposition": "none",
        })
    layout = base_layout(height, barmode="stack",
                         xaxis={"type": "date", "tickformat": "%d-%m-%Y" if grain == "day" else
                                ("%d-%m-%Y" if grain == "week" else "%m-%Y"), "gridcolor": "#f1f3f5"},
                         yaxis=indian_axis(float(totals.max()) if len(totals) else 0, t("axis.consultations", lang)))
    return {"data": data, "layout": layout}


def district_lines(frame: pd.DataFrame, names: dict[int, str], lang: str, height: int = 340) -> dict[str, Any]:
    """One line per district (columns district_lgd, bucket, consultations) on a shared y axis."""
    data = []
    order = [lgd for lgd in names if lgd in set(frame["district_lgd"])] if not frame.empty else []
    for i, lgd in enumerate(order):
        part = frame[frame["district_lgd"] == lgd].sort_values("bucket")
        data.append({
            "type": "scatter", "mode": "lines+markers", "name": names[lgd],
            "x": [b.isoformat() for b in part["bucket"]], "y": [int(v) for v in part["consultations"]],
            "line": {"color": CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)], "width": 2},
            "text": [f"{names[lgd]} · {format_date(b)}: {format_indian(v)}"
                     for b, v in zip(part["bucket"], part["consultations"], strict=True)],
            "hovertemplate": "%{text}<extra></extra>",
        })
    peak = float(frame["consultations"].max()) if not frame.empty else 0
    layout = base_layout(height, xaxis={"type": "date", "tickformat": "%d-%m-%Y", "gridcolor": "#f1f3f5"},
                         yaxis=indian_axis(peak, t("axis.consultations", lang)))
    return {"data": data, "layout": layout}


def sparkline_values(frame: pd.DataFrame) -> dict[int, list[int]]:
    """district → consultations per bucket, in time order (for the grid's sparkline cells)."""
    if frame.empty:
        return {}
    ordered = frame.sort_values(["district_lgd", "bucket"])
    return {int(k): [int(v) for v in g["consultations"]] for k, g in ordered.groupby("district_lgd")}
