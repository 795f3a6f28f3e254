"""Reference data shipped with the warehouse: states, districts (LGD and Census 2011 codes, English and Hindi
names), specialties and the scheme indicator catalogue. Seeded idempotently by ``arogya db upgrade``."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, select

from etl.warehouse.schema import dim_district, dim_scheme_indicator, dim_specialty, dim_state
from etl.warehouse.upsert import upsert

REFERENCE_DIR = Path(__file__).resolve().parent / "reference_data"
BIHAR_STATE_LGD = 10


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


def seed_reference(engine: Engine) -> None:
    states = [{"state_lgd": BIHAR_STATE_LGD, "name_en": "BIHAR", "name_hi": "बिहार"}]
    districts = [{k: v for k, v in d.items() if k != "blocks"} for d in bihar_districts()]
    specialties = [dict(r) for r in read_reference("specialties.csv")]
    indicators = [
        {**r, "package": int(r["package"]) if r["package"] else None} for r in read_reference("scheme_indicators.csv")
    ]
    with engine.begin() as conn:
        upsert(conn, dim_state, states)
        existing = set(conn.execute(select(dim_district.c.district_lgd)).scalars())
        upsert(conn, dim_district, [d for d in districts if d["district_lgd"] not in existing])
        upsert(conn, dim_specialty, specialties)
        upsert(conn, dim_scheme_indicator, indicators)
