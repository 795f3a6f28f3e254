"""Hubs and spokes: capacity (load against spoke count), specialty and channel mix, the hour × weekday heatmap and
the hub→spoke network map. DataFrames in, Plotly figure dicts out."""

from __future__ import annotations

import math
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
from dashboard.figures.facility_map import fit_view
from dashboard.i18n import format_indian, name_of, t

CHANNEL_COLOURS = {"video": CATEGORY_COLOURS[0], "audio": CATEGORY_COLOURS[1], "chat": CATEGORY_COLOURS[2]}
ASSIGNED_LINK = "rgba(84,110,122,0.55)"
OTHER_LINK = "rgba(230,159,0,0.55)"


def _num(value: Any, decimals: int = 1) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return format_indian(value, decimals)


def capacity_figure(hubs: pd.DataFrame, lang: str, height: int = 360) -> dict[str, Any]:
    """Each hub as a bubble: x = its assigned spokes, y = consultations per serving hour, size = consultations."""
    rows = hubs[hubs["per_serving_hour"].notna()] if not hubs.empty else hubs
    peak_n = float(rows["consultations"].max()) if not rows.empty else 1.0
    sizes = [8 + 30 * math.sqrt(float(n) / peak_n) if peak_n else 8 for n in rows["consultations"]] \
        if not rows.empty else []
    # Spokes served (a distinct count over the period's facility rows) is shown when the frame has it. The hover's
    # labels are written once in the template, each hub's values (already formatted) in its customdata.
    served = "spokes_served" in rows
    columns = ["facility_id", "name", "facility_type", "load_rank", "per_serving_hour", "spokes_assigned",
               "consultations", "doctors_per_day", *(["spokes_served"] if served else [])]
    customdata = [
        [hub_id, name, kind, int(rank), _num(per_hour), format_indian(assigned), format_indian(n), _num(doctors),
         *([format_indian(extra[0])] if extra else [])]
        for hub_id, name, kind, rank, per_hour, assigned, n, doctors, *extra
        in zip(*(rows[c].tolist() for c in columns), strict=True)
    ]
    hover = (f"<b>%{{customdata[1]}}</b> (%{{customdata[2]}}) · {t('col.load_rank', lang)} %{{customdata[3]}}<br>"
             f"{t('col.per_serving_hour', lang)}: %{{customdata[4]}}<br>"
             f"{t('col.spokes_assigned', lang)}: %{{customdata[5]}}"
             + (f" · {t('col.spokes_served', lang)}: %{{customdata[8]}}" if served else "") + "<br>"
             f"{t('col.consultations', lang)}: %{{customdata[6]}} · "
             f"{t('col.doctors_per_day', lang)}: %{{customdata[7]}}<extra></extra>")
    data = [{
        "type": "scatter", "mode": "markers", "x": [int(v) for v in rows["spokes_assigned"]],
        "y": [float(v) for v in rows["per_serving_hour"]], "hovertemplate": hover, "customdata": customdata,
        "marker": {"size": [round(v, 1) for v in sizes], "color": [float(v) for v in rows["per_serving_hour"]],
                   "colorscale": SEQUENTIAL, "line": {"width": 0.5, "color": "#455a64"}, "opacity": 0.85,
                   "showscale": False},
    }]
    peak = float(rows["per_serving_hour"].max()) if not rows.empty else 0.0
    layout = base_layout(height, showlegend=False,
                         xaxis={"title": {"text": t("axis.spokes_assigned", lang)}, "rangemode": "tozero",
                                "gridcolor": "#f1f3f5", "zeroline": False},
                         yaxis=indian_axis(peak, t("axis.per_serving_hour", lang)))
    return {"data": data, "layout": layout}


def specialty_figure(mix: pd.DataFrame, lang: str, height: int = 340) -> dict[str, Any]:
    """Horizontal bars: consultations per specialty (largest on top), referral rate in the hover."""
    rows = mix.iloc[::-1] if not mix.empty else mix
    names = [name_of(r, lang) for r in rows.itertuples()]
    text = [f"<b>{n}</b><br>{t('col.consultations', lang)}: {format_indian(r.consultations)} "
            f"({_num(r.share_pct)}%)<br>{t('col.referral_rate', lang)}: {_num(r.referral_pct)}%"
            for n, r in zip(names, rows.itertuples(), strict=True)]
    data = [{"type": "bar", "orientation": "h", "y": names, "x": [int(v) for v in rows["consultations"]],
             "text": text, "hovertemplate": "%{text}<extra></extra>", "textposition": "none",
             "marker": {"color": CATEGORY_COLOURS[0]}}]
    peak = float(rows["consultations"].max()) if not rows.empty else 0.0
    axis = indian_axis(peak, t("axis.consultations", lang))
    axis.pop("range", None)
    layout = base_layout(max(height, 28 * len(names) + 60), showlegend=False, xaxis=axis,
                         yaxis={"automargin": True}, margin={"l": 10, "r": 10, "t": 10, "b": 40})
    return {"data": data, "layout": layout}


