"""The demo generator: calibrated counts, geography, patient mix, weekly pattern, faults, file formats,
determinism. One small run (8 days) is shared by the tests; the files are opened directly."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from etl.contracts.base import map_headers
from etl.contracts.catalog import CHOS, CONSULTATIONS, FACILITIES, SCHEMES, STATUS
from etl.demo import DemoManifest, generate, make_plan, truth_path
from etl.demo.formats import check_dialects
from etl.geo_build import bihar_polygons
from etl.warehouse.reference import bihar_districts

END = date(2025, 8, 20)  # a Wednesday; the 8 days hold one Sunday (17 Aug)
DAYS = 8


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, list[Path], DemoManifest]:
    out = tmp_path_factory.mktemp("demo") / "landing"
    calls: list[tuple[str, int, int]] = []
    files = generate(out, scale="small", days=DAYS, end_date=END, seed=7, progress=lambda *a: calls.append(a))
    assert calls and calls[-1][1] == calls[-1][2]
    return out, files, DemoManifest.load(truth_path(out))


@pytest.fixture(scope="module")
def facilities(run) -> pd.DataFrame:
    out, _, _ = run
    return pd.read_csv(out / "facilities_bihar.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def frames(run) -> dict[str, pd.DataFrame]:
    """Every consultation file of the run, read once (as text)."""
    _, files, _ = run
    return {p.name: _read_consultations(p) for p in files if p.name.startswith("consultations_")}


def _valid_facilities(frame: pd.DataFrame) -> pd.DataFrame:
    known = {str(d["district_lgd"]) for d in bihar_districts()}
    return frame[frame["District LGD Code"].isin(known) & frame["Role"].isin(["Hub", "Spoke"])
                 & (frame["Facility Type"] != "")]


def test_demo001_districts_and_blocks_match_reference(facilities) -> None:
    ok = _valid_facilities(facilities)
    ref = {int(d["district_lgd"]): int(d["blocks"]) for d in bihar_districts()}
    assert len(ref) == 38 and sum(ref.values()) == 534
    blocks = ok.groupby("District LGD Code")["Block LGD Code"].nunique()
    assert {int(k): int(v) for k, v in blocks.items()} == ref
    codes = ok["Block LGD Code"].astype(int)
    assert ((codes // 100).astype(str) == ok["District LGD Code"]).all()
    assert set((codes % 100).groupby(codes // 100).max().items()) == set(ref.items())


def test_demo002_real_block_names(facilities) -> None:
    kishanganj = set(facilities[facilities["District LGD Code"] == "203"]["Block Name"])
    assert kishanganj == {"Bahadurganj", "Dighalbank", "Kishanganj", "Kochadhaman", "Pothia", "Terhagachh",
                          "Thakurganj"}
    kaimur = facilities[facilities["District LGD Code"] == "200"]
    assert set(kaimur["Block Name"]) == {"Adhaura", "Bhabua", "Bhagwanpur", "Chainpur", "Chand", "Durgawati",
                                         "Kudra", "Mohania", "Nuaon", "Ramgarh", "Rampur"}
    assert set(kaimur[kaimur["Block Name"] == "Bhabua"]["Block Name (Hindi)"]) == {"भभुआ"}
    patna = facilities[facilities["District LGD Code"] == "212"]
    assert "Patna Block 1" in set(patna["Block Name"]) and "पटना प्रखंड 1" in set(patna["Block Name (Hindi)"])


def test_demo003_hub_and_spoke_counts(facilities, run) -> None:
    ok = _valid_facilities(facilities)
    kis = ok[ok["District LGD Code"] == "203"]
    assert (kis["Role"] == "Hub").sum() == 11
    assert (kis["Role"] == "Spoke").sum() == 230
    spokes = ok[ok["Role"] == "Spoke"]
    hubs = ok[ok["Role"] == "Hub"]
    assert 8000 <= len(spokes) <= 10000
    assert 350 <= len(hubs) <= 450
    assert (hubs["Facility Type"] == "DH").sum() == 38
    mc = set(hubs[hubs["Facility Type"] == "MC"]["District LGD Code"].astype(int))
    assert {212, 195, 192, 196, 208} <= mc and len(mc) <= 10
    assert set(spokes["Facility Type"]) == {"SC", "PHC"} and (spokes["Facility Type"] == "SC").mean() > 0.9
    _, _, truth = run
    assert truth.facilities["hubs"] == len(hubs) and truth.facilities["spokes"] == len(spokes)


def test_demo004_two_spokes_per_block_rule(facilities, run) -> None:
    ok = _valid_facilities(facilities)
    spokes = ok[ok["Role"] == "Spoke"]
    all_blocks = ok["Block LGD Code"].unique()
    per_block = spokes.groupby("Block LGD Code").size().reindex(all_blocks, fill_value=0)
    kaimur = per_block[[b for b in per_block.index if b.startswith("200")]]
    assert len(kaimur) == 11 and (kaimur >= 2).all()
    short = per_block[per_block < 2]
    assert len(short) == 1 and int(short.iloc[0]) == 1
    assert not short.index[0].startswith("200")
    _, _, truth = run
    assert truth.facilities["blocks_below_two_spokes"] == [int(short.index[0])]


def test_demo005_spokes_assigned_to_hubs_mostly_in_district(facilities) -> None:
    ok = _valid_facilities(facilities)
    hubs = ok[ok["Role"] == "Hub"].set_index("Facility ID")
    spokes = ok[ok["Role"] == "Spoke"]
    assert spokes["Assigned Hub"].isin(hubs.index).all()
    hub_district = spokes["Assigned Hub"].map(hubs["District LGD Code"])
    cross = (hub_district != spokes["District LGD Code"]).sum()
    assert 1 <= cross <= 20


def test_demo006_every_facility_inside_its_district(facilities, run) -> None:
    polygons = bihar_polygons()
    out, _, _ = run
    late = pd.read_csv(out / "facilities_late_additions.csv", dtype=str, keep_default_na=False)
    frame = pd.concat([_valid_facilities(facilities), late])
    for lgd, group in frame.groupby("District LGD Code"):
        lat, lon = group["Latitude"].astype(float), group["Longitude"].astype(float)
        assert (group["Latitude"].str.split(".").str[1].str.len() <= 5).all()
        inside = shapely.contains_xy(polygons[int(lgd)], lon.to_numpy(), lat.to_numpy())
        assert inside.all(), f"{(~inside).sum()} facilities outside district {lgd}"


def test_demo007_headers_are_contract_aliases(run, frames) -> None:
    check_dialects()
    out, files, _ = run
    with (out / "facilities_bihar.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    m = map_headers(FACILITIES, header)
    assert not m.unknown and not m.missing_required
    chos = pd.read_excel(out / "chos_bihar.xlsx", dtype=str)
    m = map_headers(CHOS, list(chos.columns))
    assert not m.unknown and not m.missing_required
    for name, frame in frames.items():
        m = map_headers(CONSULTATIONS, list(frame.columns))
        assert not m.missing_required and not m.duplicates, name
        assert set(m.unknown) == set(), name


def _read_consultations(path: Path) -> pd.DataFrame:
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype=str)
    if path.suffix == ".txt":
        return pd.read_csv(path, sep="\t", encoding="utf-16", dtype=str, keep_default_na=False)
    with path.open(encoding="utf-8-sig") as fh:
        first = fh.readline()
    return pd.read_csv(path, sep=";" if ";" in first else ",", encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)


def test_demo008_consultation_file_formats(run, frames) -> None:
    out, files, _ = run
    cons = [p for p in files if p.name.startswith("consultations_")]
    assert [p.stem for p in cons] == [f"consultations_{d:%Y-%m-%d}" for d in make_plan("small", DAYS, END).dates]
    by_kind: dict[str, list[Path]] = {}
    for p in cons:
        raw = p.read_bytes()[:4]
        if p.suffix == ".xlsx":
            assert raw[:2] == b"PK"
            by_kind.setdefault("xlsx", []).append(p)
        elif raw[:2] == b"\xff\xfe":
            assert p.suffix == ".txt"
            by_kind.setdefault("utf16", []).append(p)
        else:
            text = p.read_text(encoding="utf-8-sig")
            head = text.split("\n", 1)[0]
            kind = "semicolon" if ";" in head else "hindi" if "परामर्श आईडी" in head else "csv"
            by_kind.setdefault(kind, []).append(p)
    assert set(by_kind) == {"xlsx", "utf16", "semicolon", "hindi", "csv"}
    hindi = frames[by_kind["hindi"][0].name]
    assert {"परामर्श आईडी", "परामर्श दिनांक", "स्पोक आईडी", "हब आईडी", "आयु", "लिंग"} <= set(hindi.columns)
    assert set(hindi["लिंग"]) - {""} == {"पुरुष", "महिला", "अन्य"}
    assert by_kind["hindi"][0].read_bytes()[:3] == b"\xef\xbb\xbf"
    starts = pd.concat([frames[p.name].iloc[:, 1] for p in by_kind["csv"]])
    assert starts.str.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d").any()
    assert starts.str.endswith("+05:30").any()
    assert starts.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d").any()
    xlsx = pd.read_excel(by_kind["xlsx"][0], nrows=50)
    assert pd.api.types.is_datetime64_any_dtype(xlsx["Start Time"])
    names = pd.concat([frames[p.name] for p in by_kind["utf16"]])["Patient Name"]
    assert set(names) <= {"DEMO PATIENT", "TEST ROGI", "SAMPLE NAAM", "नमूना मरीज", "डेमो रोगी", "XYZ TEST"}


def test_demo009_other_datasets_formats(run) -> None:
    out, files, truth = run
    assert files[0].name == "facilities_bihar.csv"
    assert files[-1].name == "facilities_late_additions.csv"
    datasets = [p.name.split("_")[0] for p in files]
    assert datasets.index("chos") < datasets.index("schemes") < datasets.index("consultations")
    assert all(p.parent == out for p in files) and truth_path(out).parent == out.parent
    assert not (out / "demo_truth.json").exists()

    chos = pd.read_excel(out / "chos_bihar.xlsx", dtype=str, keep_default_na=False)
    assert chos["Date of Joining"].str.fullmatch(r"\d\d-\d\d-\d{4}").all()
    laptops = (chos["Laptop Issue Date"] != "").mean()
    assert 0.6 <= laptops <= 0.7
    modules = chos["Modules Completed"].astype(int)
    assert modules.between(0, 18).all() and modules.nunique() > 10
    assert chos["CHO ID"].is_unique

    schemes = [p for p in files if p.name.startswith("schemes_")]
    assert len(schemes) >= 3 and any(p.suffix == ".xlsx" for p in schemes)
    xlsx = next(p for p in schemes if p.suffix == ".xlsx")
    import openpyxl

    wb = openpyxl.load_workbook(xlsx, read_only=True)
    assert wb.sheetnames == ["Data"]
    wb.close()
    frame = pd.read_excel(xlsx, sheet_name="Data", nrows=21 * 500)  # facility by facility: 500 spokes
    m = map_headers(SCHEMES, list(frame.columns))
    assert not m.unknown and not m.missing_required
    assert frame["Indicator"].nunique() == 9  # monthly counts; the package snapshot comes with the latest month
    latest = pd.read_csv(schemes[-1], nrows=21 * 500)
    latest = latest.rename(columns=map_headers(SCHEMES, list(latest.columns)).columns)
    assert latest["indicator_code"].nunique() == 21
    pkg = latest[latest["indicator_code"].str.startswith("PKG_")]
    assert set(pkg["value"]) == {0, 1} and set(pkg["target"]) == {1}
    counts = frame[~frame["Indicator"].str.startswith("PKG_")]
    achievement = counts["Achievement"].sum() / counts["Target"].sum()
    assert 0.5 < achievement < 1.1
    perf = truth.schemes["district_performance"]
    assert min(perf.values()) < 0.65 < max(perf.values())

    status = next(p for p in files if p.name.startswith("status_"))
    events = [json.loads(line) for line in status.read_text(encoding="utf-8").splitlines()]
    m = map_headers(STATUS, list(events[0]))
    assert not m.unknown and not m.missing_required
    kinds = {e["kind"] for e in events}
    assert {"heartbeat", "outage", "recovery", "session_start"} <= kinds
    assert 1000 < len(events) < 60_000


def _english_rows(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows of the English-header CSV days (faulty rows included)."""
    return pd.concat([f for name, f in frames.items() if name.endswith(".csv") and "Gender" in f.columns])


