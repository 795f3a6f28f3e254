"""The district map: outline, hub→spoke links, spokes and hubs as points coloured by consultations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from dashboard.figures.common import (
    CATEGORY_COLOURS,
    IDLE_COLOUR,
    MAP_CENTRE_BIHAR,
    SEQUENTIAL,
    base_layout,
    indian_axis,
)
from dashboard.i18n import format_date, format_indian, t

LINK_TRACE = 1


def fit_view(lats: list[float], lons: list[float], width_px: int = 760, height_px: int = 480) -> dict[str, Any]:
    """Centre and zoom that show every point (Web Mercator, 512-px tiles)."""
    if not lats:
        return {"center": MAP_CENTRE_BIHAR, "zoom": 5.7}
    lat_min, lat_max, lon_min, lon_max = min(lats), max(lats), min(lons), max(lons)
    lon_span = max(lon_max - lon_min, 0.05) * 1.2
    # Mercator stretches latitude by 1/cos(latitude) compared with longitude.
    lat_span = max(lat_max - lat_min, 0.05) * 1.2 / math.cos(math.radians((lat_min + lat_max) / 2))
    zoom_x = math.log2(360 * width_px / 512 / lon_span)
    zoom_y = math.log2(360 * height_px / 512 / lat_span)
    return {"center": {"lat": (lat_min + lat_max) / 2, "lon": (lon_min + lon_max) / 2},
            "zoom": round(max(4.0, min(zoom_x, zoom_y, 12.0)), 2)}


def _hover(frame: pd.DataFrame, lang: str) -> list[str]:
    never = t("never", lang)
    return [
        f"<b>{r.name}</b> ({r.facility_type}, {t('role.' + r.role, lang)})<br>"
        f"{t('hover.consultations', lang)}: {format_indian(r.consultations)}<br>"
        f"{t('col.last_consultation', lang)}: "
        f"{format_date(r.last_consultation) if pd.notna(r.last_consultation) else never}"
        for r in frame.itertuples()
    ]


def _points(frame: pd.DataFrame, name: str, size: int, colour: Any, lang: str, **marker: Any) -> dict[str, Any]:
    return {
        "type": "scattermap", "mode": "markers", "name": name,
        "lat": [float(v) for v in frame["lat"]], "lon": [float(v) for v in frame["lon"]],
        "customdata": list(frame["facility_id"]), "text": _hover(frame, lang),
        "hovertemplate": "%{text}<extra></extra>", "marker": {"size": size, "color": colour, **marker},
    }


def link_lines(links: pd.DataFrame) -> tuple[list[float | None], list[float | None]]:
    lats: list[float | None] = []
    lons: list[float | None] = []
    usable = links.dropna(subset=["spoke_lat", "spoke_lon", "hub_lat", "hub_lon"]) if not links.empty else links
    for r in usable.itertuples():
        lats += [float(r.hub_lat), float(r.spoke_lat), None]
        lons += [float(r.hub_lon), float(r.spoke_lon), None]
    return lats, lons


def block_outlines(geojson_url: str, block_lgds: Sequence[int], lang: str) -> dict[str, Any]:
    """Uploaded block polygons as outlines only, joined by block LGD code (feature id), never by name. Skipped by
    hover and click, so a facility inside a block stays clickable."""
    locations = [str(int(code)) for code in block_lgds]
    return {"type": "choroplethmap", "name": t("blocks.legend", lang), "geojson": geojson_url, "featureidkey": "id",
            "locations": locations, "z": [0] * len(locations), "showscale": False, "hoverinfo": "skip",
            "colorscale": [[0, "rgba(255,255,255,0)"], [1, "rgba(255,255,255,0)"]],
            "marker": {"line": {"width": 1.2, "color": "#546e7a"}}, "showlegend": False}


def facility_map(facilities: pd.DataFrame, links: pd.DataFrame, geojson_url: str | None, district_lgd: int,
                 lang: str, show_links: bool, height: int = 520, blocks_url: str | None = None,
                 block_lgds: Sequence[int] = ()) -> dict[str, Any]:
    """The district outline (trace 0), hub→spoke links (trace 1), then, when uploaded, the block outlines beneath
    the facilities."""
    placed = facilities.dropna(subset=["lat", "lon"]) if not facilities.empty else facilities
    hubs = placed[placed["role"] == "hub"] if not placed.empty else placed
    spokes = placed[placed["role"] != "hub"] if not placed.empty else placed
    active = spokes[spokes["consultations"] > 0] if not spokes.empty else spokes
    idle = spokes[spokes["consultations"] == 0] if not spokes.empty else spokes
    peak = float(placed["consultations"].max()) if not placed.empty else 1.0
    data: list[dict[str, Any]] = []
    if geojson_url:
        data.append({"type": "choroplethmap", "geojson": geojson_url, "featureidkey": "id",
                     "locations": [str(district_lgd)], "z": [1], "showscale": False, "hoverinfo": "skip",
                     "colorscale": [[0, "#e3f2fd"], [1, "#e3f2fd"]], "marker": {"line": {"width": 2,
                                                                                      "color": "#455a64"},
                                                                             "opacity": 0.5},
                     "showlegend": False})
    else:
        data.append({"type": "scattermap", "lat": [], "lon": [], "showlegend": False})
    link_lat, link_lon = link_lines(links) if show_links else ([], [])
    data.append({"type": "scattermap", "mode": "lines", "name": t("legend.links", lang), "lat": link_lat,
                 "lon": link_lon, "line": {"width": 1, "color": "rgba(84,110,122,0.6)"}, "hoverinfo": "skip",
                 "visible": bool(show_links)})
    if blocks_url and len(block_lgds):
        data.append(block_outlines(blocks_url, block_lgds, lang))
    colour_axis = {"coloraxis": "coloraxis"}
    if not idle.empty:
        data.append(_points(idle, t("legend.spoke_idle", lang), 8, IDLE_COLOUR, lang))
    if not active.empty:
        data.append(_points(active, t("legend.spoke", lang), 9, [int(v) for v in active["consultations"]], lang,
                            **colour_axis))
    if not hubs.empty:
        # A dark disc under each hub makes it read as a ringed, larger point ("symbol" icons need a sprite sheet,
        # which a tile-less map does not have).
        ring = _points(hubs, t("legend.hub", lang), 19, "#263238", lang)
        data.append(ring)
        fill = _points(hubs, t("legend.hub", lang), 13, [int(v) for v in hubs["consultations"]], lang,
                       **colour_axis)
        fill["showlegend"] = False
        data.append(fill)
    view = fit_view([float(v) for v in placed["lat"]], [float(v) for v in placed["lon"]]) if not placed.empty \
        else {"center": MAP_CENTRE_BIHAR, "zoom": 5.7}
    layout = base_layout(height, margin={"l": 0, "r": 0, "t": 0, "b": 0}, clickmode="event",
                         map={"style": "white-bg", **view},
                         coloraxis={"colorscale": SEQUENTIAL, "cmin": 0, "cmax": max(peak, 1.0),
                                    "colorbar": {"title": {"text": t("axis.consultations", lang)}, "thickness": 12,
                                                 "len": 0.5}},
                         legend={"orientation": "h", "y": 0.01, "x": 0.01, "bgcolor": "rgba(255,255,255,0.8)"})
    return {"data": data, "layout": layout}


def daily_bars(daily: pd.DataFrame, lang: str, height: int = 160) -> dict[str, Any]:
    """Small bar chart of a facility's daily consultations."""
    peak = float(daily["consultations"].max()) if not daily.empty else 0
    return {
        "data": [{"type": "bar", "x": [d.isoformat() for d in daily["day"]],
                  "y": [int(v) for v in daily["consultations"]], "marker": {"color": CATEGORY_COLOURS[0]},
                  "text": [f"{format_date(d)}: {format_indian(v)}" for d, v in zip(daily["day"],
                                                                                 daily["consultations"],
                                                                                 strict=True)],
                  "hovertemplate": "%{text}<extra></extra>", "textposition": "none"}],
        "layout": base_layout(height, margin={"l": 35, "r": 5, "t": 5, "b": 30}, showlegend=False,
                              xaxis={"type": "date", "tickformat": "%d-%m"}, yaxis=indian_axis(peak)),
    }