def channel_figure(channels: pd.DataFrame, lang: str, height: int = 300) -> dict[str, Any]:
    """A donut of consultations by channel (video, audio, chat)."""
    labels = [t(f"channel.{c}", lang) for c in channels["channel"]]
    text = [f"{label}: {format_indian(n)} ({_num(p)}%)" for label, n, p in
            zip(labels, channels["consultations"], channels["share_pct"], strict=True)]
    data = [{"type": "pie", "hole": 0.55, "labels": labels, "values": [int(v) for v in channels["consultations"]],
             "text": text, "hovertemplate": "%{text}<extra></extra>", "textinfo": "percent", "sort": False,
             "marker": {"colors": [CHANNEL_COLOURS.get(c, CATEGORY_COLOURS[3]) for c in channels["channel"]]}}]
    return {"data": data, "layout": base_layout(height, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                                                legend={"orientation": "h", "y": -0.05})}


def modal_window(windows: pd.DataFrame) -> tuple[float, float] | None:
    """The most common service window (rows of service_start, service_end, hubs) as (start hour, end hour)."""
    if windows.empty:
        return None
    top = windows.sort_values("hubs", ascending=False).iloc[0]
    try:
        start, end = str(top["service_start"]), str(top["service_end"])
        return (int(start[:2]) + int(start[3:5]) / 60.0, int(end[:2]) + int(end[3:5]) / 60.0)
    except (ValueError, TypeError):
        return None


def heatmap_figure(cells: pd.DataFrame, lang: str, window: tuple[float, float] | None = None,
                   height: int = 320) -> dict[str, Any]:
    """Consultations by weekday (rows, Monday on top) and hour (columns); a dashed frame marks the usual service
    hours."""
    days = [t(f"weekday.{d}", lang) for d in range(7)]
    hours = [f"{h:02d}" for h in range(24)]
    z = [[0] * 24 for _ in range(7)]
    for r in cells.itertuples():
        z[int(r.weekday)][int(r.hour)] = int(r.consultations)
    text = [[f"{days[d]} {hours[h]}:00–{hours[h]}:59<br>{t('col.consultations', lang)}: {format_indian(z[d][h])}"
             for h in range(24)] for d in range(7)]
    data = [{"type": "heatmap", "z": z, "x": hours, "y": days, "text": text, "hovertemplate": "%{text}<extra></extra>",
             "colorscale": SEQUENTIAL, "xgap": 1, "ygap": 1,
             "colorbar": {"thickness": 10, "len": 0.8, "title": {"text": ""}}}]
    layout = base_layout(height, margin={"l": 90, "r": 10, "t": 10, "b": 40},
                         xaxis={"title": {"text": t("axis.hour", lang)}, "type": "category"},
                         yaxis={"autorange": "reversed", "type": "category"})
    if window:
        start, end = window
        layout["shapes"] = [{"type": "rect", "xref": "x", "yref": "paper", "x0": start - 0.5, "x1": end - 0.5,
                             "y0": 0, "y1": 1, "line": {"color": "#263238", "width": 1.5, "dash": "dash"}}]
        layout["xaxis"]["type"] = "linear"
        layout["xaxis"].update(tickmode="array", tickvals=list(range(24)), ticktext=hours, range=[-0.5, 23.5])
        data[0]["x"] = list(range(24))
    return {"data": data, "layout": layout}


def _link_lines(pairs: pd.DataFrame) -> tuple[list[float | None], list[float | None]]:
    lats: list[float | None] = []
    lons: list[float | None] = []
    usable = pairs.dropna(subset=["hub_lat", "hub_lon", "spoke_lat", "spoke_lon"]) if not pairs.empty else pairs
    for hub_lat, hub_lon, spoke_lat, spoke_lon in zip(*(usable[c].tolist() for c in ("hub_lat", "hub_lon", "spoke_lat",
                                                                                      "spoke_lon")), strict=True):
        lats += [float(hub_lat), float(spoke_lat), None]
        lons += [float(hub_lon), float(spoke_lon), None]
    return lats, lons