def test_demo010_patient_mix(run, frames) -> None:
    _, _, truth = run
    c = truth.consultations
    assert abs(c["share_women"] - 0.57) < 0.015
    assert abs(c["share_60_plus"] - 0.12) < 0.015
    assert 0.008 < c["share_outside_hours"] < 0.025
    rows = _english_rows(frames)
    age = pd.to_numeric(rows["Age"], errors="coerce")
    ok = age.between(0, 120)
    assert (age[ok] < 15).mean() > 0.1 and ((age[ok] >= 15) & (age[ok] <= 45)).mean() > 0.3
    assert 0.55 < (rows["Gender"] == "F").mean() < 0.59
    assert 0.82 < (rows["Mode"] == "AB-HWC").mean() < 0.88
    assert (rows["Channel"] == "video").mean() > 0.7 and 0.01 < (rows["Channel"] == "chat").mean() < 0.08
    outcome = rows["Outcome"].value_counts(normalize=True)
    assert abs(outcome["completed"] - 0.85) < 0.03 and abs(outcome["referred"] - 0.08) < 0.02
    assert 0.02 < outcome["abandoned"] < 0.06 and 0.015 < outcome["no_show"] < 0.045
    spec = rows["Specialty"].value_counts(normalize=True)
    assert spec.index[0] == "GEN" and spec["GEN"] > 0.45
    wait = pd.to_numeric(rows["Wait Time"])
    assert 6.5 < wait.median() < 9.5 and 20 < wait.quantile(0.9) < 30
    ids = rows["ABHA Number"][rows["ABHA Number"] != ""]
    assert ids.str.fullmatch(r"91-\d{4}-\d{4}-\d{4}").all() and 0.7 < len(ids) / len(rows) < 0.9
    assert ((rows["Bhavya ID"] != "").mean() > 0.1) and ((rows["Mobile Number"] != "").mean() > 0.1)


