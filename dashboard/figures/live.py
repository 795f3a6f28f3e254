"""Figures of the live page: the district map coloured by state, the hub state timeline and the compliance grid.

The map keeps every facility at a fixed position — spokes in one trace, hubs in another — so that a refresh can
change one point's colour and hover text in place (``dash.Patch``) instead of sending the figure again;
``live_map`` returns that position of each facility with the figure.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

from dashboard.figures.common import (
    MAP_CENTRE_BIHAR,
    SEQUENTIAL_BAD,
    STATUS_COLOURS,
    base_layout,
    reversed_scale,
)
from dashboard.figures.facility_map import fit_view
from dashboard.i18n import format_date, format_indian, t

STATE_COLOURS: dict[str, str] = STATUS_COLOURS
SPOKE_TRACE, HUB_RING_TRACE, HUB_TRACE = 1, 2, 3


def _number(value: Any) -> str:
    return "–" if value is None or pd.isna(value) else format_indian(float(value))


def point_text(row: dict[str, Any], lang: str) -> str:
    """Hover text of a facility on the map."""
    last = row.get("event_time")
    seen = format_date(pd.Timestamp(last).to_pydatetime()) if last is not None and not pd.isna(last) \
        else t("never", lang)
    role = t(f"role.{row['role']}", lang)
    state = t(f"live.state.{row['state']}", lang)
    return (f"<b>{row['name']}</b> ({row['facility_type']}, {role})<br>"
            f"{t('live.col.state', lang)}: {state}<br>"
            f"{t('live.col.doctors', lang)}: {_number(row.get('doctors_online'))} · "
            f"{t('live.col.queue', lang)}: {_number(row.get('queue_length'))}<br>"
            f"{t('live.col.last_seen', lang)}: {seen}")


def _points(frame: pd.DataFrame, name: str, size: int, lang: str, colours: list[str] | str,
            showlegend: bool = False) -> dict[str, Any]:
    records = frame.to_dict("records")
    return {
        "type": "scattermap", "mode": "markers", "name": name, "showlegend": showlegend,
        "lat": [float(v) for v in frame["lat"]], "lon": [float(v) for v in frame["lon"]],
        "customdata": list(frame["facility_id"]), "text": [point_text(r, lang) for r in records],
        "hovertemplate": "%{text}<extra></extra>", "marker": {"size": size, "color": colours},
    }


def live_map(rows: pd.DataFrame, geojson_url: str | None, district_lgd: int, lang: str,
             height: int = 480) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """(figure, {facility_id: [trace index, point index]}) for the classified board rows."""
    placed = rows.dropna(subset=["lat", "lon"]) if not rows.empty else rows
    spokes = placed[placed["role"] != "hub"] if not placed.empty else placed
    hubs = placed[placed["role"] == "hub"] if not placed.empty else placed
    data: list[dict[str, Any]] = []
    if geojson_url:
        data.append({"type": "choroplethmap", "geojson": geojson_url, "featureidkey": "id",
                     "locations": [str(district_lgd)], "z": [1], "showscale": False, "hoverinfo": "skip",
                     "colorscale": [[0, "#eef3f7"], [1, "#eef3f7"]],
                     "marker": {"line": {"width": 2, "color": "#455a64"}, "opacity": 0.5}, "showlegend": False})
    else:
        data.append({"type": "scattermap", "lat": [], "lon": [], "showlegend": False, "hoverinfo": "skip"})
    empty = pd.DataFrame(columns=["lat", "lon", "facility_id"])
    spoke_frame = spokes if not spokes.empty else empty
    hub_frame = hubs if not hubs.empty else empty
    data.append(_points(spoke_frame, t("legend.spoke", lang), 9, lang,
                        [STATE_COLOURS[s] for s in spoke_frame.get("state", [])]))
    ring = _points(hub_frame, t("legend.hub", lang), 19, lang, "#263238")
    ring["hoverinfo"] = "skip"
    ring.pop("hovertemplate")
    data.append(ring)
    data.append(_points(hub_frame, t("legend.hub", lang), 13, lang,
                        [STATE_COLOURS[s] for s in hub_frame.get("state", [])]))
    for state, colour in STATE_COLOURS.items():  # legend entries only
        data.append({"type": "scattermap", "mode": "markers", "lat": [None], "lon": [None],
                     "name": t(f"live.state.{state}", lang), "marker": {"size": 10, "color": colour},
                     "hoverinfo": "skip", "showlegend": True})
    positions = {fid: [SPOKE_TRACE, i] for i, fid in enumerate(spoke_frame["facility_id"])}
    positions.update({fid: [HUB_TRACE, i] for i, fid in enumerate(hub_frame["facility_id"])})
    view = fit_view([float(v) for v in placed["lat"]], [float(v) for v in placed["lon"]]) if not placed.empty \
        else {"center": MAP_CENTRE_BIHAR, "zoom": 5.7}
    layout = base_layout(height, margin={"l": 0, "r": 0, "t": 0, "b": 0}, map={"style": "white-bg", **view},
                         legend={"orientation": "h", "y": 0.01, "x": 0.01, "bgcolor": "rgba(255,255,255,0.85)"},
                         uirevision=f"live-{district_lgd}")
    return {"data": data, "layout": layout}, positions


def state_timeline(segments: pd.DataFrame, day: date, lang: str) -> dict[str, Any]:
    """Horizontal bars per hub over the day's service hours, one colour per state."""
    part = segments[segments["day"] == day] if not segments.empty else segments
    names = sorted(part["name"].unique()) if not part.empty else []
    data: list[dict[str, Any]] = []
    for state in ("serving", "idle", "offline"):
        rows = part[part["state"] == state] if not part.empty else part
        starts = [pd.Timestamp(v) for v in rows["start"]] if not rows.empty else []
        ends = [pd.Timestamp(v) for v in rows["end"]] if not rows.empty else []
        data.append({
            "type": "bar", "orientation": "h", "name": t(f"live.state.{state}", lang),
            "y": list(rows["name"]) if not rows.empty else [],
            "base": [s.strftime("%Y-%m-%d %H:%M:%S") for s in starts],
            "x": [(e - s).total_seconds() * 1000 for s, e in zip(starts, ends, strict=True)],
            "marker": {"color": STATE_COLOURS[state]},
            "customdata": [[s.strftime("%H:%M"), e.strftime("%H:%M")] for s, e in zip(starts, ends, strict=True)],
            "hovertemplate": "%{y}: %{customdata[0]}–%{customdata[1]}<extra>" + t(f"live.state.{state}", lang)
                             + "</extra>",
        })
    height = max(180, 28 * len(names) + 80)
    layout = base_layout(height, barmode="overlay", margin={"l": 160, "r": 10, "t": 10, "b": 40},
                         xaxis={"type": "date", "tickformat": "%H:%M", "gridcolor": "#e9ecef"},
                         yaxis={"categoryorder": "array", "categoryarray": list(reversed(names)), "automargin": True},
                         legend={"orientation": "h", "y": -0.25})
    return {"data": data, "layout": layout}


