"""One upload, from bytes to the stored file: the same function serves the API endpoint and the district page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.geometry import shape

from dashboard.boundaries import validate
from dashboard.boundaries.store import stored_blocks, write_blocks
from dashboard.boundaries.validate import BlockGeoError
from dashboard.data import reference
from dashboard.data.context import DataContext
from dashboard.data.filters import Scope

DISTRICTS_FILE = "bihar_districts.geojson"


@dataclass(frozen=True)
class UploadResult:
    district_lgd: int
    path: Path
    version: str
    blocks: tuple[int, ...]
    missing: tuple[int, ...]
    vertices_in: int
    vertices_out: int


def district_outline(geo_dir: Path, district_lgd: int) -> shapely.Geometry | None:
    """The district's polygon from the served district boundaries (feature id = district LGD code), if any."""
    try:
        document = json.loads((geo_dir / DISTRICTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for feature in document.get("features", []):
        if str(feature.get("id")) == str(district_lgd):
            try:
                return shape(feature["geometry"])
            except Exception:  # noqa: BLE001 - a broken outline only disables the location check
                return None
    return None


def upload_blocks(raw: bytes | str, district_lgd: int, *, data: DataContext, scope: Scope,
                  geo_dir: Path) -> UploadResult:
    """Validate ``raw`` (a GeoJSON FeatureCollection) against the district's blocks in ``dim_block``, simplify it and
    store it as ``geo_dir/blocks_<district>.geojson``. Raises ``BlockGeoError``; nothing is written then."""
    districts = reference.districts(data, scope)
    match = districts[districts["district_lgd"] == int(district_lgd)]
    if match.empty:
        raise BlockGeoError("blocks.error.district", 404, lgd=district_lgd)
    district = f"{match.iloc[0]['name_en']} ({int(district_lgd)})"
    blocks = reference.blocks(data, scope, (int(district_lgd),))
    names = {int(r.block_lgd): (str(r.name_en or ""), str(r.name_hi or "")) for r in blocks.itertuples()}

    polygons = validate.read_polygons(validate.parse_features(raw))
    validate.check_codes(polygons, names, district)
    validate.check_location(polygons, district_outline(geo_dir, district_lgd), district)
    simplified = validate.simplify(polygons)
    path = write_blocks(geo_dir, district_lgd, validate.feature_collection(simplified, district_lgd, names))
    stored = stored_blocks(geo_dir, district_lgd)
    return UploadResult(
        district_lgd=int(district_lgd), path=path, version=stored.version if stored else "",
        blocks=tuple(sorted(simplified)), missing=tuple(sorted(set(names) - set(simplified))),
        vertices_in=sum(int(shapely.get_num_coordinates(g)) for g in polygons.values()),
        vertices_out=sum(int(shapely.get_num_coordinates(g)) for g in simplified.values()),
    )
