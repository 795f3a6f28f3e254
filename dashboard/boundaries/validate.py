"""Read, check and simplify an uploaded block boundary file. Pure: bytes and the district's known block codes in,
polygons keyed by block LGD code out, or a ``BlockGeoError`` that says what is wrong in the user's language."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.validation import explain_validity

from dashboard.i18n import t

# Property names that carry a feature's block LGD code, in order of preference (matched in any case).
CODE_PROPERTIES: tuple[str, ...] = ("block_lgd", "BLOCK_LGD", "lgd_code", "block_code")
POLYGON_TYPES = ("Polygon", "MultiPolygon")
MAX_FEATURES = 2_000
MAX_VERTICES = 2_000_000
# Degrees. ~50 m: block outlines stay recognisable at district zoom and a district's file stays small.
TOLERANCE = 0.0005
DECIMALS = 5
# Overlaps between neighbours and slivers narrower than this (~100 m) are cleaned before simplification.
GAP_WIDTH = 0.001
# A block must touch its district's outline grown by this much (degrees); catches swapped or projected coordinates.
OUTLINE_MARGIN = 0.05


class BlockGeoError(ValueError):
    """A reason to refuse an upload: a translation key, its values and the HTTP status an API answers with."""

    def __init__(self, key: str, status: int = 422, **params: Any) -> None:
        self.key = key
        self.status = status
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str | None = "en") -> str:
        return t(self.key, lang, **self.params)


def _codes_text(codes: Iterable[int], limit: int = 10) -> str:
    codes = sorted(codes)
    text = ", ".join(str(c) for c in codes[:limit])
    return text + (f" (+{len(codes) - limit})" if len(codes) > limit else "")


def parse_features(raw: bytes | str) -> list[dict[str, Any]]:
    """The features of a GeoJSON FeatureCollection (UTF-8, with or without a BOM)."""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw.removeprefix("\ufeff")
        document = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BlockGeoError("blocks.error.json", 400, reason=str(exc)[:120]) from exc
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" or not isinstance(features, list) \
            or not features:
        raise BlockGeoError("blocks.error.collection", 400)
    if len(features) > MAX_FEATURES:
        raise BlockGeoError("blocks.error.too_big", 413, n=len(features))
    return features


def block_code(feature: Any, number: int) -> int:
    """The feature's block LGD code from the first of ``CODE_PROPERTIES`` it has (any case)."""
    properties = feature.get("properties") if isinstance(feature, dict) else None
    by_lower = {str(k).lower(): k for k in properties} if isinstance(properties, dict) else {}
    key = next((by_lower[name.lower()] for name in CODE_PROPERTIES if name.lower() in by_lower), None)
    if key is None:
        raise BlockGeoError("blocks.error.no_code", n=number, names=", ".join(CODE_PROPERTIES))
    value = properties[key]  # type: ignore[index]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.strip().isdigit() and int(value.strip()) > 0:
        return int(value.strip())
    raise BlockGeoError("blocks.error.bad_code", n=number, value=repr(value)[:40])


def feature_geometry(feature: dict[str, Any], number: int, code: int) -> shapely.Geometry:
    """The feature's polygon, refused when missing, of another type, unreadable, not in degrees or invalid."""
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or not geometry:
        raise BlockGeoError("blocks.error.no_geometry", n=number, code=code)
    kind = geometry.get("type")
    if kind not in POLYGON_TYPES:
        raise BlockGeoError("blocks.error.not_polygon", n=number, code=code, kind=str(kind)[:40])
    try:
        geom = shape(geometry)
    except Exception as exc:  # noqa: BLE001 - shapely raises several types for malformed coordinates
        raise BlockGeoError("blocks.error.unreadable", n=number, code=code, reason=str(exc)[:120]) from exc
    if geom.is_empty:
        raise BlockGeoError("blocks.error.invalid", n=number, code=code, reason="empty geometry")
    min_x, min_y, max_x, max_y = geom.bounds
    if not all(math.isfinite(v) for v in geom.bounds) or min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise BlockGeoError("blocks.error.not_lonlat", n=number, code=code)
    if not geom.is_valid:
        raise BlockGeoError("blocks.error.invalid", n=number, code=code, reason=explain_validity(geom)[:160])
    return geom