def compliance_grid(table: pd.DataFrame, days: list[date], lang: str) -> dict[str, Any]:
    """Hubs × days: the share of service hours each hub was online (serving or idle)."""
    names = sorted(table["name"].unique()) if not table.empty else []
    labels = [format_date(d) for d in days]
    lookup = {(r.name, r.day): r for r in table.itertuples()} if not table.empty else {}
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for name in names:
        z_row: list[float | None] = []
        text_row: list[str] = []
        for d in days:
            r = lookup.get((name, d))
            if r is None or pd.isna(r.online_pct):
                z_row.append(None)
                text_row.append(t("live.history.not_served", lang))
            else:
                z_row.append(float(r.online_pct))
                first = format_date(pd.Timestamp(r.first_online).to_pydatetime())[-5:] \
                    if r.first_online is not None and not pd.isna(r.first_online) else "–"
                text_row.append(t("live.history.cell", lang, pct=format_indian(r.online_pct, 1),
                                  offline=format_indian(r.offline_minutes), first=first))
        z.append(z_row)
        text.append(text_row)
    height = max(180, 28 * len(names) + 80)
    return {
        "data": [{"type": "heatmap", "z": z, "x": labels, "y": names, "text": text, "zmin": 0, "zmax": 100,
                  "colorscale": reversed_scale(SEQUENTIAL_BAD), "xgap": 2, "ygap": 2,
                  "hovertemplate": "%{y} · %{x}<br>%{text}<extra></extra>",
                  "colorbar": {"title": {"text": t("live.history.online_pct", lang)}, "thickness": 12}}],
        "layout": base_layout(height, margin={"l": 160, "r": 10, "t": 10, "b": 40},
                              yaxis={"autorange": "reversed", "automargin": True}, xaxis={"type": "category"}),
    }


def now_label(now: datetime) -> str:
    return now.strftime("%H:%M")
