"""Bihar's districts and blocks for the demo: real district polygons, block codes and names, and point placement
inside a district (vectorised rejection sampling). The other states' districts are laid out by ``etl.demo.india``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from etl.geo_build import bihar_polygons
from etl.warehouse.reference import BIHAR_STATE_LGD, bihar_districts

KISHANGANJ = 203
KAIMUR = 200
# Degrees kept clear of the district edge, so a point stays inside the simplified outline too.
EDGE_MARGIN = 0.004
# Longitude degrees are shorter than latitude degrees at Bihar's latitude (about 25.5° N).
LON_SCALE = float(np.cos(np.radians(25.5)))

REAL_BLOCKS: dict[int, list[tuple[str, str]]] = {
    KISHANGANJ: [
        ("Bahadurganj", "बहादुरगंज"), ("Dighalbank", "दिघलबैंक"), ("Kishanganj", "किशनगंज"),
        ("Kochadhaman", "कोचाधामन"), ("Pothia", "पोठिया"), ("Terhagachh", "टेढ़ागाछ"), ("Thakurganj", "ठाकुरगंज"),
    ],
    KAIMUR: [
        ("Adhaura", "अधौरा"), ("Bhabua", "भभुआ"), ("Bhagwanpur", "भगवानपुर"), ("Chainpur", "चैनपुर"), ("Chand", "चांद"),
        ("Durgawati", "दुर्गावती"), ("Kudra", "कुदरा"), ("Mohania", "मोहनिया"), ("Nuaon", "नुआंव"),
        ("Ramgarh", "रामगढ़"), ("Rampur", "रामपुर"),
    ],
}  # fmt: skip
# The block that holds the district headquarters (where the district hospital stands), where we know it.
HQ_BLOCK: dict[int, str] = {KISHANGANJ: "Kishanganj", KAIMUR: "Bhabua"}


@dataclass(frozen=True)
class Block:
    block_lgd: int
    district_lgd: int
    number: int  # 1..n within the district
    name_en: str
    name_hi: str
    lon: float
    lat: float


@dataclass
class District:
    district_lgd: int
    census2011: int
    name_en: str
    name_hi: str
    n_blocks: int
    polygon: shapely.Geometry  # full source resolution
    inner: shapely.Geometry  # shrunk by EDGE_MARGIN, prepared; where points are placed
    blocks: list[Block] = field(default_factory=list)
    state_lgd: int = BIHAR_STATE_LGD
    id_prefix: str = ""  # facility ids start with this; Bihar's: "BR" + district LGD code

    @property
    def prefix(self) -> str:
        return self.id_prefix or f"BR{self.district_lgd}"

    @property
    def title(self) -> str:
        return self.name_en.title()

    @property
    def centres(self) -> np.ndarray:
        return np.array([(b.lon, b.lat) for b in self.blocks])

    @property
    def hq_block(self) -> int:
        """Index of the block holding the district headquarters."""
        wanted = HQ_BLOCK.get(self.district_lgd)
        for i, b in enumerate(self.blocks):
            if b.name_en == wanted:
                return i
        return 0


def block_names(district_lgd: int, name_en: str, name_hi: str, n: int) -> list[tuple[str, str]]:
    real = REAL_BLOCKS.get(district_lgd)
    if real is not None:
        if len(real) != n:
            raise ValueError(f"district {district_lgd} has {n} blocks but {len(real)} real names")
        return real
    title = name_en.title()
    hindi = name_hi if name_hi != name_en else title  # no Hindi name known: the English one, title-cased
    return [(f"{title} Block {i}", f"{hindi} प्रखंड {i}") for i in range(1, n + 1)]


def uniform_points(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points spread uniformly inside ``geom`` (rounded to 5 decimals), shape (n, 2) as lon, lat."""
    minx, miny, maxx, maxy = geom.bounds
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        batch = max(256, 3 * (n - have))
        x = np.round(rng.uniform(minx, maxx, batch), 5)
        y = np.round(rng.uniform(miny, maxy, batch), 5)
        ok = shapely.contains_xy(geom, x, y)
        pts = np.column_stack([x[ok], y[ok]])
        out.append(pts)
        have += len(pts)
    return np.concatenate(out)[:n]


