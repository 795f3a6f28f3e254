"""Where the boundary GeoJSON is served from (once, as a static file the browser caches)."""

from __future__ import annotations

import dash

from dashboard.runtime import get_runtime

DISTRICTS_GEOJSON = "bihar_districts.geojson"


def geojson_url(name: str = DISTRICTS_GEOJSON) -> str:
    return dash.get_relative_path(f"/geo/{name}")


def has_boundaries(name: str = DISTRICTS_GEOJSON) -> bool:
    return (get_runtime().settings.geo_dir / name).is_file()