def read_polygons(features: list[dict[str, Any]]) -> dict[int, shapely.Geometry]:
    """Polygons by block code; several features with one code (a block in parts) are merged."""
    parts: dict[int, list[shapely.Geometry]] = {}
    vertices = 0
    for number, feature in enumerate(features, start=1):
        code = block_code(feature, number)
        geom = feature_geometry(feature, number, code)
        vertices += int(shapely.get_num_coordinates(geom))
        if vertices > MAX_VERTICES:
            raise BlockGeoError("blocks.error.too_big", 413, n=vertices)
        parts.setdefault(code, []).append(geom)
    return {code: geoms[0] if len(geoms) == 1 else shapely.union_all(geoms) for code, geoms in parts.items()}


def check_codes(polygons: Mapping[int, shapely.Geometry], known: Iterable[int], district: str) -> None:
    """Every code must be a block of the district in ``dim_block``."""
    unknown = set(polygons) - {int(c) for c in known}
    if unknown:
        raise BlockGeoError("blocks.error.unknown_codes", district=district, codes=_codes_text(unknown))


def check_location(polygons: Mapping[int, shapely.Geometry], outline: shapely.Geometry | None, district: str) -> None:
    """Every block must touch the district's outline (when there is one): swapped latitude and longitude, or a
    file of another district, fail here."""
    if outline is None or outline.is_empty:
        return
    grown = outline.buffer(OUTLINE_MARGIN)
    for code, geom in sorted(polygons.items()):
        if not geom.intersects(grown):
            raise BlockGeoError("blocks.error.outside", code=code, district=district)


def simplify(polygons: Mapping[int, shapely.Geometry]) -> dict[int, shapely.Geometry]:
    """Neighbours' overlaps and slivers cleaned, the coverage simplified as a whole (shared edges stay shared),
    coordinates snapped to ``10**-DECIMALS`` degrees."""
    codes = sorted(polygons)
    geoms = np.array([polygons[c] for c in codes], dtype=object)
    try:
        if not bool(shapely.coverage_is_valid(geoms)):
            geoms = shapely.coverage_clean(geoms, gap_width=GAP_WIDTH)
        simplified = shapely.coverage_simplify(geoms, TOLERANCE)
    except shapely.errors.GEOSException:
        simplified = shapely.simplify(geoms, TOLERANCE, preserve_topology=True)
    snapped = shapely.set_precision(simplified, 10.0**-DECIMALS)
    out = np.where(shapely.is_empty(snapped), simplified, snapped)
    out = np.where(shapely.is_valid(out), out, shapely.make_valid(out))
    return {code: geom for code, geom in zip(codes, out, strict=True) if not geom.is_empty}


def _round(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, DECIMALS)
    if isinstance(obj, list | tuple):
        return [_round(v) for v in obj]
    return obj


def polygon_json(geom: shapely.Geometry) -> dict[str, Any]:
    """GeoJSON geometry of a polygon (a GeometryCollection from a repair keeps only its polygons)."""
    if geom.geom_type == "GeometryCollection":
        geom = shapely.union_all([g for g in geom.geoms if g.geom_type in POLYGON_TYPES])
    data = mapping(geom)
    return {"type": data["type"], "coordinates": _round(data["coordinates"])}


def feature_collection(polygons: Mapping[int, shapely.Geometry], district_lgd: int,
                       names: Mapping[int, tuple[str, str]]) -> dict[str, Any]:
    """The stored file: feature id = block LGD code (a string, as Plotly's ``featureidkey="id"`` compares)."""
    features = []
    for code, geom in sorted(polygons.items()):
        name_en, name_hi = names.get(code, ("", ""))
        features.append({"type": "Feature", "id": str(code),
                         "properties": {"block_lgd": code, "district_lgd": int(district_lgd), "name_en": name_en,
                                        "name_hi": name_hi},
                         "geometry": polygon_json(geom)})
    return {"type": "FeatureCollection", "features": features}