def spread_centres(geom: shapely.Geometry, n: int, rng: np.random.Generator, iterations: int = 12) -> np.ndarray:
    """``n`` well-spread points inside ``geom``: k-means over uniform candidates, each centre snapped to the
    nearest candidate so that it lies inside even where the district is not convex."""
    cand = uniform_points(geom, max(1500, 120 * n), rng)
    scaled = cand * np.array([LON_SCALE, 1.0])
    centres = scaled[rng.choice(len(cand), n, replace=False)]
    for _ in range(iterations):
        label = np.argmin(((scaled[:, None, :] - centres[None, :, :]) ** 2).sum(-1), axis=1)
        for k in range(n):
            members = scaled[label == k]
            if len(members):
                centres[k] = members.mean(axis=0)
    nearest = np.argmin(((scaled[None, :, :] - centres[:, None, :]) ** 2).sum(-1), axis=1)
    return cand[nearest]


def points_near(district: District, block_idx: np.ndarray, spread: np.ndarray, rng: np.random.Generator,
                max_rounds: int = 60) -> np.ndarray:
    """One point per entry of ``block_idx``: scattered around that block's centre (normal, ``spread`` degrees),
    inside the district and nearer to its own block centre than to any other. Returns (n, 2) lon, lat rounded to
    5 decimals."""
    centres = district.centres
    scaled_centres = centres * np.array([LON_SCALE, 1.0])
    n = len(block_idx)
    out = np.full((n, 2), np.nan)
    todo = np.arange(n)
    for round_no in range(max_rounds):
        if len(todo) == 0:
            break
        c = centres[block_idx[todo]]
        s = spread[todo] if round_no < max_rounds // 2 else spread[todo] * 0.4
        x = np.round(c[:, 0] + rng.normal(0, 1, len(todo)) * s / LON_SCALE, 5)
        y = np.round(c[:, 1] + rng.normal(0, 1, len(todo)) * s, 5)
        ok = shapely.contains_xy(district.inner, x, y)
        if round_no < max_rounds - 10 and len(centres) > 1:
            d = ((np.column_stack([x * LON_SCALE, y])[:, None, :] - scaled_centres[None]) ** 2).sum(-1)
            ok &= np.argmin(d, axis=1) == block_idx[todo]
        out[todo[ok]] = np.column_stack([x[ok], y[ok]])
        todo = todo[~ok]
    if len(todo):  # a block squeezed against the border: fall back to anywhere in the district
        out[todo] = uniform_points(district.inner, len(todo), rng)
    return out


def load_districts(rng: np.random.Generator) -> list[District]:
    """Bihar's 38 districts (reference order) with their blocks laid out inside the real polygons."""
    polygons = bihar_polygons()
    out: list[District] = []
    for ref in bihar_districts():
        lgd = int(ref["district_lgd"])
        poly = polygons[lgd]
        inner = poly.buffer(-EDGE_MARGIN)
        if inner.is_empty:
            inner = poly
        shapely.prepare(inner)
        d = District(lgd, int(ref["census2011"]), str(ref["name_en"]), str(ref["name_hi"]), int(ref["blocks"]),
                     poly, inner)
        centres = spread_centres(inner, d.n_blocks, rng)
        names = block_names(lgd, d.name_en, d.name_hi, d.n_blocks)
        # Number blocks roughly west to east, north to south, so neighbouring codes are neighbours on the map.
        order = np.lexsort((-centres[:, 1], np.round(centres[:, 0], 1)))
        if lgd in REAL_BLOCKS:
            order = np.arange(d.n_blocks)
        for i, k in enumerate(order, start=1):
            en, hi = names[i - 1]
            d.blocks.append(Block(lgd * 100 + i, lgd, i, en, hi, float(centres[k, 0]), float(centres[k, 1])))
        out.append(d)
    return out


def district_area_deg2(district: District) -> float:
    return float(district.polygon.area) * LON_SCALE
