"""All of India's districts for the national demo: the districts of the boundary file (``districts_india.csv``),
a population proxy, block counts and block layout inside the real polygons.

Rules (documented because they are invented, not published per district):

- population proxy: each state's Census 2011 population, shared among its districts in proportion to the square
  root of their area (bigger districts hold more people, but far from proportionally);
- blocks per district: ``round(population / 200,000 + area / 5,000 km²)``, clipped to 2..40 (6,254 blocks
  outside Bihar; India has some 6,800 community development blocks, Bihar's 534 among them);
- block codes: ``district code * 100 + i`` (i = 1..n). Surrogate district codes are above 100,000, so these blocks
  (10,000,101 and up) never meet Bihar's (18,801..61,199);
- facility ids: ``<state code><census code, 3 digits>`` then ``H``/``S`` and a serial (``UP162S0001``); Bihar keeps
  ``BR<district LGD>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import shapely

from etl.demo.geography import EDGE_MARGIN, LON_SCALE, Block, District, block_names, uniform_points
from etl.geo_build import read_districts
from etl.warehouse.reference import BIHAR_STATE_LGD, bihar_districts, india_districts

# State LGD code (as the boundary file has it) -> (code used in facility ids, Census 2011 population).
STATES: dict[int, tuple[str, int]] = {
    1: ("JK", 12_267_013), 2: ("HP", 6_864_602), 3: ("PB", 27_743_338), 4: ("CH", 1_055_450),
    5: ("UK", 10_086_292), 6: ("HR", 25_351_462), 7: ("DL", 16_787_941), 8: ("RJ", 68_548_437),
    9: ("UP", 199_812_341), 10: ("BR", 104_099_452), 11: ("SK", 610_577), 12: ("AR", 1_383_727),
    13: ("NL", 1_978_502), 14: ("MN", 2_855_794), 15: ("MZ", 1_097_206), 16: ("TR", 3_673_917),
    17: ("ML", 2_966_889), 18: ("AS", 31_205_576), 19: ("WB", 91_276_115), 20: ("JH", 32_988_134),
    21: ("OD", 41_974_218), 22: ("CG", 25_545_198), 23: ("MP", 72_626_809), 24: ("GJ", 60_439_692),
    26: ("DD", 586_956), 27: ("MH", 112_374_333), 28: ("AP", 49_386_799), 29: ("KA", 61_095_297),
    30: ("GA", 1_458_545), 31: ("LD", 64_473), 32: ("KL", 33_406_061), 33: ("TN", 72_147_030),
    34: ("PY", 1_247_953), 35: ("AN", 380_581), 36: ("TS", 35_003_674), 37: ("LA", 274_289),
}  # fmt: skip
KM_PER_DEGREE = 111.32
BLOCK_POPULATION = 200_000
BLOCK_AREA_KM2 = 5_000
MIN_BLOCKS, MAX_BLOCKS = 2, 40
# The national map is simplified more coarsely than Bihar's (0.012 degrees), so points keep further from the edge.
INDIA_EDGE_MARGIN = 0.012


@dataclass(frozen=True)
class DistrictInfo:
    """A district of the reference file with the numbers the national demo derives for it."""

    district_lgd: int
    census2011: int
    state_lgd: int
    name_en: str
    name_hi: str
    area_km2: float
    population: float
    blocks: int


@cache
def polygons_by_census() -> dict[int, shapely.Geometry]:
    frame = read_districts()
    return {int(c): g for c, g in zip(frame["census2011"], frame.geometry.values, strict=True) if c is not None
            and str(c) != "<NA>"}


def area_km2(geom: shapely.Geometry) -> float:
    lat = shapely.centroid(geom).y
    return float(shapely.area(geom)) * KM_PER_DEGREE**2 * float(np.cos(np.radians(lat)))


def block_count(population: float, area: float) -> int:
    return int(np.clip(round(population / BLOCK_POPULATION + area / BLOCK_AREA_KM2), MIN_BLOCKS, MAX_BLOCKS))


@cache
def district_infos() -> tuple[DistrictInfo, ...]:
    """Every coded district of India (Bihar's with their real block counts), ordered by state then census code."""
    polygons = polygons_by_census()
    refs = india_districts()
    area = {int(r["census2011"]): area_km2(polygons[int(r["census2011"])]) for r in refs}
    weight = {c: float(np.sqrt(a)) for c, a in area.items()}
    state_weight: dict[int, float] = {}
    for r in refs:
        state_weight[r["state_lgd"]] = state_weight.get(r["state_lgd"], 0.0) + weight[r["census2011"]]
    bihar_blocks = {int(d["district_lgd"]): int(d["blocks"]) for d in bihar_districts()}
    out = []
    for r in refs:
        census, state = r["census2011"], r["state_lgd"]
        pop = STATES[state][1] * weight[census] / state_weight[state]
        blocks = bihar_blocks[r["district_lgd"]] if state == BIHAR_STATE_LGD else block_count(pop, area[census])
        out.append(DistrictInfo(r["district_lgd"], census, state, str(r["name_en"]), str(r["name_hi"]), area[census],
                                pop, blocks))
    return tuple(out)


def _inner(poly: shapely.Geometry) -> shapely.Geometry:
    """The polygon shrunk away from its edge: by the national margin where that leaves enough room, else less."""
    for margin in (INDIA_EDGE_MARGIN, EDGE_MARGIN, EDGE_MARGIN / 4):
        inner = poly.buffer(-margin)
        if not inner.is_empty and inner.area > 0.25 * poly.area:
            shapely.prepare(inner)
            return inner
    shapely.prepare(poly)
    return poly


def sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared distances between the rows of ``a`` (n, 2) and of ``b`` (m, 2), shape (n, m)."""
    return (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2.0 * a @ b.T


def spread_fast(geom: shapely.Geometry, n: int, rng: np.random.Generator, per_centre: int = 50,
                iterations: int = 8) -> np.ndarray:
    """``n`` well-spread points inside ``geom`` (k-means over uniform candidates, snapped to the nearest candidate),
    vectorised: the national layout runs it for some 740 districts."""
    cand = uniform_points(geom, max(800, per_centre * n), rng)
    scaled = cand * np.array([LON_SCALE, 1.0])
    centres = scaled[rng.choice(len(cand), n, replace=False)]
    for _ in range(iterations):
        label = sq_dist(scaled, centres).argmin(axis=1)
        counts = np.bincount(label, minlength=n)
        sums = np.column_stack([np.bincount(label, scaled[:, k], minlength=n) for k in (0, 1)])
        moved = counts > 0
        centres[moved] = sums[moved] / counts[moved, None]
    return cand[sq_dist(centres, scaled).argmin(axis=1)]


def layout_district(info: DistrictInfo, rng: np.random.Generator) -> District:
    """A district outside Bihar with its blocks spread over the real polygon, numbered west to east."""
    poly = polygons_by_census()[info.census2011]
    inner = _inner(poly)
    prefix = f"{STATES[info.state_lgd][0]}{info.census2011:03d}"
    d = District(info.district_lgd, info.census2011, info.name_en, info.name_hi, info.blocks, poly, inner,
                 state_lgd=info.state_lgd, id_prefix=prefix)
    centres = spread_fast(inner, info.blocks, rng)
    names = block_names(info.district_lgd, info.name_en, info.name_hi, info.blocks)
    order = np.lexsort((-centres[:, 1], np.round(centres[:, 0], 1)))
    for i, k in enumerate(order, start=1):
        en, hi = names[i - 1]
        d.blocks.append(Block(info.district_lgd * 100 + i, info.district_lgd, i, en, hi, float(centres[k, 0]),
                              float(centres[k, 1])))
    return d


def state_slug(state_lgd: int) -> str:
    """File-name form of a state: ``uttar_pradesh``."""
    name = next(r["state_name"] for r in india_districts() if r["state_lgd"] == state_lgd)
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")
