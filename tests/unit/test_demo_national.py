"""The national demo: every coded district of the boundary file, collision-free district and block codes, Bihar as
at state scale, facilities inside their polygons, and eSanjeevani's published volume. One run with a reduced spoke
count (one day) is shared by the tests; the full-size numbers are checked on the plan without generating."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import create_engine, func, select

from etl.contracts.base import map_headers
from etl.contracts.catalog import CHOS, CONSULTATIONS, FACILITIES
from etl.demo import DemoManifest, generate, make_plan, truth_path
from etl.demo.activity import NATIONAL_WEEKDAY_FACTOR
from etl.demo.facilities import build_master
from etl.demo.geography import load_districts
from etl.demo.india import district_infos, polygons_by_census
from etl.demo.national import spoke_targets
from etl.demo.national_export import XLSX_MAX_ROWS
from etl.demo.plan import NATIONAL_SPOKES
from etl.demo.writers import write_facilities_csv
from etl.geo_build import read_districts
from etl.warehouse.reference import (
    BIHAR_STATE_LGD,
    SURROGATE_BASE,
    bihar_districts,
    india_districts,
    india_states,
    seed_reference,
)
from etl.warehouse.schema import dim_district, dim_state, metadata

END = date(2025, 8, 20)  # a Wednesday
SEED = 11
SPOKES = 30_000


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, list[Path], DemoManifest]:
    out = tmp_path_factory.mktemp("national") / "landing"
    files = generate(out, scale="national", days=1, end_date=END, seed=SEED, spokes=SPOKES)
    return out, files, DemoManifest.load(truth_path(out))


@pytest.fixture(scope="module")
def facilities(run) -> pd.DataFrame:
    out, files, _ = run
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in files
              if p.name.startswith("facilities_") and "late" not in p.name]
    return pd.concat(frames, ignore_index=True)


def _valid(frame: pd.DataFrame) -> pd.DataFrame:
    known = {str(d["district_lgd"]) for d in india_districts()}
    return frame[frame["District LGD Code"].isin(known) & frame["Role"].isin(["Hub", "Spoke"])
                 & (frame["Facility Type"] != "")]


def test_demo101_reference_lists_every_coded_district() -> None:
    boundary = read_districts()
    coded = boundary[boundary["census2011"].notna() & boundary["state_lgd"].notna()]
    ref = india_districts()
    assert len(ref) == len(coded) == 777
    assert {d["census2011"] for d in ref} == {int(c) for c in coded["census2011"]}
    codes = [d["district_lgd"] for d in ref]
    assert len(set(codes)) == len(codes)
    bihar = {d["census2011"]: d for d in bihar_districts()}
    for d in ref:
        if d["state_lgd"] == BIHAR_STATE_LGD:
            real = bihar[d["census2011"]]
            assert d["district_lgd"] == real["district_lgd"] < 1000 and d["code_source"] == "lgd"
            assert d["name_hi"] == real["name_hi"]
        else:
            assert d["district_lgd"] == SURROGATE_BASE + d["census2011"] and d["code_source"] == "surrogate"
    assert sum(d["state_lgd"] == BIHAR_STATE_LGD for d in ref) == 38
    states = {s["state_lgd"]: s for s in india_states()}
    assert {d["state_lgd"] for d in ref} == set(states) and len(states) == 36
    assert states[10]["name_hi"] == "बिहार" and states[9]["name_hi"] == "उत्तर प्रदेश"


def test_demo102_seed_reference_all_districts_idempotent(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'ref.db'}")
    metadata.create_all(engine)
    seed_reference(engine)  # a state deployment: Bihar only
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(dim_district)).scalar() == 38
    seed_reference(engine, national=True)
    seed_reference(engine, national=True)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(dim_state)).scalar() == 36
        assert conn.execute(select(func.count()).select_from(dim_district)).scalar() == 777
        kishanganj = conn.execute(select(dim_district.c.name_hi, dim_district.c.census2011).where(
            dim_district.c.district_lgd == 203)).one()
        assert tuple(kishanganj) == ("किशनगंज", 210)
        assert conn.execute(select(func.min(dim_district.c.district_lgd)).where(
            dim_district.c.state_lgd != BIHAR_STATE_LGD)).scalar() > SURROGATE_BASE


def test_demo103_full_scale_plan_and_spoke_shares() -> None:
    plan = make_plan("national", end_date=END)
    assert plan.days == 30 and plan.spoke_target == NATIONAL_SPOKES == 175_000
    assert plan.weekday_target == 520_000
    infos = district_infos()
    assert len(infos) == 777
    blocks = sum(i.blocks for i in infos)
    assert 6_000 <= blocks <= 7_500 and sum(i.blocks for i in infos if i.state_lgd == BIHAR_STATE_LGD) == 534
    others = [i for i in infos if i.state_lgd != BIHAR_STATE_LGD]
    targets = spoke_targets(others, NATIONAL_SPOKES - 9_000)
    assert targets.sum() == NATIONAL_SPOKES - 9_000
    assert (targets >= 2 * np.array([i.blocks for i in others])).all()
    with pytest.raises(ValueError, match="spokes"):
        make_plan("state", spokes=1000)


def test_demo104_every_district_and_block_present(facilities, run) -> None:
    ok = _valid(facilities)
    infos = {i.district_lgd: i for i in district_infos()}
    blocks = ok.groupby("District LGD Code")["Block LGD Code"].nunique()
    assert {int(k): int(v) for k, v in blocks.items()} == {k: i.blocks for k, i in infos.items()}
    codes = ok["Block LGD Code"].astype(int)
    assert ((codes // 100).astype(str) == ok["District LGD Code"]).all()
    surrogate = ok["District LGD Code"].astype(int) >= SURROGATE_BASE
    assert (codes[surrogate] >= SURROGATE_BASE * 100).all() and (codes[~surrogate] < 100_000).all()
    assert ok["Facility ID"].is_unique
    _, _, truth = run
    assert truth.facilities["districts"] == 777 and len(truth.facilities["states"]) == 36
    assert truth.facilities["blocks"] == sum(i.blocks for i in infos.values())


def test_demo105_bihar_as_at_state_scale(facilities, run, tmp_path) -> None:
    out, _, truth = run
    plan = make_plan("national", 1, END, SEED, SPOKES)
    master = build_master(load_districts(np.random.default_rng([SEED, 1])), np.random.default_rng([SEED, 2]),
                          plan.start_date, plan.end_date)
    f = master.frame
    expected = write_facilities_csv(f[~f.late], tmp_path / "bihar.csv")
    assert expected.read_bytes() == (out / "facilities_bihar.csv").read_bytes()
    ok = _valid(facilities)
    kis = ok[ok["District LGD Code"] == "203"]
    assert (kis["Role"] == "Hub").sum() == 11 and (kis["Role"] == "Spoke").sum() == 230
    spokes = ok[ok["Role"] == "Spoke"]
    per_block = spokes.groupby("Block LGD Code").size().reindex(ok["Block LGD Code"].unique(), fill_value=0)
    assert (per_block[[b for b in per_block.index if b.startswith("200")]] >= 2).all()
    short = per_block[per_block < 2]
    assert len(short) == 1 and int(short.index[0]) < 100_000
    assert truth.facilities["blocks_below_two_spokes"] == [int(short.index[0])]
    assert truth.facilities["late_additions"] and len(truth.facilities["broken_rows"]) == 3


def test_demo106_facilities_inside_their_polygons(facilities) -> None:
    ok = _valid(facilities)
    census = {str(d["district_lgd"]): d["census2011"] for d in india_districts()}
    polygons = polygons_by_census()
    for code, group in ok.groupby("District LGD Code"):
        inside = shapely.contains_xy(polygons[census[code]], group["Longitude"].astype(float).to_numpy(),
                                     group["Latitude"].astype(float).to_numpy())
        assert inside.all(), f"{(~inside).sum()} facilities outside district {code}"


def test_demo107_spokes_hubs_and_masters(facilities, run) -> None:
    out, files, truth = run
    ok = _valid(facilities)
    spokes, hubs = ok[ok["Role"] == "Spoke"], ok[ok["Role"] == "Hub"]
    assert len(spokes) == truth.facilities["spokes"] == SPOKES
    assert 8 <= len(spokes) / len(hubs) <= 14
    assert (hubs["Facility Type"] == "DH").sum() == 777
    assert spokes["Assigned Hub"].isin(hubs["Facility ID"]).all()
    cross = (spokes["Assigned Hub"].map(hubs.set_index("Facility ID")["District LGD Code"])
             != spokes["District LGD Code"]).sum()
    assert 10 <= cross <= 10 + 2 * 35
    up = ok[ok["District LGD Code"].astype(int) == SURROGATE_BASE + 162]  # Lucknow
    assert up["Facility ID"].str.fullmatch(r"UP162[HS]\d+").all()
    with (out / "facilities_uttar_pradesh.csv").open(encoding="utf-8") as fh:
        m = map_headers(FACILITIES, next(csv.reader(fh)))
    assert not m.unknown and not m.missing_required
    chos = [p for p in files if p.name.startswith("chos_")]
    assert {p.suffix for p in chos} == {".csv", ".xlsx"} and len(chos) == 36
    up_chos = pd.read_csv(out / "chos_uttar_pradesh.csv", dtype=str, keep_default_na=False)
    m = map_headers(CHOS, list(up_chos.columns))
    assert not m.unknown and not m.missing_required
    assert up_chos["CHO ID"].str.startswith("UPCHO").all() and up_chos["HWC ID"].str.startswith("UP").all()
    assert up_chos["Date of Joining"].str.fullmatch(r"\d\d-\d\d-\d{4}").all()


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype=str).fillna("")
    if path.suffix == ".txt":
        return pd.read_csv(path, sep="\t", encoding="utf-16", dtype=str, keep_default_na=False)
    with path.open(encoding="utf-8-sig") as fh:
        first = fh.readline()
    return pd.read_csv(path, sep=";" if ";" in first else ",", encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_demo108_volume_mix_and_faults(run) -> None:
    _, files, truth = run
    plan = make_plan("national", 1, END, SEED, SPOKES)
    c = truth.consultations
    day = c["by_day"][0]
    expected = plan.weekday_target * NATIONAL_WEEKDAY_FACTOR[END.weekday()]
    assert 0.9 * expected <= day["valid"] <= 1.02 * expected
    assert abs(c["share_women"] - 0.57) < 0.01 and abs(c["share_60_plus"] - 0.12) < 0.01
    assert 0.02 <= sum(c["faults"].values()) / c["rows"] <= 0.035 and all(c["faults"].values())
    assert len(c["per_state_valid"]) == 36 and len(c["per_district_valid"]) >= 770
    cons = [p for p in files if p.name.startswith("consultations_")]
    assert sorted(p.name for p in cons) == sorted(day["files"]) and len(cons) == 36
    assert day["rows"] == sum(f["rows"] for f in truth.files if f["dataset"] == "consultations")
    ids = []
    for p in cons:
        frame = _read(p)
        m = map_headers(CONSULTATIONS, list(frame.columns))
        assert not m.missing_required and not m.unknown, p.name
        assert p.suffix != ".xlsx" or len(frame) <= XLSX_MAX_ROWS
        col = frame[next(h for h in frame.columns if m.columns.get(h) == "consultation_id")]
        ids.append(col[col != ""].drop_duplicates())
    ids = pd.concat(ids)
    assert ids.is_unique and len(ids) > 0.95 * day["rows"]


def test_demo109_status_and_schemes(run) -> None:
    _, files, truth = run
    s = truth.status
    assert s["days"] == [END.isoformat()] and len(s["outages"]) == 4
    assert {"heartbeat", "session_start", "session_end", "outage", "recovery"} <= set(s["kinds"])
    status = next(p for p in files if p.name.startswith("status_"))
    lines = status.read_text(encoding="utf-8").splitlines()
    assert len(lines) == s["events"]
    first = pd.read_json(status, lines=True, nrows=1000, dtype=False)
    assert first["event_time"].is_monotonic_increasing
    schemes = [p for p in files if p.name.startswith("schemes_")]
    rows = sum(f["rows"] for f in truth.files if f["dataset"] == "schemes")
    assert len(schemes) == 36 and rows == truth.schemes["rows"] == SPOKES * 21
