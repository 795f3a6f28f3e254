"""Scheme tracking: achievement against target, the monthly trend and the service packages offered. DataFrames in,
Plotly figure dicts out. (The choropleth is the overview's, fed by ``dashboard.figures.chos.district_values``.)"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from dashboard.figures.common import CATEGORY_COLOURS, base_layout, indian_axis
from dashboard.i18n import format_date, format_indian, name_of, t

GOOD, MIDDLE, BAD = "#009E73", "#E69F00", "#D55E00"
MAX_BARS = 40


def _num(value: Any, decimals: int = 1) -> str:
    if value is None or pd.isna(value) or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return format_indian(value, decimals)


def achievement_colour(pct: float | None, laggard_pct: float) -> str:
    if pct is None or pd.isna(pct):
        return "#adb5bd"
    return GOOD if pct >= 100 else (MIDDLE if pct >= laggard_pct else BAD)


def achievement_figure(frame: pd.DataFrame, lang: str, laggard_pct: float, height: int = 360) -> dict[str, Any]:
    """Horizontal bars of % of target achieved, best on top; only the lowest ``MAX_BARS`` when there are more
    (laggards matter most; the table has all). A dashed line marks 100 %."""
    rows = frame.dropna(subset=["achieved_pct"]) if not frame.empty else frame
    if len(rows) > MAX_BARS:
        rows = rows.nsmallest(MAX_BARS, "achieved_pct")
    rows = rows.sort_values("achieved_pct", ascending=True) if not rows.empty else rows
    # Column by column (no row objects): up to MAX_BARS rows, on every change of the filter.
    pct, value, target = (rows[col].tolist() for col in ("achieved_pct", "value", "target"))
    hindi = rows["name_hi"].tolist() if "name_hi" in rows else [None] * len(pct)
    names = [name_of({"name_en": en, "name_hi": hi}, lang) for en, hi in zip(rows["name_en"].tolist(), hindi,
                                                                               strict=True)]
    pct_label, value_label, target_label = t("col.achieved_pct", lang), t("col.value", lang), t("col.target", lang)
    text = [f"<b>{n}</b><br>{pct_label}: {_num(p)}%<br>{value_label}: {_num(v, 0)} · {target_label}: {_num(g, 0)}"
            for n, p, v, g in zip(names, pct, value, target, strict=True)]
    data = [{"type": "bar", "orientation": "h", "y": names, "x": [float(v) for v in pct],
             "text": text, "hovertemplate": "%{text}<extra></extra>", "textposition": "none",
             "marker": {"color": [achievement_colour(v, laggard_pct) for v in pct]}}]
    peak = max(float(rows["achieved_pct"].max()) if not rows.empty else 0.0, 100.0)
    axis = indian_axis(peak, t("col.achieved_pct", lang))
    axis.pop("range", None)
    layout = base_layout(max(height, 20 * len(names) + 60), showlegend=False, xaxis=axis, yaxis={"automargin": True},
                         margin={"l": 10, "r": 10, "t": 10, "b": 40},
                         shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": 100, "x1": 100, "y0": 0,
                                  "y1": 1, "line": {"color": "#263238", "width": 1, "dash": "dash"}}])
    return {"data": data, "layout": layout}


def trend_figure(monthly: pd.DataFrame, lang: str, height: int = 320) -> dict[str, Any]:
    """Value and target per month as bars, % achieved as a line on the right axis."""
    months = [m.isoformat() for m in monthly["month"]]
    labels = [format_date(m)[3:] for m in monthly["month"]]
    values = [None if pd.isna(v) else float(v) for v in monthly["value"]]
    targets = [None if pd.isna(v) else float(v) for v in monthly["target"]]
    pct = [None if pd.isna(v) else float(v) for v in monthly["achieved_pct"]]
    data = [
        {"type": "bar", "name": t("col.value", lang), "x": months, "y": values,
         "marker": {"color": CATEGORY_COLOURS[0]},
         "text": [f"{m}: {_num(v, 0)}" for m, v in zip(labels, values, strict=True)],
         "hovertemplate": "%{text}<extra>%{fullData.name}</extra>", "textposition": "none"},
        {"type": "bar", "name": t("col.target", lang), "x": months, "y": targets,
         "marker": {"color": "#cfd8dc"}, "text": [f"{m}: {_num(v, 0)}" for m, v in zip(labels, targets, strict=True)],
         "hovertemplate": "%{text}<extra>%{fullData.name}</extra>", "textposition": "none"},
        {"type": "scatter", "mode": "lines+markers", "name": t("col.achieved_pct", lang), "x": months, "y": pct,
         "yaxis": "y2", "line": {"color": CATEGORY_COLOURS[5], "width": 2},
         "text": [f"{m}: {_num(v)}%" for m, v in zip(labels, pct, strict=True)],
         "hovertemplate": "%{text}<extra>%{fullData.name}</extra>"},
    ]
    peak = max([v for v in values + targets if v is not None] or [0.0])
    layout = base_layout(height, barmode="group",
                         xaxis={"type": "date", "tickformat": "%m-%Y", "dtick": "M1", "gridcolor": "#f1f3f5"},
                         yaxis=indian_axis(peak, t("axis.value", lang)),
                         yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "ticksuffix": "%",
                                 "showgrid": False, "title": {"text": t("col.achieved_pct", lang)}},
                         margin={"l": 60, "r": 60, "t": 10, "b": 40})
    return {"data": data, "layout": layout}


def package_figure(coverage: pd.DataFrame, lang: str, height: int = 380) -> dict[str, Any]:
    """Horizontal bars: share of reporting centres offering each of the 12 service packages (package 1 on top)."""
    rows = coverage.iloc[::-1]
    names = [t(f"pkg.{int(k)}", lang) for k in rows["package"]]
    pct = [None if pd.isna(v) else float(v) for v in rows["offered_pct"]]
    text = [f"<b>{n}</b><br>{t('col.offered_pct', lang)}: {_num(p)}%<br>{t('col.offering', lang)}: "
            f"{format_indian(o)} / {format_indian(r)}"
            for n, p, o, r in zip(names, pct, rows["offered"], rows["reported"], strict=True)]
    data = [{"type": "bar", "orientation": "h", "y": names, "x": pct, "text": text,
             "hovertemplate": "%{text}<extra></extra>", "textposition": "none",
             "marker": {"color": CATEGORY_COLOURS[2]}}]
    layout = base_layout(height, showlegend=False, yaxis={"automargin": True},
                         xaxis={"range": [0, 100], "ticksuffix": "%", "gridcolor": "#e9ecef",
                                "title": {"text": t("col.offered_pct", lang)}},
                         margin={"l": 10, "r": 10, "t": 10, "b": 40})
    return {"data": data, "layout": layout}
