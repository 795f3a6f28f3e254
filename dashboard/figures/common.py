"""Shared figure pieces: plain-dict layouts (no template, so payloads stay small) and Indian-grouped axes."""

from __future__ import annotations

import math
from typing import Any

from dashboard.i18n import format_indian

FONT = {"family": "system-ui, -apple-system, 'Segoe UI', 'Noto Sans Devanagari', sans-serif", "size": 12}
# Colour-blind-safe (Okabe–Ito) for categories; a sequential blue for magnitudes.
CATEGORY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
SEQUENTIAL = [[0.0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1.0, "#08306b"]]
# For "lower is better" metrics (waits, breaches): light → dark red.
SEQUENTIAL_BAD = [[0.0, "#fff5eb"], [0.5, "#fd8d3c"], [1.0, "#7f2704"]]
IDLE_COLOUR = "#d62728"
MAP_CENTRE_BIHAR = {"lat": 25.95, "lon": 85.85}


def base_layout(height: int = 320, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "font": FONT,
        "height": height,
        "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hovermode": "closest",
        "separators": ".,",
        "legend": {"orientation": "h", "y": -0.2},
    }
    layout.update(extra)
    return layout


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``maximum``."""
    if not maximum or maximum <= 0 or not math.isfinite(maximum):
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < maximum:
        ticks.append(ticks[-1] + step)
    return ticks


def indian_axis(maximum: float, title: str = "") -> dict[str, Any]:
    """A y axis whose tick labels use Indian digit grouping (Plotly's own formats cannot)."""
    ticks = nice_ticks(maximum)
    decimals = 0 if all(float(v).is_integer() for v in ticks) else 1
    return {"tickmode": "array", "tickvals": ticks, "ticktext": [format_indian(v, decimals) for v in ticks],
            "range": [0, ticks[-1] * 1.02], "title": {"text": title}, "gridcolor": "#e9ecef", "zeroline": False}