def test_demo011_service_hours_and_morning_peak(frames) -> None:
    rows = _english_rows(frames)
    start = pd.to_datetime(rows["Start Time"].str.slice(0, 19), errors="coerce", format="mixed").dropna()
    start = start[start.dt.year == 2025]
    minutes = start.dt.hour * 60 + start.dt.minute
    inside = minutes.between(9 * 60, 16 * 60 - 1)
    assert 0.97 < inside.mean() < 0.995
    peak = minutes.between(9 * 60 + 30, 12 * 60 + 30)
    assert peak.mean() > 0.55
    end = pd.to_datetime(rows["End Time"].str.slice(0, 19), errors="coerce", format="mixed")
    dur = (end - pd.to_datetime(rows["Start Time"].str.slice(0, 19), errors="coerce", format="mixed"))
    dur = dur.dt.total_seconds().dropna() / 60
    assert (dur[dur >= 0].between(3, 20.01)).mean() > 0.999


def test_demo012_fewer_on_sundays(run) -> None:
    _, _, truth = run
    per_day = {date.fromisoformat(d["date"]): d["valid"] for d in truth.consultations["by_day"]}
    sunday = [v for d, v in per_day.items() if d.weekday() == 6]
    weekday = [v for d, v in per_day.items() if d.weekday() < 5]
    assert len(sunday) == 1
    ratio = sunday[0] / np.mean(weekday)
    assert 0.3 < ratio < 0.55
    assert 7000 < np.mean(weekday) < 12000


