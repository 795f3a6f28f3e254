"""Block polygon upload as plain functions: reading, checking and simplifying a GeoJSON file, storing it, and the
district map's block layer."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
import shapely
from shapely.geometry import box, mapping
from shapely.ops import transform

from dashboard.boundaries import validate
from dashboard.boundaries.store import block_file_name, remove_blocks, stored_blocks, write_blocks
from dashboard.boundaries.validate import BlockGeoError
from dashboard.figures.facility_map import facility_map
from tests.fixtures.block_geojson import encode, strips

OUTLINE = box(87.3, 26.0, 88.1, 26.6)  # the test warehouse's Kishanganj square
CODES = (20301, 20302, 20303)


def _feature(geometry: dict | None, **properties: object) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _error(raw: object) -> BlockGeoError:
    with pytest.raises(BlockGeoError) as info:
        validate.read_polygons(validate.parse_features(raw if isinstance(raw, bytes | str) else encode(raw)))
    return info.value


def test_dash401_valid_file_is_read_and_simplified_as_a_coverage():  # type: ignore[no-untyped-def]
    raw = encode(strips(OUTLINE, CODES, densify=0.0001))
    polygons = validate.read_polygons(validate.parse_features(raw))
    assert sorted(polygons) == list(CODES)
    validate.check_codes(polygons, [20301, 20302, 20303, 20399], "KISHANGANJ (203)")
    validate.check_location(polygons, OUTLINE, "KISHANGANJ (203)")
    simplified = validate.simplify(polygons)
    before = sum(shapely.get_num_coordinates(g) for g in polygons.values())
    after = sum(shapely.get_num_coordinates(g) for g in simplified.values())
    assert before > 10_000 and after < 50
    geoms = [simplified[c] for c in CODES]
    assert all(g.is_valid for g in geoms) and bool(shapely.coverage_is_valid(geoms))
    assert shapely.union_all(geoms).symmetric_difference(OUTLINE).area < 1e-6
    collection = validate.feature_collection(simplified, 203, {20301: ("Bahadurganj", "बहादुरगंज")})
    assert [f["id"] for f in collection["features"]] == ["20301", "20302", "20303"]
    assert collection["features"][0]["properties"] == {"block_lgd": 20301, "district_lgd": 203,
                                                        "name_en": "Bahadurganj", "name_hi": "बहादुरगंज"}


@pytest.mark.parametrize("prop", ["block_lgd", "BLOCK_LGD", "lgd_code", "block_code", "Block_Code"])
@pytest.mark.parametrize("value", [20301, "20301", " 20301 ", 20301.0])
def test_dash402_code_property_aliases_and_types(prop, value):  # type: ignore[no-untyped-def]
    document = {"type": "FeatureCollection", "features": [_feature(mapping(OUTLINE), **{prop: value})]}
    assert list(validate.read_polygons(validate.parse_features(encode(document)))) == [20301]


def test_dash403_missing_or_bad_code_is_refused_clearly():  # type: ignore[no-untyped-def]
    good = _feature(mapping(OUTLINE), block_lgd=20301)
    error = _error({"type": "FeatureCollection", "features": [good, _feature(mapping(OUTLINE), name="Thakurganj")]})
    assert error.key == "blocks.error.no_code" and error.status == 422
    assert str(error) == ("Feature 2 has no block LGD code: give every feature one of the properties "
                          "block_lgd, BLOCK_LGD, lgd_code, block_code.")
    assert "फ़ीचर 2" in error.message("hi")
    for bad in ("abc", None, -5, 0, True, 203.5):
        error = _error({"type": "FeatureCollection", "features": [_feature(mapping(OUTLINE), block_lgd=bad)]})
        assert error.key == "blocks.error.bad_code", bad


def test_dash404_not_a_feature_collection():  # type: ignore[no-untyped-def]
    assert _error(b"{not json").key == "blocks.error.json"
    assert _error(b"\xff\xfe\x00").key == "blocks.error.json"
    for document in ([], {"type": "Feature"}, {"type": "FeatureCollection", "features": []},
                     {"type": "FeatureCollection", "features": "x"}):
        error = _error(document)
        assert error.key == "blocks.error.collection" and error.status == 400
    assert "FeatureCollection" in str(error)
    bom = b"\xef\xbb\xbf" + encode(strips(OUTLINE, CODES))
    assert len(validate.parse_features(bom)) == 3


def test_dash405_bad_geometries_are_refused_with_the_reason():  # type: ignore[no-untyped-def]
    def one(geometry: dict | None) -> BlockGeoError:
        return _error({"type": "FeatureCollection", "features": [_feature(geometry, block_lgd=20302)]})

    assert one(None).key == "blocks.error.no_geometry"
    point = one({"type": "Point", "coordinates": [87.5, 26.2]})
    assert point.key == "blocks.error.not_polygon" and "Point" in str(point) and "block 20302" in str(point)
    bowtie = one({"type": "Polygon", "coordinates": [[[87.4, 26.1], [87.6, 26.3], [87.6, 26.1], [87.4, 26.3],
                                                      [87.4, 26.1]]]})
    assert bowtie.key == "blocks.error.invalid" and "Self-intersection" in str(bowtie)
    utm = one({"type": "Polygon", "coordinates": [[[500000, 2900000], [510000, 2900000], [510000, 2910000],
                                                   [500000, 2900000]]]})
    assert utm.key == "blocks.error.not_lonlat" and "EPSG:4326" in str(utm)
    assert one({"type": "Polygon", "coordinates": [[[87.4]]]}).key == "blocks.error.unreadable"
    assert one({"type": "Polygon", "coordinates": []}).key == "blocks.error.invalid"


def test_dash406_codes_must_be_the_districts_blocks_and_lie_inside_it():  # type: ignore[no-untyped-def]
    polygons = validate.read_polygons(validate.parse_features(encode(strips(OUTLINE, (20301, 20001, 20002)))))
    with pytest.raises(BlockGeoError) as info:
        validate.check_codes(polygons, CODES, "KISHANGANJ (203)")
    assert str(info.value) == "These codes are not blocks of KISHANGANJ (203) in the warehouse: 20001, 20002."
    swapped = transform(lambda x, y: (y, x), OUTLINE)
    with pytest.raises(BlockGeoError) as info:
        validate.check_location({20301: swapped}, OUTLINE, "KISHANGANJ (203)")
    assert info.value.key == "blocks.error.outside" and "longitude, latitude" in str(info.value)
    validate.check_location({20301: swapped}, None, "KISHANGANJ (203)")  # no outline: nothing to check against


def test_dash407_parts_of_one_block_are_merged_and_overlaps_cleaned():  # type: ignore[no-untyped-def]
    west, east = box(87.3, 26.0, 87.7, 26.6), box(87.7, 26.0, 88.1, 26.6)
    document = {"type": "FeatureCollection", "features": [
        _feature(mapping(box(87.3, 26.0, 87.5, 26.6)), block_lgd=20301),
        _feature(mapping(box(87.5, 26.0, 87.7, 26.6)), lgd_code="20301"),
        _feature(mapping(box(87.69, 26.0, 88.1, 26.6)), block_lgd=20302),  # overlaps its neighbour a little
    ]}
    polygons = validate.read_polygons(validate.parse_features(encode(document)))
    assert sorted(polygons) == [20301, 20302] and polygons[20301].equals(west)
    simplified = validate.simplify(polygons)
    assert bool(shapely.coverage_is_valid([simplified[20301], simplified[20302]]))
    assert simplified[20302].symmetric_difference(east).area < 0.011 * 0.6


def test_dash408_store_is_atomic_versioned_and_removable(tmp_path):  # type: ignore[no-untyped-def]
    assert stored_blocks(tmp_path, 203) is None and not remove_blocks(tmp_path, 203)
    collection = validate.feature_collection(validate.simplify({20301: OUTLINE}), 203, {})
    path = write_blocks(tmp_path / "geo", 203, collection)
    assert path.name == block_file_name(203) == "blocks_203.geojson"
    assert json.loads(path.read_text(encoding="utf-8"))["features"][0]["id"] == "20301"
    first = stored_blocks(tmp_path / "geo", 203)
    assert first is not None and first.codes == (20301,)
    two = validate.feature_collection(validate.simplify({20301: box(87.3, 26.0, 87.7, 26.6),
                                                        20302: box(87.7, 26.0, 88.1, 26.6)}), 203, {})
    write_blocks(tmp_path / "geo", 203, two)
    second = stored_blocks(tmp_path / "geo", 203)
    assert second is not None and second.codes == (20301, 20302) and second.version != first.version
    assert sorted(p.name for p in (tmp_path / "geo").iterdir()) == ["blocks_203.geojson"]  # no temp file left
    assert remove_blocks(tmp_path / "geo", 203) and stored_blocks(tmp_path / "geo", 203) is None


def test_dash409_map_draws_blocks_by_code_beneath_the_facilities():  # type: ignore[no-untyped-def]
    facilities = pd.DataFrame({
        "facility_id": ["H1", "S1"], "name": ["PHC", "HSC"], "facility_type": ["PHC", "SC"], "role": ["hub", "spoke"],
        "lat": [26.0, 26.2], "lon": [87.0, 87.2], "consultations": [3, 0],
        "last_consultation": [date(2025, 8, 31), None],
    })
    plain = facility_map(facilities, pd.DataFrame(), "/geo/d.geojson", 203, "en", show_links=False)
    same = facility_map(facilities, pd.DataFrame(), "/geo/d.geojson", 203, "en", show_links=False,
                        blocks_url=None, block_lgds=[20301])
    assert plain == same and all("Block" not in str(trace.get("name")) for trace in plain["data"])
    figure = facility_map(facilities, pd.DataFrame(), "/geo/d.geojson", 203, "en", show_links=False,
                          blocks_url="/geo/blocks_203.geojson?v=1", block_lgds=[20301, 20302])
    assert len(figure["data"]) == len(plain["data"]) + 1
    blocks = figure["data"][2]
    assert blocks["type"] == "choroplethmap" and blocks["geojson"] == "/geo/blocks_203.geojson?v=1"
    assert blocks["featureidkey"] == "id" and blocks["locations"] == ["20301", "20302"]
    assert blocks["hoverinfo"] == "skip" and blocks["name"] == "Block boundaries"
    assert [t["type"] for t in figure["data"][3:]] == ["scattermap"] * (len(figure["data"]) - 3)
    assert figure["data"][:2] == plain["data"][:2] and figure["data"][3:] == plain["data"][2:]
