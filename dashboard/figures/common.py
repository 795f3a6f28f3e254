"""Shared figure pieces: plain-dict layouts (no template, so payloads stay small) and Indian-grouped axes."""

from __future__ import annotations

import math
from typing import Any

from dashboard.i18n import format_indian

# The self-hosted Devanagari font first (assets/fonts), so Hindi in charts matches the page.
FONT = {"family": "'Noto Sans Devanagari', system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
        "size": 12, "color": "#212529"}
# Colour-blind-safe palettes (tests/unit/test_a11y_palettes.py checks them under simulated colour-vision deficiency):
# Okabe–Ito for categories (every colour stays distinguishable for protan, deutan and tritan vision) ...
OKABE_ITO: dict[str, str] = {"blue": "#0072B2", "orange": "#E69F00", "bluish_green": "#009E73",
                             "reddish_purple": "#CC79A7", "sky_blue": "#56B4E9", "vermillion": "#D55E00",
                             "yellow": "#F0E442", "black": "#000000"}
CATEGORY_COLOURS = tuple(OKABE_ITO.values())
# ... and perceptually uniform scales for magnitudes, light (low) to dark (high), readable in greyscale too:
# viridis reversed for "more is better or neutral" ...
SEQUENTIAL = [[0.0, "#fde725"], [0.125, "#b5de2b"], [0.25, "#6ece58"], [0.375, "#35b779"], [0.5, "#1f9e89"],
              [0.625, "#26828e"], [0.75, "#31688e"], [0.875, "#482878"], [1.0, "#440154"]]
# ... and inferno reversed for "lower is better" metrics (waits, breaches).
SEQUENTIAL_BAD = [[0.0, "#fcffa4"], [0.125, "#f7d13d"], [0.25, "#fb9b06"], [0.375, "#ed6925"], [0.5, "#cf4446"],
                  [0.625, "#a52c60"], [0.75, "#781c6d"], [0.875, "#4a0c6b"], [1.0, "#1b0c41"]]
IDLE_COLOUR = OKABE_ITO["vermillion"]
# Live service states: Okabe–Ito, so "serving" and "offline" never rely on telling red from green.
STATUS_COLOURS: dict[str, str] = {"serving": OKABE_ITO["bluish_green"], "idle": OKABE_ITO["orange"],
                                  "offline": OKABE_ITO["vermillion"], "off_hours": "#555555"}
MAP_CENTRE_BIHAR = {"lat": 25.95, "lon": 85.85}


def reversed_scale(scale: list[list[Any]]) -> list[list[Any]]:
    """A colour scale running the other way (dark for low values), stops still in increasing order."""
    return [[round(1.0 - float(stop), 6), colour] for stop, colour in reversed(scale)]


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