def test_demo013_faults_present_and_counted(run, frames) -> None:
    out, files, truth = run
    c = truth.consultations
    faults = c["faults"]
    assert all(v > 0 for v in faults.values()), faults
    share = sum(faults.values()) / c["rows"]
    assert 0.02 <= share <= 0.035
    assert c["late_facility"] > 0
    assert len(truth.facilities["broken_rows"]) >= 2
    # Per file: rows written = valid + faults; duplicates share their consultation id.
    for day in c["by_day"]:
        assert day["rows"] == day["valid"] + sum(day["faults"].values())
    day = c["by_day"][-1]
    frame = frames[day["file"]]
    assert len(frame) == day["rows"]
    dup = frame.duplicated(keep="first")
    assert dup.sum() == day["faults"]["duplicate"]
    ids = frame["Consultation ID"]
    assert ids[~dup & (ids != "")].is_unique
    late = pd.read_csv(out / "facilities_late_additions.csv", dtype=str)
    assert frame["Spoke ID"].isin(late["Facility ID"]).sum() + frame["Hub ID"].isin(late["Facility ID"]).sum() > 0
    master = pd.read_csv(out / "facilities_bihar.csv", dtype=str)
    known = set(master["Facility ID"]) | set(late["Facility ID"])
    unknown = ~frame["Spoke ID"].isin(known) & (frame["Spoke ID"].fillna("") != "")
    unknown |= ~frame["Hub ID"].isin(known) & (frame["Hub ID"].fillna("") != "")
    assert unknown.sum() == day["faults"]["unknown_facility"]
    age = pd.to_numeric(frame["Age"], errors="coerce")
    assert ((age < 0) | (age > 120)).sum() == day["faults"]["age_out_of_range"]
    years = frame["Start Time"][frame["Start Time"] != ""].str.slice(0, 4)
    assert ((years < "2019") | (years > "2026")).sum() == day["faults"]["date_out_of_range"]


