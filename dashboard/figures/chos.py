"""CHO activity: distributions, the block/district comparison, and the value layer of the coverage choropleth
(the overview's choropleth figure, fed other values). DataFrames in, Plotly figure dicts out."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from dashboard.figures.common import CATEGORY_COLOURS, SEQUENTIAL, SEQUENTIAL_BAD, base_layout, indian_axis, nice_ticks
from dashboard.i18n import format_indian, name_of, t


def _num(value: Any, decimals: int = 1) -> str:
    if value is None or pd.isna(value) or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return format_indian(value, decimals)


def distribution_figure(frame: pd.DataFrame, labels: list[str], axis_title: str, lang: str,
                        height: int = 300) -> dict[str, Any]:
    """Bars: CHOs per value or range (``labels`` name the bins of ``frame``, in order)."""
    counts = [int(v) for v in frame["chos"]] if not frame.empty else []
    text = [f"{label}: {format_indian(n)} {t('unit.chos', lang)}" for label, n in zip(labels, counts, strict=True)]
    data = [{"type": "bar", "x": labels, "y": counts, "text": text, "hovertemplate": "%{text}<extra></extra>",
             "textposition": "none", "marker": {"color": CATEGORY_COLOURS[2]}}]
    layout = base_layout(height, showlegend=False, bargap=0.08,
                         xaxis={"type": "category", "title": {"text": axis_title}},
                         yaxis=indian_axis(float(max(counts)) if counts else 0.0, t("axis.chos", lang)))
    return {"data": data, "layout": layout}


def compare_figure(frame: pd.DataFrame, lang: str, height: int = 340) -> dict[str, Any]:
    """Horizontal bars of consultations per CHO for each district or block, with silent CHOs and laptop coverage
    in the hover; at most 40 bars (the table has all)."""
    rows = frame.sort_values("per_cho", ascending=True).tail(40) if not frame.empty else frame
    # The columns the bars use, read once (a row tuple of every column is slow on a wide frame).
    shown = list(rows[["name_en", "name_hi", "per_cho", "chos", "chos_silent", "laptop_pct", "training_mean"]]
                 .itertuples(index=False))
    names = [name_of(r, lang) for r in shown]
    text = [f"<b>{n}</b><br>{t('col.per_cho', lang)}: {_num(r.per_cho)}<br>"
            f"{t('col.chos', lang)}: {format_indian(r.chos)} · {t('col.chos_silent', lang)}: "
            f"{format_indian(r.chos_silent)}<br>{t('col.laptop_pct', lang)}: {_num(r.laptop_pct)}% · "
            f"{t('col.training_mean', lang)}: {_num(r.training_mean)}"
            for n, r in zip(names, shown, strict=True)]
    data = [{"type": "bar", "orientation": "h", "y": names, "x": [float(v) for v in rows["per_cho"]], "text": text,
             "hovertemplate": "%{text}<extra></extra>", "textposition": "none",
             "marker": {"color": CATEGORY_COLOURS[0]}}]
    peak = float(rows["per_cho"].max()) if not rows.empty else 0.0
    axis = indian_axis(peak, t("col.per_cho", lang))
    axis.pop("range", None)
    layout = base_layout(max(height, 16 * len(names) + 60), showlegend=False, xaxis=axis, yaxis={"automargin": True},
                         margin={"l": 10, "r": 10, "t": 10, "b": 40})
    return {"data": data, "layout": layout}


def district_values(frame: pd.DataFrame, column: str, label: str, lang: str, *, decimals: int = 1,
                    suffix: str = "%", lower_is_better: bool = False, zmax: float | None = None,
                    extra: str | None = None) -> dict[str, Any]:
    """The value layer for ``dashboard.figures.choropleth.apply_values``: districts with a value in ``column``
    (``frame`` has district_lgd, name_en, name_hi), hover "name / label: value" (+ ``extra`` column's text)."""
    rows = frame[pd.notna(frame[column])] if not frame.empty else frame
    z = [float(v) for v in rows[column]] if not rows.empty else []
    text = []
    for r in rows.itertuples():
        line = f"<b>{name_of(r, lang)}</b><br>{label}: {_num(getattr(r, column), decimals)}{suffix}"
        if extra:
            line += f"<br>{getattr(r, extra)}"
        text.append(line)
    top = zmax if zmax is not None else (max(z) if z and max(z) > 0 else 1.0)
    ticks = nice_ticks(top)
    tick_decimals = 0 if all(float(v).is_integer() for v in ticks) else 1
    return {
        "locations": [str(int(x)) for x in rows["district_lgd"]] if not rows.empty else [],
        "z": z,
        "text": text,
        "customdata": [int(x) for x in rows["district_lgd"]] if not rows.empty else [],
        "colorscale": SEQUENTIAL_BAD if lower_is_better else SEQUENTIAL,
        "zmin": 0.0,
        "zmax": top,
        "colorbar_title": label,
        "tickvals": ticks,
        "ticktext": [format_indian(v, tick_decimals) + suffix.strip() for v in ticks],
    }
