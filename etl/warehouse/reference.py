"""Reference data shipped with the warehouse: states, districts (LGD and Census 2011 codes, English and Hindi
names), specialties and the scheme indicator catalogue. Seeded idempotently by ``arogya db upgrade``.

Districts: ``districts_india.csv`` holds every district of the boundary file that has a code (built from it by
``python -m etl.reference_build``). Bihar's carry their real LGD codes (from ``districts_bihar.csv``); the others a
surrogate, ``SURROGATE_BASE + census2011``, which never collides with a real district LGD code (those are below
1,000)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, select

from etl.warehouse.schema import dim_district, dim_scheme_indicator, dim_specialty, dim_state
from etl.warehouse.upsert import upsert

REFERENCE_DIR = Path(__file__).resolve().parent / "reference_data"
BIHAR_STATE_LGD = 10
SURROGATE_BASE = 100_000
REAL_LGD_LIMIT = 1_000  # real district LGD codes are below this
STATE_COLUMNS = ("state_lgd", "name_en", "name_hi")
DISTRICT_COLUMNS = ("district_lgd", "census2011", "state_lgd", "state_name", "name_en", "name_hi", "code_source")


def surrogate_district_code(census2011: int) -> int:
    """The warehouse code of a district whose real LGD code we do not have."""
    if not 0 < int(census2011) < SURROGATE_BASE:
        raise ValueError(f"census code {census2011} out of range")
    return SURROGATE_BASE + int(census2011)


def is_surrogate(district_lgd: int) -> bool:
    return int(district_lgd) >= SURROGATE_BASE


@cache
def read_reference(name: str) -> tuple[dict[str, str], ...]:
    with (REFERENCE_DIR / name).open(encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def bihar_districts() -> list[dict[str, object]]:
    return [
        {
            "district_lgd": int(r["district_lgd"]),
            "census2011": int(r["census2011"]),
            "state_lgd": BIHAR_STATE_LGD,
            "name_en": r["name_en"],
            "name_hi": r["name_hi"],
            "blocks": int(r["blocks"]),
        }
        for r in read_reference("districts_bihar.csv")
    ]


def india_states() -> list[dict[str, object]]:
    return [{"state_lgd": int(r["state_lgd"]), "name_en": r["name_en"], "name_hi": r["name_hi"]}
            for r in read_reference("states_india.csv")]


def india_districts() -> list[dict[str, object]]:
    """Every coded district of the boundary file: district_lgd (real or surrogate), census2011, state_lgd,
    state_name, name_en, name_hi, code_source ("lgd" or "surrogate")."""
    return [{**r, "district_lgd": int(r["district_lgd"]), "census2011": int(r["census2011"]),
             "state_lgd": int(r["state_lgd"])} for r in read_reference("districts_india.csv")]


def seed_reference(engine: Engine, *, national: bool = False) -> None:
    """Bihar's state and 38 districts (or, with ``national``, every state and district of India), specialties and
    scheme indicators. A state deployment lists only its own districts; the national demo seeds all of India.
    Districts already present keep their row (names edited in the warehouse are not overwritten)."""
    states = [s for s in india_states() if national or s["state_lgd"] == BIHAR_STATE_LGD]
    columns = ("district_lgd", "census2011", "state_lgd", "name_en", "name_hi")
    districts = [{k: d[k] for k in columns} for d in india_districts()
                 if national or d["state_lgd"] == BIHAR_STATE_LGD]
    specialties = [dict(r) for r in read_reference("specialties.csv")]
    indicators = [
        {**r, "package": int(r["package"]) if r["package"] else None} for r in read_reference("scheme_indicators.csv")
    ]
    with engine.begin() as conn:
        upsert(conn, dim_state, states)
        existing = set(conn.execute(select(dim_district.c.district_lgd)).scalars())
        taken = set(conn.execute(select(dim_district.c.census2011)).scalars())
        upsert(conn, dim_district, [d for d in districts
                                    if d["district_lgd"] not in existing and d["census2011"] not in taken])
        upsert(conn, dim_specialty, specialties)
        upsert(conn, dim_scheme_indicator, indicators)