def test_demo014_heterogeneity(run) -> None:
    _, _, truth = run
    c = truth.consultations
    spokes = truth.facilities["spokes"]
    idle = c["spokes_silent_last_7_days"] / spokes
    assert 0.02 < idle < 0.12
    assert c["idle_designed"]["recent_8_26_days"] and c["idle_designed"]["long_31_200_days"]
    assert truth.chos["inactive"] and truth.chos["absent_for_weeks"] and truth.chos["vacant_spokes"] > 0
    assert len(truth.status["outages"]) >= 3 and any(o["end"] is None for o in truth.status["outages"])


def test_demo015_deterministic_for_a_seed(run, tmp_path) -> None:
    out, files, truth = run
    again = generate(tmp_path / "landing", scale="small", days=DAYS, end_date=END, seed=7)
    assert [p.name for p in again] == [p.name for p in files]
    for a, b in zip(files, again, strict=True):
        assert hashlib.sha256(a.read_bytes()).hexdigest() == hashlib.sha256(b.read_bytes()).hexdigest(), a.name
    other = DemoManifest.load(truth_path(tmp_path / "landing"))
    assert other.consultations == truth.consultations and other.facilities == truth.facilities


def test_demo016_scales(tmp_path) -> None:
    with pytest.raises(ValueError):
        make_plan("galaxy")
    assert make_plan("state").days == 365 and make_plan("small").days == 30 and make_plan("national").days == 30
    assert make_plan("small", end_date=END).dates[-1] == END
