"""District choropleth: the geometry is a URL (fetched once by the browser), updates change only values."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from dashboard.figures.common import MAP_CENTRE_BIHAR, SEQUENTIAL, SEQUENTIAL_BAD, base_layout, nice_ticks
from dashboard.i18n import format_indian, name_of, t

METRICS: tuple[str, ...] = (
    "consultations", "per_active_spoke", "active_spoke_pct", "median_wait", "referral_rate", "blocks_breaching",
)
DECIMALS = {"consultations": 0, "per_active_spoke": 1, "active_spoke_pct": 1, "median_wait": 1, "referral_rate": 1,
            "blocks_breaching": 0}
SUFFIX = {"active_spoke_pct": "%", "referral_rate": "%", "median_wait": " min"}
LOWER_IS_BETTER = {"median_wait", "blocks_breaching", "referral_rate"}
VALUE_TRACE = 1


def format_metric(metric: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return format_indian(value, DECIMALS.get(metric, 1)) + SUFFIX.get(metric, "")


def base_figure(geojson_url: str, district_lgds: Iterable[int], height: int = 520) -> dict[str, Any]:
    """Outline of every district (trace 0) and an empty value layer (trace 1) that updates fill in."""
    locations = [str(int(x)) for x in district_lgds]
    outline = {
        "type": "choroplethmap", "geojson": geojson_url, "featureidkey": "id", "locations": locations,
        "z": [0] * len(locations), "colorscale": [[0, "#eceff1"], [1, "#eceff1"]], "showscale": False,
        "marker": {"line": {"width": 0.5, "color": "#90a4ae"}}, "hoverinfo": "skip",
    }
    value_layer = {
        "type": "choroplethmap", "geojson": geojson_url, "featureidkey": "id", "locations": [], "z": [],
        "text": [], "hovertemplate": "%{text}<extra></extra>", "colorscale": SEQUENTIAL,
        "marker": {"line": {"width": 0.6, "color": "#ffffff"}, "opacity": 0.95},
        "colorbar": {"title": {"text": ""}, "thickness": 12, "len": 0.6, "tickmode": "array", "tickvals": [],
                     "ticktext": []},
    }
    layout = base_layout(height, margin={"l": 0, "r": 0, "t": 0, "b": 0}, clickmode="event",
                         map={"style": "white-bg", "center": MAP_CENTRE_BIHAR, "zoom": 6.0})
    return {"data": [outline, value_layer], "layout": layout}


def values(frame: pd.DataFrame, metric: str, lang: str) -> dict[str, Any]:
    """The value layer's new data for ``metric``: districts with a value, joined by LGD code."""
    metric = metric if metric in METRICS else "consultations"
    label = t(f"metric.{metric}", lang)
    rows = frame[pd.notna(frame[metric])] if not frame.empty else frame
    z = [float(v) for v in rows[metric]] if not rows.empty else []
    text = [
        f"<b>{name_of(r, lang)}</b><br>{label}: {format_metric(metric, getattr(r, metric))}"
        f"<br>{t('hover.consultations', lang)}: {format_indian(r.consultations)}"
        for r in rows.itertuples()
    ]
    zmax = max(z) if z and max(z) > 0 else 1.0
    ticks = nice_ticks(zmax)
    decimals = 0 if all(float(v).is_integer() for v in ticks) else 1
    return {
        "locations": [str(int(x)) for x in rows["district_lgd"]] if not rows.empty else [],
        "z": z,
        "text": text,
        "customdata": [int(x) for x in rows["district_lgd"]] if not rows.empty else [],
        "colorscale": SEQUENTIAL_BAD if metric in LOWER_IS_BETTER else SEQUENTIAL,
        "zmin": min(z + [0.0]),
        "zmax": zmax,
        "colorbar_title": label,
        # Plotly cannot group digits the Indian way: the colour bar gets its labels written out.
        "tickvals": ticks,
        "ticktext": [format_indian(v, decimals) + SUFFIX.get(metric, "").strip() for v in ticks],
    }


def apply_values(target: Any, vals: dict[str, Any]) -> Any:
    """Write ``values`` into a figure or a ``dash.Patch`` of one (only the value layer changes)."""
    layer = target["data"][VALUE_TRACE]
    for key in ("locations", "z", "text", "customdata", "colorscale", "zmin", "zmax"):
        layer[key] = vals[key]
    layer["colorbar"]["title"]["text"] = vals["colorbar_title"]
    layer["colorbar"]["tickvals"] = vals["tickvals"]
    layer["colorbar"]["ticktext"] = vals["ticktext"]
    return target


def full_figure(geojson_url: str, frame: pd.DataFrame, metric: str, lang: str,
                all_districts: Iterable[int] | None = None) -> dict[str, Any]:
    districts = all_districts if all_districts is not None else frame["district_lgd"]
    figure = copy.deepcopy(base_figure(geojson_url, districts))
    return apply_values(figure, values(frame, metric, lang))