def _nodes_trace(nodes: pd.DataFrame, name: str, size: int, colour: Any, lang: str, **marker: Any) -> dict[str, Any]:
    columns = ("name", "facility_type", "role", "district_en", "district_hi", "consultations")
    text = [f"<b>{name_}</b> ({kind}, {t('role.' + role, lang)})<br>"
            f"{name_of({'en': en, 'hi': hi}, lang, 'en', 'hi')}<br>"
            f"{t('col.consultations', lang)}: {format_indian(n)}"
            for name_, kind, role, en, hi, n in zip(*(nodes[c].tolist() for c in columns), strict=True)]
    return {"type": "scattermap", "mode": "markers", "name": name, "lat": [float(v) for v in nodes["lat"]],
            "lon": [float(v) for v in nodes["lon"]], "customdata": list(nodes["facility_id"]), "text": text,
            "hovertemplate": "%{text}<extra></extra>", "marker": {"size": size, "color": colour, **marker}}


def network_figure(pairs: pd.DataFrame, nodes: pd.DataFrame, geojson_url: str | None, district_lgd: int, lang: str,
                   height: int = 520) -> dict[str, Any]:
    """The district outline, a line per hub→spoke pair with consultations (grey: the spoke's assigned hub, amber:
    another hub), hubs as ringed discs and spokes as dots (red: no consultation in the period)."""
    data: list[dict[str, Any]] = []
    if geojson_url:
        data.append({"type": "choroplethmap", "geojson": geojson_url, "featureidkey": "id",
                     "locations": [str(district_lgd)], "z": [1], "showscale": False, "hoverinfo": "skip",
                     "colorscale": [[0, "#e3f2fd"], [1, "#e3f2fd"]],
                     "marker": {"line": {"width": 2, "color": "#455a64"}, "opacity": 0.5}, "showlegend": False})
    else:
        data.append({"type": "scattermap", "lat": [], "lon": [], "showlegend": False})
    own = pairs[pairs["assigned"]] if not pairs.empty else pairs
    other = pairs[~pairs["assigned"]] if not pairs.empty else pairs
    for subset, colour, key in ((own, ASSIGNED_LINK, "legend.link_assigned"), (other, OTHER_LINK, "legend.link_other")):
        lat, lon = _link_lines(subset)
        data.append({"type": "scattermap", "mode": "lines", "name": t(key, lang), "lat": lat, "lon": lon,
                     "line": {"width": 1, "color": colour}, "hoverinfo": "skip"})
    placed = nodes.dropna(subset=["lat", "lon"]) if not nodes.empty else nodes
    hubs = placed[placed["role"] == "hub"] if not placed.empty else placed
    spokes = placed[placed["role"] != "hub"] if not placed.empty else placed
    idle = spokes[spokes["consultations"] == 0] if not spokes.empty else spokes
    active = spokes[spokes["consultations"] > 0] if not spokes.empty else spokes
    if not idle.empty:
        data.append(_nodes_trace(idle, t("legend.spoke_idle", lang), 7, IDLE_COLOUR, lang))
    if not active.empty:
        data.append(_nodes_trace(active, t("legend.spoke", lang), 8, CATEGORY_COLOURS[4], lang))
    if not hubs.empty:
        data.append(_nodes_trace(hubs, t("legend.hub", lang), 18, "#263238", lang))
        fill = _nodes_trace(hubs, t("legend.hub", lang), 12, CATEGORY_COLOURS[0], lang)
        fill["showlegend"] = False
        data.append(fill)
    # Fit the district's own facilities: a far partner (a medical college in another district) would shrink it.
    own_nodes = placed[placed["in_district"]] if not placed.empty and "in_district" in placed else placed
    framed = own_nodes if not own_nodes.empty else placed
    view = fit_view([float(v) for v in framed["lat"]], [float(v) for v in framed["lon"]]) if not framed.empty \
        else {"center": MAP_CENTRE_BIHAR, "zoom": 5.7}
    layout = base_layout(height, margin={"l": 0, "r": 0, "t": 0, "b": 0}, map={"style": "white-bg", **view},
                         legend={"orientation": "h", "y": 0.01, "x": 0.01, "bgcolor": "rgba(255,255,255,0.8)"})
    return {"data": data, "layout": layout}
